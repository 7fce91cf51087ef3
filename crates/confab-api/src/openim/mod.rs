//! The OpenIM v2 admin API (`spec/openim-v2-admin-api.md`), serving both the
//! v1.0 route and field names the spec uses and OpenIM v2.0's.
//!
//! Every route is a POST with a JSON body; the answer is
//! `{errCode, errMsg, data}` with HTTP 200 (500 only for internal errors),
//! as OpenIM clients read `errCode`. Some v1 routes also put their result in
//! a top-level field (`failedUidList`, `uidList`, `result`,
//! `successResult`); both are sent.

mod client;
mod conversations;
mod extract;
mod friends;
mod friends_v3;
mod group_members_v3;
mod group_requests_v3;
mod groups;
mod groups_v3;
mod messages;
mod users;
mod wire;
mod wire_v3;

use crate::AppState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use confab_core::{Error, ErrorKind, Field};
use serde_json::{json, Map, Value};

pub use extract::{OpenIm, OpenImCaller};

/// OpenIM v2's error codes for each domain error kind (shared with
/// Confab's WebSocket protocol).
pub use confab_wire::err_code;

/// OpenIM's name of each domain field (shared with the `/ws` protocol).
pub use confab_wire::field_name;

/// An error in OpenIM's envelope, with the route's names of fields that
/// differ from `field_name`'s.
pub struct ApiError(pub Error, pub &'static [(Field, &'static str)]);

impl ApiError {
    /// The errors of a route that names `renamed` fields its own way.
    pub fn naming(renamed: &'static [(Field, &'static str)]) -> impl Fn(Error) -> ApiError {
        move |e| ApiError(e, renamed)
    }

    pub(crate) fn message(&self) -> String {
        self.0.client_message_naming(|f| {
            self.1
                .iter()
                .find(|(field, _)| *field == f)
                .map(|(_, name)| *name)
                .unwrap_or_else(|| field_name(f))
        })
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e, &[])
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = &self.0;
        let status = if e.kind() == ErrorKind::Internal {
            tracing::error!(error = %e.log_message(), "openim request failed");
            StatusCode::INTERNAL_SERVER_ERROR
        } else if e.kind() == ErrorKind::TooManyRequests {
            StatusCode::TOO_MANY_REQUESTS
        } else {
            StatusCode::OK
        };
        let body = json!({
            "errCode": err_code(e.kind()),
            "errMsg": self.message(),
            "errDlt": e.kind().code(),
        });
        (status, Json(body)).into_response()
    }
}

/// A successful answer: `data` plus any v1 top-level copies.
pub struct Reply(Map<String, Value>);

impl Reply {
    pub fn ok() -> Reply {
        let mut m = Map::new();
        m.insert("errCode".into(), json!(0));
        m.insert("errMsg".into(), json!(""));
        Reply(m)
    }

    pub fn data(data: impl serde::Serialize) -> Reply {
        Reply::ok().with("data", data)
    }

    pub fn with(mut self, key: &str, value: impl serde::Serialize) -> Reply {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.0.insert(key.to_owned(), value);
        self
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        Json(Value::Object(self.0)).into_response()
    }
}

