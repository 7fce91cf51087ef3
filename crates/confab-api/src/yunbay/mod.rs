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
use axum::routing::{get, post};
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/man/account/token", get(routes::account_token))
        .route("/v1/user/token", get(routes::im_token))
        .route("/man/user/register", post(routes::register))
        .route("/man/user/info/update", post(routes::update_info))
        .route("/man/user/info/update/all", get(routes::update_all))
        .route("/man/user/info", get(routes::info))
        .route("/man/msg/send", post(routes::send))
}
