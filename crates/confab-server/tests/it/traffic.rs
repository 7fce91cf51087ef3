//! What the tests that run the real `confab` binary share: the server as a
//! child process, and WebSocket traffic with a ledger of every send and
//! ack, checked against what the server stores (`verify`).
//!
//! `USERS` users each pipeline one-to-one and group messages (`PIPELINE`
//! in flight per socket), with client msg ids, so a resend is recognised.

use crate::harness::{ADMIN, JWT_KEY, SECRET};
use confab_client::{ClientError, OpenImClient, WsClient};
use confab_wire::{AckData, SendData};
use futures_util::stream::{self, FuturesUnordered, StreamExt};
use serde_json::json;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const USERS: usize = 50;
/// Sends in flight per socket.
pub const PIPELINE: usize = 4;
/// A send unanswered this long counts as lost.
const SEND_TIMEOUT: Duration = Duration::from_secs(20);

pub fn user_id(n: usize) -> String {
    format!("sender{n:02}")
}

/// A `confab` child process; killed with SIGKILL and reaped when dropped.
pub struct ServerProcess {
    child: Child,
    pub url: String,
}

impl ServerProcess {
    /// Starts the binary on `data_dir` and waits for its `listen=` line.
    pub fn start(data_dir: &Path, env: &[(&str, String)]) -> ServerProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_confab"))
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env_remove("CONFAB_DATABASE_URL")
            .env_remove("CONFAB_DURABILITY")
            .envs([
                ("CONFAB_ADMIN_SECRET", SECRET),
                ("CONFAB_ADMIN_USER_IDS", ADMIN),
            ])
            .envs([
                ("CONFAB_JWT_SECRET", JWT_KEY),
                ("CONFAB_LOG", "info"),
                ("NO_COLOR", "1"),
            ])
            .envs(env.iter().cloned())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                match line.split("listen=").nth(1) {
                    Some(rest) => drop(tx.send(rest.split(' ').next().unwrap_or("").to_owned())),
                    None if !line.contains(" INFO ") => eprintln!("confab: {line}"),
                    None => {}
                }
            }
        });
        let addr = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
        let url = format!("http://{addr}");
        let server = ServerProcess { child, url };
        assert!(!addr.is_empty(), "confab printed no listen= address");
        server
    }
}

impl ServerProcess {
    /// Sends SIGTERM (a graceful stop).
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -TERM failed: {status}");
    }

    /// Waits for the process to exit by itself, at most `limit`; None if it
    /// is still running then.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
pub struct Planned {
    sender: usize,
    data: SendData,
}

/// Every message put on the wire and every ack, across restarts.
#[derive(Default)]
pub struct Ledger {
    pub sent: BTreeMap<String, Planned>,
    pub acks: HashMap<String, AckData>,
    /// The client msg id acked at each (conversation, seq).
    by_seq: HashMap<(String, i64), String>,
    next_per_user: HashMap<usize, usize>,
    /// Sends answered with an error frame: (code, message) by client msg id.
    pub refused: BTreeMap<String, (i64, String)>,
    /// Sends that got no answer: the connection ended first, or it timed out.
    pub unanswered: Vec<String>,
    /// Contradictions seen on the way (a resend's different ack).
    pub problems: Vec<String>,
}

impl Ledger {
    /// The next new message of `user`: to its group, its neighbour or the
    /// user half the ring away (who also writes into that conversation).
    fn plan(&mut self, user: usize, groups: &[String]) -> SendData {
        let next = self.next_per_user.entry(user).or_default();
        let k = std::mem::replace(next, *next + 1);
        let id = format!("m-{user:02}-{k:05}");
        let text = format!("from {user} #{k} {}", "x".repeat(k % 40));
        let mut data = SendData::default();
        (data.client_msg_id, data.content_type) = (id.clone(), 101);
        data.content = json!({ "text": text });
        match k % 4 {
            0 | 1 => (data.session_type, data.group_id) = (2, groups[user / (USERS / 2)].clone()),
            2 => (data.session_type, data.recv_id) = (1, user_id((user + 1) % USERS)),
            _ => (data.session_type, data.recv_id) = (1, user_id((user + USERS / 2) % USERS)),
        }
        self.sent.insert(
            id,
            Planned {
                sender: user,
                data: data.clone(),
            },
        );
        data
    }

