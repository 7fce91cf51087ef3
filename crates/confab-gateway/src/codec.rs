//! The seam between the one session loop and the wire protocols.
//!
//! A protocol is a codec: it decodes a client's frame into a [`Request`],
//! encodes the [`Reply`] or error that answers it, and encodes the
//! events pushed to its sessions. The session loop does everything else
//! (authentication, ordering, flow control, heartbeats, kicks), the same
//! for every protocol. Confab's JSON frames at `/ws` are [`JsonCodec`],
//! yunbay's notification frames at `/v1/ws` [`YunbayCodec`], OpenIM v3's
//! client protocol at `/` [`OpenImCodec`].
//!
//! [`JsonCodec`]: crate::JsonCodec
//! [`YunbayCodec`]: crate::YunbayCodec
//! [`OpenImCodec`]: crate::OpenImCodec

use axum::body::Bytes;
use axum::extract::ws::{Message as WsMessage, Utf8Bytes};
use confab_core::bus::Payload;
use confab_core::message::{Message, UserConversation};
use confab_core::{ChatroomId, Error};
use confab_service::{Caller, PulledRange, SendRequest, SentNotification, SeqRange};

/// One WebSocket data frame, as a codec reads or writes it. Cloning shares
/// the bytes: an event encoded once goes to every session of a protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Text(Utf8Bytes),
    Binary(Bytes),
}

impl From<Frame> for WsMessage {
    fn from(frame: Frame) -> WsMessage {
        match frame {
            Frame::Text(t) => WsMessage::Text(t),
            Frame::Binary(b) => WsMessage::Binary(b),
        }
    }
}

/// Names a wire protocol. Sessions of one protocol share the bytes of each
/// pushed event, so every encoder that gives this name must encode alike (a
/// per-session option that changes the bytes, such as compression, makes
/// another protocol: `"openim+gzip"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Protocol(pub &'static str);

impl Protocol {
    /// Confab's JSON frames at `/ws` (`docs/protocol.md`).
    pub const JSON: Protocol = Protocol("json");
    /// The yunbay API's notification frames at `/v1/ws` (`docs/yunbay.md`).
    pub const YUNBAY: Protocol = Protocol("yunbay");
}

/// What a client asks, whatever its protocol. A protocol that has fewer
/// requests decodes fewer; one that needs more adds a variant here and its
/// handling in the session.
#[derive(Debug)]
pub enum Request {
    Ping,
    /// A message to send; the sender fields are the caller's.
    Send(Box<SendRequest>),
    /// The caller's conversations with their seqs (the first step of sync).
    MaxSeqs,
    Pull {
        conversation_id: String,
        begin: i64,
        end: i64,
        limit: u32,
    },
    MarkRead {
        conversation_id: String,
        seq: i64,
    },
    Delivered {
        conversation_id: String,
        seq: i64,
    },
    Revoke {
        conversation_id: String,
        seq: i64,
    },
    /// Enter an online-only chatroom (its messages reach the caller while
    /// connected).
    JoinRoom {
        room_id: ChatroomId,
    },
    LeaveRoom {
        room_id: ChatroomId,
    },
    /// Create a group of `members` owned by the caller, approved by the
    /// app with a `conv.create` signature (the app API's `getimtoken`).
    CreateConversation {
        members: Vec<String>,
        name: String,
        signature: String,
    },
    /// The user confirms a notification.
    AckNotification {
        id: i64,
    },
    /// Several ranges at once (OpenIM's 1002).
    PullRanges(Vec<SeqRange>),
    /// Messages by their seqs, per conversation (OpenIM's 1005).
    PullSeqs(Vec<(String, Vec<i64>)>),
    /// The client signs out: answered, then the session ends.
    Logout,
    /// Watch the presence of `subscribe` (answered with their status now,
    /// pushed on every change), and no longer of `unsubscribe` (OpenIM's
    /// 2005 subscription).
    OnlineStatus {
        subscribe: Vec<confab_core::UserId>,
        unsubscribe: Vec<confab_core::UserId>,
    },
}

