//! Request bodies, content types and query strings: any bytes, any JSON,
//! objects of the dialects' own field names with odd values, form bodies
//! and multipart bodies with odd boundaries and parts.

use proptest::prelude::*;
use serde_json::{Map, Value};

/// Field names the dialects read (OpenIM's camelCase, Easemob's, the app
/// API's and yunbay's snake case), so generated objects reach the checks
/// past the first missing field.
pub const FIELDS: &[&str] = &[
    "userID",
    "userIDList",
    "userIDs",
    "groupID",
    "groupIDList",
    "groupIDs",
    "recvID",
    "sendID",
    "sessionType",
    "contentType",
    "content",
    "clientMsgID",
    "serverMsgID",
    "conversationID",
    "conversationIDs",
    "conversationIDList",
    "seq",
    "seqs",
    "seqList",
    "pagination",
    "pageNumber",
    "showNumber",
    "memberList",
    "memberUserIDs",
    "friendUserID",
    "friendUserIDs",
    "fromUserID",
    "toUserID",
    "ownerUserID",
    "ownerUserIDs",
    "blackUserID",
    "handleResult",
    "handleMsg",
    "reqMsg",
    "remark",
    "nickname",
    "faceURL",
    "ex",
    "groupInfo",
    "groupName",
    "roleLevel",
    "muteEndTime",
    "mutedSeconds",
    "platform",
    "platformID",
    "secret",
    "token",
    "operationID",
    "msg",
    "msgs",
    "recvMsgOpt",
    "isPinned",
    "versionID",
    "version",
    "idHash",
    "uploadID",
    "parts",
    "size",
    "partSize",
    "name",
    "contentType",
    "users",
    "userInfo",
    "reqList",
    "deleteMember",
    "newOwnerUserID",
    "kickedUserIDs",
    "invitedUserIDs",
    "grant_type",
    "client_id",
    "client_secret",
    "username",
    "password",
    "newpassword",
    "usernames",
    "limit",
    "cursor",
    "target",
    "target_type",
    "from",
    "type",
    "owner",
    "members",
    "description",
    "maxusers",
    "chatroom_id",
    "user_id",
    "user_ids",
    "phone",
    "nation_code",
    "check_code",
    "device",
    "device_id",
    "act",
    "signature",
    "to",
    "data",
    "action",
    "ack",
    "avatar",
    "birthday",
    "user_type",
    "expire",
    "kind",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<String>(),
        3 => "[a-z0-9_]{0,10}",
        1 => prop::sample::select(vec![
            "", " ", "fuzzer", "openIM123456", "admin", "16522222222", "86", "si_a_b", "sg_g",
            "g_g", "sn_a", "n_a", "b_all", "\u{0}", "%00", "\\u0000", "💬", "../../etc/passwd",
        ])
        .prop_map(str::to_owned),
        1 => (prop::sample::select(vec!["a", "é", "💬"]), 200usize..5000)
            .prop_map(|(s, n)| s.repeat(n)),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop::sample::select(vec![
            i64::MIN,
            i64::MAX,
            -1,
            0,
            1,
            2,
            3,
            4,
            5,
            8,
            20,
            100,
            101,
            1000,
            1201,
        ])
        .prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        prop::sample::select(vec![
            "1e400",
            "18446744073709551616",
            "-9223372036854775809",
            "1.5"
        ])
        .prop_filter_map("a number", |t| serde_json::from_str(t).ok()),
    ]
}

/// Any JSON value, a few levels deep.
pub fn json_value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((field(), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
    .boxed()
}

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(FIELDS).prop_map(str::to_owned),
        1 => text(),
    ]
}

/// An object of the dialects' field names with any values; `token` is
/// the Easemob app token when given, so its routes parse the rest.
pub fn object(token: Option<&'static str>) -> BoxedStrategy<Value> {
    (
        prop::collection::vec((field(), json_value()), 0..10),
        any::<bool>(),
    )
        .prop_map(move |(pairs, with_token)| {
            let mut object: Map<String, Value> = pairs.into_iter().collect();
            if let (Some(token), true) = (token, with_token) {
                object.insert("token".into(), Value::from(token));
            }
            Value::Object(object)
        })
        .boxed()
}

/// A form body: the dialects' field names with any text, encoded, or
/// raw text with broken escapes.
pub fn form() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        3 => prop::collection::vec((field(), text()), 0..8).prop_map(|pairs| {
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish()
                .into_bytes()
        }),
        1 => "([a-z_]{0,8}=?[a-z0-9%+&=]{0,12}&?){0,6}".prop_map(String::into_bytes),
    ]
    .boxed()
}

