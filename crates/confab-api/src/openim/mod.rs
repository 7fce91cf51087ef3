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
use axum::response::{IntoResponse, Response};
use axum::Json;
use confab_core::{Error, ErrorKind, Field};
use serde_json::{json, Map, Value};
use utoipa_axum::{router::OpenApiRouter, routes};

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
        if e.kind() == ErrorKind::Internal {
            tracing::error!(error = %e.log_message(), "openim request failed");
        }
        let status = crate::envelope_status(e.kind());
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

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(client::router())
        .routes(routes!(users::user_token))
        .routes(routes!(users::user_register))
        .routes(routes!(users::parse_token))
        .routes(routes!(users::force_logout))
        .routes(routes!(users::update_user_info))
        .routes({
            let (schemas, paths, route) = routes!(users::update_user_info_ex);
            (schemas, paths, route)
        })
        .routes({
            let (schemas, paths, route) = routes!(users::subscribe_users_status);
            (schemas, paths, route)
        })
        .routes(routes!(users::get_users_info))
        .routes(routes!(users::get_user_info))
        .routes(routes!(users::get_self_user_info))
        .routes(routes!(users::online_status))
        .routes({
            let (schemas, paths, route) = routes!(users::manager_online_status);
            (schemas, paths, route)
        })
        .routes(routes!(users::delete_user))
        .routes(routes!(users::user_delete_user))
        .routes(routes!(users::get_all_users_uid))
        .routes(routes!(users::user_get_all_users_uid))
        .routes(routes!(users::account_check))
        .routes(routes!(users::user_account_check))
        .routes(routes!(friends::add_friend))
        .routes({
            let (schemas, paths, route) = routes!(friends::add_friend_response);
            (schemas, paths, route)
        })
        .routes({
            let (schemas, paths, route) = routes!(friends::get_friend_apply_list);
            (schemas, paths, route)
        })
        .routes({
            let (schemas, paths, route) = routes!(friends::get_self_friend_apply_list);
            (schemas, paths, route)
        })
        .routes(routes!(friends_v3::delete_friend))
        .routes(routes!(friends::get_friend_list))
        .routes({
            let (schemas, paths, route) = routes!(friends::get_designated_friend_apply);
            (schemas, paths, route)
        })
        .routes({
            let (schemas, paths, route) = routes!(friends::get_designated_friends);
            (schemas, paths, route)
        })
        .routes({
            let (schemas, paths, route) = routes!(friends::set_friend_remark);
            (schemas, paths, route)
        })
        .routes(routes!(friends_v3::is_friend))
        .routes(routes!(friends_v3::update_friends))
        .routes(routes!(friends::import_friend))
        .routes(routes!(friends_v3::add_black))
        .routes(routes!(friends::add_black))
        .routes(routes!(friends_v3::remove_black))
        .routes(routes!(friends::remove_black))
        .routes(routes!(friends_v3::get_black_list))
        .routes({
            let (schemas, paths, route) = routes!(friends_v3::get_specified_blacks);
            (schemas, paths, route)
        })
        .routes(routes!(friends::get_black_list))
        .routes(routes!(groups_v3::create_group))
        .routes(routes!(groups::set_group_info))
        .routes({
            let (schemas, paths, route) = routes!(groups_v3::set_group_info_ex);
            (schemas, paths, route)
        })
        .routes(routes!(groups::join_group))
        .routes(routes!(groups::quit_group))
        .routes({
            let (schemas, paths, route) = routes!(groups::group_application_response);
            (schemas, paths, route)
        })
        .routes(routes!(groups::transfer_group))
        .routes({
            let (schemas, paths, route) =
                routes!(group_requests_v3::get_recv_group_application_list);
            (schemas, paths, route)
        })
        .routes({
            let (schemas, paths, route) =
                routes!(group_requests_v3::get_user_req_group_application_list);
            (schemas, paths, route)
        })
        .routes({
            let (schemas, paths, route) =
                routes!(group_requests_v3::get_specified_user_group_request_info);
            (schemas, paths, route)
        })
        .routes(routes!(groups_v3::get_groups_info))
        .routes(routes!(group_members_v3::kick_group))
        .routes({
            let (schemas, paths, route) = routes!(groups_v3::get_group_member_list);
            (schemas, paths, route)
        })
        .routes({
            let (schemas, paths, route) = routes!(groups::get_group_all_member_list);
            (schemas, paths, route)
        })
        .routes({
            let (schemas, paths, route) = routes!(groups_v3::get_group_members_info);
            (schemas, paths, route)
        })
        .routes({
            let (schemas, paths, route) = routes!(group_members_v3::invite_user_to_group);
            (schemas, paths, route)
        })
        .routes({
            let (schemas, paths, route) = routes!(groups_v3::get_joined_group_list);
            (schemas, paths, route)
        })
        .routes({
            let (schemas, paths, route) = routes!(group_members_v3::dismiss_group);
            (schemas, paths, route)
        })
        .routes(routes!(groups::mute_group_member))
        .routes({
            let (schemas, paths, route) = routes!(groups::cancel_mute_group_member);
            (schemas, paths, route)
        })
        .routes(routes!(groups::mute_group))
        .routes(routes!(groups::cancel_mute_group))
        .routes({
            let (schemas, paths, route) = routes!(groups::set_group_member_nickname);
            (schemas, paths, route)
        })
        .routes({
            let (schemas, paths, route) = routes!(groups::set_group_member_info);
            (schemas, paths, route)
        })
        .routes(routes!(messages::manage_send_msg))
        .routes(routes!(messages::msg_manage_send_msg))
        .routes(routes!(messages::batch_send_msg))
        .routes(routes!(messages::msg_batch_send_msg))
        .routes(routes!(messages::send_msg))
        .routes(routes!(messages::newest_seq))
        .routes(routes!(messages::pull_msg_by_seq))
        .routes(routes!(messages::del_msg))
        .routes(routes!(messages::clear_msg))
        .routes({
            let (schemas, paths, route) = routes!(conversations::get_all_conversations);
            (schemas, paths, route)
        })
        .routes({
            let (schemas, paths, route) = routes!(conversations::get_conversation);
            (schemas, paths, route)
        })
        .routes({
            let (schemas, paths, route) = routes!(conversations::get_conversations);
            (schemas, paths, route)
        })
        .routes({
            let (schemas, paths, route) = routes!(conversations::set_conversation);
            (schemas, paths, route)
        })
        .routes({
            let (schemas, paths, route) = routes!(conversations::batch_set_conversation);
            (schemas, paths, route)
        })
        .routes({
            let (schemas, paths, route) = routes!(conversations::set_recv_msg_opt);
            (schemas, paths, route)
        })
        .routes({
            let (schemas, paths, route) = routes!(conversations::modify_conversation_field);
            (schemas, paths, route)
        })
}
