//! Online backup and offline restore of the embedded (SQLite) database.
//!
//! A backup is `VACUUM INTO` a file beside the target, run on a connection
//! of its own: one read transaction, so the copy is a consistent snapshot
//! of what was committed when it began, taken while the server goes on
//! writing (WAL lets a reader run beside the writer). It needs no lock the
//! server holds. The copy is checked, flushed and only then renamed to its
//! name, so a backup file that exists is whole.
//!
//! A restore replaces the database a server would open. It takes the
//! server's lock (so it refuses while a server runs, and no server starts
//! meanwhile), checks the backup before touching anything, copies it beside
//! the database, moves the old database and its WAL aside and renames the
//! copy in. At no point does the database's name hold a partial file.

use confab_core::{Error, Result};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// What a finished backup holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    pub bytes: u64,
    /// Rows of the message log.
    pub messages: i64,
}

/// What a finished restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    /// The database that now holds the backup.
    pub database: PathBuf,
    /// Where the database it replaced was moved (None when there was none).
    pub replaced: Option<PathBuf>,
    /// Rows of the message log restored.
    pub messages: i64,
}

/// How long a backup waits for the database when it is busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The file of a `sqlite://` URL; an in-memory database has none.
fn database_file(url: &str) -> Result<PathBuf> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| Error::invalid(format!("database_url: {e}")))?;
    if url.contains(":memory:") || url.contains("mode=memory") {
        return Err(Error::invalid(
            "database_url: an in-memory database has nothing to back up or restore",
        ));
    }
    Ok(options.get_filename().to_path_buf())
}

/// `path` with `suffix` added to its file name (`confab.db` → `confab.db-wal`).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn io_err(what: impl std::fmt::Display, e: std::io::Error) -> Error {
    Error::internal(format!("{what}: {e}"))
}

/// Flushes the directory holding `path`, so that a rename in it is durable.
fn sync_parent(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_err(format_args!("flushing {}", dir.display()), e))
}

/// Removes `path` if it exists.
fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(format_args!("removing {}", path.display()), e)),
    }
}

/// Checks that the file at `path` is a whole SQLite database holding
/// Confab's schema, with no migration this build does not know (a server
/// would refuse to start on it); returns its number of messages. Opened
/// immutable: nothing is written beside it.
async fn check_copy(path: &Path) -> Result<i64> {
    let shown = path.display();
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .immutable(true)
        .foreign_keys(false)
        .connect()
        .await
        .map_err(|e| Error::invalid(format!("{shown} is not a readable database: {e}")))?;
    let checked: std::result::Result<i64, Error> = async {
        let verdict: String = sqlx::query_scalar("PRAGMA quick_check")
            .fetch_one(&mut conn)
            .await
            .map_err(|e| Error::invalid(format!("{shown} is not a whole database: {e}")))?;
        if verdict != "ok" {
            return Err(Error::invalid(format!(
                "{shown} is damaged (quick_check: {verdict})"
            )));
        }
        let applied: Vec<i64> = sqlx::query_scalar(
            "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version",
        )
        .fetch_all(&mut conn)
        .await
        .map_err(|_| Error::invalid(format!("{shown} is not a Confab database")))?;
        let known: Vec<i64> = crate::sqlite::MIGRATOR.iter().map(|m| m.version).collect();
        if let Some(unknown) = applied.iter().find(|v| !known.contains(v)) {
            return Err(Error::invalid(format!(
                "{shown} was written by a newer Confab (migration {unknown} is unknown here); \
                 restore it with that version"
            )));
        }
        sqlx::query_scalar("SELECT count(*) FROM messages")
            .fetch_one(&mut conn)
            .await
            .map_err(|_| Error::invalid(format!("{shown} is not a Confab database")))
    }
    .await;
    let _ = conn.close().await;
    checked
}

/// Writes a consistent copy of the database `url` names to `to`, which
/// must not exist, while a server may be writing it.
pub async fn backup_sqlite(url: &str, to: &Path) -> Result<BackupReport> {
    let database = database_file(url)?;
    if !database.exists() {
        return Err(Error::not_found(format!(
            "no database at {}",
            database.display()
        )));
    }
    if to.exists() {
        return Err(Error::conflict(format!(
            "{} exists; back up to a new file",
            to.display()
        )));
    }
    let partial = with_suffix(to, ".partial");
    remove_if_present(&partial)?;
    let copied = copy_into(&database, &partial).await;
    let finished = match copied {
        Ok(messages) => finish_file(&partial, to).map(|bytes| BackupReport { bytes, messages }),
        Err(e) => Err(e),
    };
    if finished.is_err() {
        // A failed backup leaves no file behind, whole or not.
        let _ = remove_if_present(&partial);
    }
    finished
}

