//! The Easemob proxy (`/hx/*`): the spec's example requests as written
//! (with a real token), every field of the answers, the refusals, and the
//! same users and relations as the OpenIM dialect.

use crate::harness::*;
use serde_json::{json, Value};
use std::time::Duration;

pub async fn hx(t: &TestServer, path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", t.url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

/// `data` of a successful call, after checking the envelope.
pub async fn ok_data(t: &TestServer, path: &str, body: Value) -> Value {
    let reply = hx(t, path, body).await;
    assert_eq!(reply["code"], 200, "{path}: {reply}");
    assert_eq!(reply["message"], "请求成功");
    reply["data"].clone()
}

fn assert_hx_err(reply: &Value, code: u16, needle: &str) {
    assert_eq!(reply["code"], code, "{reply}");
    assert!(reply["data"].is_null(), "{reply}");
    let message = reply["message"].as_str().unwrap();
    assert!(message.contains(needle), "{message:?} lacks {needle:?}");
}

async fn app_token(t: &TestServer) -> String {
    // As the spec: a POST with no body.
    let response = reqwest::Client::new()
        .post(format!("{}/hx/getToken", t.url()))
        .send()
        .await
        .unwrap();
    let reply: Value = response.json().await.unwrap();
    assert_eq!(reply["code"], 200, "{reply}");
    let data = &reply["data"];
    assert_eq!(data.as_object().unwrap().len(), 3, "{data}");
    let expires_in = data["expires_in"].as_i64().unwrap();
    assert!(
        (5_183_990..=5_184_000).contains(&expires_in),
        "{expires_in}"
    );
    assert_eq!(data["application"].as_str().unwrap().len(), 36);
    data["access_token"].as_str().unwrap().to_owned()
}

fn assert_entity(e: &Value, username: &str) {
    assert_eq!(e["type"], "user");
    assert_eq!(e["username"], username);
    assert_eq!(e["activated"], true);
    assert_eq!(e["uuid"].as_str().unwrap().len(), 36, "{e}");
    let created = e["created"].as_i64().unwrap();
    let now = confab_core::now_millis();
    assert!(created > now - 60_000 && created <= now, "{e}");
    assert!(e["modified"].as_i64().unwrap() >= created);
}

fn assert_common(data: &Value, action: &str, path: &str) {
    assert_eq!(data["action"], action, "{data}");
    assert_eq!(data["path"], path, "{data}");
    assert!(data["duration"].as_u64().is_some(), "{data}");
    let ts = data["timestamp"].as_i64().unwrap();
    assert!((ts - confab_core::now_millis()).abs() < 60_000);
    assert!(
        data["uri"].as_str().unwrap().contains("/confab/confab/"),
        "{data}"
    );
}

async fn register_and_get(t: &TestServer) {
    let token = app_token(t).await;
    // Spec example 2, as written.
    let data = ok_data(
        t,
        "/hx/registerUser",
        json!({"username": "jliu", "password": "123456", "token": token}),
    )
    .await;
    assert_common(&data, "post", "/users");
    assert_eq!(data["organization"], "confab");
    assert_eq!(data["applicationName"], "confab");
    assert_eq!(data["application"].as_str().unwrap().len(), 36);
    let entities = data["entities"].as_array().unwrap();
    assert_eq!(entities.len(), 1);
    assert_entity(&entities[0], "jliu");
    let uuid = entities[0]["uuid"].clone();
    // Spec example 3, a batch.
    let data = ok_data(t, "/hx/registerUser", json!({"users": [{"username": "u3", "password": "p1"}, {"username": "u4", "password": "p2"}], "token": token})).await;
    let names: Vec<&str> = data["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["u3", "u4"]);
    // The same name again: refused, and the batch adds nobody.
    let reply = hx(t, "/hx/registerUser", json!({"users": [{"username": "u5", "password": "p"}, {"username": "u3", "password": "p"}], "token": token})).await;
    assert_hx_err(&reply, 400, "u3");
    let reply = hx(t, "/hx/getUser", json!({"username": "u5", "token": token})).await;
    assert_hx_err(&reply, 404, "u5");
    // Spec example 10: one user; `msg` and `message` both.
    let reply = hx(
        t,
        "/hx/getUser",
        json!({"username": "jliu", "token": token}),
    )
    .await;
    assert_eq!(
        (reply["code"].as_i64(), reply["msg"].as_str()),
        (Some(200), Some("请求成功"))
    );
    let data = &reply["data"];
    assert_common(data, "get", "/users");
    assert!(data["uri"].as_str().unwrap().ends_with("/users/jliu"));
    assert_eq!(data["count"], 1);
    assert_entity(&data["entities"][0], "jliu");
    assert_eq!(data["entities"][0]["uuid"], uuid, "a user's uuid is stable");
    // The same user through OpenIM.
    let info = data_of(t, "/user/get_users_info", json!({"userIDList": ["jliu"]})).await;
    assert_eq!(info[0]["userID"], "jliu");
}

async fn data_of(t: &TestServer, path: &str, body: Value) -> Value {
    crate::harness::data(&t.admin, path, body).await
}

/// A walk with `limit` 20 over 45 users and more added meanwhile returns
/// every user that existed exactly once, in order, then no cursor.
async fn cursor_walk(t: &TestServer) {
    let token = app_token(t).await;
    let users: Vec<Value> = (0..45)
        .map(|i| json!({"username": format!("walk{i:02}"), "password": "p"}))
        .collect();
    ok_data(
        t,
        "/hx/registerUser",
        json!({"users": users, "token": token}),
    )
    .await;
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut body = json!({"limit": 20, "token": token});
        if let Some(c) = &cursor {
            body["cursor"] = json!(c);
        }
        let reply = hx(t, "/hx/getUser", body).await;
        assert_eq!(reply["msg"], "请求成功");
        let data = &reply["data"];
        assert_eq!(data["params"], json!({"limit": ["20"]}));
        let entities = data["entities"].as_array().unwrap();
        assert!(entities.len() <= 20);
        assert_eq!(data["count"], entities.len());
        seen.extend(
            entities
                .iter()
                .map(|e| e["username"].as_str().unwrap().to_owned()),
        );
        pages += 1;
        if pages == 1 {
            // Added during the walk: must not make anyone appear twice.
            ok_data(
                t,
                "/hx/registerUser",
                json!({"username": "aaa-late", "password": "p", "token": token}),
            )
            .await;
        }
        match data["cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert!(pages >= 3, "{pages} pages");
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), seen.len(), "nobody twice");
    assert_eq!(sorted, seen, "a stable order");
    for i in 0..45 {
        assert!(seen.contains(&format!("walk{i:02}")), "walk{i:02} missed");
    }
    // Spec example 11, as written: ten at most, and a cursor.
    let reply = hx(t, "/hx/getUser", json!({"limit": 10, "token": token})).await;
    let data = &reply["data"];
    assert_eq!(data["entities"].as_array().unwrap().len(), 10);
    assert_eq!(
        (
            data["count"].as_i64(),
            data["action"].as_str(),
            data["path"].as_str()
        ),
        (Some(10), Some("get"), Some("/users"))
    );
    assert_eq!(data["params"], json!({"limit": ["10"]}));
    assert!(data["cursor"].as_str().is_some());
    assert!(data["uri"].as_str().unwrap().ends_with("/users"));
    let reply = hx(t, "/hx/getUser", json!({"limit": 21, "token": token})).await;
    assert_hx_err(&reply, 400, "limit");
    let reply = hx(
        t,
        "/hx/getUser",
        json!({"limit": 5, "cursor": "zz", "token": token}),
    )
    .await;
    assert_hx_err(&reply, 400, "cursor");
}

async fn passwords_and_login(t: &TestServer) {
    let token = app_token(t).await;
    ok_data(
        t,
        "/hx/registerUser",
        json!({"username": "u1", "password": "old-pass", "token": token}),
    )
    .await;
    let login = |password: &'static str| {
        hx(
            t,
            "/hx/userToken",
            json!({"username": "u1", "password": password}),
        )
    };
    let reply = login("old-pass").await;
    assert_eq!(reply["code"], 200, "{reply}");
    assert_eq!(reply["data"]["user"]["username"], "u1");
    assert_eq!(reply["data"]["user"]["uuid"].as_str().unwrap().len(), 36);
    assert!(reply["data"]["expires_in"].as_i64().unwrap() > 0);
    // Spec example 9 (with the comma its text lacks).
    let data = ok_data(
        t,
        "/hx/resetPassword",
        json!({"username": "u1", "newpassword": "123456", "token": token}),
    )
    .await;
    assert_common(&data, "set user password", "/users/u1/password");
    assert_eq!(data["data"], json!({"u1": "success"}));
    let reply = login("old-pass").await;
    assert_hx_err(&reply, 401, "wrong username or password");
    let unknown = hx(
        t,
        "/hx/userToken",
        json!({"username": "nobody", "password": "x"}),
    )
    .await;
    assert_eq!(
        unknown["message"], reply["message"],
        "says nothing of who exists"
    );
    let reply = login("123456").await;
    let user_token = reply["data"]["access_token"].as_str().unwrap().to_owned();
    // The token opens the gateway, and presence follows.
    let status = ok_data(
        t,
        "/hx/getUserStatus",
        json!({"username": "u1", "token": token}),
    )
    .await;
    assert_common(&status, "get", "/users/u1/status");
    assert_eq!(status["data"], json!({"u1": "offline"}));
    assert_eq!(status["count"], 0);
    let ws = confab_client::WsClient::connect(&t.url(), &user_token, 5)
        .await
        .unwrap();
    ws.ping().await.unwrap();
    let status = ok_data(
        t,
        "/hx/getUserStatus",
        json!({"username": "u1", "token": token}),
    )
    .await;
    assert_eq!(status["data"], json!({"u1": "online"}));
    ws.close().await;
    let mut offline = false;
    for _ in 0..100 {
        let status = ok_data(
            t,
            "/hx/getUserStatus",
            json!({"username": "u1", "token": token}),
        )
        .await;
        if status["data"] == json!({"u1": "offline"}) {
            offline = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(offline, "offline after the session closed");
    let reply = hx(
        t,
        "/hx/resetPassword",
        json!({"username": "u1", "newpassword": "", "token": token}),
    )
    .await;
    assert_hx_err(&reply, 400, "newpassword");
    let reply = hx(
        t,
        "/hx/getUserStatus",
        json!({"username": "ghost", "token": token}),
    )
    .await;
    assert_hx_err(&reply, 404, "ghost");
}

async fn friends_cross_dialect(t: &TestServer) {
    let token = app_token(t).await;
    for name in ["u1", "u2", "u3"] {
        ok_data(
            t,
            "/hx/registerUser",
            json!({"username": name, "password": "p", "token": token}),
        )
        .await;
    }
    // Spec example 4.
    let data = ok_data(
        t,
        "/hx/addFriends",
        json!({"owner_username": "u1", "friend_username": "u3", "type": "post", "token": token}),
    )
    .await;
    assert_eq!(data["action"], "post");
    let path = data["path"].as_str().unwrap();
    assert!(
        path.starts_with("/users/") && path.ends_with("/contacts"),
        "{path}"
    );
    assert_eq!(
        path.len(),
        "/users//contacts".len() + 36,
        "the owner's uuid: {path}"
    );
    assert!(data["uri"].as_str().unwrap().ends_with(path));
    assert_eq!(data["organization"], "confab");
    assert_entity(&data["entities"][0], "u3");
    ok_data(
        t,
        "/hx/addFriends",
        json!({"owner_username": "u1", "friend_username": "u2", "type": "post", "token": token}),
    )
    .await;
    // Spec example 5.
    let data = ok_data(
        t,
        "/hx/getFriends",
        json!({"owner_username": "u1", "type": "contacts", "token": token}),
    )
    .await;
    assert_eq!(data["data"], json!(["u3", "u2"]));
    assert_eq!(data["count"], 2);
    assert_eq!(data["entities"], json!([]));
    assert_eq!(data["action"], "get");
    assert!(data["uri"]
        .as_str()
        .unwrap()
        .ends_with("/users/u1/contacts/users"));
    // Both ways, in OpenIM's dialect too.
    let list = data_of(t, "/friend/get_friend_list", json!({"fromUserID": "u3"})).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["friendUser"]["userID"], "u1", "{list}");
    let list = data_of(t, "/friend/get_friend_list", json!({"fromUserID": "u1"})).await;
    let friends: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["friendUser"]["userID"].as_str().unwrap())
        .collect();
    assert_eq!(friends, ["u3", "u2"]);
    ok_data(
        t,
        "/hx/addFriends",
        json!({"owner_username": "u1", "friend_username": "u2", "type": "delete", "token": token}),
    )
    .await;
    let data = ok_data(
        t,
        "/hx/getFriends",
        json!({"owner_username": "u1", "type": "contacts", "token": token}),
    )
    .await;
    assert_eq!(data["data"], json!(["u3"]));
    // A block made through OpenIM shows here.
    ok(
        &t.admin,
        "/friend/add_black",
        json!({"fromUserID": "u1", "toUserID": "u2"}),
    )
    .await;
    let data = ok_data(
        t,
        "/hx/getFriends",
        json!({"owner_username": "u1", "type": "blocks", "token": token}),
    )
    .await;
    assert_eq!(data["data"], json!(["u2"]));
    assert!(data["uri"]
        .as_str()
        .unwrap()
        .ends_with("/users/u1/blocks/users"));
    // Refusals.
    let reply = hx(
        t,
        "/hx/addFriends",
        json!({"owner_username": "u1", "friend_username": "ghost", "type": "post", "token": token}),
    )
    .await;
    assert_hx_err(&reply, 404, "ghost");
    let reply = hx(
        t,
        "/hx/addFriends",
        json!({"owner_username": "u1", "friend_username": "u3", "type": "put", "token": token}),
    )
    .await;
    assert_hx_err(&reply, 400, "type");
    let reply = hx(
        t,
        "/hx/getFriends",
        json!({"owner_username": "u1", "type": "fans", "token": token}),
    )
    .await;
    assert_hx_err(&reply, 400, "type");
}

