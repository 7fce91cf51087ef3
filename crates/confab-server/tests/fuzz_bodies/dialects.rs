//! One property per dialect: a generated request to any of its routes,
//! with or without its credentials, answers below 500 in its envelope.

use crate::bodies::{body, query, segment};
use crate::config;
use crate::envelopes::check;
use crate::fixture::{fixture, Answer, APP_ID, APP_KEY, OUTSIDE, TRUSTED};
use crate::routes::{is_upgrade, ROUTES};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};
use confab_api::fallback::Dialect;
use proptest::prelude::*;

/// One generated request: its route, filled path, query, body, content
/// type, which credentials it carries and from where it comes.
#[derive(Debug, Clone)]
pub struct Generated {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub body: Vec<u8>,
    pub content_type: Option<String>,
    /// 0: the dialect's good credentials, 1: none, 2: garbage, 3: another
    /// user's or a wrong signature.
    pub credentials: u8,
    pub trusted: bool,
    /// Sent with another method than the route's.
    pub wrong_method: bool,
}

impl Generated {
    pub fn uri(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        }
    }
}

fn dialect_of(path: &str) -> Dialect {
    if path.starts_with("/files/") {
        Dialect::App
    } else {
        Dialect::of(path)
    }
}

/// Requests to the routes of `dialect`.
pub fn requests(dialect: Dialect) -> BoxedStrategy<Generated> {
    let routes: Vec<(Method, &'static str)> = ROUTES
        .iter()
        .filter(|(_, p)| !is_upgrade(p) && dialect_of(p) == dialect)
        .cloned()
        .collect();
    let token = (dialect == Dialect::Easemob).then(|| fixture().app_token.as_str());
    (
        prop::sample::select(routes),
        prop::collection::vec(segment(), 2),
        query(),
        body(token),
        0u8..4,
        prop::bool::weighted(0.8),
        prop::bool::weighted(0.05),
    )
        .prop_map(
            |(
                (method, route),
                segments,
                query,
                (body, content_type),
                credentials,
                trusted,
                wrong_method,
            )| {
                let mut path = route.to_owned();
                for s in &segments {
                    if let (Some(open), Some(close)) = (path.find('{'), path.find('}')) {
                        path.replace_range(open..=close, s);
                    }
                }
                Generated {
                    method,
                    path,
                    query,
                    body,
                    content_type,
                    credentials,
                    trusted,
                    wrong_method,
                }
            },
        )
        .boxed()
}

fn insert(headers: &mut HeaderMap, name: &str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(HeaderName::from_bytes(name.as_bytes()).unwrap(), value);
    }
}

/// yunbay's signature headers, signed over the request as the server
/// reads it (so the body reaches its parser), or signed wrong.
pub fn sign(g: &Generated, headers: &mut HeaderMap) {
    insert(headers, "x-yf-appid", APP_ID);
    insert(headers, "x-yf-rid", "1");
    insert(headers, "x-yf-platform", "ios");
    insert(headers, "x-yf-version", "2.8.1");
    insert(headers, "x-yf-token", "not-a-token");
    let form = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
        .starts_with("application/x-www-form-urlencoded");
    let text = confab_api::yunbay::canonical(&g.path, g.query.as_deref(), headers, &g.body, form);
    let signature = match g.credentials {
        0 | 1 => confab_service::sha1_hex(format!("{text}\n{APP_KEY}").as_bytes()),
        2 => "garbage".to_owned(),
        _ => confab_service::sha1_hex(format!("{text}\nanother key").as_bytes()),
    };
    insert(headers, "x-yf-sign", &signature);
}

/// Sends `g` with the credentials of `dialect` it asks for.
pub fn send(dialect: Dialect, g: &Generated) -> Answer {
    let f = fixture();
    let mut headers = HeaderMap::new();
    if let Some(t) = &g.content_type {
        insert(&mut headers, "content-type", t);
    }
    match dialect {
        Dialect::OpenIm | Dialect::App => {
            let token = match (dialect, g.credentials) {
                (Dialect::App, 0) => Some(f.session_token.as_str()),
                (_, 0) => Some(f.admin_token.as_str()),
                (_, 1) => None,
                (_, 2) => Some("garbage.token.here"),
                _ => Some(f.user_token.as_str()),
            };
            if let Some(token) = token {
                insert(&mut headers, "token", token);
            }
        }
        Dialect::Yunbay => sign(g, &mut headers),
        Dialect::Easemob => {}
    }
    let method = if g.wrong_method {
        if g.method == Method::GET {
            Method::DELETE
        } else {
            Method::GET
        }
    } else {
        g.method.clone()
    };
    let peer = if g.trusted { TRUSTED } else { OUTSIDE };
    f.send(method, &g.uri(), headers, g.body.clone(), peer)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn openim_routes_answer_in_their_envelope(g in requests(Dialect::OpenIm)) {
        check(&g.path, &send(Dialect::OpenIm, &g));
    }

    #[test]
    fn easemob_routes_answer_in_their_envelope(g in requests(Dialect::Easemob)) {
        check(&g.path, &send(Dialect::Easemob, &g));
    }

    #[test]
    fn app_routes_answer_in_their_envelope(g in requests(Dialect::App)) {
        check(&g.path, &send(Dialect::App, &g));
    }

    #[test]
    fn yunbay_routes_answer_in_their_envelope(g in requests(Dialect::Yunbay)) {
        check(&g.path, &send(Dialect::Yunbay, &g));
    }

    /// The gateway's upgrade paths, asked without a handshake.
    #[test]
    fn upgrade_paths_without_a_handshake_are_refused(
        path in prop::sample::select(vec!["/", "/ws", "/v1/ws"]),
        query in query(),
        (body, content_type) in body(None),
    ) {
        let g = Generated {
            method: Method::GET,
            path: path.to_owned(),
            query,
            body,
            content_type,
            credentials: 1,
            trusted: true,
            wrong_method: false,
        };
        let answer = send(Dialect::OpenIm, &g);
        prop_assert!(answer.status.as_u16() < 500, "{}: {}", g.uri(), answer.status);
    }
}
