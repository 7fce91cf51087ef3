//! The app access API (`spec/app-access-api.md`): `/sms/*`, `/accessuser/*`,
//! `/relation/*`. Form-encoded bodies; answers `{code, message, data,
//! "request-id"}` with `code` 0 and `message` "ok" on success, and a code of
//! `docs/app.md`'s table on failure.

mod accounts;
mod envelope;
mod profiles;
mod relations;

pub use envelope::{error_code, request_id, AppCaller, AppError, AppForm, AppResult, Reply};

use crate::AppState;
use axum::routing::{get, post};
use axum::Router;

/// `max_upload` bounds an avatar upload's body: a larger one is refused
/// while it is read, never held whole.
pub fn router(max_upload: usize) -> Router<AppState> {
    Router::new()
        .route(
            "/accessuser/updateuserinfo",
            post(profiles::update_user_info)
                .layer(axum::extract::DefaultBodyLimit::max(max_upload + 64 * 1024)),
        )
        .route("/files/{kind}/{name}", get(profiles::file))
        .route("/sms/send", post(accounts::send_sms))
        .route("/accessuser/signinbysms", post(accounts::sign_in_by_sms))
        .route("/accessuser/getimtoken", post(accounts::get_im_token))
        .route("/relation/operation", post(relations::operation))
        .route("/relation/followlist", post(relations::follow_list))
}
