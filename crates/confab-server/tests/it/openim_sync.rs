//! The incremental sync routes of OpenIM's v3 SDK, with the bodies its
//! login sync sends (`/tmp/research/sdk.md` §4): a first call (version 0,
//! no versionID) gets everything and a log id; a call with the version it
//! got gets exactly what changed since; a versionID of another log gets
//! everything again. Changes are made through the admin API.

mod groups;

use crate::harness::*;
use serde_json::{json, Value};

/// `value` with every recent millisecond time (`createTime`, `joinTime`)
/// as `"<ms>"`: a time in seconds fails the comparison.
fn ms(mut value: Value) -> Value {
    fn walk(v: &mut Value, now: i64) {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    let recent = x.as_i64().is_some_and(|t| t > now - 3_600_000 && t <= now);
                    if ["createTime", "joinTime"].contains(&k.as_str()) && recent {
                        *x = json!("<ms>");
                    } else {
                        walk(x, now);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| walk(x, now)),
            _ => {}
        }
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    walk(&mut value, now);
    value
}

/// The client's position, as the SDK sends it.
fn at(user: &str, version: &Value, version_id: &Value) -> Value {
    json!({"userID": user, "version": version, "versionID": version_id})
}

fn first(user: &str) -> Value {
    at(user, &json!(0), &json!(""))
}

/// A delta's answer, with the version and id it is expected to carry.
fn delta(got: &Value, full: bool, insert: Value, update: Value, delete: Value) -> Value {
    json!({"version": got["version"], "versionID": got["versionID"], "full": full,
           "insert": insert, "update": update, "delete": delete, "sortVersion": 0})
}

fn friend(owner: &str, id: &str, remark: &str) -> Value {
    json!({"ownerUserID": owner, "remark": remark, "createTime": "<ms>", "addSource": 0,
           "operatorUserID": "", "ex": "", "isPinned": false,
           "friendUser": {"userID": id, "nickname": format!("nick {id}"), "faceURL": "",
                          "ex": "", "createTime": "<ms>", "appMangerLevel": 0,
                          "globalRecvMsgOpt": 0}})
}

const FRIENDS: &str = "/friend/get_incremental_friends";

