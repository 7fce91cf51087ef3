//! The scenarios: set-up (users, connections), the run (`drive.rs`), the
//! report. The same for both protocols: `conn.rs` speaks them.

use super::conn::Conn;
use super::drive::{drive, now_micros, report, Counters, Sender};
use super::report::{rss_kib, IdleReport, Report};
use super::{BenchArgs, Protocol, Scenario};
use confab_client::OpenImClient;
use futures_util::{stream, StreamExt, TryStreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

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
pub(super) async fn register(
    http: &OpenImClient,
    secret: &str,
    prefix: &str,
    count: usize,
    concurrency: usize,
    platform: i32,
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
                let token = http.register_on(secret, &id, &id, platform).await?;
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
    protocol: Protocol,
    server: &str,
    users: &[(String, String)],
    concurrency: usize,
) -> anyhow::Result<Vec<Arc<Conn>>> {
    let pb = ProgressBar::new(users.len() as u64);
    pb.set_style(
        ProgressStyle::with_template("connecting {bar:40} {pos}/{len} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let clients: Vec<Arc<Conn>> = stream::iter(users.iter())
        .map(|(user, token)| {
            let pb = pb.clone();
            async move {
                let c = Conn::connect(protocol, server, user, token).await?;
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

/// Closes every connection, so that none outlives its run (with
/// `--baseline`, the relay's run comes next).
async fn close_all(clients: &[Arc<Conn>], concurrency: usize) {
    stream::iter(clients)
        .for_each_concurrent(concurrency, |c| c.close())
        .await;
}

pub async fn run(args: &BenchArgs, secret: &str) -> anyhow::Result<Report> {
    let http = OpenImClient::new(&args.server);
    let admin_token = http.user_token(secret, &args.admin_user, 8).await?;
    let admin = http.with_token(&admin_token);
    let run_id = format!("b{}", now_micros() % 100_000_000);
    let duration = Duration::from_secs(args.duration);
    let concurrency = args.setup_concurrency.max(1);
    let (protocol, platform) = (args.protocol, args.protocol.platform());
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
            let users = register(&http, secret, &run_id, pairs * 2, concurrency, platform).await?;
            let clients = connect(protocol, &args.server, &users, concurrency).await?;
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
            close_all(&clients, concurrency).await;
            Ok(report(
                "one-to-one",
                json!({"pairs": pairs, "rate": rate, "window": window, "protocol": protocol}),
                secs,
                &counters,
                &hist,
            ))
        }
        Scenario::Group { members, rate } => {
            anyhow::ensure!(*members >= 2, "a group needs at least 2 members");
            need_fds(*members)?;
            let users = register(&http, secret, &run_id, *members, concurrency, platform).await?;
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
            let clients = connect(protocol, &args.server, &users, concurrency).await?;
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
            close_all(&clients, concurrency).await;
            Ok(report(
                "group",
                json!({"members": members, "rate": rate, "protocol": protocol}),
                secs,
                &counters,
                &hist,
            ))
        }
        Scenario::Soak(soak) => super::soak::run(args, soak, secret).await,
        Scenario::Idle {
            connections,
            server_pid,
        } => {
            need_fds(*connections)?;
            let users =
                register(&http, secret, &run_id, *connections, concurrency, platform).await?;
            tokio::time::sleep(Duration::from_secs(2)).await;
            let before = server_pid.and_then(rss_kib);
            let clients = connect(protocol, &args.server, &users, concurrency).await?;
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
            close_all(&clients, concurrency).await;
            let per = match (before, after) {
                (Some(b), Some(a)) if alive > 0 => Some(a.saturating_sub(b) as f64 / alive as f64),
                _ => None,
            };
            Ok(Report {
                scenario: "idle".into(),
                parameters: json!({"connections": connections, "server_pid": server_pid, "protocol": protocol}),
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
