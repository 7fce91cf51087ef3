//! More routes OpenIM's v3 client SDK calls over HTTP (`/tmp/research/sdk.md`
//! §5.2, "Friends" and "Groups"), with the bodies it sends and the answers
//! it reads; each v2 spelling keeps its v2 answer.

use super::openim_v3::{group_v3, ms};
use crate::harness::*;
use confab_client::OpenImClient;
use serde_json::{json, Value};

fn page() -> Value {
    json!({"pageNumber": 1, "showNumber": 20})
}

fn black_v3(owner: &str, blocked: &str, ex: &str) -> Value {
    json!({"ownerUserID": owner, "createTime": "<ms>",
           "blackUserInfo": {"userID": blocked, "nickname": format!("nick {blocked}"),
                             "faceURL": "", "ex": ""},
           "addSource": 0, "operatorUserID": "", "ex": ex})
}

async fn remark_of(owner: &OpenImClient, owner_id: &str, friend: &str) -> Value {
    let found = data(
        owner,
        "/friend/get_designated_friends",
        json!({"ownerUserID": owner_id, "friendUserIDs": [friend]}),
    )
    .await;
    found["friendsInfo"][0]["remark"].clone()
}

async fn friends_and_blacks(t: &TestServer) {
    let alice = t.user("alice").await;
    t.user("bob").await;
    let carol = t.user("carol").await;
    ok(
        &t.admin,
        "/friend/import_friend",
        json!({"fromUserID": "alice", "friendUserIDList": ["bob"]}),
    )
    .await;
    // checkFriend: one call per id, `inUser1Friends` read.
    let both = data(
        &alice,
        "/friend/is_friend",
        json!({"userID1": "alice", "userID2": "bob"}),
    )
    .await;
    assert_eq!(
        both,
        json!({"inUser1Friends": true, "inUser2Friends": true})
    );
    let none = data(
        &carol,
        "/friend/is_friend",
        json!({"userID1": "carol", "userID2": "alice"}),
    )
    .await;
    assert_eq!(
        none,
        json!({"inUser1Friends": false, "inUser2Friends": false})
    );
    let nosy = carol
        .call(
            "/friend/is_friend",
            &json!({"userID1": "alice", "userID2": "bob"}),
        )
        .await
        .unwrap();
    assert_err(&nosy, 801, "only its own friendships");
    // updateFriends: the remark is kept; pins and ex only as Confab has them.
    let body = ok(
        &alice,
        "/friend/update_friends",
        json!({"ownerUserID": "alice", "friendUserIDs": ["bob"], "remark": "Bobby"}),
    )
    .await;
    assert_eq!(body["data"], json!({}));
    assert_eq!(remark_of(&alice, "alice", "bob").await, "Bobby");
    ok(
        &alice,
        "/friend/update_friends",
        json!({"ownerUserID": "alice", "friendUserIDs": ["bob"],
               "remark": {"value": "B2"}, "isPinned": {"value": false}, "ex": ""}),
    )
    .await;
    assert_eq!(remark_of(&alice, "alice", "bob").await, "B2");
    for (body, msg) in [
        (
            json!({"ownerUserID": "alice", "friendUserIDs": ["bob"], "isPinned": true}),
            "isPinned: Confab supports only false (friends are not pinned), got true",
        ),
        (
            json!({"ownerUserID": "alice", "friendUserIDs": ["bob"], "ex": {"value": "x"}}),
            r#"ex: Confab supports only "" (friendships keep no ex), got "x""#,
        ),
        (
            json!({"ownerUserID": "alice", "friendUserIDs": ["bob", "carol"], "remark": "no"}),
            "friendUserIDs: carol is not a friend of alice",
        ),
        (
            json!({"ownerUserID": "alice", "friendUserIDs": ["bob"]}),
            "no field to update",
        ),
        (
            json!({"ownerUserID": "alice", "friendUserIDs": [], "remark": "x"}),
            "friendUserIDs: must not be empty",
        ),
    ] {
        let reply = alice.call("/friend/update_friends", &body).await.unwrap();
        assert_err(&reply, 803, msg);
    }
    assert_eq!(
        remark_of(&alice, "alice", "bob").await,
        "B2",
        "a refused update changes no one"
    );
    let forged = carol
        .call(
            "/friend/update_friends",
            &json!({"ownerUserID": "alice", "friendUserIDs": ["bob"], "remark": "x"}),
        )
        .await
        .unwrap();
    assert_err(&forged, 801, "cannot act for alice");
    // deleteFriend.
    let body = ok(
        &alice,
        "/friend/delete_friend",
        json!({"ownerUserID": "alice", "friendUserID": "bob"}),
    )
    .await;
    assert_eq!(body["data"], json!({}));
    let gone = data(
        &alice,
        "/friend/is_friend",
        json!({"userID1": "alice", "userID2": "bob"}),
    )
    .await;
    assert_eq!(
        gone,
        json!({"inUser1Friends": false, "inUser2Friends": false})
    );
    let again = alice
        .call(
            "/friend/delete_friend",
            &json!({"ownerUserID": "alice", "friendUserID": "bob"}),
        )
        .await
        .unwrap();
    assert_err(&again, 803, "bob is not a friend of alice");
    // addBlack, then the lookup the SDK makes, and the paged list.
    let body = ok(
        &alice,
        "/friend/add_black",
        json!({"ownerUserID": "alice", "blackUserID": "carol", "ex": "bx"}),
    )
    .await;
    assert_eq!(body["data"], json!({}));
    let chosen = data(
        &alice,
        "/friend/get_specified_blacks",
        json!({"ownerUserID": "alice", "userIDList": ["bob", "carol"]}),
    )
    .await;
    assert_eq!(
        ms(chosen),
        json!({"blacks": [black_v3("alice", "carol", "bx")], "total": 1}),
        "users not blocked are left out"
    );
    let list = data(
        &alice,
        "/friend/get_black_list",
        json!({"userID": "alice", "pagination": page()}),
    )
    .await;
    assert_eq!(
        ms(list),
        json!({"blacks": [black_v3("alice", "carol", "bx")], "total": 1})
    );
    let myself = alice
        .call(
            "/friend/add_black",
            &json!({"ownerUserID": "alice", "blackUserID": "alice"}),
        )
        .await
        .unwrap();
    assert_err(&myself, 803, "blackUserID: cannot block oneself");
    let others = carol
        .call(
            "/friend/get_specified_blacks",
            &json!({"ownerUserID": "alice", "userIDList": ["carol"]}),
        )
        .await
        .unwrap();
    assert_err(&others, 801, "cannot act for alice");
    let body = ok(
        &alice,
        "/friend/remove_black",
        json!({"ownerUserID": "alice", "blackUserID": "carol"}),
    )
    .await;
    assert_eq!(body["data"], json!({}));
    let empty = data(
        &alice,
        "/friend/get_specified_blacks",
        json!({"ownerUserID": "alice", "userIDList": ["carol"]}),
    )
    .await;
    assert_eq!(empty, json!({"blacks": [], "total": 0}));
    let twice = alice
        .call(
            "/friend/remove_black",
            &json!({"ownerUserID": "alice", "blackUserID": "carol"}),
        )
        .await
        .unwrap();
    assert_err(&twice, 803, "carol is not in the blacklist of alice");
    // v2 spellings keep their v2 answers.
    ok(
        &alice,
        "/friend/add_black",
        json!({"fromUserID": "alice", "toUserID": "bob"}),
    )
    .await;
    let v2 = ok(
        &alice,
        "/friend/get_black_list",
        json!({"fromUserID": "alice"}),
    )
    .await;
    assert_eq!(ids(&v2["data"], "userID"), ["bob"]);
    assert!(v2["data"][0]["createTime"].as_i64().unwrap() < 10_000_000_000);
    let v2 = ok(
        &alice,
        "/friend/is_friend",
        json!({"fromUserID": "alice", "toUserID": "bob"}),
    )
    .await;
    assert_eq!(v2["data"], json!({"isFriend": false}));
    let v2 = ok(
        &alice,
        "/friend/remove_black",
        json!({"fromUserID": "alice", "toUserID": "bob"}),
    )
    .await;
    assert!(v2.get("data").is_none(), "v2 answers no data: {v2}");
}

