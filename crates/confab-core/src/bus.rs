//! Cross-node delivery. The service commits, then publishes what happened
//! and to whom; each node's gateway delivers it to the sessions it holds.
//! `confab-bus` implements it in-process (`local`) and over NATS.

use crate::ids::{Platform, UserId};
use crate::message::Message;
use std::sync::Arc;

/// Identifies one WebSocket session; it starts with the id of its node.
pub type SessionId = Arc<str>;

/// What to tell users' sessions.
#[derive(Debug, Clone)]
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
    Kick {
        platform: Option<Platform>,
        reason: String,
    },
}

#[derive(Debug, Clone)]
pub struct Event {
    pub recipients: Vec<UserId>,
    /// The session that caused it, which needs no copy (it gets an ack).
    pub origin: Option<SessionId>,
    pub payload: Payload,
}

/// A bus could not carry an event.
#[derive(Debug, Clone)]
pub struct BusError(pub String);

impl std::fmt::Display for BusError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bus: {}", self.0)
    }
}

impl std::error::Error for BusError {}

/// Carries events to every node.
pub trait Bus: Send + Sync {
    fn publish(&self, event: Event) -> Result<(), BusError>;
}

/// Receives the events published on any node (the gateway).
pub trait Deliver: Send + Sync {
    fn deliver(&self, event: &Event);
}
