//! The authorization matrix, generated from the router: `/openapi.json`
//! lists every route the router serves (utoipa-axum registers a route and
//! documents it in one statement) with the credentials it needs, its
//! `security`. For every route of every dialect this tries no credential,
//! forged ones (a wrong key, `alg: none`, garbage), an expired one, a
//! revoked one, a plain user's on an admin route and a user token where an
//! app token belongs; each must be refused in the dialect's envelope, and
//! the database must be the same afterwards. A route without a `security`
//! entry, or naming a credential this test does not know, fails it.

use crate::harness::*;
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// A credential as a request carries it.
#[derive(Debug, Clone)]
enum Carry {
    /// A header.
    Header(&'static str, String),
    /// A field of the JSON body (OpenIM's `secret`, Easemob's `token`).
    Field(&'static str, Value),
}

/// One wrong credential to try on a route.
#[derive(Debug, Clone)]
struct Attempt {
    name: String,
    carries: Vec<Carry>,
}

fn attempt(name: &str, carries: Vec<Carry>) -> Attempt {
    Attempt {
        name: name.to_owned(),
        carries,
    }
}

/// A token with OpenIM's claims for `user`, signed with `key`.
fn jwt(user: &str, key: &str, exp: i64, kind: Option<&str>) -> String {
    let now = std::time::UNIX_EPOCH.elapsed().unwrap().as_secs() as i64;
    let mut claims = json!({"UID": user, "Platform": "IOS", "exp": exp, "nbf": now - 600,
        "iat": now - 600, "jti": "0123456789abcdef0123456789abcdef"});
    if let Some(kind) = kind {
        claims["kind"] = json!(kind);
    }
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(key.as_bytes()),
    )
    .unwrap()
}

/// `alg: none`: the claims of `user` with no signature.
fn unsigned_jwt(user: &str) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b64.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let exp = std::time::UNIX_EPOCH.elapsed().unwrap().as_secs() + 3600;
    let claims =
        json!({"UID": user, "Platform": "IOS", "exp": exp, "nbf": 0, "iat": 0, "jti": "x"});
    format!("{header}.{}.", b64.encode(claims.to_string()))
}

