//! Sending messages: to a user, a group or a chatroom, one at a time or to
//! many recipients at once.
//!
//! Rules: a client sends chat content (101–114) checked against its shape;
//! online-only messages and typing are pushed, never stored; a sender whom
//! the recipient blocked is refused; only members send to a group, and a
//! muted member (or anyone but the owner and admins of a muted group) is
//! refused; chatroom messages reach the members online and are never stored.

use crate::appender::{ChatCheck, Delivery, ToAppend};
use crate::auth::Caller;
use crate::Service;
use confab_core::bus::SessionId;
use confab_core::message::*;
use confab_core::model::{GroupStatus, Role};
use confab_core::validate;
use confab_core::{now_millis, Error, Field, GroupId, Millis, Result, UserId};
use std::sync::Arc;

/// Longest client message id.
const MAX_CLIENT_MSG_ID: usize = 64;
/// Most users one message may mention.
const MAX_MENTIONS: usize = 1000;
/// Most recipients of one `send_many`.
pub const MAX_RECIPIENTS: usize = 1000;

/// A message as a dialect received it, before it has a recipient.
#[derive(Debug, Clone)]
pub struct OutgoingMessage {
    /// The sender's own id, for idempotent resends; generated when empty.
    pub client_msg_id: String,
    pub sender: UserId,
    /// The sender's platform id (0: the server).
    pub sender_platform: i32,
    pub sender_nickname: String,
    pub sender_face_url: String,
    pub content: Content,
    pub is_online_only: bool,
    /// @-mentioned or force-pushed users.
    pub mentions: Vec<String>,
    pub ex: String,
}

impl OutgoingMessage {
    /// A message from `sender` with no client id and no profile.
    pub fn new(sender: UserId, content: Content) -> OutgoingMessage {
        OutgoingMessage {
            client_msg_id: String::new(),
            sender,
            sender_platform: 0,
            sender_nickname: String::new(),
            sender_face_url: String::new(),
            content,
            is_online_only: false,
            mentions: Vec::new(),
            ex: String::new(),
        }
    }
}

impl OutgoingMessage {
    /// The message to store or push, with `content` its body as JSON text.
    pub(crate) fn to_message(
        &self,
        conversation_id: String,
        session_type: SessionType,
        recv_id: &str,
        content: &str,
    ) -> Message {
        let mut message = Draft {
            conversation_id,
            session_type,
            recv_id: recv_id.to_owned(),
            sender: self.sender.clone(),
            sender_platform: self.sender_platform,
            content_type: self.content.kind.code(),
            content: content.to_owned(),
            client_msg_id: self.client_msg_id.clone(),
        }
        .into_message(now_millis());
        message.sender_nickname.clone_from(&self.sender_nickname);
        message.sender_face_url.clone_from(&self.sender_face_url);
        message.at_user_ids.clone_from(&self.mentions);
        message.ex.clone_from(&self.ex);
        message
    }
}

/// A message and its recipient.
#[derive(Debug, Clone)]
pub struct SendRequest {
    pub to: Recipient,
    pub message: OutgoingMessage,
}

/// A send on its way: `outcome` returns once it is committed.
pub struct PendingSend(Pending);

enum Pending {
    Done(Result<Box<SendOutcome>>),
    Committing(crate::appender::Committing),
}

impl PendingSend {
    pub(crate) fn done(message: Message) -> PendingSend {
        PendingSend(Pending::Done(Ok(Box::new(SendOutcome {
            message,
            duplicate: false,
        }))))
    }

    fn failed(e: Error) -> PendingSend {
        PendingSend(Pending::Done(Err(e)))
    }

    pub async fn outcome(self) -> Result<SendOutcome> {
        match self.0 {
            Pending::Done(outcome) => outcome.map(|o| *o),
            Pending::Committing(c) => {
                let appended = c.wait().await?;
                Ok(SendOutcome {
                    message: appended.message,
                    duplicate: appended.duplicate,
                })
            }
        }
    }
}

/// What a send did.
#[derive(Debug, Clone)]
pub struct SendOutcome {
    pub message: Message,
    /// A resend of a stored message: nothing new was created.
    pub duplicate: bool,
}

/// A new server-made id. Time-ordered, so the unique index on message ids
/// grows at its end.
pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// What every new message is built from; the one place a `Message` is made.
pub(crate) struct Draft {
    pub conversation_id: String,
    pub session_type: SessionType,
    pub recv_id: String,
    pub sender: UserId,
    pub sender_platform: i32,
    pub content_type: i32,
    pub content: String,
    /// The sender's id for it; generated when empty.
    pub client_msg_id: String,
}

