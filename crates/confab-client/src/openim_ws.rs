//! OpenIM v3's client gateway protocol, as its JS SDK speaks it at `/`:
//! a greeting text frame after the upgrade, then binary frames of JSON
//! envelopes whose `data` is the base64 of a protobuf message. Answers are
//! matched to requests by `msgIncr`, so several may be in flight; pushes
//! (2001) are unpacked into one item per message. Text frames are the
//! application heartbeat (`{"type":"ping"}` / `{"type":"pong"}`).
//!
//! Nothing the server sends makes this client panic: a frame it cannot
//! read is skipped, an answer it cannot decode is the request's error.

use crate::ClientError;
use confab_openim_pb::openim::sdkws::{MsgData, PushMessages, UserSendMsgResp};
use confab_openim_pb::Message as _;
use futures_util::stream::{SplitSink, StreamExt};
use futures_util::SinkExt;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The request identifiers this client uses (OpenIM's `reqIdentifier`).
pub mod ident {
    pub const SEND: i32 = 1003;
    pub const PUSH: i32 = 2001;
    pub const KICK: i32 = 2002;
}

/// A client's request: `data` is the base64 of the protobuf request.
/// Deserialize too, so that the bench's relay reads what this client
/// writes with the same type.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestFrame {
    pub req_identifier: i32,
    #[serde(default)]
    pub msg_incr: String,
    #[serde(default, rename = "sendID")]
    pub send_id: String,
    #[serde(default, rename = "operationID")]
    pub operation_id: String,
    #[serde(default)]
    pub data: String,
}

/// A server frame: an answer (its request's `msgIncr` and `operationID`)
/// or a push (empty `msgIncr`). `data` is absent or empty on errors.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseFrame {
    pub req_identifier: i32,
    #[serde(default)]
    pub msg_incr: String,
    #[serde(default, rename = "operationID")]
    pub operation_id: String,
    #[serde(default)]
    pub err_code: i64,
    #[serde(default)]
    pub err_msg: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub data: String,
}

/// Go's `[]byte(nil)` is `null` in JSON.
fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// The text frame after the upgrade (`isMsgResp=true`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Greeting {
    #[serde(default)]
    err_code: i64,
    #[serde(default)]
    err_msg: String,
}

#[derive(Deserialize)]
struct TextFrame {
    #[serde(rename = "type")]
    kind: String,
}

pub const PING: &str = r#"{"type":"ping"}"#;
pub const PONG: &str = r#"{"type":"pong"}"#;

/// The envelope's `data` both ways (the gateway's own functions).
pub use confab_wire::openim_v3::{decode_data, encode_data};

/// One message of a push.
#[derive(Debug, Clone)]
pub struct PushedMsg {
    /// OpenIM's conversation id (`si_a_b`, `sg_group`, `n_...`).
    pub conversation_id: String,
    /// From `notificationMsgs` rather than `msgs`.
    pub notification: bool,
    /// The push's `operationID`: a sender's echo of its own message
    /// carries the send's.
    pub operation_id: String,
    pub msg: MsgData,
}

/// Something the server sent without being asked.
#[derive(Debug)]
pub enum OpenImPushed {
    Message(Box<PushedMsg>),
    /// 2002: another login took this one's place.
    Kick,
    /// The connection ended, with the close code if the server sent one.
    Closed(Option<u16>),
}

type Sink = SplitSink<WebSocketStream<MaybeTlsStream<TcpStream>>, Message>;
/// Requests awaiting their answer, by msgIncr; None once the connection
/// is closed, so that a request made after that fails at once.
type Pending = Arc<Mutex<Option<HashMap<String, oneshot::Sender<ResponseFrame>>>>>;
/// Pings awaiting a pong: pongs carry no id, so first come first served.
type Pongs = Arc<Mutex<Option<VecDeque<oneshot::Sender<()>>>>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Connection options.
#[derive(Debug, Clone)]
pub struct OpenImWsOptions {
    /// The `platformID` of the upgrade; must be the platform of the token.
    pub platform: i32,
    /// Read buffer per connection; small keeps many connections cheap.
    pub read_buffer_bytes: usize,
    /// How long to wait for the greeting.
    pub greeting_timeout: Duration,
}

impl Default for OpenImWsOptions {
    fn default() -> Self {
        OpenImWsOptions {
            platform: 5,
            read_buffer_bytes: 8192,
            greeting_timeout: Duration::from_secs(10),
        }
    }
}

/// One connection of one user to the v3 gateway.
pub struct OpenImWsClient {
    user: String,
    sink: tokio::sync::Mutex<Sink>,
    pending: Pending,
    pongs: Pongs,
    next_id: AtomicU64,
    pushes: tokio::sync::Mutex<mpsc::UnboundedReceiver<OpenImPushed>>,
}

