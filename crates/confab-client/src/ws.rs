//! Confab's WebSocket protocol (`docs/protocol.md`): send and await the ack,
//! receive pushes, sync (max seqs, then pull ranges), mark read.

use crate::ClientError;
use confab_wire::*;
use futures_util::stream::{SplitSink, StreamExt};
use futures_util::SinkExt;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Sink = SplitSink<WebSocketStream<MaybeTlsStream<TcpStream>>, Message>;
type Reply = ServerFrame<Box<RawValue>>;
/// Requests awaiting their reply, by reqID; None once the connection is
/// closed, so that a request made after that fails instead of waiting for
/// a reply that cannot come.
type Pending = Arc<Mutex<Option<HashMap<String, oneshot::Sender<Reply>>>>>;

/// Something the server sent without being asked.
#[derive(Debug)]
pub enum Pushed {
    Message(Box<MessageView>),
    Read(ReadData),
    Kick(String),
    /// The connection ended, with the close code if the server sent one.
    Closed(Option<u16>),
}

/// One WebSocket connection of one user on one platform.
pub struct WsClient {
    sink: tokio::sync::Mutex<Sink>,
    pending: Pending,
    next_id: AtomicU64,
    pushes: tokio::sync::Mutex<mpsc::UnboundedReceiver<Pushed>>,
}

/// Connection options.
#[derive(Debug, Clone)]
pub struct WsOptions {
    /// Read buffer per connection; small keeps many connections cheap.
    pub read_buffer_bytes: usize,
}

impl Default for WsOptions {
    fn default() -> Self {
        WsOptions {
            read_buffer_bytes: 8192,
        }
    }
}

impl WsClient {
    /// Connects to `base_url` (`http://host:port`) as the owner of `token`.
    pub async fn connect(
        base_url: &str,
        token: &str,
        platform: i32,
    ) -> Result<WsClient, ClientError> {
        Self::connect_with(base_url, token, platform, WsOptions::default()).await
    }

    pub async fn connect_with(
        base_url: &str,
        token: &str,
        platform: i32,
        options: WsOptions,
    ) -> Result<WsClient, ClientError> {
        let ws_base = base_url
            .replacen("http://", "ws://", 1)
            .replacen("https://", "wss://", 1);
        let url = format!("{ws_base}/ws?token={token}&platformID={platform}");
        let config = WebSocketConfig::default()
            .read_buffer_size(options.read_buffer_bytes)
            .write_buffer_size(0);
        let (stream, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
            .await
            .map_err(|e| match e {
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
                other => ClientError::Unexpected(format!("connecting: {other}")),
            })?;
        let (sink, mut read) = stream.split();
        let pending: Pending = Arc::new(Mutex::new(Some(HashMap::new())));
        let (push_tx, push_rx) = mpsc::unbounded_channel();
        let reader_pending = pending.clone();
        tokio::spawn(async move {
            let mut close_code = None;
            while let Some(frame) = read.next().await {
                let text = match frame {
                    Ok(Message::Text(t)) => t,
                    Ok(Message::Close(c)) => {
                        close_code = c.map(|c| u16::from(c.code));
                        break;
                    }
                    Ok(_) => continue,
                    Err(_) => break,
                };
                let Ok(reply) = serde_json::from_str::<Reply>(&text) else {
                    continue;
                };
                if !reply.req_id.is_empty() {
                    let waiter = reader_pending
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .as_mut()
                        .and_then(|waiting| waiting.remove(&reply.req_id));
                    if let Some(w) = waiter {
                        let _ = w.send(reply);
                        continue;
                    }
                }
                let data = reply.data.as_deref().map(RawValue::get).unwrap_or("null");
                let pushed = match reply.kind.as_str() {
                    "push" => serde_json::from_str(data)
                        .map(|m| Pushed::Message(Box::new(m)))
                        .ok(),
                    "read" => serde_json::from_str(data).map(Pushed::Read).ok(),
                    "kick" => serde_json::from_str::<KickData>(data)
                        .map(|k| Pushed::Kick(k.reason))
                        .ok(),
                    _ => None,
                };
                if let Some(p) = pushed {
                    let _ = push_tx.send(p);
                }
            }
            *reader_pending.lock().unwrap_or_else(|e| e.into_inner()) = None;
            let _ = push_tx.send(Pushed::Closed(close_code));
        });
        Ok(WsClient {
            sink: tokio::sync::Mutex::new(sink),
            pending,
            next_id: AtomicU64::new(1),
            pushes: tokio::sync::Mutex::new(push_rx),
        })
    }

    /// Sends a request frame and waits for the reply with its reqID.
    pub async fn request<T: DeserializeOwned>(
        &self,
        kind: &str,
        data: Option<serde_json::Value>,
    ) -> Result<Option<T>, ClientError> {
        let req_id = self.next_id.fetch_add(1, Ordering::Relaxed).to_string();
        let (tx, rx) = oneshot::channel();
        match self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            Some(waiting) => waiting.insert(req_id.clone(), tx),
            None => return Err(ClientError::Unexpected("connection closed".into())),
        };
        let frame = serde_json::json!({"type": kind, "reqID": req_id, "data": data});
        self.sink
            .lock()
            .await
            .send(Message::Text(frame.to_string().into()))
            .await
            .map_err(|e| ClientError::Unexpected(format!("sending: {e}")))?;
        let reply = rx
            .await
            .map_err(|_| ClientError::Unexpected("connection closed".into()))?;
        if reply.kind == "error" {
            return Err(ClientError::Api {
                code: i64::from(reply.err_code),
                message: reply.err_msg,
            });
        }
        match reply.data {
            None => Ok(None),
            Some(d) => serde_json::from_str(d.get())
                .map(Some)
                .map_err(|e| ClientError::Unexpected(format!("reply to {kind}: {e}"))),
        }
    }