impl Draft {
    /// The message, with a fresh server id, sent now, not yet stored.
    pub(crate) fn into_message(self, now: Millis) -> Message {
        Message {
            conversation_id: self.conversation_id,
            seq: 0,
            server_msg_id: new_id(),
            client_msg_id: if self.client_msg_id.is_empty() {
                new_id()
            } else {
                self.client_msg_id
            },
            sender_id: self.sender,
            sender_platform: self.sender_platform,
            sender_nickname: String::new(),
            sender_face_url: String::new(),
            session_type: self.session_type,
            recv_id: self.recv_id,
            content_type: self.content_type,
            content: self.content,
            send_time: now,
            status: MessageStatus::Normal,
            at_user_ids: Vec::new(),
            ex: String::new(),
        }
    }
}

/// A send after its checks: finished, or waiting to be appended.
enum Prepared {
    Done(PendingSend),
    Append(Box<ToAppend>),
}

/// Where a checked message goes.
struct Route {
    conversation_id: String,
    session_type: SessionType,
    /// For one-to-one messages: checked with the batch they are appended in.
    check: Option<ChatCheck>,
    participants: Vec<(UserId, String)>,
}

impl Service {
    /// Sends a message. Stored messages are acknowledged once committed.
    pub async fn send_message(
        &self,
        caller: &Caller,
        origin: Option<SessionId>,
        req: SendRequest,
    ) -> Result<SendOutcome> {
        self.submit_message(caller, origin, req)
            .await?
            .outcome()
            .await
    }

    /// Sends one message to many recipients: every send is queued before
    /// any is awaited, so the batch shares commits. Returns one result per
    /// recipient, in order. Each copy gets its own server-made client id.
    pub async fn send_many(
        &self,
        caller: &Caller,
        message: OutgoingMessage,
        recipients: &[Recipient],
    ) -> Result<Vec<Result<SendOutcome>>> {
        validate::batch(Field::Recipients, recipients, MAX_RECIPIENTS)?;
        let content = self.check_message(caller, &message)?;
        // An unknown sender fails the whole batch, not each recipient.
        if caller.user_id != message.sender {
            self.require_user(&message.sender).await?;
        }
        // Every copy is checked, then those to store go to the appender as
        // one submission: one transaction for the batch.
        let mut prepared = Vec::with_capacity(recipients.len());
        let mut to_append = Vec::new();
        for to in recipients {
            let one = OutgoingMessage {
                client_msg_id: String::new(),
                ..message.clone()
            };
            match self.prepare(caller, None, to, one, &content).await {
                Ok(Prepared::Done(p)) => prepared.push(Some(p)),
                Ok(Prepared::Append(a)) => {
                    to_append.push(*a);
                    prepared.push(None);
                }
                Err(e) => prepared.push(Some(PendingSend::failed(e))),
            }
        }
        let mut committing = self.appender.enqueue_many(to_append).await?.into_iter();
        let mut outcomes = Vec::with_capacity(prepared.len());
        for p in prepared {
            let pending = match p {
                Some(p) => p,
                None => match committing.next() {
                    Some(c) => PendingSend(Pending::Committing(c)),
                    None => PendingSend::failed(Error::internal("the appender lost a send")),
                },
            };
            outcomes.push(pending.outcome().await);
        }
        Ok(outcomes)
    }

    /// Checks a message and queues it; returns once it has its place in the
    /// order of sends, before it is committed. A session submits its sends
    /// one after another and awaits their commits together, so a burst of
    /// sends shares commits and keeps its order.
    pub async fn submit_message(
        &self,
        caller: &Caller,
        origin: Option<SessionId>,
        req: SendRequest,
    ) -> Result<PendingSend> {
        let content = self.check_message(caller, &req.message)?;
        match self
            .prepare(caller, origin, &req.to, req.message, &content)
            .await?
        {
            Prepared::Done(pending) => Ok(pending),
            Prepared::Append(a) => Ok(PendingSend(Pending::Committing(
                self.appender.enqueue(a.message, a.origin, a.check).await?,
            ))),
        }
    }

    /// The checks that do not depend on the recipient; returns the content
    /// as JSON text.
    fn check_message(&self, caller: &Caller, m: &OutgoingMessage) -> Result<String> {
        caller.require_acts_for(&m.sender)?;
        validate::max_len(Field::ClientMessageId, &m.client_msg_id, MAX_CLIENT_MSG_ID)?;
        validate::max_len(Field::Ex, &m.ex, validate::MAX_TEXT_LEN)?;
        validate::max_len(
            Field::SenderNickname,
            &m.sender_nickname,
            validate::MAX_NAME_LEN,
        )?;
        validate::max_len(
            Field::SenderFaceUrl,
            &m.sender_face_url,
            validate::MAX_NAME_LEN,
        )?;
        m.content.validate()?;
        let content = serde_json::to_string(&m.content.body).map_err(Error::internal)?;
        if content.len() > self.config.max_content_bytes {
            return Err(Error::invalid_field(
                Field::Content,
                format!(
                    "at most {} bytes, got {}",
                    self.config.max_content_bytes,
                    content.len()
                ),
            ));
        }
        if m.mentions.len() > MAX_MENTIONS {
            return Err(Error::invalid_field(
                Field::Mentions,
                format!("at most {MAX_MENTIONS} users"),
            ));
        }
        for mention in &m.mentions {
            validate::max_len(Field::Mentions, mention, confab_core::ids::MAX_ID_LEN)?;
        }
        Ok(content)
    }

