//! The incremental sync routes of OpenIM's v3 SDKs (docs/openim-client.md,
//! "Incremental sync"): a client holding `(versionID, version)` of a list
//! gets what changed since, or everything (`full`) when its copy is of
//! another log or none; and the full id lists with OpenIM's `idHash`, so
//! that a client can tell whether its ids are current.
//!
//! The body's `userID` names whose lists are read (the caller's when
//! absent); only the user and app admins may read them.

mod shapes;

use super::super::wire::{group_id, user_id};
use super::super::wire_v3::{friends_v3, GroupV3, MemberV3};
use super::super::{ApiError, ApiResult, OpenIm, OpenImCaller, Reply};
use crate::AppState;
use axum::extract::State;
use confab_core::message::UserConversation;
use confab_core::{Field, Result, UserId};
use confab_service::{Caller, IdsAt, MembersSynced, Synced};
use confab_wire::openim_v3::{is_chat_conversation, openim_conversation_id};
use serde::{Deserialize, Serialize};
use shapes::{id_hash, uint64, version, ConversationV3, FullIds, Incremental, MembersIncremental};
use std::collections::BTreeMap;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(incremental_friends))
        .routes(routes!(full_friend_ids))
        .routes({
            let (schemas, paths, route) = routes!(incremental_join_groups);
            (schemas, paths, route)
        })
        .routes(routes!(full_join_group_ids))
        .routes({
            let (schemas, paths, route) = routes!(incremental_members_batch);
            (schemas, paths, route)
        })
        .routes({
            let (schemas, paths, route) = routes!(full_member_ids);
            (schemas, paths, route)
        })
        .routes({
            let (schemas, paths, route) = routes!(incremental_conversations);
            (schemas, paths, route)
        })
        .routes({
            let (schemas, paths, route) = routes!(not_notify_conversation_ids);
            (schemas, paths, route)
        })
}

/// The v3 envelope: OpenIM's clients read `errDlt` beside `errCode`.
fn reply(data: impl Serialize) -> Reply {
    Reply::data(data).with("errDlt", "")
}

/// The user a body names, or the caller.
fn user_or_caller(caller: &Caller, value: &str) -> Result<UserId> {
    if value.is_empty() {
        Ok(caller.user_id.clone())
    } else {
        user_id("userID", value)
    }
}

/// `{userID, version, versionID}`: where the client's copy of a list stands.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::IncrementalReq)]
struct IncrementalReq {
    #[serde(rename = "userID", default)]
    user_id: String,
    #[serde(default, deserialize_with = "uint64")]
    #[schema(schema_with = crate::openapi::uint64)]
    version: u64,
    #[serde(rename = "versionID", default)]
    version_id: String,
}

fn incremental<T, W>(synced: Synced<T>, render: impl Fn(&[T]) -> Vec<W>) -> Incremental<W> {
    Incremental {
        version: synced.version,
        version_id: synced.version_id,
        full: synced.full,
        insert: render(&synced.inserted),
        update: render(&synced.updated),
        delete: synced.deleted,
        sort_version: 0,
    }
}

#[utoipa::path(post, path = "/friend/get_incremental_friends", tag = "openim",
    request_body = IncrementalReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
async fn incremental_friends(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<IncrementalReq>,
) -> ApiResult {
    let user = user_or_caller(&caller, &req.user_id)?;
    let synced = s
        .service
        .friends_since(&caller, &user, &req.version_id, version(req.version))
        .await?;
    Ok(reply(incremental(synced, |list| {
        friends_v3(list, |u| s.service.is_admin(&u.user_id))
    })))
}

#[utoipa::path(post, path = "/group/get_incremental_join_groups", tag = "openim",
    request_body = IncrementalReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
async fn incremental_join_groups(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<IncrementalReq>,
) -> ApiResult {
    let user = user_or_caller(&caller, &req.user_id)?;
    let synced = s
        .service
        .joined_groups_since(&caller, &user, &req.version_id, version(req.version))
        .await?;
    Ok(reply(incremental(synced, |list| {
        list.iter().map(GroupV3::from).collect()
    })))
}

/// The conversations an OpenIM client knows: chats and groups, under
/// OpenIM's ids. A user's notices (`n_`) and broadcasts (`b_`) are
/// Confab's own and are left out, also from `delete`.
fn openim_conversations(list: &[UserConversation]) -> Vec<ConversationV3> {
    list.iter()
        .filter(|c| is_chat_conversation(&c.conversation_id))
        .map(ConversationV3::from)
        .collect()
}

#[utoipa::path(post, path = "/conversation/get_incremental_conversations", tag = "openim",
    request_body = IncrementalReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
async fn incremental_conversations(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<IncrementalReq>,
) -> ApiResult {
    let user = user_or_caller(&caller, &req.user_id)?;
    let mut synced = s
        .service
        .conversations_since(&caller, &user, &req.version_id, version(req.version))
        .await?;
    synced.deleted = synced
        .deleted
        .iter()
        .filter(|id| is_chat_conversation(id))
        .map(|id| openim_conversation_id(id))
        .collect();
    Ok(reply(incremental(synced, openim_conversations)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::MemberPosition)]
struct MemberPosition {
    #[serde(rename = "groupID")]
    group_id: String,
    #[serde(default, deserialize_with = "uint64")]
    #[schema(schema_with = crate::openapi::uint64)]
    version: u64,
    #[serde(rename = "versionID", default)]
    version_id: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::MembersBatchReq)]
