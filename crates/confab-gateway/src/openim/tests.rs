//! The v3 codec's frames, byte for byte where the SDK parses them.

use super::*;
use base64::Engine;
use confab_core::message::{Message, MessageStatus, SessionType};
use confab_core::{Platform, UserId};
use std::sync::Arc;

fn caller() -> Caller {
    Caller {
        user_id: UserId::parse("u", "alice").unwrap(),
        platform: Platform::Web,
        is_admin: false,
    }
}

fn binary(ident: i32, data: &[u8]) -> Frame {
    let frame = serde_json::json!({
        "reqIdentifier": ident, "msgIncr": "m1", "sendID": "alice", "operationID": "op",
        "data": base64::engine::general_purpose::STANDARD.encode(data),
    });
    Frame::Binary(serde_json::to_vec(&frame).unwrap().into())
}

fn envelope(frame: &Frame) -> serde_json::Value {
    match frame {
        Frame::Binary(b) => serde_json::from_slice(b).unwrap(),
        other => panic!("expected binary, got {other:?}"),
    }
}

fn bytes_of(frame: &Frame) -> Vec<u8> {
    let e = envelope(frame);
    base64::engine::general_purpose::STANDARD
        .decode(e["data"].as_str().unwrap())
        .unwrap()
}

fn message(conversation: &str, seq: i64, content_type: i32, content: &str) -> Message {
    Message {
        conversation_id: conversation.into(),
        seq,
        server_msg_id: format!("s{seq}"),
        client_msg_id: String::new(),
        sender_id: UserId::parse("u", "bob").unwrap(),
        sender_platform: 5,
        sender_nickname: "Bob".into(),
        sender_face_url: String::new(),
        session_type: if conversation.starts_with("g_") {
            SessionType::Group
        } else {
            SessionType::Single
        },
        recv_id: conversation.trim_start_matches("g_").into(),
        content_type,
        content: content.into(),
        send_time: 1000,
        status: MessageStatus::Normal,
        at_user_ids: Vec::new(),
        ex: String::new(),
    }
}

