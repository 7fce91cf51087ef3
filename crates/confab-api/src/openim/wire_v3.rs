//! OpenIM v3's shapes, as its client SDK sends and reads them on routes it
//! shares with the v2 admin API (`wire.rs`) and on its own: times in
//! milliseconds, roles 20/60/100, optional fields that are either a plain
//! value or OpenIM's `{"value": x}` wrapper, `pagination` objects; and
//! `Spelled`, which tells a route's v3 body from its v2 one.

use super::ApiError;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use confab_core::model::{GroupMember, Role, User};
use confab_core::{Error, Result};
use confab_service::{FriendInfo, FriendRequestView, GroupInfo};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// OpenIM v3's `appMangerLevel` (sic) of an app administrator; ordinary
/// users show 0, as users registered without a level do in OpenIM.
const APP_ADMIN: i32 = 2;

/// OpenIM v3's role levels.
pub fn role_level(role: Role) -> i32 {
    match role {
        Role::Member => 20,
        Role::Admin => 60,
        Role::Owner => 100,
    }
}

fn manager_level(is_admin: bool) -> i32 {
    if is_admin {
        APP_ADMIN
    } else {
        0
    }
}

/// A body whose spelling says which OpenIM it follows: v3 (the client
/// SDK's) when it holds one of the v3 shape's `MARKERS`, else v2. A route
/// that serves both answers each in its own shape, since v2 clients read
/// lists where v3 clients read objects, and seconds where v3 reads
/// milliseconds.
pub enum Spelled<V3, V2> {
    V3(V3),
    V2(V2),
}

/// A v3 request shape and the keys only it uses.
pub trait V3Body {
    const MARKERS: &'static [&'static str];
}

impl<V3, V2> FromRequest<AppState> for Spelled<V3, V2>
where
    V3: V3Body + DeserializeOwned,
    V2: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> std::result::Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            ApiError::from(Error::invalid(format!("request body: {}", e.body_text())))
        })?;
        let keys: Map<String, Value> = crate::body::parse_object(&bytes)?;
        // Each shape is read from the bytes, so that a v2 body's errors
        // read exactly as before v3 bodies were accepted.
        if V3::MARKERS.iter().any(|k| keys.contains_key(*k)) {
            Ok(Spelled::V3(crate::body::parse_object(&bytes)?))
        } else {
            Ok(Spelled::V2(crate::body::parse_object(&bytes)?))
        }
    }
}

/// An optional field OpenIM types as a wrapper (`StringValue`,
/// `Int32Value`): the SDK sends the plain value, its typings the
/// `{"value": x}` object; both are taken, and `null` is absent.
pub fn wrapped<'de, D, T>(d: D) -> std::result::Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let value = Value::deserialize(d)?;
    let inner = match value {
        Value::Null => return Ok(None),
        Value::Object(mut m) if m.len() == 1 && m.contains_key("value") => {
            m.remove("value").unwrap_or(Value::Null)
        }
        other => other,
    };
    if inner.is_null() {
        return Ok(None);
    }
    T::deserialize(inner)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// Refuses a setting Confab does not have unless it asks for what Confab
/// does anyway (`default`), so that a client never believes a setting
/// took.
pub fn only_default<T: PartialEq + std::fmt::Debug>(
    field: &str,
    value: Option<T>,
    default: T,
    meaning: &str,
) -> Result<()> {
    match value {
        Some(other) if other != default => Err(Error::invalid(format!(
            "{field}: Confab supports only {default:?} ({meaning}), got {other:?}"
        ))),
        _ => Ok(()),
    }
}

/// `only_default` for the settings whose default is 0.
pub fn only_zero(field: &str, value: Option<i32>, meaning: &str) -> Result<()> {
    only_default(field, value, 0, meaning)
}

/// OpenIM's `pagination`: `pageNumber` from 1, `showNumber` per page.
#[derive(Deserialize, Clone, Copy, utoipa::ToSchema)]
#[schema(as = openim::Pagination)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    #[serde(default)]
    page_number: i64,
    #[serde(default)]
    show_number: i64,
}

/// Most items a page shows.
const MAX_SHOW: i64 = confab_service::MAX_MEMBER_PAGE as i64;