/// A multipart body and its content type: parts named as the avatar
/// upload reads them or not, with or without file names and types, the
/// boundary given right, wrong or broken, the closing line there or not.
pub fn multipart() -> BoxedStrategy<(Vec<u8>, String)> {
    let part = (
        prop_oneof![
            Just("avatar".to_owned()),
            Just("nickname".to_owned()),
            text()
        ],
        prop::option::of(text()),
        prop::option::of(prop::sample::select(vec![
            "image/png",
            "text/plain",
            "application/octet-stream",
            "",
        ])),
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..256),
            text().prop_map(String::into_bytes),
            Just(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x10\0\0\0\x10\0\x08\x06\0\0\0".to_vec()),
        ],
    );
    (
        prop_oneof![
            Just("XyZzy".to_owned()),
            "[A-Za-z0-9'()+_,./:=?-]{1,70}",
            text()
        ],
        prop::collection::vec(part, 0..4),
        0u8..4,
        any::<bool>(),
    )
        .prop_map(|(boundary, parts, how, closed)| {
            let mut body = Vec::new();
            for (name, filename, content_type, bytes) in parts {
                body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
                let mut disposition = format!("Content-Disposition: form-data; name=\"{name}\"");
                if let Some(f) = filename {
                    disposition.push_str(&format!("; filename=\"{f}\""));
                }
                body.extend_from_slice(disposition.as_bytes());
                body.extend_from_slice(b"\r\n");
                if let Some(t) = content_type {
                    body.extend_from_slice(format!("Content-Type: {t}\r\n").as_bytes());
                }
                body.extend_from_slice(b"\r\n");
                body.extend_from_slice(&bytes);
                body.extend_from_slice(b"\r\n");
            }
            if closed {
                body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
            }
            let content_type = match how {
                0 => format!("multipart/form-data; boundary={boundary}"),
                1 => format!("multipart/form-data; boundary=\"{boundary}\""),
                2 => "multipart/form-data; boundary=other".to_owned(),
                _ => "multipart/form-data".to_owned(),
            };
            (body, content_type)
        })
        .boxed()
}

/// A content type: the right ones, wrong ones and nonsense.
pub fn content_type() -> BoxedStrategy<Option<String>> {
    prop_oneof![
        1 => Just(None),
        3 => prop::sample::select(vec![
            "application/json",
            "application/json; charset=utf-8",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=XyZzy",
            "application/x-protobuf",
            "text/plain",
            "application/jsonx",
            "",
            ";;;",
        ])
        .prop_map(|t| Some(t.to_owned())),
        1 => "[ -~]{0,40}".prop_map(Some),
    ]
    .boxed()
}

/// A query string (without `?`), or none.
pub fn query() -> BoxedStrategy<Option<String>> {
    prop_oneof![
        2 => Just(None),
        2 => prop::collection::vec((field(), text()), 0..5).prop_map(|pairs| {
            let mut query = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish();
            // A URI holds at most 64 KiB; hyper refuses longer ones first.
            // The encoded query is ASCII: any byte is a char boundary.
            query.truncate(8 * 1024);
            Some(query)
        }),
        1 => "[a-z_=&%0-9+]{0,30}".prop_map(Some),
    ]
    .boxed()
}

/// A path segment for `{x}` in a route: ids, numbers, escapes, nonsense.
pub fn segment() -> BoxedStrategy<String> {
    prop_oneof![
        "[a-zA-Z0-9_.-]{1,20}",
        any::<i64>().prop_map(|n| n.to_string()),
        Just("99999999999999999999".to_owned()),
        Just("%00".to_owned()),
        Just("%FF".to_owned()),
        Just("..".to_owned()),
        Just("%2e%2e".to_owned()),
    ]
    .boxed()
}

/// A body of any kind and the content type it claims (which may not be
/// its own).
pub fn body(token: Option<&'static str>) -> BoxedStrategy<(Vec<u8>, Option<String>)> {
    prop_oneof![
        2 => (prop::collection::vec(any::<u8>(), 0..512), content_type()),
        2 => (json_value().prop_map(|v| v.to_string().into_bytes()), content_type()),
        4 => (object(token).prop_map(|v| v.to_string().into_bytes()), content_type()),
        2 => (form(), content_type()),
        1 => multipart().prop_map(|(b, t)| (b, Some(t))),
    ]
    .boxed()
}
