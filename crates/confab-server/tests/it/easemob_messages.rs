//! The Easemob proxy's messages over real WebSockets: `sendMessages` to
//! users and groups, live and by sync, per-target failures, the message
//! types, and `offlineMsgCount`.

use crate::easemob::{hx, ok_data};
use crate::harness::*;
use confab_client::WsClient;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

async fn app_token(t: &TestServer) -> String {
    let data = ok_data(t, "/hx/getToken", json!({})).await;
    data["access_token"].as_str().unwrap().to_owned()
}

/// Registers users through the proxy (password "p").
async fn register(t: &TestServer, token: &str, names: &[&str]) {
    let users: Vec<Value> = names
        .iter()
        .map(|n| json!({"username": n, "password": "p"}))
        .collect();
    ok_data(
        t,
        "/hx/registerUser",
        json!({"users": users, "token": token}),
    )
    .await;
}

/// A gateway session of `name`, logged in with its password.
async fn login(t: &TestServer, name: &str) -> WsClient {
    let data = ok_data(
        t,
        "/hx/userToken",
        json!({"username": name, "password": "p"}),
    )
    .await;
    let token = data["access_token"].as_str().unwrap();
    WsClient::connect(&t.url(), token, 5).await.unwrap()
}

async fn offline_count(t: &TestServer, token: &str, name: &str) -> i64 {
    let data = ok_data(
        t,
        "/hx/offlineMsgCount",
        json!({"owner_username": name, "token": token}),
    )
    .await;
    assert_eq!(data["action"], "get");
    assert_eq!(data["entities"], json!([]));
    assert!(data["uri"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/users/{name}/offline_msg_count")));
    data["data"][name].as_i64().unwrap()
}

async fn live_and_sync(t: &TestServer) {
    let token = app_token(t).await;
    register(t, &token, &["u1", "u2", "u3"]).await;
    let u2 = login(t, "u2").await;
    // Spec example 8 (with `stliu` unknown here).
    let data = ok_data(t, "/hx/sendMessages", json!({"target_type": "users", "target": ["u2", "u3", "stliu"], "msg": {"type": "txt", "msg": "HelloWorld"}, "from": "u1", "ext": {"k": "v"}, "token": token})).await;
    assert_eq!(data["action"], "post");
    assert_eq!(data["path"], "/messages");
    assert_eq!(data["applicationName"], "confab");
    assert_eq!(data["data"]["u2"], "success");
    assert_eq!(data["data"]["u3"], "success");
    assert!(
        data["data"]["stliu"]
            .as_str()
            .unwrap()
            .contains("does not exist"),
        "{data}"
    );
    let m = u2.next_message(WAIT).await.expect("pushed live");
    assert_eq!((m.send_id.as_str(), m.content_type), ("u1", 101));
    assert_eq!(m.content_value()["text"], "HelloWorld");
    assert_eq!(
        serde_json::from_str::<Value>(&m.ex).unwrap(),
        json!({"k": "v"})
    );
    // A live push alone does not count as received (the device says so
    // with `delivered`, or by pulling): the count holds until then.
    assert_eq!(offline_count(t, &token, "u2").await, 1);
    u2.request::<Value>(
        "delivered",
        Some(json!({"conversationID": m.conversation_id, "seq": m.seq})),
    )
    .await
    .unwrap();
    assert_eq!(offline_count(t, &token, "u2").await, 0);
    // u2 disconnects; a message sent meanwhile comes by sync.
    u2.close().await;
    ok_data(t, "/hx/sendMessages", json!({"target_type": "users", "target": ["u2"], "msg": {"type": "txt", "msg": "while away"}, "from": "u1", "token": token})).await;
    let u2 = login(t, "u2").await;
    let known = HashMap::from([(m.conversation_id.clone(), m.seq)]);
    let synced = u2.sync(&known).await.unwrap();
    assert_eq!(synced.len(), 1, "{synced:?}");
    assert_eq!(synced[0].content_value()["text"], "while away");
    // u3 was offline: counted, then found by sync, then no longer counted.
    assert_eq!(offline_count(t, &token, "u3").await, 1);
    ok_data(t, "/hx/sendMessages", json!({"target_type": "users", "target": ["u3"], "msg": {"type": "txt", "msg": "second"}, "token": token})).await;
    assert_eq!(offline_count(t, &token, "u3").await, 2);
    let u3 = login(t, "u3").await;
    let synced = u3.sync(&HashMap::new()).await.unwrap();
    // Two conversations: with u1, and with the system user.
    let mut got: Vec<(String, String)> = synced
        .iter()
        .map(|m| {
            (
                m.send_id.clone(),
                m.content_value()["text"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("admin".to_owned(), "second".to_owned()),
            ("u1".to_owned(), "HelloWorld".to_owned())
        ],
        "no `from`: sent by the system user"
    );
    assert_eq!(offline_count(t, &token, "u3").await, 0);
    // A group made through OpenIM is a chatgroups target.
    let group = crate::harness::data(
        &t.admin,
        "/group/create_group",
        json!({"ownerUserID": "u1", "groupName": "g", "memberList": [{"userID": "u2"}]}),
    )
    .await;
    let gid = group["groupID"].as_str().unwrap();
    let data = ok_data(t, "/hx/sendMessages", json!({"target_type": "chatgroups", "target": [gid, "no-such-group"], "msg": {"type": "txt", "msg": "to the group"}, "from": "u1", "token": token})).await;
    assert_eq!(data["data"][gid], "success");
    assert!(data["data"]["no-such-group"]
        .as_str()
        .unwrap()
        .contains("does not exist"));
    loop {
        let m = u2.next_message(WAIT).await.expect("the group message");
        if m.content_type == 101 {
            assert_eq!(
                (m.group_id.as_str(), m.content_value()["text"].as_str()),
                (gid, Some("to the group"))
            );
            break;
        }
    }
    // A block fails its target alone.
    ok(
        &t.admin,
        "/friend/add_black",
        json!({"fromUserID": "u2", "toUserID": "u1"}),
    )
    .await;
    let data = ok_data(t, "/hx/sendMessages", json!({"target_type": "users", "target": ["u2", "u3"], "msg": {"type": "txt", "msg": "x"}, "from": "u1", "token": token})).await;
    assert!(
        data["data"]["u2"].as_str().unwrap().contains("blocked"),
        "{data}"
    );
    assert_eq!(data["data"]["u3"], "success");
}

async fn types_and_refusals(t: &TestServer) {
    let token = app_token(t).await;
    register(t, &token, &["s1", "s2"]).await;
    let s2 = login(t, "s2").await;
    let send = |msg: Value| {
        hx(
            t,
            "/hx/sendMessages",
            json!({"target_type": "users", "target": ["s2"], "msg": msg, "from": "s1", "token": token}),
        )
    };
    let cases = [
        (
            json!({"type": "img", "url": "https://x/a.jpg", "filename": "a.jpg", "size": {"width": 4, "height": 3}}),
            102,
            "sourcePicture",
        ),
        (
            json!({"type": "audio", "url": "https://x/a.amr", "filename": "a.amr", "length": 3}),
            103,
            "sourceUrl",
        ),
        (
            json!({"type": "video", "url": "https://x/v.mp4", "filename": "v.mp4", "thumb": "https://x/t.jpg", "length": 9, "file_length": 100}),
            104,
            "videoUrl",
        ),
        (
            json!({"type": "file", "url": "https://x/f.pdf", "filename": "f.pdf"}),
            105,
            "sourceUrl",
        ),
        (
            json!({"type": "loc", "lat": "39.9", "lng": 116.4, "addr": "Beijing"}),
            109,
            "latitude",
        ),
        (
            json!({"type": "custom", "customEvent": "gift", "customExts": {"n": 1}}),
            110,
            "data",
        ),
    ];
    for (msg, content_type, key) in cases {
        let reply = send(msg.clone()).await;
        assert_eq!(reply["data"]["data"]["s2"], "success", "{msg}: {reply}");
        let m = s2.next_message(WAIT).await.expect("pushed");
        assert_eq!(m.content_type, content_type, "{msg}");
        assert!(
            m.content_value().get(key).is_some(),
            "{msg}: {}",
            m.content.get()
        );
        assert!(m.seq > 0, "stored");
    }
    // cmd: pushed to the online device, never stored.
    let reply = send(json!({"type": "cmd", "action": "refresh"})).await;
    assert_eq!(reply["data"]["data"]["s2"], "success");
    let m = s2.next_message(WAIT).await.expect("pushed");
    assert_eq!((m.content_type, m.seq), (110, 0));
    assert!(m.content_value()["data"]
        .as_str()
        .unwrap()
        .contains("refresh"));
    let stored = s2.sync(&HashMap::new()).await.unwrap();
    assert_eq!(stored.len(), 6, "the cmd is not stored");
    // Refusals fail the request.
    let reply = send(json!({"type": "vote"})).await;
    assert_eq!(reply["code"], 400, "{reply}");
    assert!(reply["message"].as_str().unwrap().contains("msg.type"));
    let reply = hx(t, "/hx/sendMessages", json!({"target_type": "users", "target": ["s2"], "msg": {"type": "txt", "msg": "x"}, "from": "", "token": token})).await;
    assert_eq!(
        (reply["code"].as_i64(), reply["data"].is_null()),
        (Some(400), true)
    );
    assert!(reply["message"].as_str().unwrap().contains("from"));
    let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    let reply = hx(t, "/hx/sendMessages", json!({"target_type": "users", "target": many, "msg": {"type": "txt", "msg": "x"}, "token": token})).await;
    assert_eq!(reply["code"], 400);
    assert!(
        reply["message"].as_str().unwrap().contains("at most 20"),
        "{reply}"
    );
    let reply = hx(t, "/hx/sendMessages", json!({"target_type": "planets", "target": ["s2"], "msg": {"type": "txt", "msg": "x"}, "token": token})).await;
    assert_eq!(reply["code"], 400);
    let reply = hx(t, "/hx/sendMessages", json!({"target_type": "users", "target": ["s2"], "msg": {"type": "txt", "msg": "x"}, "token": "forged"})).await;
    assert_eq!(reply["code"], 401);
    let reply = hx(
        t,
        "/hx/offlineMsgCount",
        json!({"owner_username": "ghost", "token": token}),
    )
    .await;
    assert_eq!(reply["code"], 404);
}

/// A chatroom message reaches the members connected now and nobody else,
/// and is in no later sync; `maxusers` holds.
async fn chatrooms(t: &TestServer) {
    let token = app_token(t).await;
    register(t, &token, &["host", "r1", "r2", "r3", "away"]).await;
    let data = ok_data(t, "/hx/createChatroom", json!({"name": "lobby", "description": "d", "owner": "host", "maxusers": 3, "token": token})).await;
    let room = data["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(data["action"], "post");
    // Members who are offline give up their places (an online-only room),
    // so the owner connects first.
    let host = login(t, "host").await;
    let r1 = login(t, "r1").await;
    let r2 = login(t, "r2").await;
    let r3 = login(t, "r3").await;
    r1.join_room(&room).await.unwrap();
    r2.join_room(&room).await.unwrap();
    // host (the owner) and r1, r2: three; a fourth is refused.
    let full = r3.join_room(&room).await.unwrap_err().to_string();
    assert!(full.contains("full"), "{full}");
    let listed = ok_data(t, "/hx/getChatrooms", json!({"token": token})).await;
    assert_eq!(listed["data"][0]["id"], room);
    assert_eq!(listed["data"][0]["maxusers"], 3);
    assert_eq!(listed["data"][0]["affiliations_count"], 3);
    let data = ok_data(t, "/hx/sendMessages", json!({"target_type": "chatrooms", "target": [room, "no-room"], "msg": {"type": "txt", "msg": "hello room"}, "from": "host", "token": token})).await;
    assert_eq!(data["data"][&room], "success", "{data}");
    assert!(data["data"]["no-room"]
        .as_str()
        .unwrap()
        .contains("does not exist"));
    for member in [&r1, &r2] {
        let m = member.next_message(WAIT).await.expect("the room's message");
        assert_eq!(
            (m.content_value()["text"].as_str(), m.seq),
            (Some("hello room"), 0)
        );
    }
    assert!(
        r3.next_message(Duration::from_millis(300)).await.is_none(),
        "not a member"
    );
    assert!(
        r1.sync(&HashMap::new()).await.unwrap().is_empty(),
        "never stored"
    );
    // A member who leaves gets nothing more.
    r2.leave_room(&room).await.unwrap();
    ok_data(t, "/hx/sendMessages", json!({"target_type": "chatrooms", "target": [room], "msg": {"type": "txt", "msg": "again"}, "from": "host", "token": token})).await;
    assert_eq!(
        r1.next_message(WAIT).await.unwrap().content_value()["text"],
        "again"
    );
    assert!(r2.next_message(Duration::from_millis(300)).await.is_none());
    // A member who disconnects leaves: back again, they get nothing until
    // they join again.
    r1.close().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r1 = login(t, "r1").await;
    ok_data(t, "/hx/sendMessages", json!({"target_type": "chatrooms", "target": [room], "msg": {"type": "txt", "msg": "while away"}, "from": "host", "token": token})).await;
    assert!(
        r1.next_message(Duration::from_millis(300)).await.is_none(),
        "left on disconnect"
    );
    r1.join_room(&room).await.unwrap();
    ok_data(t, "/hx/sendMessages", json!({"target_type": "chatrooms", "target": [room], "msg": {"type": "txt", "msg": "back"}, "from": "host", "token": token})).await;
    assert_eq!(
        r1.next_message(WAIT).await.unwrap().content_value()["text"],
        "back"
    );
    let data = ok_data(t, "/hx/deleteChatroom", json!({"id": room, "token": token})).await;
    assert_eq!(data["data"], json!({"success": true, "id": room}));
    let reply = hx(t, "/hx/deleteChatroom", json!({"id": room, "token": token})).await;
    assert_eq!(reply["code"], 404);
    drop(host);
}

on_both_backends!(live_and_sync, types_and_refusals, chatrooms);
