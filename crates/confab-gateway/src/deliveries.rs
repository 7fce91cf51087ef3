//! For sessions of a protocol without delivery receipts (yunbay's
//! `/v1/ws`): what has been written to the client, which the session
//! records as delivered when it ends; the pushes held back while it catches
//! up; and what the catch-up covered, so that a push of the same arriving
//! late is not sent twice.

use crate::codec::Frame;
use confab_service::{Looked, SentNotification};
use std::collections::{HashMap, HashSet};

/// What the writer wrote, per conversation.
#[derive(Default)]
pub(crate) struct Marks {
    last: HashMap<String, i64>,
    capped: HashSet<String>,
}

impl Marks {
    /// Up to `last` of a conversation was written; when not `complete` (a
    /// catch-up stopped short), nothing later there may move the mark.
    pub(crate) fn record(&mut self, written: Looked) {
        if self.capped.contains(&written.conversation_id) {
            return;
        }
        let last = self
            .last
            .entry(written.conversation_id.clone())
            .or_default();
        *last = (*last).max(written.last);
        if !written.complete {
            self.capped.insert(written.conversation_id);
        }
    }

    pub(crate) fn take(&mut self) -> Vec<(String, i64)> {
        std::mem::take(&mut self.last).into_iter().collect()
    }
}

/// A push held back during a catch-up.
pub(crate) struct HeldPush {
    pub frame: Frame,
    /// The conversation and seq of its message.
    pub message: Option<(String, i64)>,
    /// The notification it carries.
    pub notification: Option<i64>,
}

/// What a catch-up sent or looked at.
#[derive(Default)]
pub(crate) struct Covered {
    /// The last seq looked at per conversation.
    seen: HashMap<String, i64>,
    /// Notifications sent, by id.
    sent: HashSet<i64>,
}

impl Covered {
    pub(crate) fn new(looked: &[Looked], sent: &[SentNotification]) -> Covered {
        Covered {
            seen: looked
                .iter()
                .map(|l| (l.conversation_id.clone(), l.last))
                .collect(),
            sent: sent.iter().map(|n| n.id).collect(),
        }
    }

    /// Whether a push of `message` (carrying `notification`) is the
    /// catch-up's already.
    pub(crate) fn covers(
        &self,
        message: Option<&(String, i64)>,
        notification: Option<i64>,
    ) -> bool {
        message.is_some_and(|(c, seq)| self.seen.get(c).is_some_and(|last| seq <= last))
            || notification.is_some_and(|id| self.sent.contains(&id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(c: &str, last: i64, complete: bool) -> Looked {
        Looked {
            conversation_id: c.into(),
            last,
            complete,
        }
    }

    fn sent(id: i64) -> SentNotification {
        SentNotification {
            id,
            kind: 0,
            action: "a".into(),
            payload: serde_json::Value::Null,
            ack: false,
            filter: None,
        }
    }

    #[test]
    fn a_catch_up_cut_short_caps_its_conversation() {
        let mut marks = Marks::default();
        marks.record(d("n_1", 5, true));
        marks.record(d("n_1", 7, true));
        marks.record(d("b_all", 1000, false));
        marks.record(d("b_all", 1006, true));
        let mut got = marks.take();
        got.sort();
        assert_eq!(got, [("b_all".to_owned(), 1000), ("n_1".to_owned(), 7)]);
    }

    #[test]
    fn covered_by_seq_or_id() {
        let covered = Covered::new(&[d("n_1", 4, true)], &[sent(9)]);
        assert!(covered.covers(Some(&("n_1".into(), 4)), None));
        assert!(!covered.covers(Some(&("n_1".into(), 5)), None));
        assert!(covered.covers(Some(&("n_1".into(), 5)), Some(9)));
        assert!(!covered.covers(Some(&("b_all".into(), 1)), None));
    }
}