async fn friends_since_a_version(t: &TestServer) {
    let alice = t.user("alice").await;
    let bob = t.user("bob").await;
    let carol = t.user("carol").await;
    let body = ok(&alice, FRIENDS, first("alice")).await;
    assert_eq!(
        (&body["errMsg"], &body["errDlt"]),
        (&json!(""), &json!("")),
        "{body}"
    );
    let start = body["data"].clone();
    let id = start["versionID"].clone();
    assert!(
        id.as_str().is_some_and(|s| !s.is_empty()),
        "an id on the first call: {start}"
    );
    assert_eq!(start, delta(&start, true, json!([]), json!([]), json!([])));
    assert_eq!(start["version"], 0);
    let same = data(&alice, FRIENDS, at("alice", &json!(0), &id)).await;
    assert_eq!(
        same,
        delta(&start, false, json!([]), json!([]), json!([])),
        "nothing changed"
    );

    // bob by import, carol by a request alice accepts.
    ok(
        &t.admin,
        "/friend/import_friend",
        json!({"fromUserID": "alice", "friendUserIDList": ["bob"]}),
    )
    .await;
    let one = data(&alice, FRIENDS, at("alice", &json!(0), &id)).await;
    assert_eq!(one["version"], 1);
    assert_eq!(
        ms(one.clone()),
        delta(
            &one,
            false,
            json!([friend("alice", "bob", "")]),
            json!([]),
            json!([])
        )
    );
    ok(
        &carol,
        "/friend/add_friend",
        json!({"fromUserID": "carol", "toUserID": "alice", "reqMsg": "hi"}),
    )
    .await;
    ok(
        &alice,
        "/friend/add_friend_response",
        json!({"fromUserID": "carol", "toUserID": "alice", "handleResult": 1, "handleMsg": "ok"}),
    )
    .await;
    let two = data(&alice, FRIENDS, at("alice", &one["version"], &id)).await;
    assert_eq!(
        ms(two.clone()),
        delta(
            &two,
            false,
            json!([friend("alice", "carol", "")]),
            json!([]),
            json!([])
        )
    );
    let carols = data(&carol, FRIENDS, first("carol")).await;
    assert_eq!(
        ms(carols.clone()),
        delta(
            &carols,
            true,
            json!([friend("carol", "alice", "")]),
            json!([]),
            json!([])
        ),
        "everything, in insert"
    );

    // Both users are told of the friendship as FriendAdded (1204), which
    // makes OpenIM's SDK sync its friends.
    for user in ["alice", "carol"] {
        let ws = t.connect(user, 5).await;
        let notices = ws.pull_all(&format!("n_{user}"), 1).await.unwrap();
        let types: Vec<i32> = notices.iter().map(|m| m.content_type).collect();
        assert!(
            types.ends_with(&[1201, 1204]),
            "{user}'s notices: {types:?}"
        );
    }

    ok(
        &alice,
        "/friend/set_friend_remark",
        json!({"fromUserID": "alice", "toUserID": "bob", "remark": "Bee"}),
    )
    .await;
    ok(
        &alice,
        "/friend/delete_friend",
        json!({"fromUserID": "alice", "toUserID": "carol"}),
    )
    .await;
    let four = data(&alice, FRIENDS, at("alice", &two["version"], &id)).await;
    assert_eq!(four["version"], 4);
    assert_eq!(
        ms(four.clone()),
        delta(
            &four,
            false,
            json!([]),
            json!([friend("alice", "bob", "Bee")]),
            json!(["carol"])
        )
    );
    let from_one = data(&alice, FRIENDS, at("alice", &json!(1), &id)).await;
    assert_eq!(
        ms(from_one.clone()),
        delta(
            &from_one,
            false,
            json!([]),
            json!([friend("alice", "bob", "Bee")]),
            json!(["carol"])
        ),
        "carol came and went after version 1: only her deletion is told"
    );
    for (version, version_id) in [(json!(4), json!("another-log")), (json!(9), id.clone())] {
        let all = data(&alice, FRIENDS, at("alice", &version, &version_id)).await;
        assert_eq!(
            ms(all.clone()),
            delta(
                &all,
                true,
                json!([friend("alice", "bob", "Bee")]),
                json!([]),
                json!([])
            ),
            "{version_id}@{version}: everything"
        );
        assert_eq!((&all["version"], &all["versionID"]), (&json!(4), &id));
    }
    // A friend's profile shows in the list: its change is an update.
    ok(
        &bob,
        "/user/update_user_info",
        json!({"userID": "bob", "nickname": "Bobby"}),
    )
    .await;
    let five = data(&alice, FRIENDS, at("alice", &json!(4), &id)).await;
    let mut bobby = friend("alice", "bob", "Bee");
    bobby["friendUser"]["nickname"] = json!("Bobby");
    assert_eq!(
        ms(five.clone()),
        delta(&five, false, json!([]), json!([bobby]), json!([]))
    );
}

/// The hashes OpenIM's `hashutil.IdHash` gives these sorted ids.
const HASH_BOB_CAROL: u64 = 11473931998524695991;
const HASH_GS1_GS2: u64 = 17203058677481076150;
const HASH_ALICE_BOB: u64 = 5436827266495222696;

