//! `confab bench --baseline`: the same scenario against the server and
//! against the bench's bare relay, in one run.

use crate::harness::*;
use confab_server::bench::{BenchArgs, Scenario};

fn args(t: &TestServer, scenario: Scenario) -> BenchArgs {
    BenchArgs {
        scenario,
        server: t.url(),
        duration: 1,
        json: None,
        admin_user: ADMIN.into(),
        setup_concurrency: 8,
        baseline: true,
    }
}

#[tokio::test]
async fn one_to_one_against_the_relay_too() {
    let t = TestServer::start(Backend::Sqlite).await.unwrap();
    let scenario = Scenario::OneToOne {
        pairs: 3,
        rate: None,
        window: 2,
    };
    let report = confab_server::bench::measure(&args(&t, scenario), SECRET)
        .await
        .unwrap();
    let baseline = report.baseline.as_ref().expect("a baseline");
    for r in [&report, &**baseline] {
        assert!(r.acked > 0, "{r:?}");
        assert_eq!(r.delivered, r.acked, "every message delivered once: {r:?}");
        assert_eq!((r.send_errors, r.out_of_order), (0, 0), "{r:?}");
    }
    let fraction = report.fraction_of_baseline.expect("a fraction");
    let expected = report.delivered_per_sec / baseline.delivered_per_sec;
    assert!((fraction - expected).abs() < 1e-9 && fraction > 0.0);
    t.stop().await;
}

#[tokio::test]
async fn a_group_against_the_relay_too() {
    let t = TestServer::start(Backend::Sqlite).await.unwrap();
    let scenario = Scenario::Group {
        members: 4,
        rate: 20.0,
    };
    let report = confab_server::bench::measure(&args(&t, scenario), SECRET)
        .await
        .unwrap();
    let baseline = report.baseline.as_ref().expect("a baseline");
    for r in [&report, &**baseline] {
        assert!(r.acked > 0, "{r:?}");
        assert_eq!(r.delivered, r.acked * 3, "each to the 3 others: {r:?}");
        assert_eq!(r.out_of_order, 0, "{r:?}");
    }
    t.stop().await;
}
