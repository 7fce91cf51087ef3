//! yunbay profiles refreshed from the app's account service (a real HTTP
//! server in the test): one user, its timeout and bad answers, and every
//! user page by page, resumed after a failure.

use crate::harness::*;
use crate::yunbay_support::*;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// An account service: answers `{ok, data}` for the users it knows; a
/// user in `slow` makes it wait past any timeout.
#[derive(Clone, Default)]
struct Accounts {
    asked: Arc<Mutex<Vec<i64>>>,
    slow: Arc<Mutex<Vec<i64>>>,
    broken: Arc<Mutex<Vec<i64>>>,
}

impl Accounts {
    async fn start() -> (Accounts, String) {
        let accounts = Accounts::default();
        let state = accounts.clone();
        let app = axum::Router::new().route(
            "/account/info",
            axum::routing::get(move |axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>| {
                let state = state.clone();
                async move {
                    let n: i64 = q.get("user_id").and_then(|v| v.parse().ok()).unwrap_or(-1);
                    state.asked.lock().unwrap().push(n);
                    if state.slow.lock().unwrap().contains(&n) {
                        tokio::time::sleep(Duration::from_secs(3)).await;
                    }
                    if state.broken.lock().unwrap().contains(&n) {
                        return "<html>oops</html>".to_owned();
                    }
                    json!({"ok": true, "reason": "", "data": {
                        "user_id": n, "username": format!("user {n}"), "avatar": format!("http://img/{n}.png"),
                        "birthday": "2000-01-01", "user_type": n % 3,
                    }})
                    .to_string()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/account/info", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (accounts, url)
    }
}

async fn name_of(t: &TestServer, n: i64) -> Value {
    let a = signed(t, "GET", &format!("/man/user/info?user_ids={n}"), None).await;
    a.data()[0]["name"].clone()
}

#[tokio::test]
async fn profiles_from_the_account_service() {
    let (accounts, url) = Accounts::start().await;
    let t = server(move |s| {
        s.yunbay_account_url = Some(url);
        s.yunbay_account_timeout_ms = Some(500);
    })
    .await;
    register(&t, 51869).await;
    // The body's fields are ignored: the account service is the source.
    let a = signed(
        &t,
        "POST",
        "/man/user/info/update",
        Some(r#"{"user_id":51869,"username":"ignored"}"#),
    )
    .await;
    assert_eq!(a.data(), &json!({}));
    let info = signed(&t, "GET", "/man/user/info?user_ids=51869", None).await;
    assert_eq!(
        info.data()[0],
        json!({"accid": "51869", "name": "user 51869", "icon": "http://img/51869.png", "birth": "2000-01-01", "ex": "{\"user_type\":2}"})
    );

    // A timeout is a clear error, and changes nothing.
    register(&t, 3).await;
    accounts.slow.lock().unwrap().push(3);
    let a = signed(
        &t,
        "POST",
        "/man/user/info/update",
        Some(r#"{"user_id":3}"#),
    )
    .await;
    a.fails_saying(500, "ERR_SERVER_ERROR", "within 500 ms");
    assert_eq!(name_of(&t, 3).await, json!("3"), "unchanged");
    // So is an answer that is not the documented JSON.
    accounts.slow.lock().unwrap().clear();
    accounts.broken.lock().unwrap().push(3);
    let a = signed(
        &t,
        "POST",
        "/man/user/info/update",
        Some(r#"{"user_id":3}"#),
    )
    .await;
    a.fails_saying(500, "ERR_SERVER_ERROR", "not {ok, data} JSON");
    assert_eq!(name_of(&t, 3).await, json!("3"), "unchanged");
    // An unregistered user is not asked about.
    let asked = accounts.asked.lock().unwrap().len();
    let a = signed(
        &t,
        "POST",
        "/man/user/info/update",
        Some(r#"{"user_id":4}"#),
    )
    .await;
    a.fails(200, "ERR_NOT_FOUND");
    assert_eq!(accounts.asked.lock().unwrap().len(), asked);
    t.stop().await;
}

#[tokio::test]
async fn refreshing_every_user_resumes_page_by_page() {
    let (accounts, url) = Accounts::start().await;
    let t = server(move |s| {
        s.yunbay_account_url = Some(url);
        s.yunbay_account_timeout_ms = Some(500);
    })
    .await;
    // 250 users, numbered 1000.. (plus a user of another dialect, which is
    // not one of the numbered users).
    for n in 1000..1250 {
        register(&t, n).await;
    }
    t.user("alice").await;
    // User 1120 times out on the first pass.
    accounts.slow.lock().unwrap().push(1120);
    let mut start = 0;
    let mut pages = Vec::new();
    let mut failures = 0;
    loop {
        let a = signed(
            &t,
            "GET",
            &format!("/man/user/info/update/all?start_user_id={start}"),
            None,
        )
        .await;
        if a.body["ok"] == json!(false) {
            a.fails(500, "ERR_SERVER_ERROR");
            let msg = a.body["err_msg"].as_str().unwrap();
            assert!(
                msg.contains("user 1120") && msg.contains("resume from user 1120"),
                "{msg}"
            );
            failures += 1;
            accounts.slow.lock().unwrap().clear();
            start = 1120;
            continue;
        }
        let d = a.data().clone();
        assert!(
            d["tick"].as_str().unwrap().ends_with('s'),
            "a duration: {d}"
        );
        pages.push(d["updated"].as_i64().unwrap());
        match d["next_user_id"].as_i64() {
            Some(next) => start = next,
            None => {
                assert_eq!(d["next_user_id"], Value::Null);
                break;
            }
        }
    }
    assert_eq!(failures, 1);
    // 100 from 1000, then the failure at 1120 after 20, then 100 from
    // 1120, then the last 30.
    assert_eq!(pages, [100, 100, 30]);
    for n in [1000, 1119, 1120, 1249] {
        assert_eq!(name_of(&t, n).await, json!(format!("user {n}")));
    }
    assert!(!accounts.asked.lock().unwrap().iter().any(|n| *n < 1000));
    t.stop().await;
}
