//! Users: the app token, registration, lookup and paging, passwords and
//! login, online status.

use super::envelope::{AppHx, Ctx, Hx, HxError, HxResult, Reply};
use super::{MAX_REGISTER, MAX_USER_PAGE};
use crate::AppState;
use axum::extract::{ConnectInfo, State};
use confab_core::model::{User, UserPatch};
use confab_core::{Error, Field, Platform, UserId};
use confab_service::{AppTokenAsker, NewUser};
use serde::Deserialize;
use serde_json::{json, Value};
use std::net::SocketAddr;

crate::with_app_token!(RegisterReqWithToken, RegisterReq);
crate::with_app_token!(GetUserReqWithToken, GetUserReq);
crate::with_app_token!(ResetPasswordReqWithToken, ResetPasswordReq);
crate::with_app_token!(StatusReqWithToken, StatusReq);

/// A user as Easemob shows it. Its `uuid` is derived from the application,
/// the username and the creation time: stable for the user's life, new if
/// the name is registered again after a deletion.
pub fn entity(ctx: &Ctx, u: &User) -> Value {
    json!({
        "created": u.created_at,
        "modified": u.updated_at,
        "type": "user",
        "uuid": user_uuid(ctx, u),
        "username": u.user_id,
        "activated": true,
    })
}

pub fn user_uuid(ctx: &Ctx, u: &User) -> String {
    let name = format!(
        "{}/{}/{}",
        ctx.settings.application, u.user_id, u.created_at
    );
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, name.as_bytes())
        .hyphenated()
        .to_string()
}

fn username(field: &str, value: &str) -> confab_core::Result<UserId> {
    UserId::parse(field, value)
}

fn required<'a>(field: &str, value: &'a Option<String>) -> confab_core::Result<&'a str> {
    value
        .as_deref()
        .ok_or_else(|| Error::invalid(format!("{field}: missing")))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[schema(as = easemob::TokenReq)]
pub struct TokenReq {
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// `getToken`: an app token, for callers on the trusted networks as the
/// spec's bodiless call; from elsewhere, for the app's client credentials.
#[utoipa::path(post, path = "/hx/getToken", tag = "easemob",
    request_body = inline(TokenReq),
    security(("trusted_network" = []), ("easemob_client" = [])), responses(crate::openapi::HxAnswer))]
pub async fn get_token(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    Hx(req, ctx): Hx<TokenReq>,
) -> HxResult {
    let trusted = s.trusts(&peer, &headers);
    let asker = if trusted {
        AppTokenAsker::Trusted
    } else {
        AppTokenAsker::Credentials {
            client_id: req.client_id.as_deref().unwrap_or(""),
            client_secret: req.client_secret.as_deref().unwrap_or(""),
        }
    };
    let grant = s.service.app_token(asker).await?;
    let expires_in = grant.expires_at - confab_core::now_millis() / 1000;
    Ok(Reply::bare()
        .with("access_token", grant.token)
        .with("application", &ctx.settings.application)
        .with("expires_in", expires_in))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = easemob::NewUserIn)]
pub struct NewUserIn {
    username: String,
    password: String,
    nickname: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = easemob::RegisterReq)]
pub struct RegisterReq {
    username: Option<String>,
    password: Option<String>,
    nickname: Option<String>,
    users: Option<Vec<NewUserIn>>,
}

/// `registerUser`: one user (`username`, `password`) or `users: [...]`, all
/// or none.
#[utoipa::path(post, path = "/hx/registerUser", tag = "easemob",
    request_body = RegisterReqWithToken,
    security(("easemob_app" = [])), responses(crate::openapi::HxAnswer))]
pub async fn register_user(
    State(s): State<AppState>,
    AppHx(caller, req, ctx): AppHx<RegisterReq>,
) -> HxResult {
    let new_user = |i: Option<usize>, name: &str, password: &str, nickname: &Option<String>| {
        let field = match i {
            Some(i) => format!("users[{i}].username"),
            None => "username".to_owned(),
        };
        Ok::<_, Error>(NewUser {
            user_id: username(&field, name)?,
            profile: UserPatch {
                nickname: Some(nickname.clone().unwrap_or_else(|| name.to_owned())),
                ..Default::default()
            },
            password: Some(password.to_owned()),
        })
    };
    let users: Vec<NewUser> = match &req.users {
        Some(list) => {
            if list.is_empty() {
                return Err(Error::invalid("users: must not be empty").into());
            }
            if list.len() > MAX_REGISTER {
                return Err(Error::invalid(format!(
                    "users: at most {MAX_REGISTER} users per request, got {}",
                    list.len()
                ))
                .into());
            }
            list.iter()
                .enumerate()
                .map(|(i, u)| new_user(Some(i), &u.username, &u.password, &u.nickname))
                .collect::<Result<_, _>>()?
        }
        None => vec![new_user(
            None,
            required("username", &req.username)?,
            required("password", &req.password)?,
            &req.nickname,
        )?],
    };
    let created = s.service.register_users_as_admin(&caller, &users).await?;
    let entities: Vec<Value> = created.iter().map(|u| entity(&ctx, u)).collect();
    Ok(Reply::new(&ctx, "post", "/users")
        .with_app(&ctx)
        .with("entities", entities))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = easemob::GetUserReq)]
