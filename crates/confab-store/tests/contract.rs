//! One contract suite, run against both backends: every case is a function
//! taking `&dyn Store`, and `contract!` makes a SQLite and a PostgreSQL test
//! of each.

// Test helpers fail loudly: a panic is the report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod support;

use support::{chat, seed_users, uid, user};

use confab_core::message::*;
use confab_core::model::*;
use confab_core::store::{OwnedGroupFate, Store};
use confab_core::{ErrorKind, GroupId, Platform, UserId};
use confab_store::testing::RowCounts;

fn gid(s: &str) -> GroupId {
    GroupId::parse("groupID", s).unwrap()
}

fn friend(owner: &str, other: &str, now: i64) -> Friend {
    Friend {
        owner_user_id: uid(owner),
        friend_user_id: uid(other),
        remark: String::new(),
        created_at: now,
        ex: String::new(),
    }
}

fn group(id: &str, owner: &str) -> Group {
    Group {
        group_id: gid(id),
        group_name: format!("group {id}"),
        notification: String::new(),
        introduction: String::new(),
        face_url: String::new(),
        ex: String::new(),
        group_type: 0,
        status: GroupStatus::Ok,
        creator_user_id: uid(owner),
        owner_user_id: uid(owner),
        created_at: 1,
    }
}

fn member(g: &str, u: &str, role: Role, t: i64) -> GroupMember {
    GroupMember::new(gid(g), uid(u), role, t)
}

async fn users_roundtrip(s: &dyn Store) {
    seed_users(s, &["alice", "bob", "380"]).await;
    let alice = s.get_user(&uid("alice")).await.unwrap().unwrap();
    assert_eq!(alice.nickname, "nick alice");
    assert!(s.get_user(&uid("nobody")).await.unwrap().is_none());

    // Decimal ids keep their number; named users get the next one of
    // their own range, so that they never take a number an app may
    // register later.
    let n380 = s.get_user(&uid("380")).await.unwrap().unwrap();
    assert_eq!(n380.numeric_id, 380);
    let base = confab_core::ids::NAMED_USER_NUMBERS_FROM;
    let bob = s.get_user(&uid("bob")).await.unwrap().unwrap();
    let mut named = [alice.numeric_id, bob.numeric_id];
    named.sort_unstable();
    assert_eq!(named, [base + 1, base + 2]);
    seed_users(s, &["carol", "1"]).await;
    let carol = s.get_user(&uid("carol")).await.unwrap().unwrap();
    assert_eq!(carol.numeric_id, base + 3, "after the largest named number");
    let one = s.get_user(&uid("1")).await.unwrap().unwrap();
    assert_eq!(one.numeric_id, 1, "number 1 is free for user \"1\"");

    let mut got = s
        .get_users(&[uid("bob"), uid("alice"), uid("ghost")])
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.user_id.into_string())
        .collect::<Vec<_>>();
    got.sort();
    assert_eq!(got, ["alice", "bob"]);
    let patch = UserPatch {
        nickname: Some("Alice".into()),
        gender: Some(2),
        ..Default::default()
    };
    assert!(s.update_user(&uid("alice"), &patch, 99).await.unwrap());
    assert!(!s.update_user(&uid("ghost"), &patch, 99).await.unwrap());
    let alice = s.get_user(&uid("alice")).await.unwrap().unwrap();
    assert_eq!(
        (alice.nickname.as_str(), alice.gender, alice.updated_at),
        ("Alice", 2, 99)
    );
    assert_eq!(alice.face_url, "", "fields absent from the patch stay");

    assert!(s
        .set_password_hash(&uid("bob"), "$argon2id$x", 5)
        .await
        .unwrap());
    let bob = s.get_user(&uid("bob")).await.unwrap().unwrap();
    assert_eq!(bob.password_hash.as_deref(), Some("$argon2id$x"));
}

async fn users_conflict_is_all_or_nothing(s: &dyn Store) {
    seed_users(s, &["alice"]).await;
    let err = s
        .create_users(&[user("dave", 1), user("alice", 1)])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(
        err.client_message().contains("alice"),
        "{}",
        err.client_message()
    );
    assert!(
        s.get_user(&uid("dave")).await.unwrap().is_none(),
        "batch was rolled back"
    );
}

