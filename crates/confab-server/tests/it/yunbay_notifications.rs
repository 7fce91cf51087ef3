//! yunbay notifications over `/v1/ws`: pushed live, caught up on the next
//! connection, sent again until acked when they ask for it; broadcasts to
//! everyone (or the sessions a filter picks) stored once; and the same
//! notifications as messages for Confab's own `/ws` clients.

use crate::harness::*;
use crate::yunbay_support::*;
use confab_core::store::UserStore;
use confab_store::testing::RowCounts;
use serde_json::{json, Value};

fn note(to: &[i64], action: &str, ack: bool) -> Value {
    json!({"type": 0, "to": to, "id": 1, "action": action, "data": {"lotterys_id": 1, "status": 2}, "ack": ack})
}

fn actions(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .map(|f| f["action"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn to_one_user_live_and_on_the_next_connection() {
    let t = server(|_| {}).await;
    let online = user_token(&t, 21).await;
    let later = user_token(&t, 22).await;
    let mut ws = YbSocket::connect(&t, &online, "ios", false).await;
    assert!(ws.drain().await.is_empty(), "nothing missed yet");

    let id = send(&t, note(&[21], "lotterys_notify", false)).await;
    let frame = ws.next(WAIT).await.expect("pushed live");
    assert_eq!(
        frame,
        json!({"id": id, "type": 0, "action": "lotterys_notify", "data": {"lotterys_id": 1, "status": 2}, "ack": false})
    );
    assert!(ws.drain().await.is_empty(), "once");

    // User 22 is away: it waits for their connection (token in the query).
    let id22 = send(&t, note(&[22], "order_paid", false)).await;
    assert!(id22 > id, "each notification has its own id");
    let mut ws22 = YbSocket::connect(&t, &later, "android", true).await;
    let got = ws22.drain().await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["id"], json!(id22));
    assert_eq!(got[0]["action"], json!("order_paid"));
    ws22.close().await;
    // Delivered: not again, neither what was caught up nor what was live.
    let mut ws22 = YbSocket::connect(&t, &later, "android", true).await;
    assert!(ws22.drain().await.is_empty());
    ws.close().await;
    let mut ws = YbSocket::connect(&t, &online, "ios", false).await;
    assert!(
        ws.drain().await.is_empty(),
        "a live push counts as delivered"
    );

    // Confab's own gateway shows it as a message of the notification conversation.
    let token = t.anon.user_token(SECRET, "21", 5).await.unwrap();
    let confab = confab_client::WsClient::connect(&t.url(), &token, 5)
        .await
        .unwrap();
    let messages = confab.pull_all("n_21", 1).await.unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].content_type, 1400);
    let body: Value = serde_json::from_str(messages[0].content.get()).unwrap();
    assert_eq!(body["id"], json!(id));
    assert_eq!(body["action"], json!("lotterys_notify"));
    assert_eq!(body["payload"], json!({"lotterys_id": 1, "status": 2}));
    t.stop().await;
}

#[tokio::test]
async fn acks_are_asked_again_until_given() {
    let t = server(|_| {}).await;
    let token = user_token(&t, 23).await;
    // Sent while away.
    let first = send(&t, note(&[23], "confirm_me", true)).await;
    let mut ws = YbSocket::connect(&t, &token, "ios", false).await;
    let got = ws.drain().await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["id"], json!(first));
    assert_eq!(got[0]["ack"], json!(true));
    // Pushed live, not acked either.
    let second = send(&t, note(&[23], "confirm_me_too", true)).await;
    assert_eq!(ws.next(WAIT).await.unwrap()["id"], json!(second));
    ws.close().await;

    // Again on the next connection, both, in id order, until acked.
    let mut ws = YbSocket::connect(&t, &token, "ios", false).await;
    let got = ws.drain().await;
    assert_eq!(actions(&got), ["confirm_me", "confirm_me_too"]);
    ws.ack(first).await;
    // An ack of something that asks none is refused in the envelope.
    ws.ack(999_999).await;
    let refused = ws.next(WAIT).await.unwrap();
    assert_eq!(refused["ok"], json!(false));
    assert_eq!(refused["reason"], json!("ERR_NOT_FOUND"));
    ws.close().await;

    let mut ws = YbSocket::connect(&t, &token, "ios", false).await;
    let got = ws.drain().await;
    assert_eq!(
        actions(&got),
        ["confirm_me_too"],
        "the acked one never again"
    );
    ws.ack(second).await;
    ws.close().await;
    let mut ws = YbSocket::connect(&t, &token, "ios", false).await;
    assert!(ws.drain().await.is_empty());
    t.stop().await;
}

