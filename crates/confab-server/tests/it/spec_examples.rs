//! The request examples of spec/openim-v2-admin-api.md, sent as written.
//! They succeed where the ids they name exist, and fail with the documented
//! shape or code where they do not.

use crate::harness::*;
use serde_json::{json, Value};

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

async fn examples_as_written(t: &TestServer) {
    // 换取管理员Token
    let token = ok(
        &t.anon,
        "/auth/user_token",
        parse(
            r#"{
        "secret": "tuoyun", "platform": 1, "userID": "openIM123456", "operationID": "asdfasdfsadf"
    }"#,
        ),
    )
    .await;
    assert_eq!(token["data"]["userID"], "openIM123456");
    assert!(token["data"]["token"].as_str().unwrap().len() > 20);
    assert!(token["data"]["expiredTime"].as_i64().unwrap() > 0);
    let admin = t.anon.with_token(token["data"]["token"].as_str().unwrap());

    // 创建群组: the owner and member do not exist yet...
    let create = r#"{
        "ownerUserID": "19828950910", "groupType": 0, "groupName": "test group name",
        "notification": "", "introduction": "", "faceURL": "", "ex": "",
        "operationID": "sdadfsdfssdfasdafvcdxsdafdsfsdfaa",
        "memberList": [{"userID": "18666662412", "roleLevel": 1}]
    }"#;
    let reply = admin
        .call("/group/create_group", &parse(create))
        .await
        .unwrap();
    assert_err(&reply, 803, "does not exist");
    // ...and once they do, the example succeeds.
    for id in [
        "19828950910",
        "18666662412",
        "18349115126",
        "21979710c3fe454d",
        "3434344",
        "f732156059eeb5d0",
    ] {
        t.user(id).await;
    }
    let group = data(&admin, "/group/create_group", parse(create)).await;
    assert_eq!(group["groupName"], "test group name");
    assert_eq!(group["ownerUserID"], "19828950910");
    assert_eq!(group["memberCount"], 2);
    let group_id = group["groupID"].as_str().unwrap();

    // 邀请进群 and 把用户踢出群, with the example's group id replaced by a real one.
    let invite = data(&admin, "/group/invite_user_to_group", json!({
        "groupID": group_id, "operationID": "341323253454352", "invitedUserIDList": ["18349115126"], "reason": "hello"
    })).await;
    assert_eq!(invite, json!([{"userID": "18349115126", "result": 0}]));
    let kick = data(&admin, "/group/kick_group", json!({
        "groupID": group_id, "operationID": "dasdavdsadsfasdf", "reason": "kkk", "kickedUserIDList": ["18666662412"]
    })).await;
    assert_eq!(kick, json!([{"userID": "18666662412", "result": 0}]));
    // As written, naming a group that does not exist:
    let reply = admin.call("/group/kick_group", &parse(r#"{
        "groupID": "f69e9aae6edb2c86b3380b7b0125e579", "operationID": "dasdavdsadsfasdf", "reason":"kkk",
        "kickedUserIDList": ["18666662412"]
    }"#)).await.unwrap();
    assert_err(
        &reply,
        803,
        "group f69e9aae6edb2c86b3380b7b0125e579 does not exist",
    );

    // 导入好友
    let import = data(&admin, "/friend/import_friend", parse(r#"{
        "friendUserIDList": ["21979710c3fe454d", "3434344"], "operationID": "1111111222", "fromUserID": "f732156059eeb5d0"
    }"#)).await;
    assert_eq!(
        import,
        json!([{"userID": "21979710c3fe454d", "result": 0}, {"userID": "3434344", "result": 0}])
    );

    // 加入黑名单
    let black = ok(&admin, "/friend/add_blacklist", parse(r#"{
        "ToUserID": "21979710c3fe454d", "operationID": "1111111222", "fromUserID": "f732156059eeb5d0"
    }"#)).await;
    assert_eq!(
        (black["errCode"].as_i64(), black["errMsg"].as_str()),
        (Some(0), Some(""))
    );

    // 更新用户信息
    ok(
        &admin,
        "/user/update_user_info",
        parse(
            r#"{
        "uid": "21979710c3fe454d", "operationID": "1111111222", "name": "sssssssssskkkkk"
    }"#,
        ),
    )
    .await;

    // 获取用户详细信息
    let info = data(
        &admin,
        "/user/get_user_info",
        parse(
            r#"{
        "operationID": "1111111222", "uidList": ["123", "21979710c3fe454d"]
    }"#,
        ),
    )
    .await;
    assert_eq!(info[0]["uid"], "21979710c3fe454d");
    assert_eq!(info[0]["name"], "sssssssssskkkkk");

    // 获取用户在线状态
    let status = ok(
        &admin,
        "/manager/get_users_online_status",
        parse(
            r#"{
        "operationID": "545454", "userIDList": ["18349115126","45","17396220460","sadsdf"]
    }"#,
        ),
    )
    .await;
    assert_eq!(status["successResult"].as_array().unwrap().len(), 4);
    assert_eq!(
        status["successResult"][1],
        json!({"userID": "45", "status": "offline"})
    );

    // 获取IM注册的所有用户(Uid)
    let all = ok(
        &admin,
        "/manager/get_all_users_uid",
        parse(r#"{"operationID": "1111111222"}"#),
    )
    .await;
    assert!(all["uidList"]
        .as_array()
        .unwrap()
        .contains(&json!("3434344")));

    // 查询用户是否在IM中已经注册
    let check = ok(
        &admin,
        "/manager/account_check",
        parse(
            r#"{
        "operationID":"1111", "userIDList":["18349115126","111","222","17396220460"]
    }"#,
        ),
    )
    .await;
    let statuses: Vec<&str> = check["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["accountStatus"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["registered", "unregistered", "unregistered", "unregistered"]
    );

    // 删除用户
    let delete = ok(
        &admin,
        "/manager/delete_user",
        parse(
            r#"{
        "operationID": "1111111222", "deleteUidList": ["123", "343", "456", "3434344"]
    }"#,
        ),
    )
    .await;
    assert_eq!(delete["failedUidList"], json!(["123", "343", "456"]));
}

on_both_backends!(examples_as_written);
