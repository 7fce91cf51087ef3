//! friend routes. `fromUserID` is the user acting: a user token may only
//! act for its own user; an admin token for anyone. OpenIM v3's client SDK
//! calls some with its own spellings and reads its own shapes
//! (`wire_v3.rs`); it alone calls the `designated` lookups.

use super::wire::{id_results, user_id, user_ids, FriendRequestInfo, PublicUser, UserInfo};
use super::wire_v3::{friend_requests_v3, friends_v3, Pagination, Spelled, V3Body};
use super::{ApiError, ApiResult, OpenIm, OpenImCaller, Reply};
use crate::AppState;
use axum::extract::State;
use confab_core::{Field, UserId};
use confab_service::Caller;
use serde::{Deserialize, Serialize};
use serde_json::json;

crate::spelled_schema!(GetFriendApplyListBody, OwnerV3Req, OwnerReq);

/// `{fromUserID, toUserID}` and what some routes add to it. The spec's
/// blacklist example spells `ToUserID` and its table `uid`.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::PairReq)]
#[serde(rename_all = "camelCase")]
pub struct PairReq {
    #[serde(rename = "fromUserID")]
    from: String,
    #[serde(rename = "toUserID", alias = "ToUserID", alias = "uid")]
    to: String,
    #[serde(default)]
    req_msg: String,
    handle_result: Option<i32>,
    #[serde(default)]
    handle_msg: String,
    remark: Option<String>,
}

impl PairReq {
    fn ids(&self) -> confab_core::Result<(UserId, UserId)> {
        Ok((
            user_id("fromUserID", &self.from)?,
            user_id("toUserID", &self.to)?,
        ))
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::OwnerReq)]
pub struct OwnerReq {
    #[serde(rename = "fromUserID", alias = "userID")]
    from: String,
}

#[utoipa::path(post, path = "/friend/add_friend", tag = "openim",
    request_body = PairReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn add_friend(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<PairReq>,
) -> ApiResult {
    let (from, to) = req.ids()?;
    s.service
        .add_friend(&caller, &from, &to, &req.req_msg)
        .await?;
    // v3 clients read `data`; v2 clients ignore it.
    Ok(Reply::data(json!({})))
}

/// `handleResult` 1 accepts, -1 refuses. v2 names the one answering
/// `fromUserID` and the applicant `toUserID`; OpenIM v3 (its SDK's
/// `acceptFriendApplication`) the other way round, with the same field
/// names. The service tells them apart by the pending request: its
/// recipient answers it; with none pending, v2's reading holds (and its
/// errors).
#[utoipa::path(post, path = "/friend/add_friend_response", tag = "openim",
    request_body = PairReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn add_friend_response(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<PairReq>,
) -> ApiResult {
    let (first, second) = req.ids()?;
    let accept = match req.handle_result {
        Some(1) => true,
        Some(-1) => false,
        None => return Err(confab_core::Error::invalid("handleResult: missing").into()),
        Some(other) => {
            return Err(confab_core::Error::invalid(format!(
                "handleResult: must be 1 (accept) or -1 (refuse), got {other}"
            ))
            .into())
        }
    };
    s.service
        .answer_friend_request_between(&caller, &first, &second, accept, &req.handle_msg)
        .await?;
    Ok(Reply::data(json!({})))
}

/// v3's lists: `{userID, pagination}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::OwnerV3Req)]
pub struct OwnerV3Req {
    #[serde(rename = "userID")]
    user_id: String,
    pagination: Pagination,
}

impl V3Body for OwnerV3Req {
    const MARKERS: &'static [&'static str] = &["pagination"];
}

/// Which requests a list shows.
enum Side {
    Received,
    Sent,
}

/// A page of a user's requests in v3's shape, under the key OpenIM's
/// answer uses: `FriendRequests` (sic, capitalised in OpenIM's protocol)
/// for those received, `friendRequests` for those sent.
async fn friend_requests_page_v3(
    s: &AppState,
    caller: &Caller,
    req: OwnerV3Req,
    side: Side,
) -> ApiResult {
    let owner = user_id("userID", &req.user_id)?;
    let (key, list) = match side {
        Side::Received => (
            "FriendRequests",
            s.service
                .friend_requests_received_with_profiles(caller, &owner)
                .await?,
        ),
        Side::Sent => (
            "friendRequests",
            s.service
                .friend_requests_sent_with_profiles(caller, &owner)
                .await?,
        ),
    };
    let (total, page) = req.pagination.page(list)?;
    Ok(Reply::data(
        json!({ key: friend_requests_v3(&page), "total": total }),
    ))
}