/// Every route but getToken and userToken needs a valid app token.
async fn tokens_are_required(t: &TestServer) {
    let user_token = {
        let token = app_token(t).await;
        ok_data(
            t,
            "/hx/registerUser",
            json!({"username": "tk", "password": "p", "token": token}),
        )
        .await;
        hx(
            t,
            "/hx/userToken",
            json!({"username": "tk", "password": "p"}),
        )
        .await["data"]["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let now = confab_core::now_millis() / 1000;
    let forge = |key: &[u8], exp: i64| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &json!({"UID": "admin", "Platform": "APad", "exp": exp, "nbf": now - 10, "iat": now - 10, "jti": "x", "kind": "app"}),
            &jsonwebtoken::EncodingKey::from_secret(key),
        )
        .unwrap()
    };
    let cases = [
        (None, "missing"),
        (Some(forge(b"wrong key", now + 100)), "signature"),
        (Some(forge(JWT_KEY.as_bytes(), now - 5)), "expired"),
        (Some(user_token), "not an app token"),
    ];
    for (token, needle) in cases {
        let mut body = json!({"username": "nobody-new", "password": "p"});
        if let Some(token) = token {
            body["token"] = json!(token);
        }
        let reply = hx(t, "/hx/registerUser", body).await;
        assert_hx_err(&reply, 401, needle);
    }
    let token = app_token(t).await;
    let reply = hx(
        t,
        "/hx/getUser",
        json!({"username": "nobody-new", "token": token}),
    )
    .await;
    assert_hx_err(&reply, 404, "nobody-new");
    // Without a token, a bad body is still a 401: the shape is not told.
    let reply = hx(t, "/hx/registerUser", json!({"username": 5})).await;
    assert_hx_err(&reply, 401, "token");
    // Bad input is a 400 in the envelope, never a 5xx.
    let reply = hx(
        t,
        "/hx/registerUser",
        json!({"username": 5, "token": token}),
    )
    .await;
    assert_hx_err(&reply, 400, "username");
    let reply = hx(
        t,
        "/hx/registerUser",
        json!({"username": "a b", "password": "p", "token": token}),
    )
    .await;
    assert_hx_err(&reply, 400, "username");
    let users: Vec<Value> = (0..61)
        .map(|i| json!({"username": format!("many{i}"), "password": "p"}))
        .collect();
    let reply = hx(
        t,
        "/hx/registerUser",
        json!({"users": users, "token": token}),
    )
    .await;
    assert_hx_err(&reply, 400, "at most 60");
}

