//! `confab backup` while 50 WebSocket senders pipeline messages, then
//! `confab restore` into a fresh data dir, on the real binary: every
//! message acked before the backup began is in the restored database
//! exactly once, at its acked seq, with gap-free seqs; what was acked while
//! the backup ran may or may not be in it, but is where its ack said if it
//! is. A restore refuses while a server holds the target database.

use crate::traffic::{self, Expect, ServerProcess, Traffic};
use futures_util::future::join_all;
use std::collections::HashSet;
use std::ffi::OsStr;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Acks before the backup starts.
const ACKS_BEFORE_BACKUP: usize = 400;
/// Acks after the backup ends, before the senders stop.
const ACKS_AFTER_BACKUP: usize = 200;

/// Runs `confab ARGS` to its end, with no database setting inherited.
fn confab<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(args: I) -> Output {
    Command::new(env!("CARGO_BIN_EXE_confab"))
        .args(args)
        .env_remove("CONFAB_DATABASE_URL")
        .env_remove("CONFAB_DATA_DIR")
        .env_remove("CONFAB_CONFIG")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_load_restores_every_message_acked_before_it() {
    let started = Instant::now();
    let (source, target, backups) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let file = backups.path().join("confab-backup.db");
    let mut server = ServerProcess::start(source.path(), &[]);
    let (tokens, groups) = traffic::populate(&server.url).await;
    let traffic = Traffic {
        ledger: Mutex::default(),
        groups,
    };
    let clients = traffic::connect_all(&server.url, &tokens).await;
    let stop = AtomicBool::new(false);
    let each = clients.iter().enumerate();
    let senders = join_all(each.map(|(user, c)| traffic.send_new(user, c, &stop, usize::MAX)));
    let backup = async {
        traffic.more_acks(ACKS_BEFORE_BACKUP).await;
        // Everything acked now was committed before the backup's snapshot.
        let acked_before: HashSet<String> = traffic
            .ledger
            .lock()
            .unwrap()
            .acks
            .keys()
            .cloned()
            .collect();
        let (acks_at_start, backup_started) = (traffic.acks(), Instant::now());
        let args = [OsStr::new("backup"), OsStr::new("--to"), file.as_os_str()];
        let args: Vec<_> = args.into_iter().map(ToOwned::to_owned).collect();
        let data_dir = [OsStr::new("--data-dir").to_owned(), source.path().into()];
        let output = tokio::task::spawn_blocking(move || confab(args.into_iter().chain(data_dir)))
            .await
            .unwrap();
        let took = backup_started.elapsed();
        let acks_during = traffic.acks() - acks_at_start;
        traffic.more_acks(ACKS_AFTER_BACKUP).await;
        stop.store(true, Ordering::Relaxed);
        (acked_before, output, took, acks_during)
    };
    let (_, (acked_before, output, took, acks_during)) = futures_util::join!(senders, backup);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "backup failed: {stdout}{stderr}");
    assert!(
        stdout.starts_with("backed up ") && stdout.contains(" messages, "),
        "{stdout}"
    );
    let ledger = std::mem::take(&mut *traffic.ledger.lock().unwrap());
    let (sent, acked) = (ledger.sent.len(), ledger.acks.len());
    assert!(ledger.refused.is_empty(), "refused: {:?}", ledger.refused);
    drop(clients);
    server.terminate();
    let exit = tokio::task::block_in_place(|| server.wait_exit(Duration::from_secs(20)));
    assert!(exit.is_some_and(|s| s.success()), "the server did not stop");

    let restore = |dir: &std::path::Path| {
        let dir = dir.as_os_str().to_owned();
        let args = [
            "restore".into(),
            "--from".into(),
            file.clone().into_os_string(),
        ];
        confab(args.into_iter().chain(["--data-dir".into(), dir]))
    };
    let output = restore(target.path());
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "restore failed: {stdout}{}",
        text(&output.stderr)
    );
    assert!(stdout.starts_with("restored "), "{stdout}");
    let restored = tokio::task::block_in_place(|| ServerProcess::start(target.path(), &[]));

    // With a server on it, the target is refused, and left as it is (the
    // check below runs on it).
    let output = restore(target.path());
    let stderr = text(&output.stderr);
    assert!(!output.status.success(), "a restore under a running server");
    assert!(
        stderr.contains("is open in another Confab process") && stderr.contains("stop it first"),
        "{stderr}"
    );
    assert!(!target.path().join("confab.db.before-restore").exists());

    let clients = traffic::connect_all(&restored.url, &tokens).await;
    let stored = traffic::verify(&clients, &ledger, Expect::AtLeast(&acked_before)).await;
    assert!(stored >= acked_before.len(), "{stored} stored");
    println!(
        "backup under load: {sent} sent, {acked} acked, {} acked before the backup, \
         {acks_during} acked while it ran ({took:.1?}), {stored} restored; {:.1?}",
        acked_before.len(),
        started.elapsed()
    );
}

#[test]
fn backup_and_restore_of_postgresql_point_to_its_own_tools() {
    let url = "postgres://confab@127.0.0.1:5432/confab";
    let output = confab(["backup", "--to", "x.dump", "--database-url", url]);
    let stderr = text(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("the database is PostgreSQL: back it up with pg_dump"),
        "{stderr}"
    );
    assert!(!std::path::Path::new("x.dump").exists());
    let output = confab(["restore", "--from", "x.dump", "--database-url", url]);
    let stderr = text(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("restore a pg_dump file with pg_restore"),
        "{stderr}"
    );
}