fn unexpected(what: impl std::fmt::Display) -> ClientError {
    ClientError::Unexpected(what.to_string())
}

impl OpenImWsClient {
    /// Connects to `base_url` (`http://host:port`) as `user`, the owner of
    /// `token`, and waits for the greeting: a refused token is an error.
    pub async fn connect(
        base_url: &str,
        user: &str,
        token: &str,
        options: OpenImWsOptions,
    ) -> Result<OpenImWsClient, ClientError> {
        let ws_base = base_url
            .replacen("http://", "ws://", 1)
            .replacen("https://", "wss://", 1);
        let platform = options.platform.to_string();
        let url = reqwest::Url::parse_with_params(
            &format!("{}/", ws_base.trim_end_matches('/')),
            [
                ("sendID", user),
                ("token", token),
                ("platformID", platform.as_str()),
                ("operationID", &crate::openim::op_id()),
                ("isBackground", "false"),
                ("isMsgResp", "true"),
                ("sdkType", "js"),
            ],
        )
        .map_err(|e| unexpected(format!("the server's URL: {e}")))?;
        let config = WebSocketConfig::default()
            .read_buffer_size(options.read_buffer_bytes)
            .write_buffer_size(0);
        let (stream, _) =
            tokio_tungstenite::connect_async_with_config(url.as_str(), Some(config), true)
                .await
                .map_err(connect_error)?;
        let (sink, mut read) = stream.split();
        // The greeting comes before anything else; without it the
        // session is not registered and pushes would be missed.
        let greeting = tokio::time::timeout(options.greeting_timeout, async {
            loop {
                match read.next().await {
                    Some(Ok(Message::Text(t))) => return Ok(t),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(other)) => {
                        return Err(unexpected(format!(
                            "a frame before the greeting: {other:?}"
                        )))
                    }
                    Some(Err(e)) => return Err(unexpected(format!("awaiting the greeting: {e}"))),
                    None => return Err(unexpected("closed before the greeting")),
                }
            }
        })
        .await
        .map_err(|_| unexpected("no greeting in time"))??;
        let greeting: Greeting = serde_json::from_str(&greeting)
            .map_err(|e| unexpected(format!("greeting {greeting}: {e}")))?;
        if greeting.err_code != 0 {
            return Err(ClientError::Api {
                code: greeting.err_code,
                message: greeting.err_msg,
            });
        }
        let pending: Pending = Arc::new(Mutex::new(Some(HashMap::new())));
        let pongs: Pongs = Arc::new(Mutex::new(Some(VecDeque::new())));
        let (push_tx, push_rx) = mpsc::unbounded_channel();
        let (reader_pending, reader_pongs) = (pending.clone(), pongs.clone());
        tokio::spawn(async move {
            let mut close_code = None;
            while let Some(frame) = read.next().await {
                match frame {
                    Ok(Message::Binary(b)) => on_binary(&b, &reader_pending, &push_tx),
                    Ok(Message::Text(t)) => on_text(&t, &reader_pongs),
                    Ok(Message::Close(c)) => {
                        close_code = c.map(|c| u16::from(c.code));
                        break;
                    }
                    Ok(_) => continue,
                    Err(_) => break,
                }
            }
            // Dropping the waiters fails the requests still in flight.
            *lock(&reader_pending) = None;
            *lock(&reader_pongs) = None;
            let _ = push_tx.send(OpenImPushed::Closed(close_code));
        });
        Ok(OpenImWsClient {
            user: user.to_owned(),
            sink: tokio::sync::Mutex::new(sink),
            pending,
            pongs,
            next_id: AtomicU64::new(1),
            pushes: tokio::sync::Mutex::new(push_rx),
        })
    }

    /// The user of this connection.
    pub fn user(&self) -> &str {
        &self.user
    }

    async fn write(&self, message: Message) -> Result<(), ClientError> {
        self.sink
            .lock()
            .await
            .send(message)
            .await
            .map_err(|e| unexpected(format!("sending: {e}")))
    }

    /// Sends request `ident` with `data` (an encoded protobuf message) and
    /// waits for its answer's `data`; a non-zero errCode is an error.
    pub async fn request(&self, ident: i32, data: &[u8]) -> Result<Vec<u8>, ClientError> {
        let msg_incr = self.next_id.fetch_add(1, Ordering::Relaxed).to_string();
        let (tx, rx) = oneshot::channel();
        match lock(&self.pending).as_mut() {
            Some(waiting) => waiting.insert(msg_incr.clone(), tx),
            None => return Err(unexpected("connection closed")),
        };
        let frame = RequestFrame {
            req_identifier: ident,
            msg_incr: msg_incr.clone(),
            send_id: self.user.clone(),
            operation_id: crate::openim::op_id(),
            data: encode_data(data),
        };
        let bytes = serde_json::to_vec(&frame).map_err(unexpected)?;
        if let Err(e) = self.write(Message::Binary(bytes.into())).await {
            if let Some(waiting) = lock(&self.pending).as_mut() {
                waiting.remove(&msg_incr);
            }
            return Err(e);
        }
        let answer = rx.await.map_err(|_| unexpected("connection closed"))?;
        if answer.err_code != 0 {
            return Err(ClientError::Api {
                code: answer.err_code,
                message: answer.err_msg,
            });
        }
        decode_data(&answer.data)
            .map_err(|e| unexpected(format!("answer to {ident}: data not base64: {e}")))
    }

    /// Sends a message (1003); its answer once the server has stored it.
    pub async fn send(&self, msg: &MsgData) -> Result<UserSendMsgResp, ClientError> {
        let data = self.request(ident::SEND, &msg.encode_to_vec()).await?;
        UserSendMsgResp::decode(data.as_slice())
            .map_err(|e| unexpected(format!("answer to 1003: not protobuf: {e}")))
    }

    /// The application heartbeat: a text ping, answered by a text pong.
    pub async fn ping(&self) -> Result<(), ClientError> {
        let (tx, rx) = oneshot::channel();
        match lock(&self.pongs).as_mut() {
            Some(waiting) => waiting.push_back(tx),
            None => return Err(unexpected("connection closed")),
        }
        self.write(Message::Text(PING.into())).await?;
        rx.await.map_err(|_| unexpected("connection closed"))
    }

    /// The next push, or None when nothing arrives within `timeout`.
    pub async fn next_push(&self, timeout: Duration) -> Option<OpenImPushed> {
        let mut rx = self.pushes.lock().await;
        tokio::time::timeout(timeout, rx.recv())
            .await
            .ok()
            .flatten()
    }

    /// The next pushed message, skipping other pushes; None on timeout or close.
    pub async fn next_message(&self, timeout: Duration) -> Option<PushedMsg> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_push(left).await? {
                OpenImPushed::Message(m) => return Some(*m),
                OpenImPushed::Closed(_) => return None,
                OpenImPushed::Kick => continue,
            }
        }
    }

    /// Closes the connection.
    pub async fn close(&self) {
        let _ = self.sink.lock().await.close().await;
    }
}

