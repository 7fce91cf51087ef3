//! Sending, syncing, reading and revoking messages.
//!
//! Rules: a client sends chat content (101–114) checked against its shape;
//! online-only messages and typing are pushed, never stored; a sender whom
//! the recipient blocked is refused; only members send to a group, and a
//! muted member (or anyone but the owner and admins of a muted group) is
//! refused; a message is revoked by its sender within the revoke window, by
//! an owner or admin of its group, or by an app admin.

use crate::appender::{ChatCheck, Delivery};
use crate::auth::Caller;
use crate::Service;
use confab_core::bus::{Event, Payload, SessionId};
use confab_core::message::*;
use confab_core::model::{GroupStatus, Role};
use confab_core::validate;
use confab_core::{now_millis, Error, GroupId, Result, UserId};
use std::sync::Arc;

/// Most messages one `pull` returns.
pub const MAX_PULL: u32 = 100;
/// Longest client message id.
const MAX_CLIENT_MSG_ID: usize = 64;

/// A message to send, as a dialect received it.
#[derive(Debug, Clone)]
pub struct SendRequest {
    /// The sender's own id, for idempotent resends; generated when empty.
    pub client_msg_id: String,
    pub sender: UserId,
    pub sender_platform: i32,
    pub sender_nickname: String,
    pub sender_face_url: String,
    pub session_type: SessionType,
    /// The recipient user, or the group.
    pub recv_id: String,
    pub content_type: i32,
    pub content: serde_json::Value,
    pub is_online_only: bool,
    /// @-mentioned or force-pushed users.
    pub at_user_ids: Vec<String>,
    pub ex: String,
}

/// A send on its way: `outcome` returns once it is committed.
pub struct PendingSend(Pending);

enum Pending {
    Done(Box<SendOutcome>),
    Committing(crate::appender::Committing),
}

impl PendingSend {
    fn done(message: Message) -> PendingSend {
        PendingSend(Pending::Done(Box::new(SendOutcome {
            message,
            duplicate: false,
        })))
    }

