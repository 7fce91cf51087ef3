//! The embedded backend: one SQLite file in WAL mode.
//!
//! All writes go through a single connection, so writers never contend for
//! SQLite's one write lock (no SQLITE_BUSY, no retry loops) and numeric id
//! allocation is serialised for free; reads use a separate read-only pool
//! that WAL lets run alongside the writer.
//!
//! Messages are a log in append order (migration 0007); a resend is found
//! through [`RecentSends`], an in-memory index of the log's last sends
//! rebuilt on open, instead of a unique index that would cost a random page
//! write per message. Checkpoints run beside the writer, on a connection of
//! their own (`checkpoint_loop`).

use crate::common::{db_err, impl_store, AppendError, Backend};
use crate::recent_sends::{RecentSends, SendKey, DEFAULT_WINDOW};
use crate::rows::{MessageRow, MESSAGE_COLUMNS};
use confab_core::message::{Message, NewMessage};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

/// One row of `MESSAGE_COLUMNS`' placeholders.
const MESSAGE_PLACEHOLDERS: &str = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/// The embedded backend's migrations, applied on open (and read by a
/// restore, which refuses a backup with migrations this build lacks).
pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// How far a commit must reach before it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Survives a process crash (WAL, synchronous=NORMAL).
    #[default]
    Process,
    /// Survives power loss too: each commit is fsynced (synchronous=FULL).
    Fsync,
}

pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    /// Held for the whole of an append, from the resend lookup to the
    /// commit, so that two appends cannot both take a send as new.
    recent: tokio::sync::Mutex<RecentSends>,
    /// The checkpointer task, stopped with the store.
    checkpoints: tokio::task::AbortHandle,
}

