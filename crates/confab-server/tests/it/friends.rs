//! /friend/*: requests, friendships, remarks, imports, blacklists.

use crate::harness::*;
use serde_json::json;

async fn request_accept_and_delete(t: &TestServer) {
    let a = t.user("a").await;
    let b = t.user("b").await;
    ok(
        &a,
        "/friend/add_friend",
        json!({"fromUserID": "a", "toUserID": "b", "reqMsg": "hi b", "operationID": op()}),
    )
    .await;
    let received = data(
        &b,
        "/friend/get_friend_apply_list",
        json!({"fromUserID": "b"}),
    )
    .await;
    assert_eq!(received.as_array().unwrap().len(), 1);
    assert_eq!(received[0]["fromUserID"], "a");
    assert_eq!(received[0]["toUserID"], "b");
    assert_eq!(received[0]["reqMsg"], "hi b");
    assert_eq!(received[0]["handleResult"], 0);
    let sent = data(
        &a,
        "/friend/get_self_friend_apply_list",
        json!({"fromUserID": "a"}),
    )
    .await;
    assert_eq!(ids(&sent, "toUserID"), ["b"]);
    let not_yet = data(
        &a,
        "/friend/is_friend",
        json!({"fromUserID": "a", "toUserID": "b"}),
    )
    .await;
    assert_eq!(not_yet, json!({"isFriend": false}));

    // b answers a's request.
    ok(
        &b,
        "/friend/add_friend_response",
        json!({"fromUserID": "b", "toUserID": "a", "handleResult": 1, "handleMsg": "sure"}),
    )
    .await;
    for (client, owner, other) in [(&a, "a", "b"), (&b, "b", "a")] {
        let yes = data(
            client,
            "/friend/is_friend",
            json!({"fromUserID": owner, "toUserID": other}),
        )
        .await;
        assert_eq!(yes, json!({"isFriend": true}));
    }
    let answered = data(
        &b,
        "/friend/get_friend_apply_list",
        json!({"fromUserID": "b"}),
    )
    .await;
    assert_eq!(answered[0]["handleResult"], 1);
    assert_eq!(answered[0]["handleMsg"], "sure");
    let twice = b
        .call(
            "/friend/add_friend_response",
            &json!({"fromUserID": "b", "toUserID": "a", "handleResult": 1}),
        )
        .await
        .unwrap();
    assert_err(&twice, 804, "already answered");
    let again = a
        .call(
            "/friend/add_friend",
            &json!({"fromUserID": "a", "toUserID": "b"}),
        )
        .await
        .unwrap();
    assert_err(&again, 803, "already friends");

    ok(
        &a,
        "/friend/set_friend_remark",
        json!({"fromUserID": "a", "toUserID": "b", "remark": "Bee"}),
    )
    .await;
    let list = data(&a, "/friend/get_friend_list", json!({"fromUserID": "a"})).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["ownerUserID"], "a");
    assert_eq!(list[0]["remark"], "Bee");
    assert_eq!(list[0]["friendUser"]["userID"], "b");
    assert_eq!(list[0]["friendUser"]["nickname"], "nick b");

    ok(
        &a,
        "/friend/delete_friend",
        json!({"fromUserID": "a", "toUserID": "b"}),
    )
    .await;
    for (client, owner, other) in [(&a, "a", "b"), (&b, "b", "a")] {
        let no = data(
            client,
            "/friend/is_friend",
            json!({"fromUserID": owner, "toUserID": other}),
        )
        .await;
        assert_eq!(
            no,
            json!({"isFriend": false}),
            "deleting ends the friendship both ways"
        );
    }
    let gone = a
        .call(
            "/friend/delete_friend",
            &json!({"fromUserID": "a", "toUserID": "b"}),
        )
        .await
        .unwrap();
    assert_err(&gone, 803, "not a friend");
    let remark = a
        .call(
            "/friend/set_friend_remark",
            &json!({"fromUserID": "a", "toUserID": "b", "remark": "x"}),
        )
        .await
        .unwrap();
    assert_err(&remark, 803, "not a friend");
}

async fn refuse_and_authorization(t: &TestServer) {
    let a = t.user("a").await;
    let b = t.user("b").await;
    ok(
        &a,
        "/friend/add_friend",
        json!({"fromUserID": "a", "toUserID": "b"}),
    )
    .await;
    let forged = b
        .call(
            "/friend/add_friend",
            &json!({"fromUserID": "a", "toUserID": "b"}),
        )
        .await
        .unwrap();
    assert_err(&forged, 801, "cannot act for a");
    let wrong_answerer = a
        .call(
            "/friend/add_friend_response",
            &json!({"fromUserID": "b", "toUserID": "a", "handleResult": 1}),
        )
        .await
        .unwrap();
    assert_err(&wrong_answerer, 801, "cannot act for b");
    let bad = b
        .call(
            "/friend/add_friend_response",
            &json!({"fromUserID": "b", "toUserID": "a", "handleResult": 2}),
        )
        .await
        .unwrap();
    assert_err(&bad, 803, "handleResult");
    ok(
        &b,
        "/friend/add_friend_response",
        json!({"fromUserID": "b", "toUserID": "a", "handleResult": -1, "handleMsg": "no"}),
    )
    .await;
    let no = data(
        &a,
        "/friend/is_friend",
        json!({"fromUserID": "a", "toUserID": "b"}),
    )
    .await;
    assert_eq!(no["isFriend"], false);
    let sent = data(
        &a,
        "/friend/get_self_friend_apply_list",
        json!({"fromUserID": "a"}),
    )
    .await;
    assert_eq!(sent[0]["handleResult"], -1);
    let me = a
        .call(
            "/friend/add_friend",
            &json!({"fromUserID": "a", "toUserID": "a"}),
        )
        .await
        .unwrap();
    assert_err(&me, 803, "oneself");
    let ghost = a
        .call(
            "/friend/add_friend",
            &json!({"fromUserID": "a", "toUserID": "ghost"}),
        )
        .await
        .unwrap();
    assert_err(&ghost, 803, "user ghost does not exist");
    let none = a
        .call(
            "/friend/add_friend_response",
            &json!({"fromUserID": "a", "toUserID": "b", "handleResult": 1}),
        )
        .await
        .unwrap();
    assert_err(&none, 803, "no friend request from b to a");
}

