//! The wire vocabulary OpenIM clients know, kept out of the core: Confab's
//! WebSocket frames (`docs/protocol.md`, field names after OpenIM's), the
//! message as OpenIM shows it, and OpenIM's error codes. Shared by the
//! OpenIM HTTP dialect, the gateway's JSON codec and `confab-client`.

pub mod openim_v3;
pub mod peer;
pub mod yunbay;

use confab_core::message::{content_type, Message};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// A frame from the client: `{type, reqID, data}`.
#[derive(Debug, Serialize, Deserialize)]
pub struct ClientFrame<D = Box<RawValue>> {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(rename = "reqID", default)]
    pub req_id: String,
    pub data: Option<D>,
}

/// A frame from the server: `{type, reqID, errCode, errMsg, data}`.
#[derive(Debug, Serialize, Deserialize)]
pub struct ServerFrame<D = Box<RawValue>> {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(rename = "reqID", default, skip_serializing_if = "String::is_empty")]
    pub req_id: String,
    #[serde(rename = "errCode", default)]
    pub err_code: i32,
    #[serde(rename = "errMsg", default, skip_serializing_if = "String::is_empty")]
    pub err_msg: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<D>,
}

impl<D: Serialize> ServerFrame<D> {
    /// The JSON text of a successful frame (`errCode` 0).
    pub fn ok_text(kind: &str, req_id: &str, data: Option<D>) -> String {
        let frame = ServerFrame {
            kind: kind.to_owned(),
            req_id: req_id.to_owned(),
            err_code: 0,
            err_msg: String::new(),
            data,
        };
        serde_json::to_string(&frame).unwrap_or_default()
    }
}

/// `send`: a message to a user (`sessionType` 1, `recvID`) or a group
/// (`sessionType` 2, `groupID`, or the group id in `recvID`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendData {
    #[serde(rename = "clientMsgID", default)]
    pub client_msg_id: String,
    #[serde(rename = "recvID", default)]
    pub recv_id: String,
    #[serde(rename = "groupID", default)]
    pub group_id: String,
    pub session_type: i32,
    pub content_type: i32,
    pub content: serde_json::Value,
    #[serde(default)]
    pub is_online_only: bool,
    #[serde(rename = "atUserIDList", default)]
    pub at_user_id_list: Vec<String>,
    #[serde(default)]
    pub sender_nickname: String,
    #[serde(rename = "senderFaceURL", default)]
    pub sender_face_url: String,
    #[serde(default)]
    pub ex: String,
}

/// Reply to `send`: the message is stored (or, online-only, pushed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AckData {
    #[serde(rename = "clientMsgID")]
    pub client_msg_id: String,
    #[serde(rename = "serverMsgID")]
    pub server_msg_id: String,
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    pub seq: i64,
    /// Milliseconds since the epoch.
    pub send_time: i64,
}

/// Whether a JSON text holds an escaped NUL (`\u0000`) in a string. JSON
/// cannot carry a raw NUL, and PostgreSQL cannot store one in text, so a NUL
/// anywhere in a body is refused at the boundary, alike on both backends.
pub fn has_nul_escape(json: &[u8]) -> bool {
    let mut i = 0;
    while i < json.len() {
        if json[i] == b'\\' {
            if json.get(i + 1) == Some(&b'u') && json.get(i + 2..i + 6) == Some(b"0000") {
                return true;
            }
            // Skip the escaped character, so `\\u0000` (a backslash, then
            // text) is not taken for a NUL.
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

/// One conversation in the reply to `get_max_seqs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationSeqs {
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    pub session_type: i32,
    #[serde(rename = "peerID")]
    pub peer_id: String,
    pub max_seq: i64,
    pub read_seq: i64,
    pub min_seq: i64,
    pub unread: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MaxSeqsData {
    pub conversations: Vec<ConversationSeqs>,
}

/// `pull`: messages `begin..=end` of a conversation, at most `limit` (≤ 100).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PullData {
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    pub begin: i64,
    pub end: i64,
    #[serde(default)]
    pub limit: u32,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct PulledData {
    pub messages: Vec<MessageView>,
    /// True when the range holds more than `limit` messages: pull again from
    /// the last seq + 1.
    pub more: bool,
}

/// `mark_read`, `revoke` and `delivered`: a conversation and a seq.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeqData {
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    pub seq: i64,
}

/// `create_conversation`: the members (user id numbers), a name, and the
/// app's `conv.create` signature for them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateConversationData {
    pub members: Vec<String>,
    #[serde(default)]
    pub name: String,
    pub signature: String,
}

/// Reply to `create_conversation`: the new group and its conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationCreated {
    #[serde(rename = "groupID")]
    pub group_id: String,
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    #[serde(rename = "memberCount")]
    pub member_count: i64,
}

