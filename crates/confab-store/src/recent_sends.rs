//! The embedded backend's index of recent sends: which log row holds the
//! message a sender sent with a client msg id, for the last so many
//! messages.
//!
//! A unique index on (sender, client msg id) in the database costs a random
//! page write per message; this costs nothing on disk. It is rebuilt from
//! the end of the log on start, so a resend after a restart is still found.
//! A resend of a message older than the window is taken as a new message.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

/// Sends remembered by default: 16 bytes in the map and 16 in the queue,
/// with the map's slack about 50 MB; about 3 s to rebuild on start from a
/// log of a million messages or more (docs/decisions.md).
pub const DEFAULT_WINDOW: usize = 1_000_000;

/// A send's key: a 64-bit hash of (sender, client msg id). Sends whose
/// keys collide are all remembered, and the rows are read and compared
/// before a send is taken as a resend, so a collision costs a read, never
/// a wrong answer.
pub(crate) type SendKey = u64;

pub(crate) struct RecentSends {
    /// The latest row of each key.
    rows: HashMap<SendKey, i64>,
    /// Older rows of keys that collided, still in the window (rare).
    older: HashMap<SendKey, Vec<i64>>,
    /// Keys in log order, to forget the oldest.
    order: VecDeque<(i64, SendKey)>,
    window: usize,
}

impl RecentSends {
    pub(crate) fn new(window: usize) -> RecentSends {
        RecentSends {
            rows: HashMap::with_capacity(window.min(1 << 16)),
            older: HashMap::new(),
            order: VecDeque::with_capacity(window.min(1 << 16)),
            window,
        }
    }

    /// The key of a send. The hasher's keys are fixed (the index lives only
    /// in memory, and the hash must be stable within a run).
    pub(crate) fn key(sender: &str, client_msg_id: &str) -> SendKey {
        BuildHasherDefault::<DefaultHasher>::default().hash_one((sender, client_msg_id))
    }

    /// The log rows that may hold the send (nearly always none or one):
    /// compare their sender and client msg id before taking one as the
    /// same send.
    pub(crate) fn rows_of(&self, key: SendKey) -> impl Iterator<Item = i64> + '_ {
        let older = self.older.get(&key).into_iter().flatten().copied();
        self.rows.get(&key).copied().into_iter().chain(older)
    }

    /// Remembers that log row `row` holds the send `key`; rows come in log
    /// order. The oldest sends beyond the window are forgotten.
    pub(crate) fn remember(&mut self, row: i64, key: SendKey) {
        if self.window == 0 {
            return;
        }
        if let Some(previous) = self.rows.insert(key, row) {
            self.older.entry(key).or_default().push(previous);
        }
        self.order.push_back((row, key));
        while self.order.len() > self.window {
            if let Some((old_row, old_key)) = self.order.pop_front() {
                self.forget(old_row, old_key);
            }
        }
    }

    /// Forgets that `row` holds `key` (the row leaves the window).
    fn forget(&mut self, row: i64, key: SendKey) {
        if self.rows.get(&key) == Some(&row) {
            // Older rows of the key left the window before this one.
            self.rows.remove(&key);
            self.older.remove(&key);
        } else if let Some(rows) = self.older.get_mut(&key) {
            rows.retain(|r| *r != row);
            if rows.is_empty() {
                self.older.remove(&key);
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.order.len()
    }
}

#[cfg(test)]
mod tests {
    use super::RecentSends;

    #[test]
    fn remembers_the_window_and_forgets_the_oldest() {
        let mut recent = RecentSends::new(3);
        let keys: Vec<u64> = (0..5)
            .map(|i| RecentSends::key("alice", &format!("c{i}")))
            .collect();
        for (row, key) in keys.iter().enumerate() {
            recent.remember(row as i64 + 1, *key);
        }
        assert_eq!(recent.len(), 3);
        assert_eq!(recent.rows_of(keys[0]).count(), 0);
        assert_eq!(recent.rows_of(keys[1]).count(), 0);
        assert_eq!(recent.rows_of(keys[2]).collect::<Vec<_>>(), [3]);
        assert_eq!(recent.rows_of(keys[4]).collect::<Vec<_>>(), [5]);
    }

    #[test]
    fn the_key_tells_senders_and_ids_apart() {
        let a = RecentSends::key("alice", "c1");
        assert_eq!(a, RecentSends::key("alice", "c1"));
        assert_ne!(a, RecentSends::key("bob", "c1"));
        assert_ne!(a, RecentSends::key("alice", "c2"));
        // The pair is hashed as a pair, not as the joined text.
        assert_ne!(RecentSends::key("ab", "c"), RecentSends::key("a", "bc"));
    }

    #[test]
    fn sends_whose_keys_collide_are_all_remembered_until_they_leave() {
        let mut recent = RecentSends::new(3);
        recent.remember(1, 7);
        recent.remember(2, 7);
        let rows: Vec<i64> = recent.rows_of(7).collect();
        assert_eq!(rows, [2, 1], "both rows of the key are candidates");
        recent.remember(3, 8);
        recent.remember(4, 9);
        assert_eq!(
            recent.rows_of(7).collect::<Vec<_>>(),
            [2],
            "row 1 left the window"
        );
        recent.remember(5, 9);
        assert_eq!(recent.rows_of(7).count(), 0);
        assert_eq!(recent.rows_of(9).collect::<Vec<_>>(), [5, 4]);
        assert!(recent.older.len() == 1 && recent.rows.len() == 2);
    }
}
