//! /auth/*: tokens, one live token per user and platform, revocation.

use crate::harness::*;
use serde_json::json;

async fn admin_token_and_parse(t: &TestServer) {
    let body = ok(
        &t.anon,
        "/auth/user_token",
        json!({"secret": SECRET, "platform": 8, "userID": ADMIN, "operationID": op()}),
    )
    .await;
    let token = body["data"]["token"].as_str().unwrap();
    assert_eq!(body["data"]["userID"], ADMIN);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let expires = body["data"]["expiredTime"].as_i64().unwrap();
    assert!(
        expires > now + 80 * 24 * 3600,
        "default lifetime is 90 days: {expires}"
    );

    let parsed = data(
        &t.anon.with_token(token),
        "/auth/parse_token",
        json!({"operationID": op()}),
    )
    .await;
    assert_eq!(parsed["userID"], ADMIN);
    assert_eq!(parsed["platform"], "APad");
    assert_eq!(parsed["expireTimeSeconds"], expires);
}

async fn user_token_refusals(t: &TestServer) {
    let wrong = t
        .anon
        .call(
            "/auth/user_token",
            &json!({"secret": "nope", "platform": 1, "userID": ADMIN}),
        )
        .await
        .unwrap();
    assert_err(&wrong, 801, "secret");
    let unknown = t
        .anon
        .call(
            "/auth/user_token",
            &json!({"secret": SECRET, "platform": 1, "userID": "ghost"}),
        )
        .await
        .unwrap();
    assert_err(&unknown, 803, "user ghost does not exist");
    let platform = t
        .anon
        .call(
            "/auth/user_token",
            &json!({"secret": SECRET, "platform": 10, "userID": ADMIN}),
        )
        .await
        .unwrap();
    assert_err(&platform, 803, "platform: unknown platform 10");
}

async fn register_then_use_token(t: &TestServer) {
    let body = ok(
        &t.anon,
        "/auth/user_register",
        json!({"secret": SECRET, "platform": 2, "userID": "reg1", "nickname": "Reg", "faceURL": "http://f", "gender": 1, "operationID": op()}),
    )
    .await;
    assert_eq!(body["data"]["userID"], "reg1");
    let token = body["data"]["token"].as_str().unwrap();
    let me = data(
        &t.anon.with_token(token),
        "/user/get_self_user_info",
        json!({"userID": "reg1"}),
    )
    .await;
    assert_eq!(me["nickname"], "Reg");
    assert_eq!(me["faceURL"], "http://f");
    assert_eq!(me["gender"], 1);

    let again = t
        .anon
        .call(
            "/auth/user_register",
            &json!({"secret": SECRET, "platform": 2, "userID": "reg1"}),
        )
        .await
        .unwrap();
    assert_err(&again, 803, "user reg1 already exists");
    let no_secret = t
        .anon
        .call(
            "/auth/user_register",
            &json!({"secret": "bad", "platform": 2, "userID": "reg2"}),
        )
        .await
        .unwrap();
    assert_err(&no_secret, 801, "secret");
    let missing = t
        .anon
        .call(
            "/auth/user_register",
            &json!({"platform": 2, "userID": "reg2"}),
        )
        .await
        .unwrap();
    assert_err(&missing, 803, "secret: missing");
}

async fn relogin_on_same_platform_revokes(t: &TestServer) {
    t.user("dup").await;
    let first = t.anon.user_token(SECRET, "dup", 5).await.unwrap();
    let other_platform = t.anon.user_token(SECRET, "dup", 2).await.unwrap();
    let second = t.anon.user_token(SECRET, "dup", 5).await.unwrap();
    let old = t
        .anon
        .with_token(&first)
        .call("/user/get_self_user_info", &json!({}))
        .await
        .unwrap();
    assert_err(&old, 706, "replaced by a newer login");
    for token in [&second, &other_platform] {
        let me = data(
            &t.anon.with_token(token),
            "/user/get_self_user_info",
            json!({}),
        )
        .await;
        assert_eq!(me["userID"], "dup");
    }
}

async fn force_logout(t: &TestServer) {
    let victim = t.user("victim").await;
    let bystander = t.user("bystander").await;
    let denied = bystander
        .call(
            "/auth/force_logout",
            &json!({"platform": 1, "fromUserID": "victim"}),
        )
        .await
        .unwrap();
    assert_err(&denied, 801, "cannot act for victim");
    ok(
        &t.admin,
        "/auth/force_logout",
        json!({"platform": 1, "fromUserID": "victim", "operationID": op()}),
    )
    .await;
    let after = victim
        .call("/user/get_self_user_info", &json!({}))
        .await
        .unwrap();
    assert_err(&after, 706, "logged out");
    // A user may log themselves out.
    ok(
        &bystander,
        "/auth/force_logout",
        json!({"platform": 1, "fromUserID": "bystander"}),
    )
    .await;
    assert_eq!(
        bystander
            .call("/user/get_self_user_info", &json!({}))
            .await
            .unwrap()
            .err_code(),
        706
    );
}

async fn bad_tokens(t: &TestServer) {
    let none = t
        .anon
        .call("/user/get_self_user_info", &json!({}))
        .await
        .unwrap();
    assert_err(&none, 703, "token: missing");
    let garbage = t
        .anon
        .with_token("abc")
        .call("/user/get_self_user_info", &json!({}))
        .await
        .unwrap();
    assert_err(&garbage, 703, "not a Confab token");

    use jsonwebtoken::{encode, EncodingKey, Header};
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let claims = |exp: i64| json!({"UID": ADMIN, "Platform": "APad", "exp": exp, "nbf": now - 100, "iat": now - 100, "jti": "x"});
    let forged = encode(
        &Header::default(),
        &claims(now + 100),
        &EncodingKey::from_secret(b"other key"),
    )
    .unwrap();
    let reply = t
        .anon
        .with_token(&forged)
        .call("/user/get_self_user_info", &json!({}))
        .await
        .unwrap();
    assert_err(&reply, 702, "signature");
    let expired = encode(
        &Header::default(),
        &claims(now - 90),
        &EncodingKey::from_secret(JWT_KEY.as_bytes()),
    )
    .unwrap();
    let reply = t
        .anon
        .with_token(&expired)
        .call("/user/get_self_user_info", &json!({}))
        .await
        .unwrap();
    assert_err(&reply, 701, "expired");
    // Right key, live claims, but not the token the server issued.
    let unissued = encode(
        &Header::default(),
        &claims(now + 100),
        &EncodingKey::from_secret(JWT_KEY.as_bytes()),
    )
    .unwrap();
    let reply = t
        .anon
        .with_token(&unissued)
        .call("/user/get_self_user_info", &json!({}))
        .await
        .unwrap();
    assert_err(&reply, 706, "");
}

on_both_backends!(
    admin_token_and_parse,
    user_token_refusals,
    register_then_use_token,
    relogin_on_same_platform_revokes,
    force_logout,
    bad_tokens,
);