async fn full_id_lists_and_their_hash(t: &TestServer) {
    let alice = t.user("alice").await;
    t.user("bob").await;
    t.user("carol").await;
    ok(
        &t.admin,
        "/friend/import_friend",
        json!({"fromUserID": "alice", "friendUserIDList": ["carol", "bob"]}),
    )
    .await;
    for gid in ["gs2", "gs1"] {
        ok(
            &t.admin,
            "/group/create_group",
            json!({"groupID": gid, "ownerUserID": "alice", "memberList": [{"userID": "bob"}]}),
        )
        .await;
    }
    let friends = data(&alice, FRIENDS, first("alice")).await;
    let groups = data(&alice, "/group/get_incremental_join_groups", first("alice")).await;
    let cases = [
        (
            "/friend/get_full_friend_user_ids",
            json!({"userID": "alice"}),
            "userIDs",
            json!(["bob", "carol"]),
            HASH_BOB_CAROL,
            &friends,
        ),
        (
            "/group/get_full_join_group_ids",
            json!({"userID": "alice"}),
            "groupIDs",
            json!(["gs1", "gs2"]),
            HASH_GS1_GS2,
            &groups,
        ),
    ];
    for (path, mut body, key, ids, hash, log) in cases {
        body["idHash"] = json!(0);
        let got = data(&alice, path, body.clone()).await;
        assert_eq!(
            got,
            json!({"version": log["version"], "versionID": log["versionID"], "equal": false, key: ids}),
            "{path}: the ids sorted, at the version of their list"
        );
        // The JS SDK sends a number, the Go SDK protobuf's string of it.
        for client_hash in [json!(hash), json!(hash.to_string())] {
            body["idHash"] = client_hash;
            let got = data(&alice, path, body.clone()).await;
            assert_eq!(
                got,
                json!({"version": log["version"], "versionID": log["versionID"], "equal": true, key: []}),
                "{path}"
            );
        }
    }
    let members = data(
        &alice,
        "/group/get_full_group_member_user_ids",
        json!({"groupID": "gs1", "idHash": 0}),
    )
    .await;
    assert_eq!(members["equal"], false);
    assert_eq!(members["userIDs"], json!(["alice", "bob"]));
    assert!(members["versionID"].as_str().is_some_and(|s| !s.is_empty()));
    let equal = data(
        &alice,
        "/group/get_full_group_member_user_ids",
        json!({"groupID": "gs1", "idHash": HASH_ALICE_BOB}),
    )
    .await;
    assert_eq!(
        equal,
        json!({"version": members["version"], "versionID": members["versionID"],
               "equal": true, "userIDs": []})
    );
}

const JOINED: &str = "/group/get_incremental_join_groups";
const MEMBERS: &str = "/group/get_incremental_group_members_batch";

fn at_of(user: &str, got: &Value) -> Value {
    at(user, &got["version"], &got["versionID"])
}

const CONVERSATIONS: &str = "/conversation/get_incremental_conversations";
const NOT_NOTIFY: &str = "/conversation/get_not_notify_conversation_ids";

/// Alice's conversation as OpenIM shows it (and its unread count, which
/// OpenIM's record lacks); its seqs and count are taken from `got`.
fn conversation(got: &Value, id: &str, kind: i64, peer: &str, opt: i64, pinned: bool) -> Value {
    let (user, group) = if kind == 3 { ("", peer) } else { (peer, "") };
    json!({"ownerUserID": "alice", "conversationID": id, "recvMsgOpt": opt,
           "conversationType": kind, "userID": user, "groupID": group, "isPinned": pinned,
           "attachedInfo": "", "isPrivateChat": false, "groupAtType": 0, "ex": "",
           "burnDuration": 0, "minSeq": got["minSeq"], "maxSeq": got["maxSeq"],
           "msgDestructTime": 0, "latestMsgDestructTime": 0, "isMsgDestruct": false,
           "unreadCount": got["unreadCount"]})
}