    /// Checks a message for one recipient and does what needs no commit
    /// (revoke, read receipt, online-only push, chatroom); returns what is
    /// left to append.
    async fn prepare(
        &self,
        caller: &Caller,
        origin: Option<SessionId>,
        to: &Recipient,
        m: OutgoingMessage,
        content: &str,
    ) -> Result<Prepared> {
        if let Recipient::Chatroom(room) = to {
            return Ok(Prepared::Done(
                self.send_to_chatroom(caller, origin, room, m, content)
                    .await?,
            ));
        }
        let route = self.route(caller, to, &m.sender).await?;
        if m.content.kind == ContentType::Revoke {
            let notice = self
                .revoke_by_content(caller, origin, &route.conversation_id, &m.content.body)
                .await?;
            return Ok(Prepared::Done(PendingSend::done(notice)));
        }
        let message = m.to_message(
            route.conversation_id.clone(),
            route.session_type,
            to.id(),
            content,
        );
        if m.content.kind == ContentType::ReadReceipt {
            // A read receipt moves read_seq; the Read event tells the others.
            let seq = m
                .content
                .body
                .get("seq")
                .and_then(serde_json::Value::as_i64)
                .ok_or_else(|| {
                    // The content model's own key, as `validate_content` names them.
                    Error::invalid("content.seq: a read receipt needs the seq read up to")
                })?;
            let reader = Caller {
                user_id: m.sender.clone(),
                ..caller.clone()
            };
            self.mark_read(&reader, origin, &message.conversation_id, seq)
                .await?;
            return Ok(Prepared::Done(PendingSend::done(message)));
        }
        if m.is_online_only || m.content.kind == ContentType::Typing {
            if let Some(c) = &route.check {
                self.check_chat_now(c).await?;
            }
            self.appender
                .deliver(Delivery::Message(Arc::new(message.clone()), origin));
            return Ok(Prepared::Done(PendingSend::done(message)));
        }
        Ok(Prepared::Append(Box::new(ToAppend {
            message: NewMessage {
                message,
                participants: route.participants,
            },
            origin,
            check: route.check,
        })))
    }

    /// Checks the recipient and the sender's rights; returns where the
    /// message goes.
    async fn route(&self, caller: &Caller, to: &Recipient, sender: &UserId) -> Result<Route> {
        match to {
            Recipient::User(recv) => {
                // That the recipient exists and has not blocked the sender
                // is checked with the batch the message is appended in.
                // A caller's own existence is proven by their token.
                if caller.user_id != *sender {
                    self.require_user(sender).await?;
                }
                Ok(Route {
                    conversation_id: single_conversation_id(sender, recv),
                    session_type: SessionType::Single,
                    check: Some(ChatCheck {
                        recipient: recv.clone(),
                        sender: sender.clone(),
                    }),
                    participants: vec![
                        (sender.clone(), recv.to_string()),
                        (recv.clone(), sender.to_string()),
                    ],
                })
            }
            Recipient::Group(group_id) => {
                self.check_group_sender(caller, group_id, sender).await?;
                Ok(Route {
                    conversation_id: group_conversation_id(group_id),
                    session_type: SessionType::Group,
                    check: None,
                    participants: Vec::new(),
                })
            }
            Recipient::Chatroom(_) => Err(Error::internal("chatroom sends are not routed")),
        }
    }

    /// Fails unless `sender` may post to the group now.
    async fn check_group_sender(
        &self,
        caller: &Caller,
        group_id: &GroupId,
        sender: &UserId,
    ) -> Result<()> {
        let group = self.live_group(group_id).await?;
        let role = match self.store.get_member(group_id, sender).await? {
            Some(m) => {
                if !m.role.manages() && m.mute_end_time > now_millis() {
                    return Err(Error::precondition(format!(
                        "{sender} is muted in group {group_id}"
                    )));
                }
                m.role
            }
            // App admins may post to any group, as the system.
            None if self.is_admin(sender) || (caller.is_admin && caller.user_id == *sender) => {
                Role::Owner
            }
            None => {
                return Err(Error::denied(format!(
                    "{sender} is not a member of group {group_id}"
                )))
            }
        };
        if group.status == GroupStatus::Muted && !role.manages() {
            return Err(Error::precondition(format!("group {group_id} is muted")));
        }
        Ok(())
    }

    /// The chat check of a message that is not appended (online-only).
    async fn check_chat_now(&self, c: &ChatCheck) -> Result<()> {
        self.require_user(&c.recipient).await?;
        if self
            .store
            .get_black(&c.recipient, &c.sender)
            .await?
            .is_some()
        {
            return Err(Error::precondition(format!(
                "{} has blocked {}",
                c.recipient, c.sender
            )));
        }
        Ok(())
    }
}