async fn user_ids_are_paged_in_order(s: &dyn Store) {
    seed_users(s, &["c", "a", "b", "d"]).await;
    let first = s.list_user_ids(None, 3).await.unwrap();
    assert_eq!(
        first.iter().map(UserId::as_str).collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
    let rest = s.list_user_ids(Some(&uid("c")), 3).await.unwrap();
    assert_eq!(rest.iter().map(UserId::as_str).collect::<Vec<_>>(), ["d"]);
}

async fn tokens_one_per_platform(s: &dyn Store) {
    let a = uid("alice");
    s.put_token(&a, Platform::Ios, "t1", 10).await.unwrap();
    s.put_token(&a, Platform::Web, "t2", 10).await.unwrap();
    s.put_token(&a, Platform::Ios, "t3", 20).await.unwrap();
    assert_eq!(
        s.get_token_id(&a, Platform::Ios).await.unwrap().as_deref(),
        Some("t3")
    );
    assert_eq!(
        s.get_token_id(&a, Platform::Web).await.unwrap().as_deref(),
        Some("t2")
    );
    assert_eq!(s.delete_tokens(&a, Some(Platform::Ios)).await.unwrap(), 1);
    assert_eq!(s.get_token_id(&a, Platform::Ios).await.unwrap(), None);
    assert_eq!(s.delete_tokens(&a, None).await.unwrap(), 1);
    assert_eq!(s.get_token_id(&a, Platform::Web).await.unwrap(), None);
}

async fn friends_are_directed_edges(s: &dyn Store) {
    seed_users(s, &["a", "b", "c"]).await;
    let added = s
        .add_friends(&[
            friend("a", "b", 1),
            friend("b", "a", 1),
            friend("a", "c", 2),
        ])
        .await
        .unwrap();
    assert_eq!(added, 3);
    assert_eq!(
        s.add_friends(&[friend("a", "b", 5)]).await.unwrap(),
        0,
        "existing edge kept"
    );
    let list = s.list_friends(&uid("a")).await.unwrap();
    assert_eq!(
        list.iter()
            .map(|f| f.friend_user_id.as_str())
            .collect::<Vec<_>>(),
        ["b", "c"]
    );
    assert_eq!(list[0].created_at, 1);
    assert!(
        s.get_friend(&uid("c"), &uid("a")).await.unwrap().is_none(),
        "one-way edge"
    );
    assert!(s
        .set_friend_remark(&uid("a"), &uid("b"), "bestie")
        .await
        .unwrap());
    assert!(!s
        .set_friend_remark(&uid("c"), &uid("a"), "x")
        .await
        .unwrap());
    assert_eq!(
        s.get_friend(&uid("a"), &uid("b"))
            .await
            .unwrap()
            .unwrap()
            .remark,
        "bestie"
    );
    let deleted = s
        .delete_friends(&[
            (uid("a"), uid("b")),
            (uid("b"), uid("a")),
            (uid("c"), uid("a")),
        ])
        .await
        .unwrap();
    assert_eq!(deleted, 2);
    assert_eq!(s.list_friends(&uid("a")).await.unwrap().len(), 1);
}

async fn blacks(s: &dyn Store) {
    let b = Black {
        owner_user_id: uid("a"),
        block_user_id: uid("b"),
        created_at: 7,
        ex: String::new(),
    };
    assert!(s.add_black(&b).await.unwrap());
    assert!(!s.add_black(&b).await.unwrap());
    assert_eq!(
        s.get_black(&uid("a"), &uid("b")).await.unwrap(),
        Some(b.clone())
    );
    assert!(s.get_black(&uid("b"), &uid("a")).await.unwrap().is_none());
    assert_eq!(s.list_blacks(&uid("a")).await.unwrap(), vec![b]);
    let pairs = [
        (uid("a"), uid("b")),
        (uid("b"), uid("a")),
        (uid("a"), uid("c")),
    ];
    s.create_users(&[user("a", 1), user("c", 1)]).await.unwrap();
    let facts: Vec<(bool, bool)> = s
        .chat_facts(&pairs)
        .await
        .unwrap()
        .into_iter()
        .map(|f| (f.recipient_exists, f.recipient_blocks_sender))
        .collect();
    assert_eq!(
        facts,
        [(true, true), (false, false), (true, false)],
        "in request order"
    );
    assert!(s.remove_black(&uid("a"), &uid("b")).await.unwrap());
    assert!(!s.remove_black(&uid("a"), &uid("b")).await.unwrap());
    assert!(s.list_blacks(&uid("a")).await.unwrap().is_empty());
}

/// More pairs than one query takes: each refusal is reported at its own
/// place, past the first chunk too.
async fn chat_facts_of_a_large_batch(s: &dyn Store) {
    let ids: Vec<String> = (0..700).map(|i| format!("u{i}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    seed_users(s, &refs).await;
    let b = Black {
        owner_user_id: uid("u650"),
        block_user_id: uid("u0"),
        created_at: 1,
        ex: String::new(),
    };
    assert!(s.add_black(&b).await.unwrap());
    let mut pairs: Vec<(UserId, UserId)> = ids.iter().map(|id| (uid(id), uid("u0"))).collect();
    pairs[600].0 = uid("nobody");
    let facts = s.chat_facts(&pairs).await.unwrap();
    assert_eq!(facts.len(), 700);
    for (i, f) in facts.iter().enumerate() {
        let want = (i != 600, i == 650);
        assert_eq!(
            (f.recipient_exists, f.recipient_blocks_sender),
            want,
            "pair {i}"
        );
    }
}

async fn friend_requests(s: &dyn Store) {
    let mut r = FriendRequest {
        from_user_id: uid("a"),
        to_user_id: uid("b"),
        req_msg: "hi".into(),
        handle_result: HandleResult::Pending,
        handle_msg: String::new(),
        created_at: 1,
        handled_at: 0,
        ex: String::new(),
    };
    s.put_friend_request(&r).await.unwrap();
    r.req_msg = "hi again".into();
    r.created_at = 2;
    s.put_friend_request(&r).await.unwrap();
    let to_b = s.list_friend_requests_to(&uid("b")).await.unwrap();
    assert_eq!(to_b, vec![r.clone()], "renewed, not duplicated");
    assert_eq!(
        s.list_friend_requests_from(&uid("a")).await.unwrap().len(),
        1
    );
    assert!(s
        .list_friend_requests_from(&uid("b"))
        .await
        .unwrap()
        .is_empty());

    let edges = [friend("a", "b", 3), friend("b", "a", 3)];
    assert!(s
        .answer_friend_request(
            &uid("a"),
            &uid("b"),
            HandleResult::Accepted,
            "ok",
            3,
            &edges
        )
        .await
        .unwrap());
    let answered = s
        .get_friend_request(&uid("a"), &uid("b"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(answered.handle_result, HandleResult::Accepted);
    assert_eq!(
        (answered.handle_msg.as_str(), answered.handled_at),
        ("ok", 3)
    );
    assert!(s.get_friend(&uid("b"), &uid("a")).await.unwrap().is_some());
    assert!(!s
        .answer_friend_request(
            &uid("x"),
            &uid("b"),
            HandleResult::Accepted,
            "",
            3,
            &edges[..1]
        )
        .await
        .unwrap());
}

async fn groups_and_members(s: &dyn Store) {
    let g = group("g1", "own");
    let members = [
        member("g1", "own", Role::Owner, 1),
        member("g1", "m1", Role::Member, 2),
        member("g1", "m2", Role::Member, 3),
    ];
    s.create_group(&g, &members).await.unwrap();
    let err = s.create_group(&g, &[]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(s.get_group(&gid("g1")).await.unwrap(), Some(g.clone()));
    assert_eq!(
        s.get_groups(&[gid("g1"), gid("nope")]).await.unwrap().len(),
        1
    );
    assert_eq!(
        s.member_counts(&[gid("g1")]).await.unwrap(),
        vec![(gid("g1"), 3)]
    );

    let patch = GroupPatch {
        notification: Some("read me".into()),
        ..Default::default()
    };
    assert!(s.update_group(&gid("g1"), &patch).await.unwrap());
    let g1 = s.get_group(&gid("g1")).await.unwrap().unwrap();
    assert_eq!(
        (g1.notification.as_str(), g1.group_name.as_str()),
        ("read me", "group g1")
    );

    let added = s
        .add_members(&[
            member("g1", "m2", Role::Member, 4),
            member("g1", "m3", Role::Member, 5),
        ])
        .await
        .unwrap();
    assert_eq!(added, vec![uid("m3")], "existing members are skipped");
    let page = s.list_members(&gid("g1"), None, 1, 2).await.unwrap();
    assert_eq!(
        page.iter().map(|m| m.user_id.as_str()).collect::<Vec<_>>(),
        ["m1", "m2"]
    );
    let owners = s
        .list_members(&gid("g1"), Some(Role::Owner), 0, 10)
        .await
        .unwrap();
    assert_eq!(owners.len(), 1);
    assert_eq!(owners[0].user_id, uid("own"));

    let mute = MemberPatch {
        mute_end_time: Some(1000),
        nickname: Some("Em".into()),
        ..Default::default()
    };
    assert!(s
        .update_member(&gid("g1"), &uid("m1"), &mute)
        .await
        .unwrap());
    let m1 = s.get_member(&gid("g1"), &uid("m1")).await.unwrap().unwrap();
    assert_eq!(
        (m1.mute_end_time, m1.nickname.as_str(), m1.role),
        (1000, "Em", Role::Member)
    );
    assert_eq!(
        s.get_members(&gid("g1"), &[uid("m1"), uid("zz")])
            .await
            .unwrap()
            .len(),
        1
    );

    let removed = s
        .remove_members(&gid("g1"), &[uid("m3"), uid("zz")])
        .await
        .unwrap();
    assert_eq!(removed, vec![uid("m3")]);
    assert!(s
        .get_member(&gid("g1"), &uid("m3"))
        .await
        .unwrap()
        .is_none());

    s.transfer_owner(&gid("g1"), &uid("own"), &uid("m1"), Role::Admin)
        .await
        .unwrap();
    assert_eq!(
        s.get_group(&gid("g1"))
            .await
            .unwrap()
            .unwrap()
            .owner_user_id,
        uid("m1")
    );
    assert_eq!(
        s.get_member(&gid("g1"), &uid("own"))
            .await
            .unwrap()
            .unwrap()
            .role,
        Role::Admin
    );
    let err = s
        .transfer_owner(&gid("g1"), &uid("m1"), &uid("stranger"), Role::Member)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(
        s.get_member(&gid("g1"), &uid("m1"))
            .await
            .unwrap()
            .unwrap()
            .role,
        Role::Owner,
        "a failed transfer changes nothing"
    );

    let mut managed = s.managed_group_ids(&uid("own")).await.unwrap();
    managed.sort();
    assert_eq!(managed, vec![gid("g1")]);
    assert!(s.managed_group_ids(&uid("m2")).await.unwrap().is_empty());

    s.create_group(&group("g2", "m2"), &[member("g2", "m2", Role::Owner, 9)])
        .await
        .unwrap();
    assert_eq!(s.joined_groups(&uid("m2")).await.unwrap().len(), 2);
    assert!(s
        .set_group_status(&gid("g2"), GroupStatus::Dismissed)
        .await
        .unwrap());
    let joined = s.joined_groups(&uid("m2")).await.unwrap();
    assert_eq!(
        joined
            .iter()
            .map(|g| g.group_id.as_str())
            .collect::<Vec<_>>(),
        ["g1"]
    );
}

async fn group_requests(s: &dyn Store) {
    s.create_group(&group("g1", "own"), &[member("g1", "own", Role::Owner, 1)])
        .await
        .unwrap();
    let r = GroupRequest {
        group_id: gid("g1"),
        user_id: uid("joiner"),
        req_msg: "let me in".into(),
        handle_result: HandleResult::Pending,
        handle_msg: String::new(),
        handled_user_id: String::new(),
        req_time: 5,
        handled_time: 0,
        join_source: 3,
        inviter_user_id: String::new(),
        ex: String::new(),
    };
    s.put_group_request(&r).await.unwrap();
    assert_eq!(
        s.list_group_requests_for(&[gid("g1")]).await.unwrap(),
        vec![r.clone()]
    );
    assert_eq!(
        s.list_group_requests_by(&uid("joiner")).await.unwrap(),
        vec![r]
    );
    let m = member("g1", "joiner", Role::Member, 6);
    assert!(s
        .answer_group_request(
            &gid("g1"),
            &uid("joiner"),
            HandleResult::Accepted,
            "welcome",
            &uid("own"),
            6,
            Some(&m)
        )
        .await
        .unwrap());
    let answered = s
        .get_group_request(&gid("g1"), &uid("joiner"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(answered.handle_result, HandleResult::Accepted);
    assert_eq!(answered.handled_user_id, "own");
    assert!(s
        .get_member(&gid("g1"), &uid("joiner"))
        .await
        .unwrap()
        .is_some());
    assert!(!s
        .answer_group_request(
            &gid("g1"),
            &uid("ghost"),
            HandleResult::Refused,
            "",
            &uid("own"),
            6,
            None
        )
        .await
        .unwrap());
}

async fn delete_user_cleans_up(s: &dyn Store) {
    seed_users(s, &["gone", "b", "c"]).await;
    s.add_friends(&[
        friend("gone", "b", 1),
        friend("b", "gone", 1),
        friend("b", "c", 1),
    ])
    .await
    .unwrap();
    s.add_black(&Black {
        owner_user_id: uid("c"),
        block_user_id: uid("gone"),
        created_at: 1,
        ex: String::new(),
    })
    .await
    .unwrap();
    s.put_token(&uid("gone"), Platform::Web, "t", 1)
        .await
        .unwrap();
    s.create_group(
        &group("handed", "gone"),
        &[
            member("handed", "gone", Role::Owner, 1),
            member("handed", "b", Role::Member, 2),
        ],
    )
    .await
    .unwrap();
    s.create_group(
        &group("alone", "gone"),
        &[member("alone", "gone", Role::Owner, 1)],
    )
    .await
    .unwrap();
    let fates = [
        OwnedGroupFate {
            group_id: gid("handed"),
            successor: Some(uid("b")),
        },
        OwnedGroupFate {
            group_id: gid("alone"),
            successor: None,
        },
    ];
    assert!(s.delete_user(&uid("gone"), &fates).await.unwrap());
    assert!(s.get_user(&uid("gone")).await.unwrap().is_none());
    assert_eq!(
        s.list_friends(&uid("b"))
            .await
            .unwrap()
            .iter()
            .map(|f| f.friend_user_id.as_str())
            .collect::<Vec<_>>(),
        ["c"]
    );
    assert!(s.list_blacks(&uid("c")).await.unwrap().is_empty());
    assert_eq!(
        s.get_token_id(&uid("gone"), Platform::Web).await.unwrap(),
        None
    );
    let handed = s.get_group(&gid("handed")).await.unwrap().unwrap();
    assert_eq!(handed.owner_user_id, uid("b"));
    assert_eq!(
        s.get_member(&gid("handed"), &uid("b"))
            .await
            .unwrap()
            .unwrap()
            .role,
        Role::Owner
    );
    assert!(s
        .get_member(&gid("handed"), &uid("gone"))
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        s.get_group(&gid("alone")).await.unwrap().unwrap().status,
        GroupStatus::Dismissed
    );
    assert!(!s.delete_user(&uid("gone"), &[]).await.unwrap());
}

fn to_group(from: &str, group: &str, client_msg_id: &str) -> NewMessage {
    let mut m = chat(from, "x", client_msg_id, "hi group");
    m.message.conversation_id = group_conversation_id(&gid(group));
    m.message.session_type = SessionType::Group;
    m.message.recv_id = group.into();
    m.message.at_user_ids = vec!["m1".into()];
    m.participants.clear();
    m
}

async fn messages_get_gap_free_seqs(s: &dyn Store) {
    let out = s
        .append_messages(&[
            chat("a", "b", "c1", "one"),
            chat("b", "a", "c1", "two"),
            chat("a", "b", "c1", "dup"),
        ])
        .await
        .unwrap();
    assert_eq!(
        out.iter().map(|a| a.message.seq).collect::<Vec<_>>(),
        [1, 2, 1]
    );
    assert_eq!(
        out.iter().map(|a| a.duplicate).collect::<Vec<_>>(),
        [false, false, true]
    );
    assert!(
        out[2].message.content.contains("one"),
        "a resend returns the first message"
    );
    let again = s
        .append_messages(&[
            chat("a", "b", "c1", "resend"),
            chat("a", "b", "c2", "three"),
        ])
        .await
        .unwrap();
    assert_eq!((again[0].duplicate, again[0].message.seq), (true, 1));
    assert_eq!((again[1].duplicate, again[1].message.seq), (false, 3));

    let conv = single_conversation_id(&uid("a"), &uid("b"));
    assert_eq!(s.max_seq(&conv).await.unwrap(), 3);
    let list = s.get_messages(&uid("a"), &conv, 1, 10, 100).await.unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[1].sender_id, uid("b"));
    assert_eq!(list[2].content, "{\"text\":\"three\"}");
    assert_eq!(
        s.get_messages(&uid("a"), &conv, 2, 10, 1).await.unwrap()[0].seq,
        2,
        "paged"
    );

    let mine = s.user_conversations(&uid("b")).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(
        (mine[0].peer_id.as_str(), mine[0].max_seq, mine[0].read_seq),
        ("a", 3, 0)
    );
    assert_eq!(mine[0].unread(), 3);
}

async fn undelivered_counts_others_messages_until_delivered(s: &dyn Store) {
    s.append_messages(&[
        chat("oa", "ob", "u1", "one"),
        chat("oa", "ob", "u2", "two"),
        chat("ob", "oa", "u3", "own"),
    ])
    .await
    .unwrap();
    assert_eq!(
        s.undelivered_count(&uid("ob")).await.unwrap(),
        2,
        "not their own"
    );
    assert_eq!(s.undelivered_count(&uid("oa")).await.unwrap(), 1);
    let conv = single_conversation_id(&uid("oa"), &uid("ob"));
    assert!(s.mark_delivered(&uid("ob"), &conv, 3, 5).await.unwrap());
    assert_eq!(s.undelivered_count(&uid("ob")).await.unwrap(), 0);
    s.append_messages(&[chat("oa", "ob", "u4", "four")])
        .await
        .unwrap();
    assert_eq!(s.undelivered_count(&uid("ob")).await.unwrap(), 1);
    assert!(s.mark_read(&uid("ob"), &conv, 4, 6).await.unwrap());
    assert_eq!(
        s.undelivered_count(&uid("ob")).await.unwrap(),
        0,
        "read counts as received"
    );
    assert_eq!(s.undelivered_count(&uid("nobody")).await.unwrap(), 0);
    // Deleted for oneself, or not chat (a notice): not counted.
    s.append_messages(&[
        chat("oa", "ob", "u5", "five"),
        chat("oa", "ob", "u6", "six"),
    ])
    .await
    .unwrap();
    assert_eq!(s.undelivered_count(&uid("ob")).await.unwrap(), 2);
    assert_eq!(
        s.delete_messages_for(&uid("ob"), &conv, &[5])
            .await
            .unwrap(),
        1
    );
    assert_eq!(s.undelivered_count(&uid("ob")).await.unwrap(), 1);
    let mut notice = chat("oa", "ob", "u7", "notice");
    notice.message.content_type = 1204;
    s.append_messages(&[notice]).await.unwrap();
    assert_eq!(s.undelivered_count(&uid("ob")).await.unwrap(), 1);
}

async fn sms_codes_limits_and_sessions(s: &dyn Store) {
    use confab_core::store::SmsCodeCheck::*;
    let counts = s
        .sms_send_counts("+8616522222222", "1.2.3.4", 0, 0)
        .await
        .unwrap();
    assert_eq!(
        (counts.last_sent_at, counts.phone_sends, counts.ip_sends),
        (None, 0, 0)
    );
    s.put_sms_code("+8616522222222", "1.2.3.4", "h1", 10_000, 1_000)
        .await
        .unwrap();
    s.put_sms_code("+8616522222222", "1.2.3.4", "h2", 20_000, 2_000)
        .await
        .unwrap();
    let counts = s
        .sms_send_counts("+8616522222222", "1.2.3.4", 1_500, 0)
        .await
        .unwrap();
    assert_eq!(
        (counts.last_sent_at, counts.phone_sends, counts.ip_sends),
        (Some(2_000), 1, 2)
    );
    // The second code replaced the first; wrong tries count; a right one is used up.
    assert_eq!(
        s.check_sms_code("+8616522222222", "h1", 3_000, 5)
            .await
            .unwrap(),
        Wrong
    );
    assert_eq!(
        s.check_sms_code("+8616522222222", "h2", 3_000, 5)
            .await
            .unwrap(),
        Accepted
    );
    assert_eq!(
        s.check_sms_code("+8616522222222", "h2", 3_000, 5)
            .await
            .unwrap(),
        NoCode
    );
    // Void after the attempts run out, and after expiry.
    s.put_sms_code("+8613800000000", "9.9.9.9", "h3", 20_000, 2_000)
        .await
        .unwrap();
    for _ in 0..2 {
        assert_eq!(
            s.check_sms_code("+8613800000000", "x", 3_000, 2)
                .await
                .unwrap(),
            Wrong
        );
    }
    assert_eq!(
        s.check_sms_code("+8613800000000", "h3", 3_000, 2)
            .await
            .unwrap(),
        NoCode
    );
    s.put_sms_code("+8613800000000", "9.9.9.9", "h4", 20_000, 4_000)
        .await
        .unwrap();
    assert_eq!(
        s.check_sms_code("+8613800000000", "h4", 20_000, 5)
            .await
            .unwrap(),
        NoCode
    );
    // A phone's user is made once, with the next free number as id.
    seed_users(s, &["41", "zed"]).await;
    let template = User::new(uid("unused"), 5);
    let (first, created) = s.phone_user("+8616522222222", &template).await.unwrap();
    assert!(created);
    assert_eq!(first.user_id.as_str(), first.numeric_id.to_string());
    assert_eq!(
        first.numeric_id, 42,
        "after the largest number, not a named user's"
    );
    let (again, created) = s.phone_user("+8616522222222", &template).await.unwrap();
    assert_eq!(
        (again.user_id.clone(), created),
        (first.user_id.clone(), false)
    );
    let (other, _) = s.phone_user("+8613800000000", &template).await.unwrap();
    assert_eq!(other.numeric_id, first.numeric_id + 1);
    // Sessions: one per device, replaced by a new sign-in, revocable.
    s.put_session("t1", &first.user_id, "android", "d1", 1)
        .await
        .unwrap();
    s.put_session("t2", &first.user_id, "ios", "d2", 1)
        .await
        .unwrap();
    assert_eq!(
        s.get_session("t1").await.unwrap(),
        Some((first.user_id.clone(), "android".into()))
    );
    s.put_session("t3", &first.user_id, "android", "d1", 2)
        .await
        .unwrap();
    assert_eq!(
        s.get_session("t1").await.unwrap(),
        None,
        "replaced on the same device"
    );
    assert!(s.get_session("t2").await.unwrap().is_some());
    assert!(s.delete_session("t3").await.unwrap());
    assert!(!s.delete_session("t3").await.unwrap());
    s.put_session("t4", &first.user_id, "web", "", 3)
        .await
        .unwrap();
    assert_eq!(
        s.delete_user_sessions(&first.user_id).await.unwrap(),
        2,
        "t2 and t4"
    );
    assert_eq!(s.get_session("t2").await.unwrap(), None);
    s.put_session("t2", &first.user_id, "ios", "d2", 4)
        .await
        .unwrap();
    // Deleting the user ends their sessions and frees the phone.
    assert!(s.delete_user(&first.user_id, &[]).await.unwrap());
    assert_eq!(s.get_session("t2").await.unwrap(), None);
    let (fresh, created) = s.phone_user("+8616522222222", &template).await.unwrap();
    assert!(created && fresh.user_id != first.user_id);
}

async fn settings_are_made_once(s: &dyn Store) {
    assert_eq!(s.setting_or_init("k", "first").await.unwrap(), "first");
    assert_eq!(s.setting_or_init("k", "second").await.unwrap(), "first");
    assert_eq!(s.setting_or_init("other", "x").await.unwrap(), "x");
}

async fn concurrent_appends_are_gap_free(s: &dyn Store) {
    let senders = ["p", "q", "r", "t"];
    let futures = senders.iter().map(|sender| async move {
        let mut seqs = Vec::new();
        for i in 0..25 {
            let batch = [chat(sender, "z", &format!("{sender}{i}"), "x")];
            seqs.push(s.append_messages(&batch).await.unwrap()[0].message.seq);
        }
        seqs
    });
    let mut all: Vec<i64> = futures::future::join_all(futures)
        .await
        .into_iter()
        .flatten()
        .collect();
    // Different conversations: each sender's chat with z counts from 1.
    all.sort();
    assert_eq!(all.len(), 100);
    let futures = (0..4).map(|n| async move {
        let batch: Vec<NewMessage> = (0..25)
            .map(|i| to_group(&format!("s{n}"), "busy", &format!("{n}-{i}")))
            .collect();
        s.append_messages(&batch).await.unwrap()
    });
    let mut seqs: Vec<i64> = futures::future::join_all(futures)
        .await
        .into_iter()
        .flatten()
        .map(|a| a.message.seq)
        .collect();
    seqs.sort();
    assert_eq!(
        seqs,
        (1..=100).collect::<Vec<_>>(),
        "one conversation: 1..=100, no gap, no duplicate"
    );
}

async fn read_clear_and_delete_for_one_user(s: &dyn Store) {
    for i in 0..5 {
        s.append_messages(&[chat("a", "b", &format!("m{i}"), "x")])
            .await
            .unwrap();
    }
    let conv = single_conversation_id(&uid("a"), &uid("b"));
    assert!(s.mark_read(&uid("b"), &conv, 3, 5).await.unwrap());
    assert!(s.mark_read(&uid("b"), &conv, 2, 6).await.unwrap());
    let uc = s
        .user_conversation(&uid("b"), &conv)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (uc.read_seq, uc.delivered_seq, uc.unread()),
        (3, 3, 2),
        "read_seq never moves down"
    );
    assert!(s.mark_delivered(&uid("b"), &conv, 5, 7).await.unwrap());
    assert_eq!(
        s.user_conversation(&uid("b"), &conv)
            .await
            .unwrap()
            .unwrap()
            .undelivered(),
        0
    );
    assert!(!s.mark_read(&uid("nobody"), &conv, 3, 5).await.unwrap());

    assert_eq!(
        s.delete_messages_for(&uid("a"), &conv, &[2, 4, 4])
            .await
            .unwrap(),
        2
    );
    let seqs = |v: Vec<Message>| v.into_iter().map(|m| m.seq).collect::<Vec<_>>();
    assert_eq!(
        seqs(s.get_messages(&uid("a"), &conv, 1, 5, 10).await.unwrap()),
        [1, 3, 5]
    );
    assert_eq!(
        seqs(s.get_messages(&uid("b"), &conv, 1, 5, 10).await.unwrap()),
        [1, 2, 3, 4, 5]
    );

    assert!(s.clear_conversation(&uid("a"), &conv, 8).await.unwrap());
    let uc = s
        .user_conversation(&uid("a"), &conv)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((uc.min_seq, uc.unread()), (6, 0));

    let patch = ConversationPatch {
        is_pinned: Some(true),
        recv_msg_opt: Some(2),
        is_hidden: Some(true),
        ex: None,
    };
    assert!(s
        .update_user_conversation(&uid("a"), &conv, &patch, 9)
        .await
        .unwrap());
    let uc = s
        .user_conversation(&uid("a"), &conv)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (uc.is_pinned, uc.recv_msg_opt, uc.is_hidden),
        (true, 2, true)
    );
}

async fn group_members_see_from_join(s: &dyn Store) {
    s.create_group(
        &group("g1", "own"),
        &[
            member("g1", "own", Role::Owner, 1),
            member("g1", "m1", Role::Member, 1),
        ],
    )
    .await
    .unwrap();
    s.append_messages(&[to_group("own", "g1", "x1"), to_group("m1", "g1", "x2")])
        .await
        .unwrap();
    s.add_members(&[member("g1", "late", Role::Member, 2)])
        .await
        .unwrap();
    let conv = group_conversation_id(&gid("g1"));
    let late = s
        .user_conversation(&uid("late"), &conv)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((late.min_seq, late.max_seq, late.unread()), (3, 2, 0));
    let early = s
        .user_conversation(&uid("m1"), &conv)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (early.min_seq, early.unread(), early.peer_id.as_str()),
        (1, 2, "g1")
    );
    let mut ids = s.member_ids(&gid("g1")).await.unwrap();
    ids.sort();
    assert_eq!(ids, [uid("late"), uid("m1"), uid("own")]);
    let stored = s.get_message(&conv, 1).await.unwrap().unwrap();
    assert_eq!(stored.at_user_ids, ["m1"]);
    s.remove_members(&gid("g1"), &[uid("m1")]).await.unwrap();
    assert!(
        s.user_conversation(&uid("m1"), &conv)
            .await
            .unwrap()
            .is_none(),
        "leaving ends the member's view"
    );
}

async fn revoke(s: &dyn Store) {
    s.append_messages(&[chat("a", "b", "c1", "oops")])
        .await
        .unwrap();
    let conv = single_conversation_id(&uid("a"), &uid("b"));
    let mut notice = chat("a", "b", "r1", "");
    notice.message.content_type = 111;
    notice.message.content = "{\"revokeMsgClientID\":\"c1\"}".into();
    let appended = s.revoke_message(&conv, 1, &notice).await.unwrap().unwrap();
    assert_eq!(appended.message.seq, 2);
    assert_eq!(
        s.get_message(&conv, 1).await.unwrap().unwrap().status,
        MessageStatus::Revoked
    );
    assert!(s
        .revoke_message(&conv, 9, &chat("a", "b", "r2", ""))
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        s.max_seq(&conv).await.unwrap(),
        2,
        "a failed revoke appends nothing"
    );
}

/// A notification to every user, as the service sends it: no participants.
fn broadcast(client_msg_id: &str, text: &str) -> NewMessage {
    let mut m = chat("notifier", "x", client_msg_id, text);
    m.message.conversation_id = BROADCAST_CONVERSATION_ID.into();
    m.message.session_type = SessionType::Notification;
    m.message.recv_id = String::new();
    m.participants.clear();
    m
}

async fn broadcast_view(s: &dyn Store, user: &str) -> UserConversation {
    let all = s.user_conversations(&uid(user)).await.unwrap();
    let mut found = all
        .into_iter()
        .filter(|c| c.conversation_id == BROADCAST_CONVERSATION_ID);
    let view = found.next().expect("every user sees the broadcast");
    assert!(found.next().is_none(), "listed once");
    let one = s
        .user_conversation(&uid(user), BROADCAST_CONVERSATION_ID)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one, view, "one conversation and the list agree");
    view
}

async fn broadcast_is_stored_once<S: Store + RowCounts>(s: &S) {
    let users: Vec<User> = (0..1000).map(|i| user(&format!("u{i}"), i)).collect();
    s.create_users(&users).await.unwrap();
    assert!(s
        .user_conversation(&uid("u0"), BROADCAST_CONVERSATION_ID)
        .await
        .unwrap()
        .is_none());
    assert!(s.user_conversations(&uid("u0")).await.unwrap().is_empty());

    let out = s
        .append_messages(&[broadcast("b1", "hello all")])
        .await
        .unwrap();
    assert_eq!((out[0].message.seq, out[0].duplicate), (1, false));
    assert_eq!(s.max_seq(BROADCAST_CONVERSATION_ID).await.unwrap(), 1);
    assert_eq!(s.row_count("messages").await.unwrap(), 1, "stored once");
    assert_eq!(
        s.row_count("user_conversations").await.unwrap(),
        0,
        "no per-user rows"
    );

    for name in ["u0", "u1", "u500", "u999"] {
        let view = broadcast_view(s, name).await;
        assert_eq!(
            view,
            UserConversation {
                user_id: uid(name),
                conversation_id: BROADCAST_CONVERSATION_ID.into(),
                session_type: SessionType::Notification,
                peer_id: String::new(),
                max_seq: 1,
                read_seq: 0,
                delivered_seq: 0,
                min_seq: 1,
                recv_msg_opt: 0,
                is_pinned: false,
                is_hidden: false,
                ex: String::new(),
                updated_at: 0,
            }
        );
        assert_eq!((view.unread(), view.undelivered()), (1, 1));
        let got = s
            .get_messages(&uid(name), BROADCAST_CONVERSATION_ID, 1, 10, 10)
            .await
            .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].content, "{\"text\":\"hello all\"}");
    }
    assert_eq!(
        s.row_count("user_conversations").await.unwrap(),
        0,
        "reading creates nothing"
    );

    // A user's own conversations come with it, in id order.
    s.append_messages(&[chat("u1", "u2", "c1", "hi")])
        .await
        .unwrap();
    let ids: Vec<String> = s
        .user_conversations(&uid("u1"))
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.conversation_id)
        .collect();
    assert_eq!(ids, [BROADCAST_CONVERSATION_ID, "si_u1_u2"]);

    // Only conversations that exist, and only for users who exist.
    assert!(s
        .user_conversation(&uid("u0"), "b_empty")
        .await
        .unwrap()
        .is_none());
    assert!(!s.mark_read(&uid("u0"), "b_empty", 1, 5).await.unwrap());
    assert!(s
        .user_conversations(&uid("ghost"))
        .await
        .unwrap()
        .is_empty());
    assert!(!s
        .mark_read(&uid("ghost"), BROADCAST_CONVERSATION_ID, 1, 5)
        .await
        .unwrap());
    assert_eq!(s.row_count("user_conversations").await.unwrap(), 2);
}

