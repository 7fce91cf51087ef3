//! /group/*: creation, info, requests, members, roles, mutes, dismissal.

use crate::harness::*;
use confab_client::OpenImClient;
use serde_json::{json, Value};

async fn new_group(t: &TestServer, owner: &str, members: &[&str]) -> String {
    let list: Vec<Value> = members
        .iter()
        .map(|m| json!({"userID": m, "roleLevel": 1}))
        .collect();
    let info = data(
        &t.admin,
        "/group/create_group",
        json!({"ownerUserID": owner, "groupName": "team", "memberList": list, "operationID": op()}),
    )
    .await;
    info["groupID"].as_str().unwrap().to_owned()
}

async fn info_of(client: &OpenImClient, group: &str) -> Value {
    data(
        client,
        "/group/get_groups_info",
        json!({"groupIDList": [group]}),
    )
    .await[0]
        .clone()
}

/// Member ids, sorted (members who joined together are listed by id).
async fn member_ids(t: &TestServer, group: &str) -> Vec<String> {
    let mut list = ids(
        &data(
            &t.admin,
            "/group/get_group_all_member_list",
            json!({"groupID": group}),
        )
        .await,
        "userID",
    );
    list.sort();
    list
}

async fn create_and_info(t: &TestServer) {
    let owner = t.user("own").await;
    t.user("m1").await;
    t.user("m2").await;
    let created = data(
        &owner,
        "/group/create_group",
        json!({
            "ownerUserID": "own", "groupType": 0, "groupName": "test group name",
            "notification": "n", "introduction": "i", "faceURL": "http://g", "ex": "x",
            "memberList": [{"userID": "m1", "roleLevel": 1}, {"userID": "m2", "roleLevel": 3}, {"userID": "m1"}],
            "operationID": op()
        }),
    )
    .await;
    let group = created["groupID"].as_str().unwrap();
    assert_eq!(group.len(), 32, "generated ids look like OpenIM's");
    assert_eq!(created["memberCount"], 3);
    assert_eq!(created["ownerUserID"], "own");
    assert_eq!(created["creatorUserID"], "own");
    assert_eq!(created["groupName"], "test group name");
    let info = info_of(&owner, group).await;
    assert_eq!(info["notification"], "n");
    assert_eq!(info["introduction"], "i");
    assert_eq!(info["faceURL"], "http://g");
    assert_eq!(info["status"], 0);
    assert_eq!(info["memberCount"], 3);
    let roles = data(
        &owner,
        "/group/get_group_members_info",
        json!({"groupID": group, "memberList": ["own", "m2", "ghost"]}),
    )
    .await;
    assert_eq!(ids(&roles, "userID"), ["own", "m2"]);
    assert_eq!(
        (
            roles[0]["roleLevel"].as_i64(),
            roles[1]["roleLevel"].as_i64()
        ),
        (Some(2), Some(3))
    );

    let chosen = data(
        &t.admin,
        "/group/create_group",
        json!({"groupID": "g-mine", "ownerUserID": "m1", "memberList": []}),
    )
    .await;
    assert_eq!(chosen["groupID"], "g-mine");
    let dup = t
        .admin
        .call(
            "/group/create_group",
            &json!({"groupID": "g-mine", "ownerUserID": "m1", "memberList": []}),
        )
        .await
        .unwrap();
    assert_err(&dup, 803, "group g-mine already exists");
    let forged = owner
        .call(
            "/group/create_group",
            &json!({"ownerUserID": "m1", "memberList": []}),
        )
        .await
        .unwrap();
    assert_err(&forged, 801, "cannot act for m1");
    let unknown = t
        .admin
        .call(
            "/group/create_group",
            &json!({"ownerUserID": "own", "memberList": [{"userID": "ghost"}]}),
        )
        .await
        .unwrap();
    assert_err(&unknown, 803, "user ghost does not exist");
    let owner_role = t
        .admin
        .call(
            "/group/create_group",
            &json!({"ownerUserID": "own", "memberList": [{"userID": "m1", "roleLevel": 2}]}),
        )
        .await
        .unwrap();
    assert_err(&owner_role, 803, "roleLevel 2");
}

