//! Conversations and messages.
//!
//! Every message lives in one conversation with its own gap-free `seq`
//! starting at 1: `si_<a>_<b>` (a, b sorted) for a one-to-one chat,
//! `g_<groupID>` for a group, `n_<userID>` for one user's system
//! notifications. A group message is stored once (read diffusion).

use crate::error::{Error, Field, Result};
use crate::ids::{ChatroomId, GroupId, UserId};
use crate::Millis;
use serde::{Deserialize, Serialize};

/// Whom a message goes to. Each dialect builds it from its own fields
/// (OpenIM's `sessionType` + `recvID`/`groupID`, Easemob's `target_type`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Recipient {
    User(UserId),
    Group(GroupId),
    /// An online-only room: pushed to the members online, never stored.
    Chatroom(ChatroomId),
}

impl Recipient {
    /// The recipient as text (user, group or chatroom id).
    pub fn id(&self) -> &str {
        match self {
            Recipient::User(u) => u.as_str(),
            Recipient::Group(g) => g.as_str(),
            Recipient::Chatroom(c) => c.as_str(),
        }
    }
}

/// The kinds of chat content a client may send. Confab's content model
/// follows OpenIM's (DESIGN.md), so the codes are OpenIM's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentType {
    Text = 101,
    Picture = 102,
    Voice = 103,
    Video = 104,
    File = 105,
    AtText = 106,
    Merger = 107,
    Card = 108,
    Location = 109,
    Custom = 110,
    Revoke = 111,
    ReadReceipt = 112,
    Typing = 113,
    Quote = 114,
}

impl ContentType {
    const ALL: [ContentType; 14] = [
        ContentType::Text,
        ContentType::Picture,
        ContentType::Voice,
        ContentType::Video,
        ContentType::File,
        ContentType::AtText,
        ContentType::Merger,
        ContentType::Card,
        ContentType::Location,
        ContentType::Custom,
        ContentType::Revoke,
        ContentType::ReadReceipt,
        ContentType::Typing,
        ContentType::Quote,
    ];

    pub fn from_code(code: i32) -> Option<ContentType> {
        ContentType::ALL.into_iter().find(|t| *t as i32 == code)
    }

    /// Parses a chat content type code, refusing notifications and unknowns.
    pub fn parse(code: i32) -> Result<ContentType> {
        ContentType::from_code(code).ok_or_else(|| {
            Error::invalid_field(
                Field::ContentType,
                format!("{code} is not a chat content type (101..114)"),
            )
        })
    }

    pub fn code(self) -> i32 {
        self as i32
    }
}

/// Chat content: its type and its JSON body (an object whose shape the type
/// fixes; see `validate_content`).
#[derive(Debug, Clone, PartialEq)]
pub struct Content {
    pub kind: ContentType,
    pub body: serde_json::Value,
}

impl Content {
    pub fn new(kind: ContentType, body: serde_json::Value) -> Content {
        Content { kind, body }
    }

    /// Plain text.
    pub fn text(text: &str) -> Content {
        Content::new(ContentType::Text, serde_json::json!({ "text": text }))
    }

    /// Checks that the body has what its type needs.
    pub fn validate(&self) -> Result<()> {
        // Its messages name the body's own keys (`content.text`).
        validate_content(self.kind.code(), &self.body)
    }
}

/// OpenIM's session types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SessionType {
    Single = 1,
    Group = 2,
    /// OpenIM's "super group"; Confab stores every group once anyway, so it
    /// is served as a group.
    SuperGroup = 3,
    Notification = 4,
    /// An online-only chatroom (Confab's own value; OpenIM has none).
    Chatroom = 5,
}

impl SessionType {
    pub fn from_i32(v: i32) -> Option<SessionType> {
        match v {
            1 => Some(SessionType::Single),
            2 => Some(SessionType::Group),
            3 => Some(SessionType::SuperGroup),
            4 => Some(SessionType::Notification),
            5 => Some(SessionType::Chatroom),
            _ => None,
        }
    }

    pub fn is_group(self) -> bool {
        matches!(self, SessionType::Group | SessionType::SuperGroup)
    }
}

/// The id of the conversation between two users.
pub fn single_conversation_id(a: &UserId, b: &UserId) -> String {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    format!("si_{lo}_{hi}")
}

pub fn group_conversation_id(group_id: &GroupId) -> String {
    format!("g_{group_id}")
}

pub fn notification_conversation_id(user_id: &UserId) -> String {
    format!("n_{user_id}")
}

/// The conversation of notifications to every user: stored once, read by
/// each user with their own cursor.
pub const BROADCAST_CONVERSATION_ID: &str = "b_all";
/// Broadcast conversations: their ids start with `b_`.
pub fn is_broadcast_conversation(conversation_id: &str) -> bool {
    conversation_id.starts_with("b_")
}

/// The conversation of a chatroom (online-only: it has no stored messages).
pub fn chatroom_conversation_id(room: &ChatroomId) -> String {
    format!("cr_{room}")
}

