//! The scenarios: set-up (users, connections), the run, the report.

use super::report::{rss_kib, IdleReport, Latency, Report};
use super::{BenchArgs, Scenario};
use confab_client::{OpenImClient, Pushed, WsClient, WsOptions};
use confab_wire::SendData;
use futures_util::{stream, StreamExt, TryStreamExt};
use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The platform the bench's users connect on.
const PLATFORM: i32 = 1;

#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    acked: AtomicU64,
    errors: AtomicU64,
    delivered: AtomicU64,
    out_of_order: AtomicU64,
}

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or_default()
}

fn spinner(message: &str) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.set_message(message.to_owned());
    pb.enable_steady_tick(Duration::from_millis(200));
    pb
}

fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Registers `count` users and returns their tokens.
async fn register(
    http: &OpenImClient,
    secret: &str,
    prefix: &str,
    count: usize,
    concurrency: usize,
) -> anyhow::Result<Vec<(String, String)>> {
    let pb = ProgressBar::new(count as u64);
    pb.set_style(
        ProgressStyle::with_template("registering users {bar:40} {pos}/{len} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    // A client of its own, whose pooled connections close when it is
    // dropped: idle connections cost file descriptors on both sides.
    let http = &OpenImClient::new(http.base_url());
    let users: Vec<(String, String)> = stream::iter(0..count)
        .map(|i| {
            let pb = pb.clone();
            async move {
                let id = format!("{prefix}-{i}");
                let token = http.register(secret, &id, &id).await?;
                pb.inc(1);
                Ok::<_, confab_client::ClientError>((id, token))
            }
        })
        .buffered(concurrency)
        .try_collect()
        .await?;
    pb.finish_and_clear();
    Ok(users)
}

/// Opens a WebSocket for each user.
async fn connect(
    server: &str,
    users: &[(String, String)],
    concurrency: usize,
) -> anyhow::Result<Vec<Arc<WsClient>>> {
    let pb = ProgressBar::new(users.len() as u64);
    pb.set_style(
        ProgressStyle::with_template("connecting {bar:40} {pos}/{len} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let options = WsOptions {
        read_buffer_bytes: 4096,
    };
    let clients: Vec<Arc<WsClient>> = stream::iter(users.iter())
        .map(|(_, token)| {
            let pb = pb.clone();
            let options = options.clone();
            async move {
                let c = WsClient::connect_with(server, token, PLATFORM, options).await?;
                pb.inc(1);
                Ok::<_, confab_client::ClientError>(Arc::new(c))
            }
        })
        .buffered(concurrency)
        .try_collect()
        .await?;
    pb.finish_and_clear();
    Ok(clients)
}

/// Receives pushes until `stop`, recording send-to-delivery latency.
async fn receive(
    client: Arc<WsClient>,
    counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
) -> Histogram<u64> {
    #[derive(serde::Deserialize)]
    struct Stamp {
        t: u64,
    }
    let mut hist = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)
        .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable!()));
    let mut last_seq: Option<(String, i64)> = None;
    loop {
        match client.next_push(Duration::from_millis(100)).await {
            Some(Pushed::Message(m)) => {
                let Ok(stamp) = serde_json::from_str::<Stamp>(m.content.get()) else {
                    continue;
                };
                let latency = now_micros().saturating_sub(stamp.t).max(1);
                let _ = hist.record(latency);
                counters.delivered.fetch_add(1, Ordering::Relaxed);
                if let Some((conv, seq)) = &last_seq {
                    if *conv == m.conversation_id && m.seq != seq + 1 {
                        counters.out_of_order.fetch_add(1, Ordering::Relaxed);
                    }
                }
                last_seq = Some((m.conversation_id.clone(), m.seq));
            }
            Some(Pushed::Closed(_)) => return hist,
            Some(_) => {}
            None => {
                if stop.load(Ordering::Relaxed) {
                    return hist;
                }
            }
        }
    }
}

