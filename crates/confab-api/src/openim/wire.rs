//! OpenIM's wire shapes and their conversion from domain records. Times are
//! seconds, as OpenIM v2 sends them; v3's shapes, in milliseconds, are in
//! `wire_v3.rs`.

use confab_core::model::*;
use confab_core::{GroupId, Result, UserId};
use serde::{Deserialize, Deserializer, Serialize};

pub fn secs(ms: i64) -> i64 {
    ms / 1000
}

/// Checks that a list field of a route is non-empty and at most `max` long,
/// naming it as the route does.
pub fn batch<T>(field: &str, items: &[T], max: usize) -> Result<()> {
    if items.is_empty() {
        return Err(confab_core::Error::invalid(format!(
            "{field}: must not be empty"
        )));
    }
    if items.len() > max {
        return Err(confab_core::Error::invalid(format!(
            "{field}: at most {max} items per request, got {}",
            items.len()
        )));
    }
    Ok(())
}

pub fn user_id(field: &str, value: &str) -> Result<UserId> {
    UserId::parse(field, value)
}

/// Parses each value of a list field, naming the item at fault
/// (`field[i]`).
fn parse_list<T>(
    field: &str,
    values: &[String],
    parse: fn(&str, &str) -> Result<T>,
) -> Result<Vec<T>> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| parse(&format!("{field}[{i}]"), v))
        .collect()
}

pub fn user_ids(field: &str, values: &[String]) -> Result<Vec<UserId>> {
    parse_list(field, values, UserId::parse)
}

pub fn group_id(field: &str, value: &str) -> Result<GroupId> {
    GroupId::parse(field, value)
}

pub fn group_ids(field: &str, values: &[String]) -> Result<Vec<GroupId>> {
    parse_list(field, values, GroupId::parse)
}

/// Accepts a string or a number (v1 sends `birth` as a string, v2 as a
/// number) and keeps its text.
pub fn string_or_number<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        S(String),
        N(i64),
    }
    Ok(Option::<Either>::deserialize(d)?.map(|e| match e {
        Either::S(s) => s,
        Either::N(n) => n.to_string(),
    }))
}

/// A user, with v2 field names and the v1 names of `get_user_info`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    #[serde(rename = "userID")]
    pub user_id: String,
    pub nickname: String,
    #[serde(rename = "faceURL")]
    pub face_url: String,
    pub gender: i32,
    pub phone_number: String,
    pub birth: String,
    pub email: String,
    pub ex: String,
    pub create_time: i64,
    pub app_manger_level: i32,
    pub uid: String,
    pub name: String,
    pub icon: String,
    pub mobile: String,
}

impl UserInfo {
    pub fn new(u: &User, is_admin: bool) -> UserInfo {
        UserInfo {
            user_id: u.user_id.to_string(),
            nickname: u.nickname.clone(),
            face_url: u.face_url.clone(),
            gender: u.gender,
            phone_number: u.phone_number.clone(),
            birth: u.birth.clone(),
            email: u.email.clone(),
            ex: u.ex.clone(),
            create_time: secs(u.created_at),
            app_manger_level: if is_admin { 1 } else { 0 },
            uid: u.user_id.to_string(),
            name: u.nickname.clone(),
            icon: u.face_url.clone(),
            mobile: u.phone_number.clone(),
        }
    }
}

/// The public part of a user, as friend and black lists show it.
#[derive(Serialize)]
pub struct PublicUser {
    #[serde(rename = "userID")]
    pub user_id: String,
    pub nickname: String,
    #[serde(rename = "faceURL")]
    pub face_url: String,
    pub gender: i32,
    pub ex: String,
}

