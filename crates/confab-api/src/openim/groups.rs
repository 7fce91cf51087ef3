//! group routes.

use super::wire::{
    group_id, group_ids, id_results, user_id, user_ids, GroupInfoOut, GroupRequestInfo, MemberInfo,
};
use super::{ApiError, ApiResult, OpenIm, OpenImCaller, Reply};
use crate::AppState;
use axum::extract::State;
use confab_core::model::{GroupPatch, MemberPatch, Role};
use confab_core::{Error, Field, GroupId};
use confab_service::{MemberFilter, NewGroup};
use serde::Deserialize;

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::GroupReq)]
pub struct GroupReq {
    #[serde(rename = "groupID")]
    group_id: String,
}

impl GroupReq {
    fn id(&self) -> confab_core::Result<GroupId> {
        group_id("groupID", &self.group_id)
    }
}

/// `create_group` and `set_group_info`: a group's fields, all optional
/// here; each route checks what it requires.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::GroupInfoReq)]
#[serde(rename_all = "camelCase")]
pub struct GroupInfoReq {
    #[serde(rename = "groupID")]
    group_id: Option<String>,
    #[serde(rename = "ownerUserID")]
    owner_user_id: Option<String>,
    #[serde(default)]
    group_type: i32,
    group_name: Option<String>,
    notification: Option<String>,
    introduction: Option<String>,
    #[serde(rename = "faceURL", alias = "faceUrl")]
    face_url: Option<String>,
    ex: Option<String>,
    member_list: Option<Vec<MemberIn>>,
}

impl GroupInfoReq {
    fn patch(&self) -> GroupPatch {
        GroupPatch {
            group_name: self.group_name.clone(),
            notification: self.notification.clone(),
            introduction: self.introduction.clone(),
            face_url: self.face_url.clone(),
            ex: self.ex.clone(),
        }
    }
}

fn missing(field: &str) -> Error {
    Error::invalid(format!("{field}: missing"))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::MemberIn)]
#[serde(rename_all = "camelCase")]
pub struct MemberIn {
    #[serde(rename = "userID")]
    user_id: String,
    #[serde(default = "ordinary")]
    role_level: i32,
}

fn ordinary() -> i32 {
    Role::Member as i32
}

pub async fn create_group(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<GroupInfoReq>,
) -> ApiResult {
    let owner = user_id(
        "ownerUserID",
        req.owner_user_id
            .as_deref()
            .ok_or_else(|| missing("ownerUserID"))?,
    )?;
    let member_list = req
        .member_list
        .as_deref()
        .ok_or_else(|| missing("memberList"))?;
    let group_id = match req.group_id.as_deref() {
        None | Some("") => None,
        Some(id) => Some(group_id("groupID", id)?),
    };
    let mut members = Vec::with_capacity(member_list.len());
    for (i, m) in member_list.iter().enumerate() {
        let id = user_id(&format!("memberList[{i}].userID"), &m.user_id)?;
        let role = match Role::from_i32(m.role_level) {
            Some(Role::Owner) => {
                return Err(Error::invalid(format!(
                    "memberList: {id} cannot have roleLevel 2 (owner); the owner is ownerUserID"
                ))
                .into())
            }
            Some(role) => role,
            None => {
                return Err(Error::invalid(format!(
                    "memberList[{i}].roleLevel: must be 1 (member) or 3 (admin), got {}",
                    m.role_level
                ))
                .into())
            }
        };
        members.push((id, role));
    }
    let info = s
        .service
        .create_group(
            &caller,
            NewGroup {
                group_id,
                owner,
                group_type: req.group_type,
                info: req.patch(),
                members,
            },
        )
        .await?;
    Ok(Reply::data(GroupInfoOut::from(&info)))
}

#[utoipa::path(post, path = "/group/set_group_info", tag = "openim",
    request_body = GroupInfoReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn set_group_info(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<GroupInfoReq>,
) -> ApiResult {
    let group = group_id(
        "groupID",
        req.group_id.as_deref().ok_or_else(|| missing("groupID"))?,
    )?;
    let patch = req.patch();
    if patch.is_empty() {
        return Err(Error::invalid(
            "no field to update: give at least one of groupName, notification, introduction, faceURL, ex",
        )
        .into());
    }
    s.service.set_group_info(&caller, &group, &patch).await?;
    Ok(Reply::ok())
}