/// OpenIM's content types.
pub mod content_type {
    pub const TEXT: i32 = 101;
    pub const PICTURE: i32 = 102;
    pub const VOICE: i32 = 103;
    pub const VIDEO: i32 = 104;
    pub const FILE: i32 = 105;
    pub const AT_TEXT: i32 = 106;
    pub const MERGER: i32 = 107;
    pub const CARD: i32 = 108;
    pub const LOCATION: i32 = 109;
    pub const CUSTOM: i32 = 110;
    pub const REVOKE: i32 = 111;
    pub const HAS_READ_RECEIPT: i32 = 112;
    pub const TYPING: i32 = 113;
    pub const QUOTE: i32 = 114;

    pub const FRIEND_APPLICATION_APPROVED: i32 = 1201;
    pub const FRIEND_APPLICATION_REJECTED: i32 = 1202;
    pub const FRIEND_APPLICATION: i32 = 1203;
    pub const FRIEND_ADDED: i32 = 1204;
    pub const FRIEND_DELETED: i32 = 1205;
    pub const FRIEND_REMARK_SET: i32 = 1206;
    pub const BLACK_ADDED: i32 = 1207;
    pub const BLACK_DELETED: i32 = 1208;

    pub const GROUP_CREATED: i32 = 1501;
    pub const GROUP_INFO_SET: i32 = 1502;
    pub const JOIN_GROUP_APPLICATION: i32 = 1503;
    pub const MEMBER_QUIT: i32 = 1504;
    pub const GROUP_APPLICATION_ACCEPTED: i32 = 1505;
    pub const GROUP_APPLICATION_REJECTED: i32 = 1506;
    pub const GROUP_OWNER_TRANSFERRED: i32 = 1507;
    pub const MEMBER_KICKED: i32 = 1508;
    pub const MEMBER_INVITED: i32 = 1509;
    pub const MEMBER_ENTER: i32 = 1510;
    pub const GROUP_DISMISSED: i32 = 1511;
    pub const GROUP_MEMBER_MUTED: i32 = 1512;
    pub const GROUP_MEMBER_CANCEL_MUTED: i32 = 1513;
    pub const GROUP_MUTED: i32 = 1514;
    pub const GROUP_CANCEL_MUTED: i32 = 1515;
    pub const GROUP_MEMBER_INFO_SET: i32 = 1516;
    pub const GROUP_MEMBER_SET_TO_ADMIN: i32 = 1517;
    pub const GROUP_MEMBER_SET_TO_ORDINARY: i32 = 1518;

    /// A system notification from the app (OpenIM's "OA notification").
    pub const SYSTEM_NOTIFICATION: i32 = 1400;

    /// Chat content a client may send (101–114).
    pub fn is_chat(t: i32) -> bool {
        (TEXT..=QUOTE).contains(&t)
    }

    /// System notifications (friend 1201–1208, group 1501–1518, app 1400).
    pub fn is_notification(t: i32) -> bool {
        (1201..=1208).contains(&t) || (1501..=1518).contains(&t) || t == SYSTEM_NOTIFICATION
    }
}

/// Checks that `content` (a JSON object) has what its content type needs.
pub fn validate_content(content_type: i32, content: &serde_json::Value) -> Result<()> {
    use content_type::*;
    let obj = content
        .as_object()
        .ok_or_else(|| Error::invalid("content: must be a JSON object"))?;
    let need_str = |field: &str| -> Result<()> {
        match obj.get(field) {
            Some(serde_json::Value::String(s)) if !s.is_empty() => Ok(()),
            Some(serde_json::Value::String(_)) => Err(Error::invalid(format!(
                "content.{field}: must not be empty"
            ))),
            Some(_) => Err(Error::invalid(format!("content.{field}: must be a string"))),
            None => Err(Error::invalid(format!(
                "content.{field}: missing for contentType {content_type}"
            ))),
        }
    };
    let need_any = |field: &str| -> Result<()> {
        if obj.get(field).is_some_and(|v| !v.is_null()) {
            Ok(())
        } else {
            Err(Error::invalid(format!(
                "content.{field}: missing for contentType {content_type}"
            )))
        }
    };
    match content_type {
        TEXT | AT_TEXT => need_str("text"),
        PICTURE => need_any("sourcePicture").or_else(|_| need_any("url")),
        VOICE => need_any("sourceUrl").or_else(|_| need_any("url")),
        VIDEO => need_any("videoUrl").or_else(|_| need_any("url")),
        FILE => need_any("sourceUrl").or_else(|_| need_any("url")),
        MERGER => need_any("multiMessage"),
        CARD => need_any("userID").or_else(|_| need_any("card")),
        LOCATION => {
            for field in ["latitude", "longitude"] {
                if !obj.get(field).is_some_and(serde_json::Value::is_number) {
                    return Err(Error::invalid(format!("content.{field}: must be a number")));
                }
            }
            Ok(())
        }
        CUSTOM => need_any("data"),
        REVOKE => need_str("revokeMsgClientID").or_else(|_| need_any("seq")),
        HAS_READ_RECEIPT => need_any("seq").or_else(|_| need_any("msgIDList")),
        TYPING => Ok(()),
        QUOTE => need_str("text").and_then(|_| need_any("quoteMessage")),
        t if is_notification(t) => Ok(()),
        t => Err(Error::invalid(format!(
            "contentType: unknown content type {t}"
        ))),
    }
}

