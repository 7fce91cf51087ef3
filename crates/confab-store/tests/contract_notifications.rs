//! The contract suite, continued (`contract.rs` holds the rest): numbered
//! users, the first seq since a time, the yunbay API's user tokens, and
//! notifications (ids, awaited acks, broadcast acks). Every case runs
//! against both backends.

// Test helpers fail loudly: a panic is the report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod support;

use support::{chat, seed_users, uid, user};

use confab_core::message::*;
use confab_core::model::*;
use confab_core::store::{AwaitedAck, Store};
use confab_core::ErrorKind;

/// A one-to-one message sent at `send_time`.
fn chat_at(from: &str, to: &str, client_msg_id: &str, send_time: i64) -> NewMessage {
    let mut m = chat(from, to, client_msg_id, "hi");
    m.message.send_time = send_time;
    m
}

fn broadcast(client_msg_id: &str, send_time: i64) -> NewMessage {
    let mut m = chat_at("notifier", "x", client_msg_id, send_time);
    m.message.conversation_id = BROADCAST_CONVERSATION_ID.into();
    m.message.session_type = SessionType::Notification;
    m.message.recv_id = String::new();
    m.participants.clear();
    m
}

fn awaited(user: &str, notification_id: i64, body: &str) -> AwaitedAck {
    AwaitedAck {
        user_id: uid(user),
        notification_id,
        body: body.into(),
    }
}

fn ids(users: &[User]) -> Vec<&str> {
    users.iter().map(|u| u.user_id.as_str()).collect()
}

async fn numbered_users_are_those_whose_id_is_their_number(s: &dyn Store) {
    // Numbers: 12, 7, 30; alice, "007" and bob take numbers of the named
    // users' range.
    seed_users(s, &["12", "alice", "7", "007", "30", "bob"]).await;
    let all = s.numbered_users(0, 100).await.unwrap();
    assert_eq!(ids(&all), ["7", "12", "30"], "in number order, no others");
    assert_eq!(
        all.iter().map(|u| u.numeric_id).collect::<Vec<_>>(),
        [7, 12, 30]
    );
    assert_eq!(all[1], s.get_user(&uid("12")).await.unwrap().unwrap());
    assert_eq!(all[1].nickname, "nick 12", "whole rows");

    assert_eq!(ids(&s.numbered_users(0, 2).await.unwrap()), ["7", "12"]);
    assert_eq!(ids(&s.numbered_users(12, 1).await.unwrap()), ["12"]);
    assert_eq!(
        ids(&s.numbered_users(13, 1).await.unwrap()),
        ["30"],
        "the limit counts numbered users only (alice and 007 are skipped)"
    );
    assert!(s.numbered_users(31, 10).await.unwrap().is_empty());
    assert!(s.numbered_users(0, 0).await.unwrap().is_empty());

    // A phone user's id is the next free number: numbered too.
    let (phone, created) = s.phone_user("+15550001", &user("x", 9)).await.unwrap();
    assert!(created);
    assert_eq!(phone.user_id.as_str(), "31");
    assert_eq!(
        ids(&s.numbered_users(8, 10).await.unwrap()),
        ["12", "30", "31"]
    );
}

async fn first_seq_since_a_time(s: &dyn Store) {
    // Send times out of seq order: seq 3 was sent before seq 2.
    s.append_messages(&[
        chat_at("a", "b", "m1", 1000),
        chat_at("a", "b", "m2", 3000),
        chat_at("b", "a", "m3", 2000),
        chat_at("a", "b", "m4", 4000),
        chat_at("a", "c", "other", 5000),
    ])
    .await
    .unwrap();
    let conv = single_conversation_id(&uid("a"), &uid("b"));
    let first = |since| s.first_seq_since(&conv, since);
    assert_eq!(first(0).await.unwrap(), Some(1));
    assert_eq!(first(1000).await.unwrap(), Some(1), "at `since` counts");
    assert_eq!(first(1001).await.unwrap(), Some(2));
    assert_eq!(first(2000).await.unwrap(), Some(2));
    assert_eq!(first(3001).await.unwrap(), Some(4));
    assert_eq!(first(4000).await.unwrap(), Some(4));
    assert_eq!(
        first(4001).await.unwrap(),
        None,
        "the other conversation's later message is not this one's"
    );
    assert_eq!(s.first_seq_since("si_no_such", 0).await.unwrap(), None);

    // A broadcast conversation (read through its own index): the same.
    let broadcasts: Vec<NewMessage> = [1000, 3000, 2000, 4000]
        .into_iter()
        .enumerate()
        .map(|(i, t)| broadcast(&format!("b{i}"), t))
        .collect();
    s.append_messages(&broadcasts).await.unwrap();
    let first = |since| s.first_seq_since(BROADCAST_CONVERSATION_ID, since);
    assert_eq!(first(0).await.unwrap(), Some(1));
    assert_eq!(first(1000).await.unwrap(), Some(1));
    assert_eq!(first(1001).await.unwrap(), Some(2));
    assert_eq!(first(2000).await.unwrap(), Some(2));
    assert_eq!(first(3001).await.unwrap(), Some(4));
    assert_eq!(first(4001).await.unwrap(), None);
    assert_eq!(s.first_seq_since("b_other", 0).await.unwrap(), None);
}

