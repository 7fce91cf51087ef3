//! `confab bench soak`: a mixed load held for a long while, to see that the
//! server neither fails nor grows. At once, for `--duration` seconds:
//! one-to-one and group sends at a total rate, each awaiting its ack
//! (`member.rs`); members joining and leaving groups, and groups created
//! and dismissed, through the admin API (`churn.rs`); users closing their
//! connection, connecting again and syncing what they missed, with the
//! pulled seqs checked for gaps (`member.rs`, `sync.rs`); slow readers
//! whose server-side queue fills until the server cuts them off
//! (`slow.rs`); and the server's RSS sampled from /proc.
//!
//! The soak speaks Confab's `/ws` only: its reconnects sync with
//! `get_max_seqs` and `pull`, which the bench's OpenIM v3 client does not
//! speak.

mod churn;
mod figures;
mod member;
mod slow;
mod sync;

use super::drive::now_micros;
use super::report::Report;
use super::{BenchArgs, Protocol};
use clap::Args;
use confab_client::{OpenImClient, WsClient, WsOptions};
use futures_util::{stream, StreamExt, TryStreamExt};
use hdrhistogram::Histogram;
use rand::Rng;
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

pub use figures::SoakReport;

/// The platform every soak connection logs in on (iOS, as the other
/// `/ws` scenarios).
const PLATFORM: i32 = 1;
/// Read buffer per connection, small as in the other scenarios.
const READ_BUFFER: usize = 4096;
/// Share of the run after which the server counts as warmed up: RSS
/// growth is measured from there to the end.
const WARM_UP_SHARE: f64 = 0.2;
/// Error messages kept for the report, the first ones.
const KEPT_ERRORS: usize = 20;

#[derive(Args, Debug, Clone)]
pub struct SoakArgs {
    /// Users in all: slow readers, group churners (a tenth), the rest
    /// send one-to-one and in groups, and reconnect
    #[arg(long, default_value_t = 200)]
    pub users: usize,
    /// Messages per second over all senders, one-to-one and group
    #[arg(long, default_value_t = 500.0)]
    pub rate: f64,
    /// Bytes of text in each message, beside its stamp: "soak message",
    /// then filler up to this length
    #[arg(long, default_value_t = 12)]
    pub message_bytes: usize,
    /// Share of the rate sent to groups (each fans out to its members)
    #[arg(long, default_value_t = 0.3)]
    pub group_share: f64,
    /// Groups that live for the whole run
    #[arg(long, default_value_t = 4)]
    pub groups: usize,
    /// Sending members of each group (the slow readers join every group too)
    #[arg(long, default_value_t = 20)]
    pub group_size: usize,
    /// Connections that read one frame, then sleep `--slow-read-ms`
    #[arg(long, default_value_t = 4)]
    pub slow_readers: usize,
    #[arg(long, default_value_t = 20)]
    pub slow_read_ms: u64,
    /// Users told to close, reconnect and sync, per second
    #[arg(long, default_value_t = 2.0)]
    pub reconnects_per_sec: f64,
    /// How long a reconnecting user stays away before connecting again
    #[arg(long, default_value_t = 500)]
    pub offline_ms: u64,
    /// Seconds between group changes (an invite or a kick; every tenth
    /// creates a group and dismisses the one created before)
    #[arg(long, default_value_t = 1.0)]
    pub group_change_secs: f64,
    /// The server's process id, to sample its RSS from /proc
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Seconds between RSS (and throughput) samples
    #[arg(long, default_value_t = 10)]
    pub sample_secs: u64,
}

/// What the soak counts; every task of the run adds to it.
#[derive(Default)]
struct Tally {
    sent: AtomicU64,
    acked: AtomicU64,
    delivered: AtomicU64,
    send_refused: AtomicU64,
    send_unanswered: AtomicU64,
    sync_gaps: AtomicU64,
    sync_failures: AtomicU64,
    unexpected_closes: AtomicU64,
    connect_failures: AtomicU64,
    group_change_failures: AtomicU64,
    reconnects: AtomicU64,
    syncs: AtomicU64,
    synced_messages: AtomicU64,
    group_changes: AtomicU64,
    groups_created: AtomicU64,
    groups_dismissed: AtomicU64,
    cutoffs: AtomicU64,
    slow_reader_frames: AtomicU64,
    first_errors: Mutex<Vec<String>>,
}

