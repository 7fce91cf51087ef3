//! The WebSocket gateway: `/ws?token=...&platformID=...`.
//!
//! One connection is one session: a reader (this task) that answers the
//! client's frames, and a writer task that drains a bounded queue of frames
//! to the socket. Pushes only ever enqueue; a client whose queue is full is
//! disconnected rather than allowed to grow the server's memory, and a
//! client silent for longer than the heartbeat timeout is closed. The
//! protocol is `docs/protocol.md`.

mod registry;
mod session;

pub use registry::Registry;
pub use session::run_session;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use confab_core::bus::{Deliver, Event, Payload};
use confab_core::protocol::{err_code, KickData, MessageView, ReadData, ServerFrame};
use confab_core::{Error, Platform};
use confab_service::Service;
use serde::Deserialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Gateway settings; the server fills them from its config.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Prefix of session ids, unique per node.
    pub node_id: String,
    /// Frames queued for one client before it counts as too slow.
    pub queue_capacity: usize,
    /// A client silent this long is disconnected (send `ping` to stay).
    pub heartbeat_timeout: Duration,
    /// WebSocket read buffer per connection, in bytes.
    pub read_buffer_bytes: usize,
    /// WebSocket write buffer target per connection, in bytes.
    pub write_buffer_bytes: usize,
    /// Largest frame a client may send, in bytes.
    pub max_frame_bytes: usize,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            node_id: "n1".into(),
            queue_capacity: 1024,
            heartbeat_timeout: Duration::from_secs(60),
            read_buffer_bytes: 4096,
            write_buffer_bytes: 4096,
            max_frame_bytes: 256 * 1024,
        }
    }
}

pub struct Gateway {
    service: Arc<Service>,
    config: GatewayConfig,
    registry: Arc<Registry>,
    next_session: AtomicU64,
}

impl Gateway {
    /// The gateway of this node. `registry` is also the service's presence
    /// (`Service::new`), so the two are created around one registry.
    pub fn new(service: Arc<Service>, registry: Arc<Registry>, config: GatewayConfig) -> Gateway {
        Gateway {
            service,
            config,
            registry,
            next_session: AtomicU64::new(1),
        }
    }

    pub fn service(&self) -> &Arc<Service> {
        &self.service
    }

    pub fn config(&self) -> &GatewayConfig {
        &self.config
    }

    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    pub(crate) fn new_session_id(&self) -> Arc<str> {
        let n = self.next_session.fetch_add(1, Ordering::Relaxed);
        format!("{}-{n}", self.config.node_id).into()
    }
}

/// Serialises a server frame once, to be shared by every recipient.
pub(crate) fn frame<D: serde::Serialize>(
    kind: &str,
    req_id: &str,
    data: Option<D>,
) -> axum::extract::ws::Utf8Bytes {
    let frame = ServerFrame {
        kind: kind.to_owned(),
        req_id: req_id.to_owned(),
        err_code: 0,
        err_msg: String::new(),
        data,
    };
    serde_json::to_string(&frame).unwrap_or_default().into()
}

pub(crate) fn error_frame(req_id: &str, e: &Error) -> axum::extract::ws::Utf8Bytes {
    if e.kind() == confab_core::ErrorKind::Internal {
        tracing::error!(error = %e.log_message(), "gateway request failed");
    }
    let frame: ServerFrame<()> = ServerFrame {
        kind: "error".to_owned(),
        req_id: req_id.to_owned(),
        err_code: err_code(e.kind()),
        err_msg: e.client_message().to_owned(),
        data: None,
    };
    serde_json::to_string(&frame).unwrap_or_default().into()
}

impl Deliver for Gateway {
    fn deliver(&self, event: &Event) {
        match &event.payload {
            Payload::Message(m) => {
                let push = frame("push", "", Some(MessageView::new(m)));
                self.registry
                    .push(&event.recipients, event.origin.as_deref(), &push);
            }
            Payload::Read {
                reader,
                conversation_id,
                seq,
            } => {
                let data = ReadData {
                    user_id: reader.to_string(),
                    conversation_id: conversation_id.clone(),
                    seq: *seq,
                };
                let push = frame("read", "", Some(data));
                self.registry
                    .push(&event.recipients, event.origin.as_deref(), &push);
            }
            Payload::Kick {
                platform,
                reason,
                except_session,
            } => {
                let kick = frame(
                    "kick",
                    "",
                    Some(KickData {
                        reason: reason.clone(),
                    }),
                );
                for user in &event.recipients {
                    self.registry
                        .kick(user, *platform, except_session.as_deref(), &kick);
                }
            }
            // For the service's member cache; no session is told.
            Payload::GroupMembersChanged { .. } => {}
        }
    }
}

#[derive(Deserialize)]
pub struct ConnectParams {
    token: Option<String>,
    #[serde(rename = "platformID")]
    platform_id: Option<i64>,
}

fn reject(status: StatusCode, e: &Error) -> Response {
    let body = serde_json::json!({"errCode": err_code(e.kind()), "errMsg": e.client_message()});
    (status, Json(body)).into_response()
}

/// `GET /ws`: authenticates before upgrading, so a bad token is an HTTP
/// error the client can read.
async fn connect(
    State(gateway): State<Arc<Gateway>>,
    Query(params): Query<ConnectParams>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let token = params
        .token
        .or_else(|| {
            headers
                .get("token")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let caller = match gateway.service.authenticate(&token).await {
        Ok(c) => c,
        Err(e) => return reject(StatusCode::UNAUTHORIZED, &e),
    };
    if let Some(id) = params.platform_id {
        match Platform::from_id(id) {
            Some(p) if p == caller.platform => {}
            Some(_) => {
                return reject(
                    StatusCode::UNAUTHORIZED,
                    &Error::invalid(format!("platformID: {id} is not the platform of the token")),
                )
            }
            None => {
                return reject(
                    StatusCode::BAD_REQUEST,
                    &Error::invalid(format!("platformID: unknown platform {id}")),
                )
            }
        }
    }
    let config = gateway.config.clone();
    ws.read_buffer_size(config.read_buffer_bytes)
        .write_buffer_size(config.write_buffer_bytes)
        .max_message_size(config.max_frame_bytes)
        .max_frame_size(config.max_frame_bytes)
        .on_upgrade(move |socket| async move {
            let (sink, stream) = futures_util::StreamExt::split(socket);
            run_session(gateway, caller, sink, stream).await;
        })
}

/// The gateway's routes.
pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new().route("/ws", get(connect)).with_state(gateway)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
