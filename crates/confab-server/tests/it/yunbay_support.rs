//! Talking to the yunbay API as its app servers and apps do: requests
//! signed with `X-Yf-Sign` (computed here independently of the server's
//! code), and the `/v1/ws` socket.

use crate::harness::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// The sample app key of the original server's sample config (the notes'
/// worked example).
pub const APP_KEY: &str = "a20331ad70081a25d0b00d0b0052d202";
pub const DEBUG_SIGN: &str = "62361670a0b60c852fcc1e69189c233e";

/// A server that knows the app `ybapi` by its sample key.
pub async fn server(tweak: impl FnOnce(&mut confab_server::config::Settings)) -> TestServer {
    TestServer::start_with(Backend::Sqlite, |s| {
        s.yunbay_app_keys = Some("ybapi=a20331ad70081a25d0b00d0b0052d202".parse().unwrap());
        tweak(s);
    })
    .await
    .unwrap()
}

/// Every byte but `A-Z a-z 0-9 _ - ~ .` as `%XX`.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"_-~.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The notes' signature of a request with these parts.
pub fn sign(path: &str, query: &str, headers: &[(&str, &str)], body: &[u8], key: &str) -> String {
    let mut args: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (n, v) = p.split_once('=').unwrap_or((p, ""));
            (n.to_owned(), v.to_owned())
        })
        .collect();
    args.sort();
    let args: Vec<String> = args
        .iter()
        .map(|(n, v)| format!("{}={}", encode(n), encode(v)))
        .collect();
    let mut hs: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_owned()))
        .filter(|(n, _)| n.starts_with("x-yf-") && n != "x-yf-sign")
        .collect();
    hs.sort();
    let lines: Vec<String> = hs.iter().map(|(n, v)| format!("{n}:{v}")).collect();
    let names: Vec<&str> = hs.iter().map(|(n, _)| n.as_str()).collect();
    let text = format!(
        "{path}\n{}\n{}\n{}\n{}\n{key}",
        args.join("&"),
        lines.join("\n"),
        names.join(";"),
        confab_service::sha1_hex(body)
    );
    confab_service::sha1_hex(text.as_bytes())
}

/// The headers of the spec's examples.
pub const SPEC_HEADERS: &[(&str, &str)] = &[
    ("X-Yf-AppId", "ybapi"),
    ("X-Yf-rid", "1"),
    ("X-Yf-Platform", "test"),
    ("X-Yf-Version", "2.8.1"),
];

/// An answer: status and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    /// `data` of a success, asserting the envelope.
    pub fn data(&self) -> &Value {
        assert_eq!(self.status, 200, "{}", self.body);
        assert_eq!(self.body["ok"], json!(true), "{}", self.body);
        assert_eq!(self.body["reason"], json!(""), "{}", self.body);
        &self.body["data"]
    }

    /// Asserts a failure with `status` and `reason` whose `err_msg` holds
    /// `needle`.
    pub fn fails_saying(&self, status: u16, reason: &str, needle: &str) {
        self.fails(status, reason);
        let message = self.body["err_msg"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{message:?} lacks {needle:?}");
    }

    /// Asserts a failure with `status` and `reason`, and no data.
    pub fn fails(&self, status: u16, reason: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.body["ok"], json!(false), "{}", self.body);
        assert_eq!(self.body["reason"], json!(reason), "{}", self.body);
        assert!(self.body.get("data").is_none(), "{}", self.body);
    }
}