async fn set_info_by_managers_only(t: &TestServer) {
    let owner = t.user("own").await;
    let member = t.user("m1").await;
    let group = new_group(t, "own", &["m1"]).await;
    ok(
        &owner,
        "/group/set_group_info",
        json!({"groupID": group, "groupName": "renamed", "notification": "hello all"}),
    )
    .await;
    let info = info_of(&member, &group).await;
    assert_eq!(
        (info["groupName"].as_str(), info["notification"].as_str()),
        (Some("renamed"), Some("hello all"))
    );
    assert_eq!(info["introduction"], "", "fields not given are kept");
    let denied = member
        .call(
            "/group/set_group_info",
            &json!({"groupID": group, "groupName": "mine"}),
        )
        .await
        .unwrap();
    assert_err(&denied, 801, "owner or an admin");
    let empty = owner
        .call("/group/set_group_info", &json!({"groupID": group}))
        .await
        .unwrap();
    assert_err(&empty, 803, "no field to update");
    let ghost = owner
        .call(
            "/group/set_group_info",
            &json!({"groupID": "nope", "groupName": "x"}),
        )
        .await
        .unwrap();
    assert_err(&ghost, 803, "group nope does not exist");
}

async fn join_requests(t: &TestServer) {
    let owner = t.user("own").await;
    let joiner = t.user("joiner").await;
    let other = t.user("other").await;
    let group = new_group(t, "own", &[]).await;
    ok(
        &joiner,
        "/group/join_group",
        json!({"groupID": group, "reqMessage": "let me in", "operationID": op()}),
    )
    .await;
    ok(
        &other,
        "/group/join_group",
        json!({"groupID": group, "reqMessage": "me too"}),
    )
    .await;
    let recv = data(
        &owner,
        "/group/get_recv_group_applicationList",
        json!({"fromUserID": "own"}),
    )
    .await;
    let mut applicants = ids(&recv, "userID");
    applicants.sort();
    assert_eq!(applicants, ["joiner", "other"]);
    assert!(recv
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["groupID"] == group.as_str() && r["handleResult"] == 0));
    let mine = data(
        &joiner,
        "/group/get_user_req_group_applicationList",
        json!({"userID": "joiner"}),
    )
    .await;
    assert_eq!(mine[0]["reqMsg"], "let me in");
    assert_eq!(
        data(&joiner, "/group/get_recv_group_applicationList", json!({})).await,
        json!([])
    );

    let denied = other
        .call(
            "/group/group_application_response",
            &json!({"groupID": group, "fromUserID": "joiner", "handleResult": 1}),
        )
        .await
        .unwrap();
    assert_err(&denied, 801, "owner or an admin");
    ok(&owner, "/group/group_application_response", json!({"groupID": group, "fromUserID": "joiner", "handledMsg": "welcome", "handleResult": 1})).await;
    ok(
        &owner,
        "/group/group_application_response",
        json!({"groupID": group, "fromUserID": "other", "handleResult": -1}),
    )
    .await;
    assert_eq!(member_ids(t, &group).await, ["joiner", "own"]);
    let mine = data(
        &joiner,
        "/group/get_user_req_group_applicationList",
        json!({}),
    )
    .await;
    assert_eq!(
        (
            mine[0]["handleResult"].as_i64(),
            mine[0]["handledMsg"].as_str()
        ),
        (Some(1), Some("welcome"))
    );
    let twice = joiner
        .call("/group/join_group", &json!({"groupID": group}))
        .await
        .unwrap();
    assert_err(&twice, 803, "already a member");
    let joined = data(
        &joiner,
        "/group/get_joined_group_list",
        json!({"fromUserID": "joiner"}),
    )
    .await;
    assert_eq!(ids(&joined, "groupID"), vec![group.clone()]);
    assert_eq!(joined[0]["memberCount"], 2);
}