#[tokio::test]
async fn broadcasts_reach_everyone_or_the_filtered_sessions() {
    let t = server(|_| {}).await;
    let ios = user_token(&t, 31).await;
    let android = user_token(&t, 32).await;
    let later = user_token(&t, 33).await;
    let mut ws_ios = YbSocket::connect(&t, &ios, "ios", false).await;
    let mut ws_android = YbSocket::connect(&t, &android, "android", false).await;

    let all = send(&t, note(&[], "everyone", false)).await;
    assert_eq!(ws_ios.next(WAIT).await.unwrap()["id"], json!(all));
    assert_eq!(ws_android.next(WAIT).await.unwrap()["id"], json!(all));

    let mut filtered = note(&[], "ios_only", false);
    filtered["filter"] = json!({"platform": "ios"});
    let ios_only = send(&t, filtered).await;
    assert_eq!(ws_ios.next(WAIT).await.unwrap()["id"], json!(ios_only));
    let leaked = ws_android.drain().await;
    assert!(
        leaked.is_empty(),
        "the filter leaves android out: {leaked:?}"
    );

    // A user who connects later gets what they match, once.
    let mut ws_later = YbSocket::connect(&t, &later, "ios", false).await;
    assert_eq!(actions(&ws_later.drain().await), ["everyone", "ios_only"]);
    ws_later.close().await;
    let mut ws_later = YbSocket::connect(&t, &later, "ios", false).await;
    assert!(ws_later.drain().await.is_empty());

    // A broadcast that asks for acks comes again until acked.
    let asking = send(&t, note(&[], "please_ack", true)).await;
    assert_eq!(ws_android.next(WAIT).await.unwrap()["id"], json!(asking));
    ws_android.close().await;
    let mut ws_android = YbSocket::connect(&t, &android, "android", false).await;
    assert_eq!(actions(&ws_android.drain().await), ["please_ack"]);
    ws_android.ack(asking).await;
    ws_android.close().await;
    let mut ws_android = YbSocket::connect(&t, &android, "android", false).await;
    assert!(ws_android.drain().await.is_empty());
    t.stop().await;
}

#[tokio::test]
async fn a_broadcast_to_ten_thousand_users_is_one_stored_message() {
    let t = server(|_| {}).await;
    let url = format!("sqlite://{}", t.data_dir().join("confab.db").display());
    let db = confab_store::SqliteStore::open(&url, confab_store::Durability::Process)
        .await
        .unwrap();
    let now = confab_core::now_millis();
    let users: Vec<confab_core::model::User> = (100_000..110_000)
        .map(|n| {
            confab_core::model::User::new(
                confab_core::UserId::parse("u", &n.to_string()).unwrap(),
                now,
            )
        })
        .collect();
    db.create_users(&users).await.unwrap();
    let token = user_token(&t, 100_042).await;
    let messages = db.row_count("messages").await.unwrap();
    let states = db.row_count("user_conversations").await.unwrap();

    send(&t, note(&[], "to_all", false)).await;
    assert_eq!(db.row_count("messages").await.unwrap(), messages + 1);
    assert_eq!(
        db.row_count("user_conversations").await.unwrap(),
        states,
        "no per-user rows"
    );
    // And any of them gets it on connecting.
    let mut ws = YbSocket::connect(&t, &token, "web", false).await;
    assert_eq!(actions(&ws.drain().await), ["to_all"]);
    t.stop().await;
}

#[tokio::test]
async fn a_login_on_the_same_platform_kicks_the_older_session() {
    let t = server(|_| {}).await;
    let token = user_token(&t, 41).await;
    let mut old = YbSocket::connect(&t, &token, "ios", false).await;
    let _new = YbSocket::connect(&t, &token, "ios", false).await;
    let kick = old.next(WAIT).await.expect("a kick frame");
    assert_eq!(kick["type"], json!(1));
    assert_eq!(kick["action"], json!("kick"));
    assert!(kick["data"]["reason"]
        .as_str()
        .unwrap()
        .contains("same platform"));
    assert!(old.next(WAIT).await.is_none(), "then closed");
    // Another platform is another session.
    let mut web = YbSocket::connect(&t, &token, "web", false).await;
    assert!(web.drain().await.is_empty());
    t.stop().await;
}

#[tokio::test]
async fn quiet_clients_are_pinged_not_dropped() {
    let t = server(|s| s.heartbeat_timeout_secs = Some(1)).await;
    let token = user_token(&t, 51).await;
    let mut ws = YbSocket::connect(&t, &token, "ios", false).await;
    // Silent for three heartbeat timeouts; the client's pong answers the
    // server's pings.
    assert!(ws.next(std::time::Duration::from_secs(3)).await.is_none());
    let id = send(&t, note(&[51], "still_there", false)).await;
    assert_eq!(
        ws.next(WAIT).await.expect("still connected")["id"],
        json!(id)
    );
    t.stop().await;
}
