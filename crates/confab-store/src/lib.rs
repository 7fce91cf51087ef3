//! Confab's storage: the `confab_core::store` traits on SQLite (embedded,
//! the default) and PostgreSQL (shared by several nodes). Each backend has its
//! own migrations, applied on open.

pub mod backup;
mod common;
pub mod postgres;
mod recent_sends;
mod rows;
pub mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;

use confab_core::store::Store;
use confab_core::{Error, Result};
use std::sync::Arc;

pub use postgres::PostgresStore;
pub use recent_sends::DEFAULT_WINDOW as DEFAULT_RESEND_WINDOW;
pub use sqlite::{Durability, SqliteStore};

/// Which backend a database URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

impl BackendKind {
    pub fn of_url(url: &str) -> Result<BackendKind> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(BackendKind::Postgres)
        } else if url.starts_with("sqlite:") {
            Ok(BackendKind::Sqlite)
        } else {
            Err(Error::invalid(
                "database_url: expected sqlite://PATH or postgres://...",
            ))
        }
    }
}

/// Opens the store a database URL names, applying its migrations.
pub async fn open(url: &str, durability: Durability) -> Result<Arc<dyn Store>> {
    open_with(url, durability, DEFAULT_RESEND_WINDOW).await
}

/// [`open`], with the number of recent sends the embedded backend remembers
/// to find resends (PostgreSQL finds every resend through an index).
pub async fn open_with(
    url: &str,
    durability: Durability,
    resend_window: usize,
) -> Result<Arc<dyn Store>> {
    Ok(match BackendKind::of_url(url)? {
        BackendKind::Sqlite => {
            Arc::new(SqliteStore::open_with(url, durability, resend_window).await?)
        }
        BackendKind::Postgres => Arc::new(PostgresStore::connect(url, 16).await?),
    })
}
