//! A user of the soak with an ordinary client: it sends at its rate, each
//! send awaiting its ack; reads every push; sends a heartbeat; and, when
//! asked, closes its connection, stays away a moment, connects again and
//! syncs what it missed.

use super::sync::{merge, sync, Held};
use super::{histogram, Soak, Tally};
use crate::bench::drive::now_micros;
use confab_client::{Pushed, WsClient};
use confab_wire::SendData;
use hdrhistogram::Histogram;
use rand::Rng;
use serde_json::json;
use std::future::pending;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::{Interval, MissedTickBehavior};

/// Sends of one user awaiting their ack at once.
const WINDOW: u32 = 8;
/// A send unanswered this long counts as an error.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// A client's heartbeat, well inside the server's default 60 s timeout.
const HEARTBEAT: Duration = Duration::from_secs(20);

pub(super) struct Target {
    /// A user, or a group when `group`.
    pub to: String,
    pub group: bool,
    /// Messages per second.
    pub rate: f64,
}

pub(super) struct Member {
    pub user: String,
    pub token: String,
    pub targets: Vec<Target>,
    /// Requests to reconnect and sync. None for the churners, whose group
    /// memberships change under them: they read their pushes, but their
    /// syncs would not be theirs to check.
    pub reconnects: Option<mpsc::Receiver<()>>,
}

/// The open connection and the task reading its pushes. The reader's end
/// is unexpected unless the user is closing the connection itself.
struct Live {
    client: Arc<WsClient>,
    reader: JoinHandle<Histogram<u64>>,
}

enum Next {
    Deadline,
    Send,
    Heartbeat,
    Reconnect,
    /// The reader ended while the connection was not being closed.
    Dropped(Histogram<u64>),
}

/// Runs `m` on `client` until the deadline; returns the latency of the
/// pushes it received.
pub(super) async fn run(soak: Arc<Soak>, mut m: Member, client: WsClient) -> Histogram<u64> {
    let held = Arc::new(Mutex::new(Held::new()));
    let mut hist = histogram();
    let mut live = Some(start(&soak, &m.user, client, &held));
    let total_rate: f64 = m.targets.iter().map(|t| t.rate).sum();
    let mut sends = (total_rate > 0.0).then(|| {
        // A random phase, so that users do not send in step.
        let period = Duration::from_secs_f64(1.0 / total_rate);
        let phase = period.mul_f64(rand::thread_rng().gen::<f64>());
        let mut ticks = tokio::time::interval_at((Instant::now() + phase).into(), period);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        ticks
    });
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.tick().await;
    let permits = Arc::new(Semaphore::new(WINDOW as usize));
    let mut n: u64 = 0;
    while let Some(current) = live.as_mut() {
        let next = tokio::select! {
            _ = tokio::time::sleep_until(soak.deadline.into()) => Next::Deadline,
            _ = tick(&mut sends) => Next::Send,
            _ = heartbeat.tick() => Next::Heartbeat,
            Some(()) = recv(&mut m.reconnects) => Next::Reconnect,
            ended = &mut current.reader => Next::Dropped(ended.unwrap_or_else(|_| histogram())),
        };
        match next {
            Next::Deadline => break,
            Next::Send => {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    break;
                };
                n += 1;
                let target = pick(&m.targets, total_rate);
                let data = message(&m.user, n, target, &soak.text);
                let (soak, client) = (soak.clone(), current.client.clone());
                tokio::spawn(async move {
                    send(&soak, &client, data).await;
                    drop(permit);
                });
            }
            Next::Heartbeat => {
                let client = current.client.clone();
                tokio::spawn(async move { client.ping().await });
            }
            Next::Reconnect => {
                settle(&permits).await;
                let Some(old) = live.take() else { break };
                old.client.close().await;
                if let Ok(h) = old.reader.await {
                    let _ = hist.add(&h);
                }
                tokio::time::sleep(soak.offline).await;
                live = resume(&soak, &m, &held, true).await;
            }
            Next::Dropped(h) => {
                let _ = hist.add(&h);
                let user = &m.user;
                let t = &soak.tally;
                t.error(&t.unexpected_closes, || {
                    format!("{user}: connection closed")
                });
                settle(&permits).await;
                live = resume(&soak, &m, &held, m.reconnects.is_some()).await;
            }
        }
    }
    settle(&permits).await;
    if let Some(last) = live {
        last.client.close().await;
        if let Ok(h) = last.reader.await {
            let _ = hist.add(&h);
        }
    }
    hist
}

