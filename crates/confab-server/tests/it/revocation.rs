//! Revocation reaches everywhere at once: after a force-logout, a password
//! change, a user's deletion or a session's own logout, the tokens it
//! revokes are refused on HTTP routes and on every gateway, and the
//! connections they opened are closed.

use crate::harness::*;
use crate::yunbay_support as yb;
use confab_client::{ClientError, OpenImWsClient, OpenImWsOptions, WsClient};
use serde_json::json;
use std::time::Duration;

/// Everything a user has logged in with: OpenIM tokens on two platforms,
/// a `/ws` session of each, an OpenIM v3 gateway session, and the yunbay
/// user token (`X-Yf-Token`).
struct Logins {
    user: String,
    ios: String,
    web: String,
    ws_ios: WsClient,
    ws_web: WsClient,
    v3_web: OpenImWsClient,
    yunbay: String,
}

/// Logs in yunbay user `n` every way.
async fn log_in(t: &TestServer, n: i64) -> Logins {
    let yunbay = yb::user_token(t, n).await;
    let user = n.to_string();
    let ios = t.anon.user_token(SECRET, &user, 1).await.unwrap();
    let web = t.anon.user_token(SECRET, &user, 5).await.unwrap();
    let ws_ios = WsClient::connect(&t.url(), &ios, 1).await.unwrap();
    let ws_web = WsClient::connect(&t.url(), &web, 5).await.unwrap();
    let v3_web = OpenImWsClient::connect(&t.url(), &user, &web, OpenImWsOptions::default())
        .await
        .unwrap();
    Logins {
        user,
        ios,
        web,
        ws_ios,
        ws_web,
        v3_web,
        yunbay,
    }
}

/// The errCode of a user route called with `token`.
async fn http_code(t: &TestServer, token: &str) -> i64 {
    let reply = t
        .anon
        .with_token(token)
        .call("/user/get_self_user_info", &json!({"operationID": "1"}))
        .await
        .unwrap();
    reply.err_code()
}

/// The errCode a `/ws` connect with `token` is refused with (0: accepted).
async fn ws_code(t: &TestServer, token: &str, platform: i32) -> i64 {
    match WsClient::connect(&t.url(), token, platform).await {
        Ok(c) => {
            c.close().await;
            0
        }
        Err(ClientError::Api { code, .. }) => code,
        Err(e) => panic!("{e}"),
    }
}

async fn ws_ends(c: &WsClient) -> bool {
    for _ in 0..100 {
        if c.ping().await.is_err() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

async fn v3_ends(c: &OpenImWsClient) -> bool {
    for _ in 0..100 {
        if c.ping().await.is_err() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// Asserts that every login of `l` is revoked and closed.
async fn all_revoked(t: &TestServer, l: &Logins, revoked_code: i64) {
    assert!(
        ws_ends(&l.ws_ios).await,
        "{}: /ws on iOS still open",
        l.user
    );
    assert!(
        ws_ends(&l.ws_web).await,
        "{}: /ws on web still open",
        l.user
    );
    assert!(
        v3_ends(&l.v3_web).await,
        "{}: the v3 session still open",
        l.user
    );
    for token in [&l.ios, &l.web] {
        assert_eq!(http_code(t, token).await, revoked_code, "{}", l.user);
    }
    assert_eq!(ws_code(t, &l.ios, 1).await, revoked_code);
    assert_eq!(ws_code(t, &l.web, 5).await, revoked_code);
    let v3 = OpenImWsClient::connect(&t.url(), &l.user, &l.web, OpenImWsOptions::default()).await;
    assert!(v3.is_err(), "the v3 gateway took a revoked token");
    let answer = yb::im_token(t, &[("X-Yf-Token", l.yunbay.as_str())]).await;
    answer.fails(401, "ERR_TOKEN_INVALID");
}

async fn server() -> TestServer {
    yb::server(|_| {}).await
}

#[tokio::test]
async fn a_force_logout_revokes_every_login_of_the_user() {
    let t = server().await;
    let l = log_in(&t, 701).await;
    let other = log_in(&t, 702).await;
    let body = json!({"userID": l.user, "operationID": "1"});
    t.admin.ok("/auth/force_logout", &body).await.unwrap();
    all_revoked(&t, &l, 706).await;
    // Nobody else is touched.
    assert_eq!(http_code(&t, &other.web).await, 0);
    assert!(other.ws_web.ping().await.is_ok());
    t.stop().await;
}

#[tokio::test]
async fn a_password_change_revokes_every_login_of_the_user() {
    let t = server().await;
    let l = log_in(&t, 711).await;
    let app = reqwest::Client::new()
        .post(format!("{}/hx/getToken", t.url()))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let app: serde_json::Value = app.json().await.unwrap();
    let app_token = app["data"]["access_token"].as_str().unwrap();
    let reset = reqwest::Client::new()
        .post(format!("{}/hx/resetPassword", t.url()))
        .json(&json!({"username": l.user, "newpassword": "n3w", "token": app_token}))
        .send()
        .await
        .unwrap();
    let reset: serde_json::Value = reset.json().await.unwrap();
    assert_eq!(reset["code"], 200, "{reset}");
    all_revoked(&t, &l, 706).await;
    // The new password logs in.
    let login = reqwest::Client::new()
        .post(format!("{}/hx/userToken", t.url()))
        .json(&json!({"username": l.user, "password": "n3w"}))
        .send()
        .await
        .unwrap();
    let login: serde_json::Value = login.json().await.unwrap();
    let token = login["data"]["access_token"].as_str().unwrap();
    assert_eq!(http_code(&t, token).await, 0);
    t.stop().await;
}

#[tokio::test]
async fn a_deleted_user_has_no_login_left() {
    let t = server().await;
    let l = log_in(&t, 721).await;
    let body = json!({"deleteUserIDList": [l.user], "operationID": "1"});
    t.admin.ok("/user/delete_user", &body).await.unwrap();
    // The tokens are gone with the user (706: no live token).
    all_revoked(&t, &l, 706).await;
    t.stop().await;
}

#[tokio::test]
async fn a_sessions_logout_revokes_its_platforms_token_only() {
    let t = server().await;
    let l = log_in(&t, 731).await;
    // OpenIM's logout (2003) on the web session.
    l.v3_web.request(2003, &[]).await.unwrap();
    assert!(
        v3_ends(&l.v3_web).await,
        "the session that logged out stays open"
    );
    assert!(
        ws_ends(&l.ws_web).await,
        "the /ws session of the web token stays open"
    );
    assert_eq!(http_code(&t, &l.web).await, 706);
    assert_eq!(ws_code(&t, &l.web, 5).await, 706);
    // The iOS login is another login.
    assert_eq!(http_code(&t, &l.ios).await, 0);
    assert!(l.ws_ios.ping().await.is_ok());
    t.stop().await;
}
