//! What a notification client gets when it connects (the yunbay API's
//! `/v1/ws`): the notifications it has not received yet (sent to the user,
//! and broadcasts of the last `broadcast_ttl_secs` that match the session),
//! and those still waiting for the user's ack; and the acks themselves.
//!
//! "Received" is the user's delivered mark in their notification
//! conversation and in the broadcast conversation, so a notification
//! reaches a user once whichever gateway they use; a session of a protocol
//! without delivery receipts moves the mark as it is pushed to.

use crate::auth::Caller;
use crate::notify::SentNotification;
use crate::Service;
use confab_core::message::{notification_conversation_id, Message, BROADCAST_CONVERSATION_ID};
use confab_core::presence::SessionAttributes;
use confab_core::{now_millis, Error, Result};
use std::collections::BTreeMap;

/// Most notifications sent on one connection, per source (the user's own,
/// broadcasts, awaited acks); the rest come on the next one.
pub const MAX_CATCH_UP: u32 = 1000;

/// What a connecting session is to be sent, and how far it looked.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CatchUp {
    /// In id order, each once.
    pub notifications: Vec<SentNotification>,
    /// The last seq looked at per conversation: a push of a seq up to it
    /// that reached the session meanwhile is in `notifications` already,
    /// or is not for it.
    pub seen: Vec<(String, i64)>,
}

impl Service {
    /// Broadcast messages young enough to be still delivered, oldest first,
    /// at most `MAX_CATCH_UP`.
    async fn live_broadcasts(&self, caller: &Caller) -> Result<Vec<Message>> {
        let cutoff = self.broadcast_cutoff();
        let Some(first) = self
            .store
            .first_seq_since(BROADCAST_CONVERSATION_ID, cutoff)
            .await?
        else {
            return Ok(Vec::new());
        };
        let last = self.store.max_seq(BROADCAST_CONVERSATION_ID).await?;
        self.store
            .get_messages(
                &caller.user_id,
                BROADCAST_CONVERSATION_ID,
                first,
                last,
                MAX_CATCH_UP,
            )
            .await
    }

    fn broadcast_cutoff(&self) -> i64 {
        now_millis() - self.config.signed_api.broadcast_ttl_secs * 1000
    }

    /// The notifications a session of `caller` with `attributes` gets on
    /// connecting, in id order, each once; they count as delivered from
    /// now. Users get any app's system notifications this way; change
    /// notices (friends, groups) are left to sync.
    pub async fn catch_up_notifications(
        &self,
        caller: &Caller,
        attributes: &SessionAttributes,
    ) -> Result<CatchUp> {
        let user = &caller.user_id;
        let mut out: BTreeMap<i64, SentNotification> = BTreeMap::new();
        let mut seen = Vec::new();

        // Sent to the user, past their delivered mark.
        let own = notification_conversation_id(user);
        if let Some(state) = self.store.user_conversation(user, &own).await? {
            let from = state.delivered_seq.max(state.min_seq - 1) + 1;
            if from <= state.max_seq {
                let messages = self
                    .store
                    .get_messages(user, &own, from, state.max_seq, MAX_CATCH_UP)
                    .await?;
                if let Some(last) = messages.last() {
                    self.store
                        .mark_delivered(user, &own, last.seq, now_millis())
                        .await?;
                    seen.push((own.clone(), last.seq));
                }
                for n in messages.iter().filter_map(SentNotification::from_message) {
                    out.insert(n.id, n);
                }
            }
        }

        // Sent to the user and not acked yet.
        for awaited in self.store.awaited_acks(user, MAX_CATCH_UP).await? {
            if let Ok(n) = serde_json::from_str::<SentNotification>(&awaited.body) {
                out.insert(n.id, n);
            }
        }

        // Broadcasts: new to the user, or asking an ack they have not given.
        let broadcasts = self.live_broadcasts(caller).await?;
        if !broadcasts.is_empty() {
            let delivered = self
                .store
                .user_conversation(user, BROADCAST_CONVERSATION_ID)
                .await?
                .map(|s| s.delivered_seq.max(s.min_seq - 1))
                .unwrap_or(0);
            let matching: Vec<(i64, SentNotification)> = broadcasts
                .iter()
                .filter_map(|m| SentNotification::from_message(m).map(|n| (m.seq, n)))
                .filter(|(_, n)| n.filter.as_ref().is_none_or(|f| f.matches(attributes)))
                .collect();
            let asking: Vec<i64> = matching
                .iter()
                .filter(|(seq, n)| *seq <= delivered && n.ack)
                .map(|(_, n)| n.id)
                .collect();
            let acked = if asking.is_empty() {
                Vec::new()
            } else {
                self.store.broadcast_acks(user, &asking).await?
            };
            for (seq, n) in matching {
                if seq > delivered || (n.ack && !acked.contains(&n.id)) {
                    out.insert(n.id, n);
                }
            }
            if let Some(last) = broadcasts.last() {
                if last.seq > delivered {
                    self.store
                        .mark_delivered(user, BROADCAST_CONVERSATION_ID, last.seq, now_millis())
                        .await?;
                }
                seen.push((BROADCAST_CONVERSATION_ID.to_owned(), last.seq));
            }
        }
        Ok(CatchUp {
            notifications: out.into_values().collect(),
            seen,
        })
    }

    /// Records `caller`'s ack of notification `id`: it is not sent to them
    /// again. `NotFound` when nothing of theirs awaits that ack.
    pub async fn ack_notification(&self, caller: &Caller, id: i64) -> Result<()> {
        let user = &caller.user_id;
        if self.store.ack_awaited(user, id).await? {
            return Ok(());
        }
        let is_live_broadcast = self
            .live_broadcasts(caller)
            .await?
            .iter()
            .filter_map(SentNotification::from_message)
            .any(|n| n.id == id && n.ack);
        if !is_live_broadcast {
            return Err(Error::not_found(format!(
                "notification {id}: none of yours waits for an ack"
            )));
        }
        self.store
            .put_broadcast_ack(user, id, now_millis(), self.broadcast_cutoff())
            .await
    }
}