/// How a request is signed.
#[derive(Clone, Copy)]
pub enum Signing<'a> {
    /// Correctly, with the app key.
    Key(&'a str),
    /// With this literal.
    Literal(&'a str),
    None,
}

/// Sends a request with `headers` (the spec's when None) and the
/// signature `signing` asks for.
pub async fn call(
    t: &TestServer,
    method: &str,
    path_and_query: &str,
    body: Option<&str>,
    extra: &[(&str, &str)],
    signing: Signing<'_>,
) -> Answer {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    // `extra` adds headers, or replaces the spec's of the same name.
    let mut headers: Vec<(&str, &str)> = SPEC_HEADERS
        .iter()
        .filter(|(n, _)| !extra.iter().any(|(e, _)| e.eq_ignore_ascii_case(n)))
        .copied()
        .collect();
    headers.extend_from_slice(extra);
    let body_bytes = body.unwrap_or("").as_bytes();
    let signature = match signing {
        Signing::Key(key) => Some(sign(path, query, &headers, body_bytes, key)),
        Signing::Literal(s) => Some(s.to_owned()),
        Signing::None => None,
    };
    let http = reqwest::Client::new();
    let url = format!("{}{path_and_query}", t.url());
    let mut req = match method {
        "GET" => http.get(&url),
        _ => http.post(&url),
    };
    req = req.header("Content-Type", "application/json");
    for (n, v) in &headers {
        req = req.header(*n, *v);
    }
    if let Some(s) = signature {
        req = req.header("X-Yf-Sign", s);
    }
    if let Some(b) = body {
        req = req.body(b.to_owned());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    Answer { status, body }
}

/// An unsigned request with the spec's headers.
pub async fn unsigned(t: &TestServer, method: &str, path: &str, body: Option<&str>) -> Answer {
    call(t, method, path, body, &[], Signing::None).await
}

/// A correctly signed request.
pub async fn signed(t: &TestServer, method: &str, path: &str, body: Option<&str>) -> Answer {
    call(t, method, path, body, &[], Signing::Key(APP_KEY)).await
}

/// `GET /v1/user/token`, signed, with `headers` (the user's `X-Yf-Token`).
pub async fn im_token(t: &TestServer, headers: &[(&str, &str)]) -> Answer {
    call(
        t,
        "GET",
        "/v1/user/token",
        None,
        headers,
        Signing::Key(APP_KEY),
    )
    .await
}

/// Registers user `n` and returns their IM account id.
pub async fn register(t: &TestServer, n: i64) -> Value {
    signed(
        t,
        "POST",
        "/man/user/register",
        Some(&format!(r#"{{"user_id":{n}}}"#)),
    )
    .await
    .data()
    .clone()
}

/// A user token (`X-Yf-Token`) for user `n`, registering them first.
pub async fn user_token(t: &TestServer, n: i64) -> String {
    register(t, n).await;
    let answer = unsigned(t, "GET", &format!("/man/account/token?user_id={n}"), None).await;
    answer.data()["token"].as_str().unwrap().to_owned()
}

/// Sends a notification with `/man/msg/send`.
pub async fn send(t: &TestServer, body: Value) -> i64 {
    let answer = unsigned(t, "POST", "/man/msg/send", Some(&body.to_string())).await;
    answer.data()["id"].as_i64().unwrap()
}

/// A `/v1/ws` client.
pub struct YbSocket {
    stream: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

/// How long a test waits for a frame it expects.
pub const WAIT: Duration = Duration::from_secs(5);
/// How long a test waits to be sure nothing comes.
pub const QUIET: Duration = Duration::from_millis(300);

impl YbSocket {
    /// Connects with the token in `X-Yf-Token` (or, with `in_query`, the
    /// `token` parameter) on `platform`.
    pub async fn connect(t: &TestServer, token: &str, platform: &str, in_query: bool) -> YbSocket {
        Self::try_connect(t, token, platform, in_query)
            .await
            .unwrap()
    }

    /// Connects, or returns the HTTP status and body of the refusal.
    pub async fn try_connect(
        t: &TestServer,
        token: &str,
        platform: &str,
        in_query: bool,
    ) -> Result<YbSocket, (u16, Value)> {
        let base = t.url().replacen("http://", "ws://", 1);
        let url = if in_query {
            format!("{base}/v1/ws?token={token}")
        } else {
            format!("{base}/v1/ws")
        };
        let mut req = url.into_client_request().unwrap();
        let h = req.headers_mut();
        h.insert("X-Yf-Platform", platform.parse().unwrap());
        h.insert("X-Yf-Version", "2.8.1".parse().unwrap());
        if !in_query {
            h.insert("X-Yf-Token", token.parse().unwrap());
        }
        match tokio_tungstenite::connect_async(req).await {
            Ok((stream, _)) => Ok(YbSocket { stream }),
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                let body = resp
                    .body()
                    .as_ref()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default();
                Err((
                    resp.status().as_u16(),
                    serde_json::from_str(&body).unwrap_or(Value::Null),
                ))
            }
            Err(e) => panic!("connecting to /v1/ws: {e}"),
        }
    }

    /// The next text frame as JSON, or None when none comes within `wait`.
    pub async fn next(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()??;
            match frame.ok()? {
                Message::Text(t) => return Some(serde_json::from_str(&t).unwrap()),
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// The frames that come until the socket is quiet.
    pub async fn drain(&mut self) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some(v) = self.next(QUIET).await {
            out.push(v);
        }
        out
    }

    /// Whether the server closes the socket within `wait` (a close frame,
    /// or the connection's end), whatever comes before.
    pub async fn closed_within(mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => return false,
                Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => return true,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    pub async fn send(&mut self, frame: Value) {
        self.stream
            .send(Message::Text(frame.to_string().into()))
            .await
            .unwrap();
    }

    pub async fn ack(&mut self, id: i64) {
        self.send(json!({"action": "ack", "id": id})).await;
    }

    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
        // The server records what it pushed when the session ends.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