pub struct GetUserReq {
    username: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// A cursor names the last user of a page (hex of its id), so that the
/// next page starts after it: a walk in id order sees each user once.
fn encode_cursor(id: &UserId) -> String {
    id.as_str().bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_cursor(cursor: &str) -> Option<UserId> {
    if !cursor.len().is_multiple_of(2) || cursor.is_empty() {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(cursor.get(i..i + 2)?, 16).ok())
        .collect();
    let text = String::from_utf8(bytes?).ok()?;
    UserId::parse("cursor", &text).ok()
}

/// `getUser`: one user by `username`, or a page of at most `limit` (≤ 20)
/// users with a `cursor` for the next page while more remain.
#[utoipa::path(post, path = "/hx/getUser", tag = "easemob",
    request_body = GetUserReqWithToken,
    security(("easemob_app" = [])), responses(crate::openapi::HxAnswer))]
pub async fn get_user(
    State(s): State<AppState>,
    AppHx(caller, req, ctx): AppHx<GetUserReq>,
) -> HxResult {
    if let Some(name) = &req.username {
        let id = username("username", name)?;
        let user = s.service.get_user(&id).await?;
        let reply = Reply::new(&ctx, "get", &format!("/users/{id}"))
            .with("path", "/users")
            .with("entities", [entity(&ctx, &user)])
            .with("count", 1)
            .with_msg();
        return Ok(reply);
    }
    let limit = req.limit.unwrap_or(10);
    if !(1..=MAX_USER_PAGE).contains(&limit) {
        return Err(Error::invalid(format!(
            "limit: must be between 1 and {MAX_USER_PAGE}, got {limit}"
        ))
        .into());
    }
    let after = match req.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(
            decode_cursor(c)
                .ok_or_else(|| Error::invalid("cursor: not a cursor this server gave"))?,
        ),
        None => None,
    };
    let (users, next) = s.service.list_users(&caller, after.as_ref(), limit).await?;
    let entities: Vec<Value> = users.iter().map(|u| entity(&ctx, u)).collect();
    let mut reply = Reply::new(&ctx, "get", "/users")
        .with("count", entities.len())
        .with("entities", entities)
        .with("params", json!({"limit": [limit.to_string()]}))
        .with_msg();
    if let Some(next) = next {
        reply = reply.with("cursor", encode_cursor(&next));
    }
    Ok(reply)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = easemob::ResetPasswordReq)]
pub struct ResetPasswordReq {
    username: String,
    newpassword: String,
}

/// `resetPassword`: sets `username`'s password to `newpassword`.
#[utoipa::path(post, path = "/hx/resetPassword", tag = "easemob",
    request_body = ResetPasswordReqWithToken,
    security(("easemob_app" = [])), responses(crate::openapi::HxAnswer))]
pub async fn reset_password(
    State(s): State<AppState>,
    AppHx(caller, req, ctx): AppHx<ResetPasswordReq>,
) -> HxResult {
    let id = username("username", &req.username)?;
    s.service
        .set_password(&caller, &id, &req.newpassword)
        .await
        .map_err(HxError::naming(&[(Field::Password, "newpassword")]))?;
    // The spec's example shows a `data` map of name to result.
    let mut data = serde_json::Map::new();
    data.insert(id.to_string(), json!("success"));
    Ok(
        Reply::new(&ctx, "set user password", &format!("/users/{id}/password"))
            .with_app(&ctx)
            .with("data", data),
    )
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = easemob::UserTokenReq)]
pub struct UserTokenReq {
    username: String,
    password: String,
    /// OpenIM's platform id of the device (default 5, web).
    platform: Option<i64>,
}

/// `userToken` (Confab's addition): a user's token for the WebSocket
/// gateway, for their password.
#[utoipa::path(post, path = "/hx/userToken", tag = "easemob",
    request_body = inline(UserTokenReq),
    security(()), responses(crate::openapi::HxAnswer))]
pub async fn user_token(State(s): State<AppState>, Hx(req, ctx): Hx<UserTokenReq>) -> HxResult {
    let id = username("username", &req.username)?;
    let platform = Platform::parse("platform", req.platform.unwrap_or(Platform::Web as i64))?;
    let (grant, user) = s
        .service
        .password_login(&id, &req.password, platform)
        .await?;
    let expires_in = grant.expires_at - confab_core::now_millis() / 1000;
    Ok(Reply::bare()
        .with("access_token", grant.token)
        .with("expires_in", expires_in)
        .with(
            "user",
            json!({"uuid": user_uuid(&ctx, &user), "username": user.user_id}),
        ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = easemob::StatusReq)]
pub struct StatusReq {
    username: String,
}

/// `getUserStatus`: `online` while a device of the user is connected.
#[utoipa::path(post, path = "/hx/getUserStatus", tag = "easemob",
    request_body = StatusReqWithToken,
    security(("easemob_app" = [])), responses(crate::openapi::HxAnswer))]
pub async fn get_user_status(
    State(s): State<AppState>,
    AppHx(caller, req, ctx): AppHx<StatusReq>,
) -> HxResult {
    let id = username("username", &req.username)?;
    let platforms = s.service.user_online_status(&caller, &id).await?;
    let status = if platforms.is_empty() {
        "offline"
    } else {
        "online"
    };
    let mut data = serde_json::Map::new();
    data.insert(id.to_string(), json!(status));
    Ok(Reply::new(&ctx, "get", &format!("/users/{id}/status"))
        .with("data", data)
        .with("entities", json!([]))
        .with("count", 0))
}
