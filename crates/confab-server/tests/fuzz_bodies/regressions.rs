//! The inputs the properties found, minimised, each a plain test.

use crate::envelopes::check;
use crate::fixture::{fixture, TRUSTED};
use axum::http::{HeaderMap, HeaderValue, Method};

/// A part number no `i64` holds was axum's plain-text 400.
#[test]
fn an_upload_part_number_out_of_range_is_answered_in_the_envelope() {
    let path = "/object/upload/-/99999999999999999999";
    let answer = fixture().send(Method::PUT, path, HeaderMap::new(), Vec::new(), TRUSTED);
    check(path, &answer);
    let body = answer.json();
    assert_eq!(body["errCode"], 803, "{body}");
    assert!(
        body["errMsg"].as_str().unwrap().starts_with("part: "),
        "{body}"
    );
}

/// An avatar upload that is not multipart was axum's plain-text 400.
#[test]
fn an_avatar_upload_without_a_boundary_is_answered_in_the_envelope() {
    let path = "/accessuser/updateuserinfo";
    let mut headers = HeaderMap::new();
    let token = &fixture().session_token;
    headers.insert("token", HeaderValue::from_str(token).unwrap());
    headers.insert(
        "content-type",
        HeaderValue::from_static("multipart/form-data"),
    );
    let answer = fixture().send(Method::POST, path, headers, b"nickname=x".to_vec(), TRUSTED);
    check(path, &answer);
    let body = answer.json();
    assert_eq!(body["code"], 1, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("boundary"),
        "{body}"
    );
}

/// A file name that is not UTF-8 once decoded was axum's plain-text 400.
#[test]
fn a_file_path_that_is_not_utf8_is_answered_in_the_envelope() {
    let path = "/files/avatars/%FF";
    let answer = fixture().send(Method::GET, path, HeaderMap::new(), Vec::new(), TRUSTED);
    check(path, &answer);
    // Such a name names no file: the envelope's not-found code.
    assert_eq!(answer.json()["code"], 4, "{}", answer.json());
}
