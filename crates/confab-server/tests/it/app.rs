//! The app access API: SMS codes through a real HTTP provider (a capturing
//! server in the test), sign-in, sessions and their limits.

use crate::harness::*;
use axum::routing::post;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// An SMS provider that records what it is sent; `fail` makes it answer 500.
#[derive(Clone, Default)]
struct Capture {
    sent: Arc<Mutex<Vec<Value>>>,
    fail: Arc<Mutex<bool>>,
}

impl Capture {
    async fn start() -> (Capture, String) {
        let capture = Capture::default();
        let state = capture.clone();
        let app = axum::Router::new().route(
            "/sms",
            post(move |axum::Json(body): axum::Json<Value>| {
                let state = state.clone();
                async move {
                    state.sent.lock().unwrap().push(body);
                    if *state.fail.lock().unwrap() {
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        axum::http::StatusCode::OK
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/sms", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (capture, url)
    }

    fn last_code(&self) -> String {
        let sent = self.sent.lock().unwrap();
        sent.last().expect("a code was sent")["code"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

async fn server(tweak: impl FnOnce(&mut confab_server::config::Settings)) -> (TestServer, Capture) {
    let (capture, url) = Capture::start().await;
    let t = TestServer::start_with(Backend::Sqlite, move |s| {
        s.sms_provider = Some("http".into());
        s.sms_http_url = Some(url);
        tweak(s);
    })
    .await
    .unwrap();
    (t, capture)
}

/// A form POST; the answer's body, after checking its envelope.
async fn form(t: &TestServer, path: &str, body: &str) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", t.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let reply: Value = response.json().await.unwrap();
    assert_eq!(reply["request-id"].as_str().unwrap().len(), 32, "{reply}");
    if reply["code"] != 0 {
        assert!(reply["data"].is_null(), "{reply}");
        assert!(!reply["message"].as_str().unwrap().is_empty());
    }
    reply
}

fn assert_code(reply: &Value, code: i64, needle: &str) {
    assert_eq!(reply["code"], code, "{reply}");
    let message = reply["message"].as_str().unwrap();
    assert!(message.contains(needle), "{message:?} lacks {needle:?}");
}

#[tokio::test]
async fn sign_in_by_sms_as_the_spec_shows() {
    let (t, capture) = server(|_| {}).await;
    // The spec's example, as written.
    let reply = form(&t, "/sms/send", "nation_code=86&phone=16522222222").await;
    assert_eq!(
        (
            reply["code"].as_i64(),
            reply["message"].as_str(),
            reply["data"].as_str()
        ),
        (Some(0), Some("ok"), Some("ok"))
    );
    let sent = capture.sent.lock().unwrap()[0].clone();
    assert_eq!(
        (sent["nation_code"].as_str(), sent["phone"].as_str()),
        (Some("86"), Some("16522222222"))
    );
    let code = capture.last_code();
    assert!(
        code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
        "{code}"
    );
    // Too soon for another.
    let reply = form(&t, "/sms/send", "nation_code=86&phone=16522222222").await;
    assert_code(&reply, 2, "try again");
    assert_eq!(
        capture.sent.lock().unwrap().len(),
        1,
        "no send over the limit"
    );
    let reply = form(&t, "/accessuser/signinbysms", &format!("nation_code=86&phone=16522222222&check_code={code}&device=android&device_id=qbfkdvkjdckci")).await;
    assert_eq!(reply["code"], 0, "{reply}");
    let data = &reply["data"];
    assert_eq!(data["is_first_login"], 1);
    assert!(data["avatar"].is_null());
    let nickname = data["nickname"].as_str().unwrap();
    assert_eq!(nickname.len(), 6, "{nickname}");
    let user_id = data["user_id"].as_i64().expect("a JSON number");
    let token = data["token"].as_str().unwrap();
    assert!(
        token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()),
        "{token}"
    );
    // The code worked once.
    let reply = form(&t, "/accessuser/signinbysms", &format!("nation_code=86&phone=16522222222&check_code={code}&device=android&device_id=qbfkdvkjdckci")).await;
    assert_code(&reply, 2, "no valid code");
    // The im_token opens the gateway, as that user on android (2).
    let im_token = data["im_token"].as_str().unwrap();
    let ws = confab_client::WsClient::connect(&t.url(), im_token, 2)
        .await
        .unwrap();
    ws.ping().await.unwrap();
    // The same user for OpenIM, by the number as a string.
    let info = crate::harness::data(
        &t.admin,
        "/user/get_users_info",
        json!({"userIDList": [user_id.to_string()]}),
    )
    .await;
    assert_eq!(info[0]["nickname"], nickname);
    assert_eq!(info[0]["phoneNumber"], "+8616522222222");
    t.stop().await;
}

#[tokio::test]
async fn a_second_sign_in_is_the_same_user() {
    let (t, capture) = server(|s| s.sms_resend_interval_secs = Some(0)).await;
    let mut ids = Vec::new();
    for (round, first) in [(0, 1), (1, 0)] {
        let reply = form(&t, "/sms/send", "nation_code=86&phone=13800138000").await;
        assert_eq!(reply["code"], 0, "round {round}: {reply}");
        let code = capture.last_code();
        let reply = form(
            &t,
            "/accessuser/signinbysms",
            &format!("nation_code=86&phone=13800138000&check_code={code}&device=web"),
        )
        .await;
        assert_eq!(reply["data"]["is_first_login"], first, "{reply}");
        ids.push(reply["data"]["user_id"].clone());
    }
    assert_eq!(ids[0], ids[1]);
    t.stop().await;
}

#[tokio::test]
async fn codes_and_numbers_are_refused() {
    let (t, capture) = server(|s| {
        s.sms_resend_interval_secs = Some(0);
        s.sms_daily_limit = Some(3);
    })
    .await;
    assert_code(
        &form(&t, "/sms/send", "nation_code=86&phone=123").await,
        1,
        "phone",
    );
    assert_code(
        &form(&t, "/sms/send", "nation_code=1&phone=16522222222").await,
        1,
        "country code 1",
    );
    assert_code(&form(&t, "/sms/send", "nation_code=86").await, 1, "phone");
    assert!(capture.sent.lock().unwrap().is_empty());
    // Five wrong tries void the code: the sixth fails even when right.
    form(&t, "/sms/send", "nation_code=86&phone=13912345678").await;
    let code = capture.last_code();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let reply = form(
            &t,
            "/accessuser/signinbysms",
            &format!("nation_code=86&phone=13912345678&check_code={wrong}&device=ios&device_id=d"),
        )
        .await;
        assert_code(&reply, 1, "wrong code");
    }
    let reply = form(
        &t,
        "/accessuser/signinbysms",
        &format!("nation_code=86&phone=13912345678&check_code={code}&device=ios&device_id=d"),
    )
    .await;
    assert_code(&reply, 2, "too many attempts");
    // Bad fields.
    assert_code(
        &form(
            &t,
            "/accessuser/signinbysms",
            "nation_code=86&phone=13912345678&check_code=12&device=ios",
        )
        .await,
        1,
        "check_code",
    );
    assert_code(
        &form(
            &t,
            "/accessuser/signinbysms",
            "nation_code=86&phone=13912345678&check_code=123456&device=tv",
        )
        .await,
        1,
        "device",
    );
    // The daily limit: three codes, then no more.
    form(&t, "/sms/send", "nation_code=86&phone=13912345678").await;
    form(&t, "/sms/send", "nation_code=86&phone=13912345678").await;
    let before = capture.sent.lock().unwrap().len();
    assert_code(
        &form(&t, "/sms/send", "nation_code=86&phone=13912345678").await,
        2,
        "a day",
    );
    assert_eq!(capture.sent.lock().unwrap().len(), before);
    t.stop().await;
}

#[tokio::test]
async fn limits_per_address_expiry_and_a_failing_provider() {
    let (t, capture) = server(|s| {
        s.sms_resend_interval_secs = Some(0);
        s.sms_ip_hourly_limit = Some(2);
        s.sms_code_ttl_secs = Some(1);
    })
    .await;
    form(&t, "/sms/send", "nation_code=86&phone=13700000001").await;
    let code = capture.last_code();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let reply = form(
        &t,
        "/accessuser/signinbysms",
        &format!("nation_code=86&phone=13700000001&check_code={code}&device=web"),
    )
    .await;
    assert_code(&reply, 2, "expired");
    form(&t, "/sms/send", "nation_code=86&phone=13700000002").await;
    assert_code(
        &form(&t, "/sms/send", "nation_code=86&phone=13700000003").await,
        2,
        "an hour",
    );
    t.stop().await;

    let (t, capture) = server(|s| s.sms_resend_interval_secs = Some(0)).await;
    *capture.fail.lock().unwrap() = true;
    assert_code(
        &form(&t, "/sms/send", "nation_code=86&phone=13700000004").await,
        2,
        "could not be sent",
    );
    let code = capture.last_code();
    let reply = form(
        &t,
        "/accessuser/signinbysms",
        &format!("nation_code=86&phone=13700000004&check_code={code}&device=web"),
    )
    .await;
    assert_code(&reply, 2, "no valid code");
    t.stop().await;
}

#[tokio::test]
async fn the_request_id_is_the_callers_or_new() {
    let (t, _capture) = server(|_| {}).await;
    let response = reqwest::Client::new()
        .post(format!("{}/sms/send", t.url()))
        .header("x-request-id", "abc-123")
        .body("nation_code=86&phone=123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "abc-123");
    let reply: Value = response.json().await.unwrap();
    assert_eq!(reply["request-id"], "abc-123");
    assert_eq!(reply["code"], 1);
    // An unknown app path: HTTP 404 in the app's envelope, with an id too.
    let response = reqwest::Client::new()
        .post(format!("{}/accessuser/nothing", t.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let reply: Value = response.json().await.unwrap();
    assert_eq!(
        (reply["code"].as_i64(), reply["data"].is_null()),
        (Some(1), true),
        "{reply}"
    );
    assert_eq!(reply["request-id"].as_str().unwrap().len(), 32);
    t.stop().await;
}

/// Signs a phone in; its session token and user id.
async fn sign_in(t: &TestServer, capture: &Capture, phone: &str) -> (String, i64) {
    let (token, id, _) = sign_in_im(t, capture, phone).await;
    (token, id)
}

/// Signs a phone in; its session token, user id and IM token.
async fn sign_in_im(t: &TestServer, capture: &Capture, phone: &str) -> (String, i64, String) {
    let reply = form(t, "/sms/send", &format!("nation_code=86&phone={phone}")).await;
    assert_eq!(reply["code"], 0, "{reply}");
    let code = capture.last_code();
    let reply = form(
        t,
        "/accessuser/signinbysms",
        &format!("nation_code=86&phone={phone}&check_code={code}&device=ios&device_id=x"),
    )
    .await;
    assert_eq!(reply["code"], 0, "{reply}");
    let data = &reply["data"];
    (
        data["token"].as_str().unwrap().to_owned(),
        data["user_id"].as_i64().unwrap(),
        data["im_token"].as_str().unwrap().to_owned(),
    )
}

async fn authed(t: &TestServer, token: &str, path: &str, body: &str) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", t.url()))
        .header("token", token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn follow_block_and_lists() {
    let (t, capture) = server(|s| s.sms_resend_interval_secs = Some(0)).await;
    let (a, a_id) = sign_in(&t, &capture, "13100000001").await;
    let (b_token, b) = sign_in(&t, &capture, "13100000002").await;
    let (_, c) = sign_in(&t, &capture, "13100000003").await;
    // Spec example: follow.
    let reply = authed(
        &t,
        &a,
        "/relation/operation",
        &format!("to_user_id={b}&type=follow"),
    )
    .await;
    assert_eq!(
        (reply["code"].as_i64(), reply["data"].as_str()),
        (Some(0), Some("ok")),
        "{reply}"
    );
    authed(
        &t,
        &a,
        "/relation/operation",
        &format!("to_user_id={c}&type=follow"),
    )
    .await;
    // Spec example: the follow list, paged.
    let reply = authed(&t, &a, "/relation/followlist", "type=follow").await;
    let data = &reply["data"];
    assert_eq!(
        data["page_info"],
        json!({"page": 1, "size": 20, "totalPage": 1, "totalCount": 2})
    );
    assert_eq!(data["list"][0]["user_id"], b, "a number");
    assert!(data["list"][0]["nickname"].as_str().unwrap().len() == 6);
    assert!(data["list"][0]["avatar"].is_null());
    let reply = authed(&t, &a, "/relation/followlist", "type=follow&page=2&size=1").await;
    assert_eq!(
        reply["data"]["page_info"],
        json!({"page": 2, "size": 1, "totalPage": 2, "totalCount": 2})
    );
    assert_eq!(reply["data"]["list"][0]["user_id"], c);
    // One-way: b follows nobody.
    let reply = authed(&t, &b_token, "/relation/followlist", "type=follow").await;
    assert_eq!(reply["data"]["page_info"]["totalCount"], 0);
    // Blocking ends the follow, and b can no longer message a by any path.
    authed(
        &t,
        &a,
        "/relation/operation",
        &format!("to_user_id={b}&type=block"),
    )
    .await;
    let reply = authed(&t, &a, "/relation/followlist", "type=follow").await;
    assert_eq!(reply["data"]["list"][0]["user_id"], c);
    assert_eq!(reply["data"]["page_info"]["totalCount"], 1);
    let reply = authed(&t, &a, "/relation/followlist", "type=black").await;
    assert_eq!(reply["data"]["list"][0]["user_id"], b);
    let sent = t
        .admin
        .call(
            "/manager/send_msg",
            &json!({"sendID": b.to_string(), "recvID": a_id.to_string(), "contentType": 101, "content": {"text": "x"}, "sessionType": 1}),
        )
        .await
        .unwrap();
    assert_err(&sent, 804, "has blocked");
    // Following again lifts the block.
    authed(
        &t,
        &a,
        "/relation/operation",
        &format!("to_user_id={b}&type=follow"),
    )
    .await;
    let reply = authed(&t, &a, "/relation/followlist", "type=black").await;
    assert_eq!(reply["data"]["page_info"]["totalCount"], 0);
    // Refusals.
    let reply = authed(
        &t,
        "",
        "/relation/operation",
        &format!("to_user_id={b}&type=follow"),
    )
    .await;
    assert_code(&reply, 10, "token");
    let reply = authed(
        &t,
        "0123456789abcdef0123456789abcdef",
        "/relation/followlist",
        "type=follow",
    )
    .await;
    assert_code(&reply, 10, "token");
    assert_code(
        &authed(
            &t,
            &a,
            "/relation/operation",
            "to_user_id=999999&type=follow",
        )
        .await,
        4,
        "999999",
    );
    assert_code(
        &authed(
            &t,
            &a,
            "/relation/operation",
            &format!("to_user_id={b}&type=poke"),
        )
        .await,
        1,
        "type",
    );
    assert_code(
        &authed(&t, &a, "/relation/followlist", "type=follow&size=101").await,
        1,
        "size",
    );
    assert_code(
        &authed(&t, &a, "/relation/followlist", "type=fans").await,
        1,
        "type",
    );
    t.stop().await;
}

#[tokio::test]
async fn signed_conversations() {
    let (t, capture) = server(|s| s.sms_resend_interval_secs = Some(0)).await;
    let (a, a_id, a_im) = sign_in_im(&t, &capture, "13200000001").await;
    let (b, b_id) = sign_in(&t, &capture, "13200000002").await;
    let (_, c_id) = sign_in(&t, &capture, "13200000003").await;
    // The spec's form: members[] twice, in any order.
    let reply = authed(
        &t,
        &a,
        "/accessuser/getimtoken",
        &format!("act=conv.create&members[]={c_id}&members[]={b_id}"),
    )
    .await;
    assert_eq!(reply["code"], 0, "{reply}");
    let signature = reply["data"].as_str().unwrap().to_owned();
    // Its claims are the spec's: aud (a number), act, members, exp.
    let payload = signature.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&base64_url(payload)).unwrap();
    assert_eq!(claims["aud"], a_id);
    assert_eq!(claims["act"], "conv.create");
    let mut sorted = [b_id, c_id];
    sorted.sort();
    let expected = md5_of(&format!("[\"{}\",\"{}\"]", sorted[0], sorted[1]));
    assert_eq!(
        md5_of(r#"["6","7"]"#),
        "4da3203c3552dab1c183da893a483ede",
        "the spec's digest"
    );
    assert_eq!(claims["members"], expected);
    let ws = confab_client::WsClient::connect(&t.url(), &a_im, 1)
        .await
        .unwrap();
    let members = [b_id.to_string(), c_id.to_string()];
    let created = ws
        .create_conversation(&members, "trip", &signature)
        .await
        .unwrap();
    assert_eq!(
        created.member_count, 3,
        "the caller owns it, with both members"
    );
    assert_eq!(created.conversation_id, format!("g_{}", created.group_id));
    let info = crate::harness::data(
        &t.admin,
        "/group/get_groups_info",
        json!({"groupIDList": [created.group_id]}),
    )
    .await;
    assert_eq!(info[0]["groupName"], "trip");
    assert_eq!(info[0]["ownerUserID"], a_id.to_string());
    // Other members than signed, a garbled signature, another user's one.
    let err = ws
        .create_conversation(&[b_id.to_string()], "", &signature)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("other members"), "{err}");
    let err = ws
        .create_conversation(&members, "", "garbage")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("signature"), "{err}");
    let reply = authed(
        &t,
        &b,
        "/accessuser/getimtoken",
        &format!("act=conv.create&members={c_id}"),
    )
    .await;
    let b_signature = reply["data"].as_str().unwrap().to_owned();
    let err = ws
        .create_conversation(&[c_id.to_string()], "", &b_signature)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("another user"), "{err}");
    // Expired.
    let now = confab_core::now_millis() / 1000;
    let expired = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"aud": a_id, "act": "conv.create", "members": expected, "exp": now - 5}),
        &jsonwebtoken::EncodingKey::from_secret(JWT_KEY.as_bytes()),
    )
    .unwrap();
    let err = ws
        .create_conversation(&members, "", &expired)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("expired"), "{err}");
    // Refusals of getimtoken.
    assert_code(
        &authed(&t, &a, "/accessuser/getimtoken", "act=conv.create").await,
        1,
        "members",
    );
    assert_code(
        &authed(&t, &a, "/accessuser/getimtoken", "members=5").await,
        1,
        "act",
    );
    assert_code(
        &authed(
            &t,
            "",
            "/accessuser/getimtoken",
            "act=conv.create&members=5",
        )
        .await,
        10,
        "token",
    );
    t.stop().await;
}

fn base64_url(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.bytes() {
        let v = ALPHABET.iter().position(|a| *a == c).unwrap() as u32;
        bits = (bits << 6) | v;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    out
}

/// Lowercase hex MD5, computed here independently of the server's code.
fn md5_of(text: &str) -> String {
    use md5::Digest;
    md5::Md5::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A real PNG of `w`×`h` pixels.
fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 200]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

async fn upload(t: &TestServer, token: &str, form: reqwest::multipart::Form) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{}/accessuser/updateuserinfo", t.url()))
        .header("token", token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn profiles_with_avatars() {
    let (t, capture) = server(|s| {
        s.sms_resend_interval_secs = Some(0);
        s.avatar_max_bytes = Some(20_000);
    })
    .await;
    let (token, user_id) = sign_in(&t, &capture, "13300000001").await;
    let picture = png(16, 12);
    let form = reqwest::multipart::Form::new()
        .part(
            "avatar",
            reqwest::multipart::Part::bytes(picture.clone()).file_name("a.png"),
        )
        .text("nickname", "  ivan  ");
    let reply = upload(&t, &token, form).await;
    assert_eq!(reply["code"], 0, "{reply}");
    let data = &reply["data"];
    assert_eq!(data["nickname"], "ivan", "trimmed");
    assert_eq!(
        data["user_id"],
        user_id.to_string(),
        "as the spec shows it here"
    );
    let url = data["avatar"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&t.url()) && url.ends_with(".png"), "{url}");
    // Served back byte for byte, with its type.
    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(response.bytes().await.unwrap().to_vec(), picture);
    // Every dialect shows the new profile.
    let info = crate::harness::data(
        &t.admin,
        "/user/get_users_info",
        json!({"userIDList": [user_id.to_string()]}),
    )
    .await;
    assert_eq!(
        (info[0]["nickname"].as_str(), info[0]["faceURL"].as_str()),
        (Some("ivan"), Some(url.as_str()))
    );
    // The nickname alone.
    let reply = upload(
        &t,
        &token,
        reqwest::multipart::Form::new().text("nickname", "ivan2"),
    )
    .await;
    assert_eq!(
        (
            reply["data"]["nickname"].as_str(),
            reply["data"]["avatar"].as_str()
        ),
        (Some("ivan2"), Some(url.as_str()))
    );
    // Refusals.
    let text = reqwest::multipart::Form::new().part(
        "avatar",
        reqwest::multipart::Part::bytes(b"not an image".to_vec()).file_name("a.png"),
    );
    assert_code(&upload(&t, &token, text).await, 1, "image");
    let mut over = png(16, 12);
    over.resize(20_001, 0);
    let big = reqwest::multipart::Form::new().part(
        "avatar",
        reqwest::multipart::Part::bytes(over).file_name("b.png"),
    );
    assert_code(&upload(&t, &token, big).await, 1, "at most 20000 bytes");
    let huge = reqwest::multipart::Form::new().part(
        "avatar",
        reqwest::multipart::Part::bytes(vec![7u8; 3 * 1024 * 1024]).file_name("c.png"),
    );
    assert_code(&upload(&t, &token, huge).await, 1, "at most 20000 bytes");
    assert_code(
        &upload(
            &t,
            &token,
            reqwest::multipart::Form::new().text("other", "x"),
        )
        .await,
        1,
        "nickname or an avatar",
    );
    assert_code(
        &upload(
            &t,
            &token,
            reqwest::multipart::Form::new().text("nickname", "x".repeat(65)),
        )
        .await,
        1,
        "nickname",
    );
    assert_code(
        &upload(
            &t,
            "",
            reqwest::multipart::Form::new().text("nickname", "x"),
        )
        .await,
        10,
        "token",
    );
    let response = reqwest::get(format!("{}/files/avatars/nothing.png", t.url()))
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let response = reqwest::get(format!("{}/files/avatars/..%2Fsecrets.toml", t.url()))
        .await
        .unwrap();
    assert_eq!(response.status(), 404, "no way out of the files");
    t.stop().await;
}

/// A small S3 fake: PUT and GET of objects, path-style, any signature.
async fn fake_s3() -> (
    String,
    Arc<Mutex<std::collections::HashMap<String, Vec<u8>>>>,
) {
    use axum::http::{header, StatusCode};
    use axum::response::IntoResponse;
    let objects: Arc<Mutex<std::collections::HashMap<String, Vec<u8>>>> = Default::default();
    let (put_store, get_store) = (objects.clone(), objects.clone());
    let app = axum::Router::new().route(
        "/{*key}",
        axum::routing::put(
            move |axum::extract::Path(key): axum::extract::Path<String>,
                  body: axum::body::Bytes| {
                let store = put_store.clone();
                async move {
                    store.lock().unwrap().insert(key, body.to_vec());
                    ([(header::ETAG, "\"1\"")], "").into_response()
                }
            },
        )
        .get(
            move |axum::extract::Path(key): axum::extract::Path<String>| {
                let store = get_store.clone();
                async move {
                    match store.lock().unwrap().get(&key) {
                        Some(bytes) => (
                            [
                                (header::ETAG, "\"1\"".to_owned()),
                                (
                                    header::LAST_MODIFIED,
                                    "Wed, 02 Dec 2026 07:00:00 GMT".to_owned(),
                                ),
                                (header::CONTENT_LENGTH, bytes.len().to_string()),
                            ],
                            bytes.clone(),
                        )
                            .into_response(),
                        None => StatusCode::NOT_FOUND.into_response(),
                    }
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, objects)
}

#[tokio::test]
async fn avatars_in_an_s3_compatible_bucket() {
    let (endpoint, objects) = fake_s3().await;
    let (t, capture) = server(move |s| {
        s.file_store_url = Some("s3://media/confab".into());
        s.s3_endpoint = Some(endpoint);
        s.s3_region = Some("us-east-1".into());
        s.s3_access_key_id = Some("key".into());
        s.s3_secret_access_key = Some("secret".into());
    })
    .await;
    let (token, _) = sign_in(&t, &capture, "13400000001").await;
    let picture = png(8, 8);
    let form = reqwest::multipart::Form::new().part(
        "avatar",
        reqwest::multipart::Part::bytes(picture.clone()).file_name("a.png"),
    );
    let reply = upload(&t, &token, form).await;
    assert_eq!(reply["code"], 0, "{reply}");
    let url = reply["data"]["avatar"].as_str().unwrap().to_owned();
    let name = url.rsplit('/').next().unwrap().to_owned();
    let key = format!("media/confab/avatars/{name}");
    assert_eq!(
        objects.lock().unwrap().get(&key),
        Some(&picture),
        "stored in the bucket under the prefix"
    );
    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(response.bytes().await.unwrap().to_vec(), picture);
    t.stop().await;
}

/// Logging a user out everywhere (OpenIM's force_logout without a
/// platform) also ends their app API sessions.
#[tokio::test]
async fn force_logout_revokes_sessions() {
    let (t, capture) = server(|_| {}).await;
    let (token, user_id) = sign_in(&t, &capture, "13500000001").await;
    assert_eq!(
        authed(&t, &token, "/relation/followlist", "type=follow").await["code"],
        0
    );
    crate::harness::ok(
        &t.admin,
        "/auth/force_logout",
        json!({"userID": user_id.to_string()}),
    )
    .await;
    assert_code(
        &authed(&t, &token, "/relation/followlist", "type=follow").await,
        10,
        "token",
    );
    t.stop().await;
}

/// Found by schemathesis: an update whose body is not multipart was
/// answered with axum's plain-text 400, outside the envelope.
#[tokio::test]
async fn an_update_that_is_not_multipart_is_answered_in_the_envelope() {
    let (t, capture) = server(|_| {}).await;
    let (token, _) = sign_in(&t, &capture, "16500000009").await;
    for content_type in [None, Some("multipart/form-data"), Some("text/plain")] {
        let mut request = reqwest::Client::new()
            .post(format!("{}/accessuser/updateuserinfo", t.url()))
            .header("token", &token)
            .body("nickname=x");
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "{content_type:?}");
        let reply: Value = response.json().await.unwrap();
        assert_code(&reply, 1, "request body: ");
        assert!(reply["data"].is_null(), "{reply}");
        assert_eq!(reply["request-id"].as_str().unwrap().len(), 32, "{reply}");
    }
    t.stop().await;
}
