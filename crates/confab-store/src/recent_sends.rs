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

/// A send's key: a 64-bit hash of (sender, client msg id). Two sends whose
/// hashes collide are told apart by reading the row, so a collision costs a
/// read, never a wrong answer.
pub(crate) type SendKey = u64;

pub(crate) struct RecentSends {
    rows: HashMap<SendKey, i64>,
    /// Keys in log order, to forget the oldest.
    order: VecDeque<(i64, SendKey)>,
    window: usize,
}

impl RecentSends {
    pub(crate) fn new(window: usize) -> RecentSends {
        RecentSends {
            rows: HashMap::with_capacity(window.min(1 << 16)),
            order: VecDeque::with_capacity(window.min(1 << 16)),
            window,
        }
    }

    /// The key of a send. The hasher's keys are fixed (the index lives only
    /// in memory, and the hash must be stable within a run).
    pub(crate) fn key(sender: &str, client_msg_id: &str) -> SendKey {
        BuildHasherDefault::<DefaultHasher>::default().hash_one((sender, client_msg_id))
    }

    /// The log row that may hold the send: compare its sender and client
    /// msg id before taking it as the same send.
    pub(crate) fn row_of(&self, key: SendKey) -> Option<i64> {
        self.rows.get(&key).copied()
    }

    /// Remembers that log row `row` holds the send `key`; rows come in log
    /// order. The oldest sends beyond the window are forgotten.
    pub(crate) fn remember(&mut self, row: i64, key: SendKey) {
        if self.window == 0 {
            return;
        }
        self.rows.insert(key, row);
        self.order.push_back((row, key));
        while self.order.len() > self.window {
            if let Some((old_row, old_key)) = self.order.pop_front() {
                // The key may since point at a later row (a hash collision
                // overwrote it); only forget it if it is still this row.
                if self.rows.get(&old_key) == Some(&old_row) {
                    self.rows.remove(&old_key);
                }
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
        assert_eq!(recent.row_of(keys[0]), None);
        assert_eq!(recent.row_of(keys[1]), None);
        assert_eq!(recent.row_of(keys[2]), Some(3));
        assert_eq!(recent.row_of(keys[4]), Some(5));
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
    fn a_collision_that_moved_the_key_is_not_forgotten_early() {
        let mut recent = RecentSends::new(2);
        recent.remember(1, 7);
        recent.remember(2, 7);
        recent.remember(3, 8);
        assert_eq!(
            recent.row_of(7),
            Some(2),
            "row 1 left, the key now names row 2"
        );
    }
}
