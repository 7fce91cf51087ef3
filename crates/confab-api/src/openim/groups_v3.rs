//! Group routes as OpenIM v3's client SDK calls them. Those it shares with
//! the v2 admin API take both spellings (`Spelled`): a v2 body goes to the
//! v2 handler in `groups.rs` unchanged and gets its v2 answer; a v3 body
//! gets v3's shape (`wire_v3.rs`). `set_group_info_ex` is v3's alone.

use super::groups::{self, GroupInfoReq, GroupsReq, MemberListReq, MembersInfoReq, UserReq};
use super::wire::{group_id, group_ids, user_id, user_ids};
use super::wire_v3::{groups_v3, only_zero, wrapped, MemberV3, Pagination, Spelled, V3Body};
use super::{ApiError, ApiResult, OpenIm, OpenImCaller, Reply};
use crate::AppState;
use axum::extract::State;
use confab_core::model::{GroupMember, GroupPatch, Role};
use confab_core::{Error, Field};
use confab_service::{MemberFilter, NewGroup};
use serde::Deserialize;
use serde_json::json;

crate::spelled_schema!(CreateGroupBody, CreateGroupV3Req, GroupInfoReq);
crate::spelled_schema!(GetGroupsInfoBody, GroupsV3Req, GroupsReq);
crate::spelled_schema!(GetGroupMemberListBody, MemberListV3Req, MemberListReq);
crate::spelled_schema!(GetGroupMembersInfoBody, MembersInfoV3Req, MembersInfoReq);
crate::spelled_schema!(GetJoinedGroupListBody, JoinedV3Req, UserReq);

/// The settings Confab does not keep, and what it does instead; a v3 body
/// may ask only for that (0).
const NEED_VERIFICATION: &str = "join requests need approval, invitations join directly";
const LOOK_MEMBER_INFO: &str = "members may see each other's info";
const APPLY_MEMBER_FRIEND: &str = "members may ask each other to be friends";

fn members_v3(s: &AppState, members: &[GroupMember]) -> Vec<MemberV3> {
    members
        .iter()
        .map(|m| MemberV3::new(m, s.service.is_admin(&m.user_id)))
        .collect()
}

/// `create_group`: `{ownerUserID, memberUserIDs, adminUserIDs, groupInfo}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::CreateGroupV3Req)]
#[serde(rename_all = "camelCase")]
pub struct CreateGroupV3Req {
    #[serde(rename = "ownerUserID", default)]
    owner_user_id: Option<String>,
    #[serde(rename = "memberUserIDs", default)]
    member_user_ids: Vec<String>,
    #[serde(rename = "adminUserIDs", default)]
    admin_user_ids: Vec<String>,
    group_info: NewGroupInfo,
}

impl V3Body for CreateGroupV3Req {
    const MARKERS: &'static [&'static str] = &["groupInfo", "memberUserIDs", "adminUserIDs"];
}

/// `groupInfo` of `create_group`. What the server decides (`creatorUserID`,
/// `ownerUserID`, `memberCount`, `createTime`, `status`) is not read.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::NewGroupInfo)]
#[serde(rename_all = "camelCase")]
pub struct NewGroupInfo {
    #[serde(rename = "groupID", default)]
    group_id: Option<String>,
    group_name: Option<String>,
    notification: Option<String>,
    introduction: Option<String>,
    #[serde(rename = "faceURL")]
    face_url: Option<String>,
    ex: Option<String>,
    #[serde(default)]
    group_type: i32,
    need_verification: Option<i32>,
    look_member_info: Option<i32>,
    apply_member_friend: Option<i32>,
}

/// Where v3 puts the fields the service names.
const CREATE_NAMES: &[(Field, &str)] = &[
    (Field::Members, "memberUserIDs"),
    (Field::GroupName, "groupInfo.groupName"),
    (Field::Notification, "groupInfo.notification"),
    (Field::Introduction, "groupInfo.introduction"),
    (Field::FaceUrl, "groupInfo.faceURL"),
    (Field::Ex, "groupInfo.ex"),
];

