//! conversation routes: each user's view of their conversations.

use super::messages::user_or_caller;
use super::{ApiResult, OpenIm, OpenImCaller, Reply};
use crate::AppState;
use axum::extract::State;
use confab_core::message::{ConversationPatch, SessionType, UserConversation};
use confab_core::Error;
use confab_service::{ConversationChange, MAX_CONVERSATION_BATCH};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConversationOut {
    #[serde(rename = "ownerUserID")]
    owner_user_id: String,
    #[serde(rename = "conversationID")]
    conversation_id: String,
    conversation_type: i32,
    #[serde(rename = "userID")]
    user_id: String,
    #[serde(rename = "groupID")]
    group_id: String,
    recv_msg_opt: i32,
    is_pinned: bool,
    is_hidden: bool,
    ex: String,
    max_seq: i64,
    min_seq: i64,
    has_read_seq: i64,
    unread_count: i64,
    update_time: i64,
}

impl From<&UserConversation> for ConversationOut {
    fn from(c: &UserConversation) -> Self {
        let group = c.session_type.is_group();
        ConversationOut {
            owner_user_id: c.user_id.to_string(),
            conversation_id: c.conversation_id.clone(),
            conversation_type: c.session_type as i32,
            user_id: if c.session_type == SessionType::Single {
                c.peer_id.clone()
            } else {
                String::new()
            },
            group_id: if group {
                c.peer_id.clone()
            } else {
                String::new()
            },
            recv_msg_opt: c.recv_msg_opt,
            is_pinned: c.is_pinned,
            is_hidden: c.is_hidden,
            ex: c.ex.clone(),
            max_seq: c.max_seq,
            min_seq: c.min_seq,
            has_read_seq: c.read_seq,
            unread_count: c.unread(),
            update_time: c.updated_at,
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::ConversationsReq)]
#[serde(rename_all = "camelCase")]
pub struct ConversationsReq {
    #[serde(rename = "ownerUserID", alias = "userID", default)]
    owner_user_id: Option<String>,
    #[serde(rename = "conversationID", default)]
    conversation_id: Option<String>,
    #[serde(rename = "conversationIDs", default)]
    conversation_ids: Vec<String>,
}

#[utoipa::path(post, path = "/conversation/get_all_conversations", tag = "openim",
    request_body = ConversationsReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn get_all_conversations(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<ConversationsReq>,
) -> ApiResult {
    let user = user_or_caller(&caller, &req.owner_user_id)?;
    let list = s.service.conversations(&caller, &user).await?;
    Ok(Reply::data(
        list.iter().map(ConversationOut::from).collect::<Vec<_>>(),
    ))
}

#[utoipa::path(post, path = "/conversation/get_conversation", tag = "openim",
    request_body = ConversationsReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn get_conversation(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<ConversationsReq>,
) -> ApiResult {
    let user = user_or_caller(&caller, &req.owner_user_id)?;
    let id = req
        .conversation_id
        .ok_or_else(|| Error::invalid("conversationID: missing"))?;
    let c = s.service.conversation(&caller, &user, &id).await?;
    Ok(Reply::data(ConversationOut::from(&c)))
}

#[utoipa::path(post, path = "/conversation/get_conversations", tag = "openim",
    request_body = ConversationsReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn get_conversations(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<ConversationsReq>,
) -> ApiResult {
    let user = user_or_caller(&caller, &req.owner_user_id)?;
    super::wire::batch("conversationIDs", &req.conversation_ids, 1000)?;
    let all = s.service.conversations(&caller, &user).await?;
    let out: Vec<ConversationOut> = req
        .conversation_ids
        .iter()
        .filter_map(|id| all.iter().find(|c| &c.conversation_id == id))
        .map(ConversationOut::from)
        .collect();
    Ok(Reply::data(out))
}

/// The settable fields of a conversation.
#[derive(Deserialize, Clone, utoipa::ToSchema)]
#[schema(as = openim::ConversationIn)]
#[serde(rename_all = "camelCase")]
pub struct ConversationIn {
    #[serde(rename = "ownerUserID", default)]
    owner_user_id: Option<String>,
    #[serde(rename = "conversationID")]
    conversation_id: String,
    recv_msg_opt: Option<i32>,
    is_pinned: Option<bool>,
    is_hidden: Option<bool>,
    ex: Option<String>,
}

impl ConversationIn {
    fn patch(&self) -> ConversationPatch {
        ConversationPatch {
            recv_msg_opt: self.recv_msg_opt,
            is_pinned: self.is_pinned,
            is_hidden: self.is_hidden,
            ex: self.ex.clone(),
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::SetConversationReq)]
pub struct SetConversationReq {
    conversation: ConversationIn,
}

#[utoipa::path(post, path = "/conversation/set_conversation", tag = "openim",
    request_body = SetConversationReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn set_conversation(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<SetConversationReq>,
) -> ApiResult {
    let c = req.conversation;
    let user = user_or_caller(&caller, &c.owner_user_id)?;
    s.service
        .set_conversation(&caller, &user, &c.conversation_id, &c.patch())
        .await?;
    Ok(Reply::ok())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::BatchSetReq)]
pub struct BatchSetReq {
    conversations: Vec<ConversationIn>,
    #[serde(rename = "ownerUserID", default)]
    owner_user_id: Option<String>,
}

#[utoipa::path(post, path = "/conversation/batch_set_conversation", tag = "openim",
    request_body = BatchSetReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn batch_set_conversation(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<BatchSetReq>,
) -> ApiResult {
    super::wire::batch("conversations", &req.conversations, MAX_CONVERSATION_BATCH)?;
    let mut changes = Vec::with_capacity(req.conversations.len());
    for c in &req.conversations {
        let owner = c.owner_user_id.clone().or(req.owner_user_id.clone());
        changes.push(ConversationChange {
            user_id: user_or_caller(&caller, &owner)?,
            conversation_id: c.conversation_id.clone(),
            patch: c.patch(),
        });
    }
    let results = s.service.set_conversations(&caller, &changes).await?;
    let (mut success, mut failed) = (Vec::new(), Vec::new());
    for (c, result) in req.conversations.iter().zip(results) {
        match result {
            Ok(()) => success.push(c.conversation_id.clone()),
            Err(_) => failed.push(c.conversation_id.clone()),
        }
    }
    Ok(Reply::data(json!({"success": success, "failed": failed})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::RecvOptReq)]
pub struct RecvOptReq {
    #[serde(rename = "ownerUserID", default)]
    owner_user_id: Option<String>,
    #[serde(rename = "conversationIDList")]
    conversation_ids: Vec<String>,
    opt: i32,
}

#[utoipa::path(post, path = "/conversation/set_recv_msg_opt", tag = "openim",
    request_body = RecvOptReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn set_recv_msg_opt(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<RecvOptReq>,
) -> ApiResult {
    let user = user_or_caller(&caller, &req.owner_user_id)?;
    super::wire::batch("conversationIDList", &req.conversation_ids, 1000)?;
    let patch = ConversationPatch {
        recv_msg_opt: Some(req.opt),
        ..Default::default()
    };
    let changes: Vec<ConversationChange> = req
        .conversation_ids
        .iter()
        .map(|id| ConversationChange {
            user_id: user.clone(),
            conversation_id: id.clone(),
            patch: patch.clone(),
        })
        .collect();
    first_failure(s.service.set_conversations(&caller, &changes).await?)?;
    Ok(Reply::ok())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::ModifyFieldReq)]
#[serde(rename_all = "camelCase")]
pub struct ModifyFieldReq {
    conversation: ConversationIn,
    #[serde(rename = "userIDList")]
    user_ids: Vec<String>,
}

/// Sets the same fields of one conversation for several users.
#[utoipa::path(post, path = "/conversation/modify_conversation_field", tag = "openim",
    request_body = ModifyFieldReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn modify_conversation_field(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<ModifyFieldReq>,
) -> ApiResult {
    let users = super::wire::user_ids("userIDList", &req.user_ids)?;
    super::wire::batch("userIDList", &users, 1000)?;
    let changes: Vec<ConversationChange> = users
        .into_iter()
        .map(|user_id| ConversationChange {
            user_id,
            conversation_id: req.conversation.conversation_id.clone(),
            patch: req.conversation.patch(),
        })
        .collect();
    first_failure(s.service.set_conversations(&caller, &changes).await?)?;
    Ok(Reply::ok())
}

/// The first failed change of a batch that fails as a whole.
fn first_failure(results: Vec<confab_core::Result<()>>) -> confab_core::Result<()> {
    results.into_iter().collect()
}
