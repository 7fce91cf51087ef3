//! What a notification client gets when it connects (the yunbay API's
//! `/v1/ws`): the notifications it has not received yet (sent to the user,
//! and broadcasts of the last `broadcast_ttl_secs` that match the session),
//! and those still waiting for the user's ack; and the acks themselves.
//!
//! "Received" is the user's delivered mark in their notification
//! conversation and in the broadcast conversation. Nothing here moves it:
//! the session does, for what it queued, when it ends (a protocol without
//! delivery receipts counts a push as delivered), so that a catch-up cut
//! short loses nothing.

use crate::auth::Caller;
use crate::notify::SentNotification;
use crate::Service;
use confab_core::message::{
    notification_conversation_id, Message, UserConversation, BROADCAST_CONVERSATION_ID,
};
use confab_core::presence::SessionAttributes;
use confab_core::store::AwaitedAck;
use confab_core::{now_millis, Error, Result};
use std::collections::BTreeMap;

/// Most notifications sent on one connection, per source (the user's own,
/// new broadcasts, awaited acks, broadcasts awaiting acks); the rest come on
/// the next one.
pub const MAX_CATCH_UP: u32 = 1000;

/// How far a catch-up looked in one conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Looked {
    pub conversation_id: String,
    /// The last seq looked at: a push up to it that reached the session
    /// meanwhile is in the catch-up already, or is not for it.
    pub last: i64,
    /// Whether it looked up to the conversation's end. When not, what the
    /// session is pushed there must not move the delivered mark past
    /// `last`: the rest waits for the next connection.
    pub complete: bool,
}

/// What a connecting session is to be sent, and how far it looked.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CatchUp {
    /// In id order, each once.
    pub notifications: Vec<SentNotification>,
    pub looked: Vec<Looked>,
}

fn parse_awaited(awaited: Vec<AwaitedAck>) -> impl Iterator<Item = SentNotification> {
    awaited
        .into_iter()
        .filter_map(|a| serde_json::from_str::<SentNotification>(&a.body).ok())
}

impl Service {
    /// Broadcasts sent before this are delivered to nobody any more.
    pub(crate) fn broadcast_cutoff(&self) -> i64 {
        now_millis() - self.config.signed_api.broadcast_ttl_secs * 1000
    }

    /// The messages of a user's conversation past their delivered mark
    /// (and from `first`), at most `MAX_CATCH_UP`, with how far that looked.
    async fn unreceived(
        &self,
        state: &UserConversation,
        first: i64,
    ) -> Result<(Vec<Message>, Looked)> {
        let conversation_id = state.conversation_id.as_str();
        let delivered = state.delivered_seq.max(state.min_seq - 1);
        let last = state.max_seq;
        let from = first.max(delivered + 1);
        // One more than taken tells whether the rest is empty.
        let mut messages = if from <= last {
            self.store
                .get_messages(
                    &state.user_id,
                    conversation_id,
                    from,
                    last,
                    MAX_CATCH_UP + 1,
                )
                .await?
        } else {
            Vec::new()
        };
        let full = messages.len() > MAX_CATCH_UP as usize;
        messages.truncate(MAX_CATCH_UP as usize);
        let looked = Looked {
            conversation_id: conversation_id.to_owned(),
            last: match (full, messages.last()) {
                (true, Some(m)) => m.seq,
                _ => last.max(delivered),
            },
            complete: !full,
        };
        Ok((messages, looked))
    }

    /// The notifications a session of `caller` with `attributes` is to get
    /// on connecting, in id order, each once. Users get any app's system
    /// notifications this way; change notices (friends, groups) are left
    /// to sync.
    pub async fn catch_up_notifications(
        &self,
        caller: &Caller,
        attributes: &SessionAttributes,
    ) -> Result<CatchUp> {
        let user = &caller.user_id;
        let cutoff = self.broadcast_cutoff();
        let mut out: BTreeMap<i64, SentNotification> = BTreeMap::new();
        let mut looked = Vec::new();
        let matches =
            |n: &SentNotification| n.filter.as_ref().is_none_or(|f| f.matches(attributes));

        // Sent to the user, past their delivered mark.
        let own = notification_conversation_id(user);
        if let Some(state) = self.store.user_conversation(user, &own).await? {
            let (messages, seen) = self.unreceived(&state, 1).await?;
            for n in messages.iter().filter_map(SentNotification::from_message) {
                out.insert(n.id, n);
            }
            looked.push(seen);
        }
        // Sent to the user and not acked yet.
        for n in parse_awaited(self.store.awaited_acks(user, MAX_CATCH_UP).await?) {
            out.insert(n.id, n);
        }

        // Broadcasts of the last `broadcast_ttl_secs` new to the user...
        let first = self
            .store
            .first_seq_since(BROADCAST_CONVERSATION_ID, cutoff)
            .await?;
        let state = match first {
            // (Every user has a state in a broadcast conversation that has
            // a message.)
            Some(_) => {
                self.store
                    .user_conversation(user, BROADCAST_CONVERSATION_ID)
                    .await?
            }
            None => None,
        };
        if let (Some(first), Some(state)) = (first, state) {
            let (messages, seen) = self.unreceived(&state, first).await?;
            let fresh: Vec<SentNotification> = messages
                .iter()
                .filter_map(SentNotification::from_message)
                .filter(|n| matches(n))
                .collect();
            // ...but those acked already (on another of their devices).
            let asking: Vec<i64> = fresh.iter().filter(|n| n.ack).map(|n| n.id).collect();
            let acked = if asking.is_empty() {
                Vec::new()
            } else {
                self.store.broadcast_acks(user, &asking).await?
            };
            for n in fresh {
                if !(n.ack && acked.contains(&n.id)) {
                    out.insert(n.id, n);
                }
            }
            looked.push(seen);
        }
        // ...and those still asking for their ack.
        for n in parse_awaited(
            self.store
                .unacked_broadcasts(user, cutoff, MAX_CATCH_UP)
                .await?,
        ) {
            if matches(&n) {
                out.insert(n.id, n);
            }
        }
        Ok(CatchUp {
            notifications: out.into_values().collect(),
            looked,
        })
    }

    /// Records `caller`'s ack of notification `id`: it is not sent to them
    /// again. `NotFound` when nothing of theirs awaits that ack.
    pub async fn ack_notification(&self, caller: &Caller, id: i64) -> Result<()> {
        let user = &caller.user_id;
        if self.store.ack_awaited(user, id).await? {
            return Ok(());
        }
        let cutoff = self.broadcast_cutoff();
        if !self.store.is_ack_broadcast(id, cutoff).await? {
            return Err(Error::not_found(format!(
                "notification {id}: none of yours waits for an ack"
            )));
        }
        self.store
            .put_broadcast_ack(user, id, now_millis(), cutoff)
            .await
    }
}
