//! msg and manager/send_msg routes.

use super::wire::{group_id, user_id};
use super::{ApiError, ApiResult, OpenIm, OpenImCaller, Reply};
use crate::AppState;
use axum::extract::State;
use confab_core::message::{Content, ContentType, Recipient, SessionType};
use confab_core::{Error, UserId};
use confab_service::{
    Caller, OutgoingMessage, SendRequest, SeqRange, MAX_CONVERSATION_BATCH, MAX_RECIPIENTS,
};
use confab_wire::MessageView;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A message to send: the spec's `manager/send_msg` body. The group of a
/// group message is `groupID`, or (as in the spec) `recvID`.
#[derive(Deserialize, Clone, Default, utoipa::ToSchema)]
#[schema(as = openim::SendMsgReq)]
#[serde(rename_all = "camelCase")]
pub struct SendMsgReq {
    #[serde(rename = "sendID")]
    send_id: String,
    #[serde(rename = "recvID", default)]
    recv_id: String,
    #[serde(rename = "recvIDList", default)]
    recv_id_list: Vec<String>,
    #[serde(rename = "groupID", default)]
    group_id: String,
    #[serde(alias = "senderNickName", default)]
    sender_nickname: String,
    #[serde(rename = "senderFaceURL", default)]
    sender_face_url: String,
    #[serde(rename = "senderPlatformID", default)]
    sender_platform_id: i32,
    #[serde(default)]
    force_list: Vec<String>,
    #[serde(rename = "atUserIDList", default)]
    at_user_id_list: Vec<String>,
    /// A JSON object, or a string holding one.
    content: Value,
    content_type: i32,
    session_type: i32,
    #[serde(default)]
    is_online_only: bool,
    #[serde(rename = "clientMsgID", default)]
    client_msg_id: String,
    #[serde(default)]
    ex: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SentOut {
    #[serde(rename = "serverMsgID")]
    server_msg_id: String,
    #[serde(rename = "clientMsgID")]
    client_msg_id: String,
    #[serde(rename = "conversationID")]
    conversation_id: String,
    seq: i64,
    /// Milliseconds since the epoch.
    send_time: i64,
}

fn content_object(content: &Value) -> confab_core::Result<Value> {
    match content {
        Value::Object(_) => Ok(content.clone()),
        Value::String(s) => serde_json::from_str::<Value>(s)
            .ok()
            .filter(Value::is_object)
            .ok_or_else(|| {
                Error::invalid("content: must be a JSON object (or a string holding one)")
            }),
        _ => Err(Error::invalid("content: must be a JSON object")),
    }
}

/// The recipient: a user (`sessionType` 1) or a group (2 or 3, in
/// `groupID` or, as the spec shows, `recvID`).
fn recipient(req: &SendMsgReq, recv: &str) -> confab_core::Result<Recipient> {
    let session_type = match SessionType::from_i32(req.session_type) {
        Some(t) if t == SessionType::Single || t.is_group() => t,
        Some(SessionType::Notification) => {
            return Err(Error::invalid(
                "sessionType: notifications are sent by the system",
            ))
        }
        _ => {
            return Err(Error::invalid(format!(
                "sessionType: must be 1 (single) or 2 (group), got {}",
                req.session_type
            )))
        }
    };
    if session_type.is_group() {
        let group = if req.group_id.is_empty() {
            recv
        } else {
            &req.group_id
        };
        if group.is_empty() {
            return Err(Error::invalid("groupID: missing"));
        }
        return Ok(Recipient::Group(group_id("groupID", group)?));
    }
    if recv.is_empty() {
        return Err(Error::invalid("recvID: missing"));
    }
    Ok(Recipient::User(user_id("recvID", recv)?))
}

/// The message without its recipient.
fn outgoing(req: &SendMsgReq, default_platform: i32) -> confab_core::Result<OutgoingMessage> {
    let mut mentions = req.at_user_id_list.clone();
    mentions.extend(req.force_list.iter().cloned());
    Ok(OutgoingMessage {
        client_msg_id: req.client_msg_id.clone(),
        sender: user_id("sendID", &req.send_id)?,
        sender_platform: if req.sender_platform_id == 0 {
            default_platform
        } else {
            req.sender_platform_id
        },
        sender_nickname: req.sender_nickname.clone(),
        sender_face_url: req.sender_face_url.clone(),
        content: Content::new(
            ContentType::parse(req.content_type)?,
            content_object(&req.content)?,
        ),
        is_online_only: req.is_online_only,
        mentions,
        ex: req.ex.clone(),
    })
}

async fn send(s: &AppState, caller: &Caller, req: &SendMsgReq) -> ApiResult {
    let request = SendRequest {
        to: recipient(req, &req.recv_id)?,
        message: outgoing(req, caller.platform.id())?,
    };
    let outcome = s.service.send_message(caller, None, request).await?;
    let m = outcome.message;
    let out = SentOut {
        server_msg_id: m.server_msg_id.clone(),
        client_msg_id: m.client_msg_id,
        conversation_id: m.conversation_id,
        seq: m.seq,
        send_time: m.send_time,
    };
    Ok(Reply::data(&out)
        .with("sendTime", m.send_time)
        .with("msgID", m.server_msg_id))
}

/// `/manager/send_msg`, `/msg/manage_send_msg`: an admin sends as anyone.
#[utoipa::path(post, path = "/manager/send_msg", tag = "openim",
    request_body = SendMsgReq,
    security(("openim_admin" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn manage_send_msg(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<SendMsgReq>,
) -> ApiResult {
    caller.require_admin()?;
    send(&s, &caller, &req).await
}

/// `/msg/send_msg`: a user sends as themselves. Accepts the flat shape of
/// `manager/send_msg`, or OpenIM v2's `{sendID, data: {...}}`.
#[utoipa::path(post, path = "/msg/send_msg", tag = "openim",
    request_body(content = SendMsgReq, description = "The flat shape of /manager/send_msg (`sendID` defaults to the caller), or OpenIM v2's `{sendID, data: {...}}`."),
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn send_msg(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(body): OpenIm<Value>,
) -> ApiResult {
    let mut flat = match body.get("data") {
        Some(Value::Object(data)) => Value::Object(data.clone()),
        _ => body.clone(),
    };
    if let (Some(obj), Some(send_id)) = (flat.as_object_mut(), body.get("sendID")) {
        obj.entry("sendID").or_insert_with(|| send_id.clone());
    }
    if let Some(obj) = flat.as_object_mut() {
        obj.entry("sendID").or_insert_with(|| json!(caller.user_id));
    }
    let req: SendMsgReq =
        serde_path_to_error::deserialize(flat).map_err(crate::body::shape_error)?;
    send(&s, &caller, &req).await
}

/// `/manager/batch_send_msg`: the same message to many users.
#[utoipa::path(post, path = "/manager/batch_send_msg", tag = "openim",
    request_body = SendMsgReq,
    security(("openim_admin" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn batch_send_msg(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<SendMsgReq>,
) -> ApiResult {
    caller.require_admin()?;
    super::wire::batch("recvIDList", &req.recv_id_list, MAX_RECIPIENTS)?;
    // Each copy gets a server-made client id, so the client's is not checked.
    let one = SendMsgReq {
        client_msg_id: String::new(),
        ..req.clone()
    };
    // Whatever is wrong with the message or a recipient fails that
    // recipient's entry, as OpenIM answers a batch.
    let parsed: Vec<confab_core::Result<Recipient>> = req
        .recv_id_list
        .iter()
        .map(|recv| recipient(&one, recv))
        .collect();
    let outcomes = match outgoing(&one, caller.platform.id()) {
        Err(e) => parsed.into_iter().map(|p| p.and(Err(e.clone()))).collect(),
        Ok(message) => {
            match crate::batch::send_each(&s.service, &caller, message, parsed.clone()).await {
                Ok(outcomes) => outcomes,
                Err(e) if e.kind() == confab_core::ErrorKind::Internal => return Err(e.into()),
                Err(e) => parsed.into_iter().map(|p| p.and(Err(e.clone()))).collect(),
            }
        }
    };
    let mut results = Vec::new();
    let mut failed = Vec::new();
    for (recv, outcome) in req.recv_id_list.iter().zip(outcomes) {
        match outcome {
            Ok(o) => results.push(json!({
                "recvID": recv,
                "serverMsgID": o.message.server_msg_id,
                "clientMsgID": o.message.client_msg_id,
                "sendTime": o.message.send_time,
            })),
            Err(e) => {
                if e.kind() == confab_core::ErrorKind::Internal {
                    tracing::error!(error = %e.log_message(), recv = %recv, "batch send failed");
                }
                failed.push(json!({"recvID": recv, "errMsg": ApiError::from(e).message()}))
            }
        }
    }
    let failed_ids: Vec<&Value> = failed.iter().map(|f| &f["recvID"]).collect();
    Ok(Reply::data(
        json!({"results": results, "failedUserIDList": failed_ids, "failed": failed}),
    ))
}

/// `{userID}`, the caller when absent.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::UserReq)]
pub struct UserReq {
    #[serde(rename = "userID", alias = "ownerUserID", default)]
    user_id: Option<String>,
}

pub(crate) fn user_or_caller(caller: &Caller, id: &Option<String>) -> confab_core::Result<UserId> {
    match id.as_deref() {
        Some(id) if !id.is_empty() => user_id("userID", id),
        _ => Ok(caller.user_id.clone()),
    }
}

/// `/msg/newest_seq`: the max, min and read seq of each conversation of the
/// user; `maxSeq` is the largest over them.
#[utoipa::path(post, path = "/msg/newest_seq", tag = "openim",
    request_body = UserReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn newest_seq(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<UserReq>,
) -> ApiResult {
    let user = user_or_caller(&caller, &req.user_id)?;
    let list = s.service.conversations(&caller, &user).await?;
    let mut seqs = serde_json::Map::new();
    for c in &list {
        seqs.insert(
            c.conversation_id.clone(),
            json!({"maxSeq": c.max_seq, "minSeq": c.min_seq, "readSeq": c.read_seq}),
        );
    }
    let max = list.iter().map(|c| c.max_seq).max().unwrap_or(0);
    Ok(Reply::data(
        json!({"maxSeq": max, "minSeq": 0, "seqs": seqs}),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::SeqRangeIn)]
pub struct SeqRangeIn {
    #[serde(rename = "conversationID")]
    conversation_id: String,
    begin: i64,
    end: i64,
    #[serde(default)]
    num: u32,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::PullReq)]
#[serde(rename_all = "camelCase")]
pub struct PullReq {
    #[serde(rename = "userID", default)]
    user_id: Option<String>,
    #[serde(default)]
    seq_ranges: Vec<SeqRangeIn>,
    #[serde(rename = "conversationID", default)]
    conversation_id: Option<String>,
    #[serde(default)]
    seq_list: Vec<i64>,
}

/// `/msg/pull_msg_by_seq`: `seqRanges: [{conversationID, begin, end, num}]`,
/// or `conversationID` with `seqList`.
#[utoipa::path(post, path = "/msg/pull_msg_by_seq", tag = "openim",
    request_body = PullReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn pull_msg_by_seq(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<PullReq>,
) -> ApiResult {
    let user = user_or_caller(&caller, &req.user_id)?;
    let mut ranges: Vec<SeqRangeIn> = req.seq_ranges;
    if let Some(conversation_id) = req.conversation_id {
        super::wire::batch("seqList", &req.seq_list, confab_service::MAX_PULL as usize)?;
        for seq in req.seq_list {
            ranges.push(SeqRangeIn {
                conversation_id: conversation_id.clone(),
                begin: seq,
                end: seq,
                num: 1,
            });
        }
    }
    super::wire::batch("seqRanges", &ranges, MAX_CONVERSATION_BATCH)?;
    let ranges: Vec<SeqRange> = ranges
        .into_iter()
        .map(|r| SeqRange {
            conversation_id: r.conversation_id,
            begin: r.begin,
            end: r.end,
            limit: r.num,
        })
        .collect();
    let pulled = s.service.pull_ranges(&caller, &user, &ranges).await?;
    let mut msgs: serde_json::Map<String, Value> = serde_json::Map::new();
    for r in pulled {
        let entry = msgs
            .entry(r.conversation_id)
            .or_insert_with(|| json!({"msgs": [], "isEnd": true}));
        if let Some(list) = entry["msgs"].as_array_mut() {
            list.extend(
                r.messages
                    .iter()
                    .map(|m| serde_json::to_value(MessageView::new(m)).unwrap_or(Value::Null)),
            );
        }
        if r.more {
            entry["isEnd"] = json!(false);
        }
    }
    Ok(Reply::data(json!({ "msgs": msgs })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::DelMsgReq)]
#[serde(rename_all = "camelCase")]
pub struct DelMsgReq {
    #[serde(rename = "userID", default)]
    user_id: Option<String>,
    #[serde(rename = "conversationID")]
    conversation_id: String,
    seq_list: Vec<i64>,
}

/// `/msg/del_msg`: deletes messages for the user only.
#[utoipa::path(post, path = "/msg/del_msg", tag = "openim",
    request_body = DelMsgReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn del_msg(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<DelMsgReq>,
) -> ApiResult {
    let user = user_or_caller(&caller, &req.user_id)?;
    s.service
        .delete_messages(&caller, &user, &req.conversation_id, &req.seq_list)
        .await?;
    Ok(Reply::ok())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::ClearMsgReq)]
pub struct ClearMsgReq {
    #[serde(rename = "userID", default)]
    user_id: Option<String>,
    #[serde(rename = "conversationID", default)]
    conversation_id: Option<String>,
    #[serde(rename = "conversationIDs", default)]
    conversation_ids: Vec<String>,
}

/// `/msg/clear_msg`: clears the history of the given conversations, or of
/// every conversation of the user when none is given.
#[utoipa::path(post, path = "/msg/clear_msg", tag = "openim",
    request_body = ClearMsgReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn clear_msg(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<ClearMsgReq>,
) -> ApiResult {
    let user = user_or_caller(&caller, &req.user_id)?;
    let mut ids = req.conversation_ids;
    ids.extend(req.conversation_id);
    s.service.clear_conversations(&caller, &user, &ids).await?;
    Ok(Reply::ok())
}

/// `/msg/manage_send_msg`: `manage_send_msg` under its other name.
#[utoipa::path(post, path = "/msg/manage_send_msg", tag = "openim",
    request_body = SendMsgReq,
    security(("openim_admin" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn msg_manage_send_msg(
    state: State<AppState>,
    caller: OpenImCaller,
    body: OpenIm<SendMsgReq>,
) -> ApiResult {
    manage_send_msg(state, caller, body).await
}

/// `/msg/batch_send_msg`: `batch_send_msg` under its other name.
#[utoipa::path(post, path = "/msg/batch_send_msg", tag = "openim",
    request_body = SendMsgReq,
    security(("openim_admin" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn msg_batch_send_msg(
    state: State<AppState>,
    caller: OpenImCaller,
    body: OpenIm<SendMsgReq>,
) -> ApiResult {
    batch_send_msg(state, caller, body).await
}