async fn quit_and_transfer(t: &TestServer) {
    let owner = t.user("own").await;
    let member = t.user("m1").await;
    t.user("m2").await;
    let group = new_group(t, "own", &["m1", "m2"]).await;
    let refused = owner
        .call("/group/quit_group", &json!({"groupID": group}))
        .await
        .unwrap();
    assert_err(&refused, 804, "transfer ownership");
    let denied = member
        .call(
            "/group/transfer_group",
            &json!({"groupID": group, "oldOwnerUserID": "own", "newOwnerUserID": "m1"}),
        )
        .await
        .unwrap();
    assert_err(&denied, 801, "only the owner");
    let outsider = owner
        .call(
            "/group/transfer_group",
            &json!({"groupID": group, "newOwnerUserID": "ghost"}),
        )
        .await
        .unwrap();
    assert_err(&outsider, 803, "not a member");
    ok(&owner, "/group/transfer_group", json!({"groupID": group, "oldOwnerUserID": "own", "newOwnerUserID": "m1", "operationID": op()})).await;
    assert_eq!(info_of(&owner, &group).await["ownerUserID"], "m1");
    let roles = data(
        &owner,
        "/group/get_group_members_info",
        json!({"groupID": group, "memberList": ["own", "m1"]}),
    )
    .await;
    assert_eq!(
        (
            roles[0]["roleLevel"].as_i64(),
            roles[1]["roleLevel"].as_i64()
        ),
        (Some(1), Some(2))
    );
    ok(&owner, "/group/quit_group", json!({"groupID": group})).await;
    assert_eq!(member_ids(t, &group).await, ["m1", "m2"]);
    let again = owner
        .call("/group/quit_group", &json!({"groupID": group}))
        .await
        .unwrap();
    assert_err(&again, 803, "not a member");
    assert_eq!(
        data(&owner, "/group/get_joined_group_list", json!({})).await,
        json!([])
    );
}

async fn kick_and_invite(t: &TestServer) {
    let owner = t.user("own").await;
    let admin_member = t.user("adm").await;
    let member = t.user("m1").await;
    t.user("m2").await;
    t.user("new").await;
    let group = new_group(t, "own", &["adm", "m1", "m2"]).await;
    ok(
        &owner,
        "/group/set_group_member_info",
        json!({"groupID": group, "userID": "adm", "roleLevel": 3}),
    )
    .await;

    let denied = member
        .call(
            "/group/kick_group",
            &json!({"groupID": group, "kickedUserIDList": ["m2"]}),
        )
        .await
        .unwrap();
    assert_err(&denied, 801, "owner or an admin");
    let results = data(
        &admin_member,
        "/group/kick_group",
        json!({"groupID": group, "kickedUserIDList": ["m2", "own", "ghost"], "reason": "bye"}),
    )
    .await;
    assert_eq!(
        results,
        json!([{"userID": "m2", "result": 0}, {"userID": "own", "result": -1}, {"userID": "ghost", "result": -1}])
    );
    assert_eq!(member_ids(t, &group).await, ["adm", "m1", "own"]);
    let m2 = t.anon.user_token(SECRET, "m2", 1).await.unwrap();
    let joined = data(
        &t.anon.with_token(&m2),
        "/group/get_joined_group_list",
        json!({}),
    )
    .await;
    assert_eq!(joined, json!([]), "a kicked member is no longer a member");

    let results = data(
        &member,
        "/group/invite_user_to_group",
        json!({"groupID": group, "invitedUserIDList": ["new", "m1", "ghost"], "reason": "hello"}),
    )
    .await;
    assert_eq!(
        results,
        json!([{"userID": "new", "result": 0}, {"userID": "m1", "result": -1}, {"userID": "ghost", "result": -1}])
    );
    let invited = data(
        &owner,
        "/group/get_group_members_info",
        json!({"groupID": group, "memberList": ["new"]}),
    )
    .await;
    assert_eq!(
        (
            invited[0]["joinSource"].as_i64(),
            invited[0]["inviterUserID"].as_str()
        ),
        (Some(2), Some("m1"))
    );
    let outsider = t.user("outsider").await;
    let denied = outsider
        .call(
            "/group/invite_user_to_group",
            &json!({"groupID": group, "invitedUserIDList": ["outsider"]}),
        )
        .await
        .unwrap();
    assert_err(&denied, 801, "only members");
}