/// v2 (`memberList`) answers the v2 group; v3 `{groupInfo}`. The owner
/// defaults to the caller; admins listed in `adminUserIDs` are admins.
#[utoipa::path(post, path = "/group/create_group", tag = "openim",
    request_body = CreateGroupBody,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn create_group(
    state: State<AppState>,
    caller: OpenImCaller,
    body: Spelled<CreateGroupV3Req, GroupInfoReq>,
) -> ApiResult {
    let req = match body {
        Spelled::V2(req) => return groups::create_group(state, caller, OpenIm(req)).await,
        Spelled::V3(req) => req,
    };
    let (State(s), OpenImCaller(caller)) = (state, caller);
    let info = req.group_info;
    only_zero(
        "groupInfo.needVerification",
        info.need_verification,
        NEED_VERIFICATION,
    )?;
    only_zero(
        "groupInfo.lookMemberInfo",
        info.look_member_info,
        LOOK_MEMBER_INFO,
    )?;
    only_zero(
        "groupInfo.applyMemberFriend",
        info.apply_member_friend,
        APPLY_MEMBER_FRIEND,
    )?;
    let owner = match req.owner_user_id.as_deref() {
        None | Some("") => caller.user_id.clone(),
        Some(id) => user_id("ownerUserID", id)?,
    };
    let group_id = match info.group_id.as_deref() {
        None | Some("") => None,
        Some(id) => Some(group_id("groupInfo.groupID", id)?),
    };
    let mut members: Vec<_> = user_ids("adminUserIDs", &req.admin_user_ids)?
        .into_iter()
        .map(|id| (id, Role::Admin))
        .collect();
    for id in user_ids("memberUserIDs", &req.member_user_ids)? {
        // Listed as admin and member: an admin (the service keeps the
        // first role of a user listed twice).
        members.push((id, Role::Member));
    }
    let created = s
        .service
        .create_group(
            &caller,
            NewGroup {
                group_id,
                owner,
                group_type: info.group_type,
                info: GroupPatch {
                    group_name: info.group_name,
                    notification: info.notification,
                    introduction: info.introduction,
                    face_url: info.face_url,
                    ex: info.ex,
                },
                members,
            },
        )
        .await
        .map_err(ApiError::naming(CREATE_NAMES))?;
    let group = groups_v3(std::slice::from_ref(&created));
    Ok(Reply::data(json!({ "groupInfo": group.first() })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::GroupsV3Req)]
pub struct GroupsV3Req {
    #[serde(rename = "groupIDs")]
    group_ids: Vec<String>,
}

impl V3Body for GroupsV3Req {
    const MARKERS: &'static [&'static str] = &["groupIDs"];
}

/// v2 (`groupIDList`) answers the list; v3 (`groupIDs`) `{groupInfos}`.
#[utoipa::path(post, path = "/group/get_groups_info", tag = "openim",
    request_body = GetGroupsInfoBody,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn get_groups_info(
    state: State<AppState>,
    caller: OpenImCaller,
    body: Spelled<GroupsV3Req, GroupsReq>,
) -> ApiResult {
    let req = match body {
        Spelled::V2(req) => return groups::get_groups_info(state, caller, OpenIm(req)).await,
        Spelled::V3(req) => req,
    };
    let (State(s), OpenImCaller(caller)) = (state, caller);
    let ids = group_ids("groupIDs", &req.group_ids)?;
    let found = s
        .service
        .groups_info(&caller, &ids)
        .await
        .map_err(ApiError::naming(&[(Field::Groups, "groupIDs")]))?;
    Ok(Reply::data(json!({ "groupInfos": groups_v3(&found) })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::MembersInfoV3Req)]
pub struct MembersInfoV3Req {
    #[serde(rename = "groupID")]
    group_id: String,
    #[serde(rename = "userIDs")]
    user_ids: Vec<String>,
}

impl V3Body for MembersInfoV3Req {
    const MARKERS: &'static [&'static str] = &["userIDs"];
}

/// v2 (`memberList`) answers the list; v3 (`userIDs`) `{members}`, with
/// each member's own nickname and face where the group gives none: the
/// SDK asks for the sender before each group message and names it so.
#[utoipa::path(post, path = "/group/get_group_members_info", tag = "openim",
    request_body = GetGroupMembersInfoBody,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn get_group_members_info(
    state: State<AppState>,
    caller: OpenImCaller,
    body: Spelled<MembersInfoV3Req, MembersInfoReq>,
) -> ApiResult {
    let req = match body {
        Spelled::V2(req) => {
            return groups::get_group_members_info(state, caller, OpenIm(req)).await
        }
        Spelled::V3(req) => req,
    };
    let (State(s), OpenImCaller(caller)) = (state, caller);
    let group = group_id("groupID", &req.group_id)?;
    let ids = user_ids("userIDs", &req.user_ids)?;
    let members = s
        .service
        .members_info_with_profiles(&caller, &group, &ids)
        .await
        .map_err(ApiError::naming(&[(Field::Members, "userIDs")]))?;
    Ok(Reply::data(json!({ "members": members_v3(&s, &members) })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::MemberListV3Req)]
pub struct MemberListV3Req {
    #[serde(rename = "groupID")]
    group_id: String,
    #[serde(default)]
    filter: i32,
    #[serde(default)]
    keyword: String,
    pagination: Pagination,
}

impl V3Body for MemberListV3Req {
    const MARKERS: &'static [&'static str] = &["pagination", "keyword"];
}

