//! The app API's envelope, its error codes, its form extractor, and the
//! request id every answer carries.

use crate::fallback::Dialect;
use crate::AppState;
use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use confab_core::{Error, ErrorKind};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

/// The `code` of each error kind (`docs/app.md` publishes the table).
pub fn error_code(kind: ErrorKind) -> i64 {
    match kind {
        ErrorKind::InvalidArgument => 1,
        ErrorKind::FailedPrecondition => 2,
        ErrorKind::NotFound => 4,
        ErrorKind::PermissionDenied => 5,
        ErrorKind::Conflict => 6,
        ErrorKind::TokenMalformed
        | ErrorKind::TokenInvalid
        | ErrorKind::TokenExpired
        | ErrorKind::TokenRevoked => 10,
        ErrorKind::TooManyRequests => 429,
        ErrorKind::Unavailable => 503,
        ErrorKind::Internal => 500,
    }
}

/// A failure in the app API's envelope.
pub struct AppError(pub Error);

impl From<Error> for AppError {
    fn from(e: Error) -> Self {
        AppError(e)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let e = self.0;
        if e.kind() == ErrorKind::Internal {
            tracing::error!(error = %e.log_message(), "app request failed");
        }
        let status = crate::envelope_status(e.kind());
        let body =
            json!({"code": error_code(e.kind()), "message": e.client_message(), "data": null});
        (status, Json(body)).into_response()
    }
}

pub type AppResult = Result<Reply, AppError>;

/// A success: `{code: 0, message: "ok", data}`.
pub struct Reply(pub Value);

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        Json(json!({"code": 0, "message": "ok", "data": self.0})).into_response()
    }
}

/// A form-encoded body; a missing field or a wrong type is code 1.
pub struct AppForm<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for AppForm<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| AppError(Error::invalid(format!("request body: {}", e.body_text()))))?;
        if bytes.windows(3).any(|w| w.eq_ignore_ascii_case(b"%00")) {
            return Err(AppError(Error::invalid(
                "request body: text must not contain a NUL character",
            )));
        }
        serde_urlencoded::from_bytes(&bytes)
            .map(AppForm)
            .map_err(|e| AppError(Error::invalid(format!("request body: {e}"))))
    }
}

/// The caller, from the session token in the `token` header; missing,
/// unknown or signed out is code 10.
pub struct AppCaller(pub confab_service::Caller);

impl axum::extract::FromRequestParts<AppState> for AppCaller {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get("token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        Ok(AppCaller(state.service.authenticate_session(token).await?))
    }
}

/// Largest app API answer the request-id layer rewrites.
const MAX_ANSWER: usize = 1024 * 1024;

/// Gives every answer of the app API its `request-id`: the caller's
/// `x-request-id` when it sends one, else a new one; the same id is in the
/// answer's `x-request-id` header and in the log line of the request.
pub async fn request_id(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if Dialect::of(&path) != Dialect::App {
        return next.run(req).await;
    }
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let method = req.method().clone();
    let response = next.run(req).await;
    let status = response.status();
    tracing::info!(request_id = %id, %method, path = %path, status = status.as_u16(), "app request");
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_ANSWER)
        .await
        .unwrap_or_default();
    let body = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(mut answer)) => {
            answer.insert("request-id".into(), json!(id));
            let text = Value::Object(answer).to_string();
            parts.headers.remove(axum::http::header::CONTENT_LENGTH);
            Body::from(text)
        }
        _ => Body::from(bytes),
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        parts.headers.insert("x-request-id", value);
    }
    Response::from_parts(parts, body)
}
