//! Crash safety of acknowledged sends, on the real `confab` binary.
//!
//! 50 users pipeline one-to-one and group messages over `/ws` while the
//! server is killed with SIGKILL, three times, each time after a few hundred
//! acks. After each restart on the same data the clients resend every message
//! that was never acknowledged and a sample of those that were. At the end
//! every conversation is pulled, which proves: every acknowledged message is
//! stored exactly once, at its acknowledged seq, with its content and sender;
//! seqs are gap-free from 1 to max in every conversation; nothing that was
//! never sent is stored; a resend of an acknowledged message gets its first
//! ack; every message is eventually acknowledged. On SQLite with `durability`
//! process and fsync, and on PostgreSQL. (The server process, the traffic
//! and the check are in `traffic.rs`.)

use crate::traffic::{self, Expect, ServerProcess, Traffic};
use futures_util::future::join_all;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// New acks after which the server is killed, one entry per kill cycle.
const KILL_AFTER: [usize; 3] = [250, 400, 550];
/// New messages per user in the last cycle, which is not killed.
const LAST_CYCLE_SENDS: usize = 4;
/// Sends still unanswered this long after a kill are given up (a request
/// written to a dead socket after its reader ended would wait forever).
const AFTER_KILL_GRACE: Duration = Duration::from_millis(500);

/// Waits for `n` more acks, then kills the server and sets `stop`.
async fn kill_after(traffic: &Traffic, n: usize, server: ServerProcess, stop: &AtomicBool) {
    traffic.more_acks(n).await;
    drop(server); // SIGKILL
    stop.store(true, Ordering::Relaxed);
}

/// Registers the users and two groups, then runs the kill cycles and a last,
/// clean cycle, and verifies every conversation.
async fn crash_scenario(name: &str, env: Vec<(&str, String)>) {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let start = || tokio::task::block_in_place(|| ServerProcess::start(dir.path(), &env));
    let mut server = Some(start());
    let (tokens, groups) = traffic::populate(&server.as_ref().unwrap().url).await;
    let traffic = Traffic {
        ledger: Mutex::default(),
        groups,
    };
    for cycle in 0..=KILL_AFTER.len() {
        let cycle_started = Instant::now();
        let process = server.take().unwrap_or_else(&start);
        let restart_ms = std::time::UNIX_EPOCH.elapsed().unwrap().as_millis() as i64;
        let clients = traffic::connect_all(&process.url, &tokens).await;
        let sent_before = traffic.ledger.lock().unwrap().sent.len();
        let unacked_before = sent_before - traffic.acks();
        let resends = (clients.iter().enumerate())
            .map(|(user, c)| traffic.resend(user, c, cycle, restart_ms));
        let [resent_acked, stored_before] = join_all(resends)
            .await
            .into_iter()
            .fold([0, 0], |[a, b], [c, d]| [a + c, b + d]);
        let (stop, acks_before) = (AtomicBool::new(false), traffic.acks());
        let limit = KILL_AFTER
            .get(cycle)
            .map_or(LAST_CYCLE_SENDS, |_| usize::MAX);
        let each = clients.iter().enumerate();
        let senders = join_all(each.map(|(user, c)| traffic.send_new(user, c, &stop, limit)));
        if let Some(&n) = KILL_AFTER.get(cycle) {
            let cut = async {
                while !stop.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                tokio::time::sleep(AFTER_KILL_GRACE).await;
            };
            let senders = async { tokio::select!(_ = senders => {}, _ = cut => {}) };
            futures_util::join!(senders, kill_after(&traffic, n, process, &stop));
        } else {
            senders.await;
            let ledger = std::mem::take(&mut *traffic.ledger.lock().unwrap());
            let refused = &ledger.refused;
            assert!(refused.is_empty(), "sends refused: {refused:?}");
            traffic::verify(&clients, &ledger, Expect::Everything).await;
            *traffic.ledger.lock().unwrap() = ledger;
            drop(process);
        }
        println!(
            "[{name}] cycle {cycle}: resent {unacked_before} unacked ({stored_before} of them stored \
             before the kill) and {resent_acked} acked; {} new acks; {}; {:.1?}",
            traffic.acks() - acks_before,
            if cycle < KILL_AFTER.len() { "killed" } else { "verified" },
            cycle_started.elapsed()
        );
    }
    println!("[{name}] passed in {:.1?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_process_durability_keeps_acked_messages_across_sigkill() {
    crash_scenario("sqlite/process", vec![]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_fsync_durability_keeps_acked_messages_across_sigkill() {
    crash_scenario("sqlite/fsync", vec![("CONFAB_DURABILITY", "fsync".into())]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keeps_acked_messages_across_sigkill() {
    let Some(url) = confab_store::testing::fresh_postgres_database("confab_crash").await else {
        return; // unreachable outside CI; the helper printed why
    };
    crash_scenario("postgres", vec![("CONFAB_DATABASE_URL", url)]).await;
}
