//! Real-time messaging over real WebSockets: pushes to every device, sync
//! after being offline, gap-free seqs, idempotent resends, kicks, refusals,
//! revoke, read receipts, slow consumers.

use crate::harness::*;
use confab_client::{Pushed, WsClient};
use confab_wire::{MessageView, SendData};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);
const QUIET: Duration = Duration::from_millis(300);

/// The next pushed chat message (notifications skipped).
async fn next_chat(client: &WsClient) -> MessageView {
    loop {
        let m = client.next_message(WAIT).await.expect("a pushed message");
        if m.content_type < 1000 {
            return m;
        }
    }
}

/// Asserts no chat message is pushed for a while.
async fn no_chat(client: &WsClient) {
    while let Some(p) = client.next_push(QUIET).await {
        if let Pushed::Message(m) = p {
            assert!(m.content_type >= 1000, "unexpected push {m:?}");
        }
    }
}

/// The reason of the kick a session gets before it closes.
async fn kick_reason(client: &WsClient) -> Option<String> {
    let mut reason = None;
    while let Some(p) = client.next_push(WAIT).await {
        match p {
            Pushed::Kick(r) => reason = Some(r),
            Pushed::Closed(_) => break,
            _ => {}
        }
    }
    reason
}

/// Waits until the server reports `user` offline; `why` if it never does.
async fn wait_offline(t: &TestServer, user: &str, why: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let status = ok(
            &t.admin,
            "/manager/get_users_online_status",
            json!({ "userIDList": [user] }),
        )
        .await;
        if status["data"][0]["status"] == "offline" {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{why}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn text_of(m: &MessageView) -> String {
    m.content_value()["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn push_reaches_every_device(t: &TestServer) {
    let alice_web = t.connect("alice", 5).await;
    let alice_ios = t.connect("alice", 1).await;
    let bob_android = t.connect("bob", 2).await;
    let bob_web = t.connect("bob", 5).await;
    let ack = alice_web
        .send_text("bob", "c-1", "hello bob")
        .await
        .unwrap();
    assert_eq!(
        (
            ack.seq,
            ack.conversation_id.as_str(),
            ack.client_msg_id.as_str()
        ),
        (1, "si_alice_bob", "c-1")
    );
    assert!(!ack.server_msg_id.is_empty());
    for device in [&bob_android, &bob_web, &alice_ios] {
        let m = next_chat(device).await;
        assert_eq!(
            (m.seq, m.send_id.as_str(), m.recv_id.as_str()),
            (1, "alice", "bob")
        );
        assert_eq!(text_of(&m), "hello bob");
        assert_eq!(m.server_msg_id, ack.server_msg_id);
        assert_eq!(m.sender_platform_id, 5);
    }
    no_chat(&alice_web).await; // the sending device has its ack
    let status = ok(
        &t.admin,
        "/manager/get_users_online_status",
        json!({"userIDList": ["alice", "carol"]}),
    )
    .await;
    assert_eq!(status["data"][0]["status"], "online");
    let platforms: Vec<&str> = status["data"][0]["detailPlatformStatus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["platform"].as_str().unwrap())
        .collect();
    assert_eq!(platforms, ["IOS", "Web"]);
    assert_eq!(status["data"][1]["status"], "offline");
}

async fn offline_then_sync_gets_everything_once_in_order(t: &TestServer) {
    let alice = t.connect("alice", 5).await;
    t.user("bob").await;
    for i in 0..150 {
        alice
            .send_text("bob", &format!("m{i}"), &format!("text {i}"))
            .await
            .unwrap();
    }
    let bob = t.connect("bob", 2).await;
    let seqs = bob.max_seqs().await.unwrap();
    let chat = seqs
        .iter()
        .find(|c| c.conversation_id == "si_alice_bob")
        .unwrap();
    assert_eq!(
        (
            chat.max_seq,
            chat.read_seq,
            chat.unread,
            chat.peer_id.as_str()
        ),
        (150, 0, 150, "alice")
    );
    let got = bob.sync(&HashMap::new()).await.unwrap();
    let chat: Vec<&MessageView> = got
        .iter()
        .filter(|m| m.conversation_id == "si_alice_bob")
        .collect();
    assert_eq!(chat.len(), 150, "every message once");
    for (i, m) in chat.iter().enumerate() {
        assert_eq!(m.seq, i as i64 + 1, "in seq order");
        assert_eq!(text_of(m), format!("text {i}"));
    }
    // A device that has up to 140 pulls only the rest.
    let known = HashMap::from([("si_alice_bob".to_owned(), 140)]);
    let rest = bob.sync(&known).await.unwrap();
    let rest: Vec<i64> = rest
        .iter()
        .filter(|m| m.conversation_id == "si_alice_bob")
        .map(|m| m.seq)
        .collect();
    assert_eq!(rest, (141..=150).collect::<Vec<_>>());
    // The same through OpenIM's routes.
    let pulled = data(&t.admin, "/msg/pull_msg_by_seq", json!({"userID": "bob", "seqRanges": [{"conversationID": "si_alice_bob", "begin": 149, "end": 200, "num": 10}]})).await;
    let msgs = &pulled["msgs"]["si_alice_bob"]["msgs"];
    assert_eq!(msgs.as_array().unwrap().len(), 2);
    assert_eq!(msgs[1]["content"]["text"], "text 149");
    let newest = data(&t.admin, "/msg/newest_seq", json!({"userID": "bob"})).await;
    assert_eq!(newest["seqs"]["si_alice_bob"]["maxSeq"], 150);
}

async fn concurrent_senders_get_gap_free_seqs(t: &TestServer) {
    let senders = ["s1", "s2", "s3", "s4"];
    for s in senders {
        t.user(s).await;
    }
    t.user("own").await;
    let group = data(&t.admin, "/group/create_group", json!({"ownerUserID": "own", "groupName": "busy", "memberList": senders.iter().map(|s| json!({"userID": s})).collect::<Vec<_>>()})).await;
    let group_id = group["groupID"].as_str().unwrap().to_owned();
    let mut clients = Vec::new();
    for s in senders {
        clients.push(t.connect(s, 5).await);
    }
    let sends = clients.iter().enumerate().map(|(n, c)| {
        let group_id = group_id.clone();
        async move {
            let mut acks = Vec::new();
            for i in 0..30 {
                acks.push(
                    c.send_group_text(&group_id, &format!("{n}-{i}"), "x")
                        .await
                        .unwrap()
                        .seq,
                );
            }
            acks
        }
    });
    let acked: Vec<i64> = futures_util::future::join_all(sends)
        .await
        .into_iter()
        .flatten()
        .collect();
    let conversation = format!("g_{group_id}");
    let all = clients[0].pull_all(&conversation, 1).await.unwrap();
    let seqs: Vec<i64> = all.iter().map(|m| m.seq).collect();
    let first = seqs[0];
    assert_eq!(
        seqs,
        (first..first + seqs.len() as i64).collect::<Vec<_>>(),
        "no gap"
    );
    let chat: Vec<&MessageView> = all.iter().filter(|m| m.content_type == 101).collect();
    assert_eq!(chat.len(), 120);
    let ids: HashSet<&str> = chat.iter().map(|m| m.client_msg_id.as_str()).collect();
    assert_eq!(ids.len(), 120, "no duplicate");
    let mut acked_sorted = acked.clone();
    acked_sorted.sort();
    acked_sorted.dedup();
    assert_eq!(acked_sorted.len(), 120, "every ack has its own seq");
}

async fn resend_creates_nothing(t: &TestServer) {
    let alice = t.connect("alice", 5).await;
    let bob = t.connect("bob", 2).await;
    let first = alice.send_text("bob", "same-id", "once").await.unwrap();
    assert_eq!(text_of(&next_chat(&bob).await), "once");
    let again = alice.send_text("bob", "same-id", "twice?").await.unwrap();
    assert_eq!(again, first, "the resend gets the first ack");
    no_chat(&bob).await;
    let seqs = bob.max_seqs().await.unwrap();
    assert_eq!(
        seqs.iter()
            .find(|c| c.conversation_id == "si_alice_bob")
            .unwrap()
            .max_seq,
        1
    );
    let all = bob.pull_all("si_alice_bob", 1).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(text_of(&all[0]), "once");
}

async fn same_platform_login_kicks_the_old_session(t: &TestServer) {
    let old = t.connect("alice", 5).await;
    let other_platform = t.connect("alice", 1).await;
    let new = t.connect("alice", 5).await;
    let mut kicked = false;
    let mut closed = None;
    while let Some(p) = old.next_push(WAIT).await {
        match p {
            Pushed::Kick(reason) => {
                assert!(reason.contains("same platform"), "{reason}");
                kicked = true;
            }
            Pushed::Closed(code) => {
                closed = Some(code);
                break;
            }
            _ => {}
        }
    }
    assert!(kicked, "the old session got a kick frame");
    assert_eq!(closed, Some(Some(4001)));
    // A request on the closed connection fails rather than waiting for a
    // reply that cannot come.
    let late = tokio::time::timeout(WAIT, old.ping())
        .await
        .expect("a request after the close returns");
    assert!(late.is_err(), "{late:?}");
    new.ping().await.unwrap();
    other_platform.ping().await.unwrap();
    // force_logout ends the session too.
    ok(
        &t.admin,
        "/auth/force_logout",
        json!({"fromUserID": "alice", "platform": 1}),
    )
    .await;
    let reason = kick_reason(&other_platform).await;
    assert_eq!(reason.as_deref(), Some("logged out by force_logout"));
}

async fn refusals(t: &TestServer) {
    let alice = t.connect("alice", 5).await;
    let bob = t.connect("bob", 5).await;
    let outsider = t.connect("outsider", 5).await;
    ok(
        &t.admin,
        "/friend/add_black",
        json!({"fromUserID": "bob", "toUserID": "alice"}),
    )
    .await;
    let err = alice
        .send_text("bob", "x1", "hi")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("804") && err.contains("bob has blocked alice"),
        "{err}"
    );
    bob.send_text("alice", "x2", "the blocker may still write")
        .await
        .unwrap();

    let group = data(
        &t.admin,
        "/group/create_group",
        json!({"ownerUserID": "alice", "memberList": [{"userID": "bob"}]}),
    )
    .await;
    let gid = group["groupID"].as_str().unwrap();
    let err = outsider
        .send_group_text(gid, "x3", "let me")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("801") && err.contains("not a member"), "{err}");
    ok(
        &t.admin,
        "/group/mute_group_member",
        json!({"groupID": gid, "userID": "bob", "mutedSeconds": 600}),
    )
    .await;
    let err = bob
        .send_group_text(gid, "x4", "muted?")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("804") && err.contains("muted"), "{err}");
    ok(
        &t.admin,
        "/group/cancel_mute_group_member",
        json!({"groupID": gid, "userID": "bob"}),
    )
    .await;
    bob.send_group_text(gid, "x5", "free again").await.unwrap();
    ok(&t.admin, "/group/mute_group", json!({"groupID": gid})).await;
    let err = bob
        .send_group_text(gid, "x6", "group muted")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("804") && err.contains("is muted"), "{err}");
    alice
        .send_group_text(gid, "x7", "the owner may")
        .await
        .unwrap();

    let bad = alice
        .send(&SendData {
            recv_id: "bob".into(),
            session_type: 1,
            content_type: 101,
            content: json!({"txt": "no"}),
            ..Default::default()
        })
        .await
        .unwrap_err()
        .to_string();
    assert!(bad.contains("803") && bad.contains("content.text"), "{bad}");
    let bad = alice
        .send(&SendData {
            recv_id: "bob".into(),
            session_type: 1,
            content_type: 110,
            content: json!({"description": "no data"}),
            ..Default::default()
        })
        .await
        .unwrap_err()
        .to_string();
    assert!(bad.contains("content.data"), "{bad}");
    let bad = alice
        .send_text("ghost", "x8", "hi")
        .await
        .unwrap_err()
        .to_string();
    assert!(bad.contains("user ghost does not exist"), "{bad}");
    let bad = alice
        .request::<serde_json::Value>("dance", None)
        .await
        .unwrap_err()
        .to_string();
    assert!(bad.contains("unknown frame type"), "{bad}");
}