/// The wrong credentials of each scheme of the document.
struct Wrongs(BTreeMap<&'static str, Vec<Attempt>>);

impl Wrongs {
    async fn new(t: &TestServer) -> Wrongs {
        let now = std::time::UNIX_EPOCH.elapsed().unwrap().as_secs() as i64;
        // Tokens of real users, made wrong one way each.
        let forged = jwt(ADMIN, "not-the-servers-key", now + 3600, None);
        let expired = jwt(ADMIN, JWT_KEY, now - 10, None);
        let none = unsigned_jwt(ADMIN);
        // A revoked admin token: the second admin's, logged out.
        let revoked = t.anon.user_token(SECRET, "imAdmin", 2).await.unwrap();
        let logout = json!({"userID": "imAdmin", "platform": 2, "operationID": "1"});
        t.admin.ok("/auth/force_logout", &logout).await.unwrap();
        t.user("plain").await;
        let plain = t.anon.user_token(SECRET, "plain", 1).await.unwrap();
        let app_forged = jwt("admin", "not-the-servers-key", now + 3600, Some("app"));
        let app_expired = jwt("admin", JWT_KEY, now - 10, Some("app"));
        let token_header =
            |name: &str, value: &str| attempt(name, vec![Carry::Header("token", value.to_owned())]);
        let token_field =
            |name: &str, value: &str| attempt(name, vec![Carry::Field("token", json!(value))]);
        let openim_tokens = vec![
            token_header("a forged token", &forged),
            token_header("an alg:none token", &none),
            token_header("an expired token", &expired),
            token_header("a revoked token", &revoked),
            token_header("garbage", "not.a.token"),
        ];
        let mut admin = openim_tokens.clone();
        admin.push(token_header("a plain user's token", &plain));
        let sign = |name: &str, sign: &str, app: &str| {
            attempt(
                name,
                vec![
                    Carry::Header("X-Yf-AppId", app.to_owned()),
                    Carry::Header("X-Yf-Sign", sign.to_owned()),
                ],
            )
        };
        let schemes = [
            ("openim_user", openim_tokens),
            ("openim_admin", admin),
            (
                "openim_secret",
                vec![attempt(
                    "a wrong secret",
                    vec![Carry::Field("secret", json!("wrong"))],
                )],
            ),
            (
                "easemob_app",
                vec![
                    token_field("a forged app token", &app_forged),
                    token_field("an expired app token", &app_expired),
                    token_field("an alg:none token", &none),
                    token_field("a user token for an app token", &plain),
                ],
            ),
            (
                "easemob_client",
                vec![attempt(
                    "wrong client credentials",
                    vec![
                        Carry::Field("client_id", json!("app-id")),
                        Carry::Field("client_secret", json!("wrong")),
                    ],
                )],
            ),
            (
                "app_session",
                vec![
                    token_header(
                        "an unknown session token",
                        "0123456789abcdef0123456789abcdef",
                    ),
                    token_header("an IM token for a session token", &plain),
                ],
            ),
            (
                "yunbay_sign",
                vec![
                    sign(
                        "a wrong signature",
                        "0000000000000000000000000000000000000000",
                        "ybapi",
                    ),
                    sign(
                        "an unknown app",
                        "0000000000000000000000000000000000000000",
                        "nobody",
                    ),
                ],
            ),
            (
                "yunbay_user",
                vec![
                    attempt(
                        "an unknown user token",
                        vec![Carry::Header("X-Yf-Token", "0123456789abcdef".into())],
                    ),
                    attempt(
                        "an IM token for a user token",
                        vec![Carry::Header("X-Yf-Token", plain.clone())],
                    ),
                ],
            ),
            // The test's calls come from loopback, which this server does not
            // trust: no credential is the only wrong one.
            ("trusted_network", vec![]),
        ];
        Wrongs(schemes.into_iter().collect())
    }
}

/// The dialect of an operation, by its tag, and whether `body` is its
/// error envelope.
fn refused(tag: &str, status: u16, body: &Value) -> bool {
    if status >= 500 {
        return false;
    }
    match tag {
        "openim" => body["errCode"].as_i64().is_some_and(|c| c != 0) && body["errMsg"].is_string(),
        "easemob" => body["code"].as_i64().is_some_and(|c| c != 200) && body["message"].is_string(),
        "app" => body["code"].as_i64().is_some_and(|c| c != 0) && body["message"].is_string(),
        "yunbay" => body["ok"] == json!(false) && body["reason"].is_string(),
        _ => false,
    }
}

/// Every row of every table, to compare before and after.
async fn snapshot(t: &TestServer) -> BTreeMap<String, Vec<String>> {
    use sqlx::{Row, ValueRef};
    let path = t.data_dir().join("confab.db");
    let url = format!("sqlite://{}?mode=ro", path.display());
    let mut db = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    let mut out = BTreeMap::new();
    for table in tables {
        let rows = sqlx::query(&format!("SELECT * FROM \"{table}\""))
            .fetch_all(&mut db)
            .await
            .unwrap();
        let mut lines: Vec<String> = rows
            .iter()
            .map(|row| {
                (0..row.columns().len())
                    .map(|i| {
                        let raw = row.try_get_raw(i).unwrap();
                        if raw.is_null() {
                            return "NULL".to_owned();
                        }
                        row.try_get::<String, _>(i)
                            .or_else(|_| row.try_get::<i64, _>(i).map(|n| n.to_string()))
                            .or_else(|_| row.try_get::<f64, _>(i).map(|n| n.to_string()))
                            .or_else(|_| row.try_get::<Vec<u8>, _>(i).map(|b| format!("{b:?}")))
                            .unwrap_or_default()
                    })
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect();
        lines.sort();
        out.insert(table, lines);
    }
    out
}

/// Sends one wrong attempt at an operation; the status and JSON body.
async fn send(
    t: &TestServer,
    method: &str,
    path: &str,
    form: bool,
    carries: &[Carry],
) -> (u16, Value) {
    let path = path
        .replace("{kind}", "avatar")
        .replace("{name}", "x.png")
        .replace("{id}", "x")
        .replace("{part}", "1");
    let mut fields = Map::new();
    fields.insert("operationID".into(), json!("authz"));
    let http = reqwest::Client::new();
    let url = format!("{}{path}", t.url());
    let mut req = match method {
        "get" => http.get(url),
        "put" => http.put(url),
        _ => http.post(url),
    };
    for carry in carries {
        match carry {
            Carry::Header(name, value) => req = req.header(*name, value),
            Carry::Field(name, value) => drop(fields.insert((*name).to_owned(), value.clone())),
        }
    }
    if method == "post" {
        req = if form {
            let body: Vec<(String, String)> = fields
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().map_or(v.to_string(), str::to_owned)))
                .collect();
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(body)
                .finish();
            req.header("content-type", "application/x-www-form-urlencoded")
                .body(body)
        } else {
            req.json(&Value::Object(fields))
        };
    }
    let response = req.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(json!({"not json": text})),
    )
}

