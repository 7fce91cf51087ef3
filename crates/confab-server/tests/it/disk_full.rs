//! A full disk, on the real binary: the data dir is a tmpfs, shrunk to a
//! little more than the server uses once it is populated, and 50 WebSocket
//! senders pipeline messages until the writes fail. Every send is answered
//! with an ack or an error frame (none hangs, no connection drops), while
//! full the server still answers reads over the socket and admin calls
//! over HTTP, and once the tmpfs is grown again, without a restart, the
//! refused sends are resent and acked and new ones too. At the end every
//! conversation checks out (`traffic::verify`): each acked message stored
//! once at its seq, and no refused message had been stored.
//!
//! Mounting needs root; without it the test is skipped, but under `CI=true`
//! it fails.

use crate::harness::{ADMIN, SECRET};
use crate::traffic::{self, Expect, ServerProcess, Traffic};
use confab_client::OpenImClient;
use futures_util::future::join_all;
use serde_json::json;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Room left on the tmpfs once the server is populated.
const HEADROOM: u64 = 384 * 1024;
/// The tmpfs's size to start and once grown again.
const ROOMY: &str = "64m";
/// How long the senders may take to fill the disk.
const FILL_WITHIN: Duration = Duration::from_secs(120);

/// A tmpfs mounted on a temporary directory, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts one of `size`; None (a skip) if that is not possible here,
    /// but under CI a failure.
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output();
        match mounted {
            Ok(out) if out.status.success() => Some(Tmpfs { dir }),
            other => {
                let why = format!("mounting a tmpfs failed: {other:?}");
                assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
                eprintln!("skipped: {why} (needs root)");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn resize(&self, size: &str) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(self.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "remount size={size}: {out:?}");
    }

    /// Bytes in use.
    fn used(&self) -> u64 {
        let out = Command::new("df")
            .args(["-B1", "--output=used"])
            .arg(self.path())
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        text.lines().nth(1).unwrap().trim().parse().unwrap()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.path()).status();
    }
}

/// The server still answers while the disk is full: a sync and a pull over
/// the socket, and an admin read over HTTP; an admin write fails with the
/// dialect's error envelope, saying nothing of the cause.
async fn still_serving(clients: &[confab_client::WsClient], admin: &OpenImClient) {
    let conversations = clients[0].max_seqs().await.unwrap();
    let group = conversations
        .iter()
        .find(|c| c.conversation_id.starts_with("sg_") || c.conversation_id.starts_with("g_"))
        .expect("user 0's group conversation");
    let pulled = clients[0]
        .pull_all(&group.conversation_id, 1)
        .await
        .unwrap();
    assert_eq!(
        pulled.len() as i64,
        group.max_seq,
        "{}",
        group.conversation_id
    );
    let info = admin
        .ok(
            "/user/get_users_info",
            &json!({"userIDList": [traffic::user_id(1)]}),
        )
        .await
        .unwrap();
    assert_eq!(info["data"][0]["userID"], traffic::user_id(1), "{info}");
    // A new token is a write.
    let body = json!({"secret": SECRET, "platform": 5, "userID": traffic::user_id(2),
        "operationID": confab_client::openim::op_id()});
    let reply = admin.call("/auth/user_token", &body).await.unwrap();
    assert_eq!(
        (reply.err_code(), reply.err_msg()),
        (500, "internal error"),
        "{}",
        reply.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_fails_sends_with_an_error_and_the_server_recovers_when_it_has_room() {
    let started = Instant::now();
    let Some(disk) = Tmpfs::mount(ROOMY) else {
        return;
    };
    let server = tokio::task::block_in_place(|| ServerProcess::start(disk.path(), &[]));
    let (tokens, groups) = traffic::populate(&server.url).await;
    let traffic = Traffic {
        ledger: Mutex::default(),
        groups,
    };
    let clients = traffic::connect_all(&server.url, &tokens).await;
    // Taken while there is room: a token is a write.
    let anon = OpenImClient::new(&server.url);
    let admin = anon.with_token(&anon.user_token(SECRET, ADMIN, 8).await.unwrap());
    // Once what the server wrote so far is checkpointed, the disk is cut
    // down to a little more than it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let small = disk.used() + HEADROOM;
    disk.resize(&small.to_string());

    // Each sender stops at its first send not acked; the last ones stop
    // when the disk has been full a while.
    let stop = AtomicBool::new(false);
    let each = clients.iter().enumerate();
    let senders = join_all(each.map(|(user, c)| traffic.send_new(user, c, &stop, usize::MAX)));
    let watchdog = async {
        let deadline = Instant::now() + FILL_WITHIN;
        while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        stop.store(true, Ordering::Relaxed);
    };
    let fill = async {
        senders.await;
        stop.store(true, Ordering::Relaxed);
    };
    futures_util::join!(fill, watchdog);
    let filled_in = started.elapsed();
    let (sent, acked, refused) = {
        let ledger = traffic.ledger.lock().unwrap();
        let l = &ledger;
        assert!(
            l.unanswered.is_empty(),
            "unanswered: {:?}",
            &l.unanswered[..l.unanswered.len().min(20)]
        );
        assert!(
            !l.refused.is_empty(),
            "the disk never filled ({} acks)",
            l.acks.len()
        );
        // Refused as any internal failure is: no detail of the server's.
        let said: Vec<_> = (l.refused.values())
            .filter(|(code, message)| (*code, message.as_str()) != (500, "internal error"))
            .collect();
        assert!(said.is_empty(), "refused otherwise: {said:?}");
        (l.sent.len(), l.acks.len(), l.refused.len())
    };
    still_serving(&clients, &admin).await;

    disk.resize(ROOMY);
    let restart_ms = std::time::UNIX_EPOCH.elapsed().unwrap().as_millis() as i64;
    let resends = (clients.iter().enumerate()).map(|(u, c)| traffic.resend(u, c, 0, restart_ms));
    let [_, stored_before] = join_all(resends)
        .await
        .into_iter()
        .fold([0, 0], |[a, b], [c, d]| [a + c, b + d]);
    assert_eq!(
        stored_before, 0,
        "sends refused on a full disk had been stored"
    );
    let stop = AtomicBool::new(false);
    let each = clients.iter().enumerate();
    join_all(each.map(|(user, c)| traffic.send_new(user, c, &stop, 4))).await;
    let mut ledger = std::mem::take(&mut *traffic.ledger.lock().unwrap());
    let after = ledger.acks.len() - acked;
    let problems = std::mem::take(&mut ledger.problems);
    assert!(problems.is_empty(), "{problems:#?}");
    let refused_again: Vec<_> = (ledger.refused.keys())
        .filter(|id| !ledger.acks.contains_key(*id))
        .collect();
    assert!(
        refused_again.is_empty(),
        "not acked with room: {refused_again:?}"
    );
    ledger.refused.clear();
    let stored = traffic::verify(&clients, &ledger, Expect::Everything).await;
    println!(
        "disk full: {small} bytes of tmpfs; {sent} sent, {acked} acked, {refused} refused \
         ({filled_in:.1?}); grown again: {after} acked (the refused resent and 4 new a \
         user), {stored} stored; {:.1?}",
        started.elapsed()
    );
    drop(clients);
    drop(server);
}
