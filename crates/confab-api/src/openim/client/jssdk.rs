//! The JS SDK's two protobuf routes: its conversation list at login
//! (`/jssdk/get_active_conversations`) and the conversations it meets in a
//! push (`/jssdk/get_conversations`). The body is a protobuf message
//! (`application/x-protobuf`; JSON with the same field names is taken
//! too, as OpenIM does); the answer is the usual envelope whose `data` is
//! the base64 of the protobuf answer.

use super::super::{ApiResult, OpenImCaller, Reply};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::HeaderMap;
use confab_core::message::SessionType;
use confab_core::{Error, UserId};
use confab_openim_pb::openim::{conversation, jssdk, relation, sdkws};
use confab_service::{ConversationSummary, Summaries};
use confab_wire::openim_v3::{self as v3, confab_conversation_id, openim_conversation_id};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes({
            let (schemas, paths, route) = routes!(get_active_conversations);
            (schemas, paths, route)
        })
        .routes(routes!(get_conversations))
}

/// The SDK asks for its 20 newest when it gives no count.
const DEFAULT_COUNT: usize = 20;

/// A body in protobuf, or in JSON when its content type says so.
fn body<P, J>(headers: &HeaderMap, bytes: &[u8]) -> Result<P, Error>
where
    P: confab_openim_pb::Message + Default + From<J>,
    J: serde::de::DeserializeOwned,
{
    let json = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("json"));
    if json {
        let parsed: J = crate::body::parse_object(bytes)?;
        return Ok(parsed.into());
    }
    P::decode(bytes).map_err(|e| Error::invalid(format!("request body: not protobuf: {e}")))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::ActiveJson)]
struct ActiveJson {
    #[serde(rename = "ownerUserID")]
    owner_user_id: String,
    #[serde(default)]
    count: i64,
}