/// `join_room` and `leave_room`: a chatroom.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoomData {
    #[serde(rename = "roomID")]
    pub room_id: String,
}

/// Pushed when a user read a conversation up to a seq.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadData {
    #[serde(rename = "userID")]
    pub user_id: String,
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    pub seq: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KickData {
    pub reason: String,
}

/// A message as clients see it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    #[serde(rename = "serverMsgID")]
    pub server_msg_id: String,
    #[serde(rename = "clientMsgID")]
    pub client_msg_id: String,
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    /// 0 for messages pushed without being stored (online-only, typing).
    pub seq: i64,
    #[serde(rename = "sendID")]
    pub send_id: String,
    #[serde(rename = "recvID")]
    pub recv_id: String,
    #[serde(rename = "groupID")]
    pub group_id: String,
    #[serde(rename = "senderPlatformID")]
    pub sender_platform_id: i32,
    pub sender_nickname: String,
    #[serde(rename = "senderFaceURL")]
    pub sender_face_url: String,
    pub session_type: i32,
    pub content_type: i32,
    pub content: Box<RawValue>,
    /// Milliseconds since the epoch.
    pub send_time: i64,
    /// 0 normal, 1 revoked.
    pub status: i32,
    #[serde(rename = "atUserIDList")]
    pub at_user_id_list: Vec<String>,
    pub ex: String,
}

/// OpenIM's names of the fields of the service's notification bodies.
const NOTICE_FIELDS: [(&str, &str); 18] = [
    ("from_user_id", "fromUserID"),
    ("to_user_id", "toUserID"),
    ("req_msg", "reqMsg"),
    ("handle_msg", "handleMsg"),
    ("group_id", "groupID"),
    ("group_name", "groupName"),
    ("owner_user_id", "ownerUserID"),
    ("op_user_id", "opUserID"),
    ("member_user_ids", "memberUserIDList"),
    ("face_url", "faceURL"),
    ("user_id", "userID"),
    ("old_owner_user_id", "oldOwnerUserID"),
    ("new_owner_user_id", "newOwnerUserID"),
    ("kicked_user_ids", "kickedUserIDList"),
    ("invited_user_ids", "invitedUserIDList"),
    ("muted_seconds", "mutedSeconds"),
    ("remark", "remark"),
    ("nickname", "nickname"),
];

/// The content as OpenIM shows it: chat content as it was sent, and
/// notification bodies (stored with domain field names) in OpenIM's names.
fn openim_content(m: &Message) -> String {
    if !content_type::is_notification(m.content_type)
        || m.content_type == content_type::SYSTEM_NOTIFICATION
    {
        return m.content.clone();
    }
    let Ok(serde_json::Value::Object(body)) = serde_json::from_str(&m.content) else {
        return m.content.clone();
    };
    let renamed: serde_json::Map<String, serde_json::Value> = body
        .into_iter()
        .map(|(k, v)| {
            let name = NOTICE_FIELDS
                .iter()
                .find(|(domain, _)| *domain == k)
                .map(|(_, openim)| (*openim).to_owned())
                .unwrap_or(k);
            (name, v)
        })
        .collect();
    serde_json::Value::Object(renamed).to_string()
}

impl MessageView {
    pub fn new(m: &Message) -> MessageView {
        let group = m.session_type.is_group();
        let content = RawValue::from_string(openim_content(m))
            .unwrap_or_else(|_| RawValue::from_string("{}".to_owned()).unwrap_or_default());
        MessageView {
            server_msg_id: m.server_msg_id.clone(),
            client_msg_id: m.client_msg_id.clone(),
            conversation_id: m.conversation_id.clone(),
            seq: m.seq,
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
            sender_platform_id: m.sender_platform,
            sender_nickname: m.sender_nickname.clone(),
            sender_face_url: m.sender_face_url.clone(),
            session_type: m.session_type as i32,
            content_type: m.content_type,
            content,
            send_time: m.send_time,
            status: m.status as i32,
            at_user_id_list: m.at_user_ids.clone(),
            ex: m.ex.clone(),
        }
    }