/// v2 (`nextSeq`) answers the list; v3 (`pagination`) `{total, members}`.
/// `filter` keeps v2's meaning (the SDK always sends 0, all); `keyword`
/// matches a member's user id or shown nickname.
#[utoipa::path(post, path = "/group/get_group_member_list", tag = "openim",
    request_body = GetGroupMemberListBody,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn get_group_member_list(
    state: State<AppState>,
    caller: OpenImCaller,
    body: Spelled<MemberListV3Req, MemberListReq>,
) -> ApiResult {
    let req = match body {
        Spelled::V2(req) => return groups::get_group_member_list(state, caller, OpenIm(req)).await,
        Spelled::V3(req) => req,
    };
    let (State(s), OpenImCaller(caller)) = (state, caller);
    let group = group_id("groupID", &req.group_id)?;
    let filter = MemberFilter::from_i32(req.filter).ok_or_else(|| {
        Error::invalid(format!(
            "filter: must be 0 (all), 1 (owner), 2 (admins) or 3 (ordinary members), got {}",
            req.filter
        ))
    })?;
    let (offset, size) = req.pagination.window()?;
    let page = s
        .service
        .member_page(&caller, &group, filter, &req.keyword, offset, size)
        .await?;
    Ok(Reply::data(json!({
        "total": page.total,
        "members": members_v3(&s, &page.members),
    })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::JoinedV3Req)]
pub struct JoinedV3Req {
    #[serde(rename = "fromUserID")]
    from_user_id: String,
    pagination: Pagination,
}

impl V3Body for JoinedV3Req {
    const MARKERS: &'static [&'static str] = &["pagination"];
}

/// v2 answers the list; v3 (`pagination`) `{total, groups}`.
#[utoipa::path(post, path = "/group/get_joined_group_list", tag = "openim",
    request_body = GetJoinedGroupListBody,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn get_joined_group_list(
    state: State<AppState>,
    caller: OpenImCaller,
    body: Spelled<JoinedV3Req, UserReq>,
) -> ApiResult {
    let req = match body {
        Spelled::V2(req) => return groups::get_joined_group_list(state, caller, OpenIm(req)).await,
        Spelled::V3(req) => req,
    };
    let (State(s), OpenImCaller(caller)) = (state, caller);
    let user = user_id("fromUserID", &req.from_user_id)?;
    let joined = s.service.joined_groups(&caller, &user).await?;
    let (total, page) = req.pagination.page(joined)?;
    Ok(Reply::data(json!({
        "total": total,
        "groups": groups_v3(&page),
    })))
}

/// `set_group_info_ex`: each optional field plain or `{value}`-wrapped.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::SetGroupInfoExReq)]
#[serde(rename_all = "camelCase")]
pub struct SetGroupInfoExReq {
    #[serde(rename = "groupID")]
    group_id: String,
    #[serde(default, deserialize_with = "wrapped")]
    #[schema(schema_with = crate::openapi::wrapped_string)]
    group_name: Option<String>,
    #[serde(default, deserialize_with = "wrapped")]
    #[schema(schema_with = crate::openapi::wrapped_string)]
    notification: Option<String>,
    #[serde(default, deserialize_with = "wrapped")]
    #[schema(schema_with = crate::openapi::wrapped_string)]
    introduction: Option<String>,
    #[serde(rename = "faceURL", default, deserialize_with = "wrapped")]
    #[schema(schema_with = crate::openapi::wrapped_string)]
    face_url: Option<String>,
    #[serde(default, deserialize_with = "wrapped")]
    #[schema(schema_with = crate::openapi::wrapped_string)]
    ex: Option<String>,
    #[serde(default, deserialize_with = "wrapped")]
    #[schema(schema_with = crate::openapi::wrapped_i32)]
    need_verification: Option<i32>,
    #[serde(default, deserialize_with = "wrapped")]
    #[schema(schema_with = crate::openapi::wrapped_i32)]
    look_member_info: Option<i32>,
    #[serde(default, deserialize_with = "wrapped")]
    #[schema(schema_with = crate::openapi::wrapped_i32)]
    apply_member_friend: Option<i32>,
}

/// The rules and notification of `set_group_info`: managers only, one
/// `GroupInfoSet` notice.
#[utoipa::path(post, path = "/group/set_group_info_ex", tag = "openim",
    request_body = SetGroupInfoExReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn set_group_info_ex(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<SetGroupInfoExReq>,
) -> ApiResult {
    let group = group_id("groupID", &req.group_id)?;
    only_zero("needVerification", req.need_verification, NEED_VERIFICATION)?;
    only_zero("lookMemberInfo", req.look_member_info, LOOK_MEMBER_INFO)?;
    only_zero(
        "applyMemberFriend",
        req.apply_member_friend,
        APPLY_MEMBER_FRIEND,
    )?;
    let patch = GroupPatch {
        group_name: req.group_name,
        notification: req.notification,
        introduction: req.introduction,
        face_url: req.face_url,
        ex: req.ex,
    };
    if patch.is_empty() {
        return Err(Error::invalid(
            "no field to update: give at least one of groupName, notification, introduction, faceURL, ex",
        )
        .into());
    }
    s.service.set_group_info(&caller, &group, &patch).await?;
    Ok(Reply::data(json!({})))
}
