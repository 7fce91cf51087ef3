//! Notifications in the shapes OpenIM's SDK reads: content
//! `{"detail": "<tips JSON>"}`, the tips named as in OpenIM's `sdkws`
//! (`GroupCreatedTips`, `FriendApplicationTips`, ...). Confab's notices
//! carry ids (the service's domain names, `group_id`, `op_user_id`); the
//! SDK takes ids from the tips and fetches the records it needs by the
//! incremental sync, so ids are what the tips hold.

use confab_core::message::{content_type as ct, Message};
use serde_json::{json, Value};

/// OpenIM's revoke notification (`RevokeMsgTips`).
pub const REVOKE_NOTIFICATION: i32 = 2101;
/// OpenIM's conversation change (`ConversationUpdateTips`).
pub const CONVERSATION_CHANGED: i32 = 1300;
/// OpenIM's read receipt (`MarkAsReadTips`).
pub const HAS_READ_RECEIPT: i32 = 2200;
/// OpenIM's role levels of a group member.
const MEMBER: i32 = 20;
const OWNER: i32 = 100;

/// The content of a notification, as the SDK parses it.
pub fn content(tips: &Value) -> String {
    json!({ "detail": tips.to_string() }).to_string()
}

fn s<'a>(body: &'a Value, key: &str) -> &'a str {
    body.get(key).and_then(Value::as_str).unwrap_or("")
}