async fn member_lists(t: &TestServer) {
    t.user("own").await;
    let names: Vec<String> = (0..105).map(|i| format!("m{i:03}")).collect();
    for n in &names {
        t.user(n).await;
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let group = new_group(t, "own", &refs).await;
    let first = ok(
        &t.admin,
        "/group/get_group_member_list",
        json!({"groupID": group, "filter": 0, "nextSeq": 0}),
    )
    .await;
    assert_eq!(first["data"].as_array().unwrap().len(), 100);
    assert_eq!(first["nextSeq"], 100);
    let rest = ok(
        &t.admin,
        "/group/get_group_member_list",
        json!({"groupID": group, "filter": 0, "nextSeq": 100}),
    )
    .await;
    assert_eq!(rest["data"].as_array().unwrap().len(), 6);
    assert_eq!(rest["nextSeq"], 0, "0 marks the last page");
    let owners = data(
        &t.admin,
        "/group/get_group_member_list",
        json!({"groupID": group, "filter": 1}),
    )
    .await;
    assert_eq!(ids(&owners, "userID"), ["own"]);
    let all = member_ids(t, &group).await;
    assert_eq!(all.len(), 106);
    let bad = t
        .admin
        .call(
            "/group/get_group_member_list",
            &json!({"groupID": group, "filter": 9}),
        )
        .await
        .unwrap();
    assert_err(&bad, 803, "filter");
}

async fn mutes_and_member_info(t: &TestServer) {
    let owner = t.user("own").await;
    let adm = t.user("adm").await;
    let member = t.user("m1").await;
    let group = new_group(t, "own", &["adm", "m1"]).await;
    let denied = adm
        .call(
            "/group/set_group_member_info",
            &json!({"groupID": group, "userID": "m1", "roleLevel": 3}),
        )
        .await
        .unwrap();
    assert_err(&denied, 801, "");
    ok(
        &owner,
        "/group/set_group_member_info",
        json!({"groupID": group, "userID": "adm", "roleLevel": 3, "ex": "e"}),
    )
    .await;

    ok(
        &adm,
        "/group/mute_group_member",
        json!({"groupID": group, "userID": "m1", "mutedSeconds": 3600}),
    )
    .await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let info = data(
        &owner,
        "/group/get_group_members_info",
        json!({"groupID": group, "memberList": ["m1"]}),
    )
    .await;
    let until = info[0]["muteEndTime"].as_i64().unwrap();
    assert!(
        (now + 3590..=now + 3610).contains(&until),
        "muteEndTime {until}, now {now}"
    );
    let up = adm
        .call(
            "/group/mute_group_member",
            &json!({"groupID": group, "userID": "own", "mutedSeconds": 60}),
        )
        .await
        .unwrap();
    assert_err(&up, 801, "cannot be muted");
    let by_member = member
        .call(
            "/group/mute_group_member",
            &json!({"groupID": group, "userID": "adm", "mutedSeconds": 60}),
        )
        .await
        .unwrap();
    assert_err(&by_member, 801, "");
    ok(
        &adm,
        "/group/cancel_mute_group_member",
        json!({"groupID": group, "userID": "m1"}),
    )
    .await;
    let info = data(
        &owner,
        "/group/get_group_members_info",
        json!({"groupID": group, "memberList": ["m1"]}),
    )
    .await;
    assert_eq!(info[0]["muteEndTime"], 0);

    ok(&adm, "/group/mute_group", json!({"groupID": group})).await;
    assert_eq!(info_of(&owner, &group).await["status"], 3);
    ok(
        &owner,
        "/group/cancel_mute_group",
        json!({"groupID": group}),
    )
    .await;
    assert_eq!(info_of(&owner, &group).await["status"], 0);
    let denied = member
        .call("/group/mute_group", &json!({"groupID": group}))
        .await
        .unwrap();
    assert_err(&denied, 801, "");

    ok(
        &member,
        "/group/set_group_member_nickname",
        json!({"groupID": group, "userID": "m1", "nickname": "Em"}),
    )
    .await;
    let not_yours = member
        .call(
            "/group/set_group_member_nickname",
            &json!({"groupID": group, "userID": "adm", "nickname": "x"}),
        )
        .await
        .unwrap();
    assert_err(&not_yours, 801, "");
    ok(
        &owner,
        "/group/set_group_member_info",
        json!({"groupID": group, "userID": "m1", "faceURL": "http://m"}),
    )
    .await;
    let info = data(
        &owner,
        "/group/get_group_members_info",
        json!({"groupID": group, "memberList": ["adm", "m1"]}),
    )
    .await;
    assert_eq!(
        (info[0]["roleLevel"].as_i64(), info[0]["ex"].as_str()),
        (Some(3), Some("e"))
    );
    assert_eq!(
        (info[1]["nickname"].as_str(), info[1]["faceURL"].as_str()),
        (Some("Em"), Some("http://m"))
    );
}

async fn dismiss(t: &TestServer) {
    let owner = t.user("own").await;
    let member = t.user("m1").await;
    let group = new_group(t, "own", &["m1"]).await;
    let denied = member
        .call("/group/dismiss_group", &json!({"groupID": group}))
        .await
        .unwrap();
    assert_err(&denied, 801, "only the owner");
    ok(
        &owner,
        "/group/dismiss_group",
        json!({"groupID": group, "operationID": op()}),
    )
    .await;
    assert_eq!(info_of(&owner, &group).await["status"], 2);
    for client in [&owner, &member] {
        assert_eq!(
            data(client, "/group/get_joined_group_list", json!({})).await,
            json!([])
        );
    }
    let closed = owner
        .call(
            "/group/set_group_info",
            &json!({"groupID": group, "groupName": "back"}),
        )
        .await
        .unwrap();
    assert_err(&closed, 804, "dismissed");
    let join = t
        .user("late")
        .await
        .call("/group/join_group", &json!({"groupID": group}))
        .await
        .unwrap();
    assert_err(&join, 804, "dismissed");
}

async fn deleting_an_owner_hands_the_group_over(t: &TestServer) {
    t.user("own").await;
    t.user("m1").await;
    t.user("m2").await;
    let group = new_group(t, "own", &["m1", "m2"]).await;
    ok(
        &t.admin,
        "/group/set_group_member_info",
        json!({"groupID": group, "userID": "m2", "roleLevel": 3}),
    )
    .await;
    let solo = new_group(t, "own", &[]).await;
    ok(
        &t.admin,
        "/manager/delete_user",
        json!({"deleteUserIDList": ["own"]}),
    )
    .await;
    let info = info_of(&t.admin, &group).await;
    assert_eq!(
        info["ownerUserID"], "m2",
        "the longest-serving admin takes over"
    );
    assert_eq!(info["memberCount"], 2);
    assert_eq!(
        info_of(&t.admin, &solo).await["status"],
        2,
        "an empty group is dismissed"
    );
}

on_both_backends!(
    create_and_info,
    set_info_by_managers_only,
    join_requests,
    quit_and_transfer,
    kick_and_invite,
    mutes_and_member_info,
    dismiss,
    deleting_an_owner_hands_the_group_over,
);
mod single {
    use super::*;
    on_sqlite!(member_lists);
}