    /// The content as a JSON value.
    pub fn content_value(&self) -> serde_json::Value {
        serde_json::from_str(self.content.get()).unwrap_or(serde_json::Value::Null)
    }
}

/// OpenIM's name of each domain field, as most of its routes spell it.
/// The OpenIM HTTP routes that spell one differently rename it (the
/// dialect's `ApiError::naming`); Confab's `/ws` frames use these names.
pub fn field_name(field: confab_core::Field) -> &'static str {
    match field {
        confab_core::Field::User => "userID",
        confab_core::Field::Users => "userIDList",
        confab_core::Field::UsersToDelete => "deleteUserIDList",
        confab_core::Field::UsersToCheck => "checkUserIDList",
        confab_core::Field::OtherUser => "toUserID",
        confab_core::Field::FriendsToImport => "friendUserIDList",
        confab_core::Field::Recipient => "recvID",
        confab_core::Field::Recipients => "recvIDList",
        confab_core::Field::Groups => "groupIDList",
        confab_core::Field::Members => "memberList",
        confab_core::Field::Invitees => "invitedUserIDList",
        confab_core::Field::KickedMembers => "kickedUserIDList",
        confab_core::Field::NewOwner => "newOwnerUserID",
        confab_core::Field::Role => "roleLevel",
        confab_core::Field::Nickname => "nickname",
        confab_core::Field::FaceUrl => "faceURL",
        confab_core::Field::PhoneNumber => "phoneNumber",
        confab_core::Field::Birth => "birth",
        confab_core::Field::Email => "email",
        confab_core::Field::Gender => "gender",
        confab_core::Field::Ex => "ex",
        confab_core::Field::GroupName => "groupName",
        confab_core::Field::Notification => "notification",
        confab_core::Field::Introduction => "introduction",
        confab_core::Field::RequestMessage => "reqMsg",
        confab_core::Field::HandleMessage => "handleMsg",
        confab_core::Field::Remark => "remark",
        confab_core::Field::ClientMessageId => "clientMsgID",
        confab_core::Field::SenderNickname => "senderNickname",
        confab_core::Field::SenderFaceUrl => "senderFaceURL",
        confab_core::Field::ContentType => "contentType",
        confab_core::Field::Content => "content",
        confab_core::Field::SessionType => "sessionType",
        confab_core::Field::Mentions => "atUserIDList",
        confab_core::Field::Seqs => "seqList",
        confab_core::Field::ReceiveOption => "recvMsgOpt",
        confab_core::Field::Conversations => "conversations",
        confab_core::Field::Password => "password",
        confab_core::Field::MaxMembers => "maxMembers",
        confab_core::Field::Action => "action",
    }
}

/// The `errCode` of each error kind: OpenIM v2's codes, which Confab's own
/// protocol shares so clients handle one set.
pub fn err_code(kind: confab_core::ErrorKind) -> i32 {
    use confab_core::ErrorKind::*;
    match kind {
        InvalidArgument | NotFound | Conflict => 803,
        PermissionDenied => 801,
        FailedPrecondition => 804,
        TokenMalformed => 703,
        TokenInvalid => 702,
        TokenExpired => 701,
        TokenRevoked => 706,
        // OpenIM has no code of its own for it: the HTTP status's.
        TooManyRequests => 429,
        Unavailable | Internal => 500,
    }
}

#[cfg(test)]
mod tests {
    use super::has_nul_escape;

    #[test]
    fn nul_escapes() {
        assert!(has_nul_escape(br#"{"ex": "a\u0000b"}"#));
        assert!(!has_nul_escape(br#"{"ex": "a\\u0000b"}"#));
        assert!(has_nul_escape(br#"{"ex": "a\\\u0000"}"#));
        assert!(!has_nul_escape(br#"{"ex": "a\u0001"}"#));
        assert!(!has_nul_escape(b"{}"));
    }
}
