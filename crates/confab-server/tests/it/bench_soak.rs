//! `confab bench soak` for a few seconds against an in-process server:
//! every kind of load runs, no error, and the RSS of this process (the
//! server runs in it) sampled.

use crate::harness::*;
use confab_server::bench::{BenchArgs, Protocol, Scenario, SoakArgs};

fn soak_args(t: &TestServer, soak: SoakArgs, duration: u64) -> BenchArgs {
    BenchArgs {
        scenario: Scenario::Soak(soak),
        server: t.url(),
        duration,
        json: None,
        admin_user: ADMIN.into(),
        setup_concurrency: 8,
        baseline: false,
        protocol: Protocol::Json,
    }
}

/// Small and fast: the slow readers are in both groups, which get about
/// 150 messages of 4 KiB a second between them, and read at most 50
/// frames a second. They fall behind by 400 KiB a second: the server's
/// socket buffer for them (some 200 KiB) and then its queue (32 frames
/// here) fill within a second or two, and once cut off they read what
/// the socket still holds, up to the close frame, within as long again.
fn short_soak() -> SoakArgs {
    SoakArgs {
        users: 24,
        rate: 300.0,
        message_bytes: 4096,
        group_share: 0.6,
        groups: 2,
        group_size: 6,
        slow_readers: 2,
        slow_read_ms: 20,
        reconnects_per_sec: 4.0,
        offline_ms: 200,
        group_change_secs: 0.1,
        server_pid: Some(std::process::id()),
        sample_secs: 1,
    }
}

#[tokio::test]
async fn a_short_soak_runs_every_load_without_error() {
    let t = TestServer::start_with(Backend::Sqlite, |s| s.ws_queue_capacity = Some(32))
        .await
        .unwrap();
    let report = confab_server::bench::measure(&soak_args(&t, short_soak(), 6), SECRET)
        .await
        .unwrap();
    let soak = report.soak.as_ref().expect("the soak's figures");
    assert_eq!(report.scenario, "soak");
    assert_eq!(soak.errors, 0, "{:#?}", soak.first_errors);
    assert!(report.sent > 0, "{report:?}");
    assert_eq!(report.acked, report.sent, "every send acked: {report:?}");
    assert!(
        report.delivered > 0 && report.latency_ms.p50 > 0.0,
        "{report:?}"
    );
    assert!(
        soak.reconnects > 0 && soak.syncs >= soak.reconnects,
        "each reconnect syncs: {soak:?}"
    );
    assert!(
        soak.synced_messages > 0,
        "reconnects missed messages: {soak:?}"
    );
    assert!(
        soak.group_changes > 0 && soak.groups_created > 0,
        "{soak:?}"
    );
    assert!(soak.groups_dismissed > 0, "{soak:?}");
    assert!(soak.cutoffs > 0, "the slow readers were cut off: {soak:?}");
    assert!(soak.slow_reader_frames > 0, "{soak:?}");
    // Samples at 0 s, each second, and the end.
    assert!(soak.rss_series_kib.len() >= 5, "{:?}", soak.rss_series_kib);
    assert!(soak.rss_series_kib.iter().all(|&(_, kib)| kib > 0));
    let (warm_up, end) = (soak.rss_warm_up_kib.unwrap(), soak.rss_end_kib.unwrap());
    assert_eq!(soak.rss_growth_kib, Some(end as i64 - warm_up as i64));
    assert!(soak
        .throughput_series
        .iter()
        .any(|&(_, per_sec)| per_sec > 0.0));
    // The JSON other scenarios' readers know, with the soak's beside it.
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["soak"]["errors"], 0);
    assert!(json["soak"]["rss_series_kib"][0][1].as_u64().unwrap() > 0);
    assert!(json.get("idle").is_none());
    t.stop().await;
}

#[tokio::test]
async fn a_soak_without_a_pid_samples_throughput_only() {
    let t = TestServer::start(Backend::Sqlite).await.unwrap();
    // And the default text: "soak message" alone (an empty text is refused).
    let soak = SoakArgs {
        server_pid: None,
        slow_readers: 0,
        message_bytes: 12,
        ..short_soak()
    };
    let report = confab_server::bench::measure(&soak_args(&t, soak, 2), SECRET)
        .await
        .unwrap();
    let soak = report.soak.as_ref().expect("the soak's figures");
    assert_eq!(soak.errors, 0, "{:#?}", soak.first_errors);
    assert!(
        report.acked > 0 && report.acked == report.sent,
        "{report:?}"
    );
    assert!(soak.rss_series_kib.is_empty() && soak.rss_end_kib.is_none());
    assert!(soak
        .throughput_series
        .iter()
        .any(|&(_, per_sec)| per_sec > 0.0));
    t.stop().await;
}

#[tokio::test]
async fn a_soak_refuses_what_it_cannot_run() {
    let t = TestServer::start(Backend::Sqlite).await.unwrap();
    let mut args = soak_args(&t, short_soak(), 1);
    args.protocol = Protocol::Openim;
    let e = confab_server::bench::measure(&args, SECRET)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("--protocol json"), "{e}");
    let too_few = SoakArgs {
        users: 5,
        ..short_soak()
    };
    let e = confab_server::bench::measure(&soak_args(&t, too_few, 1), SECRET)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("fewer than 2 to send"), "{e}");
    let mut baseline = soak_args(&t, short_soak(), 1);
    baseline.baseline = true;
    assert!(confab_server::bench::measure(&baseline, SECRET)
        .await
        .is_err());
    t.stop().await;
}