on_both_backends!(
    register_and_get,
    cursor_walk,
    passwords_and_login,
    friends_cross_dialect,
    tokens_are_required,
    relayed_requests_are_not_trusted,
);

/// The application (and so every user's uuid) lives in the database: a
/// server on another data dir but the same database shows the same.
#[tokio::test]
async fn the_application_is_kept_in_the_database() {
    let db = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", db.path().join("shared.db").display());
    let mut seen = Vec::new();
    for _ in 0..2 {
        let url = url.clone();
        let t = TestServer::start_with(Backend::Sqlite, move |s| s.database_url = Some(url))
            .await
            .unwrap();
        let token = app_token(&t).await;
        if seen.is_empty() {
            ok_data(
                &t,
                "/hx/registerUser",
                json!({"username": "kept", "password": "p", "token": token}),
            )
            .await;
        }
        let data = ok_data(
            &t,
            "/hx/getUser",
            json!({"username": "kept", "token": token}),
        )
        .await;
        let app = ok_data(&t, "/hx/getToken", json!({})).await["application"].clone();
        seen.push((app, data["entities"][0]["uuid"].clone()));
        t.stop().await;
    }
    assert_eq!(seen[0], seen[1]);
}

/// A request relayed by a proxy is not trusted by its (loopback) address.
async fn relayed_requests_are_not_trusted(t: &TestServer) {
    let reply: Value = reqwest::Client::new()
        .post(format!("{}/hx/getToken", t.url()))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_hx_err(&reply, 401, "client_id");
}

/// From outside the trusted networks, getToken needs the client
/// credentials.
#[tokio::test]
async fn untrusted_callers_need_client_credentials() {
    let t = TestServer::start_with(Backend::Sqlite, |s| {
        s.trusted_networks = Some(vec!["10.9.0.0/16".into()]);
        s.easemob_client_id = Some("app-id".into());
        s.easemob_client_secret = Some("app-secret".into());
    })
    .await
    .unwrap();
    let reply = hx(&t, "/hx/getToken", json!({})).await;
    assert_hx_err(&reply, 401, "client_id");
    let reply = hx(
        &t,
        "/hx/getToken",
        json!({"client_id": "app-id", "client_secret": "nope"}),
    )
    .await;
    assert_hx_err(&reply, 401, "client_id");
    let data = ok_data(
        &t,
        "/hx/getToken",
        json!({"client_id": "app-id", "client_secret": "app-secret"}),
    )
    .await;
    assert!(data["access_token"].as_str().unwrap().len() > 20);
    t.stop().await;
}
