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
use utoipa_axum::{router::OpenApiRouter, routes};

/// `max_upload` bounds an avatar upload's body: a larger one is refused
/// while it is read, never held whole.
pub fn router(max_upload: usize) -> OpenApiRouter<AppState> {
    let (schemas, paths, update_user_info) = routes!(profiles::update_user_info);
    let update_user_info =
        update_user_info.layer(axum::extract::DefaultBodyLimit::max(max_upload + 64 * 1024));
    OpenApiRouter::new()
        .routes((schemas, paths, update_user_info))
        .routes(routes!(profiles::file))
        .routes(routes!(accounts::send_sms))
        .routes(routes!(accounts::sign_in_by_sms))
        .routes(routes!(accounts::get_im_token))
        .routes(routes!(relations::operation))
        .routes(routes!(relations::follow_list))
}