impl PublicUser {
    pub fn new(id: &UserId, u: Option<&User>) -> PublicUser {
        PublicUser {
            user_id: id.to_string(),
            nickname: u.map(|u| u.nickname.clone()).unwrap_or_default(),
            face_url: u.map(|u| u.face_url.clone()).unwrap_or_default(),
            gender: u.map(|u| u.gender).unwrap_or_default(),
            ex: u.map(|u| u.ex.clone()).unwrap_or_default(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FriendRequestInfo {
    #[serde(rename = "fromUserID")]
    pub from_user_id: String,
    #[serde(rename = "toUserID")]
    pub to_user_id: String,
    pub handle_result: i32,
    pub req_msg: String,
    pub create_time: i64,
    #[serde(rename = "handlerUserID")]
    pub handler_user_id: String,
    pub handle_msg: String,
    pub handle_time: i64,
    pub ex: String,
}

impl From<&FriendRequest> for FriendRequestInfo {
    fn from(r: &FriendRequest) -> Self {
        FriendRequestInfo {
            from_user_id: r.from_user_id.to_string(),
            to_user_id: r.to_user_id.to_string(),
            handle_result: r.handle_result as i32,
            req_msg: r.req_msg.clone(),
            create_time: secs(r.created_at),
            handler_user_id: if r.handle_result == HandleResult::Pending {
                String::new()
            } else {
                r.to_user_id.to_string()
            },
            handle_msg: r.handle_msg.clone(),
            handle_time: secs(r.handled_at),
            ex: r.ex.clone(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupInfoOut {
    #[serde(rename = "groupID")]
    pub group_id: String,
    pub group_name: String,
    pub notification: String,
    pub introduction: String,
    #[serde(rename = "faceURL")]
    pub face_url: String,
    #[serde(rename = "ownerUserID")]
    pub owner_user_id: String,
    pub create_time: i64,
    pub member_count: i64,
    pub ex: String,
    pub status: i32,
    #[serde(rename = "creatorUserID")]
    pub creator_user_id: String,
    pub group_type: i32,
}

impl From<&confab_service::GroupInfo> for GroupInfoOut {
    fn from(info: &confab_service::GroupInfo) -> Self {
        let g = &info.group;
        GroupInfoOut {
            group_id: g.group_id.to_string(),
            group_name: g.group_name.clone(),
            notification: g.notification.clone(),
            introduction: g.introduction.clone(),
            face_url: g.face_url.clone(),
            owner_user_id: g.owner_user_id.to_string(),
            create_time: secs(g.created_at),
            member_count: info.member_count,
            ex: g.ex.clone(),
            status: g.status as i32,
            creator_user_id: g.creator_user_id.to_string(),
            group_type: g.group_type,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberInfo {
    #[serde(rename = "groupID")]
    pub group_id: String,
    #[serde(rename = "userID")]
    pub user_id: String,
    pub role_level: i32,
    pub join_time: i64,
    pub nickname: String,
    #[serde(rename = "faceURL")]
    pub face_url: String,
    pub join_source: i32,
    #[serde(rename = "operatorUserID")]
    pub operator_user_id: String,
    #[serde(rename = "inviterUserID")]
    pub inviter_user_id: String,
    pub mute_end_time: i64,
    pub ex: String,
}

impl From<&GroupMember> for MemberInfo {
    fn from(m: &GroupMember) -> Self {
        MemberInfo {
            group_id: m.group_id.to_string(),
            user_id: m.user_id.to_string(),
            role_level: m.role as i32,
            join_time: secs(m.join_time),
            nickname: m.nickname.clone(),
            face_url: m.face_url.clone(),
            join_source: m.join_source,
            operator_user_id: m.operator_user_id.clone(),
            inviter_user_id: m.inviter_user_id.clone(),
            mute_end_time: secs(m.mute_end_time),
            ex: m.ex.clone(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupRequestInfo {
    #[serde(rename = "groupID")]
    pub group_id: String,
    #[serde(rename = "userID")]
    pub user_id: String,
    #[serde(rename = "fromUserID")]
    pub from_user_id: String,
    pub req_msg: String,
    pub handle_result: i32,
    pub handled_msg: String,
    #[serde(rename = "handleUserID")]
    pub handle_user_id: String,
    pub req_time: i64,
    pub handled_time: i64,
    pub join_source: i32,
    #[serde(rename = "inviterUserID")]
    pub inviter_user_id: String,
    pub ex: String,
}

impl From<&GroupRequest> for GroupRequestInfo {
    fn from(r: &GroupRequest) -> Self {
        GroupRequestInfo {
            group_id: r.group_id.to_string(),
            user_id: r.user_id.to_string(),
            from_user_id: r.user_id.to_string(),
            req_msg: r.req_msg.clone(),
            handle_result: r.handle_result as i32,
            handled_msg: r.handle_msg.clone(),
            handle_user_id: r.handled_user_id.clone(),
            req_time: secs(r.req_time),
            handled_time: secs(r.handled_time),
            join_source: r.join_source,
            inviter_user_id: r.inviter_user_id.clone(),
            ex: r.ex.clone(),
        }
    }
}

/// A per-id outcome, `result` 0 for success and -1 for failure.
#[derive(Serialize)]
pub struct IdResult {
    #[serde(rename = "userID")]
    pub user_id: String,
    pub result: i32,
}

pub fn id_results(results: &[(UserId, bool)]) -> Vec<IdResult> {
    results
        .iter()
        .map(|(id, ok)| IdResult {
            user_id: id.to_string(),
            result: if *ok { 0 } else { -1 },
        })
        .collect()
}
