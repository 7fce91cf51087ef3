//! Joined groups and group members since a version: the member batch
//! leaves out empty `insert`/`update` lists, and names the group when the
//! client's copy of it may be stale.

use super::*;

fn group(id: &str, name: &str, count: i64) -> Value {
    json!({"groupID": id, "groupName": name, "notification": "", "introduction": "",
           "faceURL": "", "ownerUserID": "alice", "createTime": "<ms>", "memberCount": count,
           "ex": "", "status": 0, "creatorUserID": ADMIN, "groupType": 0,
           "needVerification": 0, "lookMemberInfo": 0, "applyMemberFriend": 0,
           "notificationUpdateTime": 0, "notificationUserID": ""})
}

/// A member the admin added: the owner at creation (source 4), the others
/// invited (source 2). With no group nickname, the profile's shows.
fn member(group: &str, user: &str, role: i64, inviter: &str) -> Value {
    let source = if role == 100 { 4 } else { 2 };
    json!({"groupID": group, "userID": user, "roleLevel": role, "joinTime": "<ms>",
           "nickname": format!("nick {user}"), "faceURL": "", "appMangerLevel": 0,
           "joinSource": source,
           "operatorUserID": ADMIN, "ex": "", "muteEndTime": 0, "inviterUserID": inviter})
}

/// One group's answer in the batch, members in id order.
async fn members_of(client: &confab_client::OpenImClient, user: &str, position: Value) -> Value {
    let got = data(
        client,
        MEMBERS,
        json!({"userID": user, "reqList": [position]}),
    )
    .await;
    let mut list = got["respList"].clone();
    for entry in list.as_object_mut().unwrap().values_mut() {
        for key in ["insert", "update"] {
            if let Some(a) = entry.get_mut(key).and_then(Value::as_array_mut) {
                a.sort_by_key(|m| m["userID"].as_str().unwrap_or("").to_owned());
            }
        }
    }
    ms(list)
}

fn position(group: &str, got: &Value) -> Value {
    json!({"groupID": group, "version": got["version"], "versionID": got["versionID"]})
}

async fn groups_and_members_since_a_version(t: &TestServer) {
    let alice = t.user("alice").await;
    let bob = t.user("bob").await;
    let carol = t.user("carol").await;
    ok(
        &t.admin,
        "/group/create_group",
        json!({"groupID": "g1", "groupName": "team", "ownerUserID": "alice",
               "memberList": [{"userID": "bob"}]}),
    )
    .await;
    let joined = data(&alice, JOINED, first("alice")).await;
    assert_eq!(
        ms(joined.clone()),
        delta(
            &joined,
            true,
            json!([group("g1", "team", 2)]),
            json!([]),
            json!([])
        )
    );
    let carol_start = data(&carol, JOINED, first("carol")).await;

    let all = members_of(
        &bob,
        "bob",
        position("g1", &json!({"version": 0, "versionID": ""})),
    )
    .await;
    let g1 = &all["g1"];
    assert!(g1["versionID"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(
        all,
        json!({"g1": {"version": g1["version"], "versionID": g1["versionID"], "full": true,
                      "group": group("g1", "team", 2),
                      "insert": [member("g1", "alice", 100, ""), member("g1", "bob", 20, "alice")],
                      "delete": [], "sortVersion": 0}}),
        "everything in insert, no empty update"
    );
    let mut at = position("g1", g1);

    // Each change, and the answer to the version before it.
    let invite = json!({"groupID": "g1", "invitedUserIDList": ["carol"]});
    ok(&t.admin, "/group/invite_user_to_group", invite).await;
    let got = members_of(&bob, "bob", at.clone()).await;
    assert_eq!(
        got,
        json!({"g1": {"version": got["g1"]["version"], "versionID": at["versionID"],
                      "full": false, "group": group("g1", "team", 3),
                      "insert": [member("g1", "carol", 20, ADMIN)], "delete": [],
                      "sortVersion": 0}})
    );
    at = position("g1", &got["g1"]);
    let carol_in = data(&carol, JOINED, at_of("carol", &carol_start)).await;
    assert_eq!(
        ms(carol_in.clone()),
        delta(
            &carol_in,
            false,
            json!([group("g1", "team", 3)]),
            json!([]),
            json!([])
        )
    );

    let rename = json!({"groupID": "g1", "groupName": "renamed"});
    ok(&t.admin, "/group/set_group_info", rename).await;
    let got = members_of(&bob, "bob", at.clone()).await;
    assert_eq!(
        got,
        json!({"g1": {"version": got["g1"]["version"], "versionID": at["versionID"],
                      "full": false, "group": group("g1", "renamed", 3), "delete": [],
                      "sortVersion": 0}}),
        "the group again; no members"
    );
    at = position("g1", &got["g1"]);
    let got = members_of(&bob, "bob", at.clone()).await;
    assert_eq!(
        got,
        json!({"g1": {"version": at["version"], "versionID": at["versionID"],
                      "full": false, "delete": [], "sortVersion": 0}}),
        "nothing changed: no group, no lists"
    );

    let promote = json!({"groupID": "g1", "userID": "bob", "roleLevel": 3});
    ok(&t.admin, "/group/set_group_member_info", promote).await;
    let got = members_of(&bob, "bob", at.clone()).await;
    assert_eq!(
        got["g1"]["update"],
        json!([member("g1", "bob", 60, "alice")])
    );
    assert_eq!(got["g1"].get("insert"), None);
    at = position("g1", &got["g1"]);

    let kick = json!({"groupID": "g1", "kickedUserIDList": ["carol"]});
    ok(&t.admin, "/group/kick_group", kick).await;
    let got = members_of(&bob, "bob", at.clone()).await;
    assert_eq!(
        got,
        json!({"g1": {"version": got["g1"]["version"], "versionID": at["versionID"],
                      "full": false, "group": group("g1", "renamed", 2),
                      "delete": ["carol"], "sortVersion": 0}})
    );
    let carol_out = data(&carol, JOINED, at_of("carol", &carol_in)).await;
    assert_eq!(
        carol_out,
        delta(&carol_out, false, json!([]), json!([]), json!(["g1"]))
    );
    let gone = members_of(&carol, "carol", at.clone()).await;
    assert_eq!(gone, json!({}), "a group the user left is not answered");

    ok(&t.admin, "/group/dismiss_group", json!({"groupID": "g1"})).await;
    assert_eq!(
        members_of(&bob, "bob", at).await,
        json!({}),
        "nor a dismissed one"
    );
    let alice_out = data(&alice, JOINED, at_of("alice", &joined)).await;
    assert_eq!(
        alice_out,
        delta(&alice_out, false, json!([]), json!([]), json!(["g1"]))
    );
}

on_both_backends!(groups_and_members_since_a_version);
