//! The routes OpenIM's v3 client SDK calls over HTTP, with the bodies it
//! sends (`/tmp/research/sdk.md` §5) and the answers it reads. Times are
//! milliseconds: `ms` turns each recent one into `"<ms>"`, so a time in
//! seconds (or a missing one) fails the comparison.

use crate::harness::*;
use serde_json::{json, Value};
use std::time::Duration;

const TIME_KEYS: &[&str] = &["createTime", "joinTime", "handleTime", "reqTime"];

/// `value` with every millisecond time of the last hour as `"<ms>"`.
pub(super) fn ms(mut value: Value) -> Value {
    fn walk(v: &mut Value, now: i64) {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    let recent = x
                        .as_i64()
                        .is_some_and(|t| t > now - 3_600_000 && t <= now + 60_000);
                    if TIME_KEYS.contains(&k.as_str()) && recent {
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

fn user_v3(id: &str, nickname: &str, face: &str, ex: &str, level: i64) -> Value {
    json!({"userID": id, "nickname": nickname, "faceURL": face, "ex": ex,
           "createTime": "<ms>", "appMangerLevel": level, "globalRecvMsgOpt": 0})
}

async fn users_info_and_self_update(t: &TestServer) {
    let alice = t.user("alice").await;
    t.user("bob").await;
    // The SDK looks the peer up before the first message.
    let found = data(
        &alice,
        "/user/get_users_info",
        json!({"userIDs": ["bob", "ghost", ADMIN]}),
    )
    .await;
    assert_eq!(
        ms(found),
        json!({"usersInfo": [
            user_v3("bob", "nick bob", "", "", 0),
            user_v3(ADMIN, ADMIN, "", "", 2),
        ]}),
        "unknown ids are left out; app admins show OpenIM's level 2"
    );
    // setSelfInfo sends plain values; the typings' `{value}` works too.
    let body = ok(
        &alice,
        "/user/update_user_info_ex",
        json!({"userInfo": {"userID": "alice", "nickname": "Alice",
                            "faceURL": {"value": "http://f/a.png"}, "ex": "e1",
                            "globalRecvMsgOpt": 0}}),
    )
    .await;
    assert_eq!(body["data"], json!({}));
    let me = data(
        &alice,
        "/user/get_users_info",
        json!({"userIDs": ["alice"]}),
    )
    .await;
    assert_eq!(
        ms(me),
        json!({"usersInfo": [user_v3("alice", "Alice", "http://f/a.png", "e1", 0)]})
    );
    let other = alice
        .call(
            "/user/update_user_info_ex",
            &json!({"userInfo": {"userID": "bob", "nickname": "x"}}),
        )
        .await
        .unwrap();
    assert_err(&other, 801, "cannot act for bob");
    let opt = alice
        .call(
            "/user/update_user_info_ex",
            &json!({"userInfo": {"userID": "alice", "globalRecvMsgOpt": 2}}),
        )
        .await
        .unwrap();
    assert_err(
        &opt,
        803,
        "userInfo.globalRecvMsgOpt: Confab supports only 0 (receive every message), got 2",
    );
    let bad = alice
        .call(
            "/user/update_user_info_ex",
            &json!({"userInfo": {"userID": "alice", "nickname": {"value": 5}}}),
        )
        .await
        .unwrap();
    assert_err(&bad, 803, "userInfo.nickname: invalid type: integer `5`");
    let long = alice
        .call(
            "/user/update_user_info_ex",
            &json!({"userInfo": {"userID": "alice", "nickname": "n".repeat(256)}}),
        )
        .await
        .unwrap();
    assert_err(
        &long,
        803,
        "userInfo.nickname: must be at most 255 characters",
    );
    let empty = alice
        .call("/user/get_users_info", &json!({"userIDs": []}))
        .await
        .unwrap();
    assert_err(&empty, 803, "userIDs: must not be empty");
    // The v2 spelling keeps its v2 answer: a list, times in seconds.
    let v2 = data(
        &alice,
        "/user/get_users_info",
        json!({"userIDList": ["bob"]}),
    )
    .await;
    assert_eq!(v2[0]["uid"], "bob");
    assert!(v2[0]["createTime"].as_i64().unwrap() < 10_000_000_000);
}

pub(super) fn group_v3(gid: &str, name: &str, notification: &str, count: i64) -> Value {
    json!({"groupID": gid, "groupName": name, "notification": notification,
           "introduction": "intro", "faceURL": "http://f/g.png", "ownerUserID": "alice",
           "createTime": "<ms>", "memberCount": count, "ex": "gx", "status": 0,
           "creatorUserID": "alice", "groupType": 2, "needVerification": 0,
           "lookMemberInfo": 0, "applyMemberFriend": 0, "notificationUpdateTime": 0,
           "notificationUserID": ""})
}

fn member_v3(gid: &str, user: &str, role: i64, source: i64, inviter: &str) -> Value {
    json!({"groupID": gid, "userID": user, "roleLevel": role, "joinTime": "<ms>",
           "nickname": format!("nick {user}"), "faceURL": "", "appMangerLevel": 0,
           "joinSource": source, "operatorUserID": "alice", "ex": "", "muteEndTime": 0,
           "inviterUserID": inviter})
}

async fn groups_as_the_sdk_calls_them(t: &TestServer) {
    let alice = t.user("alice").await;
    let bob = t.user("bob").await;
    t.user("carol").await;
    // createGroup({memberUserIDs, groupInfo, adminUserIDs}) as the SDK sends it.
    let created = data(
        &alice,
        "/group/create_group",
        json!({"ownerUserID": "alice", "memberUserIDs": ["bob"], "adminUserIDs": ["carol"],
               "groupInfo": {"groupName": "G1", "notification": "n1", "introduction": "intro",
                             "faceURL": "http://f/g.png", "ex": "gx", "needVerification": 0,
                             "groupType": 2, "creatorUserID": "alice"}}),
    )
    .await;
    let gid = created["groupInfo"]["groupID"].as_str().unwrap().to_owned();
    assert!(
        gid.len() == 32 && gid.chars().all(|c| c.is_ascii_hexdigit()),
        "a generated id: {gid}"
    );
    assert_eq!(
        ms(created),
        json!({"groupInfo": group_v3(&gid, "G1", "n1", 3)})
    );
    let infos = data(
        &bob,
        "/group/get_groups_info",
        json!({"groupIDs": [gid, "nope"]}),
    )
    .await;
    assert_eq!(
        ms(infos),
        json!({"groupInfos": [group_v3(&gid, "G1", "n1", 3)]})
    );
    // sendMessage to a group asks for the sender first.
    let me = data(
        &bob,
        "/group/get_group_members_info",
        json!({"groupID": gid, "userIDs": ["bob"]}),
    )
    .await;
    assert_eq!(
        ms(me),
        json!({"members": [member_v3(&gid, "bob", 20, 2, "alice")]})
    );
    let roles = data(
        &bob,
        "/group/get_group_members_info",
        json!({"groupID": gid, "userIDs": ["carol", "alice", "ghost"]}),
    )
    .await;
    assert_eq!(
        ms(roles),
        json!({"members": [member_v3(&gid, "carol", 60, 2, "alice"),
                           member_v3(&gid, "alice", 100, 4, "")]}),
        "listed admins are admins (60), the owner is 100; non-members are left out"
    );
    let page = data(
        &bob,
        "/group/get_group_member_list",
        json!({"filter": 0, "keyword": "", "groupID": gid,
               "pagination": {"pageNumber": 2, "showNumber": 2}}),
    )
    .await;
    assert_eq!(
        ms(page),
        json!({"total": 3, "members": [member_v3(&gid, "carol", 60, 2, "alice")]})
    );
    let found = data(
        &bob,
        "/group/get_group_member_list",
        json!({"filter": 0, "keyword": "nick b", "groupID": gid,
               "pagination": {"pageNumber": 1, "showNumber": 10}}),
    )
    .await;
    assert_eq!(
        ms(found),
        json!({"total": 1, "members": [member_v3(&gid, "bob", 20, 2, "alice")]})
    );
    let joined = data(
        &bob,
        "/group/get_joined_group_list",
        json!({"fromUserID": "bob", "pagination": {"pageNumber": 1, "showNumber": 20}}),
    )
    .await;
    assert_eq!(
        ms(joined),
        json!({"total": 1, "groups": [group_v3(&gid, "G1", "n1", 3)]})
    );
    // setGroupInfo(p) sends p verbatim: plain values, or `{value}` wrappers.
    let body = ok(
        &alice,
        "/group/set_group_info_ex",
        json!({"groupID": gid, "groupName": {"value": "G2"}, "notification": "n2",
               "needVerification": 0}),
    )
    .await;
    assert_eq!(body["data"], json!({}));
    let infos = data(&bob, "/group/get_groups_info", json!({"groupIDs": [gid]})).await;
    assert_eq!(
        ms(infos),
        json!({"groupInfos": [group_v3(&gid, "G2", "n2", 3)]})
    );
    let member = bob
        .call(
            "/group/set_group_info_ex",
            &json!({"groupID": gid, "groupName": "mine"}),
        )
        .await
        .unwrap();
    assert_err(&member, 801, "only the owner or an admin");
    let setting = alice
        .call(
            "/group/set_group_info_ex",
            &json!({"groupID": gid, "needVerification": {"value": 2}}),
        )
        .await
        .unwrap();
    assert_err(
        &setting,
        803,
        "needVerification: Confab supports only 0 (join requests need approval, invitations join directly), got 2",
    );
    let nothing = alice
        .call("/group/set_group_info_ex", &json!({"groupID": gid}))
        .await
        .unwrap();
    assert_err(&nothing, 803, "no field to update");
    let chosen = data(
        &alice,
        "/group/create_group",
        json!({"ownerUserID": "alice", "memberUserIDs": [], "adminUserIDs": [],
               "groupInfo": {"groupID": "g-v3", "groupName": "mine", "groupType": 2}}),
    )
    .await;
    assert_eq!(chosen["groupInfo"]["groupID"], "g-v3");
    assert_eq!(chosen["groupInfo"]["memberCount"], 1);
    let forged = bob
        .call(
            "/group/create_group",
            &json!({"ownerUserID": "alice", "memberUserIDs": [], "groupInfo": {"groupType": 2}}),
        )
        .await
        .unwrap();
    assert_err(&forged, 801, "cannot act for alice");
    let ghost = alice
        .call(
            "/group/create_group",
            &json!({"ownerUserID": "alice", "memberUserIDs": ["ghost"], "groupInfo": {}}),
        )
        .await
        .unwrap();
    assert_err(&ghost, 803, "user ghost does not exist");
    let no_info = alice
        .call(
            "/group/create_group",
            &json!({"ownerUserID": "alice", "memberUserIDs": ["bob"]}),
        )
        .await
        .unwrap();
    assert_err(&no_info, 803, "missing field `groupInfo`");
    let long = alice
        .call(
            "/group/create_group",
            &json!({"memberUserIDs": [], "groupInfo": {"groupName": "g".repeat(256)}}),
        )
        .await
        .unwrap();
    assert_err(
        &long,
        803,
        "groupInfo.groupName: must be at most 255 characters",
    );
    let page_size = bob
        .call(
            "/group/get_group_member_list",
            &json!({"groupID": gid, "pagination": {"pageNumber": 1, "showNumber": 0}}),
        )
        .await
        .unwrap();
    assert_err(
        &page_size,
        803,
        "pagination.showNumber: must be between 1 and",
    );
    // v2 spellings keep their v2 answers.
    let v2 = data(
        &bob,
        "/group/get_groups_info",
        json!({"groupIDList": [gid]}),
    )
    .await;
    assert_eq!(v2[0]["groupName"], "G2");
    assert!(v2[0]["createTime"].as_i64().unwrap() < 10_000_000_000);
    let v2 = data(
        &bob,
        "/group/get_group_members_info",
        json!({"groupID": gid, "memberList": ["alice"]}),
    )
    .await;
    assert_eq!(v2[0]["roleLevel"], 2, "v2's owner role");
}

fn request_v3(from: &str, to: &str, result: i64, msg: &str, handle_msg: &str) -> Value {
    let answered = result != 0;
    json!({"fromUserID": from, "fromNickname": format!("nick {from}"), "fromFaceURL": "",
           "toUserID": to, "toNickname": format!("nick {to}"), "toFaceURL": "",
           "handleResult": result, "reqMsg": msg, "createTime": "<ms>",
           "handlerUserID": if answered { to } else { "" }, "handleMsg": handle_msg,
           "handleTime": if answered { json!("<ms>") } else { json!(0) }, "ex": ""})
}

async fn friends_as_the_sdk_calls_them(t: &TestServer) {
    let alice = t.user("alice").await;
    let bob = t.user("bob").await;
    let carol = t.user("carol").await;
    // addFriend({toUserID, reqMsg}), then the lookup the SDK makes.
    let body = ok(
        &alice,
        "/friend/add_friend",
        json!({"fromUserID": "alice", "toUserID": "bob", "reqMsg": "hi bob", "ex": ""}),
    )
    .await;
    assert_eq!(body["data"], json!({}));
    let asked = data(
        &alice,
        "/friend/get_designated_friend_apply",
        json!({"fromUserID": "alice", "toUserID": "bob"}),
    )
    .await;
    assert_eq!(
        ms(asked),
        json!({"friendRequests": [request_v3("alice", "bob", 0, "hi bob", "")]})
    );
    let pagination = json!({"pageNumber": 1, "showNumber": 20});
    let received = data(
        &bob,
        "/friend/get_friend_apply_list",
        json!({"userID": "bob", "pagination": pagination}),
    )
    .await;
    assert_eq!(
        ms(received),
        json!({"FriendRequests": [request_v3("alice", "bob", 0, "hi bob", "")], "total": 1}),
        "capital F, as OpenIM's protocol spells it and the SDK reads it"
    );
    let sent = data(
        &alice,
        "/friend/get_self_friend_apply_list",
        json!({"userID": "alice", "pagination": pagination}),
    )
    .await;
    assert_eq!(
        ms(sent),
        json!({"friendRequests": [request_v3("alice", "bob", 0, "hi bob", "")], "total": 1})
    );
    let nosy = carol
        .call(
            "/friend/get_designated_friend_apply",
            &json!({"fromUserID": "alice", "toUserID": "bob"}),
        )
        .await
        .unwrap();
    assert_err(&nosy, 801, "only its own friend requests");
    // acceptFriendApplication({toUserID: applicant}): the applicant is
    // fromUserID, the one answering toUserID (OpenIM v3's RespondFriendApply).
    let body = ok(
        &bob,
        "/friend/add_friend_response",
        json!({"fromUserID": "alice", "toUserID": "bob", "handleResult": 1, "handleMsg": "sure"}),
    )
    .await;
    assert_eq!(body["data"], json!({}));
    // ...then the SDK looks it up with the pair reversed.
    let answered = data(
        &bob,
        "/friend/get_designated_friend_apply",
        json!({"fromUserID": "bob", "toUserID": "alice"}),
    )
    .await;
    assert_eq!(
        ms(answered),
        json!({"friendRequests": [request_v3("alice", "bob", 1, "hi bob", "sure")]})
    );
    let friends = data(
        &alice,
        "/friend/get_friend_list",
        json!({"userID": "alice", "pagination": pagination}),
    )
    .await;
    let bob_as_friend = json!({"ownerUserID": "alice", "remark": "", "createTime": "<ms>",
        "addSource": 0, "operatorUserID": "", "ex": "", "isPinned": false,
        "friendUser": user_v3("bob", "nick bob", "", "", 0)});
    assert_eq!(
        ms(friends),
        json!({"friendsInfo": [bob_as_friend], "total": 1})
    );
    let chosen = data(
        &alice,
        "/friend/get_designated_friends",
        json!({"ownerUserID": "alice", "friendUserIDs": ["carol", "bob", "ghost"]}),
    )
    .await;
    assert_eq!(
        ms(chosen),
        json!({"friendsInfo": [bob_as_friend]}),
        "non-friends are left out"
    );
    let others = carol
        .call(
            "/friend/get_designated_friends",
            &json!({"ownerUserID": "alice", "friendUserIDs": ["bob"]}),
        )
        .await
        .unwrap();
    assert_err(&others, 801, "cannot act for alice");
    // refuseFriendApplication: the same body with handleResult -1.
    ok(
        &carol,
        "/friend/add_friend",
        json!({"fromUserID": "carol", "toUserID": "bob", "reqMsg": "me too", "ex": ""}),
    )
    .await;
    ok(
        &bob,
        "/friend/add_friend_response",
        json!({"fromUserID": "carol", "toUserID": "bob", "handleResult": -1, "handleMsg": "no"}),
    )
    .await;
    let refused = data(
        &carol,
        "/friend/get_designated_friend_apply",
        json!({"fromUserID": "carol", "toUserID": "bob"}),
    )
    .await;
    assert_eq!(
        ms(refused),
        json!({"friendRequests": [request_v3("carol", "bob", -1, "me too", "no")]})
    );
    // The applicant cannot answer its own request.
    ok(
        &carol,
        "/friend/add_friend",
        json!({"fromUserID": "carol", "toUserID": "alice", "reqMsg": "", "ex": ""}),
    )
    .await;
    let own = carol
        .call(
            "/friend/add_friend_response",
            &json!({"fromUserID": "carol", "toUserID": "alice", "handleResult": 1}),
        )
        .await
        .unwrap();
    assert_err(&own, 801, "cannot act for alice");
    // Requests both ways: the one sent to the caller is answered.
    let dave = t.user("dave").await;
    let erin = t.user("erin").await;
    for (client, from, to) in [(&dave, "dave", "erin"), (&erin, "erin", "dave")] {
        ok(
            client,
            "/friend/add_friend",
            json!({"fromUserID": from, "toUserID": to, "reqMsg": "", "ex": ""}),
        )
        .await;
    }
    ok(
        &erin,
        "/friend/add_friend_response",
        json!({"fromUserID": "dave", "toUserID": "erin", "handleResult": -1, "handleMsg": ""}),
    )
    .await;
    let both = data(
        &erin,
        "/friend/get_designated_friend_apply",
        json!({"fromUserID": "dave", "toUserID": "erin"}),
    )
    .await;
    assert_eq!(
        ms(both),
        json!({"friendRequests": [request_v3("dave", "erin", -1, "", ""),
                                  request_v3("erin", "dave", 0, "", "")]}),
        "both directions, the latest changed first"
    );
    // v2 spellings keep their v2 answers.
    let v2 = data(
        &alice,
        "/friend/get_friend_list",
        json!({"fromUserID": "alice"}),
    )
    .await;
    assert_eq!(ids(&v2, "ownerUserID"), ["alice"]);
}

async fn presence_for_users(t: &TestServer) {
    let alice = t.user("alice").await;
    t.user("carol").await;
    let _bob = t.connect("bob", 5).await;
    let body = json!({"userID": "alice", "userIDs": ["bob", "carol"], "genre": 1});
    // The session registers as the connection settles.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let status = loop {
        let status = data(&alice, "/user/subscribe_users_status", body.clone()).await;
        if status["statusList"][0]["status"] == 1 {
            break status;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "bob never online: {status}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        status,
        json!({"statusList": [
            {"userID": "bob", "status": 1, "platformIDs": [5]},
            {"userID": "carol", "status": 0, "platformIDs": []},
        ]})
    );
    let cancel = data(
        &alice,
        "/user/subscribe_users_status",
        json!({"userID": "alice", "userIDs": ["bob"], "genre": 2}),
    )
    .await;
    assert_eq!(cancel, json!({"statusList": []}));
    let genre = alice
        .call(
            "/user/subscribe_users_status",
            &json!({"userID": "alice", "userIDs": ["bob"], "genre": 3}),
        )
        .await
        .unwrap();
    assert_err(
        &genre,
        803,
        "genre: must be 1 (subscribe) or 2 (unsubscribe), got 3",
    );
    let forged = alice
        .call(
            "/user/subscribe_users_status",
            &json!({"userID": "carol", "userIDs": ["bob"], "genre": 1}),
        )
        .await
        .unwrap();
    assert_err(&forged, 801, "cannot act for carol");
    // The admin route stays admin-only.
    let admin_only = alice
        .call(
            "/user/get_users_online_status",
            &json!({"userIDList": ["bob"]}),
        )
        .await
        .unwrap();
    assert_err(&admin_only, 801, "only an app administrator");
}

on_both_backends!(
    users_info_and_self_update,
    groups_as_the_sdk_calls_them,
    friends_as_the_sdk_calls_them,
    presence_for_users,
);
