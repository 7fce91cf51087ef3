//! A reconnected user's sync, as a client does it: the max seq of every
//! conversation, then a pull of what lies past what the user holds. What
//! it pulls must be gap-free: every seq from where the pull began up to
//! the max seq the server named.

use super::{Soak, Tally};
use confab_client::WsClient;
use std::collections::HashMap;

/// Conversation id → the highest seq the user holds.
pub(super) type Held = HashMap<String, i64>;

/// Syncs `client`'s user past `held`, counting gaps; returns the highest
/// seq pulled per conversation.
pub(super) async fn sync(soak: &Soak, client: &WsClient, held: &Held) -> Held {
    let t = &soak.tally;
    let mut pulled = Held::new();
    let conversations = match client.max_seqs().await {
        Ok(c) => c,
        Err(e) => {
            t.error(&t.sync_failures, || format!("get_max_seqs: {e}"));
            return pulled;
        }
    };
    Tally::add(&t.syncs);
    for c in conversations {
        let have = held.get(&c.conversation_id).copied().unwrap_or(0);
        if c.max_seq <= have {
            continue;
        }
        // Below min_seq (a member who joined late) nothing is visible.
        let begin = (have + 1).max(c.min_seq);
        let messages = match client.pull_all(&c.conversation_id, begin).await {
            Ok(m) => m,
            Err(e) => {
                let conversation = &c.conversation_id;
                t.error(&t.sync_failures, || format!("pull {conversation}: {e}"));
                continue;
            }
        };
        let seqs: Vec<i64> = messages.iter().map(|m| m.seq).collect();
        t.synced_messages
            .fetch_add(seqs.len() as u64, std::sync::atomic::Ordering::Relaxed);
        if let Some(gap) = first_gap(begin, &seqs, c.max_seq) {
            let conversation = &c.conversation_id;
            t.error(&t.sync_gaps, || format!("sync of {conversation}: {gap}"));
        }
        if let Some(&last) = seqs.last() {
            pulled.insert(c.conversation_id, last);
        }
    }
    pulled
}

/// What is wrong with a pull from `begin` that returned `seqs`, given the
/// conversation's `max_seq` before it: a seq missing, out of order, or
/// the pull ending short. Seqs past `max_seq` are messages sent since.
fn first_gap(begin: i64, seqs: &[i64], max_seq: i64) -> Option<String> {
    let mut expected = begin;
    for &seq in seqs {
        if seq != expected {
            return Some(format!("expected seq {expected}, got {seq}"));
        }
        expected += 1;
    }
    (expected <= max_seq).then(|| format!("pulled up to {}, max seq {max_seq}", expected - 1))
}

/// Raises each conversation's held seq to `pulled`'s.
pub(super) fn merge(held: &mut Held, pulled: Held) {
    for (conversation, seq) in pulled {
        let entry = held.entry(conversation).or_insert(seq);
        *entry = (*entry).max(seq);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pull_is_gap_free_from_its_begin_to_the_max_seq() {
        assert_eq!(first_gap(4, &[4, 5, 6], 6), None);
        assert_eq!(first_gap(4, &[4, 5, 6, 7], 6), None, "sent since");
        assert_eq!(
            first_gap(4, &[4, 6], 6).as_deref(),
            Some("expected seq 5, got 6")
        );
        assert_eq!(
            first_gap(4, &[5, 6], 6).as_deref(),
            Some("expected seq 4, got 5")
        );
        assert_eq!(
            first_gap(4, &[4, 5], 6).as_deref(),
            Some("pulled up to 5, max seq 6")
        );
        assert_eq!(
            first_gap(4, &[], 6).as_deref(),
            Some("pulled up to 3, max seq 6")
        );
    }

    #[test]
    fn merging_keeps_the_higher_seq() {
        let mut held = Held::from([("a".to_owned(), 5), ("b".to_owned(), 2)]);
        merge(
            &mut held,
            Held::from([
                ("a".to_owned(), 3),
                ("b".to_owned(), 7),
                ("c".to_owned(), 1),
            ]),
        );
        assert_eq!(
            held,
            Held::from([("a".into(), 5), ("b".into(), 7), ("c".into(), 1)])
        );
    }
}