pub type ApiResult = Result<Reply, ApiError>;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(client::router())
        // auth
        .route("/auth/user_token", post(users::user_token))
        .route("/auth/user_register", post(users::user_register))
        .route("/auth/parse_token", post(users::parse_token))
        .route("/auth/force_logout", post(users::force_logout))
        // users
        .route("/user/update_user_info", post(users::update_user_info))
        .route(
            "/user/update_user_info_ex",
            post(users::update_user_info_ex),
        )
        .route(
            "/user/subscribe_users_status",
            post(users::subscribe_users_status),
        )
        .route("/user/get_users_info", post(users::get_users_info))
        .route("/user/get_user_info", post(users::get_users_info))
        .route("/user/get_self_user_info", post(users::get_self_user_info))
        .route("/user/get_users_online_status", post(users::online_status))
        .route(
            "/manager/get_users_online_status",
            post(users::online_status),
        )
        .route("/manager/delete_user", post(users::delete_user))
        .route("/user/delete_user", post(users::delete_user))
        .route("/manager/get_all_users_uid", post(users::get_all_users_uid))
        .route("/user/get_all_users_uid", post(users::get_all_users_uid))
        .route("/manager/account_check", post(users::account_check))
        .route("/user/account_check", post(users::account_check))
        // friends
        .route("/friend/add_friend", post(friends::add_friend))
        .route(
            "/friend/add_friend_response",
            post(friends::add_friend_response),
        )
        .route(
            "/friend/get_friend_apply_list",
            post(friends::get_friend_apply_list),
        )
        .route(
            "/friend/get_self_friend_apply_list",
            post(friends::get_self_friend_apply_list),
        )
        .route("/friend/delete_friend", post(friends_v3::delete_friend))
        .route("/friend/get_friend_list", post(friends::get_friend_list))
        .route(
            "/friend/get_designated_friend_apply",
            post(friends::get_designated_friend_apply),
        )
        .route(
            "/friend/get_designated_friends",
            post(friends::get_designated_friends),
        )
        .route(
            "/friend/set_friend_remark",
            post(friends::set_friend_remark),
        )
        .route("/friend/is_friend", post(friends_v3::is_friend))
        .route("/friend/update_friends", post(friends_v3::update_friends))
        .route("/friend/import_friend", post(friends::import_friend))
        .route("/friend/add_black", post(friends_v3::add_black))
        .route("/friend/add_blacklist", post(friends::add_black))
        .route("/friend/remove_black", post(friends_v3::remove_black))
        .route("/friend/remove_blacklist", post(friends::remove_black))
        .route("/friend/get_black_list", post(friends_v3::get_black_list))
        .route(
            "/friend/get_specified_blacks",
            post(friends_v3::get_specified_blacks),
        )
        .route("/friend/get_blacklist", post(friends::get_black_list))
        // groups
        .route("/group/create_group", post(groups_v3::create_group))
        .route("/group/set_group_info", post(groups::set_group_info))
        .route(
            "/group/set_group_info_ex",
            post(groups_v3::set_group_info_ex),
        )
        .route("/group/join_group", post(groups::join_group))
        .route("/group/quit_group", post(groups::quit_group))
        .route(
            "/group/group_application_response",
            post(groups::group_application_response),
        )
        .route("/group/transfer_group", post(groups::transfer_group))
        .route(
            "/group/get_recv_group_applicationList",
            post(group_requests_v3::get_recv_group_application_list),
        )
        .route(
            "/group/get_user_req_group_applicationList",
            post(group_requests_v3::get_user_req_group_application_list),
        )
        .route(
            "/group/get_specified_user_group_request_info",
            post(group_requests_v3::get_specified_user_group_request_info),
        )
        .route("/group/get_groups_info", post(groups_v3::get_groups_info))
        .route("/group/kick_group", post(group_members_v3::kick_group))
        .route(
            "/group/get_group_member_list",
            post(groups_v3::get_group_member_list),
        )
        .route(
            "/group/get_group_all_member_list",
            post(groups::get_group_all_member_list),
        )
        .route(
            "/group/get_group_members_info",
            post(groups_v3::get_group_members_info),
        )
        .route(
            "/group/invite_user_to_group",
            post(group_members_v3::invite_user_to_group),
        )
        .route(
            "/group/get_joined_group_list",
            post(groups_v3::get_joined_group_list),
        )
        .route(
            "/group/dismiss_group",
            post(group_members_v3::dismiss_group),
        )
        .route("/group/mute_group_member", post(groups::mute_group_member))
        .route(
            "/group/cancel_mute_group_member",
            post(groups::cancel_mute_group_member),
        )
        .route("/group/mute_group", post(groups::mute_group))
        .route("/group/cancel_mute_group", post(groups::cancel_mute_group))
        .route(
            "/group/set_group_member_nickname",
            post(groups::set_group_member_nickname),
        )
        .route(
            "/group/set_group_member_info",
            post(groups::set_group_member_info),
        )
        // messages
        .route("/manager/send_msg", post(messages::manage_send_msg))
        .route("/msg/manage_send_msg", post(messages::manage_send_msg))
        .route("/manager/batch_send_msg", post(messages::batch_send_msg))
        .route("/msg/batch_send_msg", post(messages::batch_send_msg))
        .route("/msg/send_msg", post(messages::send_msg))
        .route("/msg/newest_seq", post(messages::newest_seq))
        .route("/msg/pull_msg_by_seq", post(messages::pull_msg_by_seq))
        .route("/msg/del_msg", post(messages::del_msg))
        .route("/msg/clear_msg", post(messages::clear_msg))
        // conversations
        .route(
            "/conversation/get_all_conversations",
            post(conversations::get_all_conversations),
        )
        .route(
            "/conversation/get_conversation",
            post(conversations::get_conversation),
        )
        .route(
            "/conversation/get_conversations",
            post(conversations::get_conversations),
        )
        .route(
            "/conversation/set_conversation",
            post(conversations::set_conversation),
        )
        .route(
            "/conversation/batch_set_conversation",
            post(conversations::batch_set_conversation),
        )
        .route(
            "/conversation/set_recv_msg_opt",
            post(conversations::set_recv_msg_opt),
        )
        .route(
            "/conversation/modify_conversation_field",
            post(conversations::modify_conversation_field),
        )
}
