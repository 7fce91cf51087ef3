//! The yunbay API's routes: the spec's examples with real signatures, the
//! notes' worked example, and refusals that change nothing.

use crate::harness::*;
use crate::yunbay_support::*;
use serde_json::json;
use std::time::Duration;

/// Whether OpenIM sees user `id`.
async fn exists(t: &TestServer, id: &str) -> bool {
    let users = data(
        &t.admin,
        "/user/get_users_info",
        json!({"userIDList": [id]}),
    )
    .await;
    !users.as_array().unwrap().is_empty()
}

#[tokio::test]
async fn the_worked_example_signs_as_the_notes_say() {
    let t = server(|_| {}).await;
    // The notes' example, byte for byte: its signature is the literal
    // ec68a875..., computed here by the test's own signer too.
    assert_eq!(
        sign(
            "/man/user/register",
            "",
            SPEC_HEADERS,
            br#"{"user_id":0}"#,
            APP_KEY
        ),
        "ec68a8754785a6a546911d05f2de374b0d7ee910"
    );
    let a = call(
        &t,
        "POST",
        "/man/user/register",
        Some(r#"{"user_id":0}"#),
        &[],
        Signing::Literal("ec68a8754785a6a546911d05f2de374b0d7ee910"),
    )
    .await;
    let d = a.data();
    assert_eq!(d["user_id"], json!(0));
    assert_eq!(d["accid"], json!("0"));
    assert!(d["im_token"].as_str().unwrap().len() > 20);
    assert!(exists(&t, "0").await, "the same user as OpenIM's \"0\"");

    assert_eq!(
        sign(
            "/man/user/info",
            "user_ids=51869",
            SPEC_HEADERS,
            b"",
            APP_KEY
        ),
        "9a771311d8614f9fafbbb70468dc88a0465b78d0"
    );
    let a = call(
        &t,
        "GET",
        "/man/user/info?user_ids=51869",
        None,
        &[],
        Signing::Literal("9a771311d8614f9fafbbb70468dc88a0465b78d0"),
    )
    .await;
    assert_eq!(a.data(), &json!([]), "51869 is not registered yet");
    t.stop().await;
}

#[tokio::test]
async fn the_spec_examples_with_real_signatures() {
    let t = server(|_| {}).await;
    // 注册用户IM帐号: idempotent, the same account each time.
    let first = register(&t, 51869).await;
    assert_eq!(first["user_id"], json!(51869));
    assert_eq!(first["accid"], json!("51869"));
    let again = register(&t, 51869).await;
    assert_eq!(again["accid"], json!("51869"));
    // Registering again logs nobody out: both tokens open the gateway.
    for token in [&first["im_token"], &again["im_token"]] {
        let ws = confab_client::WsClient::connect(&t.url(), token.as_str().unwrap(), 5)
            .await
            .unwrap();
        ws.ping().await.unwrap();
    }

    // 更新IM用户信息, from the body when no account service is set.
    let body = r#"{"user_id":51869,"username":"小明","avatar":"http://img/1.png","birthday":"1990-01-02","user_type":2}"#;
    let a = signed(&t, "POST", "/man/user/info/update", Some(body)).await;
    assert_eq!(a.data(), &json!({}));
    // The spec's own example, with the user id only, changes nothing.
    let a = signed(
        &t,
        "POST",
        "/man/user/info/update",
        Some(r#"{"user_id":51869}"#),
    )
    .await;
    assert_eq!(a.data(), &json!({}));

    // 获取IM用户信息
    let a = signed(&t, "GET", "/man/user/info?user_ids=51869", None).await;
    assert_eq!(
        a.data(),
        &json!([{"accid": "51869", "name": "小明", "icon": "http://img/1.png", "birth": "1990-01-02", "ex": "{\"user_type\":2}"}])
    );
    let info = data(
        &t.admin,
        "/user/get_users_info",
        json!({"userIDList": ["51869"]}),
    )
    .await;
    assert_eq!(info[0]["nickname"], "小明");
    assert_eq!(info[0]["faceURL"], "http://img/1.png");

    // Two users, one unknown: those that exist, in the order asked.
    register(&t, 7).await;
    // Numbers 1 and 2 are free although two admin users were made first.
    assert_eq!(register(&t, 1).await["accid"], json!("1"));
    assert_eq!(register(&t, 2).await["accid"], json!("2"));
    let a = signed(&t, "GET", "/man/user/info?user_ids=51869,404,7", None).await;
    let accids: Vec<&str> = a
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["accid"].as_str().unwrap())
        .collect();
    assert_eq!(accids, ["51869", "7"]);

    // 更新所有IM用户信息 needs the account service.
    let a = signed(&t, "GET", "/man/user/info/update/all?start_user_id=0", None).await;
    a.fails_saying(200, "DATA_NOT_SUPPORT", "no account service");

    // 生成token, then 获取用户IM token with it.
    let a = unsigned(&t, "GET", "/man/account/token?user_id=51869", None).await;
    let token = a.data()["token"].as_str().unwrap().to_owned();
    assert_eq!(a.data()["user_id"], json!(51869));
    assert!(a.data()["expires_at"].as_i64().unwrap() > confab_core::now_millis() / 1000);
    let a = im_token(&t, &[("X-Yf-Token", &token)]).await;
    assert_eq!(a.data()["accid"], json!("51869"));
    let im_token = a.data()["im_token"].as_str().unwrap().to_owned();
    // The IM token opens Confab's own gateway as that user.
    let ws = confab_client::WsClient::connect(&t.url(), &im_token, 5)
        .await
        .unwrap();
    ws.ping().await.unwrap();

    // 发送消息, the spec's body as written (a broadcast).
    let body = r#"{"type":0, "to":[], "id":1, "action":"lotterys_notify","data":{"content":"你是谁?", "lotterys_id":1, "status":2}}"#;
    let a = unsigned(&t, "POST", "/man/msg/send", Some(body)).await;
    let id = a.data()["id"].as_i64().unwrap();
    assert!(id >= 1);
    // The request's id is not a key: the same body again is a new notification.
    let a = unsigned(&t, "POST", "/man/msg/send", Some(body)).await;
    assert_eq!(a.data()["id"].as_i64().unwrap(), id + 1);
    t.stop().await;
}

#[tokio::test]
async fn refusals_change_nothing() {
    let t = server(|_| {}).await;
    let body = Some(r#"{"user_id":77}"#);
    // The spec's debug signature is off by default.
    let a = call(
        &t,
        "POST",
        "/man/user/register",
        body,
        &[],
        Signing::Literal(DEBUG_SIGN),
    )
    .await;
    a.fails(401, "ERR_SIGN_ERROR");
    // Wrong key, missing signature.
    let a = call(
        &t,
        "POST",
        "/man/user/register",
        body,
        &[],
        Signing::Key("not-the-key"),
    )
    .await;
    a.fails(401, "ERR_SIGN_ERROR");
    let a = call(&t, "POST", "/man/user/register", body, &[], Signing::None).await;
    a.fails(401, "ERR_SIGN_ERROR");
    // A signature of another body.
    let sig = sign(
        "/man/user/register",
        "",
        SPEC_HEADERS,
        br#"{"user_id":78}"#,
        APP_KEY,
    );
    let a = call(
        &t,
        "POST",
        "/man/user/register",
        body,
        &[],
        Signing::Literal(&sig),
    )
    .await;
    a.fails(401, "ERR_SIGN_ERROR");
    // An unknown app.
    let a = call(
        &t,
        "POST",
        "/man/user/register",
        body,
        &[("X-Yf-AppId", "nobody")],
        Signing::Key(APP_KEY),
    )
    .await;
    a.fails(401, "ERR_ARGS_INVALID");
    assert!(!exists(&t, "77").await, "nothing was registered");

    // Bad bodies: 400, in the envelope.
    for bad in [
        r#"{"user_id":-1}"#,
        r#"{"user_id":1000000000000000}"#,
        r#"{"user_id":"77"}"#,
        r#"{}"#,
        "[1]",
        r#"{"user_id":1"#,
    ] {
        let a = signed(&t, "POST", "/man/user/register", Some(bad)).await;
        a.fails(400, "ERR_ARGS_INVALID");
    }
    let a = signed(&t, "GET", "/man/user/info?user_ids=abc", None).await;
    a.fails(400, "ERR_ARGS_INVALID");
    assert!(!exists(&t, "77").await && !exists(&t, "1").await);

    // Tokens: missing, unknown.
    let a = im_token(&t, &[]).await;
    a.fails(401, "ERR_TOKEN_INVALID");
    let a = im_token(
        &t,
        &[("X-Yf-Token", "T1gkMkaNIeCCINb5aIe29RQ2gYujcP4Nz9.bf6")],
    )
    .await;
    a.fails(401, "ERR_TOKEN_INVALID");
    // A token for a user who is not registered.
    let a = unsigned(&t, "GET", "/man/account/token?user_id=77", None).await;
    a.fails(200, "ERR_NOT_FOUND");
    // A notification to a user who does not exist: nothing is sent.
    let a = unsigned(
        &t,
        "POST",
        "/man/msg/send",
        Some(r#"{"type":0,"to":[77],"action":"x","data":{}}"#),
    )
    .await;
    a.fails_saying(200, "ERR_NOT_FOUND", "77");
    let a = unsigned(
        &t,
        "POST",
        "/man/msg/send",
        Some(r#"{"type":0,"to":[1],"action":"","data":{}}"#),
    )
    .await;
    a.fails(400, "ERR_ARGS_INVALID");
    let a = unsigned(
        &t,
        "POST",
        "/man/msg/send",
        Some(r#"{"type":0,"action":"x"}"#),
    )
    .await;
    a.fails_saying(400, "ERR_ARGS_INVALID", "to");
    let a = unsigned(
        &t,
        "POST",
        "/man/msg/send",
        Some(r#"{"type":0,"to":[-3],"action":"x"}"#),
    )
    .await;
    a.fails_saying(400, "ERR_ARGS_INVALID", "to: must be from 0");
    // None of the refused notifications reached anyone.
    let token = user_token(&t, 1).await;
    let mut ws = YbSocket::connect(&t, &token, "ios", false).await;
    assert!(ws.drain().await.is_empty());
    t.stop().await;
}

#[tokio::test]
async fn the_debug_signature_when_asked_for() {
    let t = server(|s| s.yunbay_debug_sign = Some(true)).await;
    // The spec's curl example, verbatim.
    let a = call(
        &t,
        "POST",
        "/man/user/register",
        Some(r#"{"user_id":0}"#),
        &[],
        Signing::Literal(DEBUG_SIGN),
    )
    .await;
    assert_eq!(a.data()["accid"], json!("0"));
    // Real signatures still work; wrong ones still fail.
    register(&t, 5).await;
    let a = call(
        &t,
        "POST",
        "/man/user/register",
        Some(r#"{"user_id":6}"#),
        &[],
        Signing::Literal("0000"),
    )
    .await;
    a.fails(401, "ERR_SIGN_ERROR");
    t.stop().await;
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let t = server(|s| s.yunbay_token_ttl_secs = Some(1)).await;
    let token = user_token(&t, 12).await;
    let a = im_token(&t, &[("X-Yf-Token", &token)]).await;
    assert_eq!(a.data()["accid"], json!("12"));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let a = im_token(&t, &[("X-Yf-Token", &token)]).await;
    a.fails(401, "ERR_TOKEN_INVALID");
    let refused = YbSocket::try_connect(&t, &token, "ios", false)
        .await
        .err()
        .unwrap();
    assert_eq!(refused.0, 401);
    assert_eq!(refused.1["reason"], json!("ERR_TOKEN_INVALID"));
    t.stop().await;
}

#[tokio::test]
async fn logging_out_everywhere_revokes_user_tokens() {
    let t = server(|_| {}).await;
    let token = user_token(&t, 13).await;
    ok(&t.admin, "/auth/force_logout", json!({"userID": "13"})).await;
    let a = im_token(&t, &[("X-Yf-Token", &token)]).await;
    a.fails(401, "ERR_TOKEN_INVALID");
    t.stop().await;
}

#[tokio::test]
async fn management_routes_serve_only_trusted_networks() {
    let t = server(|s| s.trusted_networks = Some(vec!["10.0.0.0/8".into()])).await;
    let a = signed(&t, "POST", "/man/user/register", Some(r#"{"user_id":88}"#)).await;
    a.fails(403, "ERR_HTTP_FORBIDDEN");
    let a = unsigned(
        &t,
        "POST",
        "/man/msg/send",
        Some(r#"{"type":0,"to":[],"action":"x","data":{}}"#),
    )
    .await;
    a.fails(403, "ERR_HTTP_FORBIDDEN");
    let a = unsigned(&t, "GET", "/man/account/token?user_id=88", None).await;
    a.fails(403, "ERR_HTTP_FORBIDDEN");
    assert!(!exists(&t, "88").await);
    t.stop().await;

    // A forwarded request is not trusted by the proxy's address.
    let t = server(|_| {}).await;
    let a = call(
        &t,
        "POST",
        "/man/msg/send",
        Some(r#"{"type":0,"to":[],"action":"x","data":{}}"#),
        &[("X-Forwarded-For", "203.0.113.9")],
        Signing::None,
    )
    .await;
    a.fails(403, "ERR_HTTP_FORBIDDEN");
    t.stop().await;
}
