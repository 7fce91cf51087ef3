//! Regressions for defects found by trying the server as an attacker would:
//! NUL characters, tokens just past their expiry, bare 404/405 answers.

use crate::harness::*;
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::{json, Value};

/// A NUL in any text field is refused in OpenIM's envelope, alike on both
/// backends, and never fails another user's send in the same commit.
async fn nul_in_text_is_refused_and_fails_no_one_else(t: &TestServer) {
    t.user("nul-a").await;
    t.user("nul-b").await;
    t.user("nul-c").await;
    let fields = ["ex", "senderNickname", "clientMsgID", "senderFaceURL"];
    for field in fields {
        let mut bad = json!({
            "sendID": "nul-a", "recvID": "nul-b", "sessionType": 1,
            "contentType": 101, "content": {"text": "hi"},
        });
        bad[field] = json!("bad\u{0}text");
        let good = json!({
            "sendID": "nul-c", "recvID": "nul-b", "sessionType": 1,
            "contentType": 101, "content": {"text": format!("fine {field}")},
        });
        // Both at once, so that they would share a commit.
        let (bad_reply, good_reply) = tokio::join!(
            t.admin.call("/manager/send_msg", &bad),
            t.admin.call("/manager/send_msg", &good),
        );
        let bad_reply = bad_reply.unwrap();
        assert_err(&bad_reply, 803, "NUL");
        let good_reply = good_reply.unwrap();
        assert_eq!(good_reply.err_code(), 0, "{}", good_reply.body);
        assert!(good_reply.data()["seq"].as_i64().unwrap() > 0);
    }
    // Ids and names, on other routes.
    let reply = t
        .admin
        .call(
            "/user/update_user_info",
            &json!({"userID": "nul-a", "nickname": "a\u{0}"}),
        )
        .await
        .unwrap();
    assert_err(&reply, 803, "NUL");
    let reply = t
        .admin
        .call(
            "/msg/pull_msg_by_seq",
            &json!({"userID": "nul-b", "seqRanges": [{"conversationID": "si_\u{0}", "begin": 1, "end": 2}]}),
        )
        .await
        .unwrap();
    assert_err(&reply, 803, "NUL");
    // The valid sends all landed: nul-b's chat with nul-c holds them all.
    let pulled = data(
        &t.admin,
        "/msg/pull_msg_by_seq",
        json!({"userID": "nul-b", "seqRanges": [{"conversationID": "si_nul-b_nul-c", "begin": 1, "end": 100}]}),
    )
    .await;
    let msgs = pulled["msgs"]["si_nul-b_nul-c"]["msgs"].as_array().unwrap();
    assert_eq!(msgs.len(), fields.len());
    // And nothing of the refused ones.
    let newest = data(&t.admin, "/msg/newest_seq", json!({"userID": "nul-a"})).await;
    assert!(newest["seqs"].get("si_nul-a_nul-b").is_none(), "{newest}");
}

/// A token a few seconds past its `exp` is refused (no 60 s grace).
async fn token_just_expired_is_refused(t: &TestServer) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let claims = json!({"UID": ADMIN, "Platform": "APad", "exp": now - 5, "nbf": now - 100, "iat": now - 100, "jti": "x"});
    let token = encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(JWT_KEY.as_bytes()),
    )
    .unwrap();
    let reply = t
        .anon
        .with_token(&token)
        .call("/user/get_self_user_info", &json!({}))
        .await
        .unwrap();
    assert_err(&reply, 701, "expired");
}

async fn raw_response(t: &TestServer, method: reqwest::Method, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .request(method, format!("{}{path}", t.url()))
        .send()
        .await
        .unwrap()
}

async fn raw(t: &TestServer, method: reqwest::Method, path: &str) -> (u16, Value) {
    let response = raw_response(t, method, path).await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// Unknown paths answer in the envelope of their dialect; a wrong method
/// answers in the route's envelope, not with an empty 405.
async fn unknown_paths_and_methods_answer_in_their_envelope(t: &TestServer) {
    let (status, body) = raw(t, reqwest::Method::POST, "/hx/noSuchRoute").await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], 404, "{body}");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("/hx/noSuchRoute"));
    assert!(body["data"].is_null());
    assert!(
        body.get("errCode").is_none(),
        "not OpenIM's envelope: {body}"
    );

    let (status, body) = raw(t, reqwest::Method::GET, "/man/nothing").await;
    assert_eq!(status, 404);
    assert_eq!(body["ok"], false, "{body}");
    assert_eq!(body["reason"], "ERR_NOT_FOUND");

    let (status, body) = raw(t, reqwest::Method::POST, "/accessuser/nothing").await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], 1, "{body}");

    let (status, body) = raw(t, reqwest::Method::POST, "/nothing/here").await;
    assert_eq!(status, 404);
    assert_eq!(body["errCode"], 404, "{body}");

    let (status, body) = raw(t, reqwest::Method::GET, "/user/get_users_info").await;
    assert_eq!(status, 405);
    assert_eq!(body["errCode"], 405, "{body}");
    assert!(body["errMsg"].as_str().unwrap().contains("POST"), "{body}");
    let response = raw_response(t, reqwest::Method::GET, "/user/get_users_info").await;
    assert_eq!(response.headers()["allow"], "POST");
}

/// A batch answers per recipient: what is wrong with the message fails
/// every recipient's entry, not the request; the client's message id is
/// not used (each copy gets its own), and the list is counted as sent.
async fn batch_send_answers_per_recipient(t: &TestServer) {
    t.user("bs-a").await;
    t.user("bs-b").await;
    let batch = data(
        &t.admin,
        "/manager/batch_send_msg",
        json!({"sendID": "bs-a", "recvIDList": ["bs-b", "bad id"], "content": {"txt": "no text"}, "contentType": 101, "sessionType": 1}),
    )
    .await;
    assert_eq!(batch["results"], json!([]), "{batch}");
    assert_eq!(batch["failedUserIDList"], json!(["bs-b", "bad id"]));
    assert!(batch["failed"][0]["errMsg"]
        .as_str()
        .unwrap()
        .contains("content.text"));
    assert!(batch["failed"][1]["errMsg"]
        .as_str()
        .unwrap()
        .contains("recvID"));
    let long_id = "c".repeat(65);
    let batch = data(
        &t.admin,
        "/manager/batch_send_msg",
        json!({"sendID": "bs-a", "recvIDList": ["bs-b"], "clientMsgID": long_id, "content": {"text": "ok"}, "contentType": 101, "sessionType": 1}),
    )
    .await;
    assert_eq!(batch["results"].as_array().unwrap().len(), 1, "{batch}");
    let mut too_many: Vec<String> = (0..1000).map(|i| format!("r{i}")).collect();
    too_many.push("bad id".into());
    let reply = t
        .admin
        .call(
            "/manager/batch_send_msg",
            &json!({"sendID": "bs-a", "recvIDList": too_many, "content": {"text": "x"}, "contentType": 101, "sessionType": 1}),
        )
        .await
        .unwrap();
    assert_err(
        &reply,
        803,
        "recvIDList: at most 1000 items per request, got 1001",
    );
}

on_both_backends!(
    batch_send_answers_per_recipient,
    nul_in_text_is_refused_and_fails_no_one_else,
    token_just_expired_is_refused,
    unknown_paths_and_methods_answer_in_their_envelope,
);
