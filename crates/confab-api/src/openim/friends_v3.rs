//! Friend and blacklist routes as OpenIM v3's client SDK calls them. Those
//! it shares with the v2 admin API take both spellings (`Spelled`): a v2
//! body goes to the v2 handler in `friends.rs` unchanged and gets its v2
//! answer; a v3 body gets v3's shape (`wire_v3.rs`). `get_specified_blacks`
//! and `update_friends` are v3's alone.

use super::friends::{self, OwnerReq, PairReq};
use super::wire::{user_id, user_ids};
use super::wire_v3::{only_default, wrapped, Pagination, PublicUserV3, Spelled, V3Body};
use super::{ApiError, ApiResult, OpenIm, OpenImCaller, Reply};
use crate::AppState;
use axum::extract::State;
use confab_core::model::{Black, User};
use confab_core::{Error, Field};
use serde::{Deserialize, Serialize};
use serde_json::json;

crate::spelled_schema!(DeleteFriendBody, OwnerFriendReq, PairReq);
crate::spelled_schema!(IsFriendBody, UserPairReq, PairReq);
crate::spelled_schema!(AddBlackBody, BlackReq, PairReq);
crate::spelled_schema!(GetBlackListBody, BlacksPageReq, OwnerReq);

/// `delete_friend`: `{ownerUserID, friendUserID}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::OwnerFriendReq)]
pub struct OwnerFriendReq {
    #[serde(rename = "ownerUserID")]
    owner: String,
    #[serde(rename = "friendUserID")]
    friend: String,
}

impl V3Body for OwnerFriendReq {
    const MARKERS: &'static [&'static str] = &["ownerUserID", "friendUserID"];
}

/// v2 (`fromUserID`, `toUserID`) answers as before; v3 `{}`.
#[utoipa::path(post, path = "/friend/delete_friend", tag = "openim",
    request_body = DeleteFriendBody,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn delete_friend(
    state: State<AppState>,
    caller: OpenImCaller,
    body: Spelled<OwnerFriendReq, PairReq>,
) -> ApiResult {
    let req = match body {
        Spelled::V2(req) => return friends::delete_friend(state, caller, OpenIm(req)).await,
        Spelled::V3(req) => req,
    };
    let (State(s), OpenImCaller(caller)) = (state, caller);
    let owner = user_id("ownerUserID", &req.owner)?;
    let friend = user_id("friendUserID", &req.friend)?;
    s.service.delete_friend(&caller, &owner, &friend).await?;
    Ok(Reply::data(json!({})))
}

/// `is_friend`: `{userID1, userID2}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::UserPairReq)]
pub struct UserPairReq {
    #[serde(rename = "userID1")]
    user1: String,
    #[serde(rename = "userID2")]
    user2: String,
}

impl V3Body for UserPairReq {
    const MARKERS: &'static [&'static str] = &["userID1", "userID2"];
}

/// v2 answers `{isFriend}`; v3 `{inUser1Friends, inUser2Friends}`: whether
/// `userID2` is in `userID1`'s friend list, and the reverse (OpenIM's
/// `IsFriend`). Either user may ask.
#[utoipa::path(post, path = "/friend/is_friend", tag = "openim",
    request_body = IsFriendBody,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn is_friend(
    state: State<AppState>,
    caller: OpenImCaller,
    body: Spelled<UserPairReq, PairReq>,
) -> ApiResult {
    let req = match body {
        Spelled::V2(req) => return friends::is_friend(state, caller, OpenIm(req)).await,
        Spelled::V3(req) => req,
    };
    let (State(s), OpenImCaller(caller)) = (state, caller);
    let a = user_id("userID1", &req.user1)?;
    let b = user_id("userID2", &req.user2)?;
    let (in1, in2) = s.service.friendship_between(&caller, &a, &b).await?;
    Ok(Reply::data(
        json!({ "inUser1Friends": in1, "inUser2Friends": in2 }),
    ))
}

/// `add_black` and `remove_black`: `{ownerUserID, blackUserID, ex}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::BlackReq)]
pub struct BlackReq {
    #[serde(rename = "ownerUserID")]
    owner: String,
    #[serde(rename = "blackUserID")]
    black: String,
    #[serde(default)]
    ex: String,
}

impl V3Body for BlackReq {
    const MARKERS: &'static [&'static str] = &["ownerUserID", "blackUserID"];
}

const BLACK_NAMES: &[(Field, &str)] = &[(Field::OtherUser, "blackUserID")];

/// v2 answers as before; v3 `{}`, the entry keeping `ex`.
#[utoipa::path(post, path = "/friend/add_black", tag = "openim",
    request_body = AddBlackBody,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn add_black(
    state: State<AppState>,
    caller: OpenImCaller,
    body: Spelled<BlackReq, PairReq>,
) -> ApiResult {
    let req = match body {
        Spelled::V2(req) => return friends::add_black(state, caller, OpenIm(req)).await,
        Spelled::V3(req) => req,
    };
    let (State(s), OpenImCaller(caller)) = (state, caller);
    let owner = user_id("ownerUserID", &req.owner)?;
    let black = user_id("blackUserID", &req.black)?;
    s.service
        .add_black(&caller, &owner, &black, &req.ex)
        .await
        .map_err(ApiError::naming(BLACK_NAMES))?;
    Ok(Reply::data(json!({})))
}

