//! The Confab server: wiring of store, service and API, listeners and
//! graceful shutdown. `start` is what `confab serve` and the tests use.

pub mod backup;
pub mod bench;
pub mod config;
pub mod profiles;
pub mod sms;

use anyhow::Context;
use confab_gateway::{Gateway, GatewayConfig, Registry};
use confab_service::{Service, ServiceConfig};
use config::{Config, SecretSource};
use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The system user: Easemob's `admin`, the sender of what an app token
/// sends without a `from`. Created with the first app token.
pub const SYSTEM_USER: &str = "admin";

/// The signature the yunbay spec's examples carry, accepted in place of a
/// real one when `yunbay_debug_sign` is on.
pub const YUNBAY_DEBUG_SIGNATURE: &str = "62361670a0b60c852fcc1e69189c233e";

/// The wired application: the service and this node's gateway.
#[derive(Clone)]
pub struct App {
    pub service: Arc<Service>,
    pub gateway: Arc<Gateway>,
    pub api: confab_api::ApiSettings,
}

/// Builds what the config describes: opens the store (applying its
/// migrations), creates the admin users, and connects the gateway to the
/// bus.
pub async fn build(config: &Config) -> anyhow::Result<App> {
    let store = confab_store::open_with(
        &config.database_url,
        config.durability,
        config.resend_window,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{}", e.log_message()))?;
    let admin_user_ids = config
        .admin_user_ids
        .iter()
        .map(|id| confab_core::UserId::parse("admin_user_ids", id))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("{}", e.client_message()))?;
    let bus = Arc::new(confab_bus::LocalBus::new());
    // The gateway's registry of sessions is the service's presence.
    let registry = Arc::new(Registry::new());
    let store_for_settings = store.clone();
    let service = Service::new(
        store,
        bus.clone(),
        registry.clone(),
        ServiceConfig {
            admin_user_ids,
            admin_secret: config.admin_secret.clone(),
            jwt_secret: config.jwt_secret.clone().into_bytes(),
            token_ttl_secs: config.token_ttl_secs,
            revoke_window_secs: config.revoke_window_secs,
            max_content_bytes: config.max_message_bytes,
            system_user_id: confab_core::UserId::from_trusted(SYSTEM_USER.to_owned()),
            app_token_ttl_secs: config.easemob.token_ttl_secs,
            app_client_id: config.easemob.client_id.clone(),
            app_client_secret: config.easemob.client_secret.clone(),
            signed_api: confab_service::SignedApiSettings {
                signing_keys: config.yunbay.app_keys.0.clone().into_iter().collect(),
                debug_signature: config
                    .yunbay
                    .debug_sign
                    .then(|| YUNBAY_DEBUG_SIGNATURE.to_owned()),
                user_token_ttl_secs: config.yunbay.token_ttl_secs,
                broadcast_ttl_secs: config.yunbay.broadcast_ttl_secs,
            },
            sms: config.sms.settings.clone(),
        },
    );
    service
        .ensure_admin_users()
        .await
        .map_err(|e| anyhow::anyhow!("creating admin users: {}", e.log_message()))?;
    let sms: Arc<dyn confab_service::SmsSender> = match &config.sms.provider {
        config::SmsProvider::Log => Arc::new(confab_service::LogSms),
        config::SmsProvider::Http(url) => Arc::new(sms::HttpSms::new(url.clone())?),
    };
    let files = confab_service::FileStore {
        store: file_store(config)?,
        public_url: config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", config.listen)),
        avatar_max_bytes: config.avatar_max_bytes,
    };
    let mut service = service
        .with_sms(sms)
        .with_files(files)
        .with_rate_limits(config.rate_limits);
    if let Some(url) = &config.yunbay.account_url {
        service = service.with_profile_source(Arc::new(profiles::HttpProfiles::new(
            url.clone(),
            config.yunbay.account_timeout,
        )?));
    }
    let service = Arc::new(service);
    let gateway = Arc::new(Gateway::new(
        service.clone(),
        registry,
        bus.clone(),
        GatewayConfig {
            node_id: config.node_id.clone(),
            queue_capacity: config.ws_queue_capacity,
            heartbeat_timeout: Duration::from_secs(config.heartbeat_timeout_secs),
            read_buffer_bytes: config.ws_buffer_bytes,
            write_buffer_bytes: config.ws_buffer_bytes,
            max_frame_bytes: config.max_message_bytes + 16 * 1024,
            trusted_networks: config.trusted_networks.clone(),
            max_connections: config.ws_max_connections,
            max_connections_per_ip: config.ws_max_connections_per_ip,
        },
    ));
    bus.subscribe(gateway.clone());
    bus.subscribe(service.clone());
    let e = &config.easemob;
    // Made once per deployment, in the database: every node shows the same
    // application, and user uuids (derived from it) outlive a data dir.
    let application = store_for_settings
        .setting_or_init(
            "easemob_application",
            &uuid::Uuid::new_v4().hyphenated().to_string(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("reading settings: {}", e.log_message()))?;
    let api = confab_api::ApiSettings {
        trusted_networks: config.trusted_networks.clone(),
        easemob: confab_api::easemob::EasemobSettings {
            org: e.org.clone(),
            app: e.app.clone(),
            application,
            max_targets: e.max_targets,
        },
    };
    Ok(App {
        service,
        gateway,
        api,
    })
}

/// The object store uploaded files go to: the data dir's `files/`, or an
/// S3-compatible bucket.
fn file_store(config: &Config) -> anyhow::Result<Arc<dyn object_store::ObjectStore>> {
    match &config.file_store {
        config::FileStoreConfig::Local => {
            let dir = config.data_dir.join("files");
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            Ok(Arc::new(
                object_store::local::LocalFileSystem::new_with_prefix(&dir)
                    .with_context(|| format!("opening {}", dir.display()))?,
            ))
        }
        config::FileStoreConfig::S3 {
            url,
            endpoint,
            region,
            access_key_id,
            secret_access_key,
        } => {
            let rest = url.trim_start_matches("s3://");
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let mut builder =
                object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
            if let Some(endpoint) = endpoint {
                builder = builder
                    .with_endpoint(endpoint)
                    .with_allow_http(endpoint.starts_with("http://"));
            }
            if let Some(region) = region {
                builder = builder.with_region(region);
            }
            if let Some(key) = access_key_id {
                builder = builder.with_access_key_id(key);
            }
            if let Some(secret) = secret_access_key {
                builder = builder.with_secret_access_key(secret);
            }
            let store = builder.build().context("configuring the S3 file store")?;
            let prefix = prefix.trim_matches('/');
            Ok(if prefix.is_empty() {
                Arc::new(store)
            } else {
                Arc::new(object_store::prefix::PrefixStore::new(
                    store,
                    prefix.to_owned(),
                ))
            })
        }
    }
}

/// Serves the APIs and the gateway on `listener` until `shutdown`
/// completes; then closes the WebSocket sessions and finishes the requests
/// in flight.
pub async fn serve(
    app: App,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    serve_with(app, listener, None, shutdown).await
}

/// [`serve`], and OpenIM's client gateway alone on `openim` when given
/// (`openim_gateway_listen`); both stop at `shutdown`.
pub async fn serve_with(
    app: App,
    listener: TcpListener,
    openim: Option<TcpListener>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let gateway = app.gateway.clone();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let openim = openim.map(|listener| {
        let router = confab_gateway::openim_router(app.gateway.clone())
            .layer(tower_http::trace::TraceLayer::new_for_http());
        tokio::spawn(
            axum::serve(listener, router)
                .with_graceful_shutdown(stopped(stop_rx.clone()))
                .into_future(),
        )
    });
    let (api, doc) = confab_api::router(app.service, app.api);
    let router = api
        .merge(contract_router(doc)?)
        .merge(confab_gateway::router(app.gateway))
        .layer(tower_http::trace::TraceLayer::new_for_http());
    // The peer's address decides who is on a trusted network.
    let served = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown({
        let gateway = gateway.clone();
        async move {
            shutdown.await;
            let _ = stop_tx.send(true);
            gateway.begin_drain();
        }
    })
    .await
    .context("serving HTTP");
    // WebSocket sessions outlive their HTTP connection: the server stops
    // once they have drained (every send read is answered), or at the
    // deadline.
    let closed = gateway.drained(SESSION_DRAIN).await;
    if closed > 0 {
        tracing::warn!(
            sessions = closed,
            "closed sessions still open {SESSION_DRAIN:?} after the shutdown began"
        );
    }
    if let Some(task) = openim {
        task.await
            .context("OpenIM gateway task")?
            .context("serving OpenIM's gateway")?;
    }
    served
}

/// How long a stopping server waits for its WebSocket sessions to drain
/// before closing them.
pub const SESSION_DRAIN: Duration = Duration::from_secs(10);
/// `GET /openapi.json`, the OpenAPI document of the HTTP dialects, and
/// `GET /docs`, a page to browse it.
fn contract_router(doc: utoipa::openapi::OpenApi) -> anyhow::Result<axum::Router> {
    use axum::response::IntoResponse;
    use utoipa_scalar::Servable;
    // Written once: the document does not change while the server runs.
    let json = doc.to_json().context("writing the OpenAPI document")?;
    let serve_json = move || {
        let json = json.clone();
        async move {
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                json,
            )
                .into_response()
        }
    };
    Ok(axum::Router::new()
        .route("/openapi.json", axum::routing::get(serve_json))
        .merge(utoipa_scalar::Scalar::with_url("/docs", doc)))
}

