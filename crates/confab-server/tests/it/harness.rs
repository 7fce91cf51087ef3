//! Starting servers for tests, on SQLite or PostgreSQL.

use confab_client::OpenImClient;
use confab_server::config::{Config, Settings};
use confab_server::RunningServer;
use serde_json::{json, Value};

pub const SECRET: &str = "tuoyun";
pub const ADMIN: &str = "openIM123456";
pub const JWT_KEY: &str = "integration-test-jwt-key";

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestServer {
    server: Option<RunningServer>,
    /// No token.
    pub anon: OpenImClient,
    /// The app administrator's token.
    pub admin: OpenImClient,
    _dir: tempfile::TempDir,
}

impl TestServer {
    /// A server on a fresh database, or None when PostgreSQL is wanted but
    /// unreachable outside CI (the helper prints why; under CI it panics).
    pub async fn start(backend: Backend) -> Option<TestServer> {
        Self::start_with(backend, |_| {}).await
    }

    /// A server whose settings `tweak` adjusts first.
    pub async fn start_with(
        backend: Backend,
        tweak: impl FnOnce(&mut Settings),
    ) -> Option<TestServer> {
        let dir = tempfile::tempdir().unwrap();
        let database_url = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                Some(confab_store::testing::fresh_postgres_database("confab_it").await?)
            }
        };
        let mut settings = Settings {
            listen: Some("127.0.0.1:0".parse().unwrap()),
            data_dir: Some(dir.path().to_path_buf()),
            database_url,
            admin_secret: Some(SECRET.into()),
            admin_user_ids: Some(vec![ADMIN.into(), "imAdmin".into()]),
            jwt_secret: Some(JWT_KEY.into()),
            log: Some("warn".into()),
            ..Default::default()
        };
        tweak(&mut settings);
        let config = Config::resolve(settings).unwrap();
        let server = confab_server::start(&config).await.unwrap();
        let url = format!("http://{}", server.addr);
        let anon = OpenImClient::new(&url);
        let token = anon.user_token(SECRET, ADMIN, 8).await.unwrap();
        let admin = anon.with_token(&token);
        Some(TestServer {
            server: Some(server),
            anon,
            admin,
            _dir: dir,
        })
    }

    /// Registers `id` and returns a client holding its token.
    pub async fn user(&self, id: &str) -> OpenImClient {
        let token = self
            .anon
            .register(SECRET, id, &format!("nick {id}"))
            .await
            .unwrap();
        self.anon.with_token(&token)
    }

    /// The data dir (its `confab.db` on SQLite).
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// `ws://` of `openim_gateway_listen`, when the test set it.
    pub fn openim_gateway_url(&self) -> Option<String> {
        let addr = self.server.as_ref()?.openim_addr?;
        Some(format!("ws://{addr}"))
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.server.as_ref().unwrap().addr)
    }

    /// A WebSocket session of `user` (registered if need be) on `platform`.
    pub async fn connect(&self, user: &str, platform: i32) -> confab_client::WsClient {
        let token = match self.anon.user_token(SECRET, user, platform).await {
            Ok(t) => t,
            Err(_) => {
                self.user(user).await;
                self.anon.user_token(SECRET, user, platform).await.unwrap()
            }
        };
        confab_client::WsClient::connect(&self.url(), &token, platform)
            .await
            .unwrap()
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.server.take() {
            s.stop().await.unwrap();
        }
    }
}

/// Asserts a reply failed with `code` and a message containing `needle`.
pub fn assert_err(reply: &confab_client::ApiReply, code: i64, needle: &str) {
    assert_eq!(reply.err_code(), code, "unexpected reply {}", reply.body);
    assert!(
        reply.err_msg().contains(needle),
        "errMsg {:?} lacks {needle:?}",
        reply.err_msg()
    );
    assert_eq!(
        reply.status, 200,
        "business errors are HTTP 200: {}",
        reply.body
    );
}

/// `data` of a successful call.
pub async fn data(client: &OpenImClient, path: &str, body: Value) -> Value {
    let reply = client.call(path, &body).await.unwrap();
    assert_eq!(reply.err_code(), 0, "{path} failed: {}", reply.body);
    assert_eq!(reply.err_msg(), "");
    reply.body["data"].clone()
}

/// A successful call's whole body.
pub async fn ok(client: &OpenImClient, path: &str, body: Value) -> Value {
    let reply = client.call(path, &body).await.unwrap();
    assert_eq!(reply.err_code(), 0, "{path} failed: {}", reply.body);
    reply.body
}

pub fn ids(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|v| v[key].as_str().unwrap().to_owned())
        .collect()
}

pub fn op() -> Value {
    json!(confab_client::openim::op_id())
}

/// Runs each case on SQLite and on PostgreSQL.
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    let t = $crate::harness::TestServer::start($crate::harness::Backend::Sqlite).await.unwrap();
                    super::$case(&t).await;
                    t.stop().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $case() {
                    if let Some(t) = $crate::harness::TestServer::start($crate::harness::Backend::Postgres).await {
                        super::$case(&t).await;
                        t.stop().await;
                    }
                }
            )*
        }
    };
}

/// Runs each case on SQLite only (cases that exercise no storage difference).
macro_rules! on_sqlite {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    let t = $crate::harness::TestServer::start($crate::harness::Backend::Sqlite).await.unwrap();
                    super::$case(&t).await;
                    t.stop().await;
                }
            )*
        }
    };
}
