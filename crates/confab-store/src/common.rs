//! The store implementation both backends share.
//!
//! Confab's queries are written in the common subset of SQLite and PostgreSQL
//! (`$N` parameters, `ON CONFLICT`, no backend functions), so the two backends
//! share this body, instantiated per backend by `impl_store!`. What differs
//! between them stays in `sqlite.rs` and `postgres.rs`: connection set-up,
//! pragmas, migrations, locking. Each backend provides `writer()` (the pool
//! writes go through), `reader()` (for reads) and
//! `lock_numeric_ids(&mut tx)` (serialises numeric id allocation) and
//! `param(n)`, the text of the n-th parameter in statements built with many
//! parameters (SQLite's `$N` costs a linear name lookup per bind, so such
//! statements use plain `?` there).
//!
//! The body is split by topic, one macro per file: `users` (users and
//! tokens), `relations` (friends, blocks, friend requests), `groups` (groups,
//! members, join requests), `messages` (reads and per-user conversation
//! state), `append` (the batch append), `access` (the app and yunbay APIs'
//! sign-in state), `notifications` (notification ids and acks) and
//! `versions` (the version logs of the incremental sync). Each
//! macro expands to a private module inside the backend's module, so that
//! each file names its own imports; `impl_store!` instantiates them all,
//! with the fetch helpers below that every get-by-key read goes through.
//!
//! The macros are there because sqlx code generic over the database needs a
//! bound per bound type and per executor; each backend's copy is concrete.

mod access;
mod append;
mod groups;
mod messages;
mod notifications;
mod relations;
mod users;
pub(crate) mod versions;

use confab_core::Error;

/// Maps a database error: unique-key violations become `Conflict`, the rest
/// are internal (their text is logged, never shown to a client).
pub(crate) fn db_err(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            Error::conflict("the record already exists")
        }
        _ => Error::internal(format!("database: {e}")),
    }
}

/// Why a batch append failed: a database error, which may be worth
/// retrying, or anything else.
pub(crate) enum AppendError {
    Db(sqlx::Error),
    Other(Error),
}

impl From<AppendError> for Error {
    fn from(e: AppendError) -> Error {
        match e {
            AppendError::Db(e) => db_err(e),
            AppendError::Other(e) => e,
        }
    }
}

/// A serialization failure or deadlock (PostgreSQL), or a busy database
/// (SQLite): the transaction may succeed if run again.
pub(crate) fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => matches!(
            d.code().as_deref(),
            Some("40001" | "40P01" | "5" | "517" | "6")
        ),
        _ => false,
    }
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// Splits `items` into pieces whose sizes are powers of two (at most 512),
/// largest first: `n` items take as many statements as `n` has one-bits,
/// and statements come in ten shapes only, which the connection's statement
/// cache keeps prepared (preparing a statement with thousands of parameters
/// costs more than running it).
pub(crate) fn shaped_chunks<T>(mut items: &[T]) -> Vec<&[T]> {
    let mut out = Vec::new();
    let mut size = 512;
    while !items.is_empty() {
        while size > items.len() {
            size /= 2;
        }
        let (piece, rest) = items.split_at(size);
        out.push(piece);
        items = rest;
    }
    out
}

/// Clamps a page size or offset into the range SQL LIMIT/OFFSET accepts.
pub(crate) fn sql_count(n: u32) -> i64 {
    i64::from(n)
}

/// How many ids one `IN (...)` list holds.
pub(crate) const IN_LIST_CHUNK: usize = 500;

/// What `impl_store!` needs to know of a backend.
pub(crate) trait Backend {
    type Db: sqlx::Database;
}

/// Implements every store trait for `$store`, a backend type in scope where
/// the macro is invoked.
macro_rules! impl_store {
    ($store:ident) => {
        $crate::common::impl_fetch!($store);
        $crate::common::impl_users!($store);
        $crate::common::impl_relations!($store);
        $crate::common::impl_groups!($store);
        $crate::common::impl_messages!($store);
        $crate::common::impl_append!($store);
        $crate::common::impl_access!($store);
        $crate::common::impl_notifications!($store);
        $crate::common::impl_versions!($store);
    };
}