impl Pagination {
    /// The page's offset and size; page numbers below 1 are the first
    /// page, as in OpenIM.
    pub fn window(&self) -> Result<(u32, u32)> {
        if !(1..=MAX_SHOW).contains(&self.show_number) {
            return Err(Error::invalid(format!(
                "pagination.showNumber: must be between 1 and {MAX_SHOW}, got {}",
                self.show_number
            )));
        }
        let page = self.page_number.max(1) - 1;
        let offset = page.saturating_mul(self.show_number);
        Ok((
            u32::try_from(offset).unwrap_or(u32::MAX),
            self.show_number as u32,
        ))
    }

    /// The page of a whole list, and the list's length.
    pub fn page<T>(&self, items: Vec<T>) -> Result<(usize, Vec<T>)> {
        let (offset, size) = self.window()?;
        let total = items.len();
        let page = items
            .into_iter()
            .skip(offset as usize)
            .take(size as usize)
            .collect();
        Ok((total, page))
    }
}

/// `sdkws.UserInfo`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserV3 {
    #[serde(rename = "userID")]
    user_id: String,
    nickname: String,
    #[serde(rename = "faceURL")]
    face_url: String,
    ex: String,
    create_time: i64,
    app_manger_level: i32,
    /// Confab has no global receive option: everything is received (0).
    global_recv_msg_opt: i32,
}

impl UserV3 {
    pub fn new(u: &User, is_admin: bool) -> UserV3 {
        UserV3 {
            user_id: u.user_id.to_string(),
            nickname: u.nickname.clone(),
            face_url: u.face_url.clone(),
            ex: u.ex.clone(),
            create_time: u.created_at,
            app_manger_level: manager_level(is_admin),
            global_recv_msg_opt: 0,
        }
    }
}

/// `sdkws.PublicUserInfo`: a user as blacklists and join requests show
/// them (empty but for the id when the user was deleted).
#[derive(Serialize)]
pub struct PublicUserV3 {
    #[serde(rename = "userID")]
    user_id: String,
    nickname: String,
    #[serde(rename = "faceURL")]
    face_url: String,
    ex: String,
}

impl PublicUserV3 {
    pub fn new(id: &confab_core::UserId, u: Option<&User>) -> PublicUserV3 {
        PublicUserV3 {
            user_id: id.to_string(),
            nickname: u.map(|u| u.nickname.clone()).unwrap_or_default(),
            face_url: u.map(|u| u.face_url.clone()).unwrap_or_default(),
            ex: u.map(|u| u.ex.clone()).unwrap_or_default(),
        }
    }
}

/// `sdkws.GroupInfo`. The settings Confab does not keep show what Confab
/// does: join requests need approval, invitations join directly
/// (`needVerification` 0); members may see each other and add each other
/// (`lookMemberInfo`, `applyMemberFriend` 0).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupV3 {
    #[serde(rename = "groupID")]
    group_id: String,
    group_name: String,
    notification: String,
    introduction: String,
    #[serde(rename = "faceURL")]
    face_url: String,
    #[serde(rename = "ownerUserID")]
    owner_user_id: String,
    create_time: i64,
    member_count: i64,
    ex: String,
    status: i32,
    #[serde(rename = "creatorUserID")]
    creator_user_id: String,
    group_type: i32,
    need_verification: i32,
    look_member_info: i32,
    apply_member_friend: i32,
    notification_update_time: i64,
    #[serde(rename = "notificationUserID")]
    notification_user_id: String,
}

impl From<&GroupInfo> for GroupV3 {
    fn from(info: &GroupInfo) -> Self {
        let g = &info.group;
        GroupV3 {
            group_id: g.group_id.to_string(),
            group_name: g.group_name.clone(),
            notification: g.notification.clone(),
            introduction: g.introduction.clone(),
            face_url: g.face_url.clone(),
            owner_user_id: g.owner_user_id.to_string(),
            create_time: g.created_at,
            member_count: info.member_count,
            ex: g.ex.clone(),
            status: g.status as i32,
            creator_user_id: g.creator_user_id.to_string(),
            group_type: g.group_type,
            need_verification: 0,
            look_member_info: 0,
            apply_member_friend: 0,
            // Confab keeps no record of who set the notification, nor when.
            notification_update_time: 0,
            notification_user_id: String::new(),
        }
    }
}

pub fn groups_v3(groups: &[GroupInfo]) -> Vec<GroupV3> {
    groups.iter().map(GroupV3::from).collect()
}

