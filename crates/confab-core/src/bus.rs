//! Cross-node delivery. The service commits, then publishes what happened
//! and to whom; each node's gateway delivers it to the sessions it holds.
//! `confab-bus` implements it in-process (`local`) and over NATS.
//!
//! Events are serde-serializable so that a bus between nodes can carry
//! them. `Payload::Message` holds an `Arc<Message>` (one allocation shared
//! by every subscriber on a node); serde's `rc` feature serializes it as the
//! message itself. That feature's caveat, that two `Arc`s of one value come
//! back as two values, does not matter here: an event holds one.

use crate::ids::{GroupId, Platform, UserId};
use crate::message::Message;
use crate::presence::SessionFilter;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// Identifies one WebSocket session; it starts with the id of its node.
pub type SessionId = Arc<str>;

/// What to tell users' sessions, or the nodes themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Payload {
    /// A new message, or one pushed without storing (`seq` 0).
    Message(Arc<Message>),
    /// `reader` has read `conversation_id` up to `seq`.
    Read {
        reader: UserId,
        conversation_id: String,
        seq: i64,
    },
    /// End these sessions: a newer login on the same platform, a
    /// force-logout, a deleted user. `platform` None means every platform.
    /// `except_session` is spared: a new login kicks the user's older
    /// sessions on its platform, on every node, but not itself.
    Kick {
        platform: Option<Platform>,
        reason: String,
        except_session: Option<SessionId>,
    },
    /// `user_id`'s settings of these conversations changed: their other
    /// devices refresh them (OpenIM's SDK syncs its conversations then).
    ConversationsChanged {
        user_id: UserId,
        conversation_ids: Vec<String>,
    },
    /// The members of a group changed: every node drops its cached member
    /// list of the group. Sessions are not told (`recipients` is empty).
    GroupMembersChanged { group_id: GroupId },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub recipients: Vec<UserId>,
    /// The session that caused it, which needs no copy (it gets an ack).
    pub origin: Option<SessionId>,
    pub payload: Payload,
    /// Only the recipients' sessions that match get it (a broadcast to one
    /// platform); None: all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<SessionFilter>,
}

/// A bus could not take an event (a bus between nodes lost its
/// connection, say). The event is lost for the other nodes; clients catch
/// up by syncing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusError {
    message: String,
}

impl BusError {
    pub fn new(message: impl Into<String>) -> BusError {
        BusError {
            message: message.into(),
        }
    }
}

impl fmt::Display for BusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "publishing on the bus: {}", self.message)
    }
}

impl std::error::Error for BusError {}

/// Carries events to every node, this one included.
pub trait Bus: Send + Sync {
    fn publish(&self, event: Event) -> Result<(), BusError>;
}

/// Receives the events published on any node (the gateway, and the
/// service for its caches).
pub trait Deliver: Send + Sync {
    fn deliver(&self, event: &Event);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::message::{MessageStatus, SessionType};

    #[test]
    fn events_survive_serialization() {
        let user = UserId::parse("u", "u1").unwrap();
        let message = Message {
            conversation_id: "si_u1_u2".into(),
            seq: 3,
            server_msg_id: "s".into(),
            client_msg_id: "c".into(),
            sender_id: user.clone(),
            sender_platform: Platform::Web.id(),
            sender_nickname: String::new(),
            sender_face_url: String::new(),
            session_type: SessionType::Single,
            recv_id: "u2".into(),
            content_type: 101,
            content: r#"{"text":"hi"}"#.into(),
            send_time: 1,
            status: MessageStatus::Normal,
            at_user_ids: vec![],
            ex: String::new(),
        };
        let events = [
            Payload::Message(Arc::new(message.clone())),
            Payload::Kick {
                platform: Some(Platform::Ios),
                reason: "again".into(),
                except_session: Some("n2-7".into()),
            },
            Payload::GroupMembersChanged {
                group_id: GroupId::parse("g", "g1").unwrap(),
            },
        ];
        for payload in events {
            let event = Event {
                recipients: vec![user.clone()],
                origin: Some("n1-1".into()),
                payload,
                filter: None,
            };
            let json = serde_json::to_string(&event).unwrap();
            let back: Event = serde_json::from_str(&json).unwrap();
            assert_eq!(back, event, "{json}");
        }
    }
}