    fn required<T>(kind: &str, v: Option<T>) -> Result<T, ClientError> {
        v.ok_or_else(|| ClientError::Unexpected(format!("{kind}: reply without data")))
    }

    /// Sends a message; returns once the server stored it (or pushed it,
    /// for online-only messages).
    pub async fn send(&self, data: &SendData) -> Result<AckData, ClientError> {
        let value =
            serde_json::to_value(data).map_err(|e| ClientError::Unexpected(e.to_string()))?;
        Self::required("send", self.request("send", Some(value)).await?)
    }

    /// Sends a text message to a user.
    pub async fn send_text(
        &self,
        to: &str,
        client_msg_id: &str,
        text: &str,
    ) -> Result<AckData, ClientError> {
        self.send(&SendData {
            client_msg_id: client_msg_id.to_owned(),
            recv_id: to.to_owned(),
            session_type: 1,
            content_type: 101,
            content: serde_json::json!({ "text": text }),
            ..Default::default()
        })
        .await
    }

    /// Sends a text message to a group.
    pub async fn send_group_text(
        &self,
        group: &str,
        client_msg_id: &str,
        text: &str,
    ) -> Result<AckData, ClientError> {
        self.send(&SendData {
            client_msg_id: client_msg_id.to_owned(),
            group_id: group.to_owned(),
            session_type: 2,
            content_type: 101,
            content: serde_json::json!({ "text": text }),
            ..Default::default()
        })
        .await
    }

    pub async fn ping(&self) -> Result<(), ClientError> {
        self.request::<serde_json::Value>("ping", None)
            .await
            .map(|_| ())
    }

    /// Every conversation of the user with its max, read and min seqs.
    pub async fn max_seqs(&self) -> Result<Vec<ConversationSeqs>, ClientError> {
        let data: MaxSeqsData =
            Self::required("get_max_seqs", self.request("get_max_seqs", None).await?)?;
        Ok(data.conversations)
    }

    pub async fn pull(
        &self,
        conversation_id: &str,
        begin: i64,
        end: i64,
        limit: u32,
    ) -> Result<PulledData, ClientError> {
        let data = serde_json::json!({"conversationID": conversation_id, "begin": begin, "end": end, "limit": limit});
        Self::required("pull", self.request("pull", Some(data)).await?)
    }

    /// Every message of a conversation from `begin` on, pulling page after page.
    pub async fn pull_all(
        &self,
        conversation_id: &str,
        begin: i64,
    ) -> Result<Vec<MessageView>, ClientError> {
        let mut out: Vec<MessageView> = Vec::new();
        let mut from = begin;
        loop {
            let page = self.pull(conversation_id, from, i64::MAX, 100).await?;
            let more = page.more;
            if let Some(last) = page.messages.last() {
                from = last.seq + 1;
            }
            out.extend(page.messages);
            if !more {
                return Ok(out);
            }
        }
    }

    /// Sync: for every conversation, the messages after `known` (what this
    /// device already holds: conversation id → last seq), in seq order.
    pub async fn sync(
        &self,
        known: &HashMap<String, i64>,
    ) -> Result<Vec<MessageView>, ClientError> {
        let mut out = Vec::new();
        for c in self.max_seqs().await? {
            let have = known.get(&c.conversation_id).copied().unwrap_or(0);
            if c.max_seq > have {
                out.extend(self.pull_all(&c.conversation_id, have + 1).await?);
            }
        }
        Ok(out)
    }

    pub async fn mark_read(&self, conversation_id: &str, seq: i64) -> Result<(), ClientError> {
        let data = serde_json::json!({"conversationID": conversation_id, "seq": seq});
        self.request::<serde_json::Value>("mark_read", Some(data))
            .await
            .map(|_| ())
    }

    /// Creates a conversation the app signed (`accessuser/getimtoken`).
    pub async fn create_conversation(
        &self,
        members: &[String],
        name: &str,
        signature: &str,
    ) -> Result<ConversationCreated, ClientError> {
        let data = serde_json::json!({"members": members, "name": name, "signature": signature});
        Self::required(
            "create_conversation",
            self.request("create_conversation", Some(data)).await?,
        )
    }

    /// Enters an online-only chatroom.
    pub async fn join_room(&self, room_id: &str) -> Result<(), ClientError> {
        let data = serde_json::json!({ "roomID": room_id });
        self.request::<serde_json::Value>("join_room", Some(data))
            .await
            .map(|_| ())
    }

    pub async fn leave_room(&self, room_id: &str) -> Result<(), ClientError> {
        let data = serde_json::json!({ "roomID": room_id });
        self.request::<serde_json::Value>("leave_room", Some(data))
            .await
            .map(|_| ())
    }

    pub async fn revoke(&self, conversation_id: &str, seq: i64) -> Result<AckData, ClientError> {
        let data = serde_json::json!({"conversationID": conversation_id, "seq": seq});
        Self::required("revoke", self.request("revoke", Some(data)).await?)
    }

    /// The next push, or None when nothing arrives within `timeout`.
    pub async fn next_push(&self, timeout: Duration) -> Option<Pushed> {
        let mut rx = self.pushes.lock().await;
        tokio::time::timeout(timeout, rx.recv())
            .await
            .ok()
            .flatten()
    }

    /// The next pushed message, skipping other pushes; None on timeout or close.
    pub async fn next_message(&self, timeout: Duration) -> Option<MessageView> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_push(left).await? {
                Pushed::Message(m) => return Some(*m),
                Pushed::Closed(_) => return None,
                _ => continue,
            }
        }
    }

    /// Closes the connection.
    pub async fn close(&self) {
        let _ = self.sink.lock().await.close().await;
    }
}