/// Message status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MessageStatus {
    Normal = 0,
    Revoked = 1,
}

impl MessageStatus {
    pub fn from_i32(v: i32) -> MessageStatus {
        if v == 1 {
            MessageStatus::Revoked
        } else {
            MessageStatus::Normal
        }
    }
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub conversation_id: String,
    pub seq: i64,
    pub server_msg_id: String,
    pub client_msg_id: String,
    pub sender_id: UserId,
    pub sender_platform: i32,
    pub sender_nickname: String,
    pub sender_face_url: String,
    pub session_type: SessionType,
    /// The recipient user, or the group, or the notified user.
    pub recv_id: String,
    pub content_type: i32,
    /// The content object, as JSON text.
    pub content: String,
    pub send_time: Millis,
    pub status: MessageStatus,
    /// Users @-mentioned or force-pushed (`forceList`).
    pub at_user_ids: Vec<String>,
    pub ex: String,
}

/// A message to append: `seq` is assigned by the store.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// The message with `seq` 0.
    pub message: Message,
    /// Users who take part in the conversation: their per-user conversation
    /// state is created with it (both users of a chat, the notified user).
    /// Empty for groups, whose members get theirs when they join.
    pub participants: Vec<(UserId, String)>,
}

/// What an append did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub message: Message,
    /// True when `(sender, client_msg_id)` existed: nothing was created and
    /// `message` is the first one.
    pub duplicate: bool,
}

/// One user's view of one conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserConversation {
    pub user_id: UserId,
    pub conversation_id: String,
    pub session_type: SessionType,
    /// The other user of a chat, the group, or the user for notifications.
    pub peer_id: String,
    pub max_seq: i64,
    pub read_seq: i64,
    pub delivered_seq: i64,
    /// The user sees nothing below this seq (joined late, or cleared).
    pub min_seq: i64,
    /// 0 receive, 1 do not receive, 2 receive without push.
    pub recv_msg_opt: i32,
    pub is_pinned: bool,
    /// Hidden from the user's conversation list (a client-side choice the
    /// server keeps for every device).
    pub is_hidden: bool,
    pub ex: String,
    pub updated_at: Millis,
}

impl UserConversation {
    /// Messages the user has not read.
    pub fn unread(&self) -> i64 {
        (self.max_seq - self.read_seq.max(self.min_seq - 1)).max(0)
    }

    /// Messages not yet delivered to any device of the user.
    pub fn undelivered(&self) -> i64 {
        (self.max_seq - self.delivered_seq.max(self.read_seq).max(self.min_seq - 1)).max(0)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationPatch {
    pub recv_msg_opt: Option<i32>,
    pub is_pinned: Option<bool>,
    pub is_hidden: Option<bool>,
    pub ex: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conversation_ids_are_sorted() {
        let a = UserId::parse("a", "alice").unwrap();
        let b = UserId::parse("b", "bob").unwrap();
        assert_eq!(single_conversation_id(&a, &b), "si_alice_bob");
        assert_eq!(single_conversation_id(&b, &a), "si_alice_bob");
    }

    #[test]
    fn content_shapes() {
        assert!(validate_content(101, &json!({"text": "hi"})).is_ok());
        let e = validate_content(101, &json!({"txt": "hi"})).unwrap_err();
        assert_eq!(
            e.client_message(),
            "content.text: missing for contentType 101"
        );
        assert!(validate_content(110, &json!({"data": "{}"})).is_ok());
        assert!(validate_content(110, &json!({"description": "x"})).is_err());
        assert!(validate_content(111, &json!({"revokeMsgClientID": "c1"})).is_ok());
        assert!(validate_content(111, &json!({})).is_err());
        assert!(validate_content(109, &json!({"latitude": 1.5, "longitude": 2})).is_ok());
        assert!(validate_content(109, &json!({"latitude": "1"})).is_err());
        assert!(validate_content(999, &json!({})).is_err());
        assert!(validate_content(101, &json!("text")).is_err());
    }

    #[test]
    fn unread_counts() {
        let uc = UserConversation {
            user_id: UserId::parse("u", "u").unwrap(),
            conversation_id: "g_1".into(),
            session_type: SessionType::Group,
            peer_id: "1".into(),
            max_seq: 10,
            read_seq: 3,
            delivered_seq: 8,
            min_seq: 6,
            recv_msg_opt: 0,
            is_pinned: false,
            is_hidden: false,
            ex: String::new(),
            updated_at: 0,
        };
        assert_eq!(uc.unread(), 5, "seqs 6..=10");
        assert_eq!(uc.undelivered(), 2);
    }
}