struct MembersBatchReq {
    #[serde(rename = "userID", default)]
    user_id: String,
    #[serde(rename = "reqList", default)]
    req_list: Vec<MemberPosition>,
}

fn members_incremental(m: MembersSynced, is_admin: impl Fn(&UserId) -> bool) -> MembersIncremental {
    let render = |list: &[confab_core::model::GroupMember]| -> Vec<MemberV3> {
        list.iter()
            .map(|member| MemberV3::new(member, is_admin(&member.user_id)))
            .collect()
    };
    MembersIncremental {
        version: m.members.version,
        version_id: m.members.version_id,
        full: m.members.full,
        group: m.group.as_ref().map(GroupV3::from),
        insert: render(&m.members.inserted),
        update: render(&m.members.updated),
        delete: m.members.deleted,
        sort_version: 0,
    }
}

/// `respList` maps each group id to its answer; groups the user cannot
/// sync (gone, dismissed, left) are not in it.
#[utoipa::path(post, path = "/group/get_incremental_group_members_batch", tag = "openim",
    request_body = MembersBatchReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
async fn incremental_members_batch(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<MembersBatchReq>,
) -> ApiResult {
    let user = user_or_caller(&caller, &req.user_id)?;
    let positions = req
        .req_list
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let group = group_id(&format!("reqList[{i}].groupID"), &p.group_id)?;
            Ok((group, p.version_id.clone(), version(p.version)))
        })
        .collect::<Result<Vec<_>>>()?;
    let synced = s
        .service
        .groups_members_since(&caller, &user, &positions)
        .await
        .map_err(ApiError::naming(&[(Field::Groups, "reqList")]))?;
    let resp_list: BTreeMap<String, MembersIncremental> = synced
        .into_iter()
        .map(|m| {
            let key = m.group_id.to_string();
            (key, members_incremental(m, |u| s.service.is_admin(u)))
        })
        .collect();
    Ok(reply(serde_json::json!({ "respList": resp_list })))
}

/// `{idHash, userID}` or `{idHash, groupID}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::FullIdsReq)]
struct FullIdsReq {
    #[serde(rename = "userID", default)]
    user_id: String,
    #[serde(rename = "groupID", default)]
    group_id: String,
    #[serde(rename = "idHash", default, deserialize_with = "uint64")]
    #[schema(schema_with = crate::openapi::uint64)]
    id_hash: u64,
}

/// The answer of a full id list under `ids_key`: the ids, sorted (what
/// the hash is of), or none when the client's hash says it has them.
fn full_ids(at: IdsAt, client_hash: u64, ids_key: &str) -> Reply {
    let mut ids = at.ids;
    ids.sort_unstable();
    let equal = client_hash == id_hash(&ids);
    if equal {
        // An empty list rather than none: the JS SDK caches a group's
        // member ids as given.
        ids.clear();
    }
    let head = FullIds {
        version: at.version,
        version_id: at.version_id,
        equal,
    };
    let mut data = serde_json::to_value(head).unwrap_or_default();
    data[ids_key] = serde_json::json!(ids);
    reply(data)
}

#[utoipa::path(post, path = "/friend/get_full_friend_user_ids", tag = "openim",
    request_body = FullIdsReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
async fn full_friend_ids(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<FullIdsReq>,
) -> ApiResult {
    let user = user_or_caller(&caller, &req.user_id)?;
    let at = s.service.friend_ids_at(&caller, &user).await?;
    Ok(full_ids(at, req.id_hash, "userIDs"))
}

#[utoipa::path(post, path = "/group/get_full_join_group_ids", tag = "openim",
    request_body = FullIdsReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
async fn full_join_group_ids(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<FullIdsReq>,
) -> ApiResult {
    let user = user_or_caller(&caller, &req.user_id)?;
    let at = s.service.joined_group_ids_at(&caller, &user).await?;
    Ok(full_ids(at, req.id_hash, "groupIDs"))
}

#[utoipa::path(post, path = "/group/get_full_group_member_user_ids", tag = "openim",
    request_body = FullIdsReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
async fn full_member_ids(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<FullIdsReq>,
) -> ApiResult {
    let group = group_id("groupID", &req.group_id)?;
    let at = s.service.member_ids_at(&caller, &group).await?;
    Ok(full_ids(at, req.id_hash, "userIDs"))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::SyncUserReq)]
struct UserReq {
    #[serde(rename = "userID", default)]
    user_id: String,
}

/// The conversations the user receives without being notified
/// (`recvMsgOpt` not 0), under OpenIM's ids.
#[utoipa::path(post, path = "/conversation/get_not_notify_conversation_ids", tag = "openim",
    request_body = UserReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
async fn not_notify_conversation_ids(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<UserReq>,
) -> ApiResult {
    let user = user_or_caller(&caller, &req.user_id)?;
    let ids: Vec<String> = s
        .service
        .conversations(&caller, &user)
        .await?
        .iter()
        .filter(|c| c.recv_msg_opt != 0 && is_chat_conversation(&c.conversation_id))
        .map(|c| openim_conversation_id(&c.conversation_id))
        .collect();
    Ok(reply(serde_json::json!({ "conversationIDs": ids })))
}