/// Locks the database at `path` (see [`SqliteStore::lock`]).
fn lock_database(path: &std::path::Path) -> confab_core::Result<std::fs::File> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let lock = std::path::PathBuf::from(name);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock)
        .map_err(|e| confab_core::Error::internal(format!("opening {}: {e}", lock.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(confab_core::Error::internal(format!(
            "{} is open in another Confab process (it holds {}); stop it first",
            path.display(),
            lock.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(confab_core::Error::internal(format!(
            "locking {}: {e}",
            lock.display()
        ))),
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.checkpoints.abort();
    }
}

/// How long a RESTART checkpoint waits for readers to leave the WAL before
/// giving up until the next tick: the writer is held meanwhile, so a
/// reader that stays long must not stall appends for the busy timeout.
const RESTART_PATIENCE_MS: u32 = 50;
/// The writer's busy timeout otherwise.
const BUSY_TIMEOUT_MS: u32 = 10_000;

/// A RESTART checkpoint on the writer connection, waiting at most
/// `RESTART_PATIENCE_MS` for readers; a busy result is tried again on the
/// next tick.
async fn restart_wal(writer: &SqlitePool) -> Result<(), sqlx::Error> {
    let mut conn = writer.acquire().await?;
    sqlx::query(&format!("PRAGMA busy_timeout = {RESTART_PATIENCE_MS}"))
        .execute(&mut *conn)
        .await?;
    let restarted = sqlx::query("PRAGMA wal_checkpoint(RESTART)")
        .execute(&mut *conn)
        .await;
    let restored = sqlx::query(&format!("PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}"))
        .execute(&mut *conn)
        .await;
    if let Err(e) = restored {
        // A writer left with the short timeout could fail its appends:
        // the connection is closed instead, and the pool opens another.
        conn.detach();
        return Err(e);
    }
    restarted.map(|_| ())
}

/// Whether the writer connection may go back to the pool: not while it is
/// still inside a transaction. When a commit fails on a full disk, SQLite
/// rolls the transaction back itself, and sqlx's rollback then fails too
/// and leaves its count of open transactions at one: every later `begin`
/// became a SAVEPOINT inside a transaction that never commits, so appends
/// were acked that no other connection saw and that a restart lost. Such a
/// connection is closed instead (closing rolls back whatever is open) and
/// the pool opens a new one. The ping first runs what is queued on the
/// connection (the rollback of a dropped transaction).
async fn discard_if_in_transaction(conn: &mut sqlx::SqliteConnection) -> Result<bool, sqlx::Error> {
    use sqlx::Connection;
    conn.ping().await?;
    if conn.is_in_transaction() {
        tracing::warn!(
            "the writer connection was left inside a transaction after a failed write: closed"
        );
        return Ok(false);
    }
    Ok(true)
}

/// How often the checkpointer copies the WAL into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(1000);
/// WAL pages past which the checkpointer makes the writer start the WAL
/// over (256 MiB of 4 KiB pages).
const WAL_RESTART_PAGES: i64 = 65_536;

/// Checkpoints beside the writer. A commit that also checkpointed (SQLite's
/// default) stalled the sends of its batch while thousands of pages were
/// copied and the database flushed. Here a PASSIVE checkpoint, on a
/// connection of its own, copies what is committed without blocking anyone.
/// Under steady writes the WAL is then never wholly copied at the moment a
/// transaction starts, so SQLite would never start it over: past
/// `WAL_RESTART_PAGES` a RESTART checkpoint starts it over. That one runs on
/// the writer connection, between two transactions, with only what the
/// passive one left to copy: from another connection it would hold the
/// write lock while waiting for readers, and a writer transaction that had
/// read first would fail with SQLITE_BUSY instead of waiting (SQLite does
/// not wait there, to avoid a deadlock).
async fn checkpoint_loop(checkpointer: SqlitePool, writer: SqlitePool) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let passive: Result<(i64, i64, i64), _> = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&checkpointer)
            .await;
        match passive {
            Ok((_, wal_pages, _)) if wal_pages > WAL_RESTART_PAGES => {
                if let Err(e) = restart_wal(&writer).await {
                    tracing::warn!(error = %e, "a WAL checkpoint (restart) failed");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "a WAL checkpoint failed"),
        }
    }
}

impl Backend for SqliteStore {
    type Db = sqlx::Sqlite;
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` (`sqlite://PATH`)
    /// and applies the migrations.
    pub async fn open(url: &str, durability: Durability) -> confab_core::Result<SqliteStore> {
        Self::open_with(url, durability, DEFAULT_WINDOW).await
    }

    /// [`open`](Self::open), remembering the last `resend_window` sends for
    /// resend detection.
    pub async fn open_with(
        url: &str,
        durability: Durability,
        resend_window: usize,
    ) -> confab_core::Result<SqliteStore> {
        let base = SqliteConnectOptions::from_str(url)
            .map_err(|e| confab_core::Error::invalid(format!("database_url: {e}")))?
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match durability {
                Durability::Process => SqliteSynchronous::Normal,
                Durability::Fsync => SqliteSynchronous::Full,
            })
            .busy_timeout(Duration::from_millis(u64::from(BUSY_TIMEOUT_MS)))
            .foreign_keys(false)
            // No checkpoint on the commit path: the checkpointer task does
            // them beside the writer (see `checkpoint_loop`).
            .pragma("wal_autocheckpoint", "0")
            .pragma("cache_size", "-65536");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .after_release(|conn, _| Box::pin(discard_if_in_transaction(conn)))
            .connect_with(base.clone().create_if_missing(true))
            .await
            .map_err(|e| confab_core::Error::internal(format!("opening {url}: {e}")))?;
        MIGRATOR
            .run(&writer)
            .await
            .map_err(|e| confab_core::Error::internal(format!("migrating {url}: {e}")))?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(base.clone().read_only(true))
            .await
            .map_err(|e| confab_core::Error::internal(format!("opening {url} for reading: {e}")))?;
        let recent = tokio::sync::Mutex::new(load_recent_sends(&writer, resend_window).await?);
        let checkpointer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(base)
            .await
            .map_err(|e| {
                confab_core::Error::internal(format!("opening {url} to checkpoint: {e}"))
            })?;
        let checkpoints =
            tokio::spawn(checkpoint_loop(checkpointer, writer.clone())).abort_handle();
        Ok(SqliteStore {
            writer,
            reader,
            recent,
            checkpoints,
        })
    }

    /// Takes an exclusive lock on `DB.lock` beside the database `url` names,
    /// held as long as the returned file is (None for an in-memory
    /// database). A server holds it while it runs: a second process on the
    /// same database would keep an index of recent sends of its own and
    /// store a resend as a new message. (The store does not take it itself,
    /// so that tests may open a database beside a server in one process.)
    pub fn lock(url: &str) -> confab_core::Result<Option<std::fs::File>> {
        if url.contains(":memory:") || url.contains("mode=memory") {
            return Ok(None);
        }
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| confab_core::Error::invalid(format!("database_url: {e}")))?;
        lock_database(options.get_filename()).map(Some)
    }

    /// The index of recent sends, locked for an append.
    async fn recent_sends(&self) -> Option<tokio::sync::MutexGuard<'_, RecentSends>> {
        Some(self.recent.lock().await)
    }

    /// The (recipient, sender) pairs of `pairs` a send would be refused
    /// for, by their index: (index, recipient exists, recipient blocks the
    /// sender).
    async fn refused_chats(
        &self,
        pairs: &[(confab_core::UserId, confab_core::UserId)],
    ) -> confab_core::Result<Vec<(usize, bool, bool)>> {
        let mut out = Vec::new();
        let mut offset = 0;
        for chunk in crate::common::shaped_chunks(pairs) {
            let values = vec!["(?, ?, CAST(? AS BIGINT))"; chunk.len()].join(", ");
            let sql = format!(
                "SELECT i, e, b FROM (SELECT v.column3 AS i, \
                 EXISTS (SELECT 1 FROM users u WHERE u.user_id = v.column1) AS e, \
                 EXISTS (SELECT 1 FROM blacks b WHERE b.owner_user_id = v.column1 \
                 AND b.block_user_id = v.column2) AS b \
                 FROM (VALUES {values}) AS v) AS f WHERE e = 0 OR b = 1"
            );
            let mut q = sqlx::query_as::<_, (i64, bool, bool)>(&sql);
            for (i, (recipient, sender)) in chunk.iter().enumerate() {
                q = q
                    .bind(recipient.as_str())
                    .bind(sender.as_str())
                    .bind(i as i64);
            }
            for (i, exists, blocks) in q.fetch_all(self.reader()).await.map_err(db_err)? {
                let i = usize::try_from(i).map_err(confab_core::Error::internal)?;
                out.push((offset + i, exists, blocks));
            }
            offset += chunk.len();
        }
        Ok(out)
    }

    /// The stored message of each resend in `batch`, through the index of
    /// recent sends, which this backend always has: only the log rows it
    /// names are read. A row whose key merely collides with a send's is
    /// read too, and never looked up, since the append asks by exact pair.
    async fn stored_sends(
        tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        batch: &[NewMessage],
        recent: Option<&RecentSends>,
    ) -> Result<HashMap<(String, String), Message>, AppendError> {
        let recent = recent.ok_or_else(|| {
            AppendError::Other(confab_core::Error::internal(
                "the embedded store appends without its index of recent sends",
            ))
        })?;
        let rows: Vec<i64> = batch
            .iter()
            .flat_map(|new| {
                recent.rows_of(RecentSends::key(
                    new.message.sender_id.as_str(),
                    &new.message.client_msg_id,
                ))
            })
            .collect();
        let mut stored = HashMap::new();
        for chunk in crate::common::shaped_chunks(&rows) {
            let list = vec!["?"; chunk.len()].join(", ");
            let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id IN ({list})");
            let mut q = sqlx::query_as::<_, MessageRow>(&sql);
            for row in chunk {
                q = q.bind(*row);
            }
            for row in q.fetch_all(&mut **tx).await.map_err(AppendError::Db)? {
                let m: Message = row.into();
                stored.insert((m.sender_id.to_string(), m.client_msg_id.clone()), m);
            }
        }
        Ok(stored)
    }

    /// Inserts the messages of an append, in multi-row statements of power
    /// of two sizes (a few shapes, each prepared once); returns their log
    /// rows, in order.
    async fn insert_messages(
        tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        messages: &[Message],
    ) -> Result<Vec<i64>, AppendError> {
        let mut rows = Vec::with_capacity(messages.len());
        for chunk in crate::common::shaped_chunks(messages) {
            let values = vec![MESSAGE_PLACEHOLDERS; chunk.len()].join(", ");
            let sql = format!("INSERT INTO messages ({MESSAGE_COLUMNS}) VALUES {values}");
            let mut q = sqlx::query(&sql);
            for m in chunk {
                let at_user_ids = crate::rows::at_user_ids_column(&m.at_user_ids)?;
                q = q
                    .bind(&m.conversation_id)
                    .bind(m.seq)
                    .bind(&m.server_msg_id)
                    .bind(&m.client_msg_id)
                    .bind(m.sender_id.as_str())
                    .bind(m.sender_platform)
                    .bind(&m.sender_nickname)
                    .bind(&m.sender_face_url)
                    .bind(m.session_type as i32)
                    .bind(&m.recv_id)
                    .bind(m.content_type)
                    .bind(&m.content)
                    .bind(m.send_time)
                    .bind(m.status as i32)
                    .bind(at_user_ids)
                    .bind(&m.ex);
            }
            let done = q.execute(&mut **tx).await.map_err(AppendError::Db)?;
            // A multi-row insert gives its rows consecutive rowids, one
            // more than the largest before.
            let first = done.last_insert_rowid() - chunk.len() as i64 + 1;
            rows.extend((0..chunk.len() as i64).map(|i| first + i));
        }
        Ok(rows)
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    pub(crate) fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    /// Plain `?`: sqlx binds `$N` by looking up each name, a linear search
    /// per parameter that makes statements with thousands of them slow.
    fn param(_n: usize) -> String {
        "?".to_owned()
    }

    /// Nothing to do: the single writer connection already serialises writes.
    async fn lock_numeric_ids(
        _tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    ) -> confab_core::Result<()> {
        Ok(())
    }
}

/// The last `window` sends of the log. Read newest first as a stream (a
/// million rows at once would be a hundred megabytes of strings), then
/// remembered oldest first.
async fn load_recent_sends(writer: &SqlitePool, window: usize) -> confab_core::Result<RecentSends> {
    use futures_util::TryStreamExt;
    let mut newest_first: Vec<(i64, SendKey)> = Vec::with_capacity(window.min(1 << 20));
    let mut rows = sqlx::query_as::<_, (i64, String, String)>(
        "SELECT id, sender_id, client_msg_id FROM messages ORDER BY id DESC LIMIT ?",
    )
    .bind(i64::try_from(window).unwrap_or(i64::MAX))
    .fetch(writer);
    while let Some((id, sender, client_msg_id)) = rows.try_next().await.map_err(db_err)? {
        newest_first.push((id, RecentSends::key(&sender, &client_msg_id)));
    }
    let mut recent = RecentSends::new(window);
    for (id, key) in newest_first.into_iter().rev() {
        recent.remember(id, key);
    }
    Ok(recent)
}

impl_store!(SqliteStore);
