//! Test support (the `testing` feature): fresh PostgreSQL databases for the
//! contract suite and the integration tests, and row counts.
//!
//! The server is `CONFAB_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). When it cannot be reached,
//! tests skip with a printed note, except under `CI=true`, where its absence
//! is a failure.

use crate::common::db_err;
use sqlx::Connection;

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

fn server_url() -> String {
    std::env::var("CONFAB_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

fn replace_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[authority_end..]
        .find('/')
        .map(|i| authority_end + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..path_start], database);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Creates a new, empty database and returns its URL, or `None` (after
/// printing why) when PostgreSQL is unreachable outside CI.
///
/// # Panics
/// Under `CI=true` when PostgreSQL cannot be reached: CI must run these tests.
pub async fn fresh_postgres_database(prefix: &str) -> Option<String> {
    let url = server_url();
    let mut conn = match sqlx::PgConnection::connect(&url).await {
        Ok(c) => c,
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI=true and PostgreSQL at {url} is unreachable: {e}");
            }
            eprintln!("note: skipping a PostgreSQL test: {url} is unreachable ({e})");
            return None;
        }
    };
    let name = format!("{prefix}_{}", uuid_like_suffix());
    if let Err(e) = sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
    {
        panic!("creating test database {name}: {e}");
    }
    let _ = conn.close().await;
    Some(replace_database(&url, &name))
}

/// The tables [`RowCounts::row_count`] counts.
pub const TABLES: &[&str] = &[
    "users",
    "user_tokens",
    "friends",
    "blacks",
    "friend_requests",
    "im_groups",
    "group_members",
    "group_requests",
    "conversations",
    "messages",
    "user_conversations",
    "user_deleted_messages",
    "settings",
    "sms_codes",
    "sms_sends",
    "phone_users",
    "app_sessions",
];

/// Counts of stored rows, for tests that check what the store traits do not
/// show: that a broadcast is stored once, with no per-user rows.
#[async_trait::async_trait]
pub trait RowCounts {
    /// How many rows `table`, one of [`TABLES`], holds.
    async fn row_count(&self, table: &str) -> confab_core::Result<i64>;
}

macro_rules! impl_row_counts {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl RowCounts for $store {
            async fn row_count(&self, table: &str) -> confab_core::Result<i64> {
                if !TABLES.contains(&table) {
                    return Err(confab_core::Error::invalid(format!("no table {table}")));
                }
                let (count,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
                    .fetch_one(self.reader())
                    .await
                    .map_err(db_err)?;
                Ok(count)
            }
        }
    };
}

impl_row_counts!(crate::SqliteStore);
impl_row_counts!(crate::PostgresStore);

fn uuid_like_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn database_is_replaced() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            replace_database("postgres://u:p@h/db?sslmode=disable", "t2"),
            "postgres://u:p@h/t2?sslmode=disable"
        );
        assert_eq!(
            replace_database("postgres://h:5432", "t3"),
            "postgres://h:5432/t3"
        );
    }
}