/// The answer to a [`Request`], in domain types; the codec shapes it.
#[derive(Debug)]
pub enum Reply {
    Pong,
    /// The conversation `create_conversation` made.
    Conversation(Box<confab_service::GroupInfo>),
    /// The message is stored (or pushed, when online-only): the ack.
    Sent(Box<Message>),
    MaxSeqs(Vec<UserConversation>),
    Pulled {
        messages: Vec<Message>,
        /// The range holds more than were returned.
        more: bool,
    },
    /// Done, with nothing to report (`mark_read`, `delivered`).
    Done,
    /// The revoke notice that was appended.
    Revoked(Box<Message>),
    PulledRanges(Vec<PulledRange>),
    /// The messages found of each conversation asked, in order.
    PulledSeqs(Vec<(String, Vec<Message>)>),
    /// Answers a `Logout`; the session closes once it is written.
    LoggedOut,
    /// Each user asked with the platforms it is online on.
    OnlineStatus(Vec<(confab_core::UserId, Vec<confab_core::Platform>)>),
}

/// What a protocol sends unasked. It needs no session, so the registry
/// encodes each event once per protocol among its recipients and shares
/// the frame. Encoding runs under the registry's lock: it must be quick
/// and must not call back into the gateway.
pub trait EventEncoder: Send + Sync {
    fn protocol(&self) -> Protocol;

    /// The push of an event (a message, a read receipt), or None when this
    /// protocol does not show it.
    fn event(&self, payload: &Payload) -> Option<Frame>;

    /// The push telling a session watching `user` that it is now on
    /// `platforms` (none: offline), for protocols with presence
    /// subscriptions.
    fn status(
        &self,
        _user: &confab_core::UserId,
        _platforms: &[confab_core::Platform],
    ) -> Option<Frame> {
        None
    }

    /// The frame sent to a kicked session before it is closed (4001).
    fn kick(&self, reason: &str) -> Frame;

    /// A notification's frame, for protocols that send notifications on
    /// their own (a catch-up); None for the others.
    fn notification(&self, _notification: &SentNotification) -> Option<Frame> {
        None
    }

    /// Whether the server keeps track of delivery for this protocol's
    /// clients, which have neither receipts nor sync: a session is sent the
    /// notifications the user missed when it connects (`notification`
    /// frames), and what it writes to its client counts as delivered.
    fn tracks_delivery(&self) -> bool {
        false
    }
}

/// A wire protocol: how a session's frames become requests and its answers
/// become frames.
pub trait Codec: EventEncoder + 'static {
    /// What ties an answer to its request (JSON: the `reqID`; OpenIM: its
    /// `reqIdentifier`, `msgIncr` and `operationID`).
    /// The default tags what the session says unasked (a failed catch-up).
    type Tag: Send + Default + 'static;

    /// Reads one data frame of `caller`'s session. A frame that is not a
    /// request is answered with `error(tag, e)`, the tag being whatever the
    /// codec could recover from it.
    fn decode(
        &self,
        caller: &Caller,
        frame: Frame,
    ) -> Result<(Self::Tag, Request), (Self::Tag, Error)>;

    /// The frame that answers a request, or None when the protocol sends
    /// no answer to it (a client's ack, say).
    fn reply(&self, tag: &Self::Tag, reply: Reply) -> Option<Frame>;

    /// The frame that reports a failed request. The session has logged an
    /// internal error already; `error.client_message()` is what to show.
    fn error(&self, tag: &Self::Tag, error: &Error) -> Frame;

    /// A frame the sending session is sent after the ack of its message,
    /// and how long after (OpenIM's clients learn their message's seq from
    /// its push, which must not reach them with the ack). None: the ack is
    /// all it gets. Other sessions get the message as a push, as ever.
    fn echo(&self, _tag: &Self::Tag, _message: &Message) -> Option<(Frame, std::time::Duration)> {
        None
    }

    /// Whether the server pings this protocol's clients when they are
    /// quiet (their answers count as heartbeats), for clients that never
    /// ping themselves; else a client must send heartbeats.
    fn pings_clients(&self) -> bool {
        false
    }
}
