//! Service-level tests of the dialect-neutral messaging API over a real
//! SQLite store (see `support`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use confab_core::message::*;
use confab_core::model::*;
use confab_core::{ErrorKind, GroupId};
use confab_service::*;
use std::sync::atomic::Ordering;
use support::*;

#[tokio::test]
async fn send_many_shares_one_commit() {
    let names: Vec<String> = (0..20).map(|i| format!("r{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let f = fixture(&refs).await;
    let before = f.store.appends.load(Ordering::SeqCst);
    let recipients: Vec<Recipient> = names.iter().map(|n| Recipient::User(uid(n))).collect();
    let message = OutgoingMessage::new(uid(ADMIN), Content::text("to all twenty"));
    let outcomes = f
        .service
        .send_many(&caller(ADMIN), message, &recipients)
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 20);
    for (name, outcome) in names.iter().zip(&outcomes) {
        let m = &outcome.as_ref().unwrap().message;
        assert_eq!(m.recv_id, *name);
        assert_eq!(m.seq, 1);
    }
    assert_eq!(
        f.store.appends.load(Ordering::SeqCst) - before,
        1,
        "twenty sends, one append transaction"
    );
}

#[tokio::test]
async fn a_refused_row_fails_only_its_own_send() {
    let f = fixture(&["good1", POISON, "good2"]).await;
    let recipients = [
        Recipient::User(uid("good1")),
        Recipient::User(uid(POISON)),
        Recipient::User(uid("good2")),
        Recipient::User(uid("ghost")),
    ];
    let message = OutgoingMessage::new(uid(ADMIN), Content::text("hi"));
    let outcomes = f
        .service
        .send_many(&caller(ADMIN), message, &recipients)
        .await
        .unwrap();
    assert_eq!(outcomes[0].as_ref().unwrap().message.seq, 1);
    assert_eq!(
        outcomes[1].as_ref().unwrap_err().kind(),
        ErrorKind::Internal,
        "the refused row fails"
    );
    assert_eq!(outcomes[2].as_ref().unwrap().message.seq, 1);
    assert_eq!(
        outcomes[3].as_ref().unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn notify_users_one_commit_each_user_once() {
    let f = fixture(&["n1", "n2", "n3"]).await;
    let before = f.store.appends.load(Ordering::SeqCst);
    let note = Notification {
        action: "order_paid".into(),
        payload: serde_json::json!({"order": 7}),
        kind: 0,
        ack: false,
        filter: None,
    };
    let users = vec![uid("n1"), uid("n2"), uid("n3"), uid("n1")];
    let out = f
        .service
        .notify(&caller(ADMIN), &Audience::Users(users), &note)
        .await
        .unwrap();
    assert_eq!(out.results.len(), 3, "each user once");
    assert_eq!(f.store.appends.load(Ordering::SeqCst) - before, 1);
    let mine = f
        .service
        .pull(&caller("n2"), &uid("n2"), "n_n2", 1, 10, 10)
        .await
        .unwrap()
        .0;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].content_type, content_type::SYSTEM_NOTIFICATION);
    let body: serde_json::Value = serde_json::from_str(&mine[0].content).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"id": out.id, "kind": 0, "action": "order_paid", "payload": {"order": 7}, "ack": false})
    );
    // Only app admins notify; unknown users are refused before anything is stored.
    let e = f
        .service
        .notify(&caller("n1"), &Audience::Users(vec![uid("n2")]), &note)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    let e = f
        .service
        .notify(
            &caller(ADMIN),
            &Audience::Users(vec![uid("n2"), uid("ghost")]),
            &note,
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(f.store.inner.max_seq("n_n2").await.unwrap(), 1);
}

#[tokio::test]
async fn moved_permission_checks() {
    let f = fixture(&["p1"]).await;
    let e = f
        .service
        .online_status(&caller("p1"), &[uid("p1")])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    assert_eq!(
        f.service
            .online_status(&caller(ADMIN), &[uid("p1")])
            .await
            .unwrap(),
        vec![(uid("p1"), vec![])]
    );
}

