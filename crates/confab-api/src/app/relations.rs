//! `relation/operation` and `relation/followlist`.

use super::envelope::{AppCaller, AppForm, AppResult, Reply};
use crate::AppState;
use axum::extract::State;
use confab_core::{Error, UserId};
use confab_service::{FollowList, FollowOp};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = app::OperationReq)]
pub struct OperationReq {
    /// The user acted on.
    #[serde(default)]
    to_user_id: String,
    /// `follow`, `unfollow`, `block` or `unblock`.
    #[serde(rename = "type", default)]
    kind: String,
}

/// `relation/operation`: follow, unfollow, block or unblock `to_user_id`.
#[utoipa::path(post, path = "/relation/operation", tag = "app",
    request_body(content = OperationReq, content_type = "application/x-www-form-urlencoded"),
    security(("app_session" = [])), responses(crate::openapi::AppAnswer))]
pub async fn operation(
    State(s): State<AppState>,
    AppCaller(caller): AppCaller,
    AppForm(req): AppForm<OperationReq>,
) -> AppResult {
    let op = match req.kind.as_str() {
        "follow" => FollowOp::Follow,
        "unfollow" => FollowOp::Unfollow,
        "block" => FollowOp::Block,
        "unblock" => FollowOp::Unblock,
        other => {
            return Err(Error::invalid(format!(
                "type: must be follow, unfollow, block or unblock, got {other:?}"
            ))
            .into())
        }
    };
    let target = UserId::parse("to_user_id", req.to_user_id.trim())?;
    let owner = caller.user_id.clone();
    s.service
        .follow_operation(&caller, &owner, &target, op)
        .await?;
    Ok(Reply(json!("ok")))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = app::FollowListReq)]
pub struct ListReq {
    /// `follow` (those the caller follows) or `black` (those it blocked).
    #[serde(rename = "type", default)]
    kind: String,
    /// From 1 (default 1).
    page: Option<u32>,
    /// Users per page (default 20).
    size: Option<u32>,
}

/// `relation/followlist`: a page of those the caller follows (`follow`) or
/// blocked (`black`).
#[utoipa::path(post, path = "/relation/followlist", tag = "app",
    request_body(content = ListReq, content_type = "application/x-www-form-urlencoded"),
    security(("app_session" = [])), responses(crate::openapi::AppAnswer))]
pub async fn follow_list(
    State(s): State<AppState>,
    AppCaller(caller): AppCaller,
    AppForm(req): AppForm<ListReq>,
) -> AppResult {
    let list = match req.kind.as_str() {
        "follow" => FollowList::Follows,
        "black" => FollowList::Blocks,
        other => {
            return Err(
                Error::invalid(format!("type: must be follow or black, got {other:?}")).into(),
            )
        }
    };
    let (page, size) = (req.page.unwrap_or(1), req.size.unwrap_or(20));
    let owner = caller.user_id.clone();
    let (users, total) = s
        .service
        .follow_list(&caller, &owner, list, page, size)
        .await?;
    let items: Vec<_> = users
        .iter()
        .map(|u| {
            json!({
                "nickname": u.nickname,
                "avatar": if u.face_url.is_empty() { None } else { Some(&u.face_url) },
                "user_id": u.numeric_id,
            })
        })
        .collect();
    let total_pages = total.div_ceil(size as usize);
    Ok(Reply(json!({
        "page_info": {"page": page, "size": size, "totalPage": total_pages, "totalCount": total},
        "list": items,
    })))
}
