//! The Confab server: wiring of store, service and API, listeners and
//! graceful shutdown. `start` is what `confab serve` and the tests use.

pub mod config;

use anyhow::Context;
use confab_service::{Service, ServiceConfig};
use config::{Config, SecretSource};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Builds the service the config describes: opens the store (applying its
/// migrations) and creates the admin users.
pub async fn build_service(config: &Config) -> anyhow::Result<Arc<Service>> {
    let store = confab_store::open(&config.database_url, config.durability)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.log_message()))?;
    let admin_user_ids = config
        .admin_user_ids
        .iter()
        .map(|id| confab_core::UserId::parse("admin_user_ids", id))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("{}", e.client_message()))?;
    let service = Service::new(
        store,
        ServiceConfig {
            admin_user_ids,
            admin_secret: config.admin_secret.clone(),
            jwt_secret: config.jwt_secret.clone().into_bytes(),
            token_ttl_secs: config.token_ttl_secs,
        },
    );
    service
        .ensure_admin_users()
        .await
        .map_err(|e| anyhow::anyhow!("creating admin users: {}", e.log_message()))?;
    Ok(Arc::new(service))
}

/// Serves the API on `listener` until `shutdown` completes, then finishes
/// the requests in flight.
pub async fn serve(
    service: Arc<Service>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = confab_api::router(service).layer(tower_http::trace::TraceLayer::new_for_http());
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving HTTP")
}

/// A server running in the background, as tests and embedders use it.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub service: Arc<Service>,
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
    let service = build_service(config).await?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve(service.clone(), listener, async {
        let _ = rx.await;
    }));
    Ok(RunningServer {
        addr,
        service,
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
