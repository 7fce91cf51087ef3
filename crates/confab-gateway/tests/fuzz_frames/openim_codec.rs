//! OpenIM v3's client gateway: binary frames of JSON
//! `{reqIdentifier, msgIncr, sendID, operationID, data}` whose `data` is the
//! base64 of a protobuf request, gzipped whole for `compression=gzip`
//! clients; text frames are `{"type":"ping"}`.

use crate::strategies::*;
use crate::{caller, config, USER};
use base64::Engine;
use confab_gateway::{Codec, EventEncoder, Frame, OpenImCodec, Request};
use confab_openim_pb::openim::{msg as pb_msg, sdkws};
use confab_openim_pb::Message as _;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::io::{Read, Write};

/// The request identifiers the gateway serves, and some it does not.
const IDENTS: &[i32] = &[
    1001, 1002, 1003, 1005, 1006, 2001, 2002, 2003, 2004, 2005, 0, -1,
];

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    out.write_all(bytes).unwrap();
    out.finish().unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("the server's frames are gzip");
    out
}

/// Decodes `frame` with `codec`; a refusal must be an answer frame with a
/// nonzero `errCode`, a message and no `data`, echoing the request's
/// identifiers.
fn check(codec: OpenImCodec, frame: Frame) -> Option<Request> {
    match codec.decode(&caller(), frame) {
        Ok((_, request)) => {
            if let Request::Send(send) = &request {
                assert_eq!(send.message.sender.as_str(), USER);
            }
            Some(request)
        }
        Err((tag, e)) => {
            let Frame::Binary(bytes) = codec.error(&tag, &e) else {
                panic!("v3 answers are binary")
            };
            let bytes = if codec.protocol().0 == "openim+gzip" {
                gunzip(&bytes)
            } else {
                bytes.to_vec()
            };
            let answer: Value = serde_json::from_slice(&bytes).expect("an answer is JSON");
            assert!(answer["reqIdentifier"].is_i64(), "{answer}");
            assert!(answer["msgIncr"].is_string(), "{answer}");
            assert!(answer["operationID"].is_string(), "{answer}");
            assert_ne!(answer["errCode"].as_i64().unwrap_or(0), 0, "{answer}");
            assert!(
                !answer["errMsg"].as_str().unwrap_or("").is_empty(),
                "{answer}"
            );
            assert_eq!(answer["data"], "", "{answer}");
            None
        }
    }
}

/// Both codecs, the gzip one given the frame gzipped.
fn check_both(json: &[u8]) {
    check(OpenImCodec::PLAIN, Frame::Binary(json.to_vec().into()));
    check(OpenImCodec::GZIP, Frame::Binary(gzip(json).into()));
}

fn seq_range() -> BoxedStrategy<sdkws::SeqRange> {
    (text(), edge_i64(), edge_i64(), edge_i64())
        .prop_map(|(conversation_id, begin, end, num)| sdkws::SeqRange {
            conversation_id,
            begin,
            end,
            num,
        })
        .boxed()
}

fn msg_data() -> BoxedStrategy<sdkws::MsgData> {
    (
        prop_oneof![3 => Just(USER.to_owned()), 1 => text()],
        (text(), text(), text()),
        (edge_i32(), edge_i32()),
        prop_oneof![
            json_value().prop_map(|v| v.to_string().into_bytes()),
            prop::collection::vec(any::<u8>(), 0..64),
        ],
        prop::collection::btree_map(text(), any::<bool>(), 0..4),
        prop::collection::vec(text(), 0..4),
    )
        .prop_map(
            |(
                send_id,
                (recv_id, group_id, client_msg_id),
                (session_type, content_type),
                content,
                options,
                at,
            )| {
                sdkws::MsgData {
                    send_id,
                    recv_id,
                    group_id,
                    client_msg_id,
                    session_type,
                    content_type,
                    content,
                    options,
                    at_user_id_list: at,
                    ..Default::default()
                }
            },
        )
        .boxed()
}