    pub async fn outcome(self) -> Result<SendOutcome> {
        match self.0 {
            Pending::Done(outcome) => Ok(*outcome),
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

fn new_id() -> String {
    // Time-ordered, so the unique index on message ids grows at its end.
    uuid::Uuid::now_v7().simple().to_string()
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
        caller.require_acts_for(&req.sender)?;
        validate::max_len("clientMsgID", &req.client_msg_id, MAX_CLIENT_MSG_ID)?;
        validate::max_len("ex", &req.ex, validate::MAX_TEXT_LEN)?;
        validate::max_len(
            "senderNickname",
            &req.sender_nickname,
            validate::MAX_NAME_LEN,
        )?;
        validate::max_len(
            "senderFaceURL",
            &req.sender_face_url,
            validate::MAX_NAME_LEN,
        )?;
        if !content_type::is_chat(req.content_type) {
            return Err(Error::invalid(format!(
                "contentType: {} is not a chat content type (101..114)",
                req.content_type
            )));
        }
        validate_content(req.content_type, &req.content)?;
        let content = serde_json::to_string(&req.content).map_err(Error::internal)?;
        if content.len() > self.config.max_content_bytes {
            return Err(Error::invalid(format!(
                "content: at most {} bytes, got {}",
                self.config.max_content_bytes,
                content.len()
            )));
        }
        if req.at_user_ids.len() > 1000 {
            return Err(Error::invalid("atUserIDList: at most 1000 users"));
        }
        let conversation_id = self.check_can_send(caller, &req).await?;
        if req.content_type == content_type::REVOKE {
            let notice = self
                .revoke_by_content(caller, origin, &conversation_id, &req)
                .await?;
            return Ok(PendingSend(Pending::Done(Box::new(notice))));
        }
        let now = now_millis();
        let message = Message {
            conversation_id,
            seq: 0,
            server_msg_id: new_id(),
            client_msg_id: if req.client_msg_id.is_empty() {
                new_id()
            } else {
                req.client_msg_id.clone()
            },
            sender_id: req.sender.clone(),
            sender_platform: req.sender_platform,
            sender_nickname: req.sender_nickname.clone(),
            sender_face_url: req.sender_face_url.clone(),
            session_type: req.session_type,
            recv_id: req.recv_id.clone(),
            content_type: req.content_type,
            content,
            send_time: now,
            status: MessageStatus::Normal,
            at_user_ids: req.at_user_ids.clone(),
            ex: req.ex.clone(),
        };
        if req.content_type == content_type::HAS_READ_RECEIPT {
            // A read receipt moves read_seq; the Read event tells the others.
            let seq = req
                .content
                .get("seq")
                .and_then(serde_json::Value::as_i64)
                .ok_or_else(|| {
                    Error::invalid("content.seq: a read receipt needs the seq read up to")
                })?;
            let reader = Caller {
                user_id: req.sender.clone(),
                ..caller.clone()
            };
            self.mark_read(&reader, origin, &message.conversation_id, seq)
                .await?;
            return Ok(PendingSend::done(message));
        }
        let check = (req.session_type == SessionType::Single).then(|| ChatCheck {
            recipient: UserId::from_trusted(req.recv_id.clone()),
            sender: req.sender.clone(),
        });
        if req.is_online_only || req.content_type == content_type::TYPING {
            if let Some(c) = &check {
                self.check_chat_now(c).await?;
            }
            self.appender
                .deliver(Delivery::Message(Arc::new(message.clone()), origin));
            return Ok(PendingSend::done(message));
        }
        let participants = match req.session_type {
            SessionType::Single => vec![
                (req.sender.clone(), req.recv_id.clone()),
                (
                    UserId::from_trusted(req.recv_id.clone()),
                    req.sender.to_string(),
                ),
            ],
            _ => Vec::new(),
        };
        let committing = self
            .appender
            .enqueue(
                NewMessage {
                    message,
                    participants,
                },
                origin,
                check,
            )
            .await?;
        Ok(PendingSend(Pending::Committing(committing)))
    }

    /// Checks the recipient and the sender's rights; returns the conversation.
    async fn check_can_send(&self, caller: &Caller, req: &SendRequest) -> Result<String> {
        match req.session_type {
            SessionType::Single => {
                // That the recipient exists and has not blocked the sender
                // is checked with the batch the message is appended in.
                let recv = UserId::parse("recvID", &req.recv_id)?;
                // A caller's own existence is proven by their token.
                if caller.user_id != req.sender {
                    self.require_user(&req.sender).await?;
                }
                Ok(single_conversation_id(&req.sender, &recv))
            }
            SessionType::Group | SessionType::SuperGroup => {
                let group_id = GroupId::parse("groupID", &req.recv_id)?;
                let group =
                    self.store.get_group(&group_id).await?.ok_or_else(|| {
                        Error::not_found(format!("group {group_id} does not exist"))
                    })?;
                if group.status == GroupStatus::Dismissed {
                    return Err(Error::precondition(format!(
                        "group {group_id} has been dismissed"
                    )));
                }
                let member = self.store.get_member(&group_id, &req.sender).await?;
                let role = match member {
                    Some(m) => {
                        if !m.role.manages() && m.mute_end_time > now_millis() {
                            return Err(Error::precondition(format!(
                                "{} is muted in group {group_id}",
                                req.sender
                            )));
                        }
                        m.role
                    }
                    // App admins may post to any group, as the system.
                    None if self.is_admin(&req.sender) => Role::Owner,
                    None => {
                        return Err(Error::denied(format!(
                            "{} is not a member of group {group_id}",
                            req.sender
                        )))
                    }
                };
                if group.status == GroupStatus::Muted && !role.manages() {
                    return Err(Error::precondition(format!("group {group_id} is muted")));
                }
                Ok(group_conversation_id(&group_id))
            }
            SessionType::Notification => Err(Error::invalid(
                "sessionType: notifications are sent by the system",
            )),
        }
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

    /// The conversations of a user with their seqs: the first step of sync.
    pub async fn conversations(
        &self,
        caller: &Caller,
        user_id: &UserId,
    ) -> Result<Vec<UserConversation>> {
        caller.require_acts_for(user_id)?;
        self.store.user_conversations(user_id).await
    }

    /// The user's view of one conversation; NotFound when they have none.
    pub async fn conversation(
        &self,
        caller: &Caller,
        user_id: &UserId,
        conversation_id: &str,
    ) -> Result<UserConversation> {
        caller.require_acts_for(user_id)?;
        self.store
            .user_conversation(user_id, conversation_id)
            .await?
            .ok_or_else(|| {
                Error::not_found(format!("{user_id} has no conversation {conversation_id}"))
            })
    }

    /// Messages `begin..=end` of a conversation the user is in, from their
    /// `min_seq` on, ascending, at most `limit` (≤ 100). Returns whether more
    /// remain in the range. Pulling moves the user's delivered seq.
    pub async fn pull(
        &self,
        caller: &Caller,
        user_id: &UserId,
        conversation_id: &str,
        begin: i64,
        end: i64,
        limit: u32,
    ) -> Result<(Vec<Message>, bool)> {
        let view = self.conversation(caller, user_id, conversation_id).await?;
        if end < begin {
            return Err(Error::invalid(format!(
                "end: {end} is before begin {begin}"
            )));
        }
        let limit = if limit == 0 {
            MAX_PULL
        } else {
            limit.min(MAX_PULL)
        };
        let begin = begin.max(view.min_seq);
        let end = end.min(view.max_seq);
        if begin > end {
            return Ok((Vec::new(), false));
        }
        let mut messages = self
            .store
            .get_messages(user_id, conversation_id, begin, end, limit + 1)
            .await?;
        let more = messages.len() > limit as usize;
        messages.truncate(limit as usize);
        if let Some(last) = messages.last() {
            if last.seq > view.delivered_seq {
                self.store
                    .mark_delivered(user_id, conversation_id, last.seq, now_millis())
                    .await?;
            }
        }
        Ok((messages, more))
    }

    /// Marks a conversation read up to `seq` and tells the reader's other
    /// devices and, in a chat, the other user.
    pub async fn mark_read(
        &self,
        caller: &Caller,
        origin: Option<SessionId>,
        conversation_id: &str,
        seq: i64,
    ) -> Result<()> {
        let view = self
            .conversation(caller, &caller.user_id, conversation_id)
            .await?;
        let seq = seq.min(view.max_seq);
        if seq <= view.read_seq {
            return Ok(());
        }
        self.store
            .mark_read(&caller.user_id, conversation_id, seq, now_millis())
            .await?;
        let mut recipients = vec![caller.user_id.clone()];
        if view.session_type == SessionType::Single {
            recipients.push(UserId::from_trusted(view.peer_id.clone()));
        }
        self.appender.deliver(Delivery::Event(Event {
            recipients,
            origin,
            payload: Payload::Read {
                reader: caller.user_id.clone(),
                conversation_id: conversation_id.to_owned(),
                seq,
            },
        }));
        Ok(())
    }

    /// Records that the caller's device holds the conversation up to `seq`.
    pub async fn mark_delivered(
        &self,
        caller: &Caller,
        conversation_id: &str,
        seq: i64,
    ) -> Result<()> {
        let view = self
            .conversation(caller, &caller.user_id, conversation_id)
            .await?;
        let seq = seq.min(view.max_seq);
        if seq > view.delivered_seq {
            self.store
                .mark_delivered(&caller.user_id, conversation_id, seq, now_millis())
                .await?;
        }
        Ok(())
    }

    /// Revokes the message at `seq`: its sender within the revoke window,
    /// an owner or admin of its group, or an app admin. Everyone in the
    /// conversation gets a revoke notice (contentType 111).
    pub async fn revoke(
        &self,
        caller: &Caller,
        origin: Option<SessionId>,
        conversation_id: &str,
        seq: i64,
    ) -> Result<Message> {
        if !caller.is_admin {
            self.conversation(caller, &caller.user_id, conversation_id)
                .await?;
        }
        let target = self
            .store
            .get_message(conversation_id, seq)
            .await?
            .ok_or_else(|| Error::not_found(format!("no message {seq} in {conversation_id}")))?;
        self.revoke_message(caller, origin, target).await
    }

    async fn revoke_by_content(
        &self,
        caller: &Caller,
        origin: Option<SessionId>,
        conversation_id: &str,
        req: &SendRequest,
    ) -> Result<SendOutcome> {
        let target = match req.content.get("seq").and_then(serde_json::Value::as_i64) {
            Some(seq) => self.store.get_message(conversation_id, seq).await?,
            None => {
                let client_id = req
                    .content
                    .get("revokeMsgClientID")
                    .and_then(|v| v.as_str())
                    .unwrap_or("");
                self.store
                    .find_message_by_client_id(conversation_id, client_id)
                    .await?
            }
        }
        .ok_or_else(|| {
            Error::not_found("content: the message to revoke does not exist in this conversation")
        })?;
        let message = self.revoke_message(caller, origin, target).await?;
        Ok(SendOutcome {
            message,
            duplicate: false,
        })
    }

    async fn revoke_message(
        &self,
        caller: &Caller,
        origin: Option<SessionId>,
        target: Message,
    ) -> Result<Message> {
        if target.status == MessageStatus::Revoked {
            return Err(Error::precondition("the message is already revoked"));
        }
        if target.content_type == content_type::REVOKE
            || content_type::is_notification(target.content_type)
        {
            return Err(Error::precondition(
                "revoke notices and notifications cannot be revoked",
            ));
        }
        let now = now_millis();
        let own_in_window = target.sender_id == caller.user_id
            && now - target.send_time <= self.config.revoke_window_secs * 1000;
        let allowed = if caller.is_admin || own_in_window {
            true
        } else if target.session_type.is_group() {
            let group = GroupId::from_trusted(target.recv_id.clone());
            matches!(self.store.get_member(&group, &caller.user_id).await?, Some(m) if m.role.manages())
        } else {
            false
        };
        if !allowed {
            return Err(Error::denied(if target.sender_id == caller.user_id {
                format!(
                    "the revoke window of {} seconds has passed",
                    self.config.revoke_window_secs
                )
            } else {
                "only the sender, a group owner or admin, or an app admin may revoke this message"
                    .to_owned()
            }));
        }
        let content = serde_json::json!({
            "revokeMsgClientID": target.client_msg_id,
            "revokeMsgServerID": target.server_msg_id,
            "seq": target.seq,
            "revokerID": caller.user_id,
            "sourceMessageSendID": target.sender_id,
            "revokeTime": now,
        });
        let notice = Message {
            conversation_id: target.conversation_id.clone(),
            seq: 0,
            server_msg_id: new_id(),
            client_msg_id: new_id(),
            sender_id: caller.user_id.clone(),
            sender_platform: caller.platform.id(),
            sender_nickname: String::new(),
            sender_face_url: String::new(),
            session_type: target.session_type,
            recv_id: if target.session_type == SessionType::Single
                && target.sender_id != caller.user_id
            {
                target.sender_id.to_string()
            } else {
                target.recv_id.clone()
            },
            content_type: content_type::REVOKE,
            content: content.to_string(),
            send_time: now,
            status: MessageStatus::Normal,
            at_user_ids: Vec::new(),
            ex: String::new(),
        };
        let appended = self
            .store
            .revoke_message(
                &target.conversation_id,
                target.seq,
                &NewMessage {
                    message: notice,
                    participants: Vec::new(),
                },
            )
            .await?
            .ok_or_else(|| Error::not_found("the message to revoke does not exist"))?;
        self.appender.deliver(Delivery::Message(
            Arc::new(appended.message.clone()),
            origin,
        ));
        Ok(appended.message)
    }

    /// Hides the conversation's messages so far from the user (clear history).
    pub async fn clear_conversation(
        &self,
        caller: &Caller,
        user_id: &UserId,
        conversation_id: &str,
    ) -> Result<()> {
        caller.require_acts_for(user_id)?;
        if !self
            .store
            .clear_conversation(user_id, conversation_id, now_millis())
            .await?
        {
            return Err(Error::not_found(format!(
                "{user_id} has no conversation {conversation_id}"
            )));
        }
        Ok(())
    }

    /// Deletes messages for the user only.
    pub async fn delete_messages(
        &self,
        caller: &Caller,
        user_id: &UserId,
        conversation_id: &str,
        seqs: &[i64],
    ) -> Result<()> {
        validate::batch("seqList", seqs, 1000)?;
        self.conversation(caller, user_id, conversation_id).await?;
        self.store
            .delete_messages_for(user_id, conversation_id, seqs)
            .await?;
        Ok(())
    }

    pub async fn set_conversation(
        &self,
        caller: &Caller,
        user_id: &UserId,
        conversation_id: &str,
        patch: &ConversationPatch,
    ) -> Result<()> {
        caller.require_acts_for(user_id)?;
        validate::opt_max_len("ex", &patch.ex, validate::MAX_TEXT_LEN)?;
        if let Some(opt) = patch.recv_msg_opt {
            if !(0..=2).contains(&opt) {
                return Err(Error::invalid("recvMsgOpt: must be 0 (receive), 1 (do not receive) or 2 (receive without push)"));
            }
        }
        if !self
            .store
            .update_user_conversation(user_id, conversation_id, patch, now_millis())
            .await?
        {
            return Err(Error::not_found(format!(
                "{user_id} has no conversation {conversation_id}"
            )));
        }
        Ok(())
    }

    /// Ends the sessions of a user (on one platform, or all).
    pub(crate) fn kick(
        &self,
        user_id: &UserId,
        platform: Option<confab_core::Platform>,
        reason: &str,
    ) {
        self.appender.deliver(Delivery::Event(Event {
            recipients: vec![user_id.clone()],
            origin: None,
            payload: Payload::Kick {
                platform,
                reason: reason.to_owned(),
                except_session: None,
            },
        }));
    }
}