/// Sends to `to` (a user, or a group when `group`) until `deadline`, at
/// `rate` messages per second, or as fast as acks come when None, with at
/// most `window` sends awaiting their ack.
async fn send_loop(sender: Sender, deadline: Instant, counters: Arc<Counters>) {
    let Sender {
        client,
        to,
        group,
        rate,
        window,
    } = sender;
    let mut ticker = rate.map(|r| {
        let mut t = tokio::time::interval(Duration::from_secs_f64(1.0 / r.max(0.001)));
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    });
    let window = window.max(1);
    let permits = Arc::new(tokio::sync::Semaphore::new(window));
    let mut n: u64 = 0;
    while Instant::now() < deadline {
        if let Some(t) = ticker.as_mut() {
            t.tick().await;
        }
        let Ok(permit) = permits.clone().acquire_owned().await else {
            break;
        };
        if Instant::now() >= deadline {
            break;
        }
        n += 1;
        let data = SendData {
            client_msg_id: format!("{}-{n}", now_micros()),
            recv_id: if group { String::new() } else { to.clone() },
            group_id: if group { to.clone() } else { String::new() },
            session_type: if group { 2 } else { 1 },
            content_type: 101,
            content: json!({"text": "benchmark message", "n": n, "t": now_micros()}),
            ..Default::default()
        };
        counters.sent.fetch_add(1, Ordering::Relaxed);
        let client = client.clone();
        let counters = counters.clone();
        tokio::spawn(async move {
            match client.send(&data).await {
                Ok(_) => counters.acked.fetch_add(1, Ordering::Relaxed),
                Err(_) => counters.errors.fetch_add(1, Ordering::Relaxed),
            };
            drop(permit);
        });
    }
    // Wait for the sends still awaiting their ack.
    let _ = permits
        .acquire_many(u32::try_from(window).unwrap_or(u32::MAX))
        .await;
}

struct Sender {
    client: Arc<WsClient>,
    to: String,
    group: bool,
    rate: Option<f64>,
    window: usize,
}

/// Runs senders and receivers, showing progress, then waits for the last
/// deliveries (`per_message` deliveries per acked message, 10 s at most).
async fn drive(
    duration: Duration,
    senders: Vec<Sender>,
    receivers: Vec<Arc<WsClient>>,
    per_message: u64,
    counters: Arc<Counters>,
) -> (f64, Histogram<u64>) {
    let stop = Arc::new(AtomicBool::new(false));
    let receiving: Vec<_> = receivers
        .into_iter()
        .map(|c| tokio::spawn(receive(c, counters.clone(), stop.clone())))
        .collect();
    let pb = ProgressBar::new(duration.as_secs());
    pb.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len}s {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let deadline = started + duration;
    let sending: Vec<_> = senders
        .into_iter()
        .map(|sender| tokio::spawn(send_loop(sender, deadline, counters.clone())))
        .collect();
    let show = |pb: &ProgressBar, counters: &Counters| {
        pb.set_message(format!(
            "sent {} acked {} delivered {} errors {}",
            counters.sent.load(Ordering::Relaxed),
            counters.acked.load(Ordering::Relaxed),
            counters.delivered.load(Ordering::Relaxed),
            counters.errors.load(Ordering::Relaxed)
        ));
    };
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
        pb.set_position(started.elapsed().as_secs().min(duration.as_secs()));
        show(&pb, &counters);
    }
    for s in sending {
        let _ = s.await;
    }
    let sending_secs = started.elapsed().as_secs_f64();
    let drain_until = Instant::now() + Duration::from_secs(10);
    while counters.delivered.load(Ordering::Relaxed)
        < counters.acked.load(Ordering::Relaxed) * per_message
        && Instant::now() < drain_until
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
        show(&pb, &counters);
    }
    show(&pb, &counters);
    pb.finish();
    stop.store(true, Ordering::Relaxed);
    let mut hist = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)
        .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable!()));
    for r in receiving {
        if let Ok(h) = r.await {
            let _ = hist.add(&h);
        }
    }
    (sending_secs, hist)
}

fn report(
    scenario: &str,
    parameters: serde_json::Value,
    secs: f64,
    counters: &Counters,
    hist: &Histogram<u64>,
) -> Report {
    let delivered = counters.delivered.load(Ordering::Relaxed);
    let acked = counters.acked.load(Ordering::Relaxed);
    Report {
        scenario: scenario.to_owned(),
        parameters,
        duration_secs: secs,
        sent: counters.sent.load(Ordering::Relaxed),
        acked,
        send_errors: counters.errors.load(Ordering::Relaxed),
        delivered,
        out_of_order: counters.out_of_order.load(Ordering::Relaxed),
        delivered_per_sec: delivered as f64 / secs,
        acked_per_sec: acked as f64 / secs,
        latency_ms: if hist.is_empty() {
            Latency::default()
        } else {
            Latency::from_micros(hist)
        },
        ..Default::default()
    }
}