    fn record(&mut self, id: &str, ack: AckData) {
        if ack.client_msg_id != id || ack.seq < 1 || ack.server_msg_id.is_empty() {
            self.problems.push(format!("{id}: malformed ack {ack:?}"));
        }
        if let Some(first) = self.acks.get(id) {
            if *first != ack {
                let msg = format!("{id}: resend got {ack:?}, first ack was {first:?}");
                self.problems.push(msg);
            }
            return;
        }
        let slot = (ack.conversation_id.clone(), ack.seq);
        if let Some(other) = self.by_seq.insert(slot, id.to_owned()) {
            let msg = format!("{id} and {other} both acked at {ack:?}");
            self.problems.push(msg);
        }
        self.acks.insert(id.to_owned(), ack);
    }
}

/// The ledger and what every sender of one run shares.
pub struct Traffic {
    pub ledger: Mutex<Ledger>,
    pub groups: Vec<String>,
}

impl Traffic {
    /// Sends one message and records its ack, its refusal or that nothing
    /// came; true for an ack.
    pub async fn send(&self, client: &WsClient, data: SendData) -> bool {
        let id = data.client_msg_id.clone();
        let reply = tokio::time::timeout(SEND_TIMEOUT, client.send(&data)).await;
        let mut ledger = self.ledger.lock().unwrap();
        match reply {
            Ok(Ok(ack)) => ledger.record(&id, ack),
            Ok(Err(ClientError::Api { code, message })) => {
                ledger.refused.insert(id, (code, message));
                return false;
            }
            Ok(Err(_)) | Err(_) => {
                ledger.unanswered.push(id);
                return false;
            }
        }
        true
    }

    /// Sends new messages of `user`, `PIPELINE` at a time, until its
    /// connection fails, `stop` is set or `limit` messages went out.
    pub async fn send_new(&self, user: usize, client: &WsClient, stop: &AtomicBool, limit: usize) {
        let mut in_flight = FuturesUnordered::new();
        let (mut made, mut alive) = (0, true);
        loop {
            while alive
                && in_flight.len() < PIPELINE
                && made < limit
                && !stop.load(Ordering::Relaxed)
            {
                let data = self.ledger.lock().unwrap().plan(user, &self.groups);
                made += 1;
                in_flight.push(self.send(client, data));
            }
            match in_flight.next().await {
                Some(acked) => alive &= acked,
                None => return,
            }
        }
    }

    /// Resends `user`'s unacked messages and every 10th acked one (another
    /// tenth each cycle), as a client does after reconnecting. Returns how
    /// many acked ones were resent and how many unacked ones had been stored
    /// before the kill (their ack was lost: acked now with an older time).
    pub async fn resend(
        &self,
        user: usize,
        client: &WsClient,
        cycle: usize,
        restart_ms: i64,
    ) -> [usize; 2] {
        let (unacked, sample): (Vec<SendData>, Vec<SendData>) = {
            let ledger = self.ledger.lock().unwrap();
            let mine = ledger.sent.values().filter(|p| p.sender == user);
            let (acked, unacked): (Vec<_>, Vec<_>) =
                mine.partition(|p| ledger.acks.contains_key(&p.data.client_msg_id));
            let data = |p: &&Planned| p.data.clone();
            let sample = acked.iter().skip(cycle).step_by(10).map(data);
            (unacked.iter().map(data).collect(), sample.collect())
        };
        let unacked_ids: Vec<String> = unacked.iter().map(|d| d.client_msg_id.clone()).collect();
        let resent_acked = sample.len();
        let results: Vec<(String, bool)> = stream::iter(unacked.into_iter().chain(sample))
            .map(|data| async move { (data.client_msg_id.clone(), self.send(client, data).await) })
            .buffer_unordered(PIPELINE)
            .collect()
            .await;
        let mut ledger = self.ledger.lock().unwrap();
        let unanswered = results.into_iter().filter(|(_, acked)| !acked);
        let unanswered =
            unanswered.map(|(id, _)| format!("{id}: no ack to a resend after a restart"));
        ledger.problems.extend(unanswered);
        let acks = &ledger.acks;
        let older = |id: &&String| acks.get(*id).is_some_and(|a| a.send_time < restart_ms);
        [resent_acked, unacked_ids.iter().filter(older).count()]
    }

    pub fn acks(&self) -> usize {
        self.ledger.lock().unwrap().acks.len()
    }

