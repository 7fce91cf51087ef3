//! What every answer must be: below 500, and in the envelope of the
//! dialect its path belongs to (`confab_api::fallback::Dialect`), with a
//! message on failure.

use crate::fixture::Answer;
use confab_api::fallback::Dialect;
use serde_json::Value;

fn message_of<'a>(body: &'a Value, key: &str) -> &'a str {
    body[key].as_str().unwrap_or("")
}

/// Panics (failing the property) unless `answer` to a request for `path`
/// is a non-5xx answer in the dialect's envelope.
pub fn check(path: &str, answer: &Answer) {
    let text = String::from_utf8_lossy(&answer.body);
    assert!(
        answer.status.as_u16() < 500,
        "{path}: HTTP {} {text}",
        answer.status
    );
    // A stored file is its bytes; a missing one the app API's envelope.
    if path.starts_with("/files/") && answer.status.is_success() {
        return;
    }
    let body: Value = serde_json::from_slice(&answer.body)
        .unwrap_or_else(|e| panic!("{path}: HTTP {} not JSON ({e}): {text}", answer.status));
    assert!(body.is_object(), "{path}: not an object: {body}");
    // `/files/` is no dialect's: its handler answers a missing file in the
    // app API's envelope, the router a wrong method in the fallback's.
    let dialect = if path.starts_with("/files/") && body.get("code").is_some() {
        Dialect::App
    } else {
        Dialect::of(path)
    };
    match dialect {
        Dialect::OpenIm => {
            let code = body["errCode"].as_i64();
            assert!(code.is_some(), "{path}: no errCode: {body}");
            assert!(body["errMsg"].is_string(), "{path}: no errMsg: {body}");
            if code != Some(0) {
                assert!(!message_of(&body, "errMsg").is_empty(), "{path}: {body}");
            }
        }
        Dialect::Easemob => {
            let code = body["code"].as_i64();
            assert!(code.is_some(), "{path}: no code: {body}");
            if code != Some(200) {
                assert!(!message_of(&body, "message").is_empty(), "{path}: {body}");
                assert!(body["data"].is_null(), "{path}: {body}");
            }
        }
        Dialect::App => {
            let code = body["code"].as_i64();
            assert!(code.is_some(), "{path}: no code: {body}");
            assert!(body["message"].is_string(), "{path}: no message: {body}");
            if code != Some(0) {
                assert!(!message_of(&body, "message").is_empty(), "{path}: {body}");
                assert!(body["data"].is_null(), "{path}: {body}");
            }
            if !path.starts_with("/files/") {
                assert!(
                    body["request-id"].as_str().is_some_and(|id| !id.is_empty()),
                    "{path}: no request-id: {body}"
                );
            }
        }
        Dialect::Yunbay => {
            let ok = body["ok"].as_bool();
            assert!(ok.is_some(), "{path}: no ok: {body}");
            assert!(body["reason"].is_string(), "{path}: no reason: {body}");
            if ok == Some(false) {
                let reason = message_of(&body, "reason");
                assert!(
                    !reason.is_empty()
                        && reason.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
                    "{path}: {body}"
                );
                assert!(!message_of(&body, "err_msg").is_empty(), "{path}: {body}");
            }
        }
    }
}
