//! One bench connection, over either protocol the bench drives: Confab's
//! JSON frames at `/ws`, or OpenIM v3's gateway at `/` (binary JSON
//! envelopes holding base64 protobuf). The scenarios see only this, so
//! both protocols run the same scenario code.

use super::Protocol;
use confab_client::{
    ClientError, OpenImPushed, OpenImWsClient, OpenImWsOptions, Pushed, WsClient, WsOptions,
};
use confab_openim_pb::openim::sdkws::MsgData;
use confab_wire::openim_v3::SUPER_GROUP;
use confab_wire::SendData;
use serde_json::json;
use std::time::Duration;

/// Read buffer per bench connection: small, as thousands are open.
const READ_BUFFER: usize = 4096;

/// What a bench message carries to measure its latency and order.
#[derive(Debug, Clone, Copy)]
pub struct Stamp {
    /// The sender's count of its messages.
    pub n: u64,
    /// The send time, microseconds since the epoch.
    pub t: u64,
}

/// A pushed message as the bench reads it.
#[derive(Debug)]
pub struct Delivery {
    pub conversation_id: String,
    pub seq: i64,
    /// The stamp's `t`, when the content carried one.
    pub sent_at: Option<u64>,
    /// Sent by the receiving user itself: OpenIM's echo of a send to its
    /// sender, which is no delivery.
    pub own: bool,
}

pub enum Event {
    Delivery(Delivery),
    Closed,
    /// Anything else (read marks, kicks).
    Other,
}

pub enum Conn {
    Json { client: WsClient, user: String },
    OpenIm(OpenImWsClient),
}

#[derive(serde::Deserialize)]
struct StampIn {
    t: u64,
}

impl Protocol {
    /// The platform the bench's users log in on: what OpenIM's JS SDK
    /// says (Web) for v3, Confab's iOS as before for `/ws`.
    pub fn platform(self) -> i32 {
        match self {
            Protocol::Json => 1,
            Protocol::Openim => 5,
        }
    }
}

impl Conn {
    pub async fn connect(
        protocol: Protocol,
        server: &str,
        user: &str,
        token: &str,
    ) -> Result<Conn, ClientError> {
        Ok(match protocol {
            Protocol::Json => {
                let options = WsOptions {
                    read_buffer_bytes: READ_BUFFER,
                };
                let client =
                    WsClient::connect_with(server, token, protocol.platform(), options).await?;
                Conn::Json {
                    client,
                    user: user.to_owned(),
                }
            }
            Protocol::Openim => {
                let options = OpenImWsOptions {
                    platform: protocol.platform(),
                    read_buffer_bytes: READ_BUFFER,
                    ..Default::default()
                };
                Conn::OpenIm(OpenImWsClient::connect(server, user, token, options).await?)
            }
        })
    }

    /// Whether the server pushes a sender its own messages, so that a
    /// sender's pushes must be read (and skipped) too.
    pub fn echoes_own_sends(&self) -> bool {
        matches!(self, Conn::OpenIm(_))
    }

    /// Sends a text message carrying `stamp` to the user `to`, or to the
    /// group `to` when `group`; returns once acknowledged.
    pub async fn send_text(
        &self,
        to: &str,
        group: bool,
        client_msg_id: String,
        stamp: Stamp,
    ) -> Result<(), ClientError> {
        let target = |is: bool| if is { to.to_owned() } else { String::new() };
        match self {
            Conn::Json { client, .. } => {
                let data = SendData {
                    client_msg_id,
                    recv_id: target(!group),
                    group_id: target(group),
                    session_type: if group { 2 } else { 1 },
                    content_type: 101,
                    content: json!({"text": "benchmark message", "n": stamp.n, "t": stamp.t}),
                    ..Default::default()
                };
                client.send(&data).await.map(|_| ())
            }
            Conn::OpenIm(client) => {
                // The JS SDK's text element: `content` holds the text.
                let content = json!({"content": "benchmark message", "n": stamp.n, "t": stamp.t});
                let data = MsgData {
                    send_id: client.user().to_owned(),
                    recv_id: target(!group),
                    group_id: target(group),
                    client_msg_id,
                    session_type: if group { SUPER_GROUP } else { 1 },
                    msg_from: 100,
                    content_type: 101,
                    content: content.to_string().into_bytes(),
                    ..Default::default()
                };
                client.send(&data).await.map(|_| ())
            }
        }
    }

    /// The next push, or None when nothing arrives within `timeout`.
    pub async fn next_push(&self, timeout: Duration) -> Option<Event> {
        let t = |content: &[u8]| serde_json::from_slice::<StampIn>(content).ok().map(|s| s.t);
        Some(match self {
            Conn::Json { client, user } => match client.next_push(timeout).await? {
                Pushed::Message(m) => Event::Delivery(Delivery {
                    sent_at: t(m.content.get().as_bytes()),
                    own: m.send_id == *user,
                    conversation_id: m.conversation_id,
                    seq: m.seq,
                }),
                Pushed::Closed(_) => Event::Closed,
                Pushed::Read(_) | Pushed::Kick(_) => Event::Other,
            },
            Conn::OpenIm(client) => match client.next_push(timeout).await? {
                OpenImPushed::Message(m) if !m.notification => Event::Delivery(Delivery {
                    sent_at: t(&m.msg.content),
                    own: m.msg.send_id == client.user(),
                    conversation_id: m.conversation_id,
                    seq: m.msg.seq,
                }),
                OpenImPushed::Closed(_) => Event::Closed,
                OpenImPushed::Message(_) | OpenImPushed::Kick => Event::Other,
            },
        })
    }

    pub async fn ping(&self) -> Result<(), ClientError> {
        match self {
            Conn::Json { client, .. } => client.ping().await,
            Conn::OpenIm(client) => client.ping().await,
        }
    }

    pub async fn close(&self) {
        match self {
            Conn::Json { client, .. } => client.close().await,
            Conn::OpenIm(client) => client.close().await,
        }
    }
}