async fn broadcast_cursors_are_per_user<S: Store + RowCounts>(s: &S) {
    seed_users(s, &["ann", "ben", "cat", "dan", "eve"]).await;
    s.append_messages(&[broadcast("b1", "one")]).await.unwrap();
    let all = BROADCAST_CONVERSATION_ID;

    assert!(s.mark_read(&uid("ann"), all, 1, 10).await.unwrap());
    let ann = broadcast_view(s, "ann").await;
    assert_eq!(
        (ann.read_seq, ann.unread(), ann.updated_at),
        (1, 0, 10),
        "her row"
    );
    assert_eq!(
        broadcast_view(s, "ben").await.unread(),
        1,
        "his cursor stays"
    );
    assert_eq!(s.row_count("user_conversations").await.unwrap(), 1);

    let out = s.append_messages(&[broadcast("b2", "two")]).await.unwrap();
    assert_eq!(out[0].message.seq, 2);
    assert_eq!(s.row_count("messages").await.unwrap(), 2);
    let ann = broadcast_view(s, "ann").await;
    assert_eq!((ann.max_seq, ann.unread()), (2, 1));
    assert_eq!(broadcast_view(s, "ben").await.unread(), 2);
    assert!(s.mark_read(&uid("ann"), all, 2, 11).await.unwrap());
    assert!(s.mark_read(&uid("ann"), all, 1, 12).await.unwrap());
    assert_eq!(
        broadcast_view(s, "ann").await.read_seq,
        2,
        "never moves down"
    );

    // Clearing hides what is there so far, for one user only.
    assert!(s.clear_conversation(&uid("cat"), all, 13).await.unwrap());
    let cat = broadcast_view(s, "cat").await;
    assert_eq!((cat.min_seq, cat.unread()), (3, 0));
    assert_eq!(broadcast_view(s, "ben").await.min_seq, 1);

    // Deleting for oneself.
    assert_eq!(
        s.delete_messages_for(&uid("dan"), all, &[1]).await.unwrap(),
        1
    );
    let seqs = |v: Vec<Message>| v.into_iter().map(|m| m.seq).collect::<Vec<_>>();
    assert_eq!(
        seqs(s.get_messages(&uid("dan"), all, 1, 10, 10).await.unwrap()),
        [2]
    );
    assert_eq!(
        seqs(s.get_messages(&uid("ben"), all, 1, 10, 10).await.unwrap()),
        [1, 2]
    );

    // Delivery and the conversation's settings.
    assert!(s.mark_delivered(&uid("eve"), all, 2, 14).await.unwrap());
    let eve = broadcast_view(s, "eve").await;
    assert_eq!(
        (eve.delivered_seq, eve.undelivered(), eve.unread()),
        (2, 0, 2)
    );
    let patch = ConversationPatch {
        is_pinned: Some(true),
        recv_msg_opt: Some(2),
        ..Default::default()
    };
    assert!(s
        .update_user_conversation(&uid("ben"), all, &patch, 15)
        .await
        .unwrap());
    let ben = broadcast_view(s, "ben").await;
    assert_eq!(
        (ben.is_pinned, ben.recv_msg_opt, ben.unread()),
        (true, 2, 2)
    );
    assert_eq!(s.row_count("user_conversations").await.unwrap(), 4);

    // Deleting a user takes their state with them; the messages stay.
    assert!(s.delete_user(&uid("ann"), &[]).await.unwrap());
    assert_eq!(s.row_count("user_conversations").await.unwrap(), 3);
    assert!(s.user_conversations(&uid("ann")).await.unwrap().is_empty());
    assert_eq!(s.max_seq(all).await.unwrap(), 2);
}

contract!(
    users_roundtrip,
    users_conflict_is_all_or_nothing,
    user_ids_are_paged_in_order,
    tokens_one_per_platform,
    friends_are_directed_edges,
    blacks,
    chat_facts_of_a_large_batch,
    friend_requests,
    groups_and_members,
    group_requests,
    delete_user_cleans_up,
    messages_get_gap_free_seqs,
    concurrent_appends_are_gap_free,
    undelivered_counts_others_messages_until_delivered,
    settings_are_made_once,
    sms_codes_limits_and_sessions,
    read_clear_and_delete_for_one_user,
    group_members_see_from_join,
    revoke,
    broadcast_is_stored_once,
    broadcast_cursors_are_per_user,
);
