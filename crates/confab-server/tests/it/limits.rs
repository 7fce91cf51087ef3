//! Abuse limits: credential routes limited per address in every dialect's
//! envelope, logins limited per account without telling who exists, and
//! WebSocket connects limited in rate and in number, per address and in
//! all. Each server here trusts no network unless the test says so, so
//! that its loopback callers count as strangers.

use crate::harness::*;
use serde_json::{json, Value};

/// A server that trusts no network, with `tweak`'s limits.
async fn server(tweak: impl FnOnce(&mut confab_server::config::Settings)) -> TestServer {
    TestServer::start_with(Backend::Sqlite, |s| {
        s.trusted_networks = Some(vec![]);
        tweak(s);
    })
    .await
    .unwrap()
}

/// Status and JSON body of a POST of `body` with `content_type`, with
/// extra `headers`.
async fn post(
    t: &TestServer,
    path: &str,
    content_type: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}{path}", t.url()))
        .header("content-type", content_type)
        .body(body.to_owned());
    for (n, v) in headers {
        req = req.header(*n, *v);
    }
    let response = req.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn json_post(t: &TestServer, path: &str, body: Value) -> (u16, Value) {
    post(t, path, "application/json", &body.to_string(), &[]).await
}

fn assert_too_many(message: &Value, whose: &str) {
    let message = message.as_str().unwrap();
    assert!(
        message.starts_with("too many requests: ") && message.contains(whose),
        "{message:?}"
    );
}

#[tokio::test]
async fn credential_routes_are_limited_per_address_in_each_dialects_envelope() {
    let t = server(|s| {
        // One goes to the harness's admin token.
        s.rate_limit_credentials_per_ip = Some(3);
        s.yunbay_app_keys = Some("ybapi=a20331ad70081a25d0b00d0b0052d202".parse().unwrap());
    })
    .await;
    // OpenIM: a wrong secret twice is refused for the secret, the third
    // request for its rate, even with the right secret.
    let token = |secret: &str| json!({"secret": secret, "platform": 1, "userID": ADMIN, "operationID": "1"});
    for _ in 0..2 {
        let (status, body) = json_post(&t, "/auth/user_token", token("wrong")).await;
        assert_eq!(
            (status, body["errCode"].as_i64()),
            (200, Some(801)),
            "{body}"
        );
    }
    let (status, body) = json_post(&t, "/auth/user_token", token(SECRET)).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["errCode"], 429, "{body}");
    assert_too_many(&body["errMsg"], "from this address");
    // The budget is per route family, not per route: every credential
    // route shares it, and each answers in its own envelope.
    let (status, body) = json_post(&t, "/hx/getToken", json!({})).await;
    assert_eq!((status, body["code"].as_i64()), (429, Some(429)), "{body}");
    assert!(body["data"].is_null());
    assert_too_many(&body["message"], "from this address");
    let form = "application/x-www-form-urlencoded";
    let (status, body) = post(
        &t,
        "/sms/send",
        form,
        "nation_code=86&phone=13700000001",
        &[],
    )
    .await;
    assert_eq!((status, body["code"].as_i64()), (429, Some(429)), "{body}");
    assert_too_many(&body["message"], "from this address");
    let response = reqwest::get(format!("{}/man/account/token?user_id=1", t.url()))
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["ok"], false, "{body}");
    assert_eq!(body["reason"], "ERR_TOO_MANY_REQUESTS", "{body}");
    assert_too_many(&body["err_msg"], "from this address");
    // Routes that hand out no credentials are not limited.
    let all = json!({"operationID": "1"});
    let admin = t.admin.ok("/user/get_all_users_uid", &all).await.unwrap();
    assert_eq!(admin["errCode"], 0);
    t.stop().await;
}

#[tokio::test]
async fn a_trusted_proxy_gets_its_clients_limited_one_by_one() {
    let t = TestServer::start_with(Backend::Sqlite, |s| {
        s.rate_limit_credentials_per_ip = Some(1);
    })
    .await
    .unwrap();
    let body =
        json!({"secret": SECRET, "platform": 1, "userID": ADMIN, "operationID": "1"}).to_string();
    let via = |client: &'static str| {
        let body = body.clone();
        let t = &t;
        async move {
            let headers = [("x-forwarded-for", client)];
            post(t, "/auth/user_token", "application/json", &body, &headers).await
        }
    };
    assert_eq!(via("203.0.113.1").await.1["errCode"], 0);
    let (status, refused) = via("203.0.113.1").await;
    assert_eq!((status, refused["errCode"].as_i64()), (429, Some(429)));
    // Another client of the proxy has its own budget, and the proxy's own
    // calls (no forwarding header) are trusted.
    assert_eq!(via("203.0.113.2").await.1["errCode"], 0);
    for _ in 0..3 {
        let (status, own) = post(&t, "/auth/user_token", "application/json", &body, &[]).await;
        assert_eq!((status, own["errCode"].as_i64()), (200, Some(0)), "{own}");
    }
    t.stop().await;
}

