//! yunbay catch-ups that do not fit: longer than the session's queue,
//! longer than one connection takes, with pushes arriving meanwhile; a
//! notification socket beside a chat socket on one device; clients that
//! stop answering.

use crate::harness::SECRET;
use crate::yunbay_support::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;

fn note(to: &[i64], action: &str) -> Value {
    json!({"type": 0, "to": to, "id": 1, "action": action, "data": {}})
}

fn ids(frames: &[Value]) -> Vec<i64> {
    frames.iter().map(|f| f["id"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn a_catch_up_longer_than_the_queue_arrives_whole() {
    let t = server(|s| s.ws_queue_capacity = Some(4)).await;
    let token = user_token(&t, 61).await;
    let mut sent = Vec::new();
    for i in 0..10 {
        sent.push(send(&t, note(&[61], &format!("n{i}"))).await);
    }
    let mut ws = YbSocket::connect(&t, &token, "ios", false).await;
    assert_eq!(ids(&ws.drain().await), sent);
    ws.close().await;
    let mut ws = YbSocket::connect(&t, &token, "ios", false).await;
    assert!(ws.drain().await.is_empty());
    t.stop().await;
}

#[tokio::test]
async fn what_one_connection_cannot_take_comes_on_the_next() {
    let t = server(|_| {}).await;
    let token = user_token(&t, 62).await;
    let mut sent = BTreeSet::new();
    for i in 0..1005 {
        sent.insert(send(&t, note(&[62], &format!("n{i}"))).await);
    }
    let mut received = BTreeSet::new();
    let mut ws = YbSocket::connect(&t, &token, "ios", false).await;
    let first = ws.drain().await;
    assert_eq!(first.len(), 1000, "one connection takes 1000");
    received.extend(ids(&first));
    // A push now must not mark the 5 not yet sent as received.
    let live = send(&t, note(&[62], "live")).await;
    sent.insert(live);
    assert_eq!(ws.next(WAIT).await.unwrap()["id"], json!(live));
    received.insert(live);
    ws.close().await;

    let mut ws = YbSocket::connect(&t, &token, "ios", false).await;
    let second = ids(&ws.drain().await);
    assert!(second.len() >= 5, "{second:?}");
    received.extend(&second);
    assert_eq!(received, sent, "none lost");
    ws.close().await;
    let mut ws = YbSocket::connect(&t, &token, "ios", false).await;
    assert!(ws.drain().await.is_empty());
    t.stop().await;
}

#[tokio::test]
async fn more_broadcasts_than_one_connection_takes() {
    let t = server(|_| {}).await;
    let token = user_token(&t, 63).await;
    let mut sent = Vec::new();
    for i in 0..1005 {
        sent.push(send(&t, note(&[], &format!("b{i}"))).await);
    }
    let mut ws = YbSocket::connect(&t, &token, "web", false).await;
    let first = ids(&ws.drain().await);
    assert_eq!(first, sent[..1000]);
    ws.close().await;
    let mut ws = YbSocket::connect(&t, &token, "web", false).await;
    assert_eq!(ids(&ws.drain().await), sent[1000..]);
    t.stop().await;
}

#[tokio::test]
async fn a_chat_socket_and_a_notification_socket_share_a_device() {
    let t = server(|_| {}).await;
    let token = user_token(&t, 64).await;
    let im = im_token(&t, &[("X-Yf-Token", &token), ("X-Yf-Platform", "web")]).await;
    let im_token = im.data()["im_token"].as_str().unwrap().to_owned();
    let chat = confab_client::WsClient::connect(&t.url(), &im_token, 5)
        .await
        .unwrap();
    let mut notes = YbSocket::connect(&t, &token, "web", false).await;
    assert!(notes.drain().await.is_empty(), "not kicked");
    chat.ping().await.expect("the chat socket stays too");
    let id = send(&t, note(&[64], "both")).await;
    assert_eq!(notes.next(WAIT).await.unwrap()["id"], json!(id));
    // The chat socket sees it as a message of the notification conversation.
    let message = chat.next_message(WAIT).await.expect("pushed on /ws too");
    assert_eq!(message.conversation_id, "n_64");
    t.stop().await;
}

#[tokio::test]
async fn a_client_that_answers_no_ping_is_closed() {
    let t = server(|s| s.heartbeat_timeout_secs = Some(1)).await;
    let token = user_token(&t, 65).await;
    let ws = YbSocket::connect(&t, &token, "ios", false).await;
    // Not reading, the client answers no ping.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(ws.closed_within(WAIT).await, "closed after the timeout");
    t.stop().await;
}

#[tokio::test]
async fn a_tampered_request_fails_its_signature() {
    let t = server(|_| {}).await;
    register(&t, 66).await;
    // Signed for one query, sent with another.
    let sig = sign("/man/user/info", "user_ids=1", SPEC_HEADERS, b"", APP_KEY);
    let a = call(
        &t,
        "GET",
        "/man/user/info?user_ids=66",
        None,
        &[],
        Signing::Literal(&sig),
    )
    .await;
    a.fails(401, "ERR_SIGN_ERROR");
    // Signed with one platform, sent with another.
    let a = call(
        &t,
        "GET",
        "/man/user/info?user_ids=66",
        None,
        &[("X-Yf-Platform", "ios")],
        Signing::Literal(&sign(
            "/man/user/info",
            "user_ids=66",
            SPEC_HEADERS,
            b"",
            APP_KEY,
        )),
    )
    .await;
    a.fails(401, "ERR_SIGN_ERROR");
    // A signed header given twice cannot be pinned down.
    let a = call(
        &t,
        "GET",
        "/man/user/info?user_ids=66",
        None,
        &[("X-Yf-rid", "2")],
        Signing::Key(APP_KEY),
    )
    .await;
    assert_eq!(a.data().as_array().unwrap().len(), 1, "one rid is fine");
    let sig = sign("/man/user/info", "user_ids=66", SPEC_HEADERS, b"", APP_KEY);
    let http = reqwest::Client::new();
    let mut req = http.get(format!("{}/man/user/info?user_ids=66", t.url()));
    for (n, v) in SPEC_HEADERS {
        req = req.header(*n, *v);
    }
    let resp = req
        .header("X-Yf-Platform", "ios")
        .header("X-Yf-Sign", sig)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["reason"], json!("ERR_ARGS_INVALID"));
    assert!(body["err_msg"].as_str().unwrap().contains("more than once"));
    t.stop().await;
}

#[tokio::test]
async fn pulling_notifications_on_the_chat_socket_leaves_them_to_the_notification_socket() {
    let t = server(|_| {}).await;
    let token = user_token(&t, 71).await;
    let id = send(&t, note(&[71], "away")).await;
    let broadcast = send(&t, note(&[], "everyone")).await;
    // The app's chat socket syncs every conversation, notifications too.
    let im = t.anon.user_token(SECRET, "71", 5).await.unwrap();
    let chat = confab_client::WsClient::connect(&t.url(), &im, 5)
        .await
        .unwrap();
    let synced = chat.sync(&Default::default()).await.unwrap();
    assert_eq!(synced.len(), 2, "both, in n_71 and b_all");
    // The notification socket is still sent them.
    let mut ws = YbSocket::connect(&t, &token, "ios", false).await;
    assert_eq!(ids(&ws.drain().await), [id, broadcast]);
    t.stop().await;
}

#[tokio::test]
async fn live_pushes_during_a_long_catch_up_all_arrive() {
    let t = server(|s| s.ws_queue_capacity = Some(4)).await;
    let token = user_token(&t, 72).await;
    let mut sent = BTreeSet::new();
    for i in 0..40 {
        sent.insert(send(&t, note(&[72], &format!("n{i}"))).await);
    }
    let mut ws = YbSocket::connect(&t, &token, "ios", false).await;
    for i in 0..5 {
        sent.insert(send(&t, note(&[72], &format!("live{i}"))).await);
    }
    let got = ids(&ws.drain().await);
    let unique: BTreeSet<i64> = got.iter().copied().collect();
    assert_eq!(unique.len(), got.len(), "none twice: {got:?}");
    assert_eq!(unique, sent);
    t.stop().await;
}