async fn user_tokens_expire_and_are_revoked(s: &dyn Store) {
    let (alice, bob) = (uid("alice"), uid("bob"));
    s.put_user_token("h1", &alice, 100, 10).await.unwrap();
    s.put_user_token("h2", &alice, 200, 10).await.unwrap();
    s.put_user_token("h3", &bob, 100, 10).await.unwrap();
    assert_eq!(
        s.get_user_token("h1", 10).await.unwrap(),
        Some(alice.clone())
    );
    assert_eq!(
        s.get_user_token("h1", 99).await.unwrap(),
        Some(alice.clone())
    );
    assert_eq!(
        s.get_user_token("h1", 100).await.unwrap(),
        None,
        "expired at its expires_at"
    );
    assert_eq!(s.get_user_token("h3", 50).await.unwrap(), Some(bob.clone()));
    assert_eq!(s.get_user_token("nope", 0).await.unwrap(), None);
    let err = s.put_user_token("h3", &alice, 900, 10).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "a hash is one token");
    assert_eq!(s.get_user_token("h3", 50).await.unwrap(), Some(bob.clone()));

    // A new token deletes the user's tokens expired at its `now`, only theirs.
    s.put_user_token("h4", &alice, 300, 150).await.unwrap();
    assert_eq!(s.get_user_token("h1", 0).await.unwrap(), None, "deleted");
    assert_eq!(
        s.get_user_token("h2", 0).await.unwrap(),
        Some(alice.clone())
    );
    assert_eq!(
        s.get_user_token("h3", 0).await.unwrap(),
        Some(bob.clone()),
        "bob's expired token stays until bob gets another"
    );
    s.put_user_token("h5", &alice, 400, 200).await.unwrap();
    assert_eq!(
        s.get_user_token("h2", 0).await.unwrap(),
        None,
        "expires_at == now is expired"
    );

    assert_eq!(s.delete_user_tokens(&alice).await.unwrap(), 2, "h4 and h5");
    assert_eq!(s.get_user_token("h4", 0).await.unwrap(), None);
    assert_eq!(s.get_user_token("h5", 0).await.unwrap(), None);
    assert_eq!(s.delete_user_tokens(&alice).await.unwrap(), 0);
    assert_eq!(s.get_user_token("h3", 0).await.unwrap(), Some(bob));
}

async fn notification_ids_are_never_repeated(s: &dyn Store) {
    let mut sequential = Vec::new();
    for _ in 0..3 {
        sequential.push(s.next_notification_id().await.unwrap());
    }
    assert_eq!(sequential, [1, 2, 3]);
    let concurrent = (0..20).map(|_| s.next_notification_id());
    let mut got: Vec<i64> = futures::future::join_all(concurrent)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    got.sort_unstable();
    assert_eq!(got, (4..=23).collect::<Vec<_>>(), "distinct, no gap");
    assert_eq!(s.next_notification_id().await.unwrap(), 24);
}

async fn awaited_acks_until_acked(s: &dyn Store) {
    s.await_acks(&[], 1).await.unwrap();
    let batch = [
        awaited("alice", 3, "c"),
        awaited("alice", 1, "a"),
        awaited("bob", 1, "a"),
        awaited("alice", 2, "b"),
    ];
    s.await_acks(&batch, 5).await.unwrap();
    s.await_acks(&batch, 6).await.unwrap();
    s.await_acks(
        &[
            awaited("alice", 1, "changed"),
            awaited("carol", 1, "a"),
            awaited("dave", 5, "first"),
            awaited("dave", 5, "second"),
        ],
        7,
    )
    .await
    .unwrap();
    let alice = uid("alice");
    assert_eq!(
        s.awaited_acks(&alice, 10).await.unwrap(),
        [
            awaited("alice", 1, "a"),
            awaited("alice", 2, "b"),
            awaited("alice", 3, "c")
        ],
        "by id; awaiting again changes nothing"
    );
    assert_eq!(
        s.awaited_acks(&uid("dave"), 10).await.unwrap(),
        [awaited("dave", 5, "first")],
        "a repeat within one batch too"
    );
    assert_eq!(
        s.awaited_acks(&alice, 2).await.unwrap(),
        [awaited("alice", 1, "a"), awaited("alice", 2, "b")]
    );
    assert!(s.awaited_acks(&uid("nobody"), 10).await.unwrap().is_empty());

    assert!(s.ack_awaited(&alice, 2).await.unwrap());
    assert!(!s.ack_awaited(&alice, 2).await.unwrap(), "acked already");
    assert!(!s.ack_awaited(&uid("bob"), 2).await.unwrap(), "not bob's");
    assert_eq!(
        s.forget_awaited_acks(1).await.unwrap(),
        3,
        "alice, bob, carol"
    );
    assert_eq!(s.forget_awaited_acks(1).await.unwrap(), 0);
    assert_eq!(
        s.awaited_acks(&alice, 10).await.unwrap(),
        [awaited("alice", 3, "c")]
    );
    assert!(s.awaited_acks(&uid("bob"), 10).await.unwrap().is_empty());

    // The largest batch, in several statements of one transaction.
    let many: Vec<AwaitedAck> = (0..1000)
        .map(|i| awaited(&format!("u{i}"), 9, &format!("body {i}")))
        .collect();
    s.await_acks(&many, 8).await.unwrap();
    assert_eq!(
        s.awaited_acks(&uid("u999"), 10).await.unwrap(),
        [awaited("u999", 9, "body 999")]
    );
    assert_eq!(s.forget_awaited_acks(9).await.unwrap(), 1000);
}

