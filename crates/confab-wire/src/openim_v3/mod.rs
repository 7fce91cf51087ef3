//! OpenIM v3's client vocabulary, shared by the gateway's OpenIM codec and
//! the HTTP routes the SDK calls: conversation ids (`si_`, `sg_`),
//! messages as `MsgData` (`place`), notifications as tips (`tips.rs`).

pub mod tips;

use confab_core::message::{content_type as ct, Message, MessageStatus, SessionType};
use confab_openim_pb::openim::sdkws::MsgData;

/// A protobuf message in an envelope's `data`: its base64 (Go's `[]byte`
/// in JSON), both ways.
pub fn encode_data(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn decode_data(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text)
}

/// `data` of an answer, never empty: a message of all defaults is no
/// bytes, which the SDK reads as no answer at all and fails on, so an
/// unknown field (100, varint 0) stands in, a message every decoder reads
/// as the defaults (base64 `oAYA`).
pub fn answer_data(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        encode_data(&[0xa0, 0x06, 0x00])
    } else {
        encode_data(bytes)
    }
}

/// OpenIM v3's error codes, for the client gateway and the SDK's routes.
pub fn v3_err_code(kind: confab_core::ErrorKind) -> i32 {
    match kind {
        confab_core::ErrorKind::InvalidArgument => 1001,
        confab_core::ErrorKind::PermissionDenied => 1002,
        confab_core::ErrorKind::NotFound => 1004,
        confab_core::ErrorKind::Conflict | confab_core::ErrorKind::FailedPrecondition => 1001,
        confab_core::ErrorKind::TokenExpired => 1501,
        confab_core::ErrorKind::TokenInvalid => 1502,
        confab_core::ErrorKind::TokenMalformed => 1503,
        confab_core::ErrorKind::TokenRevoked => 1506,
        confab_core::ErrorKind::TooManyRequests => 429,
        confab_core::ErrorKind::Unavailable | confab_core::ErrorKind::Internal => 500,
    }
}

/// OpenIM's session type of a group: its "super group" (3). The SDK files
/// a group's messages under `sg_<groupID>`.
pub const SUPER_GROUP: i32 = 3;
/// OpenIM's `msgFrom` of a user's message and of a system notice.
const FROM_USER: i32 = 100;
const FROM_SYSTEM: i32 = 200;
/// OpenIM's `status` of a stored message, and of a deleted one.
const STATUS_SENT: i32 = 2;

/// OpenIM's id of a Confab conversation: groups are `sg_<groupID>`, a
/// user's notification conversation `sn_<userID>` (OpenIM's notification
/// chats, where its SDK shows an app's notices); chats (`si_`) and the
/// others keep theirs.
pub fn openim_conversation_id(confab: &str) -> String {
    if let Some(group) = confab.strip_prefix("g_") {
        return format!("sg_{group}");
    }
    match confab.strip_prefix("n_") {
        Some(user) => format!("sn_{user}"),
        None => confab.to_owned(),
    }
}

/// Whether an OpenIM client sees this conversation as one: chats and
/// groups, not a user's notices (`n_`) nor broadcasts (`b_`).
pub fn is_chat_conversation(confab: &str) -> bool {
    confab.starts_with("si_") || confab.starts_with("g_")
}

/// Confab's id of a conversation the SDK names: `sg_` and `g_` are groups,
/// `sn_` a user's notifications.
pub fn confab_conversation_id(openim: &str) -> String {
    if let Some(user) = openim.strip_prefix("sn_") {
        return format!("n_{user}");
    }
    match openim.strip_prefix("sg_") {
        Some(group) => format!("g_{group}"),
        None => openim.to_owned(),
    }
}

/// OpenIM's session type of a message (groups are "super groups").
pub fn openim_session_type(m: &Message) -> i32 {
    if m.session_type.is_group() {
        SUPER_GROUP
    } else {
        m.session_type as i32
    }
}

/// Where a message goes in OpenIM's `PushMessages` and pull answers: in
/// its chat (`msgs`, where it takes its seq), among `notificationMsgs`
/// (which the SDK's handlers read to update its local state), or both.
pub struct Placed {
    pub chat: Option<MsgData>,
    pub notification: Option<MsgData>,
}