    /// Waits for `n` more acks.
    pub async fn more_acks(&self, n: usize) {
        let (target, deadline) = (self.acks() + n, Instant::now() + Duration::from_secs(60));
        while self.acks() < target {
            assert!(Instant::now() < deadline, "{n} acks never came");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

/// Registers the `USERS` users (their tokens, in order) and two groups of
/// half of them each.
pub async fn populate(url: &str) -> (Vec<String>, Vec<String>) {
    let anon = OpenImClient::new(url);
    let admin = anon.with_token(&anon.user_token(SECRET, ADMIN, 8).await.unwrap());
    let mut tokens = Vec::new();
    for n in 0..USERS {
        tokens.push(anon.register(SECRET, &user_id(n), "sender").await.unwrap());
    }
    let mut groups = Vec::new();
    for owner in [0, USERS / 2] {
        let members: Vec<_> = (owner + 1..owner + USERS / 2)
            .map(|m| json!({"userID": user_id(m)}))
            .collect();
        let body = json!({"ownerUserID": user_id(owner), "groupName": "load", "memberList": members,
            "operationID": confab_client::openim::op_id()});
        let created = admin.ok("/group/create_group", &body).await.unwrap();
        groups.push(created["data"]["groupID"].as_str().unwrap().to_owned());
    }
    (tokens, groups)
}

/// Connects every user's WebSocket.
pub async fn connect_all(url: &str, tokens: &[String]) -> Vec<WsClient> {
    let connects = tokens.iter().map(|t| WsClient::connect(url, t, 1));
    futures_util::future::try_join_all(connects).await.unwrap()
}

/// What `verify` expects to be stored.
pub enum Expect<'a> {
    /// Every message sent was acked and is stored once (after resends).
    Everything,
    /// Those of these ids are stored once (acked before a backup began);
    /// any other stored message was sent and, if acked, is where its ack
    /// said.
    AtLeast(&'a HashSet<String>),
}

/// Pulls every conversation of every user and checks it against the
/// ledger: seqs gap-free from 1, each stored message sent by its sender
/// with its content, at the seq its ack gave, and `expect`.
/// Returns how many messages are stored.
pub async fn verify(clients: &[WsClient], ledger: &Ledger, expect: Expect<'_>) -> usize {
    let mut problems = ledger.problems.clone();
    let mut copies: HashMap<String, usize> = HashMap::new();
    let mut pulled = HashSet::new();
    for client in clients {
        for conv in client.max_seqs().await.unwrap() {
            let cid = conv.conversation_id.clone();
            if !pulled.insert(cid.clone()) {
                continue;
            }
            let messages = client.pull_all(&cid, 1).await.unwrap();
            let seqs: Vec<i64> = messages.iter().map(|m| m.seq).collect();
            if seqs != (1..=conv.max_seq).collect::<Vec<_>>() {
                problems.push(format!("{cid}: seqs {seqs:?}, max {}", conv.max_seq));
            }
            for m in messages.iter().filter(|m| m.content_type < 1000) {
                let id = &m.client_msg_id;
                *copies.entry(id.clone()).or_default() += 1;
                let Some(planned) = ledger.sent.get(id) else {
                    problems.push(format!("{cid}: stored but never sent: {m:?}"));
                    continue;
                };
                let Some(ack) = ledger.acks.get(id) else {
                    // A send answered after the snapshot (a backup) began
                    // may be in it unacked; otherwise it had to be acked.
                    if matches!(expect, Expect::Everything) {
                        problems.push(format!("{cid}: stored but never acked: {m:?}"));
                    }
                    continue;
                };
                let at_its_seq = (m.conversation_id == ack.conversation_id && m.seq == ack.seq)
                    && m.server_msg_id == ack.server_msg_id;
                let as_sent = m.content_value() == planned.data.content
                    && m.send_id == user_id(planned.sender);
                if !at_its_seq || !as_sent {
                    let msg = format!("{id}: stored {m:?}, acked {ack:?}, sent {planned:?}");
                    problems.push(msg);
                }
            }
        }
    }
    for id in ledger.sent.keys() {
        let must = match expect {
            Expect::Everything => true,
            Expect::AtLeast(ids) => ids.contains(id),
        };
        if must && !ledger.acks.contains_key(id) {
            problems.push(format!("{id}: never acked"));
        }
        match copies.get(id).copied().unwrap_or(0) {
            1 => {}
            0 if !must => {}
            n => problems.push(format!("{id}: sent, stored {n} times")),
        }
    }
    let stored: usize = copies.values().sum();
    let (sent, acked, n) = (ledger.sent.len(), ledger.acks.len(), problems.len());
    let first = &problems[..n.min(30)];
    assert!(
        n == 0,
        "{n} problems ({sent} sent, {acked} acked, {stored} stored): {first:#?}"
    );
    stored
}
