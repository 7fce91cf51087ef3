//! /user/* and /manager/* user routes.

use crate::harness::*;
use serde_json::json;

async fn update_with_both_spellings(t: &TestServer) {
    t.user("u1").await;
    // The spec's v1 names...
    ok(&t.admin, "/user/update_user_info", json!({"uid": "u1", "name": "One", "icon": "http://i", "mobile": "138", "operationID": op()})).await;
    // ...and v2's.
    ok(
        &t.admin,
        "/user/update_user_info",
        json!({"userID": "u1", "email": "a@b.c", "birth": 19900101, "gender": 2, "ex": "{}"}),
    )
    .await;
    for route in ["/user/get_user_info", "/user/get_users_info"] {
        let list = data(
            &t.admin,
            route,
            json!({"uidList": ["u1"], "operationID": op()}),
        )
        .await;
        let u = &list[0];
        assert_eq!(
            (u["uid"].as_str(), u["userID"].as_str()),
            (Some("u1"), Some("u1"))
        );
        assert_eq!(
            (u["name"].as_str(), u["nickname"].as_str()),
            (Some("One"), Some("One"))
        );
        assert_eq!(
            (u["icon"].as_str(), u["faceURL"].as_str()),
            (Some("http://i"), Some("http://i"))
        );
        assert_eq!(
            (u["mobile"].as_str(), u["phoneNumber"].as_str()),
            (Some("138"), Some("138"))
        );
        assert_eq!(u["email"], "a@b.c");
        assert_eq!(u["birth"], "19900101");
        assert_eq!(u["gender"], 2);
        assert_eq!(u["ex"], "{}");
    }
    let list = data(
        &t.admin,
        "/user/get_users_info",
        json!({"userIDList": ["ghost", "u1", "u1"]}),
    )
    .await;
    assert_eq!(
        ids(&list, "userID"),
        ["u1"],
        "unknown ids are left out, duplicates once"
    );
}

async fn users_act_for_themselves_only(t: &TestServer) {
    let alice = t.user("alice").await;
    t.user("bob").await;
    ok(
        &alice,
        "/user/update_user_info",
        json!({"userID": "alice", "nickname": "Al"}),
    )
    .await;
    let denied = alice
        .call(
            "/user/update_user_info",
            &json!({"userID": "bob", "nickname": "x"}),
        )
        .await
        .unwrap();
    assert_err(&denied, 801, "cannot act for bob");
    let me = data(&alice, "/user/get_self_user_info", json!({})).await;
    assert_eq!(me["nickname"], "Al");
    assert_eq!(me["appMangerLevel"], 0);
    let other = alice
        .call("/user/get_self_user_info", &json!({"userID": "bob"}))
        .await
        .unwrap();
    assert_err(&other, 801, "cannot act for bob");
    // Profiles of others are readable.
    let list = data(
        &alice,
        "/user/get_users_info",
        json!({"userIDList": ["bob"]}),
    )
    .await;
    assert_eq!(list[0]["nickname"], "nick bob");
    let unknown = t
        .admin
        .call(
            "/user/update_user_info",
            &json!({"userID": "ghost", "nickname": "x"}),
        )
        .await
        .unwrap();
    assert_err(&unknown, 803, "user ghost does not exist");
}

async fn delete_users(t: &TestServer) {
    let gone = t.user("gone").await;
    t.user("stay").await;
    ok(
        &t.admin,
        "/friend/import_friend",
        json!({"fromUserID": "gone", "friendUserIDList": ["stay"]}),
    )
    .await;
    let body = ok(
        &t.admin,
        "/manager/delete_user",
        json!({"operationID": op(), "deleteUidList": ["gone", "nobody"]}),
    )
    .await;
    assert_eq!(body["failedUidList"], json!(["nobody"]));
    assert_eq!(body["data"], json!(["nobody"]));
    let list = data(
        &t.admin,
        "/user/get_users_info",
        json!({"userIDList": ["gone", "stay"]}),
    )
    .await;
    assert_eq!(ids(&list, "userID"), ["stay"]);
    let friends = data(
        &t.admin,
        "/friend/get_friend_list",
        json!({"fromUserID": "stay"}),
    )
    .await;
    assert_eq!(friends, json!([]), "the deleted user's relations are gone");
    let reply = gone
        .call("/user/get_self_user_info", &json!({}))
        .await
        .unwrap();
    assert_err(&reply, 706, "");
    let denied = t
        .user("nobody2")
        .await
        .call(
            "/manager/delete_user",
            &json!({"deleteUserIDList": ["stay"]}),
        )
        .await
        .unwrap();
    assert_err(&denied, 801, "administrator");
}