/// A group and, for admin tokens acting for someone, the user: `userID`
/// (or `fromUserID`); the caller's own user when absent.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::GroupUserReq)]
#[serde(rename_all = "camelCase")]
pub struct GroupUserReq {
    #[serde(rename = "groupID")]
    group_id: String,
    #[serde(rename = "userID", alias = "fromUserID", default)]
    user_id: Option<String>,
    #[serde(alias = "reqMsg", default)]
    req_message: String,
}

impl GroupUserReq {
    fn ids(
        &self,
        caller: &confab_service::Caller,
    ) -> confab_core::Result<(GroupId, confab_core::UserId)> {
        let group = group_id("groupID", &self.group_id)?;
        let user = match self.user_id.as_deref() {
            Some(id) => user_id("userID", id)?,
            None => caller.user_id.clone(),
        };
        Ok((group, user))
    }
}

#[utoipa::path(post, path = "/group/join_group", tag = "openim",
    request_body = GroupUserReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn join_group(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<GroupUserReq>,
) -> ApiResult {
    let (group, user) = req.ids(&caller)?;
    s.service
        .join_group(&caller, &group, &user, &req.req_message)
        .await
        .map_err(ApiError::naming(&[(Field::RequestMessage, "reqMessage")]))?;
    Ok(Reply::ok())
}

#[utoipa::path(post, path = "/group/quit_group", tag = "openim",
    request_body = GroupUserReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn quit_group(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<GroupUserReq>,
) -> ApiResult {
    let (group, user) = req.ids(&caller)?;
    s.service.quit_group(&caller, &group, &user).await?;
    Ok(Reply::ok())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::ApplicationResponseReq)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationResponseReq {
    #[serde(rename = "groupID")]
    group_id: String,
    #[serde(rename = "fromUserID", alias = "userID")]
    applicant: String,
    #[serde(alias = "handleMsg", default)]
    handled_msg: String,
    handle_result: i32,
}

#[utoipa::path(post, path = "/group/group_application_response", tag = "openim",
    request_body = ApplicationResponseReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn group_application_response(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<ApplicationResponseReq>,
) -> ApiResult {
    let group = group_id("groupID", &req.group_id)?;
    let applicant = user_id("fromUserID", &req.applicant)?;
    let accept = match req.handle_result {
        1 => true,
        -1 => false,
        other => {
            return Err(Error::invalid(format!(
                "handleResult: must be 1 (accept) or -1 (refuse), got {other}"
            ))
            .into())
        }
    };
    s.service
        .answer_group_request(&caller, &group, &applicant, accept, &req.handled_msg)
        .await
        .map_err(ApiError::naming(&[(Field::HandleMessage, "handledMsg")]))?;
    Ok(Reply::ok())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::TransferReq)]
pub struct TransferReq {
    #[serde(rename = "groupID")]
    group_id: String,
    #[serde(rename = "newOwnerUserID")]
    new_owner: String,
}

#[utoipa::path(post, path = "/group/transfer_group", tag = "openim",
    request_body = TransferReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn transfer_group(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<TransferReq>,
) -> ApiResult {
    let group = group_id("groupID", &req.group_id)?;
    let new_owner = user_id("newOwnerUserID", &req.new_owner)?;
    s.service
        .transfer_group(&caller, &group, &new_owner)
        .await?;
    Ok(Reply::ok())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::FromUserReq)]
pub struct UserReq {
    #[serde(rename = "fromUserID", alias = "userID", default)]
    user_id: Option<String>,
}

impl UserReq {
    fn id(&self, caller: &confab_service::Caller) -> confab_core::Result<confab_core::UserId> {
        match self.user_id.as_deref() {
            Some(id) => user_id("fromUserID", id),
            None => Ok(caller.user_id.clone()),
        }
    }
}

pub async fn get_recv_group_application_list(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<UserReq>,
) -> ApiResult {
    let user = req.id(&caller)?;
    let list = s.service.group_requests_received(&caller, &user).await?;
    Ok(Reply::data(
        list.iter().map(GroupRequestInfo::from).collect::<Vec<_>>(),
    ))
}

