//! auth, user and manager routes, with OpenIM v3's spellings where its
//! client SDK calls them (`wire_v3.rs`).

use super::wire::{string_or_number, user_id, user_ids, UserInfo};
use super::wire_v3::{only_zero, wrapped, Spelled, UserV3, V3Body};
use super::{ApiError, ApiResult, OpenIm, OpenImCaller, Reply};
use crate::AppState;
use axum::extract::State;
use confab_core::model::UserPatch;
use confab_core::{Field, Platform};
use confab_service::{Caller, NewUser};
use serde::{Deserialize, Serialize};
use serde_json::json;

crate::spelled_schema!(GetUsersInfoBody, UsersV3Req, UsersReq);

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::UserTokenReq)]
pub struct UserTokenReq {
    secret: String,
    platform: i64,
    #[serde(rename = "userID")]
    user_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenOut {
    #[serde(rename = "userID")]
    user_id: String,
    token: String,
    expired_time: i64,
}

#[utoipa::path(post, path = "/auth/user_token", tag = "openim",
    request_body = UserTokenReq,
    security(("openim_secret" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn user_token(State(s): State<AppState>, OpenIm(req): OpenIm<UserTokenReq>) -> ApiResult {
    let user = user_id("userID", &req.user_id)?;
    let platform = Platform::parse("platform", req.platform)?;
    let grant = s.service.user_token(&req.secret, &user, platform).await?;
    Ok(Reply::data(TokenOut {
        user_id: grant.user_id.to_string(),
        token: grant.token,
        expired_time: grant.expires_at,
    }))
}

/// A user id with profile fields under both spellings: v2 (`nickname`,
/// `faceURL`, `phoneNumber`) and the spec's v1 (`uid`, `name`, `icon`,
/// `mobile`). `user_register` also carries `secret` and `platform`.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::UserProfileReq)]
pub struct UserProfileReq {
    #[serde(rename = "userID", alias = "uid")]
    user_id: String,
    secret: Option<String>,
    platform: Option<i64>,
    #[serde(alias = "name")]
    nickname: Option<String>,
    #[serde(rename = "faceURL", alias = "icon")]
    face_url: Option<String>,
    gender: Option<i32>,
    #[serde(rename = "phoneNumber", alias = "mobile")]
    phone_number: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    #[schema(schema_with = crate::openapi::string_or_integer)]
    birth: Option<String>,
    email: Option<String>,
    ex: Option<String>,
}

impl UserProfileReq {
    fn patch(&self) -> UserPatch {
        UserPatch {
            nickname: self.nickname.clone(),
            face_url: self.face_url.clone(),
            gender: self.gender,
            phone_number: self.phone_number.clone(),
            birth: self.birth.clone(),
            email: self.email.clone(),
            ex: self.ex.clone(),
        }
    }
}

fn required<T: Clone>(field: &str, value: &Option<T>) -> confab_core::Result<T> {
    value
        .clone()
        .ok_or_else(|| confab_core::Error::invalid(format!("{field}: missing")))
}

#[utoipa::path(post, path = "/auth/user_register", tag = "openim",
    request_body = UserProfileReq,
    security(("openim_secret" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn user_register(
    State(s): State<AppState>,
    OpenIm(req): OpenIm<UserProfileReq>,
) -> ApiResult {
    let secret = required("secret", &req.secret)?;
    let platform = Platform::parse("platform", required("platform", &req.platform)?)?;
    let user = NewUser {
        user_id: user_id("userID", &req.user_id)?,
        profile: req.patch(),
        password: None,
    };
    let grant = s
        .service
        .register_user_with_token(&secret, user, platform)
        .await?;
    Ok(Reply::data(TokenOut {
        user_id: grant.user_id.to_string(),
        token: grant.token,
        expired_time: grant.expires_at,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::ParseTokenReq)]
pub struct ParseTokenReq {
    #[serde(default)]
    token: Option<String>,
}

/// Checks the token of the `token` header (or of the body's `token`).
#[utoipa::path(post, path = "/auth/parse_token", tag = "openim",
    request_body = ParseTokenReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn parse_token(
    State(s): State<AppState>,
    headers: axum::http::HeaderMap,
    OpenIm(req): OpenIm<ParseTokenReq>,
) -> ApiResult {
    let token = headers
        .get("token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or(req.token)
        .unwrap_or_default();
    let info = s.service.parse_token(&token).await?;
    Ok(Reply::data(json!({
        "userID": info.user_id.to_string(),
        "platform": info.platform.name(),
        "platformID": info.platform.id(),
        "expireTimeSeconds": info.expires_at,
    })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::ForceLogoutReq)]
pub struct ForceLogoutReq {
    #[serde(default)]
    platform: Option<i64>,
    #[serde(rename = "fromUserID", alias = "userID")]
    user_id: String,
}

/// Revokes a user's token on one platform, or on all when `platform` is
/// absent or 0.
#[utoipa::path(post, path = "/auth/force_logout", tag = "openim",
    request_body = ForceLogoutReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn force_logout(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<ForceLogoutReq>,
) -> ApiResult {
    let user = user_id("fromUserID", &req.user_id)?;
    let platform = match req.platform {
        None | Some(0) => None,
        Some(p) => Some(Platform::parse("platform", p)?),
    };
    s.service.force_logout(&caller, &user, platform).await?;
    Ok(Reply::ok())
}

#[utoipa::path(post, path = "/user/update_user_info", tag = "openim",
    request_body = UserProfileReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn update_user_info(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<UserProfileReq>,
) -> ApiResult {
    let user = user_id("userID", &req.user_id)?;
    let patch = req.patch();
    if patch.is_empty() {
        return Err(confab_core::Error::invalid("no field to update: give at least one of nickname, faceURL, gender, phoneNumber, birth, email, ex").into());
    }
    s.service.update_user(&caller, &user, &patch).await?;
    Ok(Reply::ok())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::UsersReq)]
pub struct UsersReq {
    #[serde(rename = "userIDList", alias = "uidList")]
    user_ids: Vec<String>,
}

/// Most users `get_users_info` returns at once.
const MAX_USERS_INFO: usize = 1000;

/// OpenIM v3's spelling (its client SDK's).
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::UsersV3Req)]
pub struct UsersV3Req {
    #[serde(rename = "userIDs")]
    user_ids: Vec<String>,
}

impl V3Body for UsersV3Req {
    const MARKERS: &'static [&'static str] = &["userIDs"];
}

/// v2's `userIDList` answers the list of v2 users; v3's `userIDs` answers
/// `{usersInfo}` in v3's shape. Any token reads anyone's profile: a client
/// looks its peer up before the first message.
#[utoipa::path(post, path = "/user/get_users_info", tag = "openim",
    request_body = GetUsersInfoBody,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn get_users_info(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    body: Spelled<UsersV3Req, UsersReq>,
) -> ApiResult {
    let req = match body {
        Spelled::V2(req) => req,
        Spelled::V3(req) => return get_users_info_v3(&s, &caller, req).await,
    };
    let ids = user_ids("userIDList", &req.user_ids)?;
    let users = s.service.get_users(&caller, &ids, MAX_USERS_INFO).await?;
    let out: Vec<UserInfo> = users
        .iter()
        .map(|u| UserInfo::new(u, s.service.is_admin(&u.user_id)))
        .collect();
    Ok(Reply::data(out))
}

async fn get_users_info_v3(s: &AppState, caller: &Caller, req: UsersV3Req) -> ApiResult {
    let naming = ApiError::naming(&[(Field::Users, "userIDs")]);
    let ids = user_ids("userIDs", &req.user_ids)?;
    let users = s
        .service
        .get_users(caller, &ids, MAX_USERS_INFO)
        .await
        .map_err(naming)?;
    let out: Vec<UserV3> = users
        .iter()
        .map(|u| UserV3::new(u, s.service.is_admin(&u.user_id)))
        .collect();
    Ok(Reply::data(json!({ "usersInfo": out })))
}

/// `update_user_info_ex`: `{userInfo: {userID, nickname?, faceURL?, ex?,
/// globalRecvMsgOpt?}}`, each optional plain or `{value}`-wrapped.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::UpdateUserInfoExReq)]
pub struct UpdateUserInfoExReq {
    #[serde(rename = "userInfo")]
    user_info: UserInfoEx,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::UserInfoEx)]
#[serde(rename_all = "camelCase")]
pub struct UserInfoEx {
    #[serde(rename = "userID")]
    user_id: String,
    #[serde(default, deserialize_with = "wrapped")]
    #[schema(schema_with = crate::openapi::wrapped_string)]
    nickname: Option<String>,
    #[serde(rename = "faceURL", default, deserialize_with = "wrapped")]
    #[schema(schema_with = crate::openapi::wrapped_string)]
    face_url: Option<String>,
    #[serde(default, deserialize_with = "wrapped")]
    #[schema(schema_with = crate::openapi::wrapped_string)]
    ex: Option<String>,
    #[serde(default, deserialize_with = "wrapped")]
    #[schema(schema_with = crate::openapi::wrapped_i32)]
    global_recv_msg_opt: Option<i32>,
}

/// Users update their own profile (admins anyone's), as with
/// `update_user_info`.
#[utoipa::path(post, path = "/user/update_user_info_ex", tag = "openim",
    request_body = UpdateUserInfoExReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn update_user_info_ex(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<UpdateUserInfoExReq>,
) -> ApiResult {
    let info = req.user_info;
    let user = user_id("userInfo.userID", &info.user_id)?;
    only_zero(
        "userInfo.globalRecvMsgOpt",
        info.global_recv_msg_opt,
        "receive every message",
    )?;
    let patch = UserPatch {
        nickname: info.nickname,
        face_url: info.face_url,
        ex: info.ex,
        ..UserPatch::default()
    };
    if patch.is_empty() {
        return Err(confab_core::Error::invalid(
            "userInfo: no field to update: give at least one of nickname, faceURL, ex",
        )
        .into());
    }
    s.service
        .update_user(&caller, &user, &patch)
        .await
        .map_err(ApiError::naming(PROFILE_V3))?;
    Ok(Reply::data(json!({})))
}

/// Where v3 nests a profile's fields.
const PROFILE_V3: &[(Field, &str)] = &[
    (Field::Nickname, "userInfo.nickname"),
    (Field::FaceUrl, "userInfo.faceURL"),
    (Field::Ex, "userInfo.ex"),
];

/// OpenIM's `genre` of `subscribe_users_status`.
const SUBSCRIBE: i32 = 1;
const UNSUBSCRIBE: i32 = 2;

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::SubscribeStatusReq)]
pub struct SubscribeStatusReq {
    #[serde(rename = "userID")]
    user_id: String,
    #[serde(rename = "userIDs")]
    user_ids: Vec<String>,
    genre: i32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusV3 {
    #[serde(rename = "userID")]
    user_id: String,
    status: i32,
    #[serde(rename = "platformIDs")]
    platform_ids: Vec<i32>,
}

/// Subscriptions live on the WebSocket, where pushes go: the SDK
/// subscribes there. This route keeps no subscription; subscribing
/// answers the users' status now, unsubscribing answers an empty list.
#[utoipa::path(post, path = "/user/subscribe_users_status", tag = "openim",
    request_body = SubscribeStatusReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn subscribe_users_status(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<SubscribeStatusReq>,
) -> ApiResult {
    let user = user_id("userID", &req.user_id)?;
    caller.require_acts_for(&user)?;
    let ids = user_ids("userIDs", &req.user_ids)?;
    let status_list: Vec<StatusV3> = match req.genre {
        SUBSCRIBE => s
            .service
            .users_online_status(&caller, &ids)
            .await
            .map_err(ApiError::naming(&[(Field::Users, "userIDs")]))?
            .into_iter()
            .map(|(id, platforms)| StatusV3 {
                user_id: id.to_string(),
                status: i32::from(!platforms.is_empty()),
                platform_ids: platforms.iter().map(|p| p.id()).collect(),
            })
            .collect(),
        UNSUBSCRIBE => Vec::new(),
        other => {
            return Err(confab_core::Error::invalid(format!(
                "genre: must be 1 (subscribe) or 2 (unsubscribe), got {other}"
            ))
            .into())
        }
    };
    Ok(Reply::data(json!({ "statusList": status_list })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::SelfUserReq)]
pub struct SelfUserReq {
    #[serde(rename = "userID", default)]
    user_id: Option<String>,
}

#[utoipa::path(post, path = "/user/get_self_user_info", tag = "openim",
    request_body = SelfUserReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn get_self_user_info(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<SelfUserReq>,
) -> ApiResult {
    let user = match req.user_id {
        Some(id) => user_id("userID", &id)?,
        None => caller.user_id.clone(),
    };
    caller.require_acts_for(&user)?;
    let u = s.service.get_user(&user).await?;
    Ok(Reply::data(UserInfo::new(
        &u,
        s.service.is_admin(&u.user_id),
    )))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::OnlineStatusReq)]
pub struct OnlineStatusReq {
    #[serde(rename = "userIDList")]
    user_ids: Vec<String>,
}

#[derive(Serialize)]
struct PlatformStatus {
    platform: &'static str,
    status: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OnlineStatus {
    #[serde(rename = "userID")]
    user_id: String,
    status: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    detail_platform_status: Vec<PlatformStatus>,
}

#[utoipa::path(post, path = "/user/get_users_online_status", tag = "openim",
    request_body = OnlineStatusReq,
    security(("openim_admin" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn online_status(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<OnlineStatusReq>,
) -> ApiResult {
    s.service.authorize_online_status(&caller)?;
    let ids = user_ids("userIDList", &req.user_ids)?;
    let out: Vec<OnlineStatus> = s
        .service
        .online_status(&caller, &ids)
        .await?
        .into_iter()
        .map(|(id, platforms)| OnlineStatus {
            user_id: id.to_string(),
            status: if platforms.is_empty() {
                "offline"
            } else {
                "online"
            },
            detail_platform_status: platforms
                .iter()
                .map(|p| PlatformStatus {
                    platform: p.name(),
                    status: "online",
                })
                .collect(),
        })
        .collect();
    Ok(Reply::data(&out).with("successResult", &out))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::DeleteUserReq)]
pub struct DeleteUserReq {
    #[serde(rename = "deleteUserIDList", alias = "deleteUidList")]
    user_ids: Vec<String>,
}

#[utoipa::path(post, path = "/manager/delete_user", tag = "openim",
    request_body = DeleteUserReq,
    security(("openim_admin" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn delete_user(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<DeleteUserReq>,
) -> ApiResult {
    let ids = user_ids("deleteUserIDList", &req.user_ids)?;
    let failed: Vec<String> = s
        .service
        .delete_users(&caller, &ids)
        .await?
        .into_iter()
        .map(|u| u.to_string())
        .collect();
    Ok(Reply::data(&failed).with("failedUidList", &failed))
}

#[utoipa::path(post, path = "/manager/get_all_users_uid", tag = "openim",
    security(("openim_admin" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn get_all_users_uid(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
) -> ApiResult {
    let ids: Vec<String> = s
        .service
        .all_user_ids(&caller)
        .await?
        .into_iter()
        .map(|u| u.to_string())
        .collect();
    Ok(Reply::data(&ids).with("uidList", &ids))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::AccountCheckReq)]
pub struct AccountCheckReq {
    #[serde(rename = "checkUserIDList", alias = "userIDList")]
    user_ids: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccountStatusOut {
    #[serde(rename = "userID")]
    user_id: String,
    account_status: &'static str,
}

#[utoipa::path(post, path = "/manager/account_check", tag = "openim",
    request_body = AccountCheckReq,
    security(("openim_admin" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn account_check(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<AccountCheckReq>,
) -> ApiResult {
    let ids = user_ids("checkUserIDList", &req.user_ids)?;
    let out: Vec<AccountStatusOut> = s
        .service
        .account_check(&caller, &ids)
        .await?
        .into_iter()
        .map(|a| AccountStatusOut {
            user_id: a.user_id.to_string(),
            account_status: if a.registered {
                "registered"
            } else {
                "unregistered"
            },
        })
        .collect();
    Ok(Reply::data(&out).with("result", &out))
}

/// `/user/get_user_info`: `get_users_info` under its other name.
#[utoipa::path(post, path = "/user/get_user_info", tag = "openim",
    request_body = GetUsersInfoBody,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn get_user_info(
    state: State<AppState>,
    caller: OpenImCaller,
    body: Spelled<UsersV3Req, UsersReq>,
) -> ApiResult {
    get_users_info(state, caller, body).await
}

/// `/manager/get_users_online_status`: `online_status` under its other name.
#[utoipa::path(post, path = "/manager/get_users_online_status", tag = "openim",
    request_body = OnlineStatusReq,
    security(("openim_admin" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn manager_online_status(
    state: State<AppState>,
    caller: OpenImCaller,
    body: OpenIm<OnlineStatusReq>,
) -> ApiResult {
    online_status(state, caller, body).await
}

/// `/user/delete_user`: `delete_user` under its other name.
#[utoipa::path(post, path = "/user/delete_user", tag = "openim",
    request_body = DeleteUserReq,
    security(("openim_admin" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn user_delete_user(
    state: State<AppState>,
    caller: OpenImCaller,
    body: OpenIm<DeleteUserReq>,
) -> ApiResult {
    delete_user(state, caller, body).await
}

/// `/user/get_all_users_uid`: `get_all_users_uid` under its other name.
#[utoipa::path(post, path = "/user/get_all_users_uid", tag = "openim",
    security(("openim_admin" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn user_get_all_users_uid(state: State<AppState>, caller: OpenImCaller) -> ApiResult {
    get_all_users_uid(state, caller).await
}

/// `/user/account_check`: `account_check` under its other name.
#[utoipa::path(post, path = "/user/account_check", tag = "openim",
    request_body = AccountCheckReq,
    security(("openim_admin" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn user_account_check(
    state: State<AppState>,
    caller: OpenImCaller,
    body: OpenIm<AccountCheckReq>,
) -> ApiResult {
    account_check(state, caller, body).await
}