#[test]
fn every_request_identifier_decodes() {
    let codec = OpenImCodec::PLAIN;
    let decode = |ident, data: &[u8]| codec.decode(&caller(), binary(ident, data));
    assert!(matches!(decode(1001, &[]), Ok((_, Request::MaxSeqs))));
    let pull = sdkws::PullMessageBySeqsReq {
        user_id: "alice".into(),
        seq_ranges: vec![sdkws::SeqRange {
            conversation_id: "sg_team".into(),
            begin: 1,
            end: 300,
            num: 10,
        }],
        order: sdkws::PullOrder::Desc as i32,
    };
    match decode(1002, &pull.encode_to_vec()) {
        Ok((_, Request::PullRanges(r))) => {
            assert_eq!(
                (
                    r[0].conversation_id.as_str(),
                    r[0].begin,
                    r[0].end,
                    r[0].limit
                ),
                ("g_team", 291, 300, 10)
            );
        }
        other => panic!("{other:?}"),
    }
    let send = sdkws::MsgData {
        send_id: "alice".into(),
        group_id: "team".into(),
        session_type: 3,
        content_type: 101,
        content: br#"{"content":"hi"}"#.to_vec(),
        ..Default::default()
    };
    match decode(1003, &send.encode_to_vec()) {
        Ok((_, Request::Send(s))) => {
            assert_eq!(s.to.id(), "team");
            assert_eq!(s.message.content.body, serde_json::json!({"text": "hi"}));
        }
        other => panic!("{other:?}"),
    }
    let seqs = pb_msg::GetSeqMessageReq {
        user_id: "alice".into(),
        conversations: vec![pb_msg::ConversationSeqs {
            conversation_id: "sg_team".into(),
            seqs: vec![3, 1],
        }],
        order: 0,
    };
    match decode(1005, &seqs.encode_to_vec()) {
        Ok((tag, Request::PullSeqs(c))) => {
            assert_eq!(c, vec![("g_team".to_owned(), vec![3, 1])]);
            assert_eq!(tag.asked, vec!["sg_team".to_owned()]);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(decode(1006, &[]), Ok((_, Request::MaxSeqs))));
    assert!(matches!(decode(2003, &[]), Ok((_, Request::Logout))));
    assert!(matches!(decode(2004, &[]), Ok((_, Request::Ping))));
    let sub = sdkws::SubUserOnlineStatus {
        subscribe_user_id: vec!["bob".into()],
        unsubscribe_user_id: Vec::new(),
    };
    match decode(2005, &sub.encode_to_vec()) {
        Ok((
            tag,
            Request::OnlineStatus {
                subscribe: users,
                unsubscribe,
            },
        )) => {
            assert_eq!(users[0].as_str(), "bob");
            assert!(unsubscribe.is_empty());
            let answer = codec
                .reply(
                    &tag,
                    Reply::OnlineStatus(vec![(users[0].clone(), vec![Platform::Web])]),
                )
                .unwrap();
            let tips =
                sdkws::SubUserOnlineStatusTips::decode(bytes_of(&answer).as_slice()).unwrap();
            assert_eq!(tips.subscribers[0].online_platform_ids, vec![5]);
        }
        other => panic!("{other:?}"),
    }
    let (tag, e) = decode(4242, &[]).unwrap_err();
    assert_eq!((tag.ident, tag.msg_incr.as_str()), (4242, "m1"));
    assert!(e.client_message().contains("4242 is not a request"));
}

#[test]
fn malformed_frames_are_errors_with_their_tag() {
    let codec = OpenImCodec::PLAIN;
    let (tag, e) = codec
        .decode(&caller(), binary(1003, &[0xff, 0xff]))
        .unwrap_err();
    assert_eq!(tag.operation_id, "op");
    let frame = codec.error(&tag, &e);
    let v = envelope(&frame);
    assert_eq!(
        (v["reqIdentifier"].clone(), v["errCode"].clone()),
        (serde_json::json!(1003), serde_json::json!(1001))
    );
    assert!(v["errMsg"]
        .as_str()
        .unwrap()
        .starts_with("data: not protobuf"));
    let (_, e) = codec
        .decode(&caller(), Frame::Binary(b"{not json".to_vec().into()))
        .unwrap_err();
    assert!(e.client_message().starts_with("frame: "));
    let (_, e) = codec
        .decode(&caller(), Frame::Text(r#"{"type":"hello"}"#.into()))
        .unwrap_err();
    assert!(e.client_message().contains("ping"));
    assert!(matches!(
        codec.decode(&caller(), Frame::Text(r#"{"type":"ping"}"#.into())),
        Ok((_, Request::Ping))
    ));
    assert_eq!(
        codec.reply(&Tag::default(), Reply::Pong),
        Some(Frame::Text(r#"{"type":"pong"}"#.into()))
    );
}

#[test]
fn gzip_sessions_zip_both_ways() {
    let codec = OpenImCodec::GZIP;
    let Frame::Binary(plain) = binary(1006, &[]) else {
        unreachable!()
    };
    let zipped = Frame::Binary(envelope::gzip(&plain).into());
    let (tag, _) = codec.decode(&caller(), zipped).unwrap();
    let Some(Frame::Binary(answer)) = codec.reply(&tag, Reply::MaxSeqs(Vec::new())) else {
        panic!("an answer")
    };
    let v: serde_json::Value =
        serde_json::from_slice(&envelope::gunzip(&answer, 1 << 20).unwrap()).unwrap();
    assert_eq!(v["reqIdentifier"], serde_json::json!(1006));
    assert_ne!(codec.protocol(), OpenImCodec::PLAIN.protocol());
}

#[test]
fn pushes_place_chat_and_notices() {
    let codec = OpenImCodec::PLAIN;
    let chat = message("si_alice_bob", 4, 101, r#"{"text":"hi"}"#);
    let frame = codec.event(&Payload::Message(Arc::new(chat))).unwrap();
    assert_eq!(envelope(&frame)["reqIdentifier"], serde_json::json!(2001));
    let push = sdkws::PushMessages::decode(bytes_of(&frame).as_slice()).unwrap();
    let m = &push.msgs["si_alice_bob"].msgs[0];
    assert_eq!(
        (m.seq, m.content.as_slice(), m.client_msg_id.as_str()),
        (4, br#"{"content":"hi"}"#.as_slice(), "s4")
    );
    assert!(push.notification_msgs.is_empty());

    let created = message(
        "g_team",
        1,
        1501,
        r#"{"group_id":"team","group_name":"T","owner_user_id":"bob","op_user_id":"bob","member_user_ids":["alice"]}"#,
    );
    let frame = codec.event(&Payload::Message(Arc::new(created))).unwrap();
    let push = sdkws::PushMessages::decode(bytes_of(&frame).as_slice()).unwrap();
    let in_chat = &push.msgs["sg_team"].msgs[0];
    let notice = &push.notification_msgs["n_team"].msgs[0];
    assert_eq!(
        (in_chat.seq, in_chat.session_type, in_chat.group_id.as_str()),
        (1, 3, "team")
    );
    let content: serde_json::Value = serde_json::from_slice(&notice.content).unwrap();
    let tips: serde_json::Value =
        serde_json::from_str(content["detail"].as_str().unwrap()).unwrap();
    assert_eq!(tips["group"]["groupName"], serde_json::json!("T"));
    assert_eq!(tips["memberList"][0]["userID"], serde_json::json!("alice"));

    let read = Payload::Read {
        reader: UserId::parse("u", "bob").unwrap(),
        conversation_id: "si_alice_bob".into(),
        seq: 4,
    };
    let push =
        sdkws::PushMessages::decode(bytes_of(&codec.event(&read).unwrap()).as_slice()).unwrap();
    let changed = &push.notification_msgs["n_bob"].msgs[0];
    assert_eq!(
        changed.content_type, 1300,
        "the reader's other devices sync"
    );
    let receipt = &push.notification_msgs["n_alice_bob"].msgs[0];
    assert_eq!(receipt.content_type, 2200);
    let content: serde_json::Value = serde_json::from_slice(&receipt.content).unwrap();
    let tips: serde_json::Value =
        serde_json::from_str(content["detail"].as_str().unwrap()).unwrap();
    assert_eq!(
        tips,
        serde_json::json!({"markAsReadUserID": "bob", "conversationID": "si_alice_bob", "seqs": [4], "hasReadSeq": 4})
    );
    assert_eq!(
        envelope(&codec.kick("x"))["reqIdentifier"],
        serde_json::json!(2002)
    );
}

#[test]
fn an_empty_answer_is_still_a_message() {
    let codec = OpenImCodec::PLAIN;
    let tag = Tag {
        ident: 1002,
        ..Tag::default()
    };
    let frame = codec.reply(&tag, Reply::PulledRanges(Vec::new())).unwrap();
    assert_eq!(envelope(&frame)["data"], serde_json::json!("oAYA"));
    assert!(sdkws::PullMessageBySeqsResp::decode(bytes_of(&frame).as_slice()).is_ok());
}

#[test]
fn the_sender_is_echoed_its_message_with_the_operation_id() {
    let codec = OpenImCodec::PLAIN;
    let tag = Tag {
        ident: 1003,
        operation_id: "op9".into(),
        ..Tag::default()
    };
    let (frame, after) = codec
        .echo(&tag, &message("si_alice_bob", 2, 101, "{}"))
        .unwrap();
    assert!(after > std::time::Duration::ZERO);
    assert_eq!(envelope(&frame)["operationID"], serde_json::json!("op9"));
    assert!(codec
        .echo(&tag, &message("si_alice_bob", 0, 101, "{}"))
        .is_none());
}
