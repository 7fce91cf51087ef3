//! `confab`: the Confab IM server.

use anyhow::Context;
use clap::{Parser, Subcommand};
use confab_server::config::{Config, Settings};
use std::path::PathBuf;
use tracing_subscriber::EnvFilter;

// The server allocates and frees many small buffers per message (frames,
// JSON, rows); mimalloc does that with less contention than the system
// allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "confab",
    version,
    about = "Confab: a self-hosted instant-messaging server"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// With no command, `confab` serves with these arguments.
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the APIs (the default when no command is given).
    Serve(Box<ServeArgs>),
    /// Load a running server with real WebSockets and report throughput and latency.
    Bench(confab_server::bench::BenchArgs),
    /// Copy the SQLite database to a file, while a server runs on it.
    Backup(confab_server::backup::BackupArgs),
    /// Put a backup in place of the SQLite database (with no server running on it).
    Restore(confab_server::backup::RestoreArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// TOML configuration file; see confab.example.toml
    #[arg(long, env = "CONFAB_CONFIG")]
    config: Option<PathBuf>,
    #[command(flatten)]
    settings: Settings,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Serve(args)) => *args,
        Some(Command::Bench(args)) => return runtime()?.block_on(confab_server::bench::run(args)),
        Some(Command::Backup(args)) => {
            return runtime()?.block_on(confab_server::backup::backup(args))
        }
        Some(Command::Restore(args)) => {
            return runtime()?.block_on(confab_server::backup::restore(args))
        }
        None => cli.serve,
    };
    let file = match &args.config {
        Some(path) => Settings::from_file(path)?,
        None => Settings::default(),
    };
    let config = Config::resolve(file.merged(args.settings))?;
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(EnvFilter::try_new(&config.log).context("log filter")?)
        .init();
    runtime()?.block_on(serve(config))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")
}

async fn serve(mut config: Config) -> anyhow::Result<()> {
    // One server process per SQLite database, held until it exits.
    let _lock = match confab_store::BackendKind::of_url(&config.database_url)? {
        confab_store::BackendKind::Sqlite => confab_store::SqliteStore::lock(&config.database_url)?,
        confab_store::BackendKind::Postgres => None,
    };
    confab_server::announce_secrets(&config);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    // Files (avatars, uploads) are served under the public URL; with port
    // 0 only the bound address says what it is.
    if config.public_url.is_none() {
        config.public_url = Some(format!("http://{}", listener.local_addr()?));
    }
    let app = confab_server::build(&config).await?;
    let openim = match config.openim_gateway_listen {
        Some(at) => Some(
            tokio::net::TcpListener::bind(at)
                .await
                .with_context(|| format!("binding openim_gateway_listen {at}"))?,
        ),
        None => None,
    };
    tracing::info!(
        listen = %listener.local_addr()?,
        openim_gateway = ?config.openim_gateway_listen,
        database = %confab_server::config::redact_url(&config.database_url),
        admins = ?config.admin_user_ids,
        "confab is serving"
    );
    confab_server::serve_with(app, listener, openim, shutdown_signal()).await?;
    tracing::info!("confab stopped");
    Ok(())
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("listening for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!("listening for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
