//! For sessions of a protocol without delivery receipts (yunbay's
//! `/v1/ws`): what has been written to the client, which the session
//! records as delivered when it ends; the pushes held back while it catches
//! up; and what the catch-up covered, so that a push of the same arriving
//! late is not sent twice.

use crate::codec::Frame;
use std::collections::{HashMap, HashSet};

/// Written to the client: up to `seq` of a conversation counts as
/// received. `complete` false (a catch-up stopped short): and no further,
/// whatever is pushed there later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub conversation_id: String,
    pub seq: i64,
    pub complete: bool,
}

/// What the writer wrote, per conversation.
#[derive(Default)]
pub(crate) struct Marks {
    last: HashMap<String, i64>,
    capped: HashSet<String>,
}

impl Marks {
    pub(crate) fn record(&mut self, d: Delivered) {
        if self.capped.contains(&d.conversation_id) {
            return;
        }
        let last = self.last.entry(d.conversation_id.clone()).or_default();
        *last = (*last).max(d.seq);
        if !d.complete {
            self.capped.insert(d.conversation_id);
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
    pub(crate) fn new(seen: &[(&str, i64)], sent: &[i64]) -> Covered {
        Covered {
            seen: seen.iter().map(|(c, s)| ((*c).to_owned(), *s)).collect(),
            sent: sent.iter().copied().collect(),
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

    fn d(c: &str, seq: i64, complete: bool) -> Delivered {
        Delivered {
            conversation_id: c.into(),
            seq,
            complete,
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
        let covered = Covered::new(&[("n_1", 4)], &[9]);
        assert!(covered.covers(Some(&("n_1".into(), 4)), None));
        assert!(!covered.covers(Some(&("n_1".into(), 5)), None));
        assert!(covered.covers(Some(&("n_1".into(), 5)), Some(9)));
        assert!(!covered.covers(Some(&("b_all".into(), 1)), None));
    }
}
