//! friend routes. `fromUserID` is the user acting: a user token may only
//! act for its own user; an admin token for anyone.

use super::wire::{id_results, user_id, user_ids, FriendRequestInfo, PublicUser, UserInfo};
use super::{ApiResult, OpenIm, OpenImCaller, Reply};
use crate::AppState;
use axum::extract::State;
use confab_core::UserId;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// `{fromUserID, toUserID}` and what some routes add to it. The spec's
/// blacklist example spells `ToUserID` and its table `uid`.
#[derive(Deserialize)]
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

#[derive(Deserialize)]
pub struct OwnerReq {
    #[serde(rename = "fromUserID", alias = "userID")]
    from: String,
}

pub async fn add_friend(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<PairReq>,
) -> ApiResult {
    let (from, to) = req.ids()?;
    s.service
        .add_friend(&caller, &from, &to, &req.req_msg)
        .await?;
    Ok(Reply::ok())
}

/// `fromUserID` answers the request that `toUserID` sent them:
/// `handleResult` 1 accepts, -1 refuses.
pub async fn add_friend_response(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<PairReq>,
) -> ApiResult {
    let (responder, applicant) = req.ids()?;
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
        .answer_friend_request(&caller, &responder, &applicant, accept, &req.handle_msg)
        .await?;
    Ok(Reply::ok())
}

pub async fn get_friend_apply_list(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<OwnerReq>,
) -> ApiResult {
    let owner = user_id("fromUserID", &req.from)?;
    let list = s.service.friend_requests_received(&caller, &owner).await?;
    Ok(Reply::data(
        list.iter().map(FriendRequestInfo::from).collect::<Vec<_>>(),
    ))
}

pub async fn get_self_friend_apply_list(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<OwnerReq>,
) -> ApiResult {
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

pub async fn get_friend_list(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<OwnerReq>,
) -> ApiResult {
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

#[derive(Deserialize)]
pub struct ImportFriendReq {
    #[serde(rename = "fromUserID")]
    from: String,
    #[serde(rename = "friendUserIDList")]
    friends: Vec<String>,
}

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

pub async fn add_black(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<PairReq>,
) -> ApiResult {
    let (owner, blocked) = req.ids()?;
    s.service.add_black(&caller, &owner, &blocked).await?;
    Ok(Reply::ok())
}

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