/// v2 answers as before; v3 `{}`.
#[utoipa::path(post, path = "/friend/remove_black", tag = "openim",
    request_body = AddBlackBody,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn remove_black(
    state: State<AppState>,
    caller: OpenImCaller,
    body: Spelled<BlackReq, PairReq>,
) -> ApiResult {
    let req = match body {
        Spelled::V2(req) => return friends::remove_black(state, caller, OpenIm(req)).await,
        Spelled::V3(req) => req,
    };
    let (State(s), OpenImCaller(caller)) = (state, caller);
    let owner = user_id("ownerUserID", &req.owner)?;
    let black = user_id("blackUserID", &req.black)?;
    s.service.remove_black(&caller, &owner, &black).await?;
    Ok(Reply::data(json!({})))
}

/// `sdkws.BlackInfo`. Confab records neither how nor by whom a block was
/// made: `addSource` 0, `operatorUserID` empty.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BlackV3 {
    #[serde(rename = "ownerUserID")]
    owner_user_id: String,
    create_time: i64,
    black_user_info: PublicUserV3,
    add_source: i32,
    #[serde(rename = "operatorUserID")]
    operator_user_id: String,
    ex: String,
}

fn blacks_v3(list: &[(Black, Option<User>)]) -> Vec<BlackV3> {
    list.iter()
        .map(|(b, u)| BlackV3 {
            owner_user_id: b.owner_user_id.to_string(),
            create_time: b.created_at,
            black_user_info: PublicUserV3::new(&b.block_user_id, u.as_ref()),
            add_source: 0,
            operator_user_id: String::new(),
            ex: b.ex.clone(),
        })
        .collect()
}

/// `get_black_list`: `{userID, pagination}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::BlacksPageReq)]
pub struct BlacksPageReq {
    #[serde(rename = "userID")]
    user_id: String,
    pagination: Pagination,
}

impl V3Body for BlacksPageReq {
    const MARKERS: &'static [&'static str] = &["pagination"];
}

/// v2 answers the list; v3 (`pagination`) `{blacks, total}`.
#[utoipa::path(post, path = "/friend/get_black_list", tag = "openim",
    request_body = GetBlackListBody,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn get_black_list(
    state: State<AppState>,
    caller: OpenImCaller,
    body: Spelled<BlacksPageReq, OwnerReq>,
) -> ApiResult {
    let req = match body {
        Spelled::V2(req) => return friends::get_black_list(state, caller, OpenIm(req)).await,
        Spelled::V3(req) => req,
    };
    let (State(s), OpenImCaller(caller)) = (state, caller);
    let owner = user_id("userID", &req.user_id)?;
    let list = s.service.black_list(&caller, &owner).await?;
    let (total, page) = req.pagination.page(list)?;
    Ok(Reply::data(
        json!({ "blacks": blacks_v3(&page), "total": total }),
    ))
}

/// `get_specified_blacks`: `{ownerUserID, userIDList}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::SpecifiedBlacksReq)]
pub struct SpecifiedBlacksReq {
    #[serde(rename = "ownerUserID")]
    owner: String,
    #[serde(rename = "userIDList")]
    user_ids: Vec<String>,
}

/// The owner's entries among `userIDList`, `{blacks, total}`; users not
/// blocked are left out.
#[utoipa::path(post, path = "/friend/get_specified_blacks", tag = "openim",
    request_body = SpecifiedBlacksReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn get_specified_blacks(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<SpecifiedBlacksReq>,
) -> ApiResult {
    let owner = user_id("ownerUserID", &req.owner)?;
    let ids = user_ids("userIDList", &req.user_ids)?;
    let list = s.service.specified_blacks(&caller, &owner, &ids).await?;
    Ok(Reply::data(
        json!({ "blacks": blacks_v3(&list), "total": list.len() }),
    ))
}

/// `update_friends`: each optional field plain or `{value}`-wrapped.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::UpdateFriendsReq)]
#[serde(rename_all = "camelCase")]
pub struct UpdateFriendsReq {
    #[serde(rename = "ownerUserID")]
    owner: String,
    #[serde(rename = "friendUserIDs")]
    friends: Vec<String>,
    #[serde(default, deserialize_with = "wrapped")]
    #[schema(schema_with = crate::openapi::wrapped_string)]
    remark: Option<String>,
    #[serde(default, deserialize_with = "wrapped")]
    #[schema(schema_with = crate::openapi::wrapped_bool)]
    is_pinned: Option<bool>,
    #[serde(default, deserialize_with = "wrapped")]
    #[schema(schema_with = crate::openapi::wrapped_string)]
    ex: Option<String>,
}

/// Sets the remark of each friend (as `set_friend_remark`); Confab keeps
/// no pins and no ex of a friendship, so only their defaults are taken.
#[utoipa::path(post, path = "/friend/update_friends", tag = "openim",
    request_body = UpdateFriendsReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
pub async fn update_friends(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<UpdateFriendsReq>,
) -> ApiResult {
    let owner = user_id("ownerUserID", &req.owner)?;
    let friends = user_ids("friendUserIDs", &req.friends)?;
    if req.remark.is_none() && req.is_pinned.is_none() && req.ex.is_none() {
        return Err(Error::invalid(
            "no field to update: give at least one of remark, isPinned, ex",
        )
        .into());
    }
    only_default("isPinned", req.is_pinned, false, "friends are not pinned")?;
    only_default("ex", req.ex.as_deref(), "", "friendships keep no ex")?;
    s.service
        .update_friends(&caller, &owner, &friends, req.remark.as_deref())
        .await
        .map_err(ApiError::naming(&[(Field::Users, "friendUserIDs")]))?;
    Ok(Reply::data(json!({})))
}
