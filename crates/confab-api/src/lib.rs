//! Confab's HTTP dialects. Each module translates one API's wire shapes to
//! service calls and back, and maps domain errors to its own envelope. No
//! dialect touches storage.

pub mod fallback;
pub mod openim;

use axum::Router;
use confab_service::Service;
use std::sync::Arc;

/// Shared state of every route.
#[derive(Clone)]
pub struct AppState {
    pub service: Arc<Service>,
}

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// All dialects on one router: their paths do not collide.
pub fn router(service: Arc<Service>) -> Router {
    let state = AppState { service };
    openim::router()
        .fallback(fallback::no_route)
        .layer(axum::middleware::from_fn(fallback::method_envelope))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