/// A request's protobuf `data`, valid for its identifier or another's.
fn request_data() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        (prop::collection::vec(seq_range(), 0..6), edge_i32()).prop_map(|(seq_ranges, order)| {
            sdkws::PullMessageBySeqsReq {
                user_id: USER.into(),
                seq_ranges,
                order,
            }
            .encode_to_vec()
        }),
        prop::collection::vec((text(), prop::collection::vec(edge_i64(), 0..8)), 0..6).prop_map(
            |conversations| pb_msg::GetSeqMessageReq {
                user_id: USER.into(),
                conversations: conversations
                    .into_iter()
                    .map(|(conversation_id, seqs)| pb_msg::ConversationSeqs {
                        conversation_id,
                        seqs,
                    })
                    .collect(),
                order: 0,
            }
            .encode_to_vec()
        ),
        prop::collection::vec(text(), 0..6).prop_map(|conversation_ids| {
            pb_msg::GetConversationsHasReadAndMaxSeqReq {
                user_id: USER.into(),
                conversation_ids,
            }
            .encode_to_vec()
        }),
        msg_data().prop_map(|m| m.encode_to_vec()),
        (
            prop::collection::vec(text(), 0..4),
            prop::collection::vec(text(), 0..4)
        )
            .prop_map(|(subscribe_user_id, unsubscribe_user_id)| {
                sdkws::SubUserOnlineStatus {
                    subscribe_user_id,
                    unsubscribe_user_id,
                }
                .encode_to_vec()
            }),
        any::<bool>().prop_map(|is_background| sdkws::SetAppBackgroundStatusReq {
            user_id: USER.into(),
            is_background,
        }
        .encode_to_vec()),
        prop::collection::vec(any::<u8>(), 0..128),
    ]
    .prop_flat_map(damaged)
    .boxed()
}

/// The envelope's `data`: base64 of a request (whole, cut short, without
/// padding), or no base64 at all, or not a string.
fn data_field() -> BoxedStrategy<Value> {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    prop_oneof![
        6 => request_data().prop_map(move |d| json!(b64(&d))),
        2 => (request_data(), any::<prop::sample::Index>()).prop_map(move |(d, cut)| {
            let text = b64(&d);
            let at = cut.index(text.len() + 1);
            json!(text[..at])
        }),
        1 => request_data().prop_map(|d| json!(base64::engine::general_purpose::STANDARD_NO_PAD.encode(d))),
        1 => request_data().prop_map(|d| json!(base64::engine::general_purpose::URL_SAFE.encode(d))),
        1 => text().prop_map(Value::String),
        1 => json_value(),
    ]
.boxed()
}

