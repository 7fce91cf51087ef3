//! `accessuser/updateuserinfo` (multipart: `avatar` file, `nickname`) and
//! the files it stores, served back at `/files/...`.

use super::envelope::{AppCaller, AppError, AppResult, Reply};
use crate::AppState;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::PathRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use confab_core::Error;
use serde_json::json;

/// The multipart form of `updateuserinfo`, read field by field.
#[derive(utoipa::ToSchema)]
#[schema(as = app::UpdateUserInfoForm)]
#[allow(dead_code)]
struct UpdateUserInfoForm {
    /// The new nickname.
    nickname: Option<String>,
    /// The new avatar: a PNG, JPEG, WebP or GIF image, at most
    /// `avatar_max_bytes`.
    #[schema(value_type = Option<String>, format = Binary)]
    avatar: Option<Vec<u8>>,
}

/// `updateuserinfo`: a new avatar and/or nickname for the caller.
#[utoipa::path(post, path = "/accessuser/updateuserinfo", tag = "app",
    request_body(content = UpdateUserInfoForm, content_type = "multipart/form-data"),
    security(("app_session" = [])), responses(crate::openapi::AppAnswer))]
pub async fn update_user_info(
    State(s): State<AppState>,
    AppCaller(caller): AppCaller,
    form: Result<Multipart, MultipartRejection>,
) -> AppResult {
    // Not multipart, or no boundary: in the envelope (axum's answer is
    // plain text).
    let mut form =
        form.map_err(|e| AppError(Error::invalid(format!("request body: {}", e.body_text()))))?;
    let max = s.service.avatar_max_bytes();
    let too_big = || AppError(Error::invalid(format!("avatar: at most {max} bytes")));
    let mut nickname = None;
    let mut avatar = None;
    while let Some(field) = form.next_field().await.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            too_big()
        } else {
            AppError(Error::invalid(format!("request body: {}", e.body_text())))
        }
    })? {
        match field.name() {
            Some("nickname") => {
                nickname = Some(field.text().await.map_err(|e| {
                    AppError(Error::invalid(format!("nickname: {}", e.body_text())))
                })?)
            }
            Some("avatar") => {
                let bytes = field.bytes().await.map_err(|e| {
                    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                        too_big()
                    } else {
                        AppError(Error::invalid(format!("avatar: {}", e.body_text())))
                    }
                })?;
                if bytes.len() > max {
                    return Err(too_big());
                }
                avatar = Some(bytes);
            }
            _ => {}
        }
    }
    let user = s
        .service
        .update_own_profile(&caller, nickname.as_deref(), avatar)
        .await?;
    Ok(Reply(json!({
        "nickname": user.nickname,
        "avatar": if user.face_url.is_empty() { None } else { Some(&user.face_url) },
        "user_id": user.user_id,
    })))
}

/// `GET /files/{kind}/{name}`: a stored file with its content type.
#[utoipa::path(get, path = "/files/{kind}/{name}", tag = "app",
    params(
        ("kind" = String, Path, description = "The file's kind: `avatars`, `objects`"),
        ("name" = String, Path, description = "The file's name"),
    ),
    security(()), responses(crate::openapi::FileAnswer))]
pub async fn file(
    State(s): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, AppError> {
    // A name that is not UTF-8 names no file.
    let Ok(Path((kind, name))) = path else {
        let missing = Error::not_found("no such file");
        return Ok((axum::http::StatusCode::NOT_FOUND, AppError(missing)).into_response());
    };
    let (bytes, content_type) = match s.service.file(&format!("{kind}/{name}")).await {
        Ok(found) => found,
        // A file, not an API answer: a missing one is HTTP 404.
        Err(e) if e.kind() == confab_core::ErrorKind::NotFound => {
            return Ok((axum::http::StatusCode::NOT_FOUND, AppError(e)).into_response())
        }
        Err(e) => return Err(AppError(e)),
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        bytes,
    )
        .into_response())
}
