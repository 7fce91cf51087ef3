//! The app access API (`spec/app-access-api.md`): `/sms/*`, `/accessuser/*`,
//! `/relation/*`. Form-encoded bodies; answers `{code, message, data,
//! "request-id"}` with `code` 0 and `message` "ok" on success, and a code of
//! `docs/app.md`'s table on failure.

mod accounts;
mod envelope;
mod relations;

pub use envelope::{error_code, request_id, AppCaller, AppError, AppForm, AppResult, Reply};

use crate::AppState;
use axum::routing::post;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sms/send", post(accounts::send_sms))
        .route("/accessuser/signinbysms", post(accounts::sign_in_by_sms))
        .route("/accessuser/getimtoken", post(accounts::get_im_token))
        .route("/relation/operation", post(relations::operation))
        .route("/relation/followlist", post(relations::follow_list))
}