pub async fn get_user_req_group_application_list(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<UserReq>,
) -> ApiResult {
    let user = req.id(&caller)?;
    let list = s.service.group_requests_sent(&caller, &user).await?;
    Ok(Reply::data(
        list.iter().map(GroupRequestInfo::from).collect::<Vec<_>>(),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::GroupsReq)]
pub struct GroupsReq {
    #[serde(rename = "groupIDList")]
    group_ids: Vec<String>,
}

pub async fn get_groups_info(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<GroupsReq>,
) -> ApiResult {
    let ids = group_ids("groupIDList", &req.group_ids)?;
    let groups = s.service.groups_info(&caller, &ids).await?;
    Ok(Reply::data(
        groups.iter().map(GroupInfoOut::from).collect::<Vec<_>>(),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::KickReq)]
pub struct KickReq {
    #[serde(rename = "groupID")]
    group_id: String,
    #[serde(rename = "kickedUserIDList", alias = "uidListInfo")]
    user_ids: Vec<String>,
}

pub async fn kick_group(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<KickReq>,
) -> ApiResult {
    let group = group_id("groupID", &req.group_id)?;
    let ids = user_ids("kickedUserIDList", &req.user_ids)?;
    let results = s.service.kick_members(&caller, &group, &ids).await?;
    Ok(Reply::data(id_results(&results)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::MemberListReq)]
#[serde(rename_all = "camelCase")]
pub struct MemberListReq {
    #[serde(rename = "groupID")]
    group_id: String,
    #[serde(default)]
    filter: i32,
    #[serde(default)]
    next_seq: u32,
}

pub async fn get_group_member_list(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<MemberListReq>,
) -> ApiResult {
    let group = group_id("groupID", &req.group_id)?;
    let filter = MemberFilter::from_i32(req.filter).ok_or_else(|| {
        Error::invalid(format!(
            "filter: must be 0 (all), 1 (owner), 2 (admins) or 3 (ordinary members), got {}",
            req.filter
        ))
    })?;
    let members = s
        .service
        .member_list(&caller, &group, filter, req.next_seq)
        .await?;
    let next = if members.len() < confab_service::MEMBER_PAGE as usize {
        0
    } else {
        req.next_seq + members.len() as u32
    };
    Ok(Reply::data(members.iter().map(MemberInfo::from).collect::<Vec<_>>()).with("nextSeq", next))
}

#[utoipa::path(post, path = "/group/get_group_all_member_list", tag = "openim",
    request_body = GroupReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn get_group_all_member_list(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<GroupReq>,
) -> ApiResult {
    let group = req.id()?;
    let members = s.service.all_members(&caller, &group).await?;
    Ok(Reply::data(
        members.iter().map(MemberInfo::from).collect::<Vec<_>>(),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::MembersInfoReq)]
pub struct MembersInfoReq {
    #[serde(rename = "groupID")]
    group_id: String,
    #[serde(rename = "memberList", alias = "userIDList")]
    user_ids: Vec<String>,
}

pub async fn get_group_members_info(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<MembersInfoReq>,
) -> ApiResult {
    let group = group_id("groupID", &req.group_id)?;
    let ids = user_ids("memberList", &req.user_ids)?;
    let members = s.service.members_info(&caller, &group, &ids).await?;
    Ok(Reply::data(
        members.iter().map(MemberInfo::from).collect::<Vec<_>>(),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::InviteReq)]
pub struct InviteReq {
    #[serde(rename = "groupID")]
    group_id: String,
    #[serde(rename = "invitedUserIDList")]
    user_ids: Vec<String>,
}

pub async fn invite_user_to_group(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<InviteReq>,
) -> ApiResult {
    let group = group_id("groupID", &req.group_id)?;
    let ids = user_ids("invitedUserIDList", &req.user_ids)?;
    let results = s.service.invite_members(&caller, &group, &ids).await?;
    Ok(Reply::data(id_results(&results)))
}

pub async fn get_joined_group_list(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<UserReq>,
) -> ApiResult {
    let user = req.id(&caller)?;
    let groups = s.service.joined_groups(&caller, &user).await?;
    Ok(Reply::data(
        groups.iter().map(GroupInfoOut::from).collect::<Vec<_>>(),
    ))
}

pub async fn dismiss_group(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<GroupReq>,
) -> ApiResult {
    s.service.dismiss_group(&caller, &req.id()?).await?;
    Ok(Reply::ok())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::MuteMemberReq)]
#[serde(rename_all = "camelCase")]
pub struct MuteMemberReq {
    #[serde(rename = "groupID")]
    group_id: String,
    #[serde(rename = "userID")]
    user_id: String,
    #[serde(default)]
    muted_seconds: u32,
}

#[utoipa::path(post, path = "/group/mute_group_member", tag = "openim",
    request_body = MuteMemberReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn mute_group_member(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<MuteMemberReq>,
) -> ApiResult {
    let group = group_id("groupID", &req.group_id)?;
    let user = user_id("userID", &req.user_id)?;
    if req.muted_seconds == 0 {
        return Err(Error::invalid(
            "mutedSeconds: must be positive; use cancel_mute_group_member to lift a mute",
        )
        .into());
    }
    s.service
        .mute_member(&caller, &group, &user, req.muted_seconds)
        .await?;
    Ok(Reply::ok())
}

#[utoipa::path(post, path = "/group/cancel_mute_group_member", tag = "openim",
    request_body = MuteMemberReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn cancel_mute_group_member(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<MuteMemberReq>,
) -> ApiResult {
    let group = group_id("groupID", &req.group_id)?;
    let user = user_id("userID", &req.user_id)?;
    s.service.mute_member(&caller, &group, &user, 0).await?;
    Ok(Reply::ok())
}

#[utoipa::path(post, path = "/group/mute_group", tag = "openim",
    request_body = GroupReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn mute_group(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<GroupReq>,
) -> ApiResult {
    s.service.set_group_muted(&caller, &req.id()?, true).await?;
    Ok(Reply::ok())
}

#[utoipa::path(post, path = "/group/cancel_mute_group", tag = "openim",
    request_body = GroupReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn cancel_mute_group(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<GroupReq>,
) -> ApiResult {
    s.service
        .set_group_muted(&caller, &req.id()?, false)
        .await?;
    Ok(Reply::ok())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::MemberInfoReq)]
#[serde(rename_all = "camelCase")]
pub struct MemberInfoReq {
    #[serde(rename = "groupID")]
    group_id: String,
    #[serde(rename = "userID")]
    user_id: String,
    nickname: Option<String>,
    #[serde(rename = "faceURL")]
    face_url: Option<String>,
    role_level: Option<i32>,
    ex: Option<String>,
}

#[utoipa::path(post, path = "/group/set_group_member_nickname", tag = "openim",
    request_body = MemberInfoReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn set_group_member_nickname(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<MemberInfoReq>,
) -> ApiResult {
    let group = group_id("groupID", &req.group_id)?;
    let user = user_id("userID", &req.user_id)?;
    let patch = MemberPatch {
        nickname: Some(req.nickname.unwrap_or_default()),
        ..Default::default()
    };
    s.service
        .set_member_info(&caller, &group, &user, &patch)
        .await?;
    Ok(Reply::ok())
}

#[utoipa::path(post, path = "/group/set_group_member_info", tag = "openim",
    request_body = MemberInfoReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn set_group_member_info(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<MemberInfoReq>,
) -> ApiResult {
    let group = group_id("groupID", &req.group_id)?;
    let user = user_id("userID", &req.user_id)?;
    let role = match req.role_level {
        None => None,
        Some(v) => Some(Role::from_i32(v).ok_or_else(|| {
            Error::invalid(format!(
                "roleLevel: must be 1 (member) or 3 (admin), got {v}"
            ))
        })?),
    };
    let patch = MemberPatch {
        nickname: req.nickname,
        face_url: req.face_url,
        role,
        mute_end_time: None,
        ex: req.ex,
    };
    if patch == MemberPatch::default() {
        return Err(Error::invalid(
            "no field to update: give at least one of nickname, faceURL, roleLevel, ex",
        )
        .into());
    }
    s.service
        .set_member_info(&caller, &group, &user, &patch)
        .await?;
    Ok(Reply::ok())
}
