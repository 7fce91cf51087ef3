//! The shapes of the incremental sync routes: request fields as the SDKs
//! send them, the answers, OpenIM's `Conversation` record and its `idHash`.
//! Friends, groups and members take the v3 shapes of `wire_v3.rs`.

use super::super::super::wire_v3::{GroupV3, MemberV3};
use confab_core::message::{SessionType, UserConversation};
use confab_wire::openim_v3::{openim_conversation_id, SUPER_GROUP};
use md5::{Digest, Md5};
use serde::{Deserialize, Deserializer, Serialize};

/// A uint64 as OpenIM's clients send one: a JSON number (the JS SDK) or
/// the decimal string protobuf's JSON makes of it (the Go SDK); absent or
/// `null` is 0.
pub fn uint64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        N(u64),
        S(String),
    }
    match Option::<Either>::deserialize(d)? {
        None => Ok(0),
        Some(Either::N(n)) => Ok(n),
        Some(Either::S(s)) if s.is_empty() => Ok(0),
        Some(Either::S(s)) => s.parse().map_err(|_| {
            serde::de::Error::custom(format!("expected an unsigned integer, got {s:?}"))
        }),
    }
}

/// The client's version as the store counts (a version past `i64::MAX`
/// is none the log has had, so the answer is then everything).
pub fn version(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// One list's answer (`GetIncrementalFriendsResp` and its kin): everything
/// in `insert` when `full`, else what changed since the client's version.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Incremental<T> {
    pub version: i64,
    #[serde(rename = "versionID")]
    pub version_id: String,
    pub full: bool,
    pub insert: Vec<T>,
    pub update: Vec<T>,
    pub delete: Vec<String>,
    /// Confab keeps no custom order of friends or members.
    pub sort_version: i64,
}

/// One group's answer in the member batch. `insert` and `update` are left
/// out when empty: the JS SDK caches `insert || update` and reads the
/// group id of its first item, so an empty list fails its login sync.
/// `group` comes when the client's copy may be stale.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MembersIncremental {
    pub version: i64,
    #[serde(rename = "versionID")]
    pub version_id: String,
    pub full: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupV3>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub insert: Vec<MemberV3>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub update: Vec<MemberV3>,
    pub delete: Vec<String>,
    pub sort_version: i64,
}

/// Every id of a list (`GetFullFriendUserIDsResp` and its kin, whose id
/// field each route names). `equal`: the client's `idHash` is that of
/// these ids, which are then not sent.
#[derive(Serialize)]
pub struct FullIds {
    pub version: i64,
    #[serde(rename = "versionID")]
    pub version_id: String,
    pub equal: bool,
}

/// OpenIM's `conversation.Conversation`. Confab has no private chats,
/// burning, destruction or @-mention state: those fields show their
/// defaults. Its `maxSeq` is the conversation's last seq, as the JS SDK
/// routes (`jssdk.rs`) show it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationV3 {
    #[serde(rename = "ownerUserID")]
    owner_user_id: String,
    #[serde(rename = "conversationID")]
    conversation_id: String,
    recv_msg_opt: i32,
    conversation_type: i32,
    #[serde(rename = "userID")]
    user_id: String,
    #[serde(rename = "groupID")]
    group_id: String,
    is_pinned: bool,
    attached_info: String,
    is_private_chat: bool,
    group_at_type: i32,
    ex: String,
    burn_duration: i32,
    min_seq: i64,
    max_seq: i64,
    msg_destruct_time: i64,
    latest_msg_destruct_time: i64,
    is_msg_destruct: bool,
    /// Not OpenIM's: the JS SDK merges a synced conversation into its own
    /// record, so this is how a read on another device lowers its count.
    unread_count: i64,
}

impl From<&UserConversation> for ConversationV3 {
    fn from(c: &UserConversation) -> Self {
        let group = c.session_type.is_group();
        ConversationV3 {
            owner_user_id: c.user_id.to_string(),
            conversation_id: openim_conversation_id(&c.conversation_id),
            recv_msg_opt: c.recv_msg_opt,
            conversation_type: if group {
                SUPER_GROUP
            } else {
                SessionType::Single as i32
            },
            user_id: if group {
                String::new()
            } else {
                c.peer_id.clone()
            },
            group_id: if group {
                c.peer_id.clone()
            } else {
                String::new()
            },
            is_pinned: c.is_pinned,
            attached_info: String::new(),
            is_private_chat: false,
            group_at_type: 0,
            ex: c.ex.clone(),
            burn_duration: 0,
            min_seq: c.min_seq,
            max_seq: c.max_seq,
            msg_destruct_time: 0,
            latest_msg_destruct_time: 0,
            is_msg_destruct: false,
            unread_count: c.unread(),
        }
    }
}

/// OpenIM's `idHash` of ids (its `hashutil.IdHash`): the first eight bytes,
/// big-endian, of the MD5 of the list as Go's `encoding/json` writes it; 0
/// for no ids. Confab hashes (and lists) the ids sorted, so a client that
/// keeps them in any order gets the same hash by sorting them first.
pub fn id_hash(sorted_ids: &[String]) -> u64 {
    if sorted_ids.is_empty() {
        return 0;
    }
    let mut json = String::from("[");
    for (i, id) in sorted_ids.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        go_json_string(&mut json, id);
    }
    json.push(']');
    let digest = Md5::digest(json.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// A string as Go's `encoding/json` writes it (HTML-safe, since Go 1.22):
/// its escapes differ from serde_json's for `<`, `>`, `&`, U+2028 and
/// U+2029, which change the hash.
fn go_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn id_hash_is_openims() {
        assert_eq!(id_hash(&[]), 0, "no ids: 0, as the SDKs send at first");
        // The first 8 bytes of md5(`["alice","bob"]`), big-endian.
        assert_eq!(id_hash(&ids(&["alice", "bob"])), 5436827266495222696);
        assert_ne!(id_hash(&ids(&["alice"])), id_hash(&ids(&["bob"])));
    }

    #[test]
    fn strings_are_escaped_as_go_does() {
        let mut out = String::new();
        go_json_string(&mut out, "a<b>&\"\\\n\u{1}\u{2028}é");
        assert_eq!(out, r#""a\u003cb\u003e\u0026\"\\\n\u0001\u2028é""#);
    }

    #[test]
    fn uint64_takes_numbers_and_strings() {
        #[derive(Deserialize)]
        struct V {
            #[serde(default, deserialize_with = "uint64")]
            v: u64,
        }
        let parse = |s: &str| serde_json::from_str::<V>(s).map(|v| v.v);
        assert_eq!(parse(r#"{"v": 18446744073709551615}"#).unwrap(), u64::MAX);
        assert_eq!(parse(r#"{"v": "42"}"#).unwrap(), 42);
        assert_eq!(parse(r#"{"v": null}"#).unwrap(), 0);
        assert_eq!(parse(r#"{}"#).unwrap(), 0);
        assert!(parse(r#"{"v": -1}"#).is_err());
        assert!(parse(r#"{"v": "x"}"#).is_err());
        assert_eq!(version(u64::MAX), i64::MAX);
    }
}