async fn all_user_ids(t: &TestServer) {
    t.user("b").await;
    let a = t.user("a").await;
    let body = ok(
        &t.admin,
        "/manager/get_all_users_uid",
        json!({"operationID": op()}),
    )
    .await;
    assert_eq!(body["uidList"], json!(["a", "b", "imAdmin", ADMIN]));
    assert_eq!(body["data"], body["uidList"]);
    let v2 = ok(&t.admin, "/user/get_all_users_uid", json!({})).await;
    assert_eq!(v2["uidList"], body["uidList"]);
    let denied = a
        .call("/manager/get_all_users_uid", &json!({}))
        .await
        .unwrap();
    assert_err(&denied, 801, "administrator");
}

async fn account_check(t: &TestServer) {
    t.user("18349115126").await;
    let body = ok(
        &t.admin,
        "/manager/account_check",
        json!({"operationID": "1111", "userIDList": ["18349115126", "111"]}),
    )
    .await;
    assert_eq!(
        body["result"],
        json!([
            {"userID": "18349115126", "accountStatus": "registered"},
            {"userID": "111", "accountStatus": "unregistered"}
        ])
    );
    assert_eq!(body["data"], body["result"]);
    let v2 = ok(
        &t.admin,
        "/user/account_check",
        json!({"checkUserIDList": ["111"]}),
    )
    .await;
    assert_eq!(v2["data"][0]["accountStatus"], "unregistered");
    let too_many: Vec<String> = (0..101).map(|i| format!("u{i}")).collect();
    let reply = t
        .admin
        .call("/manager/account_check", &json!({"userIDList": too_many}))
        .await
        .unwrap();
    assert_err(&reply, 803, "at most 100 items per request, got 101");
    let empty = t
        .admin
        .call("/manager/account_check", &json!({"userIDList": []}))
        .await
        .unwrap();
    assert_err(&empty, 803, "checkUserIDList: must not be empty");
}

async fn online_status(t: &TestServer) {
    t.user("18349115126").await;
    for route in [
        "/manager/get_users_online_status",
        "/user/get_users_online_status",
    ] {
        let body = ok(
            &t.admin,
            route,
            json!({"operationID": "545454", "userIDList": ["18349115126", "sadsdf"]}),
        )
        .await;
        assert_eq!(
            body["successResult"],
            json!([{"userID": "18349115126", "status": "offline"}, {"userID": "sadsdf", "status": "offline"}])
        );
        assert_eq!(body["data"], body["successResult"]);
    }
    // Until the user connects; the shape of an online user (the ping's
    // answer shows the session is registered):
    let android = t.connect("18349115126", 2).await;
    android.ping().await.unwrap();
    let body = ok(
        &t.admin,
        "/manager/get_users_online_status",
        json!({"userIDList": ["18349115126"]}),
    )
    .await;
    assert_eq!(
        body["successResult"],
        json!([{"userID": "18349115126", "status": "online", "detailPlatformStatus": [{"platform": "Android", "status": "online"}]}])
    );
    let too_many: Vec<String> = (0..201).map(|i| format!("u{i}")).collect();
    let reply = t
        .admin
        .call(
            "/manager/get_users_online_status",
            &json!({"userIDList": too_many}),
        )
        .await
        .unwrap();
    assert_err(&reply, 803, "at most 200 items per request, got 201");
}

on_both_backends!(
    update_with_both_spellings,
    users_act_for_themselves_only,
    delete_users,
    all_user_ids,
    account_check
);
mod single {
    use super::*;
    on_sqlite!(online_status);
}