async fn revoke_and_read_receipts(t: &TestServer) {
    let alice = t.connect("alice", 5).await;
    let alice_phone = t.connect("alice", 2).await;
    let bob = t.connect("bob", 5).await;
    let ack = alice.send_text("bob", "r1", "oops").await.unwrap();
    next_chat(&bob).await;
    next_chat(&alice_phone).await;
    let err = bob
        .revoke("si_alice_bob", ack.seq)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("801"),
        "only the sender revokes in a chat: {err}"
    );
    let notice = alice.revoke("si_alice_bob", ack.seq).await.unwrap();
    assert_eq!(notice.seq, 2);
    let pushed = next_chat(&bob).await;
    assert_eq!(pushed.content_type, 111);
    assert_eq!(pushed.content_value()["revokeMsgClientID"], "r1");
    let all = bob.pull_all("si_alice_bob", 1).await.unwrap();
    assert_eq!(
        (all[0].status, all[1].content_type),
        (1, 111),
        "the original is marked revoked"
    );
    let again = alice
        .revoke("si_alice_bob", ack.seq)
        .await
        .unwrap_err()
        .to_string();
    assert!(again.contains("already revoked"), "{again}");

    // Read receipts: bob reads; alice's devices and bob's other devices learn it.
    let bob_phone = t.connect("bob", 2).await;
    bob.mark_read("si_alice_bob", 2).await.unwrap();
    for device in [&alice, &alice_phone, &bob_phone] {
        let read = loop {
            match device.next_push(WAIT).await.expect("a read push") {
                Pushed::Read(r) => break r,
                _ => continue,
            }
        };
        assert_eq!(
            (
                read.user_id.as_str(),
                read.conversation_id.as_str(),
                read.seq
            ),
            ("bob", "si_alice_bob", 2)
        );
    }
    let seqs = bob.max_seqs().await.unwrap();
    let chat = seqs
        .iter()
        .find(|c| c.conversation_id == "si_alice_bob")
        .unwrap();
    assert_eq!((chat.read_seq, chat.unread), (2, 0));
    // A read receipt message (112) moves read_seq the same way.
    alice.send_text("bob", "r3", "more").await.unwrap();
    bob.send(&SendData {
        recv_id: "alice".into(),
        session_type: 1,
        content_type: 112,
        content: json!({"seq": 3}),
        ..Default::default()
    })
    .await
    .unwrap();
    let seqs = bob.max_seqs().await.unwrap();
    assert_eq!(
        seqs.iter()
            .find(|c| c.conversation_id == "si_alice_bob")
            .unwrap()
            .read_seq,
        3
    );
}

