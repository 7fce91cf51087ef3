//! What the soak measures over time (RSS and throughput samples) and what
//! it reports at the end.

use super::{BenchArgs, Soak, SoakArgs, Tally, WARM_UP_SHARE};
use crate::bench::report::{rss_kib, Latency, Report};
use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use serde_json::json;
use std::time::{Duration, Instant};

/// The soak's own figures, beside the counts every scenario reports.
#[derive(Debug, Serialize, Default)]
pub struct SoakReport {
    /// Every error below, summed: each is a failure of the server.
    pub errors: u64,
    /// A send answered with an error, or an ack for another message.
    pub send_refused: u64,
    /// A send with no answer within 10 s.
    pub send_unanswered: u64,
    /// A pulled range missing a seq, or ending short of the max seq.
    pub sync_gaps: u64,
    /// A `get_max_seqs` or `pull` that failed.
    pub sync_failures: u64,
    /// A connection the server closed that the bench did not close (slow
    /// readers' cut-offs are counted apart).
    pub unexpected_closes: u64,
    pub connect_failures: u64,
    pub group_change_failures: u64,
    /// The first errors' text.
    pub first_errors: Vec<String>,
    /// Connects again followed by a sync: planned, or after an
    /// unexpected close (counted among the errors too).
    pub reconnects: u64,
    /// Syncs (after each reconnect and each cut-off) and what they pulled.
    pub syncs: u64,
    pub synced_messages: u64,
    /// Invites and kicks, groups created and dismissed.
    pub group_changes: u64,
    pub groups_created: u64,
    pub groups_dismissed: u64,
    /// Slow readers closed by the server with 1008 (expected: the point).
    pub cutoffs: u64,
    /// Frames the slow readers read.
    pub slow_reader_frames: u64,
    /// (seconds into the run, acks per second since the previous sample).
    pub throughput_series: Vec<(f64, f64)>,
    /// (seconds into the run, the server's VmRSS in KiB).
    pub rss_series_kib: Vec<(f64, u64)>,
    pub warm_up_secs: f64,
    /// The first sample at or after the warm-up, and the last.
    pub rss_warm_up_kib: Option<u64>,
    pub rss_end_kib: Option<u64>,
    pub rss_growth_kib: Option<i64>,
    pub rss_growth_percent: Option<f64>,
}

/// Samples RSS and throughput every `sample_secs` until the deadline,
/// showing progress meanwhile.
pub(super) async fn sample(
    soak: &Soak,
    started: Instant,
    o: &SoakArgs,
    duration: Duration,
) -> Samples {
    let pb = ProgressBar::new(duration.as_secs());
    pb.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len}s {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let t = &soak.tally;
    let every = Duration::from_secs(o.sample_secs);
    let mut samples = Samples::default();
    let mut next_sample = started;
    let (mut last_acked, mut last_at) = (0, started);
    loop {
        let now = Instant::now();
        if now >= next_sample || now >= soak.deadline {
            let secs = now.duration_since(started).as_secs_f64();
            if let Some(kib) = o.server_pid.and_then(rss_kib) {
                samples.rss.push((secs, kib));
            }
            let acked = Tally::get(&t.acked);
            let span = now.duration_since(last_at).as_secs_f64();
            if span > 0.0 {
                let per_sec = (acked - last_acked) as f64 / span;
                samples.throughput.push((secs, per_sec));
            }
            (last_acked, last_at) = (acked, now);
            next_sample += every;
        }
        if now >= soak.deadline {
            break;
        }
        pb.set_position(started.elapsed().as_secs());
        pb.set_message(format!(
            "acked {} delivered {} reconnects {} cut-offs {} group changes {} errors {}",
            Tally::get(&t.acked),
            Tally::get(&t.delivered),
            Tally::get(&t.reconnects),
            Tally::get(&t.cutoffs),
            Tally::get(&t.group_changes),
            errors(t),
        ));
        let wake = next_sample
            .min(soak.deadline)
            .min(now + Duration::from_millis(500));
        tokio::time::sleep_until(wake.into()).await;
    }
    pb.finish_and_clear();
    samples
}

#[derive(Default)]
pub(super) struct Samples {
    rss: Vec<(f64, u64)>,
    throughput: Vec<(f64, f64)>,
}

pub(super) fn errors(t: &Tally) -> u64 {
    [
        &t.send_refused,
        &t.send_unanswered,
        &t.sync_gaps,
        &t.sync_failures,
        &t.unexpected_closes,
        &t.connect_failures,
        &t.group_change_failures,
    ]
    .into_iter()
    .map(Tally::get)
    .sum()
}

pub(super) fn report(
    args: &BenchArgs,
    o: &SoakArgs,
    t: &Tally,
    hist: &Histogram<u64>,
    samples: Samples,
) -> Report {
    let secs = args.duration as f64;
    let warm_up_secs = secs * WARM_UP_SHARE;
    let rss_warm_up = samples
        .rss
        .iter()
        .find(|(at, _)| *at >= warm_up_secs)
        .map(|&(_, kib)| kib);
    let rss_end = samples.rss.last().map(|&(_, kib)| kib);
    let growth = rss_warm_up.zip(rss_end).map(|(w, e)| e as i64 - w as i64);
    let get = Tally::get;
    let (acked, delivered) = (get(&t.acked), get(&t.delivered));
    let soak = SoakReport {
        errors: errors(t),
        send_refused: get(&t.send_refused),
        send_unanswered: get(&t.send_unanswered),
        sync_gaps: get(&t.sync_gaps),
        sync_failures: get(&t.sync_failures),
        unexpected_closes: get(&t.unexpected_closes),
        connect_failures: get(&t.connect_failures),
        group_change_failures: get(&t.group_change_failures),
        first_errors: t
            .first_errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone(),
        reconnects: get(&t.reconnects),
        syncs: get(&t.syncs),
        synced_messages: get(&t.synced_messages),
        group_changes: get(&t.group_changes),
        groups_created: get(&t.groups_created),
        groups_dismissed: get(&t.groups_dismissed),
        cutoffs: get(&t.cutoffs),
        slow_reader_frames: get(&t.slow_reader_frames),
        throughput_series: samples.throughput,
        rss_series_kib: samples.rss,
        warm_up_secs,
        rss_warm_up_kib: rss_warm_up,
        rss_end_kib: rss_end,
        rss_growth_kib: growth,
        rss_growth_percent: rss_warm_up
            .zip(growth)
            .filter(|(w, _)| *w > 0)
            .map(|(w, g)| g as f64 * 100.0 / w as f64),
    };
    Report {
        scenario: "soak".into(),
        parameters: json!({
            "users": o.users, "rate": o.rate, "message_bytes": o.message_bytes,
            "group_share": o.group_share,
            "groups": o.groups, "group_size": o.group_size,
            "slow_readers": o.slow_readers, "slow_read_ms": o.slow_read_ms,
            "reconnects_per_sec": o.reconnects_per_sec, "offline_ms": o.offline_ms,
            "group_change_secs": o.group_change_secs, "server_pid": o.server_pid,
            "sample_secs": o.sample_secs, "protocol": args.protocol,
        }),
        duration_secs: secs,
        sent: get(&t.sent),
        acked,
        send_errors: soak.send_refused + soak.send_unanswered,
        delivered,
        delivered_per_sec: delivered as f64 / secs.max(1.0),
        acked_per_sec: acked as f64 / secs.max(1.0),
        latency_ms: if hist.is_empty() {
            Latency::default()
        } else {
            Latency::from_micros(hist)
        },
        soak: Some(soak),
        ..Default::default()
    }
}