fn ids(body: &Value, key: &str) -> Vec<String> {
    body.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn member(group: &str, user: &str, role: i32) -> Value {
    json!({"groupID": group, "userID": user, "roleLevel": role})
}

/// `GroupInfo` as far as a notice tells it; the SDK's sync fills the rest.
fn group(body: &Value, m: &Message) -> Value {
    let mut g = json!({"groupID": s(body, "group_id"), "groupType": 2});
    for (from, to) in [
        ("group_name", "groupName"),
        ("owner_user_id", "ownerUserID"),
        ("notification", "notification"),
        ("introduction", "introduction"),
        ("face_url", "faceURL"),
        ("ex", "ex"),
    ] {
        if let Some(v) = body.get(from).filter(|v| v.is_string()) {
            g[to] = v.clone();
        }
    }
    if g.get("groupID").and_then(Value::as_str) == Some("") {
        g["groupID"] = json!(m.recv_id);
    }
    g
}

fn from_to(body: &Value) -> Value {
    json!({"fromUserID": s(body, "from_user_id"), "toUserID": s(body, "to_user_id")})
}

/// The tips of a Confab notice (content types 1201–1208, 1501–1518), or
/// None for a content type OpenIM has no tips for.
pub fn notice_tips(m: &Message) -> Option<Value> {
    let body: Value = serde_json::from_str(&m.content).ok()?;
    let gid = s(&body, "group_id");
    let op = member(gid, s(&body, "op_user_id"), MEMBER);
    let versions = |mut tips: Value| {
        // Unknown member versions: the SDK then syncs the group's members.
        tips["groupMemberVersion"] = json!(0);
        tips["groupMemberVersionID"] = json!("");
        tips["operationTime"] = json!(m.send_time);
        tips
    };
    let users = |key: &str| -> Vec<Value> {
        ids(&body, key)
            .iter()
            .map(|u| member(gid, u, MEMBER))
            .collect()
    };
    Some(match m.content_type {
        ct::FRIEND_APPLICATION => {
            json!({"fromToUserID": from_to(&body), "reqMsg": s(&body, "req_msg")})
        }
        ct::FRIEND_APPLICATION_APPROVED | ct::FRIEND_APPLICATION_REJECTED => {
            json!({"fromToUserID": from_to(&body), "handleMsg": s(&body, "handle_msg")})
        }
        ct::FRIEND_ADDED => json!({
            "friend": {"ownerUserID": s(&body, "from_user_id"),
                       "friendUser": {"userID": s(&body, "to_user_id")}},
            "opUser": {"userID": s(&body, "from_user_id")},
            "operationTime": m.send_time,
        }),
        ct::FRIEND_DELETED | ct::FRIEND_REMARK_SET | ct::BLACK_ADDED | ct::BLACK_DELETED => {
            json!({"fromToUserID": from_to(&body)})
        }
        ct::GROUP_CREATED => versions(json!({
            "group": group(&body, m),
            "opUser": op,
            "memberList": users("member_user_ids"),
            "groupOwnerUser": member(gid, s(&body, "owner_user_id"), OWNER),
        })),
        ct::GROUP_INFO_SET => versions(json!({"group": group(&body, m), "opUser": op})),
        ct::JOIN_GROUP_APPLICATION => json!({
            "group": group(&body, m),
            "applicant": {"userID": s(&body, "user_id")},
            "reqMsg": s(&body, "req_msg"),
        }),
        ct::MEMBER_QUIT => versions(json!({
            "group": group(&body, m),
            "quitUser": member(gid, s(&body, "user_id"), MEMBER),
        })),
        ct::GROUP_APPLICATION_ACCEPTED | ct::GROUP_APPLICATION_REJECTED => json!({
            "group": group(&body, m),
            "opUser": op,
            "handleMsg": s(&body, "handle_msg"),
            "receiverAs": 0,
        }),
        ct::GROUP_OWNER_TRANSFERRED => versions(json!({
            "group": group(&body, m),
            "opUser": op,
            "newGroupOwner": member(gid, s(&body, "new_owner_user_id"), OWNER),
            "oldGroupOwner": s(&body, "old_owner_user_id"),
            "oldGroupOwnerInfo": member(gid, s(&body, "old_owner_user_id"), MEMBER),
        })),
        ct::MEMBER_KICKED => versions(json!({
            "group": group(&body, m),
            "opUser": op,
            "kickedUserList": users("kicked_user_ids"),
        })),
        ct::MEMBER_INVITED => versions(json!({
            "group": group(&body, m),
            "opUser": op,
            "invitedUserList": users("invited_user_ids"),
        })),
        ct::MEMBER_ENTER => versions(json!({
            "group": group(&body, m),
            "entrantUser": member(gid, s(&body, "user_id"), MEMBER),
        })),
        ct::GROUP_DISMISSED | ct::GROUP_MUTED | ct::GROUP_CANCEL_MUTED => {
            versions(json!({"group": group(&body, m), "opUser": op}))
        }
        ct::GROUP_MEMBER_MUTED | ct::GROUP_MEMBER_CANCEL_MUTED => versions(json!({
            "group": group(&body, m),
            "opUser": op,
            "mutedUser": member(gid, s(&body, "user_id"), MEMBER),
            "mutedSeconds": body.get("muted_seconds").cloned().unwrap_or(json!(0)),
        })),
        ct::GROUP_MEMBER_INFO_SET
        | ct::GROUP_MEMBER_SET_TO_ADMIN
        | ct::GROUP_MEMBER_SET_TO_ORDINARY => {
            let mut changed = member(gid, s(&body, "user_id"), MEMBER);
            for (from, to) in [
                ("nickname", "nickname"),
                ("face_url", "faceURL"),
                ("ex", "ex"),
            ] {
                if let Some(v) = body.get(from).filter(|v| v.is_string()) {
                    changed[to] = v.clone();
                }
            }
            versions(json!({"group": group(&body, m), "opUser": op, "changedUser": changed}))
        }
        _ => return None,
    })
}

/// `RevokeMsgTips` of a Confab revoke notice (content type 111), whose
/// content names the revoked message.
pub fn revoke_tips(m: &Message, conversation_id: &str) -> Value {
    let body: Value = serde_json::from_str(&m.content).unwrap_or(Value::Null);
    json!({
        "revokerUserID": s(&body, "revokerID"),
        "clientMsgID": s(&body, "revokeMsgClientID"),
        "revokeTime": body.get("revokeTime").cloned().unwrap_or(json!(m.send_time)),
        // (sic: OpenIM's spelling)
        "sesstionType": super::openim_session_type(m),
        "seq": body.get("seq").cloned().unwrap_or(json!(0)),
        "conversationID": conversation_id,
        "isAdminRevoke": false,
    })
}

/// `MarkAsReadTips` of a read mark. A mark names only how far the reader
/// read, so `seqs` (the messages a receipt is for; the SDK ignores a
/// receipt without any) holds that last seq.
pub fn read_tips(reader: &str, conversation_id: &str, seq: i64) -> Value {
    json!({
        "markAsReadUserID": reader,
        "conversationID": conversation_id,
        "seqs": [seq],
        "hasReadSeq": seq,
    })
}