async fn group_revoke_by_admin(t: &TestServer) {
    let owner = t.connect("own", 5).await;
    let member = t.connect("mem", 5).await;
    let group = data(
        &t.admin,
        "/group/create_group",
        json!({"ownerUserID": "own", "memberList": [{"userID": "mem"}]}),
    )
    .await;
    let gid = group["groupID"].as_str().unwrap();
    let ack = member.send_group_text(gid, "g1", "spam").await.unwrap();
    let notice = owner.revoke(&ack.conversation_id, ack.seq).await.unwrap();
    assert!(notice.seq > ack.seq);
    let m = loop {
        let m = member.next_message(WAIT).await.unwrap();
        if m.content_type == 111 {
            break m;
        }
    };
    assert_eq!(m.content_value()["revokerID"], "own");
}

async fn online_only_is_not_stored(t: &TestServer) {
    let alice = t.connect("alice", 5).await;
    let bob = t.connect("bob", 5).await;
    alice.send_text("bob", "keep", "stored").await.unwrap();
    next_chat(&bob).await;
    let ack = alice
        .send(&SendData {
            recv_id: "bob".into(),
            session_type: 1,
            content_type: 113,
            content: json!({"msgTips": "typing"}),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(ack.seq, 0);
    let typing = next_chat(&bob).await;
    assert_eq!((typing.content_type, typing.seq), (113, 0));
    alice
        .send(&SendData {
            recv_id: "bob".into(),
            session_type: 1,
            content_type: 101,
            content: json!({"text": "ephemeral"}),
            is_online_only: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(text_of(&next_chat(&bob).await), "ephemeral");
    let all = bob.pull_all("si_alice_bob", 1).await.unwrap();
    assert_eq!(all.len(), 1, "only the stored message");
}

async fn notifications_arrive_through_sync(t: &TestServer) {
    t.user("alice").await;
    t.user("bob").await;
    ok(
        &t.admin,
        "/friend/import_friend",
        json!({"fromUserID": "alice", "friendUserIDList": ["bob"]}),
    )
    .await;
    let group = data(
        &t.admin,
        "/group/create_group",
        json!({"ownerUserID": "alice", "memberList": [{"userID": "bob"}]}),
    )
    .await;
    let gid = group["groupID"].as_str().unwrap();
    ok(
        &t.admin,
        "/group/kick_group",
        json!({"groupID": gid, "kickedUserIDList": ["bob"]}),
    )
    .await;
    let bob = t.connect("bob", 5).await;
    let got = bob.sync(&HashMap::new()).await.unwrap();
    let types: Vec<(String, i32)> = got
        .iter()
        .map(|m| (m.conversation_id.clone(), m.content_type))
        .collect();
    assert!(
        types.contains(&("n_bob".to_owned(), 1204)),
        "friend added: {types:?}"
    );
    assert!(
        types.contains(&("n_bob".to_owned(), 1508)),
        "kicked: {types:?}"
    );
    let alice = t.connect("alice", 5).await;
    let got = alice.pull_all(&format!("g_{gid}"), 1).await.unwrap();
    let types: Vec<i32> = got.iter().map(|m| m.content_type).collect();
    assert_eq!(types, [1501, 1508], "created, then kicked");
    assert_eq!(got[1].content_value()["kickedUserIDList"], json!(["bob"]));
}

async fn slow_consumer_is_cut_off(t: &TestServer) {
    use futures_util::StreamExt;
    let sender = t.connect("sender", 5).await;
    let fast = t.connect("fast", 5).await;
    t.user("slow").await;
    let group = data(
        &t.admin,
        "/group/create_group",
        json!({"ownerUserID": "sender", "memberList": [{"userID": "fast"}, {"userID": "slow"}]}),
    )
    .await;
    let gid = group["groupID"].as_str().unwrap().to_owned();
    // A client that connects and never reads.
    let token = t.anon.user_token(SECRET, "slow", 5).await.unwrap();
    let url = format!(
        "{}/ws?token={token}&platformID=5",
        t.url().replacen("http", "ws", 1)
    );
    let (stalled, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let (_write, _read) = stalled.split();
    let big = "x".repeat(16 * 1024);
    let total = 600;
    let receiving = async {
        let mut n = 0;
        while n < total {
            let m = fast
                .next_message(WAIT)
                .await
                .expect("the fast member keeps receiving");
            if m.content_type == 101 {
                n += 1;
            }
        }
        n
    };
    let sending = async {
        for i in 0..total {
            sender
                .send_group_text(&gid, &format!("b{i}"), &big)
                .await
                .unwrap();
        }
    };
    let (received, ()) = tokio::join!(receiving, sending);
    assert_eq!(received, total);
    wait_offline(t, "slow", "the stalled client was not cut off").await;
}

async fn heartbeat_timeout_closes_silent_clients(t: &TestServer) {
    let client = t.connect("quiet", 5).await;
    let mut code = None;
    while let Some(p) = client.next_push(WAIT).await {
        if let Pushed::Closed(c) = p {
            code = Some(c);
            break;
        }
    }
    assert_eq!(code, Some(Some(1001)));
}

async fn openim_send_msg(t: &TestServer) {
    let bob = t.connect("bob", 5).await;
    t.user("alice").await;
    // The spec's example shape: admin sends as alice.
    let body = ok(&t.admin, "/manager/send_msg", json!({
        "operationID": "1111111222", "sendID": "alice", "recvID": "bob", "senderNickName": "张三",
        "senderFaceURL": "http://www.head.com", "forceList": ["122"], "content": {"text": "nihao"},
        "contentType": 101, "sessionType": 1
    })).await;
    assert_eq!(body["data"]["seq"], 1);
    assert_eq!(body["msgID"], body["data"]["serverMsgID"]);
    assert!(
        body["sendTime"].as_i64().unwrap() > 1_600_000_000_000,
        "sendTime is in milliseconds"
    );
    let m = next_chat(&bob).await;
    assert_eq!(
        (text_of(&m), m.sender_nickname.as_str()),
        ("nihao".to_owned(), "张三")
    );
    // Group message with the group id in recvID, as the spec has it.
    let group = data(
        &t.admin,
        "/group/create_group",
        json!({"ownerUserID": "alice", "memberList": [{"userID": "bob"}]}),
    )
    .await;
    let gid = group["groupID"].as_str().unwrap();
    ok(&t.admin, "/msg/manage_send_msg", json!({"sendID": "alice", "recvID": gid, "content": {"text": "all"}, "contentType": 101, "sessionType": 2})).await;
    let m = next_chat(&bob).await;
    assert_eq!((m.group_id.as_str(), m.session_type), (gid, 2));
    // A user sends as themselves; not as someone else.
    let bob_http = t
        .anon
        .with_token(&t.anon.user_token(SECRET, "bob", 3).await.unwrap());
    ok(&bob_http, "/msg/send_msg", json!({"sendID": "bob", "recvID": "alice", "content": {"text": "hi"}, "contentType": 101, "sessionType": 1})).await;
    let forged = bob_http.call("/msg/send_msg", &json!({"sendID": "alice", "recvID": "bob", "content": {"text": "x"}, "contentType": 101, "sessionType": 1})).await.unwrap();
    assert_err(&forged, 801, "cannot act for alice");
    let denied = bob_http.call("/manager/send_msg", &json!({"sendID": "bob", "recvID": "alice", "content": {"text": "x"}, "contentType": 101, "sessionType": 1})).await.unwrap();
    assert_err(&denied, 801, "administrator");
    let batch = data(&t.admin, "/manager/batch_send_msg", json!({"sendID": "alice", "recvIDList": ["bob", "ghost"], "content": {"text": "b"}, "contentType": 101, "sessionType": 1})).await;
    assert_eq!(batch["results"].as_array().unwrap().len(), 1);
    assert_eq!(batch["failedUserIDList"], json!(["ghost"]));

    // Conversations, clear and delete.
    let convs = data(
        &t.admin,
        "/conversation/get_all_conversations",
        json!({"ownerUserID": "bob"}),
    )
    .await;
    let chat = convs
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["conversationID"] == "si_alice_bob")
        .unwrap()
        .clone();
    assert_eq!(
        (
            chat["userID"].as_str(),
            chat["maxSeq"].as_i64(),
            chat["unreadCount"].as_i64()
        ),
        (Some("alice"), Some(3), Some(3))
    );
    ok(&t.admin, "/conversation/set_conversation", json!({"conversation": {"ownerUserID": "bob", "conversationID": "si_alice_bob", "isPinned": true, "recvMsgOpt": 2}})).await;
    let one = data(
        &t.admin,
        "/conversation/get_conversation",
        json!({"ownerUserID": "bob", "conversationID": "si_alice_bob"}),
    )
    .await;
    assert_eq!(
        (one["isPinned"].as_bool(), one["recvMsgOpt"].as_i64()),
        (Some(true), Some(2))
    );
    ok(
        &t.admin,
        "/msg/del_msg",
        json!({"userID": "bob", "conversationID": "si_alice_bob", "seqList": [1]}),
    )
    .await;
    let left = bob.pull_all("si_alice_bob", 1).await.unwrap();
    assert_eq!(left.iter().map(|m| m.seq).collect::<Vec<_>>(), [2, 3]);
    ok(
        &t.admin,
        "/msg/clear_msg",
        json!({"userID": "bob", "conversationID": "si_alice_bob"}),
    )
    .await;
    assert!(bob.pull_all("si_alice_bob", 1).await.unwrap().is_empty());
    let after = data(
        &t.admin,
        "/conversation/get_conversations",
        json!({"ownerUserID": "bob", "conversationIDs": ["si_alice_bob"]}),
    )
    .await;
    assert_eq!(
        (
            after[0]["minSeq"].as_i64(),
            after[0]["unreadCount"].as_i64()
        ),
        (Some(4), Some(0))
    );
}

on_both_backends!(
    offline_then_sync_gets_everything_once_in_order,
    concurrent_senders_get_gap_free_seqs,
    resend_creates_nothing,
    notifications_arrive_through_sync,
);
mod single {
    use super::*;
    on_sqlite!(
        push_reaches_every_device,
        same_platform_login_kicks_the_old_session,
        refusals,
        revoke_and_read_receipts,
        group_revoke_by_admin,
        online_only_is_not_stored,
        openim_send_msg,
        deleting_a_user_ends_their_sessions,
    );
}

#[tokio::test]
async fn slow_consumer() {
    let t = TestServer::start_with(Backend::Sqlite, |s| s.ws_queue_capacity = Some(32))
        .await
        .unwrap();
    slow_consumer_is_cut_off(&t).await;
    t.stop().await;
}

async fn revoke_window_passes(t: &TestServer) {
    let alice = t.connect("alice", 5).await;
    t.user("bob").await;
    let ack = alice.send_text("bob", "w1", "too late").await.unwrap();
    let err = alice
        .revoke("si_alice_bob", ack.seq)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("801") && err.contains("revoke window of 0 seconds"),
        "{err}"
    );
    // An app admin may still revoke it.
    let admin = t.connect(ADMIN, 8).await;
    let notice = admin.revoke("si_alice_bob", ack.seq).await.unwrap();
    assert_eq!(notice.seq, 2);
}

async fn deleting_a_user_ends_their_sessions(t: &TestServer) {
    let gone = t.connect("gone", 5).await;
    ok(
        &t.admin,
        "/manager/delete_user",
        json!({"deleteUserIDList": ["gone"]}),
    )
    .await;
    let reason = kick_reason(&gone).await;
    assert_eq!(reason.as_deref(), Some("the user was deleted"));
    wait_offline(t, "gone", "the deleted user stayed online").await;
}

#[tokio::test]
async fn revoke_window() {
    let t = TestServer::start_with(Backend::Sqlite, |s| s.revoke_window_secs = Some(0))
        .await
        .unwrap();
    revoke_window_passes(&t).await;
    t.stop().await;
}

#[tokio::test]
async fn heartbeat_timeout() {
    let t = TestServer::start_with(Backend::Sqlite, |s| s.heartbeat_timeout_secs = Some(1))
        .await
        .unwrap();
    heartbeat_timeout_closes_silent_clients(&t).await;
    t.stop().await;
}
