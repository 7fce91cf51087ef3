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
        Ok(OpenIm(crate::body::parse_object(&bytes)?))
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