async fn import_friends(t: &TestServer) {
    t.user("owner").await;
    t.user("f1").await;
    let f2 = t.user("f2").await;
    ok(
        &f2,
        "/friend/add_black",
        json!({"fromUserID": "f2", "toUserID": "owner"}),
    )
    .await;
    let results = data(
        &t.admin,
        "/friend/import_friend",
        json!({"fromUserID": "owner", "friendUserIDList": ["f1", "ghost", "f2", "f1"], "operationID": op()}),
    )
    .await;
    assert_eq!(
        results,
        json!([
            {"userID": "f1", "result": 0},
            {"userID": "ghost", "result": -1},
            {"userID": "f2", "result": -1}
        ])
    );
    let list = data(
        &t.admin,
        "/friend/get_friend_list",
        json!({"fromUserID": "owner"}),
    )
    .await;
    let friends: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["friendUser"]["userID"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(friends, ["f1"]);
    let back = data(
        &t.admin,
        "/friend/is_friend",
        json!({"fromUserID": "f1", "toUserID": "owner"}),
    )
    .await;
    assert_eq!(back["isFriend"], true, "import makes both edges");
    let denied = f2
        .call(
            "/friend/import_friend",
            &json!({"fromUserID": "f2", "friendUserIDList": ["f1"]}),
        )
        .await
        .unwrap();
    assert_err(&denied, 801, "administrator");
}

async fn blacklist(t: &TestServer) {
    let a = t.user("a").await;
    let b = t.user("b").await;
    t.user("c").await;
    ok(
        &t.admin,
        "/friend/import_friend",
        json!({"fromUserID": "a", "friendUserIDList": ["c"]}),
    )
    .await;
    // v1 route and the spec's `ToUserID` spelling.
    ok(
        &a,
        "/friend/add_blacklist",
        json!({"ToUserID": "b", "operationID": op(), "fromUserID": "a"}),
    )
    .await;
    ok(
        &a,
        "/friend/add_black",
        json!({"toUserID": "c", "fromUserID": "a"}),
    )
    .await;
    ok(
        &a,
        "/friend/add_black",
        json!({"toUserID": "c", "fromUserID": "a"}),
    )
    .await;
    for route in ["/friend/get_blacklist", "/friend/get_black_list"] {
        let list = data(&a, route, json!({"fromUserID": "a"})).await;
        assert_eq!(ids(&list, "userID"), ["b", "c"]);
        assert_eq!(list[0]["nickname"], "nick b");
    }
    // Blocking keeps an existing friendship (documented): delete it explicitly.
    let still = data(
        &a,
        "/friend/is_friend",
        json!({"fromUserID": "a", "toUserID": "c"}),
    )
    .await;
    assert_eq!(still["isFriend"], true);

    let mine = a
        .call(
            "/friend/add_friend",
            &json!({"fromUserID": "a", "toUserID": "b"}),
        )
        .await
        .unwrap();
    assert_err(&mine, 804, "blacklist");
    let theirs = b
        .call(
            "/friend/add_friend",
            &json!({"fromUserID": "b", "toUserID": "a"}),
        )
        .await
        .unwrap();
    assert_err(&theirs, 804, "a has blocked b");

    ok(
        &a,
        "/friend/remove_blacklist",
        json!({"fromUserID": "a", "toUserID": "b"}),
    )
    .await;
    ok(
        &a,
        "/friend/remove_black",
        json!({"fromUserID": "a", "toUserID": "c"}),
    )
    .await;
    let list = data(&a, "/friend/get_black_list", json!({"fromUserID": "a"})).await;
    assert_eq!(list, json!([]));
    let absent = a
        .call(
            "/friend/remove_black",
            &json!({"fromUserID": "a", "toUserID": "b"}),
        )
        .await
        .unwrap();
    assert_err(&absent, 803, "not in the blacklist");
    ok(
        &b,
        "/friend/add_friend",
        json!({"fromUserID": "b", "toUserID": "a"}),
    )
    .await;
    let denied = b
        .call(
            "/friend/add_black",
            &json!({"fromUserID": "a", "toUserID": "b"}),
        )
        .await
        .unwrap();
    assert_err(&denied, 801, "cannot act for a");
}

on_both_backends!(
    request_accept_and_delete,
    refuse_and_authorization,
    import_friends,
    blacklist
);
