//! The WebSocket gateway: `/ws?token=...&platformID=...`.
//!
//! One connection is one session: a reader (this task) that answers the
//! client's frames, and a writer task that drains a bounded queue of frames
//! to the socket. Pushes only ever enqueue; a client whose queue is full is
//! disconnected rather than allowed to grow the server's memory, and a
//! client silent for longer than the heartbeat timeout is closed.
//!
//! The session loop is one; each wire protocol is a codec (`codec.rs`).
//! Confab's JSON protocol at `/ws` (`docs/protocol.md`) is `JsonCodec`;
//! the yunbay API's notifications at `/v1/ws` (`docs/yunbay.md`) are
//! `YunbayCodec`.

mod codec;
mod connections;
mod deliveries;
mod drain;
mod handle;
mod json;
mod openim;
mod registry;
mod session;
mod watchers;
mod writer;
mod yunbay;

pub use codec::{Codec, EventEncoder, Frame, Protocol, Reply, Request};
use confab_wire::openim_v3::v3_err_code;
pub use json::JsonCodec;
pub use openim::OpenImCodec;
pub use registry::Registry;
pub use session::{run_session, run_session_with};
pub use yunbay::YunbayCodec;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use confab_core::bus::{Bus, Deliver, Event, Payload};
use confab_core::{Error, Platform};
use confab_service::{Caller, Service};
use confab_wire::err_code;
use registry::SessionHandle;
use serde::Deserialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The session attribute naming its protocol (`json`, `yunbay`), which
/// every session has: a login's kick is for sessions of its protocol.
pub const PROTOCOL: &str = "protocol";

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
    /// Callers on these networks are not limited by address (the app's
    /// servers, a proxy in front that names its clients).
    pub trusted_networks: Vec<ipnet::IpNet>,
    /// Connections open at once, in all and from one untrusted address;
    /// 0 is no cap.
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            node_id: "n1".into(),
            queue_capacity: 1024,
            heartbeat_timeout: Duration::from_secs(60),
            read_buffer_bytes: 2048,
            write_buffer_bytes: 2048,
            max_frame_bytes: 256 * 1024,
            trusted_networks: Vec::new(),
            max_connections: 0,
            max_connections_per_ip: 0,
        }
    }
}

pub struct Gateway {
    service: Arc<Service>,
    /// Where the gateway itself publishes: a login's kick of the user's
    /// sessions on other nodes.
    bus: Arc<dyn Bus>,
    config: GatewayConfig,
    registry: Arc<Registry>,
    next_session: AtomicU64,
    json: Arc<JsonCodec>,
    yunbay: Arc<YunbayCodec>,
    /// Sessions watching other users' presence.
    watchers: watchers::Watchers,
    connections: Arc<connections::Connections>,
    /// The sessions' graceful shutdown.
    drain: drain::Drain,
}