#[tokio::test]
async fn logins_are_limited_per_account_alike_for_users_who_do_not_exist() {
    let t = server(|s| {
        s.rate_limit_credentials_per_ip = Some(0);
        s.rate_limit_logins_per_account = Some(2);
        s.easemob_client_id = Some("app-id".into());
        s.easemob_client_secret = Some("app-secret".into());
    })
    .await;
    let credentials = json!({"client_id": "app-id", "client_secret": "app-secret"});
    let (_, app) = json_post(&t, "/hx/getToken", credentials).await;
    let app_token = app["data"]["access_token"].as_str().unwrap();
    let register = json!({"username": "u1", "password": "right", "token": app_token});
    let (_, registered) = json_post(&t, "/hx/registerUser", register).await;
    assert_eq!(registered["code"], 200, "{registered}");
    let login = |user: &str, password: &str| {
        json_post(
            &t,
            "/hx/userToken",
            json!({"username": user, "password": password}),
        )
    };
    // Unknown users and wrong passwords are refused with one message.
    let (_, wrong) = login("u1", "wrong").await;
    let (_, unknown) = login("nobody", "wrong").await;
    assert_eq!(wrong["code"], 401, "{wrong}");
    assert_eq!(unknown, wrong);
    let (_, again) = login("u1", "wrong").await;
    assert_eq!(again["code"], 401, "{again}");
    // The account's budget is spent: the right password waits too, and
    // so does the unknown account once its own is spent.
    let (status, limited) = login("u1", "right").await;
    assert_eq!(
        (status, limited["code"].as_i64()),
        (429, Some(429)),
        "{limited}"
    );
    assert_too_many(&limited["message"], "for this account");
    login("nobody", "wrong").await;
    let (status, unknown_limited) = login("nobody", "wrong").await;
    assert_eq!(status, 429);
    assert_eq!(unknown_limited, limited);
    // Another account is not affected.
    let (_, other) = login("u2", "x").await;
    assert_eq!(other["code"], 401, "{other}");
    t.stop().await;
}

/// A `/ws` session of `token`, or the errCode and errMsg of the refused
/// upgrade (its HTTP body).
async fn ws_connect(
    t: &TestServer,
    (token, platform): &(String, i32),
) -> Result<confab_client::WsClient, (i64, Value)> {
    confab_client::WsClient::connect(&t.url(), token, *platform)
        .await
        .map_err(|e| match e {
            confab_client::ClientError::Api { code, message } => {
                (code, json!({"errCode": code, "errMsg": message}))
            }
            other => panic!("not a refusal: {other}"),
        })
}

#[tokio::test]
async fn websocket_connections_are_capped_per_address_and_released_on_close() {
    let t = server(|s| {
        s.ws_max_connections_per_ip = Some(2);
        s.rate_limit_connects_per_ip = Some(0);
    })
    .await;
    let anon = &t.anon;
    let token = |n: i32| async move { (anon.user_token(SECRET, ADMIN, n).await.unwrap(), n) };
    let (a, b, c) = (token(1).await, token(2).await, token(3).await);
    let first = ws_connect(&t, &a).await.unwrap();
    let _second = ws_connect(&t, &b).await.unwrap();
    let (code, body) = ws_connect(&t, &c).await.err().unwrap();
    assert_eq!(code, 429, "{body}");
    assert_eq!(
        body["errMsg"],
        "too many requests: at most 2 connections from one address"
    );
    // A connection that ends gives its place back.
    first.close().await;
    let mut third = None;
    for _ in 0..50 {
        if let Ok(c) = ws_connect(&t, &c).await {
            third = Some(c);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let third = third.expect("a place once a connection ended");
    assert!(third.max_seqs().await.is_ok());
    t.stop().await;
}

#[tokio::test]
async fn websocket_connects_are_limited_in_rate_and_the_node_in_total() {
    let t = server(|s| {
        s.rate_limit_connects_per_ip = Some(2);
    })
    .await;
    let token = (t.anon.user_token(SECRET, ADMIN, 5).await.unwrap(), 5);
    let kept = [ws_connect(&t, &token).await.unwrap()];
    drop(ws_connect(&t, &token).await.unwrap());
    let (code, body) = ws_connect(&t, &token).await.err().unwrap();
    assert_eq!(code, 429, "{body}");
    assert_too_many(&body["errMsg"], "connects from this address");
    drop(kept);
    t.stop().await;

    // A total cap holds for trusted callers too.
    let t = TestServer::start_with(Backend::Sqlite, |s| s.ws_max_connections = Some(1))
        .await
        .unwrap();
    let anon = &t.anon;
    let token = |n: i32| async move { (anon.user_token(SECRET, ADMIN, n).await.unwrap(), n) };
    let _only = ws_connect(&t, &token(1).await).await.unwrap();
    let (code, body) = ws_connect(&t, &token(2).await).await.err().unwrap();
    assert_eq!(code, 429, "{body}");
    assert_eq!(
        body["errMsg"],
        "too many requests: the server is full (1 connections); try again later"
    );
    t.stop().await;
}
