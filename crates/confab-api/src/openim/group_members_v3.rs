//! Who is in a group, as OpenIM v3's client SDK changes it: invitations,
//! removals and dismissal. A v2 body goes to the v2 handler in `groups.rs`
//! unchanged; a v3 body (`Spelled`) is answered `{}`. v2 reports each user
//! apart; v3 succeeds for every user named or fails for all, as OpenIM v3
//! does.

use super::groups::{self, GroupReq, InviteReq, KickReq};
use super::wire::{group_id, user_ids};
use super::wire_v3::{only_default, Spelled, V3Body};
use super::{ApiError, ApiResult, OpenIm, OpenImCaller, Reply};
use crate::AppState;
use axum::extract::State;
use confab_core::Field;
use serde::Deserialize;
use serde_json::json;

crate::spelled_schema!(KickGroupBody, KickV3Req, KickReq);
crate::spelled_schema!(InviteUserToGroupBody, InviteV3Req, InviteReq);
crate::spelled_schema!(DismissGroupBody, DismissV3Req, GroupReq);

/// `invite_user_to_group`: `{groupID, reason, invitedUserIDs}`. Confab
/// keeps no reason.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::InviteV3Req)]
pub struct InviteV3Req {
    #[serde(rename = "groupID")]
    group_id: String,
    #[serde(rename = "invitedUserIDs")]
    user_ids: Vec<String>,
}

impl V3Body for InviteV3Req {
    const MARKERS: &'static [&'static str] = &["invitedUserIDs"];
}

/// v2 (`invitedUserIDList`) answers a result per user; v3
/// (`invitedUserIDs`) `{}`, once every one joined.
#[utoipa::path(post, path = "/group/invite_user_to_group", tag = "openim",
    request_body = InviteUserToGroupBody,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn invite_user_to_group(
    state: State<AppState>,
    caller: OpenImCaller,
    body: Spelled<InviteV3Req, InviteReq>,
) -> ApiResult {
    let req = match body {
        Spelled::V2(req) => return groups::invite_user_to_group(state, caller, OpenIm(req)).await,
        Spelled::V3(req) => req,
    };
    let (State(s), OpenImCaller(caller)) = (state, caller);
    let group = group_id("groupID", &req.group_id)?;
    let ids = user_ids("invitedUserIDs", &req.user_ids)?;
    s.service
        .invite_every_member(&caller, &group, &ids)
        .await
        .map_err(ApiError::naming(&[(Field::Invitees, "invitedUserIDs")]))?;
    Ok(Reply::data(json!({})))
}

/// `kick_group`: `{groupID, reason, kickedUserIDs}`. Confab keeps no
/// reason.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::KickV3Req)]
pub struct KickV3Req {
    #[serde(rename = "groupID")]
    group_id: String,
    #[serde(rename = "kickedUserIDs")]
    user_ids: Vec<String>,
}

impl V3Body for KickV3Req {
    const MARKERS: &'static [&'static str] = &["kickedUserIDs"];
}

/// v2 (`kickedUserIDList`) answers a result per user; v3 (`kickedUserIDs`)
/// `{}`, once every one is gone.
#[utoipa::path(post, path = "/group/kick_group", tag = "openim",
    request_body = KickGroupBody,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn kick_group(
    state: State<AppState>,
    caller: OpenImCaller,
    body: Spelled<KickV3Req, KickReq>,
) -> ApiResult {
    let req = match body {
        Spelled::V2(req) => return groups::kick_group(state, caller, OpenIm(req)).await,
        Spelled::V3(req) => req,
    };
    let (State(s), OpenImCaller(caller)) = (state, caller);
    let group = group_id("groupID", &req.group_id)?;
    let ids = user_ids("kickedUserIDs", &req.user_ids)?;
    s.service
        .kick_every_member(&caller, &group, &ids)
        .await
        .map_err(ApiError::naming(&[(Field::KickedMembers, "kickedUserIDs")]))?;
    Ok(Reply::data(json!({})))
}

/// `dismiss_group`: `{groupID, deleteMember}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::DismissV3Req)]
#[serde(rename_all = "camelCase")]
pub struct DismissV3Req {
    #[serde(rename = "groupID")]
    group_id: String,
    delete_member: Option<bool>,
}

impl V3Body for DismissV3Req {
    const MARKERS: &'static [&'static str] = &["deleteMember"];
}

/// v2 answers as before; v3 (`deleteMember`) `{}`. OpenIM's
/// `deleteMember: true` erases the group and its members instead of
/// marking it dismissed; Confab always keeps them (with the history), so
/// it takes only `false`.
#[utoipa::path(post, path = "/group/dismiss_group", tag = "openim",
    request_body = DismissGroupBody,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn dismiss_group(
    state: State<AppState>,
    caller: OpenImCaller,
    body: Spelled<DismissV3Req, GroupReq>,
) -> ApiResult {
    let req = match body {
        Spelled::V2(req) => return groups::dismiss_group(state, caller, OpenIm(req)).await,
        Spelled::V3(req) => req,
    };
    let (State(s), OpenImCaller(caller)) = (state, caller);
    let group = group_id("groupID", &req.group_id)?;
    only_default(
        "deleteMember",
        req.delete_member,
        false,
        "a dismissed group and its members stay on record",
    )?;
    s.service.dismiss_group(&caller, &group).await?;
    Ok(Reply::data(json!({})))
}
