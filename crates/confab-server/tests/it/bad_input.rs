//! Bad input: each gets errCode 803 (or the precise code) naming the field;
//! never a panic, never a 500, nothing half-written.

use crate::harness::*;
use serde_json::json;

async fn malformed_bodies(t: &TestServer) {
    let reply = t
        .admin
        .call_raw("/group/create_group", "{not json".into())
        .await
        .unwrap();
    assert_err(&reply, 803, "request body");
    let reply = t
        .admin
        .call_raw("/group/create_group", "[1, 2]".into())
        .await
        .unwrap();
    assert_err(&reply, 803, "request body: must be a JSON object");
    let reply = t
        .admin
        .call(
            "/group/create_group",
            &json!({"ownerUserID": "x", "groupName": 5, "memberList": []}),
        )
        .await
        .unwrap();
    assert_err(
        &reply,
        803,
        "groupName: invalid type: integer `5`, expected a string",
    );
    let reply = t
        .admin
        .call(
            "/group/create_group",
            &json!({"ownerUserID": "x", "memberList": [{"userID": "a", "roleLevel": "x"}]}),
        )
        .await
        .unwrap();
    assert_err(&reply, 803, "memberList[0].roleLevel: invalid type: string");
    let reply = t
        .admin
        .call("/group/create_group", &json!({"ownerUserID": "x"}))
        .await
        .unwrap();
    assert_err(&reply, 803, "memberList: missing");
    let reply = t
        .admin
        .call("/group/kick_group", &json!({"groupID": "g"}))
        .await
        .unwrap();
    assert_err(&reply, 803, "missing field `kickedUserIDList`");
    let reply = t
        .admin
        .call(
            "/user/update_user_info",
            &json!({"userID": "x", "gender": "male"}),
        )
        .await
        .unwrap();
    assert_err(&reply, 803, "gender: invalid type");
    let reply = t
        .admin
        .call(
            "/user/update_user_info",
            &json!({"userID": ADMIN, "gender": 7}),
        )
        .await
        .unwrap();
    assert_err(&reply, 803, "gender: must be 0");
    let reply = t
        .admin
        .call("/friend/is_friend", &json!({"fromUserID": "a"}))
        .await
        .unwrap();
    assert_err(&reply, 803, "toUserID");
    let reply = t
        .admin
        .call_raw("/manager/get_all_users_uid", String::new())
        .await
        .unwrap();
    assert_eq!(
        reply.err_code(),
        0,
        "an empty body is an empty object: {}",
        reply.body
    );
}

async fn bounds(t: &TestServer) {
    let long_id = "u".repeat(65);
    let reply = t
        .anon
        .call(
            "/auth/user_register",
            &json!({"secret": SECRET, "platform": 1, "userID": long_id}),
        )
        .await
        .unwrap();
    assert_err(&reply, 803, "userID: must be at most 64 characters");
    let reply = t
        .anon
        .call(
            "/auth/user_register",
            &json!({"secret": SECRET, "platform": 1, "userID": ""}),
        )
        .await
        .unwrap();
    assert_err(&reply, 803, "userID: must not be empty");
    let reply = t
        .anon
        .call(
            "/auth/user_register",
            &json!({"secret": SECRET, "platform": 1, "userID": "ok", "nickname": "n".repeat(256)}),
        )
        .await
        .unwrap();
    assert_err(&reply, 803, "nickname: must be at most 255 characters");
    let reply = t
        .admin
        .call(
            "/group/create_group",
            &json!({"ownerUserID": ADMIN, "groupName": "g".repeat(256), "memberList": []}),
        )
        .await
        .unwrap();
    assert_err(&reply, 803, "groupName: must be at most 255 characters");
    let reply = t
        .admin
        .call(
            "/group/invite_user_to_group",
            &json!({"groupID": "g", "invitedUserIDList": []}),
        )
        .await
        .unwrap();
    assert_err(&reply, 803, "invitedUserIDList: must not be empty");
    let reply = t
        .admin
        .call(
            "/user/get_users_info",
            &json!({"userIDList": ["ok", "a b"]}),
        )
        .await
        .unwrap();
    assert_err(&reply, 803, "userIDList[1]: must not contain whitespace");
    let huge = format!("{{\"userIDList\": [\"{}\"]}}", "x".repeat(2 * 1024 * 1024));
    let reply = t
        .admin
        .call_raw("/user/get_users_info", huge)
        .await
        .unwrap();
    assert_err(&reply, 803, "request body");
    let reply = t
        .admin
        .call("/group/get_groups_info", &json!({"groupIDList": ["nope"]}))
        .await
        .unwrap();
    assert_eq!(
        reply.body["data"],
        json!([]),
        "unknown groups are left out: {}",
        reply.body
    );
    let reply = t
        .admin
        .call(
            "/group/get_group_all_member_list",
            &json!({"groupID": "nope"}),
        )
        .await
        .unwrap();
    assert_err(&reply, 803, "group nope does not exist");
}

async fn nothing_half_written(t: &TestServer) {
    t.user("real").await;
    let reply = t
        .admin
        .call(
            "/group/create_group",
            &json!({"groupID": "half", "ownerUserID": "real", "memberList": [{"userID": "real2"}]}),
        )
        .await
        .unwrap();
    assert_err(&reply, 803, "user real2 does not exist");
    let groups = data(
        &t.admin,
        "/group/get_groups_info",
        json!({"groupIDList": ["half"]}),
    )
    .await;
    assert_eq!(groups, json!([]), "the refused group was not created");
    let joined = data(
        &t.admin,
        "/group/get_joined_group_list",
        json!({"fromUserID": "real"}),
    )
    .await;
    assert_eq!(joined, json!([]));
}

async fn unknown_route(t: &TestServer) {
    let reply = t.admin.call("/nothing/here", &json!({})).await.unwrap();
    assert_eq!(reply.status, 404);
    assert_eq!(reply.body["errMsg"], "no such route: /nothing/here");
}

/// Ids that look alike are one id or refused: `é` composed and decomposed
/// name one user (NFC), and invisible characters are refused, on every
/// route that takes an id.
async fn look_alike_ids(t: &TestServer) {
    t.anon.register(SECRET, "ren\u{e9}", "René").await.unwrap();
    let found = t
        .admin
        .ok(
            "/user/get_users_info",
            &json!({"userIDList": ["rene\u{301}"], "operationID": "1"}),
        )
        .await
        .unwrap();
    assert_eq!(found["data"][0]["userID"], "ren\u{e9}", "{found}");
    let twice = t
        .anon
        .register(SECRET, "rene\u{301}", "René")
        .await
        .unwrap_err();
    assert!(twice.to_string().contains("already"), "{twice}");
    for id in [
        "ali\u{200b}ce",
        "ali\u{200d}ce",
        "\u{feff}alice",
        "alice\u{202e}",
        "al\u{7}ice",
    ] {
        let refused = t.anon.register(SECRET, id, "x").await.unwrap_err();
        let text = refused.to_string();
        assert!(
            text.contains("803")
                && text.contains("must not contain whitespace, control or invisible characters"),
            "{id:?}: {text}"
        );
    }
    let all = t
        .admin
        .ok("/user/get_all_users_uid", &json!({"operationID": "1"}))
        .await
        .unwrap();
    assert!(!all.to_string().contains("ali"), "{all}");
}

on_both_backends!(nothing_half_written, look_alike_ids);
mod single {
    use super::*;
    on_sqlite!(malformed_bodies, bounds, unknown_route);
}