impl From<ActiveJson> for jssdk::GetActiveConversationsReq {
    fn from(j: ActiveJson) -> Self {
        jssdk::GetActiveConversationsReq {
            owner_user_id: j.owner_user_id,
            count: j.count,
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::ConversationsJson)]
struct ConversationsJson {
    #[serde(rename = "ownerUserID")]
    owner_user_id: String,
    #[serde(rename = "conversationIDs", default)]
    conversation_ids: Vec<String>,
}

impl From<ConversationsJson> for jssdk::GetConversationsReq {
    fn from(j: ConversationsJson) -> Self {
        jssdk::GetConversationsReq {
            owner_user_id: j.owner_user_id,
            conversation_ids: j.conversation_ids,
        }
    }
}

#[utoipa::path(post, path = "/jssdk/get_active_conversations", tag = "openim",
    request_body(description = "A protobuf message (OpenIM's jssdk request), or JSON with the same field names.",
        content((ActiveJson = "application/json"), ([u8] = "application/x-protobuf"))),
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
async fn get_active_conversations(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let bytes = bytes.map_err(rejected)?;
    let req: jssdk::GetActiveConversationsReq = body::<_, ActiveJson>(&headers, &bytes)?;
    let owner = UserId::parse("ownerUserID", &req.owner_user_id)?;
    let count = usize::try_from(req.count)
        .ok()
        .filter(|c| *c > 0)
        .unwrap_or(DEFAULT_COUNT);
    let summaries = s
        .service
        .conversation_summaries(&caller, &owner, None, count)
        .await?;
    let (unread_count, conversations) = answer(&owner, summaries);
    Ok(protobuf(jssdk::GetActiveConversationsResp {
        unread_count,
        conversations,
    }))
}

#[utoipa::path(post, path = "/jssdk/get_conversations", tag = "openim",
    request_body(description = "A protobuf message (OpenIM's jssdk request), or JSON with the same field names.",
        content((ConversationsJson = "application/json"), ([u8] = "application/x-protobuf"))),
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
async fn get_conversations(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let bytes = bytes.map_err(rejected)?;
    let req: jssdk::GetConversationsReq = body::<_, ConversationsJson>(&headers, &bytes)?;
    let owner = UserId::parse("ownerUserID", &req.owner_user_id)?;
    let ids: Vec<String> = req
        .conversation_ids
        .iter()
        .map(|id| confab_conversation_id(id))
        .collect();
    let summaries = s
        .service
        .conversation_summaries(&caller, &owner, Some(&ids), ids.len())
        .await?;
    // OpenIM counts the unread of the conversations asked for here.
    let unread_count = summaries
        .conversations
        .iter()
        .map(|c| c.conversation.unread())
        .sum();
    let (_, conversations) = answer(&owner, summaries);
    Ok(protobuf(jssdk::GetConversationsResp {
        unread_count,
        conversations,
    }))
}

/// A body past the bound, in the envelope (axum's answer is plain text).
fn rejected(e: BytesRejection) -> Error {
    Error::invalid(format!("request body: {}", e.body_text()))
}

/// `data` as the base64 of `message`, never empty (`answer_data`).
fn protobuf(message: impl confab_openim_pb::Message) -> Reply {
    Reply::data(v3::answer_data(&message.encode_to_vec()))
}

fn answer(owner: &UserId, summaries: Summaries) -> (i64, Vec<jssdk::ConversationMsg>) {
    let list = summaries
        .conversations
        .into_iter()
        .map(|s| conversation_msg(owner, s))
        .collect();
    (summaries.unread, list)
}

fn conversation_msg(owner: &UserId, s: ConversationSummary) -> jssdk::ConversationMsg {
    let c = &s.conversation;
    let group = c.session_type.is_group();
    let last_msg = s.last.as_ref().and_then(|m| {
        let placed = v3::place(m);
        placed.chat.or(placed.notification)
    });
    jssdk::ConversationMsg {
        conversation: Some(conversation::Conversation {
            owner_user_id: owner.to_string(),
            conversation_id: openim_conversation_id(&c.conversation_id),
            recv_msg_opt: c.recv_msg_opt,
            conversation_type: match c.session_type {
                _ if group => v3::SUPER_GROUP,
                SessionType::Notification => SessionType::Notification as i32,
                _ => SessionType::Single as i32,
            },
            user_id: if group {
                String::new()
            } else {
                c.peer_id.clone()
            },
            group_id: if group {
                c.peer_id.clone()
            } else {
                String::new()
            },
            is_pinned: c.is_pinned,
            ex: c.ex.clone(),
            min_seq: c.min_seq,
            max_seq: c.max_seq,
            ..Default::default()
        }),
        last_msg,
        user: s.peer.map(|u| sdkws::UserInfo {
            user_id: u.user_id.to_string(),
            nickname: u.nickname,
            face_url: u.face_url,
            ex: u.ex,
            create_time: u.created_at,
            ..Default::default()
        }),
        friend: s.friend.map(|f| relation::FriendInfoOnly {
            owner_user_id: f.owner_user_id.to_string(),
            friend_user_id: f.friend_user_id.to_string(),
            remark: f.remark,
            create_time: f.created_at,
            ex: f.ex,
            ..Default::default()
        }),
        group: s.group.map(|g| sdkws::GroupInfo {
            group_id: g.group.group_id.to_string(),
            group_name: g.group.group_name,
            notification: g.group.notification,
            introduction: g.group.introduction,
            face_url: g.group.face_url,
            owner_user_id: g.group.owner_user_id.to_string(),
            create_time: g.group.created_at,
            member_count: u32::try_from(g.member_count).unwrap_or(0),
            ex: g.group.ex,
            status: g.group.status as i32,
            creator_user_id: g.group.creator_user_id.to_string(),
            group_type: g.group.group_type,
            ..Default::default()
        }),
        max_seq: c.max_seq,
        read_seq: c.read_seq.max(c.min_seq - 1).max(0),
    }
}
