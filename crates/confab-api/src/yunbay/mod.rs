//! The yunbay IM API (`spec/yunbay-im-api.md`, `spec/yunbay-notes.md`):
//! the app server's management routes under `/man/` (trusted networks
//! only; most of them signed with `X-Yf-Sign`) and the app's
//! `/v1/user/token`. Answers `{ok, reason, data}`. The notification socket
//! `/v1/ws` is the gateway's.

mod envelope;
mod routes;
mod sign;

pub use envelope::{Reply, YbError, YbResult};
pub use sign::canonical;

use crate::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::account_token))
        .routes(routes!(routes::im_token))
        .routes(routes!(routes::register))
        .routes(routes!(routes::update_info))
        .routes(routes!(routes::update_all))
        .routes(routes!(routes::info))
        .routes(routes!(routes::send))
}