async fn conversations_since_a_version(t: &TestServer) {
    let alice = t.user("alice").await;
    t.user("bob").await;
    // A notice in alice's `n_alice`, a chat and a group.
    ok(
        &t.admin,
        "/friend/import_friend",
        json!({"fromUserID": "alice", "friendUserIDList": ["bob"]}),
    )
    .await;
    let hi = json!({"sendID": "alice", "recvID": "bob", "content": {"text": "hi"},
                    "contentType": 101, "sessionType": 1});
    ok(&t.admin, "/msg/manage_send_msg", hi).await;
    let create =
        json!({"groupID": "gc", "ownerUserID": "alice", "memberList": [{"userID": "bob"}]});
    ok(&t.admin, "/group/create_group", create).await;

    let all = data(&alice, CONVERSATIONS, first("alice")).await;
    let listed = &all["insert"];
    assert_eq!(listed[1]["maxSeq"], 1, "one message: {all}");
    // Unread: the group's creation notice, and the message the admin sent
    // in her name (no device of hers read it).
    assert_eq!(
        (
            listed[0]["unreadCount"].clone(),
            listed[1]["unreadCount"].clone()
        ),
        (json!(1), json!(1)),
        "{all}"
    );
    assert_eq!(
        all,
        delta(
            &all,
            true,
            json!([
                conversation(&listed[0], "sg_gc", 3, "gc", 0, false),
                conversation(&listed[1], "si_alice_bob", 1, "bob", 0, false),
            ]),
            json!([]),
            json!([])
        ),
        "OpenIM's ids, without alice's notices"
    );
    assert_eq!(
        data(&alice, NOT_NOTIFY, json!({"userID": "alice"})).await,
        json!({"conversationIDs": []})
    );

    let set = json!({"conversation": {"ownerUserID": "alice", "conversationID": "si_alice_bob",
                                      "isPinned": true, "recvMsgOpt": 2}});
    ok(&t.admin, "/conversation/set_conversation", set).await;
    let got = data(&alice, CONVERSATIONS, at_of("alice", &all)).await;
    assert_eq!(
        got,
        delta(
            &got,
            false,
            json!([]),
            json!([conversation(&listed[1], "si_alice_bob", 1, "bob", 2, true)]),
            json!([])
        )
    );
    assert_eq!(got["version"], 1);
    let mute = json!({"conversation": {"ownerUserID": "alice", "conversationID": "g_gc", "recvMsgOpt": 1}});
    ok(&t.admin, "/conversation/set_conversation", mute).await;
    assert_eq!(
        data(&alice, NOT_NOTIFY, json!({"userID": "alice"})).await,
        json!({"conversationIDs": ["sg_gc", "si_alice_bob"]})
    );
    let again = data(
        &alice,
        CONVERSATIONS,
        at("alice", &json!(2), &json!("stale")),
    )
    .await;
    assert_eq!(
        (
            again["full"].clone(),
            again["insert"].as_array().map(Vec::len)
        ),
        (json!(true), Some(2))
    );
}

async fn only_the_user_reads_their_lists(t: &TestServer) {
    t.user("alice").await;
    let bob = t.user("bob").await;
    let carol = t.user("carol").await;
    let create =
        json!({"groupID": "g1", "ownerUserID": "alice", "memberList": [{"userID": "bob"}]});
    ok(&t.admin, "/group/create_group", create).await;
    let alices = [
        (FRIENDS, first("alice")),
        (JOINED, first("alice")),
        (CONVERSATIONS, first("alice")),
        (
            "/friend/get_full_friend_user_ids",
            json!({"userID": "alice", "idHash": 0}),
        ),
        (
            "/group/get_full_join_group_ids",
            json!({"userID": "alice", "idHash": 0}),
        ),
        (NOT_NOTIFY, json!({"userID": "alice"})),
        (
            MEMBERS,
            json!({"userID": "alice", "reqList": [{"groupID": "g1", "version": 0, "versionID": ""}]}),
        ),
    ];
    for (path, body) in alices {
        let reply = bob.call(path, &body).await.unwrap();
        assert_err(&reply, 801, "cannot act for alice");
        assert_eq!(
            reply.body["errDlt"], "permission_denied",
            "{path}: {}",
            reply.body
        );
    }
    // Members only for a group one is in.
    let outsider = carol
        .call(
            "/group/get_full_group_member_user_ids",
            &json!({"groupID": "g1", "idHash": 0}),
        )
        .await
        .unwrap();
    assert_err(&outsider, 801, "carol is not a member of group g1");
    let batch =
        json!({"userID": "carol", "reqList": [{"groupID": "g1", "version": 0, "versionID": ""}]});
    assert_eq!(data(&carol, MEMBERS, batch).await, json!({"respList": {}}));
    // An admin reads anyone's; no token reads nothing.
    let admin = data(&t.admin, FRIENDS, first("bob")).await;
    assert_eq!(admin["full"], true);
    let anon = t.anon.call(FRIENDS, &first("bob")).await.unwrap();
    assert_ne!(anon.err_code(), 0, "{}", anon.body);
    let bad = bob
        .call(
            FRIENDS,
            &json!({"userID": "bob", "version": "v1", "versionID": ""}),
        )
        .await
        .unwrap();
    assert_err(&bad, 803, "version");
}

on_both_backends!(
    friends_since_a_version,
    full_id_lists_and_their_hash,
    conversations_since_a_version,
    only_the_user_reads_their_lists,
);