async fn tick(ticks: &mut Option<Interval>) {
    match ticks {
        Some(t) => {
            t.tick().await;
        }
        None => pending().await,
    }
}

async fn recv(requests: &mut Option<mpsc::Receiver<()>>) -> Option<()> {
    match requests {
        Some(r) => r.recv().await,
        None => pending().await,
    }
}

/// Waits for every send in flight to be answered (or to time out).
async fn settle(permits: &Semaphore) {
    if let Ok(all) = permits.acquire_many(WINDOW).await {
        drop(all);
    }
}

/// Connects again and, if `check`, syncs past what the user held when the
/// old connection ended; None when the deadline passed meanwhile.
async fn resume(
    soak: &Arc<Soak>,
    m: &Member,
    held: &Arc<Mutex<Held>>,
    check: bool,
) -> Option<Live> {
    let client = soak.connect(&m.token).await?;
    if check {
        Tally::add(&soak.tally.reconnects);
    }
    // What the old connection received, before the new one's pushes.
    let before = lock(held).clone();
    let live = start(soak, &m.user, client, held);
    if check {
        let pulled = sync(soak, &live.client, &before).await;
        merge(&mut lock(held), pulled);
    }
    Some(live)
}

fn lock(held: &Mutex<Held>) -> std::sync::MutexGuard<'_, Held> {
    held.lock().unwrap_or_else(|e| e.into_inner())
}

fn start(soak: &Arc<Soak>, user: &str, client: WsClient, held: &Arc<Mutex<Held>>) -> Live {
    let client = Arc::new(client);
    let reader = tokio::spawn(read_pushes(
        soak.clone(),
        user.to_owned(),
        client.clone(),
        held.clone(),
    ));
    Live { client, reader }
}

/// Reads pushes until the connection ends: counts the bench messages from
/// others with their latency, and keeps the highest seq of each
/// conversation for the next sync.
async fn read_pushes(
    soak: Arc<Soak>,
    user: String,
    client: Arc<WsClient>,
    held: Arc<Mutex<Held>>,
) -> Histogram<u64> {
    let mut hist = histogram();
    loop {
        match client.next_push(Duration::from_secs(1)).await {
            Some(Pushed::Message(m)) => {
                if m.seq > 0 {
                    let mut held = lock(&held);
                    let seq = held.entry(m.conversation_id.clone()).or_insert(m.seq);
                    *seq = (*seq).max(m.seq);
                }
                if m.send_id == user {
                    continue;
                }
                if let Some(t) = sent_at(m.content.get()) {
                    Tally::add(&soak.tally.delivered);
                    let _ = hist.record(now_micros().saturating_sub(t).max(1));
                }
            }
            Some(Pushed::Closed(_)) => return hist,
            Some(_) | None => {}
        }
    }
}

fn sent_at(content: &str) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Stamp {
        t: u64,
    }
    serde_json::from_str::<Stamp>(content).ok().map(|s| s.t)
}

fn pick(targets: &[Target], total_rate: f64) -> &Target {
    let mut left = rand::thread_rng().gen::<f64>() * total_rate;
    for t in targets {
        if left < t.rate {
            return t;
        }
        left -= t.rate;
    }
    &targets[targets.len() - 1]
}

fn message(user: &str, n: u64, target: &Target, text: &str) -> SendData {
    let to = |is: bool| if is { target.to.clone() } else { String::new() };
    SendData {
        client_msg_id: format!("{user}-{n}"),
        recv_id: to(!target.group),
        group_id: to(target.group),
        session_type: if target.group { 2 } else { 1 },
        content_type: 101,
        content: json!({"text": text, "n": n, "t": now_micros()}),
        ..Default::default()
    }
}

/// Sends and checks the ack: it must name this message and give it a seq.
async fn send(soak: &Soak, client: &WsClient, data: SendData) {
    let t = &soak.tally;
    Tally::add(&t.sent);
    match tokio::time::timeout(SEND_TIMEOUT, client.send(&data)).await {
        Ok(Ok(ack)) if ack.client_msg_id == data.client_msg_id && ack.seq > 0 => {
            Tally::add(&t.acked)
        }
        Ok(Ok(ack)) => t.error(&t.send_refused, || {
            format!(
                "send {}: ack for {} seq {}",
                data.client_msg_id, ack.client_msg_id, ack.seq
            )
        }),
        Ok(Err(e)) => t.error(&t.send_refused, || {
            format!("send {}: {e}", data.client_msg_id)
        }),
        Err(_) => t.error(&t.send_unanswered, || {
            format!("send {}: no ack in {SEND_TIMEOUT:?}", data.client_msg_id)
        }),
    }
}
