//! Join requests as OpenIM v3's client SDK reads them: the lists it pages
//! (`pagination` picks v3; any other body gets the v2 handler in
//! `groups.rs` unchanged) and one user's request to one group, v3's alone.
//! Each request comes with the applicant's profile and the group.

use super::groups::{self, UserReq};
use super::wire::{group_id, user_id};
use super::wire_v3::{GroupV3, Pagination, PublicUserV3, Spelled, V3Body};
use super::{ApiResult, OpenIm, OpenImCaller, Reply};
use crate::AppState;
use axum::extract::State;
use confab_service::GroupRequestView;
use serde::{Deserialize, Serialize};
use serde_json::json;

crate::spelled_schema!(GetRecvGroupApplicationListBody, RecvV3Req, UserReq);
crate::spelled_schema!(GetUserReqGroupApplicationListBody, SentV3Req, UserReq);

/// `sdkws.GroupRequest`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupRequestV3 {
    user_info: PublicUserV3,
    group_info: GroupV3,
    handle_result: i32,
    req_msg: String,
    handle_msg: String,
    req_time: i64,
    #[serde(rename = "handleUserID")]
    handle_user_id: String,
    handle_time: i64,
    ex: String,
    join_source: i32,
    #[serde(rename = "inviterUserID")]
    inviter_user_id: String,
}

fn requests_v3(list: &[GroupRequestView]) -> Vec<GroupRequestV3> {
    list.iter()
        .map(|v| {
            let r = &v.request;
            GroupRequestV3 {
                user_info: PublicUserV3::new(&r.user_id, v.user.as_ref()),
                group_info: GroupV3::from(&v.group),
                handle_result: r.handle_result as i32,
                req_msg: r.req_msg.clone(),
                handle_msg: r.handle_msg.clone(),
                req_time: r.req_time,
                handle_user_id: r.handled_user_id.clone(),
                handle_time: r.handled_time,
                ex: r.ex.clone(),
                join_source: r.join_source,
                inviter_user_id: r.inviter_user_id.clone(),
            }
        })
        .collect()
}

fn page_v3(pagination: Pagination, list: Vec<GroupRequestView>) -> ApiResult {
    let (total, page) = pagination.page(list)?;
    Ok(Reply::data(
        json!({ "total": total, "groupRequests": requests_v3(&page) }),
    ))
}

/// `get_recv_group_applicationList`: `{fromUserID, pagination}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::RecvV3Req)]
pub struct RecvV3Req {
    #[serde(rename = "fromUserID")]
    user_id: String,
    pagination: Pagination,
}

impl V3Body for RecvV3Req {
    const MARKERS: &'static [&'static str] = &["pagination"];
}

/// v2 answers the list; v3 `{total, groupRequests}`: the requests to the
/// groups the user owns or administers.
#[utoipa::path(post, path = "/group/get_recv_group_applicationList", tag = "openim",
    request_body = GetRecvGroupApplicationListBody,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn get_recv_group_application_list(
    state: State<AppState>,
    caller: OpenImCaller,
    body: Spelled<RecvV3Req, UserReq>,
) -> ApiResult {
    let req = match body {
        Spelled::V2(req) => {
            return groups::get_recv_group_application_list(state, caller, OpenIm(req)).await
        }
        Spelled::V3(req) => req,
    };
    let (State(s), OpenImCaller(caller)) = (state, caller);
    let user = user_id("fromUserID", &req.user_id)?;
    let list = s
        .service
        .group_requests_received_with_info(&caller, &user)
        .await?;
    page_v3(req.pagination, list)
}

/// `get_user_req_group_applicationList`: `{userID, pagination}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::SentV3Req)]
pub struct SentV3Req {
    #[serde(rename = "userID")]
    user_id: String,
    pagination: Pagination,
}

impl V3Body for SentV3Req {
    const MARKERS: &'static [&'static str] = &["pagination"];
}

/// v2 answers the list; v3 `{total, groupRequests}`: the user's requests.
#[utoipa::path(post, path = "/group/get_user_req_group_applicationList", tag = "openim",
    request_body = GetUserReqGroupApplicationListBody,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn get_user_req_group_application_list(
    state: State<AppState>,
    caller: OpenImCaller,
    body: Spelled<SentV3Req, UserReq>,
) -> ApiResult {
    let req = match body {
        Spelled::V2(req) => {
            return groups::get_user_req_group_application_list(state, caller, OpenIm(req)).await
        }
        Spelled::V3(req) => req,
    };
    let (State(s), OpenImCaller(caller)) = (state, caller);
    let user = user_id("userID", &req.user_id)?;
    let list = s
        .service
        .group_requests_sent_with_info(&caller, &user)
        .await?;
    page_v3(req.pagination, list)
}

/// `get_specified_user_group_request_info`: `{groupID, userID}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::UserGroupReq)]
pub struct UserGroupReq {
    #[serde(rename = "groupID")]
    group_id: String,
    #[serde(rename = "userID")]
    user_id: String,
}

/// The user's request to the group, `{groupRequests, total}` (none or
/// one): the SDK's lookup after joining and after answering. The user and
/// the group's managers may ask.
#[utoipa::path(post, path = "/group/get_specified_user_group_request_info", tag = "openim",
    request_body = UserGroupReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn get_specified_user_group_request_info(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<UserGroupReq>,
) -> ApiResult {
    let group = group_id("groupID", &req.group_id)?;
    let user = user_id("userID", &req.user_id)?;
    let list = s.service.user_group_request(&caller, &group, &user).await?;
    Ok(Reply::data(
        json!({ "groupRequests": requests_v3(&list), "total": list.len() }),
    ))
}
