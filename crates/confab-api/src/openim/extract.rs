//! Extractors whose rejections speak OpenIM's envelope.

use super::ApiError;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use confab_core::Error;
use confab_service::Caller;
use serde::de::DeserializeOwned;

/// A JSON body; a malformed body, a wrong type or a missing field is
/// answered with errCode 803 and a message naming the field.
pub struct OpenIm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for OpenIm<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            ApiError::from(Error::invalid(format!("request body: {}", e.body_text())))
        })?;
        let body: &[u8] = match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            None => b"{}",
            Some(b'{') => &bytes,
            Some(_) => {
                return Err(ApiError::from(Error::invalid(
                    "request body: must be a JSON object",
                )))
            }
        };
        if confab_wire::has_nul_escape(body) {
            return Err(ApiError::from(Error::invalid(
                "request body: text must not contain a NUL character (\\u0000)",
            )));
        }
        let de = &mut serde_json::Deserializer::from_slice(body);
        serde_path_to_error::deserialize(de)
            .map(OpenIm)
            .map_err(|e| ApiError::from(body_error(e)))
    }
}

/// A body that does not fit the route's shape, naming the field at fault
/// (`memberList[0].roleLevel: invalid type ...`).
pub(crate) fn body_error<E: std::fmt::Display>(e: serde_path_to_error::Error<E>) -> Error {
    let path = e.path().to_string();
    let inner = e.into_inner();
    if path == "." || path == "?" {
        Error::invalid(format!("request body: {inner}"))
    } else {
        Error::invalid(format!("{path}: {inner}"))
    }
}

/// The caller, from the `token` header.
pub struct OpenImCaller(pub Caller);

impl FromRequestParts<AppState> for OpenImCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get("token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        Ok(OpenImCaller(state.service.authenticate(token).await?))
    }
}
