//! `sms/send` and `accessuser/signinbysms`.

use super::envelope::{AppForm, AppResult, Reply};
use crate::AppState;
use axum::extract::{ConnectInfo, State};
use serde::Deserialize;
use serde_json::json;
use std::net::SocketAddr;

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = app::SendSmsReq)]
pub struct SendSmsReq {
    #[serde(default)]
    nation_code: String,
    #[serde(default)]
    phone: String,
}

/// `sms/send`: a sign-in code to `phone`, within the limits.
#[utoipa::path(post, path = "/sms/send", tag = "app",
    request_body(content = SendSmsReq, content_type = "application/x-www-form-urlencoded"),
    security(()), responses(crate::openapi::AppAnswer))]
pub async fn send_sms(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    AppForm(req): AppForm<SendSmsReq>,
) -> AppResult {
    let ip = peer.ip().to_canonical().to_string();
    s.service
        .send_sms_code(&req.nation_code, &req.phone, &ip)
        .await?;
    Ok(Reply(json!("ok")))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = app::SignInReq)]
pub struct SignInReq {
    #[serde(default)]
    nation_code: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    check_code: String,
    #[serde(default)]
    device: String,
    #[serde(default)]
    device_id: String,
}

/// `accessuser/signinbysms`: signs in with the code; the first time makes
/// the user.
#[utoipa::path(post, path = "/accessuser/signinbysms", tag = "app",
    request_body(content = SignInReq, content_type = "application/x-www-form-urlencoded"),
    security(()), responses(crate::openapi::AppAnswer))]
pub async fn sign_in_by_sms(
    State(s): State<AppState>,
    AppForm(req): AppForm<SignInReq>,
) -> AppResult {
    let signed = s
        .service
        .sign_in_by_sms(
            &req.nation_code,
            &req.phone,
            &req.check_code,
            &req.device,
            &req.device_id,
        )
        .await?;
    let user = &signed.user;
    Ok(Reply(json!({
        "nickname": user.nickname,
        "avatar": if user.face_url.is_empty() { None } else { Some(&user.face_url) },
        "user_id": user.numeric_id,
        "token": signed.token,
        "im_token": signed.im_token.token,
        "is_first_login": if signed.first_login { 1 } else { 0 },
    })))
}

/// The form of `accessuser/getimtoken`, read as its pairs (`members`
/// may repeat).
#[derive(utoipa::ToSchema)]
#[schema(as = app::ImTokenForm)]
#[allow(dead_code)]
struct ImTokenForm {
    /// The action to sign.
    act: String,
    /// The users it concerns, as `members` or `members[]`, repeated.
    members: Option<Vec<String>>,
}

/// `accessuser/getimtoken` (needs `token`): `act` and `members[]` (or one
/// `members`), signed for the caller: the IM checks it before acting.
#[utoipa::path(post, path = "/accessuser/getimtoken", tag = "app",
    request_body(content = ImTokenForm, content_type = "application/x-www-form-urlencoded"),
    security(("app_session" = [])), responses(crate::openapi::AppAnswer))]
pub async fn get_im_token(
    State(s): State<AppState>,
    super::envelope::AppCaller(caller): super::envelope::AppCaller,
    AppForm(pairs): AppForm<Vec<(String, String)>>,
) -> AppResult {
    let mut act = None;
    let mut members = Vec::new();
    for (key, value) in pairs {
        match key.as_str() {
            "act" => act = Some(value),
            "members" | "members[]" => members.push(value),
            _ => {}
        }
    }
    let act = act.ok_or_else(|| confab_core::Error::invalid("act: missing"))?;
    let signature = s.service.sign_action(&caller, &act, &members)?;
    Ok(Reply(json!(signature)))
}
