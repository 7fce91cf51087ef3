//! `confab bench`: a load generator against a running server, over real
//! WebSockets. It registers its own users through the admin API (secret
//! from `CONFAB_ADMIN_SECRET`), connects them, runs a scenario for a while
//! and reports counts, throughput and send-to-delivery latency.
//!
//! Latency is measured on this machine's clock: each message carries its
//! send time in microseconds (`content.t`), and the receiving task subtracts
//! it from the time the push arrived.
//!
//! `--protocol` picks the wire: Confab's JSON frames at `/ws`, or OpenIM
//! v3's client gateway at `/` (`conn.rs` hides which from the scenarios).

mod conn;
mod drive;
mod relay;
mod report;

pub use report::Report;
mod scenarios;
mod soak;

pub use soak::{SoakArgs, SoakReport};

use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub scenario: Scenario,
    /// The server, e.g. http://127.0.0.1:10000
    #[arg(long, global = true, default_value = "http://127.0.0.1:10000")]
    pub server: String,
    /// How long to send, in seconds (idle: how long to hold the connections)
    #[arg(long, global = true, default_value_t = 10)]
    pub duration: u64,
    /// Write the results as JSON to this file
    #[arg(long, global = true)]
    pub json: Option<PathBuf>,
    /// An app administrator's user id (one of the server's admin_user_ids)
    #[arg(long, global = true, default_value = "openIM123456")]
    pub admin_user: String,
    /// Connections opened or users registered at once during set-up
    #[arg(long, global = true, default_value_t = 64)]
    pub setup_concurrency: usize,
    /// Also run the scenario against a bare relay started in this process
    /// (no auth, no storage), and report Confab's figure as a fraction of it
    #[arg(long, global = true)]
    pub baseline: bool,
    /// The WebSocket protocol the users connect and send with
    #[arg(long, global = true, value_enum, default_value_t = Protocol::Json)]
    pub protocol: Protocol,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// Confab's JSON frames at `/ws`
    #[default]
    Json,
    /// OpenIM v3's client gateway at `/`: binary JSON envelopes holding
    /// base64 protobuf, as OpenIM's JS SDK speaks it
    Openim,
}

#[derive(Subcommand, Debug, Clone)]
pub enum Scenario {
    /// N pairs of users; in each pair one sends to the other.
    OneToOne {
        #[arg(long, default_value_t = 100)]
        pairs: usize,
        /// Total messages per second over all pairs; as fast as acks allow when absent
        #[arg(long)]
        rate: Option<f64>,
        /// Sends each sender may have awaiting their ack at once
        #[arg(long, default_value_t = 1)]
        window: usize,
    },
    /// One group with M members, all online; one member sends to the group.
    Group {
        #[arg(long, default_value_t = 100)]
        members: usize,
        /// Messages per second sent to the group
        #[arg(long, default_value_t = 10.0)]
        rate: f64,
    },
    /// N connections that do nothing; reports the server's memory per connection.
    Idle {
        #[arg(long, default_value_t = 1000)]
        connections: usize,
        /// The server's process id, to read its memory from /proc
        #[arg(long)]
        server_pid: Option<u32>,
    },
    /// A mixed load held for `--duration`: one-to-one and group sends,
    /// group changes, reconnects with syncs, slow readers; reports
    /// throughput and the server's RSS over time.
    Soak(SoakArgs),
}

/// Runs the benchmark and prints (and writes) its report.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let secret = std::env::var("CONFAB_ADMIN_SECRET")
        .map_err(|_| anyhow::anyhow!("set CONFAB_ADMIN_SECRET to the server's admin secret"))?;
    let report = measure(&args, &secret).await?;
    let text = serde_json::to_string_pretty(&report)?;
    println!("{text}");
    if let Some(path) = &args.json {
        std::fs::write(path, format!("{text}\n"))?;
    }
    Ok(())
}

/// Runs the scenario against the server and, with `--baseline`, then
/// against a bare relay in this process.
pub async fn measure(args: &BenchArgs, secret: &str) -> anyhow::Result<Report> {
    if args.baseline && matches!(args.scenario, Scenario::Idle { .. } | Scenario::Soak(_)) {
        anyhow::bail!("--baseline measures the one-to-one and group scenarios");
    }
    let mut report = scenarios::run(args, secret).await?;
    if args.baseline {
        let relay = BenchArgs {
            server: relay::start().await?,
            ..args.clone()
        };
        let baseline = scenarios::run(&relay, secret).await?;
        if baseline.delivered_per_sec > 0.0 {
            report.fraction_of_baseline =
                Some(report.delivered_per_sec / baseline.delivered_per_sec);
        }
        report.baseline = Some(Box::new(baseline));
    }
    Ok(report)
}