/// A server running in the background, as tests and embedders use it.
pub struct RunningServer {
    pub addr: SocketAddr,
    /// Where `openim_gateway_listen` is served, when set.
    pub openim_addr: Option<SocketAddr>,
    pub service: Arc<Service>,
    pub gateway: Arc<Gateway>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl RunningServer {
    /// Stops accepting, finishes requests in flight, and returns.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        (&mut self.task).await.context("server task")?
    }
}

/// Binds `config.listen` (port 0 picks a free port) and serves in the
/// background.
pub async fn start(config: &Config) -> anyhow::Result<RunningServer> {
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr()?;
    let openim = match config.openim_gateway_listen {
        Some(at) => Some(
            TcpListener::bind(at)
                .await
                .with_context(|| format!("binding openim_gateway_listen {at}"))?,
        ),
        None => None,
    };
    let openim_addr = openim.as_ref().map(|l| l.local_addr()).transpose()?;
    // With port 0 only the bound address says where files are served.
    let mut config = config.clone();
    if config.public_url.is_none() {
        config.public_url = Some(format!("http://{addr}"));
    }
    let app = build(&config).await?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve_with(app.clone(), listener, openim, async {
        let _ = rx.await;
    }));
    Ok(RunningServer {
        addr,
        openim_addr,
        service: app.service,
        gateway: app.gateway,
        shutdown: Some(tx),
        task,
    })
}

/// Logs where the admin secret is, the first thing an operator needs.
pub fn announce_secrets(config: &Config) {
    let path = config.secrets_path();
    match config.admin_secret_source {
        SecretSource::Generated => tracing::warn!(
            "no admin_secret configured: generated one and stored it in {}",
            path.display()
        ),
        SecretSource::Stored => tracing::info!("admin secret read from {}", path.display()),
        SecretSource::Config => tracing::info!("admin secret taken from the configuration"),
    }
}