/// `VACUUM INTO` `partial` (one read transaction: a snapshot), then checks
/// the copy.
async fn copy_into(database: &Path, partial: &Path) -> Result<i64> {
    // Read-write but writing nothing: a read-only connection could not
    // join the WAL of a database whose server is stopped.
    let mut conn = SqliteConnectOptions::new()
        .filename(database)
        .create_if_missing(false)
        .foreign_keys(false)
        .busy_timeout(BUSY_TIMEOUT)
        .connect()
        .await
        .map_err(|e| Error::internal(format!("opening {}: {e}", database.display())))?;
    let target = partial
        .to_str()
        .ok_or_else(|| Error::invalid(format!("{}: the path is not UTF-8", partial.display())))?;
    let vacuumed = sqlx::query("VACUUM INTO ?")
        .bind(target)
        .execute(&mut conn)
        .await;
    let _ = conn.close().await;
    vacuumed.map_err(|e| {
        Error::internal(format!(
            "copying {} to {}: {e}",
            database.display(),
            partial.display()
        ))
    })?;
    check_copy(partial).await
}

/// Flushes `partial` and renames it to `to`; returns its size.
fn finish_file(partial: &Path, to: &Path) -> Result<u64> {
    let file = std::fs::File::open(partial)
        .map_err(|e| io_err(format_args!("opening {}", partial.display()), e))?;
    file.sync_all()
        .map_err(|e| io_err(format_args!("flushing {}", partial.display()), e))?;
    let bytes = file
        .metadata()
        .map_err(|e| io_err(format_args!("reading {}", partial.display()), e))?
        .len();
    std::fs::rename(partial, to)
        .map_err(|e| io_err(format_args!("renaming to {}", to.display()), e))?;
    sync_parent(to)?;
    Ok(bytes)
}

/// Puts the backup `from` in place of the database `url` names. Refuses
/// while a server holds the database's lock; fails before touching the
/// database when the backup is not a whole Confab database.
pub async fn restore_sqlite(url: &str, from: &Path) -> Result<RestoreReport> {
    let database = database_file(url)?;
    // Held to the end: no server may open the database meanwhile.
    let _lock = crate::SqliteStore::lock(url)?;
    let messages = check_copy(from).await?;
    let restoring = with_suffix(&database, ".restoring");
    remove_if_present(&restoring)?;
    let copied = std::fs::copy(from, &restoring)
        .map_err(|e| {
            io_err(
                format_args!("copying {} to {}", from.display(), restoring.display()),
                e,
            )
        })
        .and_then(|_| {
            std::fs::File::open(&restoring)
                .and_then(|f| f.sync_all())
                .map_err(|e| io_err(format_args!("flushing {}", restoring.display()), e))
        });
    if let Err(e) = copied {
        let _ = remove_if_present(&restoring);
        return Err(e);
    }
    let replaced = match swap_in(&database, &restoring) {
        Ok(replaced) => replaced,
        Err(e) => {
            let _ = remove_if_present(&restoring);
            return Err(e);
        }
    };
    Ok(RestoreReport {
        database,
        replaced,
        messages,
    })
}

/// The files of a database in WAL mode besides the database itself.
const SIDE_FILES: [&str; 2] = ["-wal", "-shm"];

/// Moves the database (with its WAL: applied to another database, an old
/// WAL would corrupt it) to `DB.before-restore`, then renames `restoring`
/// to the database. On a failure the old database is put back.
fn swap_in(database: &Path, restoring: &Path) -> Result<Option<PathBuf>> {
    let aside = with_suffix(database, ".before-restore");
    for suffix in SIDE_FILES {
        remove_if_present(&with_suffix(&aside, suffix))?;
    }
    let had_database = database.exists();
    let mut moved: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut moves = vec![(database.to_path_buf(), aside.clone())];
    moves.extend(SIDE_FILES.map(|s| (with_suffix(database, s), with_suffix(&aside, s))));
    let undo = |moved: &[(PathBuf, PathBuf)]| {
        for (from, to) in moved.iter().rev() {
            let _ = std::fs::rename(to, from);
        }
    };
    // The WAL moves before the database and the database goes last: a
    // database never sits beside a WAL that is not its own.
    moves.rotate_left(1);
    for (from, to) in moves {
        if !from.exists() {
            continue;
        }
        if let Err(e) = std::fs::rename(&from, &to) {
            undo(&moved);
            return Err(io_err(format_args!("moving {} aside", from.display()), e));
        }
        moved.push((from, to));
    }
    if let Err(e) = std::fs::rename(restoring, database) {
        undo(&moved);
        return Err(io_err(
            format_args!("renaming {} to {}", restoring.display(), database.display()),
            e,
        ));
    }
    sync_parent(database)?;
    Ok(had_database.then_some(aside))
}