/// A failed upgrade: the server's `{errCode, errMsg}` body when it sent one.
fn connect_error(e: tokio_tungstenite::tungstenite::Error) -> ClientError {
    match e {
        tokio_tungstenite::tungstenite::Error::Http(resp) => {
            let body = resp
                .body()
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            let parsed: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            ClientError::Api {
                code: parsed["errCode"]
                    .as_i64()
                    .unwrap_or(i64::from(resp.status().as_u16())),
                message: parsed["errMsg"].as_str().unwrap_or(&body).to_owned(),
            }
        }
        other => unexpected(format!("connecting: {other}")),
    }
}

/// A text frame: a pong answers the oldest ping awaiting one.
fn on_text(text: &str, pongs: &Pongs) {
    if !matches!(serde_json::from_str::<TextFrame>(text), Ok(f) if f.kind == "pong") {
        return;
    }
    let waiter = lock(pongs).as_mut().and_then(VecDeque::pop_front);
    if let Some(w) = waiter {
        let _ = w.send(());
    }
}

/// A binary frame: an answer to its waiter, or a push unpacked onto the
/// push queue. Frames that do not parse are dropped.
fn on_binary(bytes: &[u8], pending: &Pending, pushes: &mpsc::UnboundedSender<OpenImPushed>) {
    let Ok(frame) = serde_json::from_slice::<ResponseFrame>(bytes) else {
        return;
    };
    if !frame.msg_incr.is_empty() {
        let waiter = lock(pending)
            .as_mut()
            .and_then(|waiting| waiting.remove(&frame.msg_incr));
        if let Some(w) = waiter {
            let _ = w.send(frame);
            return;
        }
    }
    match frame.req_identifier {
        ident::PUSH => {
            let Ok(push) = decode_data(&frame.data)
                .map_err(|_| ())
                .and_then(|b| PushMessages::decode(b.as_slice()).map_err(|_| ()))
            else {
                return;
            };
            for (notification, map) in [(false, push.msgs), (true, push.notification_msgs)] {
                for (conversation_id, pulled) in map {
                    for msg in pulled.msgs {
                        let _ = pushes.send(OpenImPushed::Message(Box::new(PushedMsg {
                            conversation_id: conversation_id.clone(),
                            notification,
                            operation_id: frame.operation_id.clone(),
                            msg,
                        })));
                    }
                }
            }
        }
        ident::KICK => {
            let _ = pushes.send(OpenImPushed::Kick);
        }
        _ => {}
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
