//! The HTTP routes OpenIM's v3 client SDKs call (`docs/openim-client.md`),
//! beside the v2 admin routes of the parent module: the incremental sync
//! of friends, groups, members and conversations (`sync.rs`), the JS SDK's
//! protobuf routes (`jssdk.rs`), and the message and conversation calls a
//! client makes (`messages.rs`). Same envelope as the admin API:
//! `{errCode, errMsg, errDlt, data}`.

mod jssdk;
mod messages;
mod objects;
mod sync;

use crate::AppState;
use utoipa_axum::router::OpenApiRouter;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(sync::router())
        .merge(jssdk::router())
        .merge(messages::router())
        .merge(objects::router())
}