/// A stored message as the SDK reads it. A group's notices are both in
/// its chat (as OpenIM's tips shown in a group) and among notifications;
/// a user's notices only among notifications. A revoke notice is a 2101
/// notification, and in its chat only to keep the seqs whole (hidden and
/// not counted unread). A revoked message reads as OpenIM's revoked one.
pub fn place(m: &Message) -> Placed {
    let data = msg_data(m);
    if m.content_type == ct::REVOKE {
        let id = openim_conversation_id(&m.conversation_id);
        let mut notice = data;
        notice.content_type = tips::REVOKE_NOTIFICATION;
        notice.content = tips::content(&tips::revoke_tips(m, &id)).into_bytes();
        notice.msg_from = FROM_SYSTEM;
        let mut hidden = notice.clone();
        hidden.options = [("conversationUpdate", false), ("unreadCount", false)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        return Placed {
            chat: Some(hidden),
            notification: Some(notice),
        };
    }
    // An app's notice to a user (Confab's system notification, OpenIM's
    // "OA" notification) is a message of the user's notification chat.
    if m.content_type == ct::SYSTEM_NOTIFICATION && m.session_type == SessionType::Notification {
        let mut notice = data;
        notice.content = tips::content(
            &serde_json::from_str::<serde_json::Value>(&m.content).unwrap_or_default(),
        )
        .into_bytes();
        return Placed {
            chat: Some(notice),
            notification: None,
        };
    }
    if ct::is_notification(m.content_type) {
        let mut notice = data;
        if let Some(t) = tips::notice_tips(m) {
            notice.content = tips::content(&t).into_bytes();
        }
        return if m.session_type == SessionType::Notification {
            Placed {
                chat: None,
                notification: Some(notice),
            }
        } else {
            Placed {
                chat: Some(notice.clone()),
                notification: Some(notice),
            }
        };
    }
    if m.session_type == SessionType::Notification {
        return Placed {
            chat: None,
            notification: Some(data),
        };
    }
    Placed {
        chat: Some(data),
        notification: None,
    }
}

/// A message's `MsgData`, content in the SDK's shape.
fn msg_data(m: &Message) -> MsgData {
    let group = m.session_type.is_group();
    let system = ct::is_notification(m.content_type) || m.sender_platform == 0;
    let revoked = m.status == MessageStatus::Revoked;
    let (content_type, content) = if revoked {
        (tips::REVOKE_NOTIFICATION, revoked_content(m))
    } else {
        (m.content_type, openim_content(m.content_type, &m.content))
    };
    MsgData {
        send_id: m.sender_id.to_string(),
        recv_id: if group {
            String::new()
        } else {
            m.recv_id.clone()
        },
        group_id: if group {
            m.recv_id.clone()
        } else {
            String::new()
        },
        // The SDK skips a message without one; notices have none of their own.
        client_msg_id: if m.client_msg_id.is_empty() {
            m.server_msg_id.clone()
        } else {
            m.client_msg_id.clone()
        },
        server_msg_id: m.server_msg_id.clone(),
        sender_platform_id: m.sender_platform,
        sender_nickname: m.sender_nickname.clone(),
        sender_face_url: m.sender_face_url.clone(),
        session_type: openim_session_type(m),
        msg_from: if system { FROM_SYSTEM } else { FROM_USER },
        content_type,
        content: content.into_bytes(),
        seq: m.seq,
        send_time: m.send_time,
        create_time: m.send_time,
        status: STATUS_SENT,
        at_user_id_list: m.at_user_ids.clone(),
        ex: m.ex.clone(),
        ..Default::default()
    }
}

/// What a revoked message reads as: OpenIM's revoked element, with what the
/// message itself tells.
fn revoked_content(m: &Message) -> String {
    tips::content(&serde_json::json!({
        "clientMsgID": m.client_msg_id,
        "seq": m.seq,
        "sessionType": openim_session_type(m),
        "sourceMessageSendID": m.sender_id,
        "sourceMessageSendTime": m.send_time,
        "sourceMessageSenderNickname": m.sender_nickname,
        "isAdminRevoke": false,
        "ex": "",
    }))
}

/// The content of a message in the SDK's shape. Only text differs: the
/// SDK's text element is `{"content": ...}` where Confab's (and OpenIM
/// v2's) is `{"text": ...}`.
pub fn openim_content(content_type: i32, content: &str) -> String {
    if content_type != ct::TEXT {
        return content.to_owned();
    }
    match serde_json::from_str::<serde_json::Value>(content) {
        Ok(serde_json::Value::Object(mut body)) if !body.contains_key("content") => {
            if let Some(text) = body.remove("text") {
                body.insert("content".into(), text);
            }
            serde_json::Value::Object(body).to_string()
        }
        _ => content.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversation_ids_map_both_ways() {
        assert_eq!(openim_conversation_id("g_team"), "sg_team");
        assert_eq!(openim_conversation_id("si_a_b"), "si_a_b");
        assert_eq!(confab_conversation_id("sg_team"), "g_team");
        assert_eq!(confab_conversation_id("g_team"), "g_team");
        assert_eq!(confab_conversation_id("si_a_b"), "si_a_b");
        assert_eq!(openim_conversation_id("n_ann"), "sn_ann");
        assert_eq!(confab_conversation_id("sn_ann"), "n_ann");
    }

    #[test]
    fn text_is_renamed_for_the_sdk() {
        assert_eq!(
            openim_content(ct::TEXT, r#"{"text":"hi"}"#),
            r#"{"content":"hi"}"#
        );
        let picture = r#"{"sourcePicture":{"url":"u"}}"#;
        assert_eq!(openim_content(ct::PICTURE, picture), picture);
    }
}
