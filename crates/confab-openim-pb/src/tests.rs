//! Wire checks. Byte strings marked "JS SDK" were produced by the encoders
//! of `@openim/protocol` 0.0.7 (the protobuf package of `@openim/client-sdk`
//! 0.0.14), so they pin our numbering to what the browser client really sends
//! and expects.

use std::collections::BTreeMap;

use prost::Message;

use crate::openim::{conversation, jssdk, msg, sdkws};

fn hex(s: &str) -> Vec<u8> {
    let digits = s.as_bytes().chunks_exact(2);
    assert!(digits.remainder().is_empty(), "odd hex length");
    digits
        .map(|pair| {
            let pair = std::str::from_utf8(pair).unwrap_or_else(|e| panic!("bad hex: {e}"));
            u8::from_str_radix(pair, 16).unwrap_or_else(|e| panic!("bad hex: {e}"))
        })
        .collect()
}

fn decode<M: Message + Default>(bytes: &[u8]) -> M {
    M::decode(bytes).unwrap_or_else(|e| panic!("decode failed: {e}"))
}

#[test]
fn msg_data_round_trips_with_content_bytes() {
    let original = sdkws::MsgData {
        send_id: "u1".into(),
        recv_id: "u2".into(),
        client_msg_id: "c1".into(),
        server_msg_id: "s1".into(),
        sender_platform_id: 5,
        session_type: 1,
        msg_from: 100,
        content_type: 101,
        content: br#"{"content":"hello"}"#.to_vec(),
        seq: 42,
        send_time: 1_700_000_000_000,
        create_time: 1_700_000_000_000,
        status: 2,
        options: BTreeMap::from([("history".to_owned(), false), ("push".to_owned(), true)]),
        offline_push_info: Some(sdkws::OfflinePushInfo {
            title: "t".into(),
            ..Default::default()
        }),
        at_user_id_list: vec!["u3".into()],
        key_version: 0,
        dst_user_ids: vec!["u2".into()],
        ..Default::default()
    };
    let bytes = original.encode_to_vec();
    let back: sdkws::MsgData = decode(&bytes);
    assert_eq!(back, original);
    assert_eq!(back.content, br#"{"content":"hello"}"#);
}

#[test]
fn get_max_seq_req_is_field_one_string() {
    // Built by hand: field 1, wire type 2 => 0x0a; length 2; "u1".
    let bytes = [0x0a, 0x02, 0x75, 0x31];
    let req: sdkws::GetMaxSeqReq = decode(&bytes);
    assert_eq!(req.user_id, "u1");
    assert_eq!(req.encode_to_vec(), bytes);
}

#[test]
fn msg_data_matches_js_sdk_encoding() {
    // JS SDK: a text message as `sendMessage` builds it (options {history:false},
    // keyVersion 0, dstUserIDs []).
    let js = hex(concat!(
        "0a027531120275322202633130053a02416c48015064586562107b22636f6e74656e74",
        "223a226869227d7880d095ffbc31800180d095ffbc318801019a01090a07686973746f",
        "7279aa01027533"
    ));
    let m: sdkws::MsgData = decode(&js);
    assert_eq!(m.send_id, "u1");
    assert_eq!(m.recv_id, "u2");
    assert_eq!(m.client_msg_id, "c1");
    assert_eq!(m.sender_platform_id, 5);
    assert_eq!(m.sender_nickname, "Al");
    assert_eq!(m.session_type, 1);
    assert_eq!(m.msg_from, 100);
    assert_eq!(m.content_type, 101);
    assert_eq!(m.content, br#"{"content":"hi"}"#);
    assert_eq!(m.send_time, 1_700_000_000_000);
    assert_eq!(m.create_time, 1_700_000_000_000);
    assert_eq!(m.status, 1);
    assert_eq!(m.options.get("history"), Some(&false));
    assert_eq!(m.at_user_id_list, ["u3"]);
    assert_eq!(m.encode_to_vec(), js);
}

#[test]
fn msg_data_extension_fields_are_40_and_41() {
    let m = sdkws::MsgData {
        key_version: 3,
        dst_user_ids: vec!["u9".into()],
        ..Default::default()
    };
    // 40 << 3 | 0 = 320 => c0 02; 41 << 3 | 2 = 330 => ca 02.
    assert_eq!(m.encode_to_vec(), hex("c00203ca02027539"));
}

#[test]
fn pull_message_by_seqs_req_matches_js_sdk() {
    let js = hex("0a02753112100a0873695f75315f7532100118142014");
    let req: sdkws::PullMessageBySeqsReq = decode(&js);
    assert_eq!(req.user_id, "u1");
    assert_eq!(
        req.seq_ranges,
        [sdkws::SeqRange {
            conversation_id: "si_u1_u2".into(),
            begin: 1,
            end: 20,
            num: 20,
        }]
    );
    assert_eq!(req.order(), sdkws::PullOrder::Asc);
    assert_eq!(req.encode_to_vec(), js);
}

#[test]
fn get_seq_message_req_matches_js_sdk() {
    // The JS SDK always writes the packed `seqs` field, even when empty.
    let js = hex("0a02753112081201631a0303ac0212051201641a00");
    let req: msg::GetSeqMessageReq = decode(&js);
    assert_eq!(req.user_id, "u1");
    assert_eq!(
        req.conversations,
        [
            msg::ConversationSeqs {
                conversation_id: "c".into(),
                seqs: vec![3, 300],
            },
            msg::ConversationSeqs {
                conversation_id: "d".into(),
                seqs: vec![],
            },
        ]
    );
}

#[test]
fn has_read_and_max_seq_pair_matches_js_sdk() {
    let js_req = hex("0a027531120161120162");
    let req: msg::GetConversationsHasReadAndMaxSeqReq = decode(&js_req);
    assert_eq!(req.user_id, "u1");
    assert_eq!(req.conversation_ids, ["a", "b"]);
    assert_eq!(req.encode_to_vec(), js_req);

    let resp = msg::GetConversationsHasReadAndMaxSeqResp {
        seqs: BTreeMap::from([(
            "a".to_owned(),
            msg::Seqs {
                max_seq: 9,
                has_read_seq: 4,
                max_seq_time: 1_700_000_000_000,
            },
        )]),
    };
    assert_eq!(
        resp.encode_to_vec(),
        hex("0a100a0161120b080910041880d095ffbc31")
    );
}

#[test]
fn gateway_responses_match_js_sdk() {
    let send = sdkws::UserSendMsgResp {
        server_msg_id: "s1".into(),
        client_msg_id: "c1".into(),
        send_time: 1_700_000_000_123,
    };
    assert_eq!(send.encode_to_vec(), hex("0a0273311202633118fbd095ffbc31"));

    let max = sdkws::GetMaxSeqResp {
        max_seqs: BTreeMap::from([("a".to_owned(), 7)]),
        min_seqs: BTreeMap::from([("a".to_owned(), 1)]),
    };
    assert_eq!(max.encode_to_vec(), hex("0a050a0161100712050a01611001"));
}

#[test]
fn online_status_frames_match_js_sdk() {
    let js_req = hex("0a02753212027533");
    let req: sdkws::SubUserOnlineStatus = decode(&js_req);
    assert_eq!(req.subscribe_user_id, ["u2"]);
    assert_eq!(req.unsubscribe_user_id, ["u3"]);

    let tips = sdkws::SubUserOnlineStatusTips {
        subscribers: vec![sdkws::SubUserOnlineStatusElem {
            user_id: "u2".into(),
            online_platform_ids: vec![1, 5],
        }],
    };
    // onlinePlatformIDs is packed, as the JS SDK writes and reads it.
    assert_eq!(tips.encode_to_vec(), hex("0a080a02753212020105"));
}

#[test]
fn push_messages_round_trip() {
    let pulled = sdkws::PullMsgs {
        msgs: vec![sdkws::MsgData {
            seq: 7,
            content: b"{}".to_vec(),
            ..Default::default()
        }],
        is_end: true,
        end_seq: 0,
    };
    let push = sdkws::PushMessages {
        msgs: BTreeMap::from([("si_u1_u2".to_owned(), pulled.clone())]),
        notification_msgs: BTreeMap::new(),
    };
    let back: sdkws::PushMessages = decode(&push.encode_to_vec());
    assert_eq!(back.msgs.get("si_u1_u2"), Some(&pulled));
}

#[test]
fn jssdk_requests_match_js_sdk() {
    let active: jssdk::GetActiveConversationsReq = decode(&hex("0a0275311014"));
    assert_eq!(active.owner_user_id, "u1");
    assert_eq!(active.count, 20);

    let listed: jssdk::GetConversationsReq = decode(&hex("0a027531120873695f75315f7532"));
    assert_eq!(listed.owner_user_id, "u1");
    assert_eq!(listed.conversation_ids, ["si_u1_u2"]);
}

#[test]
fn jssdk_response_matches_js_sdk() {
    let resp = jssdk::GetActiveConversationsResp {
        unread_count: 5,
        conversations: vec![jssdk::ConversationMsg {
            conversation: Some(conversation::Conversation {
                owner_user_id: "u1".into(),
                conversation_id: "sg_g1".into(),
                conversation_type: 3,
                group_id: "g1".into(),
                is_pinned: true,
                max_seq: 9,
                msg_destruct_time: 604_800,
                ..Default::default()
            }),
            group: Some(sdkws::GroupInfo {
                group_id: "g1".into(),
                group_name: "G".into(),
                owner_user_id: "u1".into(),
                create_time: 1,
                member_count: 2,
                creator_user_id: "u1".into(),
                group_type: 2,
                ..Default::default()
            }),
            max_seq: 9,
            read_seq: 4,
            ..Default::default()
        }],
    };
    let js = hex(concat!(
        "080512360a190a027531120573675f6731200332026731380170097880f5242a150a02",
        "673112014732027531380140025a027531600230093804"
    ));
    assert_eq!(resp.encode_to_vec(), js);
    assert_eq!(decode::<jssdk::GetActiveConversationsResp>(&js), resp);
}
