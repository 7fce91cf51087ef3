//! What a benchmark reports.

use hdrhistogram::Histogram;
use serde::Serialize;

#[derive(Debug, Serialize, Default)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Latency {
    /// From a histogram of microseconds, in milliseconds.
    pub fn from_micros(h: &Histogram<u64>) -> Latency {
        let ms = |v: u64| v as f64 / 1000.0;
        Latency {
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p99: ms(h.value_at_quantile(0.99)),
            max: ms(h.max()),
        }
    }
}

#[derive(Debug, Serialize, Default)]
pub struct Report {
    pub scenario: String,
    pub parameters: serde_json::Value,
    pub duration_secs: f64,
    pub sent: u64,
    pub acked: u64,
    pub send_errors: u64,
    pub delivered: u64,
    /// Deliveries whose seq was not the one after the previous delivery.
    pub out_of_order: u64,
    pub delivered_per_sec: f64,
    pub acked_per_sec: f64,
    pub latency_ms: Latency,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle: Option<IdleReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub soak: Option<super::SoakReport>,
    /// The same scenario against the bare relay (`--baseline`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Box<Report>>,
    /// `delivered_per_sec` over the relay's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fraction_of_baseline: Option<f64>,
}

#[derive(Debug, Serialize, Default)]
pub struct IdleReport {
    pub connections_held: usize,
    pub server_rss_before_kib: Option<u64>,
    pub server_rss_after_kib: Option<u64>,
    pub rss_per_connection_kib: Option<f64>,
}

/// The resident set size of a process, in KiB, from /proc.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
