//! One server for the whole suite: the router `confab serve` serves, on a
//! temporary SQLite database, with the credentials of each dialect so that
//! generated bodies get past authentication to the parsers.

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use confab_server::config::{Config, Settings};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use tower::ServiceExt;

pub const SECRET: &str = "fuzz-secret";
pub const ADMIN: &str = "openIM123456";
/// The yunbay app `ybapi` and its signing key.
pub const APP_ID: &str = "ybapi";
pub const APP_KEY: &str = "a20331ad70081a25d0b00d0b0052d202";

/// A peer on the trusted networks (loopback) and one outside them.
pub const TRUSTED: &str = "127.0.0.1:40000";
pub const OUTSIDE: &str = "203.0.113.9:40000";

pub struct Fixture {
    pub runtime: tokio::runtime::Runtime,
    pub router: Router,
    /// The paths the dialects' router serves, from its OpenAPI document.
    pub documented: Vec<String>,
    /// OpenIM tokens: the app administrator's and a user's (`fuzzer`).
    pub admin_token: String,
    pub user_token: String,
    /// Easemob's app token (`token` in each body).
    pub app_token: String,
    /// The app API's session token (`token` header) of a user signed in
    /// by SMS.
    pub session_token: String,
    _dir: tempfile::TempDir,
}

/// What a request got: its status and body.
pub struct Answer {
    pub status: StatusCode,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

impl Fixture {
    /// Sends one request from `peer` and reads the whole answer.
    pub fn send(
        &self,
        method: Method,
        uri: &str,
        headers: HeaderMap,
        body: Vec<u8>,
        peer: &str,
    ) -> Answer {
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::from(body))
            .expect("a valid request");
        *request.headers_mut() = headers;
        let peer: SocketAddr = peer.parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(peer));
        self.runtime.block_on(async {
            let response = self.router.clone().oneshot(request).await.unwrap();
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            Answer { status, body }
        })
    }

    fn post_json(&self, path: &str, headers: HeaderMap, body: Value) -> Value {
        let mut headers = headers;
        headers.insert("content-type", "application/json".parse().unwrap());
        self.send(
            Method::POST,
            path,
            headers,
            body.to_string().into_bytes(),
            TRUSTED,
        )
        .json()
    }

    fn post_form(&self, path: &str, body: &str) -> Value {
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-type",
            "application/x-www-form-urlencoded".parse().unwrap(),
        );
        self.send(
            Method::POST,
            path,
            headers,
            body.as_bytes().to_vec(),
            TRUSTED,
        )
        .json()
    }
}

/// The suite's server, built on first use.
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(build)
}

/// Where the SMS codes the server sends go: a capturing provider on
/// loopback, so the suite can sign a user in.
async fn sms_capture() -> (Arc<Mutex<Vec<Value>>>, String) {
    let sent = Arc::new(Mutex::new(Vec::new()));
    let state = sent.clone();
    let app = axum::Router::new().route(
        "/sms",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let state = state.clone();
            async move {
                state.lock().unwrap().push(body);
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (sent, url)
}

fn build() -> Fixture {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (sent, router, documented) = runtime.block_on(async {
        let (sent, sms_url) = sms_capture().await;
        let settings = Settings {
            listen: Some("127.0.0.1:0".parse().unwrap()),
            data_dir: Some(dir.path().to_path_buf()),
            admin_secret: Some(SECRET.into()),
            admin_user_ids: Some(vec![ADMIN.into()]),
            jwt_secret: Some("fuzz-jwt-key".into()),
            log: Some("off".into()),
            yunbay_app_keys: Some(format!("{APP_ID}={APP_KEY}").parse().unwrap()),
            sms_provider: Some("http".into()),
            sms_http_url: Some(sms_url),
            // Generated sign-ins come from one address: no hourly cap.
            sms_ip_hourly_limit: Some(1_000_000_000),
            ..Default::default()
        };
        let config = Config::resolve(settings).unwrap();
        let app = confab_server::build(&config).await.unwrap();
        let (api, doc) = confab_api::router(app.service, app.api);
        let router = api.merge(confab_gateway::router(app.gateway));
        (sent, router, doc.paths.paths.keys().cloned().collect())
    });
    let mut fixture = Fixture {
        runtime,
        router,
        documented,
        admin_token: String::new(),
        user_token: String::new(),
        app_token: String::new(),
        session_token: String::new(),
        _dir: dir,
    };
    let token = |f: &Fixture, user: &str| {
        let answer = f.post_json(
            "/auth/user_token",
            HeaderMap::new(),
            json!({"secret": SECRET, "platform": 5, "userID": user, "operationID": "1"}),
        );
        answer["data"]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("a token: {answer}"))
            .to_owned()
    };
    fixture.admin_token = token(&fixture, ADMIN);
    let registered = fixture.post_json(
        "/auth/user_register",
        HeaderMap::new(),
        json!({"secret": SECRET, "platform": 5, "userID": "fuzzer", "nickname": "F", "operationID": "1"}),
    );
    assert_eq!(registered["errCode"], 0, "{registered}");
    fixture.user_token = token(&fixture, "fuzzer");
    let grant = fixture.post_json(
        "/hx/getToken",
        HeaderMap::new(),
        json!({"grant_type": "client_credentials"}),
    );
    fixture.app_token = grant["data"]["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("an app token: {grant}"))
        .to_owned();
    let asked = fixture.post_form("/sms/send", "nation_code=86&phone=16522222222");
    assert_eq!(asked["code"], 0, "{asked}");
    let code = sent.lock().unwrap().last().unwrap()["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let signed_in = fixture.post_form(
        "/accessuser/signinbysms",
        &format!("nation_code=86&phone=16522222222&check_code={code}&device=ios&device_id=x"),
    );
    fixture.session_token = signed_in["data"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("a session: {signed_in}"))
        .to_owned();
    fixture
}