#[tokio::test]
async fn every_route_refuses_every_wrong_credential_and_changes_nothing() {
    let t = TestServer::start_with(Backend::Sqlite, |s| {
        s.trusted_networks = Some(vec![]);
        s.rate_limit_credentials_per_ip = Some(0);
        s.rate_limit_logins_per_account = Some(0);
        s.yunbay_app_keys = Some("ybapi=a20331ad70081a25d0b00d0b0052d202".parse().unwrap());
        s.easemob_client_id = Some("app-id".into());
        s.easemob_client_secret = Some("app-secret".into());
    })
    .await
    .unwrap();
    let wrongs = Wrongs::new(&t).await;
    let doc: Value = reqwest::get(format!("{}/openapi.json", t.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let before = snapshot(&t).await;
    let (mut problems, mut tried, mut routes) = (Vec::new(), 0, 0);
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().unwrap() {
            if !["get", "post", "put", "delete"].contains(&method.as_str()) {
                continue;
            }
            routes += 1;
            let tag = op["tags"][0].as_str().unwrap_or("");
            let Some(security) = op["security"].as_array() else {
                problems.push(format!("{method} {path}: no security entry"));
                continue;
            };
            // An open route (`{}` among its alternatives) has nothing to refuse.
            if security
                .iter()
                .any(|r| r.as_object().is_some_and(Map::is_empty))
            {
                continue;
            }
            let form = op["requestBody"]["content"]
                .as_object()
                .is_some_and(|c| c.contains_key("application/x-www-form-urlencoded"));
            let mut attempts = vec![attempt("no credential", vec![])];
            for requirement in security {
                for scheme in requirement.as_object().unwrap().keys() {
                    match wrongs.0.get(scheme.as_str()) {
                        Some(list) => attempts.extend(list.iter().cloned()),
                        None => {
                            problems.push(format!("{method} {path}: unknown credential {scheme}"))
                        }
                    }
                }
            }
            for a in attempts {
                tried += 1;
                let (status, body) = send(&t, method, path, form, &a.carries).await;
                if !refused(tag, status, &body) {
                    problems.push(format!("{method} {path} with {}: {status} {body}", a.name));
                }
            }
        }
    }
    let after = snapshot(&t).await;
    for (table, rows) in &after {
        if before.get(table) != Some(rows) {
            problems.push(format!(
                "table {table} changed: {:?} -> {rows:?}",
                before.get(table)
            ));
        }
    }
    println!("authorization matrix: {routes} routes, {tried} refused attempts");
    assert!(routes > 100, "the document lists only {routes} routes");
    assert!(
        problems.is_empty(),
        "{} problems: {problems:#?}",
        problems.len()
    );
    t.stop().await;
}
