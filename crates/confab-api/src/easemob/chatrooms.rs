//! Chatrooms: online-only rooms, as Easemob's. Created and deleted here;
//! clients join and leave over the gateway (`join_room`, `leave_room`).

use super::envelope::{AppHx, HxResult, Reply};
use crate::AppState;
use axum::extract::State;
use confab_core::{ChatroomId, Error, UserId};
use confab_service::NewChatroom;
use serde::Deserialize;
use serde_json::json;

crate::with_app_token!(CreateReqWithToken, CreateReq);
crate::with_app_token!(ListReqWithToken, ListReq);
crate::with_app_token!(DeleteReqWithToken, DeleteReq);

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = easemob::CreateChatroomReq)]
pub struct CreateReq {
    name: String,
    #[serde(default)]
    description: String,
    owner: String,
    maxusers: Option<usize>,
}

/// `createChatroom`: `{name, description, owner, maxusers}` → `{id}`.
#[utoipa::path(post, path = "/hx/createChatroom", tag = "easemob",
    request_body = CreateReqWithToken,
    security(("easemob_app" = [])), responses(crate::openapi::HxAnswer))]
pub async fn create_chatroom(
    State(s): State<AppState>,
    AppHx(caller, req, ctx): AppHx<CreateReq>,
) -> HxResult {
    let owner = UserId::parse("owner", &req.owner)?;
    let room = s
        .service
        .create_chatroom(
            &caller,
            NewChatroom {
                room_id: None,
                name: req.name,
                description: req.description,
                owner,
                max_members: req.maxusers,
            },
        )
        .await?;
    Ok(Reply::new(&ctx, "post", "/chatrooms")
        .with_app(&ctx)
        .with("data", json!({"id": room.room_id})))
}

/// `getChatrooms` takes only the token.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = easemob::GetChatroomsReq)]
pub struct ListReq {}

/// `getChatrooms`: every room, with how many members are online.
#[utoipa::path(post, path = "/hx/getChatrooms", tag = "easemob",
    request_body = ListReqWithToken,
    security(("easemob_app" = [])), responses(crate::openapi::HxAnswer))]
pub async fn get_chatrooms(
    State(s): State<AppState>,
    AppHx(caller, _, ctx): AppHx<ListReq>,
) -> HxResult {
    let rooms: Vec<serde_json::Value> = s
        .service
        .list_chatrooms(&caller)
        .await?
        .into_iter()
        .map(|(room, online)| {
            json!({
                "id": room.room_id,
                "name": room.name,
                "description": room.description,
                "owner": room.owner,
                "maxusers": room.max_members,
                "affiliations_count": online,
                "created": room.created_at,
            })
        })
        .collect();
    Ok(Reply::new(&ctx, "get", "/chatrooms")
        .with_app(&ctx)
        .with("count", rooms.len())
        .with("data", rooms))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = easemob::DeleteChatroomReq)]
pub struct DeleteReq {
    id: String,
}

/// `deleteChatroom`: `{id}` → `{success: true, id}`.
#[utoipa::path(post, path = "/hx/deleteChatroom", tag = "easemob",
    request_body = DeleteReqWithToken,
    security(("easemob_app" = [])), responses(crate::openapi::HxAnswer))]
pub async fn delete_chatroom(
    State(s): State<AppState>,
    AppHx(caller, req, ctx): AppHx<DeleteReq>,
) -> HxResult {
    let id = ChatroomId::parse("id", &req.id).map_err(|e| Error::invalid(e.client_message()))?;
    let room = s.service.delete_chatroom(&caller, &id)?;
    Ok(
        Reply::new(&ctx, "delete", &format!("/chatrooms/{}", room.room_id))
            .with_app(&ctx)
            .with("data", json!({"success": true, "id": room.room_id})),
    )
}
