//! A user's conversations: the seqs sync starts from, pulling, read and
//! delivered marks, clearing, deleting for oneself, per-user settings.

use crate::appender::Delivery;
use crate::auth::Caller;
use crate::versions::conversation_update;
use crate::Service;
use confab_core::bus::{Event, Payload, SessionId};
use confab_core::message::*;
use confab_core::validate;
use confab_core::{now_millis, Error, Field, Result, UserId};

/// Most messages one `pull` returns.
pub const MAX_PULL: u32 = 100;
/// Most seqs one `delete_messages` takes.
const MAX_DELETE: usize = 1000;
/// Most ranges one `pull_ranges` takes, and most conversations one batch
/// of conversation changes or clears takes.
pub const MAX_CONVERSATION_BATCH: usize = 1000;

/// Messages `begin..=end` of one conversation, at most `limit` (0: the most).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeqRange {
    pub conversation_id: String,
    pub begin: i64,
    pub end: i64,
    pub limit: u32,
}

/// What one range of `pull_ranges` gave.
#[derive(Debug, Clone)]
pub struct PulledRange {
    pub conversation_id: String,
    pub messages: Vec<Message>,
    /// More messages remain in the range.
    pub more: bool,
}

/// One user's settings of one conversation to change.
#[derive(Debug, Clone)]
pub struct ConversationChange {
    pub user_id: UserId,
    pub conversation_id: String,
    pub patch: ConversationPatch,
}

impl Service {
    /// How many messages of others, in the user's chats and groups, no
    /// device of theirs has received yet (it drops as a device syncs).
    pub async fn offline_message_count(&self, caller: &Caller, user_id: &UserId) -> Result<i64> {
        caller.require_acts_for(user_id)?;
        self.require_user(user_id).await?;
        self.store.undelivered_count(user_id).await
    }

    /// Pulls several ranges (of one or several conversations), in order;
    /// fails as a whole if one range fails.
    pub async fn pull_ranges(
        &self,
        caller: &Caller,
        user_id: &UserId,
        ranges: &[SeqRange],
    ) -> Result<Vec<PulledRange>> {
        validate::batch(Field::Seqs, ranges, MAX_CONVERSATION_BATCH)?;
        let mut out = Vec::with_capacity(ranges.len());
        for r in ranges {
            let (messages, more) = self
                .pull(caller, user_id, &r.conversation_id, r.begin, r.end, r.limit)
                .await?;
            out.push(PulledRange {
                conversation_id: r.conversation_id.clone(),
                messages,
                more,
            });
        }
        Ok(out)
    }

    /// Clears the history of the given conversations of the user, or of all
    /// their conversations when `conversation_ids` is empty.
    pub async fn clear_conversations(
        &self,
        caller: &Caller,
        user_id: &UserId,
        conversation_ids: &[String],
    ) -> Result<()> {
        let ids: Vec<String> = if conversation_ids.is_empty() {
            self.conversations(caller, user_id)
                .await?
                .into_iter()
                .map(|c| c.conversation_id)
                .collect()
        } else {
            conversation_ids.to_vec()
        };
        for id in &ids {
            self.clear_conversation(caller, user_id, id).await?;
        }
        Ok(())
    }

    /// Applies each change; one result per change, in order. An internal
    /// error stops the batch.
    pub async fn set_conversations(
        &self,
        caller: &Caller,
        changes: &[ConversationChange],
    ) -> Result<Vec<Result<()>>> {
        validate::batch(Field::Conversations, changes, MAX_CONVERSATION_BATCH)?;
        let mut out = Vec::with_capacity(changes.len());
        for c in changes {
            let result = self
                .set_conversation(caller, &c.user_id, &c.conversation_id, &c.patch)
                .await;
            if let Err(e) = &result {
                if e.kind() == confab_core::ErrorKind::Internal {
                    return Err(e.clone());
                }
            }
            out.push(result);
        }
        Ok(out)
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
        // Pulled chat counts as received. Notifications do not: a
        // notification client (yunbay's `/v1/ws`) must still be sent them,
        // and an app's chat socket pulls every conversation.
        if let Some(last) = messages.last() {
            if last.seq > view.delivered_seq && view.session_type != SessionType::Notification {
                // A read must not fail for its bookkeeping: on a full disk
                // the mark cannot be written, and the messages are still
                // the client's (a mark not moved costs at most a message
                // counted as undelivered once more).
                let marked = self
                    .store
                    .mark_delivered(user_id, conversation_id, last.seq, now_millis())
                    .await;
                if let Err(e) = marked {
                    tracing::warn!(error = %e.log_message(), conversation = conversation_id, "recording what a pull delivered");
                }
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
        // The unread count is part of the conversation a syncing device
        // gets (OpenIM's SDK learns a read on another device so).
        self.record_versions(vec![conversation_update(&caller.user_id, conversation_id)])
            .await;
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
            filter: None,
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
        // Its `min_seq` moved, which OpenIM's conversation record shows.
        self.record_versions(vec![conversation_update(user_id, conversation_id)])
            .await;
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
        validate::batch(Field::Seqs, seqs, MAX_DELETE)?;
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
        validate::opt_max_len(Field::Ex, &patch.ex, validate::MAX_TEXT_LEN)?;
        if let Some(opt) = patch.recv_msg_opt {
            if !(0..=2).contains(&opt) {
                return Err(Error::invalid_field(
                    Field::ReceiveOption,
                    "must be 0 (receive), 1 (do not receive) or 2 (receive without push)",
                ));
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
        self.record_versions(vec![conversation_update(user_id, conversation_id)])
            .await;
        // The user's other devices are told; online only: they read the
        // settings with their conversations anyway.
        self.appender.deliver(Delivery::Event(Event {
            recipients: vec![user_id.clone()],
            origin: None,
            payload: Payload::ConversationsChanged {
                user_id: user_id.clone(),
                conversation_ids: vec![conversation_id.to_owned()],
            },
            filter: None,
        }));
        Ok(())
    }
}