/// v2 answers the list; v3 (`pagination`) `{FriendRequests, total}`.
#[utoipa::path(post, path = "/friend/get_friend_apply_list", tag = "openim",
    request_body = GetFriendApplyListBody,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn get_friend_apply_list(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    body: Spelled<OwnerV3Req, OwnerReq>,
) -> ApiResult {
    let req = match body {
        Spelled::V2(req) => req,
        Spelled::V3(req) => return friend_requests_page_v3(&s, &caller, req, Side::Received).await,
    };
    let owner = user_id("fromUserID", &req.from)?;
    let list = s.service.friend_requests_received(&caller, &owner).await?;
    Ok(Reply::data(
        list.iter().map(FriendRequestInfo::from).collect::<Vec<_>>(),
    ))
}

/// v2 answers the list; v3 (`pagination`) `{friendRequests, total}`.
#[utoipa::path(post, path = "/friend/get_self_friend_apply_list", tag = "openim",
    request_body = GetFriendApplyListBody,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn get_self_friend_apply_list(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    body: Spelled<OwnerV3Req, OwnerReq>,
) -> ApiResult {
    let req = match body {
        Spelled::V2(req) => req,
        Spelled::V3(req) => return friend_requests_page_v3(&s, &caller, req, Side::Sent).await,
    };
    let owner = user_id("fromUserID", &req.from)?;
    let list = s.service.friend_requests_sent(&caller, &owner).await?;
    Ok(Reply::data(
        list.iter().map(FriendRequestInfo::from).collect::<Vec<_>>(),
    ))
}