async fn broadcast_acks_are_kept_for_a_while(s: &dyn Store) {
    let (alice, bob) = (uid("alice"), uid("bob"));
    assert!(s.broadcast_acks(&alice, &[]).await.unwrap().is_empty());
    s.put_broadcast_ack(&alice, 10, 100, 0).await.unwrap();
    s.put_broadcast_ack(&alice, 10, 150, 0).await.unwrap();
    s.put_broadcast_ack(&alice, 11, 200, 0).await.unwrap();
    s.put_broadcast_ack(&bob, 10, 200, 0).await.unwrap();
    assert_eq!(
        s.broadcast_acks(&alice, &[12, 11, 10, 99]).await.unwrap(),
        [10, 11]
    );
    assert_eq!(s.broadcast_acks(&bob, &[11, 10]).await.unwrap(), [10]);
    assert!(s
        .broadcast_acks(&uid("carol"), &[10])
        .await
        .unwrap()
        .is_empty());

    // Acks from before `forget_before` go (10's first ack was at 100), the
    // user's only.
    s.put_broadcast_ack(&alice, 12, 300, 150).await.unwrap();
    assert_eq!(
        s.broadcast_acks(&alice, &[10, 11, 12]).await.unwrap(),
        [11, 12]
    );
    assert_eq!(s.broadcast_acks(&bob, &[10]).await.unwrap(), [10]);
    // An old ack made again is kept, as of now.
    s.put_broadcast_ack(&alice, 11, 400, 250).await.unwrap();
    assert_eq!(
        s.broadcast_acks(&alice, &[10, 11, 12]).await.unwrap(),
        [11, 12]
    );
    s.put_broadcast_ack(&alice, 13, 500, 301).await.unwrap();
    assert_eq!(
        s.broadcast_acks(&alice, &[11, 12, 13]).await.unwrap(),
        [11, 13]
    );

    // More ids than one IN list holds, with repeats.
    let asked: Vec<i64> = (1..=1200).chain([13, 11]).collect();
    assert_eq!(s.broadcast_acks(&alice, &asked).await.unwrap(), [11, 13]);
}

async fn delete_user_takes_tokens_and_acks(s: &dyn Store) {
    seed_users(s, &["gone", "stays"]).await;
    let (gone, stays) = (uid("gone"), uid("stays"));
    s.put_user_token("g1", &gone, 100, 1).await.unwrap();
    s.put_user_token("s1", &stays, 100, 1).await.unwrap();
    s.await_acks(&[awaited("gone", 1, "x"), awaited("stays", 1, "x")], 1)
        .await
        .unwrap();
    s.put_broadcast_ack(&gone, 2, 1, 0).await.unwrap();
    s.put_broadcast_ack(&stays, 2, 1, 0).await.unwrap();

    assert!(s.delete_user(&gone, &[]).await.unwrap());
    assert_eq!(s.get_user_token("g1", 0).await.unwrap(), None);
    assert_eq!(s.delete_user_tokens(&gone).await.unwrap(), 0);
    assert!(s.awaited_acks(&gone, 10).await.unwrap().is_empty());
    assert!(s.broadcast_acks(&gone, &[2]).await.unwrap().is_empty());

    assert_eq!(
        s.get_user_token("s1", 0).await.unwrap(),
        Some(stays.clone())
    );
    assert_eq!(
        s.awaited_acks(&stays, 10).await.unwrap(),
        [awaited("stays", 1, "x")]
    );
    assert_eq!(s.broadcast_acks(&stays, &[2]).await.unwrap(), [2]);
}

contract!(
    numbered_users_are_those_whose_id_is_their_number,
    first_seq_since_a_time,
    user_tokens_expire_and_are_revoked,
    notification_ids_are_never_repeated,
    awaited_acks_until_acked,
    broadcast_acks_are_kept_for_a_while,
    delete_user_takes_tokens_and_acks,
);