/// A request frame with each envelope field mostly right, sometimes of
/// the wrong type or missing.
fn near_valid_frame() -> BoxedStrategy<Value> {
    (
        prop_oneof![
            6 => prop::sample::select(IDENTS).prop_map(|i| json!(i)),
            1 => edge_i64().prop_map(|i| json!(i)),
            1 => json_value(),
        ],
        prop_oneof![4 => Just(json!(USER)), 1 => json_value()],
        prop_oneof![3 => Just(json!("m1")), 1 => json_value()],
        prop_oneof![3 => Just(json!("op")), 1 => json_value()],
        data_field(),
        0u8..8,
    )
        .prop_map(|(ident, send_id, msg_incr, operation_id, data, drop)| {
            let mut frame = serde_json::Map::new();
            for (i, (k, v)) in [
                ("reqIdentifier", ident),
                ("sendID", send_id),
                ("msgIncr", msg_incr),
                ("operationID", operation_id),
                ("data", data),
            ]
            .into_iter()
            .enumerate()
            {
                if usize::from(drop) != i {
                    frame.insert(k.to_owned(), v);
                }
            }
            Value::Object(frame)
        })
        .boxed()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_bytes_decode_or_fail_in_the_envelope(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check(OpenImCodec::PLAIN, Frame::Binary(bytes.clone().into()));
        check(OpenImCodec::GZIP, Frame::Binary(bytes.clone().into()));
        let text = String::from_utf8_lossy(&bytes).into_owned();
        check(OpenImCodec::PLAIN, Frame::Text(text.clone().into()));
        check(OpenImCodec::GZIP, Frame::Text(text.into()));
    }

    #[test]
    fn any_json_value_decodes_or_fails_in_the_envelope(value in json_value()) {
        check_both(value.to_string().as_bytes());
        check(OpenImCodec::PLAIN, Frame::Text(value.to_string().into()));
    }

    #[test]
    fn near_valid_frames_decode_or_fail_in_the_envelope(frame in near_valid_frame()) {
        check_both(frame.to_string().as_bytes());
    }

    /// Damaged gzip (cut short, bytes flipped) of a valid frame.
    #[test]
    fn damaged_gzip_fails_in_the_envelope(
        damaged in near_valid_frame().prop_flat_map(|f| damaged(gzip(f.to_string().as_bytes())))
    ) {
        check(OpenImCodec::GZIP, Frame::Binary(damaged.into()));
    }

    /// Whatever a 1002 asks, the ranges handed on are within OpenIM's
    /// bounds: no negative seq, 1 to 100 messages each.
    #[test]
    fn pull_ranges_are_bounded(ranges in prop::collection::vec(seq_range(), 1..6), desc in any::<bool>()) {
        let data = sdkws::PullMessageBySeqsReq {
            user_id: USER.into(),
            seq_ranges: ranges,
            order: i32::from(desc),
        }
        .encode_to_vec();
        let frame = json!({
            "reqIdentifier": 1002, "msgIncr": "m", "sendID": USER, "operationID": "op",
            "data": base64::engine::general_purpose::STANDARD.encode(data),
        });
        let decoded = check(OpenImCodec::PLAIN, Frame::Binary(frame.to_string().into_bytes().into()));
        let Some(Request::PullRanges(ranges)) = decoded else {
            panic!("a valid 1002 is a pull: {decoded:?}")
        };
        for r in ranges {
            prop_assert!(r.begin >= 0 && r.end >= 0, "{r:?}");
            prop_assert!((1..=100).contains(&r.limit), "{r:?}");
        }
    }

    #[test]
    fn deep_nesting_and_huge_numbers_fail_in_the_envelope(deep in deep_nesting(), number in number_text()) {
        check_both(deep.as_bytes());
        check_both(format!(r#"{{"reqIdentifier":{number},"sendID":"alice","msgIncr":{deep},"data":""}}"#).as_bytes());
        check(OpenImCodec::PLAIN, Frame::Text(deep.into()));
    }
}

/// A frame that unpacks to far more than the gateway takes (16 MiB of a
/// valid request padded with spaces, 16 KiB packed) is refused unread.
#[test]
fn a_gzip_bomb_is_refused() {
    let mut frame =
        br#"{"reqIdentifier":1001,"msgIncr":"m","sendID":"alice","operationID":"op","data":""}"#
            .to_vec();
    frame.resize(16 << 20, b' ');
    let mut packer = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    packer.write_all(&frame).unwrap();
    let bomb = packer.finish().unwrap();
    assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
    let (_, e) = OpenImCodec::GZIP
        .decode(&caller(), Frame::Binary(bomb.into()))
        .map(|_| ())
        .unwrap_err();
    assert!(
        e.client_message().contains("once unzipped"),
        "{}",
        e.client_message()
    );
}

/// Found by `pull_ranges_are_bounded`: a descending range ending at
/// `i64::MIN` overflowed computing its first seq (a panic in a debug
/// build, a wrapped seq in a release one).
#[test]
fn a_descending_range_at_the_lowest_seq_does_not_overflow() {
    let data = sdkws::PullMessageBySeqsReq {
        user_id: USER.into(),
        seq_ranges: vec![sdkws::SeqRange {
            conversation_id: "si_alice_bob".into(),
            begin: 0,
            end: i64::MIN,
            num: 2,
        }],
        order: sdkws::PullOrder::Desc as i32,
    }
    .encode_to_vec();
    let frame = json!({
        "reqIdentifier": 1002, "msgIncr": "m", "sendID": USER, "operationID": "op",
        "data": base64::engine::general_purpose::STANDARD.encode(data),
    });
    let decoded = check(
        OpenImCodec::PLAIN,
        Frame::Binary(frame.to_string().into_bytes().into()),
    );
    let Some(Request::PullRanges(ranges)) = decoded else {
        panic!("a pull: {decoded:?}")
    };
    assert_eq!((ranges[0].begin, ranges[0].end), (0, 0));
}
