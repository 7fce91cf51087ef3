//! The yunbay API's envelope, and how its callers are established: a
//! trusted network for the management routes, the `X-Yf-Sign` signature on
//! the signed ones, the user token `X-Yf-Token` on client routes.

use super::sign::canonical;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, Request};
use axum::http::{request::Parts, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use confab_core::{Error, ErrorKind, Field};
use confab_service::Caller;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::net::SocketAddr;

/// The wire name of a field in this API.
fn field_name(field: Field) -> &'static str {
    match field {
        Field::User => "user_id",
        Field::Users => "user_ids",
        Field::Nickname => "username",
        Field::FaceUrl => "avatar",
        Field::Birth => "birthday",
        Field::Ex => "user_type",
        Field::Content => "data",
        other => other.name(),
    }
}

/// A failure: `{ok: false, reason, err_msg}`, with the status of its
/// reason (`confab_wire::yunbay::reason`) unless the check that failed
/// knows better (a signature).
pub struct YbError {
    error: Error,
    reason: Option<(&'static str, StatusCode)>,
    /// Fields this route names its own way.
    renamed: &'static [(Field, &'static str)],
}

impl YbError {
    fn with_reason(error: Error, reason: &'static str, status: StatusCode) -> YbError {
        YbError {
            error,
            reason: Some((reason, status)),
            renamed: &[],
        }
    }

    /// Names fields as the route does (`to` for a notification's users).
    pub fn naming(renamed: &'static [(Field, &'static str)]) -> impl Fn(Error) -> YbError {
        move |error| YbError {
            error,
            reason: None,
            renamed,
        }
    }
}

impl From<Error> for YbError {
    fn from(error: Error) -> Self {
        YbError {
            error,
            reason: None,
            renamed: &[],
        }
    }
}

impl IntoResponse for YbError {
    fn into_response(self) -> Response {
        let e = self.error;
        let (reason, status) = self.reason.unwrap_or_else(|| {
            let (reason, status) = confab_wire::yunbay::reason(e.kind());
            (
                reason,
                StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
            )
        });
        if e.kind() == ErrorKind::Internal {
            tracing::error!(error = %e.log_message(), "yunbay request failed");
        }
        let renamed = self.renamed;
        let message = e.client_message_naming(|f| {
            renamed
                .iter()
                .find(|(r, _)| *r == f)
                .map(|(_, n)| *n)
                .unwrap_or_else(|| field_name(f))
        });
        (status, Json(confab_wire::yunbay::failure(reason, &message))).into_response()
    }
}

pub type YbResult = Result<Reply, YbError>;

/// A success: `{ok: true, reason: "", data}`.
pub struct Reply(pub Value);

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        Json(json!({"ok": true, "reason": "", "data": self.0})).into_response()
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("")
}

/// The management routes (`/man/*`) serve only the trusted networks.
fn require_trusted(parts: &Parts, state: &AppState) -> Result<(), YbError> {
    let trusted = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|ConnectInfo(peer)| state.trusts(peer, &parts.headers));
    if trusted {
        Ok(())
    } else {
        Err(YbError::with_reason(
            Error::denied("management routes serve only the trusted networks"),
            "ERR_HTTP_FORBIDDEN",
            StatusCode::FORBIDDEN,
        ))
    }
}

/// The app server, on an unsigned management route.
pub struct Trusted(pub Caller);

impl axum::extract::FromRequestParts<AppState> for Trusted {
    type Rejection = YbError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, YbError> {
        require_trusted(parts, state)?;
        Ok(Trusted(state.service.trusted_app_caller()))
    }
}

/// A signed request: the app server on a signed management route, or an
/// app on `/v1/user/token` (which also carries the user's token, and so
/// stands for the user). Holds the body, read whole for its hash.
pub struct Signed {
    pub caller: Caller,
    pub body: Bytes,
}

impl Signed {
    /// The body as `T`; an empty body is `{}`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, YbError> {
        Ok(crate::body::parse_object(&self.body)?)
    }
}

impl FromRequest<AppState> for Signed {
    type Rejection = YbError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, YbError> {
        let (parts, body) = req.into_parts();
        let management = parts.uri.path().starts_with("/man/");
        if management {
            require_trusted(&parts, state)?;
        }
        let body = axum::body::to_bytes(body, crate::MAX_BODY_BYTES)
            .await
            .map_err(|_| {
                Error::invalid(format!(
                    "request body: at most {} bytes",
                    crate::MAX_BODY_BYTES
                ))
            })?;
        super::sign::check_headers(&parts.headers).map_err(Error::invalid)?;
        let form =
            header(&parts.headers, "content-type").starts_with("application/x-www-form-urlencoded");
        let text = canonical(
            parts.uri.path(),
            parts.uri.query(),
            &parts.headers,
            &body,
            form,
        );
        let app_server = state
            .service
            .authenticate_signed(
                header(&parts.headers, "x-yf-appid"),
                &text,
                header(&parts.headers, "x-yf-sign"),
            )
            .map_err(|e| {
                let (reason, header) = if e.kind() == ErrorKind::TokenMalformed {
                    ("ERR_ARGS_INVALID", "X-Yf-AppId")
                } else {
                    ("ERR_SIGN_ERROR", "X-Yf-Sign")
                };
                let message = format!("{header}: {}", e.client_message());
                YbError::with_reason(
                    Error::new(ErrorKind::TokenInvalid, message),
                    reason,
                    StatusCode::UNAUTHORIZED,
                )
            })?;
        let caller = if management {
            app_server
        } else {
            let platform = confab_wire::yunbay::platform(header(&parts.headers, "x-yf-platform"));
            state
                .service
                .authenticate_user_token(header(&parts.headers, "x-yf-token"), platform)
                .await?
        };
        Ok(Signed { caller, body })
    }
}