impl Gateway {
    /// The gateway of this node. `registry` is also the service's presence
    /// (`Service::new`), so the two are created around one registry. The
    /// gateway must also be subscribed to `bus`.
    pub fn new(
        service: Arc<Service>,
        registry: Arc<Registry>,
        bus: Arc<dyn Bus>,
        config: GatewayConfig,
    ) -> Gateway {
        Gateway {
            service,
            bus,
            config,
            registry,
            next_session: AtomicU64::new(1),
            json: Arc::new(JsonCodec),
            yunbay: Arc::new(YunbayCodec),
            watchers: watchers::Watchers::default(),
            connections: Arc::default(),
            drain: drain::Drain::default(),
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

    /// Tells every session to drain (the server is stopping, see
    /// `drain.rs`): answer what it read, refuse new sends, then close.
    pub fn begin_drain(&self) {
        self.drain.start();
    }

    /// Waits for the drained sessions to end, at most `within` from the
    /// drain's start; then closes those left and waits for them a moment
    /// more. Returns how many had to be closed.
    pub async fn drained(&self, within: Duration) -> usize {
        self.drain.start();
        let left = self.drain.ended(self.drain.began() + within).await;
        if left > 0 {
            self.registry.close_all();
            let grace = tokio::time::Instant::now() + 2 * session::WRITER_GRACE;
            self.drain.ended(grace).await;
        }
        left
    }

    pub(crate) fn new_session_id(&self) -> Arc<str> {
        let n = self.next_session.fetch_add(1, Ordering::Relaxed);
        format!("{}-{n}", self.config.node_id).into()
    }

    /// Registers a new session; it replaces the user's session of its
    /// protocol on its platform, on whichever node that is. This node's is ended at once,
    /// under the registry's lock; the other nodes end theirs when the kick
    /// reaches them, sparing the new session.
    pub(crate) fn login(&self, caller: &Caller, session: Arc<SessionHandle>) {
        let id = session.id.clone();
        let session_protocol = session.protocol();
        self.registry
            .register(&caller.user_id, session, session::REPLACED);
        let kick = Event {
            recipients: vec![caller.user_id.clone()],
            origin: None,
            payload: Payload::Kick {
                platform: Some(caller.platform),
                reason: session::REPLACED.to_owned(),
                except_session: Some(id),
            },
            // Sessions of other protocols on the platform stay.
            filter: Some(confab_core::presence::SessionFilter(
                [(PROTOCOL.to_owned(), session_protocol.0.to_owned())].into(),
            )),
        };
        if let Err(e) = self.bus.publish(kick) {
            tracing::warn!(error = %e, user = %caller.user_id, "telling other nodes of a login");
        }
        self.presence_changed(&caller.user_id);
    }

    /// Tells the sessions watching `user` on which platforms it is now.
    pub(crate) fn presence_changed(&self, user: &confab_core::UserId) {
        let platforms = self.registry.local_platforms(user);
        self.watchers.changed(user, &platforms);
    }

    /// Whether `session` is one of this node's (`<node_id>-<n>`).
    fn is_local(&self, session: &str) -> bool {
        session
            .strip_prefix(self.config.node_id.as_str())
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|n| n.parse::<u64>().is_ok())
    }
}

impl Deliver for Gateway {
    fn deliver(&self, event: &Event) {
        match &event.payload {
            Payload::Message(_) | Payload::Read { .. } | Payload::ConversationsChanged { .. } => {
                self.registry.push(
                    &event.recipients,
                    event.origin.as_deref(),
                    event.filter.as_ref(),
                    &event.payload,
                );
            }
            // A login here kicked this node's older session when it
            // registered; done again when its event comes back (late, over
            // a network bus), it could end a still newer session.
            Payload::Kick {
                except_session: Some(spared),
                ..
            } if self.is_local(spared) => {}
            Payload::Kick {
                platform,
                reason,
                except_session,
            } => {
                self.registry.kick(
                    &event.recipients,
                    *platform,
                    except_session.as_deref(),
                    event.filter.as_ref(),
                    reason,
                );
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

/// The peer of a connection, when it came over TCP.
fn peer_of(extensions: &axum::http::Extensions) -> Option<std::net::SocketAddr> {
    use axum::extract::ConnectInfo;
    extensions
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0)
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
    extensions: axum::http::Extensions,
    ws: WebSocketUpgrade,
) -> Response {
    let slot = match gateway.admit(peer_of(&extensions), &headers) {
        Ok(slot) => slot,
        Err(e) => return reject(StatusCode::TOO_MANY_REQUESTS, &e),
    };
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
    let codec = gateway.json.clone();
    let attributes = session::platform_attributes(&caller);
    upgrade(gateway, codec, caller, attributes, ws, slot)
}

#[derive(Deserialize)]
pub struct YunbayParams {
    token: Option<String>,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("")
}

/// `GET /v1/ws`: the yunbay API's notification socket. The user token
/// comes in `X-Yf-Token` or the `token` parameter, the platform in
/// `X-Yf-Platform`; a bad token is an HTTP 401 in the API's envelope.
async fn connect_yunbay(
    State(gateway): State<Arc<Gateway>>,
    Query(params): Query<YunbayParams>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    ws: WebSocketUpgrade,
) -> Response {
    let slot = match gateway.admit(peer_of(&extensions), &headers) {
        Ok(slot) => slot,
        Err(e) => return yunbay_refusal(&e),
    };
    let token = match header(&headers, "x-yf-token") {
        "" => params.token.unwrap_or_default(),
        t => t.to_owned(),
    };
    let platform_name = header(&headers, "x-yf-platform");
    let platform = confab_wire::yunbay::platform(platform_name);
    let caller = match gateway
        .service
        .authenticate_user_token(&token, platform)
        .await
    {
        Ok(c) => c,
        Err(e) => return yunbay_refusal(&e),
    };
    // What a broadcast's `filter` is matched against.
    let mut attributes = confab_core::presence::SessionAttributes::new();
    attributes.insert("user_id".into(), caller.user_id.to_string());
    for (name, header_name) in [
        ("platform", "x-yf-platform"),
        ("version", "x-yf-version"),
        ("app_id", "x-yf-appid"),
    ] {
        let value = header(&headers, header_name);
        if !value.is_empty() {
            attributes.insert(name.into(), value.to_owned());
        }
    }
    let codec = gateway.yunbay.clone();
    upgrade(gateway, codec, caller, attributes, ws, slot)
}

/// A refused `/v1/ws` upgrade, in the yunbay API's envelope.
fn yunbay_refusal(e: &Error) -> Response {
    let (reason, status) = confab_wire::yunbay::reason(e.kind());
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::UNAUTHORIZED);
    if status.is_server_error() {
        tracing::error!(error = %e.log_message(), "authenticating a /v1/ws connection");
    }
    let body = confab_wire::yunbay::failure(reason, &e.client_message());
    (status, Json(body)).into_response()
}

/// Upgrades an authenticated connection to a session of `codec`'s
/// protocol, with the configured buffers and frame limit.
fn upgrade<C: Codec>(
    gateway: Arc<Gateway>,
    codec: Arc<C>,
    caller: Caller,
    attributes: confab_core::presence::SessionAttributes,
    ws: WebSocketUpgrade,
    slot: connections::Slot,
) -> Response {
    let config = &gateway.config;
    ws.read_buffer_size(config.read_buffer_bytes)
        .write_buffer_size(config.write_buffer_bytes)
        .max_message_size(config.max_frame_bytes)
        .max_frame_size(config.max_frame_bytes)
        .on_upgrade(move |socket| async move {
            let (sink, stream) = futures_util::StreamExt::split(socket);
            run_session_with(gateway, codec, caller, attributes, sink, stream).await;
            drop(slot);
        })
}

/// The query of an OpenIM v3 SDK's upgrade (`/?sendID=..&token=..`).
#[derive(Deserialize, Default)]
pub struct OpenImParams {
    #[serde(rename = "sendID")]
    send_id: Option<String>,
    token: Option<String>,
    #[serde(rename = "platformID")]
    platform_id: Option<String>,
    #[serde(rename = "isMsgResp")]
    is_msg_resp: Option<String>,
    compression: Option<String>,
    #[serde(rename = "sdkType")]
    sdk_type: Option<String>,
}

/// Why a connection of OpenIM's Go SDK core is refused: it frames the
/// envelope with Go's gob encoding, which Confab does not speak.
const GOB_REFUSED: &str =
    "sdkType=go (gob frames) is not supported; connect with sdkType=js (JSON frames)";

/// An OpenIM v3 SDK's upgrade, at `/` of the main listener or at any path
/// of `openim_gateway_listen`. A refused token is told in the upgrade's
/// first text frame when the client asked for one (`isMsgResp=true`, as
/// browsers cannot read a failed upgrade), else as an HTTP 401.
async fn connect_openim(
    State(gateway): State<Arc<Gateway>>,
    Query(params): Query<OpenImParams>,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
) -> Response {
    let (Some(send_id), Some(token), Ok(ws)) = (params.send_id, params.token, ws) else {
        let body =
            serde_json::json!({"errCode": 404, "errMsg": format!("no such route: {}", uri.path())});
        return (StatusCode::NOT_FOUND, Json(body)).into_response();
    };
    let greet = params.is_msg_resp.as_deref() == Some("true");
    let slot = match gateway.admit(peer_of(&extensions), &headers) {
        Ok(slot) => slot,
        Err(e) => return refuse_openim(ws, greet, e),
    };
    if params.sdk_type.as_deref() == Some("go") {
        return ws.on_upgrade(|mut socket| async move {
            let _ = socket
                .send(axum::extract::ws::Message::Close(Some(
                    axum::extract::ws::CloseFrame {
                        code: 1003,
                        reason: GOB_REFUSED.into(),
                    },
                )))
                .await;
        });
    }
    let caller = match gateway.service.authenticate(&token).await {
        Ok(c) => c,
        Err(e) => return refuse_openim(ws, greet, e),
    };
    if caller.user_id.as_str() != send_id {
        return refuse_openim(
            ws,
            greet,
            Error::new(
                confab_core::ErrorKind::TokenInvalid,
                "sendID: is not the user of the token",
            ),
        );
    }
    if let Some(id) = params.platform_id.as_deref().filter(|p| !p.is_empty()) {
        if id.parse::<i64>().ok() != Some(i64::from(caller.platform.id())) {
            return refuse_openim(
                ws,
                greet,
                Error::new(
                    confab_core::ErrorKind::TokenInvalid,
                    format!("platformID: {id} is not the platform of the token"),
                ),
            );
        }
    }
    let config = &gateway.config;
    let codec = Arc::new(match params.compression.as_deref() {
        Some("gzip") => OpenImCodec::GZIP.with_max_unzipped(config.max_frame_bytes),
        _ => OpenImCodec::PLAIN,
    });
    let attributes = session::platform_attributes(&caller);
    ws.read_buffer_size(config.read_buffer_bytes)
        .write_buffer_size(config.write_buffer_bytes)
        .max_message_size(config.max_frame_bytes)
        .max_frame_size(config.max_frame_bytes)
        .on_upgrade(move |mut socket| async move {
            // Written before the session registers: nothing comes first.
            if greet
                && socket
                    .send(OpenImCodec::greeting(None).into())
                    .await
                    .is_err()
            {
                return;
            }
            let (sink, stream) = futures_util::StreamExt::split(socket);
            run_session_with(gateway, codec, caller, attributes, sink, stream).await;
            drop(slot);
        })
}

/// Refuses an OpenIM upgrade: in its first text frame, then a close,
/// when the client asked for that frame; else as an HTTP 401.
fn refuse_openim(ws: WebSocketUpgrade, greet: bool, e: Error) -> Response {
    if !greet {
        let body = serde_json::json!({"errCode": v3_err_code(e.kind()), "errMsg": e.client_message(), "errDlt": ""});
        let status = if e.kind() == confab_core::ErrorKind::TooManyRequests {
            StatusCode::TOO_MANY_REQUESTS
        } else {
            StatusCode::UNAUTHORIZED
        };
        return (status, Json(body)).into_response();
    }
    let frame = OpenImCodec::greeting(Some(&e));
    ws.on_upgrade(move |mut socket| async move {
        let _ = socket.send(frame.into()).await;
        let close = axum::extract::ws::CloseFrame {
            code: 1008,
            reason: e.client_message().into(),
        };
        let _ = socket
            .send(axum::extract::ws::Message::Close(Some(close)))
            .await;
    })
}

/// The gateway's routes.
pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new()
        .route("/ws", get(connect))
        .route("/v1/ws", get(connect_yunbay))
        .route("/", get(connect_openim))
        .with_state(gateway)
}

/// The routes of `openim_gateway_listen`: OpenIM's gateway, at any path.
pub fn openim_router(gateway: Arc<Gateway>) -> Router {
    Router::new()
        .fallback(get(connect_openim))
        .with_state(gateway)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