impl Tally {
    fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an error under `counter` and keeps its text if among the first.
    fn error(&self, counter: &AtomicU64, what: impl FnOnce() -> String) {
        counter.fetch_add(1, Ordering::Relaxed);
        let mut kept = self.first_errors.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() < KEPT_ERRORS {
            kept.push(what());
        }
    }

    fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// What every task of one run shares.
struct Soak {
    server: String,
    deadline: Instant,
    offline: Duration,
    /// The text of every message.
    text: String,
    tally: Tally,
}

impl Soak {
    /// A `/ws` connection of the owner of `token`; a failure is counted
    /// and retried each second until the deadline (then None).
    async fn connect(&self, token: &str) -> Option<WsClient> {
        let options = WsOptions {
            read_buffer_bytes: READ_BUFFER,
        };
        while Instant::now() < self.deadline {
            match WsClient::connect_with(&self.server, token, PLATFORM, options.clone()).await {
                Ok(client) => return Some(client),
                Err(e) => {
                    let counter = &self.tally.connect_failures;
                    self.tally.error(counter, || format!("connect: {e}"));
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
        None
    }
}

/// Who does what: indices into the registered users.
struct Roles {
    slow: Vec<usize>,
    churners: Vec<usize>,
    /// Senders and receivers, one-to-one and in groups; they reconnect.
    regular: Vec<usize>,
    /// The regular members of each lasting group (the slow readers are
    /// members too).
    groups: Vec<Vec<usize>>,
}

fn roles(o: &SoakArgs) -> anyhow::Result<Roles> {
    let churner_count = (o.users / 10).max(2);
    anyhow::ensure!(
        o.users >= o.slow_readers + churner_count + 2,
        "{} users leave fewer than 2 to send once {} slow readers and {churner_count} churners are counted",
        o.users,
        o.slow_readers
    );
    anyhow::ensure!(
        o.rate >= 0.0 && o.rate.is_finite(),
        "--rate must be 0 or more"
    );
    anyhow::ensure!(
        (0.0..=1.0).contains(&o.group_share),
        "--group-share is between 0 and 1"
    );
    anyhow::ensure!(
        o.group_change_secs > 0.0 && o.sample_secs > 0,
        "--group-change-secs and --sample-secs must be positive"
    );
    let slow: Vec<usize> = (0..o.slow_readers).collect();
    let churners: Vec<usize> = (o.slow_readers..o.slow_readers + churner_count).collect();
    let regular: Vec<usize> = (o.slow_readers + churner_count..o.users).collect();
    let size = o.group_size.clamp(2, regular.len());
    let groups = (0..o.groups)
        .map(|g| {
            (0..size)
                .map(|k| regular[(g * size + k) % regular.len()])
                .collect()
        })
        .collect();
    Ok(Roles {
        slow,
        churners,
        regular,
        groups,
    })
}

/// The one-to-one partner of the `i`th regular user: pairs (0, 1), (2, 3)
/// and so on; with an odd count the last sends to the first.
fn partner(i: usize, count: usize) -> usize {
    match i % 2 {
        0 if i + 1 < count => i + 1,
        0 => 0,
        _ => i - 1,
    }
}

/// "soak message", then filler up to `bytes`: never empty, which the
/// server refuses.
fn message_text(bytes: usize) -> String {
    const TEXT: &str = "soak message";
    format!("{TEXT}{}", "x".repeat(bytes.saturating_sub(TEXT.len())))
}

fn histogram() -> Histogram<u64> {
    Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)
        .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable!()))
}

pub(super) async fn run(args: &BenchArgs, o: &SoakArgs, secret: &str) -> anyhow::Result<Report> {
    anyhow::ensure!(
        args.protocol == Protocol::Json,
        "soak syncs over /ws (get_max_seqs, pull): run it with --protocol json"
    );
    let roles = roles(o)?;
    let http = OpenImClient::new(&args.server);
    let admin = http.with_token(&http.user_token(secret, &args.admin_user, 8).await?);
    let run_id = format!("s{}", now_micros() % 100_000_000);
    let concurrency = args.setup_concurrency.max(1);
    let users =
        super::scenarios::register(&http, secret, &run_id, o.users, concurrency, PLATFORM).await?;
    let id = |i: usize| users[i].0.clone();
    let mut group_ids = Vec::new();
    for (g, members) in roles.groups.iter().enumerate() {
        let group_id = format!("{run_id}-g{g}");
        let others: Vec<String> = members[1..]
            .iter()
            .chain(&roles.slow)
            .map(|&i| id(i))
            .collect();
        admin
            .ok(
                "/group/create_group",
                &json!({"ownerUserID": id(members[0]), "memberUserIDs": others,
                        "groupInfo": {"groupID": group_id, "groupName": "soak"}}),
            )
            .await?;
        group_ids.push(group_id);
    }

    // Each regular user's sends: its partner, and each group it is in.
    let memberships: usize = roles.groups.iter().map(Vec::len).sum();
    let per_user = o.rate * (1.0 - o.group_share) / roles.regular.len() as f64;
    let per_membership = match memberships {
        0 => 0.0,
        n => o.rate * o.group_share / n as f64,
    };
    let mut members = Vec::new();
    let mut reconnect_requests = Vec::new();
    for (k, &i) in roles.regular.iter().enumerate() {
        let mut targets = vec![member::Target {
            to: id(roles.regular[partner(k, roles.regular.len())]),
            group: false,
            rate: per_user,
        }];
        for (g, group) in roles.groups.iter().enumerate() {
            if group.contains(&i) {
                targets.push(member::Target {
                    to: group_ids[g].clone(),
                    group: true,
                    rate: per_membership,
                });
            }
        }
        let (tx, rx) = mpsc::channel(1);
        reconnect_requests.push(tx);
        members.push(member::Member {
            user: id(i),
            token: users[i].1.clone(),
            targets,
            reconnects: Some(rx),
        });
    }
    for &i in &roles.churners {
        members.push(member::Member {
            user: id(i),
            token: users[i].1.clone(),
            targets: Vec::new(),
            reconnects: None,
        });
    }
    let clients: Vec<WsClient> = stream::iter(&members)
        .map(|m| async move {
            let options = WsOptions {
                read_buffer_bytes: READ_BUFFER,
            };
            WsClient::connect_with(&args.server, &m.token, PLATFORM, options).await
        })
        .buffered(concurrency)
        .try_collect()
        .await?;

    let duration = Duration::from_secs(args.duration);
    let started = Instant::now();
    let soak = Arc::new(Soak {
        server: args.server.clone(),
        deadline: started + duration,
        offline: Duration::from_millis(o.offline_ms),
        text: message_text(o.message_bytes),
        tally: Tally::default(),
    });
    let member_tasks: Vec<_> = members
        .into_iter()
        .zip(clients)
        .map(|(m, c)| tokio::spawn(member::run(soak.clone(), m, c)))
        .collect();
    let slow_tasks: Vec<_> = roles
        .slow
        .iter()
        .map(|&i| {
            let pause = Duration::from_millis(o.slow_read_ms);
            tokio::spawn(slow::run(soak.clone(), users[i].1.clone(), pause))
        })
        .collect();
    let churn = churn::Churn {
        admin,
        groups: group_ids,
        churners: roles.churners.iter().map(|&i| id(i)).collect(),
        every: Duration::from_secs_f64(o.group_change_secs),
        run_id,
    };
    let churn_task = tokio::spawn(churn.run(soak.clone()));
    let scheduler = tokio::spawn(request_reconnects(
        soak.clone(),
        reconnect_requests,
        o.reconnects_per_sec,
    ));
    let samples = figures::sample(&soak, started, o, duration).await;

    let mut hist = histogram();
    for task in member_tasks {
        if let Ok(h) = task.await {
            let _ = hist.add(&h);
        }
    }
    for task in slow_tasks.into_iter().chain([churn_task, scheduler]) {
        let _ = task.await;
    }
    Ok(figures::report(args, o, &soak.tally, &hist, samples))
}

/// Asks random regular users to reconnect, `per_sec` a second in all; a
/// user still busy with the previous request is skipped.
async fn request_reconnects(soak: Arc<Soak>, users: Vec<mpsc::Sender<()>>, per_sec: f64) {
    if per_sec <= 0.0 || users.is_empty() {
        return;
    }
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / per_sec));
    ticks.tick().await;
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = tokio::time::sleep_until(soak.deadline.into()) => return,
        }
        let pick = rand::thread_rng().gen_range(0..users.len());
        let _ = users[pick].try_send(());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_never_empty_and_grows_to_its_size() {
        assert_eq!(message_text(0), "soak message");
        assert_eq!(message_text(14), "soak messagexx");
    }

    #[test]
    fn partners_pair_up_and_an_odd_last_sends_to_the_first() {
        let pairs: Vec<usize> = (0..5).map(|i| partner(i, 5)).collect();
        assert_eq!(pairs, [1, 0, 3, 2, 0]);
    }
}
