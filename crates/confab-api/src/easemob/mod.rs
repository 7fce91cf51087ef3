//! The Easemob (环信) REST proxy (`spec/easemob-proxy-api.txt`): `/hx/*`,
//! every route a POST of a JSON body carrying the app token in `token`.
//!
//! Answers are `{code, message, data}`: `code` 200 on success with
//! Easemob's own fields inside `data` (`entities`, `action`, `path`, `uri`,
//! `timestamp`, `duration`, ...); failures carry `code` 400 (bad input), 401
//! (token or credentials), 404 (unknown user or group) or 500 (internal, and
//! only "internal error"), a `message` naming the problem and `data: null`.
//! Like the OpenIM dialect, failures are HTTP 200 (apps read `code`), but
//! internal errors are HTTP 500.

mod chatrooms;
mod envelope;
mod friends;
mod messages;
mod users;

pub use envelope::{code_of, field_name, HxError, HxResult, Reply};

use crate::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The proxy's settings, from the server's config.
#[derive(Clone)]
pub struct EasemobSettings {
    /// `organization` in replies.
    pub org: String,
    /// `applicationName` in replies.
    pub app: String,
    /// `application`: this app's UUID, made once and kept.
    pub application: String,
    /// Most targets of one `sendMessages`.
    pub max_targets: usize,
}

impl std::fmt::Debug for EasemobSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EasemobSettings")
            .field("org", &self.org)
            .field("app", &self.app)
            .field("application", &self.application)
            .field("max_targets", &self.max_targets)
            .finish_non_exhaustive()
    }
}

/// Most users one `registerUser` takes (Easemob's own bound).
pub const MAX_REGISTER: usize = 60;
/// Most users one page of `getUser` returns.
pub const MAX_USER_PAGE: u32 = 20;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(users::get_token))
        .routes(routes!(users::register_user))
        .routes(routes!(users::get_user))
        .routes(routes!(users::reset_password))
        .routes(routes!(users::user_token))
        .routes(routes!(users::get_user_status))
        .routes(routes!(friends::add_friends))
        .routes(routes!(friends::get_friends))
        .routes(routes!(messages::send_messages))
        .routes(routes!(messages::offline_msg_count))
        .routes(routes!(chatrooms::create_chatroom))
        .routes(routes!(chatrooms::get_chatrooms))
        .routes(routes!(chatrooms::delete_chatroom))
}
