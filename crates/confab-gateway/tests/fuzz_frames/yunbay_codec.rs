//! yunbay's `/v1/ws` frames: the client's `{"action": "ack", "id": N}`.

use crate::strategies::*;
use crate::{caller, config};
use confab_gateway::{Codec, Frame, Request, YunbayCodec};
use proptest::prelude::*;
use serde_json::{json, Value};

/// Decodes `frame`; a refusal must be the HTTP routes' envelope
/// `{ok: false, reason, err_msg}`.
fn check(frame: Frame) -> Option<Request> {
    let codec = YunbayCodec;
    match codec.decode(&caller(), frame) {
        Ok(((), request)) => Some(request),
        Err(((), e)) => {
            let Frame::Text(text) = codec.error(&(), &e) else {
                panic!("yunbay's error frame is text")
            };
            let answer: Value = serde_json::from_str(&text).expect("an error frame is JSON");
            assert_eq!(answer["ok"], false, "{answer}");
            assert!(
                answer["reason"]
                    .as_str()
                    .is_some_and(|r| r.starts_with("ERR_")),
                "{answer}"
            );
            assert!(
                !answer["err_msg"].as_str().unwrap_or("").is_empty(),
                "{answer}"
            );
            None
        }
    }
}

fn near_valid_frame() -> BoxedStrategy<Value> {
    let valid = json!({"action": "ack", "id": 12});
    let Value::Object(map) = valid else {
        unreachable!()
    };
    mutated(map).boxed()
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
        check(Frame::Binary(frame.to_string().into_bytes().into()));
    }

    /// An ack of any id is that id's ack, whatever else the frame holds.
    #[test]
    fn an_ack_names_its_id(id in edge_i64(), extra in json_value()) {
        let frame = json!({"action": "ack", "id": id, "extra": extra});
        let decoded = check(Frame::Text(frame.to_string().into()));
        prop_assert!(
            matches!(decoded, Some(Request::AckNotification { id: got }) if got == id),
            "{decoded:?}"
        );
    }

    #[test]
    fn deep_nesting_and_huge_numbers_fail_in_the_envelope(deep in deep_nesting(), number in number_text()) {
        check(Frame::Text(deep.clone().into()));
        check(Frame::Text(format!(r#"{{"action":"ack","id":{number},"x":{deep}}}"#).into()));
    }
}
