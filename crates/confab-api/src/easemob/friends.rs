//! Contacts and blocks: `addFriends` (`type` post or delete) and
//! `getFriends` (`type` contacts or blocks). The same relations as the
//! OpenIM dialect's: a friendship here is two edges there.

use super::envelope::{AppHx, HxResult, Reply};
use super::users::{entity, user_uuid};
use crate::AppState;
use axum::extract::State;
use confab_core::{Error, UserId};
use serde::Deserialize;
use serde_json::json;

crate::with_app_token!(AddFriendsReqWithToken, AddFriendsReq);
crate::with_app_token!(GetFriendsReqWithToken, GetFriendsReq);

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = easemob::AddFriendsReq)]
pub struct AddFriendsReq {
    owner_username: String,
    friend_username: String,
    #[serde(rename = "type")]
    kind: String,
}

/// `addFriends`: `type` `post` makes the two users friends (no request),
/// `delete` ends it.
#[utoipa::path(post, path = "/hx/addFriends", tag = "easemob",
    request_body = AddFriendsReqWithToken,
    security(("easemob_app" = [])), responses(crate::openapi::HxAnswer))]
pub async fn add_friends(
    State(s): State<AppState>,
    AppHx(caller, req, ctx): AppHx<AddFriendsReq>,
) -> HxResult {
    let owner = UserId::parse("owner_username", &req.owner_username)?;
    let friend = UserId::parse("friend_username", &req.friend_username)?;
    let (action, (owner_user, user)) = match req.kind.as_str() {
        "post" => (
            "post",
            s.service.add_friendship(&caller, &owner, &friend).await?,
        ),
        "delete" => (
            "delete",
            s.service
                .remove_friendship(&caller, &owner, &friend)
                .await?,
        ),
        other => {
            return Err(Error::invalid(format!(
                "type: must be \"post\" (add) or \"delete\", got {other:?}"
            ))
            .into())
        }
    };
    // As Easemob answers: the owner named by their uuid.
    let contacts = format!("/users/{}/contacts", user_uuid(&ctx, &owner_user));
    Ok(Reply::new(&ctx, action, &contacts)
        .with_app(&ctx)
        .with("entities", [entity(&ctx, &user)]))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = easemob::GetFriendsReq)]
pub struct GetFriendsReq {
    owner_username: String,
    #[serde(rename = "type", default = "contacts")]
    kind: String,
}

fn contacts() -> String {
    "contacts".to_owned()
}

/// `getFriends`: the usernames of `owner_username`'s friends (`contacts`)
/// or of those they blocked (`blocks`).
#[utoipa::path(post, path = "/hx/getFriends", tag = "easemob",
    request_body = GetFriendsReqWithToken,
    security(("easemob_app" = [])), responses(crate::openapi::HxAnswer))]
pub async fn get_friends(
    State(s): State<AppState>,
    AppHx(caller, req, ctx): AppHx<GetFriendsReq>,
) -> HxResult {
    let owner = UserId::parse("owner_username", &req.owner_username)?;
    let names: Vec<String> = match req.kind.as_str() {
        "contacts" => s
            .service
            .friend_list(&caller, &owner)
            .await?
            .into_iter()
            .map(|f| f.friend.friend_user_id.into_string())
            .collect(),
        "blocks" => s
            .service
            .black_list(&caller, &owner)
            .await?
            .into_iter()
            .map(|(b, _)| b.block_user_id.into_string())
            .collect(),
        other => {
            return Err(Error::invalid(format!(
                "type: must be \"contacts\" or \"blocks\", got {other:?}"
            ))
            .into())
        }
    };
    Ok(
        Reply::new(&ctx, "get", &format!("/users/{owner}/{}/users", req.kind))
            .with("count", names.len())
            .with("data", names)
            .with("entities", json!([])),
    )
}
