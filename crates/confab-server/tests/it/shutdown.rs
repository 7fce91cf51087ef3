//! Graceful shutdown under load, on the real binary: 50 WebSocket senders
//! pipeline messages and the server gets SIGTERM. Every send is answered,
//! with an ack or an error frame (the drain refuses new sends), none hangs
//! and no connection ends with a send unanswered; the process exits by
//! itself within a bound; after a restart on the same data the refused
//! sends are resent and every conversation checks out (`traffic::verify`):
//! nothing acked is lost, and nothing refused had been stored.

use crate::traffic::{self, Expect, ServerProcess, Traffic};
use futures_util::future::join_all;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Acks before SIGTERM.
const ACKS_BEFORE_TERM: usize = 400;
/// The longest a drained server may take to exit: the server closes what
/// is still open 10 s after the signal (`SESSION_DRAIN`).
const EXIT_WITHIN: Duration = Duration::from_secs(15);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_answers_every_send_and_loses_nothing_acked() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(dir.path(), &[]);
    let (tokens, groups) = traffic::populate(&server.url).await;
    let traffic = Traffic {
        ledger: Mutex::default(),
        groups,
    };
    let clients = traffic::connect_all(&server.url, &tokens).await;
    // Never set: each sender stops at its first send not acked.
    let stop = AtomicBool::new(false);
    let each = clients.iter().enumerate();
    let senders = join_all(each.map(|(user, c)| traffic.send_new(user, c, &stop, usize::MAX)));
    let term = async {
        traffic.more_acks(ACKS_BEFORE_TERM).await;
        server.terminate();
        Instant::now()
    };
    let (_, termed) = futures_util::join!(senders, term);
    let answered_in = termed.elapsed();
    let exit = tokio::task::block_in_place(|| server.wait_exit(EXIT_WITHIN));
    let exited_in = termed.elapsed();
    assert!(
        exit.is_some_and(|s| s.success()),
        "no clean exit within {EXIT_WITHIN:?} of SIGTERM: {exit:?}"
    );
    let mut ledger = std::mem::take(&mut *traffic.ledger.lock().unwrap());
    let (sent, acked, refused) = (ledger.sent.len(), ledger.acks.len(), ledger.refused.len());
    assert!(
        ledger.unanswered.is_empty(),
        "{} sends unanswered: {:?}",
        ledger.unanswered.len(),
        &ledger.unanswered[..ledger.unanswered.len().min(20)]
    );
    let not_drain: Vec<_> = (ledger.refused.iter())
        .filter(|(_, (_, message))| !message.contains("the server is shutting down"))
        .collect();
    assert!(not_drain.is_empty(), "refused otherwise: {not_drain:?}");
    assert!(refused > 0, "no send was refused: the drain was not seen");
    assert_eq!(sent, acked + refused, "every send acked or refused");

    // A closed connection says so: every client saw the server close.
    for client in &clients {
        let closed = loop {
            match client.next_push(Duration::from_secs(5)).await {
                Some(confab_client::Pushed::Closed(code)) => break code,
                Some(_) => continue,
                None => panic!("a connection was not closed"),
            }
        };
        assert_eq!(closed, Some(1001));
    }
    drop(clients);

    let restarted = tokio::task::block_in_place(|| ServerProcess::start(dir.path(), &[]));
    let restart_ms = std::time::UNIX_EPOCH.elapsed().unwrap().as_millis() as i64;
    *traffic.ledger.lock().unwrap() = std::mem::take(&mut ledger);
    ledger = Default::default();
    let clients = traffic::connect_all(&restarted.url, &tokens).await;
    let resends = (clients.iter().enumerate()).map(|(u, c)| traffic.resend(u, c, 0, restart_ms));
    let [resent_acked, stored_before] = join_all(resends)
        .await
        .into_iter()
        .fold([0, 0], |[a, b], [c, d]| [a + c, b + d]);
    assert_eq!(
        stored_before, 0,
        "sends refused by the drain had been stored"
    );
    std::mem::swap(&mut ledger, &mut *traffic.ledger.lock().unwrap());
    ledger.refused.clear();
    let stored = traffic::verify(&clients, &ledger, Expect::Everything).await;
    println!(
        "graceful shutdown: {sent} sent, {acked} acked and {refused} refused by the drain \
         (all answered {answered_in:.1?} after SIGTERM), exited {exited_in:.1?} after it; \
         restarted: {refused} resent and acked, {resent_acked} acked ones resent, \
         {stored} stored; {:.1?}",
        started.elapsed()
    );
}