/// A group as `group_v3` shows it, owned by alice, with `members`.
async fn sdk_group(alice: &OpenImClient, members: &[&str], admins: &[&str]) -> String {
    let created = data(
        alice,
        "/group/create_group",
        json!({"ownerUserID": "alice", "memberUserIDs": members, "adminUserIDs": admins,
               "groupInfo": {"groupName": "G1", "notification": "n1", "introduction": "intro",
                             "faceURL": "http://f/g.png", "ex": "gx", "groupType": 2,
                             "creatorUserID": "alice"}}),
    )
    .await;
    created["groupInfo"]["groupID"].as_str().unwrap().to_owned()
}

async fn members_of(client: &OpenImClient, gid: &str, who: &[&str]) -> Vec<String> {
    let found = data(
        client,
        "/group/get_group_members_info",
        json!({"groupID": gid, "userIDs": who}),
    )
    .await;
    ids(&found["members"], "userID")
}

async fn group_membership(t: &TestServer) {
    let alice = t.user("alice").await;
    let bob = t.user("bob").await;
    for id in ["carol", "dave"] {
        t.user(id).await;
    }
    let erin = t.user("erin").await;
    let gid = sdk_group(&alice, &["bob"], &[]).await;
    // inviteUserToGroup: any member invites, every one named joins.
    let body = ok(
        &bob,
        "/group/invite_user_to_group",
        json!({"groupID": gid, "reason": "", "invitedUserIDs": ["carol", "dave"]}),
    )
    .await;
    assert_eq!(body["data"], json!({}));
    assert_eq!(
        members_of(&alice, &gid, &["carol", "dave"]).await,
        ["carol", "dave"]
    );
    for (ids, msg) in [
        (
            json!(["erin", "ghost"]),
            "invitedUserIDs: user ghost does not exist",
        ),
        (
            json!(["erin", "carol"]),
            "invitedUserIDs: carol is already a member of group",
        ),
        (json!([]), "invitedUserIDs: must not be empty"),
    ] {
        let reply = bob
            .call(
                "/group/invite_user_to_group",
                &json!({"groupID": gid, "reason": "", "invitedUserIDs": ids}),
            )
            .await
            .unwrap();
        assert_err(&reply, 803, msg);
    }
    assert!(
        members_of(&alice, &gid, &["erin"]).await.is_empty(),
        "a refused invitation adds no one"
    );
    let outsider = erin
        .call(
            "/group/invite_user_to_group",
            &json!({"groupID": gid, "reason": "", "invitedUserIDs": ["erin"]}),
        )
        .await
        .unwrap();
    assert_err(&outsider, 801, "only members");
    // kickGroupMember: managers only, every one named or none.
    let member = bob
        .call(
            "/group/kick_group",
            &json!({"groupID": gid, "reason": "", "kickedUserIDs": ["carol"]}),
        )
        .await
        .unwrap();
    assert_err(&member, 801, "only the owner or an admin");
    for (ids, msg) in [
        (
            json!(["carol", "ghost"]),
            "kickedUserIDs: ghost is not a member of group",
        ),
        (
            json!(["carol", "alice"]),
            "kickedUserIDs: cannot remove oneself",
        ),
    ] {
        let reply = alice
            .call(
                "/group/kick_group",
                &json!({"groupID": gid, "reason": "", "kickedUserIDs": ids}),
            )
            .await
            .unwrap();
        assert_err(&reply, 803, msg);
    }
    assert_eq!(members_of(&alice, &gid, &["carol"]).await, ["carol"]);
    let body = ok(
        &alice,
        "/group/kick_group",
        json!({"reason": "bye", "groupID": gid, "kickedUserIDs": ["carol", "dave"]}),
    )
    .await;
    assert_eq!(body["data"], json!({}));
    assert!(members_of(&alice, &gid, &["carol", "dave"])
        .await
        .is_empty());
    // quitGroup and transferGroupOwner already read as v2 bodies.
    ok(
        &bob,
        "/group/quit_group",
        json!({"groupID": gid, "userID": "bob"}),
    )
    .await;
    ok(
        &alice,
        "/group/invite_user_to_group",
        json!({"groupID": gid, "reason": "", "invitedUserIDs": ["erin"]}),
    )
    .await;
    ok(
        &alice,
        "/group/transfer_group",
        json!({"groupID": gid, "oldOwnerUserID": "alice", "newOwnerUserID": "erin"}),
    )
    .await;
    let info = data(&erin, "/group/get_groups_info", json!({"groupIDs": [gid]})).await;
    assert_eq!(info["groupInfos"][0]["ownerUserID"], "erin");
    assert_eq!(info["groupInfos"][0]["memberCount"], 2);
    // dismissGroup sends deleteMember: false; Confab never erases a group.
    let erase = erin
        .call(
            "/group/dismiss_group",
            &json!({"groupID": gid, "deleteMember": true}),
        )
        .await
        .unwrap();
    assert_err(
        &erase,
        803,
        "deleteMember: Confab supports only false (a dismissed group and its members stay on record), got true",
    );
    let former = alice
        .call(
            "/group/dismiss_group",
            &json!({"groupID": gid, "deleteMember": false}),
        )
        .await
        .unwrap();
    assert_err(&former, 801, "only the owner");
    let body = ok(
        &erin,
        "/group/dismiss_group",
        json!({"groupID": gid, "deleteMember": false}),
    )
    .await;
    assert_eq!(body["data"], json!({}));
    let info = data(&erin, "/group/get_groups_info", json!({"groupIDs": [gid]})).await;
    assert_eq!(info["groupInfos"][0]["status"], 2, "dismissed");
    // v2 spellings keep their v2 answers: a result per user.
    let g2 = sdk_group(&alice, &[], &[]).await;
    let v2 = data(
        &alice,
        "/group/invite_user_to_group",
        json!({"groupID": g2, "invitedUserIDList": ["bob", "ghost"]}),
    )
    .await;
    assert_eq!(
        v2,
        json!([{"userID": "bob", "result": 0}, {"userID": "ghost", "result": -1}])
    );
    let v2 = data(
        &alice,
        "/group/kick_group",
        json!({"groupID": g2, "kickedUserIDList": ["bob", "ghost"]}),
    )
    .await;
    assert_eq!(
        v2,
        json!([{"userID": "bob", "result": 0}, {"userID": "ghost", "result": -1}])
    );
    let v2 = ok(&alice, "/group/dismiss_group", json!({"groupID": g2})).await;
    assert!(v2.get("data").is_none(), "v2 answers no data: {v2}");
}

