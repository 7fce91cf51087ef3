//! What an OpenIM client does to its messages and conversations over HTTP:
//! revoke, mark read, delete, clear, and conversation settings. Bodies as
//! the v3 SDK sends them; the conversation ids are OpenIM's (`sg_` for a
//! group), and `userID` must be the caller's own unless it is an admin.

use super::super::{ApiResult, OpenIm, OpenImCaller, Reply};
use crate::AppState;
use axum::extract::State;
use confab_core::message::ConversationPatch;
use confab_core::UserId;
use confab_service::ConversationChange;
use confab_wire::openim_v3::confab_conversation_id;
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(revoke_msg))
        .routes({
            let (schemas, paths, route) = routes!(mark_conversation_as_read);
            (schemas, paths, route)
        })
        .routes(routes!(delete_msgs))
        .routes(routes!(clear_conversation_msg))
        .routes(routes!(set_conversations))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::SeqReq)]
struct SeqReq {
    #[serde(rename = "conversationID")]
    conversation_id: String,
    #[serde(default)]
    seq: i64,
    #[serde(default)]
    seqs: Vec<i64>,
    #[serde(rename = "hasReadSeq", default)]
    has_read_seq: i64,
    #[serde(rename = "userID")]
    user_id: String,
}

impl SeqReq {
    fn parts(&self, caller: &confab_service::Caller) -> confab_core::Result<(UserId, String)> {
        let user = UserId::parse("userID", &self.user_id)?;
        caller.require_acts_for(&user)?;
        Ok((user, confab_conversation_id(&self.conversation_id)))
    }
}

/// `{conversationID, seq, userID}`: revokes the message at `seq`.
#[utoipa::path(post, path = "/msg/revoke_msg", tag = "openim",
    request_body = SeqReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
async fn revoke_msg(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<SeqReq>,
) -> ApiResult {
    let (_, conversation) = req.parts(&caller)?;
    s.service
        .revoke(&caller, None, &conversation, req.seq)
        .await?;
    Ok(Reply::data(json!({})))
}

/// `{conversationID, seqs, hasReadSeq, userID}`: read up to `hasReadSeq`
/// (the largest of `seqs` when it is 0).
#[utoipa::path(post, path = "/msg/mark_conversation_as_read", tag = "openim",
    request_body = SeqReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
async fn mark_conversation_as_read(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<SeqReq>,
) -> ApiResult {
    let (_, conversation) = req.parts(&caller)?;
    let seq = req
        .has_read_seq
        .max(req.seqs.iter().copied().max().unwrap_or(0));
    s.service
        .mark_read(&caller, None, &conversation, seq)
        .await?;
    Ok(Reply::data(json!({})))
}

/// `{conversationID, seqs, userID}`: deletes messages for the user.
#[utoipa::path(post, path = "/msg/delete_msgs", tag = "openim",
    request_body = SeqReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
async fn delete_msgs(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<SeqReq>,
) -> ApiResult {
    let (user, conversation) = req.parts(&caller)?;
    s.service
        .delete_messages(&caller, &user, &conversation, &req.seqs)
        .await?;
    Ok(Reply::data(json!({})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::ClearReq)]
struct ClearReq {
    #[serde(rename = "conversationIDs", default)]
    conversation_ids: Vec<String>,
    #[serde(rename = "userID")]
    user_id: String,
}

/// `{conversationIDs, userID}`: clears those conversations' history for
/// the user (all of them when the list is empty).
#[utoipa::path(post, path = "/msg/clear_conversation_msg", tag = "openim",
    request_body = ClearReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
async fn clear_conversation_msg(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<ClearReq>,
) -> ApiResult {
    let user = UserId::parse("userID", &req.user_id)?;
    let ids: Vec<String> = req
        .conversation_ids
        .iter()
        .map(|id| confab_conversation_id(id))
        .collect();
    s.service.clear_conversations(&caller, &user, &ids).await?;
    Ok(Reply::data(json!({})))
}

/// A value the SDK may send plain or as OpenIM's wrapper `{"value": x}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum Wrapped<T> {
    Plain(T),
    Wrapper { value: T },
}

impl<T> Wrapped<T> {
    fn get(self) -> T {
        match self {
            Wrapped::Plain(v) | Wrapped::Wrapper { value: v } => v,
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::ConversationFields)]
struct ConversationFields {
    #[serde(rename = "conversationID")]
    conversation_id: String,
    #[serde(rename = "recvMsgOpt")]
    #[schema(schema_with = crate::openapi::wrapped_i32)]
    recv_msg_opt: Option<Wrapped<i32>>,
    #[serde(rename = "isPinned")]
    #[schema(schema_with = crate::openapi::wrapped_bool)]
    is_pinned: Option<Wrapped<bool>>,
    #[schema(schema_with = crate::openapi::wrapped_string)]
    ex: Option<Wrapped<String>>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::SetConversationsReq)]
struct SetConversationsReq {
    conversation: ConversationFields,
    #[serde(rename = "userIDs")]
    user_ids: Vec<String>,
}

/// `{conversation: {conversationID, recvMsgOpt?, isPinned?, ex?, ...},
/// userIDs}`: the settings for each user; fields Confab does not keep
/// (burn, destruct, private chat) are ignored.
#[utoipa::path(post, path = "/conversation/set_conversations", tag = "openim",
    request_body = SetConversationsReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
async fn set_conversations(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<SetConversationsReq>,
) -> ApiResult {
    let c = req.conversation;
    let conversation_id = confab_conversation_id(&c.conversation_id);
    let patch = ConversationPatch {
        recv_msg_opt: c.recv_msg_opt.map(Wrapped::get),
        is_pinned: c.is_pinned.map(Wrapped::get),
        is_hidden: None,
        ex: c.ex.map(Wrapped::get),
    };
    let mut changes = Vec::with_capacity(req.user_ids.len());
    for id in &req.user_ids {
        changes.push(ConversationChange {
            user_id: UserId::parse("userIDs", id)?,
            conversation_id: conversation_id.clone(),
            patch: patch.clone(),
        });
    }
    for result in s.service.set_conversations(&caller, &changes).await? {
        result?;
    }
    Ok(Reply::data(json!({})))
}
