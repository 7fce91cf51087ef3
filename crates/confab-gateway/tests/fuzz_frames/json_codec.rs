//! Confab's JSON frames at `/ws`: `{type, reqID, data}` text frames.

use crate::strategies::*;
use crate::{caller, config, USER};
use confab_gateway::{Codec, Frame, JsonCodec, Request};
use proptest::prelude::*;
use serde_json::{json, Value};

/// Decodes `frame`; a request must be the caller's, a refusal must be an
/// `error` frame echoing the `reqID` with a code and a message.
fn check(frame: Frame) {
    let codec = JsonCodec;
    match codec.decode(&caller(), frame) {
        Ok((_, Request::Send(send))) => assert_eq!(send.message.sender.as_str(), USER),
        Ok(_) => {}
        Err((req_id, e)) => {
            let Frame::Text(text) = codec.error(&req_id, &e) else {
                panic!("the error frame of /ws is text")
            };
            let answer: Value = serde_json::from_str(&text).expect("an error frame is JSON");
            assert_eq!(answer["type"], "error", "{answer}");
            assert_ne!(answer["errCode"].as_i64().unwrap_or(0), 0, "{answer}");
            assert!(
                !answer["errMsg"].as_str().unwrap_or("").is_empty(),
                "{answer}"
            );
            assert_eq!(answer["reqID"].as_str().unwrap_or(""), req_id, "{answer}");
        }
    }
}

const KINDS: &[&str] = &[
    "ping",
    "send",
    "get_max_seqs",
    "pull",
    "mark_read",
    "delivered",
    "revoke",
    "join_room",
    "leave_room",
    "create_conversation",
];

/// A valid `data` for each frame type, to mutate.
fn valid_data(kind: &str) -> serde_json::Map<String, Value> {
    let data = match kind {
        "send" => json!({
            "sessionType": 1, "recvID": "bob", "groupID": "", "clientMsgID": "c1",
            "contentType": 101, "content": {"text": "hi"}, "senderNickname": "A",
            "senderFaceURL": "", "isOnlineOnly": false, "atUserIDList": [], "ex": ""
        }),
        "pull" => json!({"conversationID": "si_alice_bob", "begin": 1, "end": 20, "limit": 20}),
        "mark_read" | "delivered" | "revoke" => json!({"conversationID": "si_alice_bob", "seq": 3}),
        "join_room" | "leave_room" => json!({"roomID": "room1"}),
        "create_conversation" => json!({"members": ["1", "2"], "name": "n", "signature": "s"}),
        _ => json!({}),
    };
    match data {
        Value::Object(map) => map,
        _ => unreachable!("every data is an object"),
    }
}

/// A frame of a known type whose envelope and `data` are mutated.
fn near_valid_frame() -> BoxedStrategy<String> {
    (
        prop::sample::select(KINDS),
        prop_oneof![Just(json!("r1")), json_value()],
        any::<bool>(),
    )
        .prop_flat_map(|(kind, req_id, typed)| {
            mutated(valid_data(kind)).prop_map(move |data| {
                let kind = if typed { json!(kind) } else { json!([kind]) };
                json!({"type": kind, "reqID": req_id, "data": data}).to_string()
            })
        })
        .boxed()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_bytes_decode_or_fail_in_the_envelope(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check(Frame::Text(String::from_utf8_lossy(&bytes).into_owned().into()));
        check(Frame::Binary(bytes.into()));
    }

    #[test]
    fn any_json_value_decodes_or_fails_in_the_envelope(value in json_value()) {
        check(Frame::Text(value.to_string().into()));
    }

    #[test]
    fn near_valid_frames_decode_or_fail_in_the_envelope(frame in near_valid_frame()) {
        check(Frame::Text(frame.into()));
    }

    #[test]
    fn deep_nesting_and_huge_numbers_fail_in_the_envelope(
        deep in deep_nesting(),
        number in number_text(),
        kind in prop::sample::select(KINDS),
    ) {
        check(Frame::Text(deep.clone().into()));
        check(Frame::Text(format!(r#"{{"type":"{kind}","reqID":"1","data":{deep}}}"#).into()));
        check(Frame::Text(format!(r#"{{"type":"{kind}","reqID":{number},"data":{{"seq":{number},"begin":{number},"end":{number},"limit":{number},"sessionType":{number},"contentType":{number}}}}}"#).into()));
    }
}

#[test]
fn a_frame_nested_past_the_limit_is_an_error_frame() {
    let deep = format!(
        r#"{{"type":"send","reqID":"7","data":{}1{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    check(Frame::Text(deep.into()));
}