pub async fn delete_friend(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<PairReq>,
) -> ApiResult {
    let (owner, friend) = req.ids()?;
    s.service.delete_friend(&caller, &owner, &friend).await?;
    Ok(Reply::ok())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FriendOut {
    #[serde(rename = "ownerUserID")]
    owner_user_id: String,
    remark: String,
    create_time: i64,
    friend_user: UserInfo,
    ex: String,
}

/// v2 answers the list; v3 (`pagination`) `{friendsInfo, total}`, each
/// with its `friendUser`.
#[utoipa::path(post, path = "/friend/get_friend_list", tag = "openim",
    request_body = GetFriendApplyListBody,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn get_friend_list(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    body: Spelled<OwnerV3Req, OwnerReq>,
) -> ApiResult {
    let req = match body {
        Spelled::V2(req) => req,
        Spelled::V3(req) => {
            let owner = user_id("userID", &req.user_id)?;
            let list = s.service.friend_list(&caller, &owner).await?;
            let friends = friends_v3(&list, |u| s.service.is_admin(&u.user_id));
            let (total, page) = req.pagination.page(friends)?;
            return Ok(Reply::data(json!({ "friendsInfo": page, "total": total })));
        }
    };
    let owner = user_id("fromUserID", &req.from)?;
    let list = s.service.friend_list(&caller, &owner).await?;
    let out: Vec<FriendOut> = list
        .iter()
        .filter_map(|f| {
            let user = f.user.as_ref()?;
            Some(FriendOut {
                owner_user_id: f.friend.owner_user_id.to_string(),
                remark: f.friend.remark.clone(),
                create_time: super::wire::secs(f.friend.created_at),
                friend_user: UserInfo::new(user, s.service.is_admin(&user.user_id)),
                ex: f.friend.ex.clone(),
            })
        })
        .collect();
    Ok(Reply::data(out))
}

#[utoipa::path(post, path = "/friend/set_friend_remark", tag = "openim",
    request_body = PairReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn set_friend_remark(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<PairReq>,
) -> ApiResult {
    let (owner, friend) = req.ids()?;
    let remark = req
        .remark
        .ok_or_else(|| confab_core::Error::invalid("remark: missing"))?;
    s.service
        .set_friend_remark(&caller, &owner, &friend, &remark)
        .await?;
    Ok(Reply::ok())
}

pub async fn is_friend(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<PairReq>,
) -> ApiResult {
    let (owner, friend) = req.ids()?;
    let yes = s.service.is_friend(&caller, &owner, &friend).await?;
    Ok(Reply::data(json!({ "isFriend": yes })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::ImportFriendReq)]
pub struct ImportFriendReq {
    #[serde(rename = "fromUserID")]
    from: String,
    #[serde(rename = "friendUserIDList")]
    friends: Vec<String>,
}

#[utoipa::path(post, path = "/friend/import_friend", tag = "openim",
    request_body = ImportFriendReq,
    security(("openim_admin" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn import_friend(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<ImportFriendReq>,
) -> ApiResult {
    let owner = user_id("fromUserID", &req.from)?;
    let friends = user_ids("friendUserIDList", &req.friends)?;
    let results = s.service.import_friends(&caller, &owner, &friends).await?;
    Ok(Reply::data(id_results(&results)))
}

#[utoipa::path(post, path = "/friend/add_blacklist", tag = "openim",
    request_body = PairReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn add_black(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<PairReq>,
) -> ApiResult {
    let (owner, blocked) = req.ids()?;
    s.service.add_black(&caller, &owner, &blocked, "").await?;
    Ok(Reply::ok())
}

#[utoipa::path(post, path = "/friend/remove_blacklist", tag = "openim",
    request_body = PairReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn remove_black(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<PairReq>,
) -> ApiResult {
    let (owner, blocked) = req.ids()?;
    s.service.remove_black(&caller, &owner, &blocked).await?;
    Ok(Reply::ok())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BlackOut {
    #[serde(flatten)]
    user: PublicUser,
    create_time: i64,
}

#[utoipa::path(post, path = "/friend/get_blacklist", tag = "openim",
    request_body = OwnerReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn get_black_list(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<OwnerReq>,
) -> ApiResult {
    let owner = user_id("fromUserID", &req.from)?;
    let list = s.service.black_list(&caller, &owner).await?;
    let out: Vec<BlackOut> = list
        .iter()
        .map(|(b, u)| BlackOut {
            user: PublicUser::new(&b.block_user_id, u.as_ref()),
            create_time: super::wire::secs(b.created_at),
        })
        .collect();
    Ok(Reply::data(out))
}

/// `get_designated_friend_apply`: the requests between two users, both
/// ways (the SDK asks with the pair in either order). One of the two asks.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::DesignatedApplyReq)]
pub struct DesignatedApplyReq {
    #[serde(rename = "fromUserID")]
    from: String,
    #[serde(rename = "toUserID")]
    to: String,
}

#[utoipa::path(post, path = "/friend/get_designated_friend_apply", tag = "openim",
    request_body = DesignatedApplyReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn get_designated_friend_apply(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<DesignatedApplyReq>,
) -> ApiResult {
    let a = user_id("fromUserID", &req.from)?;
    let b = user_id("toUserID", &req.to)?;
    let list = s.service.friend_requests_between(&caller, &a, &b).await?;
    Ok(Reply::data(
        json!({ "friendRequests": friend_requests_v3(&list) }),
    ))
}

/// `get_designated_friends`: the owner's friends among `friendUserIDs`;
/// others are left out.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::DesignatedFriendsReq)]
pub struct DesignatedFriendsReq {
    #[serde(rename = "ownerUserID")]
    owner: String,
    #[serde(rename = "friendUserIDs")]
    friends: Vec<String>,
}

#[utoipa::path(post, path = "/friend/get_designated_friends", tag = "openim",
    request_body = DesignatedFriendsReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn get_designated_friends(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<DesignatedFriendsReq>,
) -> ApiResult {
    let owner = user_id("ownerUserID", &req.owner)?;
    let friends = user_ids("friendUserIDs", &req.friends)?;
    let list = s
        .service
        .designated_friends(&caller, &owner, &friends)
        .await
        .map_err(ApiError::naming(&[(Field::Users, "friendUserIDs")]))?;
    Ok(Reply::data(json!({
        "friendsInfo": friends_v3(&list, |u| s.service.is_admin(&u.user_id)),
    })))
}