/// The fetch helpers: a query whose parameters are all text keys, run on the
/// reader, its rows converted to their domain type.
macro_rules! impl_fetch {
    ($store:ident) => {
        mod fetch {
            use super::$store;
            use confab_core::Result;
            use $crate::common::{db_err, Backend, IN_LIST_CHUNK};
            use $crate::rows::placeholders;

            type DbRow = <<$store as Backend>::Db as sqlx::Database>::Row;

            impl $store {
                /// The row `sql` selects with `keys` bound to `$1, $2, ...`:
                /// every get-by-key read.
                pub(super) async fn fetch_optional<R, T>(
                    &self,
                    sql: &str,
                    keys: &[&str],
                ) -> Result<Option<T>>
                where
                    R: for<'r> sqlx::FromRow<'r, DbRow> + Send + Unpin,
                    T: From<R>,
                {
                    let mut query = sqlx::query_as::<_, R>(sql);
                    for key in keys {
                        query = query.bind(*key);
                    }
                    let row = query.fetch_optional(self.reader()).await.map_err(db_err)?;
                    Ok(row.map(T::from))
                }

                /// Every row `sql` selects with `keys` bound to `$1, $2, ...`.
                pub(super) async fn fetch_all<R, T>(
                    &self,
                    sql: &str,
                    keys: &[&str],
                ) -> Result<Vec<T>>
                where
                    R: for<'r> sqlx::FromRow<'r, DbRow> + Send + Unpin,
                    T: From<R>,
                {
                    let mut query = sqlx::query_as::<_, R>(sql);
                    for key in keys {
                        query = query.bind(*key);
                    }
                    let rows = query.fetch_all(self.reader()).await.map_err(db_err)?;
                    Ok(rows.into_iter().map(T::from).collect())
                }

                /// The rows of `sql(list)` where `list` holds the parameters
                /// of a chunk of `ids`, after `keys` (`$1, ...`), chunk by
                /// chunk, in chunk order.
                pub(super) async fn fetch_in<R, T>(
                    &self,
                    sql: impl Fn(&str) -> String,
                    keys: &[&str],
                    ids: &[&str],
                ) -> Result<Vec<T>>
                where
                    R: for<'r> sqlx::FromRow<'r, DbRow> + Send + Unpin,
                    T: From<R>,
                {
                    let mut out = Vec::with_capacity(ids.len());
                    for chunk in ids.chunks(IN_LIST_CHUNK) {
                        let sql = sql(&placeholders(keys.len() + 1, chunk.len()));
                        out.extend(
                            self.fetch_all::<R, T>(&sql, &[keys, chunk].concat())
                                .await?,
                        );
                    }
                    Ok(out)
                }
            }
        }
    };
}

pub(crate) use access::impl_access;
pub(crate) use append::impl_append;
pub(crate) use groups::impl_groups;
pub(crate) use impl_fetch;
pub(crate) use impl_store;
pub(crate) use messages::impl_messages;
pub(crate) use notifications::impl_notifications;
pub(crate) use relations::impl_relations;
pub(crate) use users::impl_users;
pub(crate) use versions::impl_versions;

#[cfg(test)]
mod tests {
    use super::shaped_chunks;

    #[test]
    fn chunks_come_in_four_sizes() {
        let items: Vec<u32> = (0..300).collect();
        let sizes: Vec<usize> = shaped_chunks(&items).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, [256, 32, 8, 4]);
        let many: Vec<u32> = (0..1100).collect();
        let sizes: Vec<usize> = shaped_chunks(&many).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, [512, 512, 64, 8, 4]);
        let flat: Vec<u32> = shaped_chunks(&items).concat();
        assert_eq!(flat, items, "every item once, in order");
        assert!(shaped_chunks::<u32>(&[]).is_empty());
    }
}