#[tokio::test]
async fn notify_all_is_stored_once_for_ten_thousand_users() {
    use confab_store::testing::RowCounts;
    let names: Vec<String> = (0..10_000).map(|i| format!("all{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let f = fixture(&refs).await;
    let rows_before = f.sqlite.row_count("user_conversations").await.unwrap();
    let note = Notification {
        action: "maintenance".into(),
        payload: serde_json::json!({"at": "02:00"}),
        kind: 0,
        ack: false,
        filter: None,
    };
    let out = f
        .service
        .notify(&caller(ADMIN), &Audience::All, &note)
        .await
        .unwrap();
    assert_eq!(out.results.len(), 1);
    let stored = &out.results[0].as_ref().unwrap().message;
    assert_eq!(stored.conversation_id, BROADCAST_CONVERSATION_ID);
    assert_eq!(stored.seq, 1);
    assert_eq!(f.sqlite.row_count("messages").await.unwrap(), 1);
    assert_eq!(
        f.sqlite.row_count("user_conversations").await.unwrap(),
        rows_before,
        "no per-user copies or rows"
    );
    for who in ["all0", "all4321", "all9999"] {
        let list = f
            .service
            .conversations(&caller(who), &uid(who))
            .await
            .unwrap();
        let b = list
            .iter()
            .find(|c| c.conversation_id == BROADCAST_CONVERSATION_ID)
            .expect("every user sees the broadcast");
        assert_eq!(b.unread(), 1);
    }
    // Reading moves only the reader's cursor.
    f.service
        .mark_read(&caller("all0"), None, BROADCAST_CONVERSATION_ID, 1)
        .await
        .unwrap();
    let unread = |who: &'static str| {
        let s = &f.service;
        async move {
            s.conversation(&caller(who), &uid(who), BROADCAST_CONVERSATION_ID)
                .await
                .unwrap()
                .unread()
        }
    };
    assert_eq!(unread("all0").await, 0);
    assert_eq!(unread("all1").await, 1);
}

#[tokio::test]
async fn chatroom_messages_reach_online_members_only_and_are_not_stored() {
    let f = fixture(&["host", "on", "off", "outsider"]).await;
    let room = f
        .service
        .create_chatroom(
            &caller(ADMIN),
            NewChatroom {
                room_id: Some(confab_core::ChatroomId::parse("room", "lobby").unwrap()),
                name: "lobby".into(),
                description: String::new(),
                owner: uid("host"),
                max_members: Some(3),
            },
        )
        .await
        .unwrap();
    *f.online.0.lock().unwrap() = vec![uid("host"), uid("on"), uid("off"), uid("outsider")];
    for who in ["on", "off"] {
        f.service
            .join_chatroom(&caller(who), &room.room_id, &uid(who))
            .await
            .unwrap();
    }
    let full = f
        .service
        .join_chatroom(&caller("outsider"), &room.room_id, &uid("outsider"))
        .await
        .unwrap_err();
    assert_eq!(
        full.kind(),
        ErrorKind::FailedPrecondition,
        "max_members holds"
    );
    *f.online.0.lock().unwrap() = vec![uid("host"), uid("on"), uid("outsider")];
    assert_eq!(
        f.service
            .chatroom_members_online(&caller("host"), &room.room_id)
            .await
            .unwrap(),
        vec![uid("host"), uid("on")]
    );
    let appends = f.store.appends.load(Ordering::SeqCst);
    f.bus.0.lock().unwrap().clear();
    let sent = f
        .service
        .send_message(
            &caller("host"),
            None,
            SendRequest {
                to: Recipient::Chatroom(room.room_id.clone()),
                message: OutgoingMessage::new(uid("host"), Content::text("hello room")),
            },
        )
        .await
        .unwrap();
    assert_eq!(sent.message.seq, 0, "never stored");
    assert_eq!(f.store.appends.load(Ordering::SeqCst), appends);
    // The delivery task publishes it to the members online, not to `off`
    // nor to `outsider`, who is online but not a member.
    let mut recipients = None;
    for _ in 0..100 {
        if let Some(e) = f.bus.0.lock().unwrap().first() {
            recipients = Some(e.recipients.clone());
        }
        if recipients.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(recipients.unwrap(), vec![uid("host"), uid("on")]);
    let e = f
        .service
        .send_message(
            &caller("outsider"),
            None,
            SendRequest {
                to: Recipient::Chatroom(room.room_id.clone()),
                message: OutgoingMessage::new(uid("outsider"), Content::text("let me in")),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    // Now `outsider` may join: `off`, gone, gives up its place.
    f.service
        .join_chatroom(&caller("outsider"), &room.room_id, &uid("outsider"))
        .await
        .unwrap();
    let rooms = f.service.list_chatrooms(&caller(ADMIN)).await.unwrap();
    assert_eq!((rooms.len(), rooms[0].1), (1, 3));
    f.service
        .delete_chatroom(&caller("host"), &room.room_id)
        .unwrap();
    assert!(f
        .service
        .list_chatrooms(&caller(ADMIN))
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn membership_changes_are_published_for_other_nodes() {
    let f = fixture(&["owner", "joiner"]).await;
    let info = f
        .service
        .create_group(
            &caller(ADMIN),
            NewGroup {
                group_id: Some(GroupId::parse("group", "g-bus").unwrap()),
                owner: uid("owner"),
                group_type: 0,
                info: GroupPatch::default(),
                members: Vec::new(),
            },
        )
        .await
        .unwrap();
    f.service
        .invite_members(&caller("owner"), &info.group.group_id, &[uid("joiner")])
        .await
        .unwrap();
    let mut changes = 0;
    for _ in 0..100 {
        changes = f
            .bus
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| {
                e.payload
                    == confab_core::bus::Payload::GroupMembersChanged {
                        group_id: info.group.group_id.clone(),
                    }
            })
            .count();
        if changes >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(changes, 2, "created, then invited");
}

#[tokio::test]
async fn refused_rows_are_found_by_halving_and_an_outage_fails_fast() {
    let mut names: Vec<String> = (0..30).map(|i| format!("h{i}")).collect();
    names[7] = POISON.to_owned();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let f = fixture(&refs).await;
    // Twice the poisoned user: two refused rows in one batch of 30.
    let mut recipients: Vec<Recipient> = names.iter().map(|n| Recipient::User(uid(n))).collect();
    recipients.push(Recipient::User(uid(POISON)));
    let message = OutgoingMessage::new(uid(ADMIN), Content::text("halves"));
    let outcomes = f
        .service
        .send_many(&caller(ADMIN), message.clone(), &recipients)
        .await
        .unwrap();
    for (to, outcome) in recipients.iter().zip(&outcomes) {
        assert_eq!(outcome.is_ok(), to.id() != POISON, "{to:?}: {outcome:?}");
    }
    // The database is down: the batch fails after a bounded number of
    // attempts, not one per message.
    f.store.down.store(true, Ordering::SeqCst);
    let before = f.store.appends.load(Ordering::SeqCst);
    let recipients: Vec<Recipient> = names
        .iter()
        .filter(|n| *n != POISON)
        .map(|n| Recipient::User(uid(n)))
        .collect();
    let outcomes = f
        .service
        .send_many(&caller(ADMIN), message, &recipients)
        .await
        .unwrap();
    assert!(outcomes.iter().all(|o| o.is_err()));
    let attempts = f.store.appends.load(Ordering::SeqCst) - before;
    assert!(attempts <= 2 * 5 + 2, "{attempts} attempts for 29 messages");
}
