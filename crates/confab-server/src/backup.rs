//! `confab backup` and `confab restore`: the operator's commands around the
//! store's online backup and offline restore (`confab_store::backup`). They
//! find the database as `serve` does: `--config`, then `--data-dir` and
//! `--database-url` (and their `CONFAB_*` variables).

use crate::config::{Settings, SECRETS_FILE};
use anyhow::bail;
use confab_store::BackendKind;
use std::path::PathBuf;

/// Where the database is, as `serve` is told.
#[derive(clap::Args)]
pub struct DatabaseArgs {
    /// TOML configuration file; its data_dir and database_url are used
    #[arg(long, env = "CONFAB_CONFIG")]
    config: Option<PathBuf>,
    /// Directory of the SQLite database [default: ./data]
    #[arg(long, env = "CONFAB_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// sqlite://PATH or postgres://... [default: SQLite in the data dir]
    #[arg(long, env = "CONFAB_DATABASE_URL")]
    database_url: Option<String>,
}

impl DatabaseArgs {
    /// The data dir and the database URL, the file's settings under the
    /// flags'.
    fn location(&self) -> anyhow::Result<(PathBuf, String)> {
        let file = match &self.config {
            Some(path) => Settings::from_file(path)?,
            None => Settings::default(),
        };
        let flags = Settings {
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            ..Settings::default()
        };
        let (data_dir, url) = file.merged(flags).database_location();
        BackendKind::of_url(&url).map_err(|e| anyhow::anyhow!("{}", e.client_message()))?;
        Ok((data_dir, url))
    }
}

#[derive(clap::Args)]
pub struct BackupArgs {
    /// The backup file to write; it must not exist yet
    #[arg(long, value_name = "FILE")]
    to: PathBuf,
    #[command(flatten)]
    database: DatabaseArgs,
}

#[derive(clap::Args)]
pub struct RestoreArgs {
    /// A file `confab backup` wrote
    #[arg(long, value_name = "FILE")]
    from: PathBuf,
    #[command(flatten)]
    database: DatabaseArgs,
}

/// Copies the SQLite database to `--to`, while a server may run on it.
pub async fn backup(args: BackupArgs) -> anyhow::Result<()> {
    let (_, url) = args.database.location()?;
    if BackendKind::of_url(&url)? == BackendKind::Postgres {
        bail!(
            "the database is PostgreSQL: back it up with pg_dump \
             (pg_dump --format=custom --file=confab.dump \"$CONFAB_DATABASE_URL\"); \
             confab backup copies the embedded SQLite database only"
        );
    }
    let report = confab_store::backup::backup_sqlite(&url, &args.to)
        .await
        .map_err(|e| anyhow::anyhow!("backup failed: {}", e.log_message()))?;
    println!(
        "backed up {} to {}: {} messages, {} bytes",
        crate::config::redact_url(&url),
        args.to.display(),
        report.messages,
        report.bytes
    );
    Ok(())
}

/// Puts a backup in place of the SQLite database; refuses while a server
/// runs on it.
pub async fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    let (data_dir, url) = args.database.location()?;
    if BackendKind::of_url(&url)? == BackendKind::Postgres {
        bail!(
            "the database is PostgreSQL: restore a pg_dump file with pg_restore \
             (pg_restore --clean --dbname=\"$CONFAB_DATABASE_URL\" confab.dump); \
             confab restore handles the embedded SQLite database only"
        );
    }
    std::fs::create_dir_all(&data_dir)
        .map_err(|e| anyhow::anyhow!("creating data dir {}: {e}", data_dir.display()))?;
    let report = confab_store::backup::restore_sqlite(&url, &args.from)
        .await
        .map_err(|e| anyhow::anyhow!("restore failed: {}", e.log_message()))?;
    println!(
        "restored {} into {}: {} messages",
        args.from.display(),
        report.database.display(),
        report.messages
    );
    if let Some(old) = report.replaced {
        println!(
            "the database it replaced is at {} (delete it once the restore is checked)",
            old.display()
        );
    }
    // Tokens are signed with the JWT secret and app servers hold the admin
    // secret: a data dir without them would get new ones on the next start.
    if !data_dir.join(SECRETS_FILE).exists() {
        println!(
            "note: {} has no {SECRETS_FILE}; copy the old data dir's one (or configure \
             admin_secret and jwt_secret) or the next start generates new secrets and every \
             token and app server's secret stops working",
            data_dir.display()
        );
    }
    Ok(())
}