fn request_v3(gid: &str, count: i64, result: i64, handle: (&str, &str)) -> Value {
    let (handler, handle_msg) = handle;
    json!({"userInfo": {"userID": "dave", "nickname": "nick dave", "faceURL": "", "ex": ""},
           "groupInfo": group_v3(gid, "G1", "n1", count), "handleResult": result,
           "reqMsg": "let me in", "handleMsg": handle_msg, "reqTime": "<ms>",
           "handleUserID": handler,
           "handleTime": if result == 0 { json!(0) } else { json!("<ms>") },
           "ex": "", "joinSource": 3, "inviterUserID": ""})
}

async fn group_requests(t: &TestServer) {
    let alice = t.user("alice").await;
    let bob = t.user("bob").await;
    let carol = t.user("carol").await;
    let dave = t.user("dave").await;
    let gid = sdk_group(&alice, &["bob"], &["carol"]).await;
    // joinGroup, then the lookup the SDK makes.
    ok(
        &dave,
        "/group/join_group",
        json!({"groupID": gid, "reqMessage": "let me in", "joinSource": 3,
               "inviterUserID": "dave", "ex": ""}),
    )
    .await;
    let lookup = json!({"groupID": gid, "userID": "dave"});
    let pending = json!({"groupRequests": [request_v3(&gid, 3, 0, ("", ""))], "total": 1});
    for client in [&dave, &alice, &carol] {
        let mine = data(
            client,
            "/group/get_specified_user_group_request_info",
            lookup.clone(),
        )
        .await;
        assert_eq!(ms(mine), pending, "the user and the managers");
    }
    let member = bob
        .call("/group/get_specified_user_group_request_info", &lookup)
        .await
        .unwrap();
    assert_err(&member, 801, "only the owner or an admin");
    let none = data(
        &bob,
        "/group/get_specified_user_group_request_info",
        json!({"groupID": gid, "userID": "bob"}),
    )
    .await;
    assert_eq!(none, json!({"groupRequests": [], "total": 0}));
    let unknown = dave
        .call(
            "/group/get_specified_user_group_request_info",
            &json!({"groupID": "nope", "userID": "dave"}),
        )
        .await
        .unwrap();
    assert_err(&unknown, 803, "group nope does not exist");
    // The paged lists, as recipient and as applicant.
    let received = data(
        &carol,
        "/group/get_recv_group_applicationList",
        json!({"fromUserID": "carol", "pagination": page()}),
    )
    .await;
    assert_eq!(
        ms(received),
        json!({"total": 1, "groupRequests": [request_v3(&gid, 3, 0, ("", ""))]})
    );
    let ordinary = data(
        &bob,
        "/group/get_recv_group_applicationList",
        json!({"fromUserID": "bob", "pagination": page()}),
    )
    .await;
    assert_eq!(ordinary, json!({"total": 0, "groupRequests": []}));
    let sent = data(
        &dave,
        "/group/get_user_req_group_applicationList",
        json!({"userID": "dave", "pagination": page()}),
    )
    .await;
    assert_eq!(
        ms(sent),
        json!({"total": 1, "groupRequests": [request_v3(&gid, 3, 0, ("", ""))]})
    );
    let forged = bob
        .call(
            "/group/get_user_req_group_applicationList",
            &json!({"userID": "dave", "pagination": page()}),
        )
        .await
        .unwrap();
    assert_err(&forged, 801, "cannot act for dave");
    // acceptGroupApplication already reads as a v2 body.
    ok(
        &alice,
        "/group/group_application_response",
        json!({"groupID": gid, "fromUserID": "dave", "handledMsg": "welcome",
               "handleResult": 1}),
    )
    .await;
    let answered = data(
        &dave,
        "/group/get_specified_user_group_request_info",
        lookup.clone(),
    )
    .await;
    assert_eq!(
        ms(answered),
        json!({"groupRequests": [request_v3(&gid, 4, 1, ("alice", "welcome"))], "total": 1})
    );
    // v2 spellings keep their v2 answers.
    let v2 = data(
        &alice,
        "/group/get_recv_group_applicationList",
        json!({"fromUserID": "alice"}),
    )
    .await;
    assert_eq!(ids(&v2, "userID"), ["dave"]);
    assert!(v2[0]["reqTime"].as_i64().unwrap() < 10_000_000_000);
    let v2 = data(
        &dave,
        "/group/get_user_req_group_applicationList",
        json!({"userID": "dave"}),
    )
    .await;
    assert_eq!(v2[0]["handledMsg"], "welcome");
}

on_both_backends!(friends_and_blacks, group_membership, group_requests);