/// `sdkws.GroupMemberFullInfo`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberV3 {
    #[serde(rename = "groupID")]
    group_id: String,
    #[serde(rename = "userID")]
    user_id: String,
    role_level: i32,
    join_time: i64,
    nickname: String,
    #[serde(rename = "faceURL")]
    face_url: String,
    app_manger_level: i32,
    join_source: i32,
    #[serde(rename = "operatorUserID")]
    operator_user_id: String,
    ex: String,
    mute_end_time: i64,
    #[serde(rename = "inviterUserID")]
    inviter_user_id: String,
}

impl MemberV3 {
    pub fn new(m: &GroupMember, is_admin: bool) -> MemberV3 {
        MemberV3 {
            group_id: m.group_id.to_string(),
            user_id: m.user_id.to_string(),
            role_level: role_level(m.role),
            join_time: m.join_time,
            nickname: m.nickname.clone(),
            face_url: m.face_url.clone(),
            app_manger_level: manager_level(is_admin),
            join_source: m.join_source,
            operator_user_id: m.operator_user_id.clone(),
            ex: m.ex.clone(),
            mute_end_time: m.mute_end_time,
            inviter_user_id: m.inviter_user_id.clone(),
        }
    }
}

/// `sdkws.FriendRequest`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FriendRequestV3 {
    #[serde(rename = "fromUserID")]
    from_user_id: String,
    from_nickname: String,
    #[serde(rename = "fromFaceURL")]
    from_face_url: String,
    #[serde(rename = "toUserID")]
    to_user_id: String,
    to_nickname: String,
    #[serde(rename = "toFaceURL")]
    to_face_url: String,
    handle_result: i32,
    req_msg: String,
    create_time: i64,
    #[serde(rename = "handlerUserID")]
    handler_user_id: String,
    handle_msg: String,
    handle_time: i64,
    ex: String,
}

impl From<&FriendRequestView> for FriendRequestV3 {
    fn from(v: &FriendRequestView) -> Self {
        let r = &v.request;
        let answered = r.handle_result != confab_core::model::HandleResult::Pending;
        FriendRequestV3 {
            from_user_id: r.from_user_id.to_string(),
            from_nickname: v
                .from
                .as_ref()
                .map(|u| u.nickname.clone())
                .unwrap_or_default(),
            from_face_url: v
                .from
                .as_ref()
                .map(|u| u.face_url.clone())
                .unwrap_or_default(),
            to_user_id: r.to_user_id.to_string(),
            to_nickname: v
                .to
                .as_ref()
                .map(|u| u.nickname.clone())
                .unwrap_or_default(),
            to_face_url: v
                .to
                .as_ref()
                .map(|u| u.face_url.clone())
                .unwrap_or_default(),
            handle_result: r.handle_result as i32,
            req_msg: r.req_msg.clone(),
            create_time: r.created_at,
            // Only the recipient answers a request.
            handler_user_id: if answered {
                r.to_user_id.to_string()
            } else {
                String::new()
            },
            handle_msg: r.handle_msg.clone(),
            handle_time: r.handled_at,
            ex: r.ex.clone(),
        }
    }
}

pub fn friend_requests_v3(list: &[FriendRequestView]) -> Vec<FriendRequestV3> {
    list.iter().map(FriendRequestV3::from).collect()
}

/// `sdkws.FriendInfo`. Confab records neither how a friendship was made
/// nor pins: `addSource` 0, `operatorUserID` empty, `isPinned` false.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FriendV3 {
    #[serde(rename = "ownerUserID")]
    owner_user_id: String,
    remark: String,
    create_time: i64,
    add_source: i32,
    #[serde(rename = "operatorUserID")]
    operator_user_id: String,
    ex: String,
    is_pinned: bool,
    friend_user: UserV3,
}

/// The friends whose user still exists (the SDK needs `friendUser` on
/// every one), in v3's shape.
pub fn friends_v3(list: &[FriendInfo], is_admin: impl Fn(&User) -> bool) -> Vec<FriendV3> {
    list.iter()
        .filter_map(|f| {
            let user = f.user.as_ref()?;
            Some(FriendV3 {
                owner_user_id: f.friend.owner_user_id.to_string(),
                remark: f.friend.remark.clone(),
                create_time: f.friend.created_at,
                add_source: 0,
                operator_user_id: String::new(),
                ex: f.friend.ex.clone(),
                is_pinned: false,
                friend_user: UserV3::new(user, is_admin(user)),
            })
        })
        .collect()
}
