//! The incremental sync routes (filled in by the version-log work).

use crate::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
}