pub async fn run(args: &BenchArgs, secret: &str) -> anyhow::Result<Report> {
    let http = OpenImClient::new(&args.server);
    let admin_token = http.user_token(secret, &args.admin_user, 8).await?;
    let admin = http.with_token(&admin_token);
    let run_id = format!("b{}", now_micros() % 100_000_000);
    let duration = Duration::from_secs(args.duration);
    let concurrency = args.setup_concurrency.max(1);
    let need_fds = |n: usize| -> anyhow::Result<()> {
        if let Some(limit) = open_files_limit() {
            if n as u64 + 64 > limit {
                anyhow::bail!("{n} connections need more open files than this process may have ({limit}); raise `ulimit -n` or use fewer");
            }
        }
        Ok(())
    };
    match &args.scenario {
        Scenario::OneToOne {
            pairs,
            rate,
            window,
        } => {
            need_fds(pairs * 2)?;
            let users = register(&http, secret, &run_id, pairs * 2, concurrency).await?;
            let clients = connect(&args.server, &users, concurrency).await?;
            let per_sender = rate.map(|r| r / *pairs as f64);
            let senders = (0..*pairs)
                .map(|i| Sender {
                    client: clients[2 * i].clone(),
                    to: users[2 * i + 1].0.clone(),
                    group: false,
                    rate: per_sender,
                    window: *window,
                })
                .collect();
            let receivers = (0..*pairs).map(|i| clients[2 * i + 1].clone()).collect();
            let counters = Arc::new(Counters::default());
            let (secs, hist) = drive(duration, senders, receivers, 1, counters.clone()).await;
            Ok(report(
                "one-to-one",
                json!({"pairs": pairs, "rate": rate, "window": window}),
                secs,
                &counters,
                &hist,
            ))
        }
        Scenario::Group { members, rate } => {
            anyhow::ensure!(*members >= 2, "a group needs at least 2 members");
            need_fds(*members)?;
            let users = register(&http, secret, &run_id, *members, concurrency).await?;
            let pb = spinner("creating the group");
            let owner = users[0].0.clone();
            let group = admin
                .ok(
                    "/group/create_group",
                    &json!({"ownerUserID": owner, "groupName": "bench", "memberList": []}),
                )
                .await?;
            let group_id = group["data"]["groupID"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            for chunk in users[1..].chunks(500) {
                let ids: Vec<&str> = chunk.iter().map(|(id, _)| id.as_str()).collect();
                admin
                    .ok(
                        "/group/invite_user_to_group",
                        &json!({"groupID": group_id, "invitedUserIDList": ids}),
                    )
                    .await?;
            }
            pb.finish_and_clear();
            let clients = connect(&args.server, &users, concurrency).await?;
            let senders = vec![Sender {
                client: clients[0].clone(),
                to: group_id.clone(),
                group: true,
                rate: Some(*rate),
                window: 64,
            }];
            let receivers = clients[1..].to_vec();
            let counters = Arc::new(Counters::default());
            let (secs, hist) = drive(
                duration,
                senders,
                receivers,
                (*members - 1) as u64,
                counters.clone(),
            )
            .await;
            Ok(report(
                "group",
                json!({"members": members, "rate": rate}),
                secs,
                &counters,
                &hist,
            ))
        }
        Scenario::Idle {
            connections,
            server_pid,
        } => {
            need_fds(*connections)?;
            let users = register(&http, secret, &run_id, *connections, concurrency).await?;
            tokio::time::sleep(Duration::from_secs(2)).await;
            let before = server_pid.and_then(rss_kib);
            let clients = connect(&args.server, &users, concurrency).await?;
            let pb = spinner(&format!("holding {} connections", clients.len()));
            tokio::time::sleep(duration.max(Duration::from_secs(3))).await;
            let after = server_pid.and_then(rss_kib);
            // Every connection is still alive: each answers a ping.
            let alive = stream::iter(clients.iter())
                .map(|c| async move { c.ping().await.is_ok() })
                .buffer_unordered(concurrency)
                .filter(|ok| futures_util::future::ready(*ok))
                .count()
                .await;
            pb.finish_and_clear();
            let per = match (before, after) {
                (Some(b), Some(a)) if alive > 0 => Some(a.saturating_sub(b) as f64 / alive as f64),
                _ => None,
            };
            Ok(Report {
                scenario: "idle".into(),
                parameters: json!({"connections": connections, "server_pid": server_pid}),
                duration_secs: args.duration as f64,
                idle: Some(IdleReport {
                    connections_held: alive,
                    server_rss_before_kib: before,
                    server_rss_after_kib: after,
                    rss_per_connection_kib: per,
                }),
                ..Default::default()
            })
        }
    }
}
