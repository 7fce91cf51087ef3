//! `confab bench --baseline`: the same scenario against the server and
//! against the bench's bare relay, in one run, over Confab's `/ws` and over
//! OpenIM v3's gateway (`--protocol openim`).

use crate::harness::*;
use confab_server::bench::{BenchArgs, Protocol, Scenario};

fn args(t: &TestServer, scenario: Scenario) -> BenchArgs {
    args_over(t, scenario, Protocol::Json)
}

fn args_over(t: &TestServer, scenario: Scenario, protocol: Protocol) -> BenchArgs {
    BenchArgs {
        scenario,
        server: t.url(),
        duration: 1,
        json: None,
        admin_user: ADMIN.into(),
        setup_concurrency: 8,
        baseline: true,
        protocol,
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

#[tokio::test]
async fn one_to_one_over_openim_v3_against_the_relay_too() {
    let t = TestServer::start(Backend::Sqlite).await.unwrap();
    let scenario = Scenario::OneToOne {
        pairs: 3,
        rate: None,
        window: 4,
    };
    let report = confab_server::bench::measure(&args_over(&t, scenario, Protocol::Openim), SECRET)
        .await
        .unwrap();
    assert_eq!(report.parameters["protocol"], "openim");
    let baseline = report.baseline.as_ref().expect("a baseline");
    for r in [&report, &**baseline] {
        assert!(r.acked > 0 && r.delivered > 0, "{r:?}");
        // The senders' echoes of their own messages are not deliveries.
        assert_eq!(r.delivered, r.acked, "every message delivered once: {r:?}");
        assert_eq!((r.send_errors, r.out_of_order), (0, 0), "{r:?}");
        assert!(
            r.latency_ms.p50 > 0.0,
            "latency read from the pushed content: {r:?}"
        );
    }
    assert!(report.fraction_of_baseline.expect("a fraction") > 0.0);
    t.stop().await;
}

#[tokio::test]
async fn a_group_over_openim_v3_against_the_relay_too() {
    let t = TestServer::start(Backend::Sqlite).await.unwrap();
    let scenario = Scenario::Group {
        members: 4,
        rate: 20.0,
    };
    let report = confab_server::bench::measure(&args_over(&t, scenario, Protocol::Openim), SECRET)
        .await
        .unwrap();
    let baseline = report.baseline.as_ref().expect("a baseline");
    for r in [&report, &**baseline] {
        assert!(r.acked > 0, "{r:?}");
        assert_eq!(r.delivered, r.acked * 3, "each to the 3 others: {r:?}");
        assert_eq!((r.send_errors, r.out_of_order), (0, 0), "{r:?}");
    }
    t.stop().await;
}

#[tokio::test]
async fn idle_connections_over_openim_v3_answer_pings() {
    let t = TestServer::start(Backend::Sqlite).await.unwrap();
    let scenario = Scenario::Idle {
        connections: 5,
        server_pid: None,
    };
    let mut args = args_over(&t, scenario, Protocol::Openim);
    args.baseline = false;
    let report = confab_server::bench::measure(&args, SECRET).await.unwrap();
    assert_eq!(report.idle.expect("idle figures").connections_held, 5);
    t.stop().await;
}

/// The bench's v3 client: sends in flight at once each get their own
/// answer (by msgIncr), the recipient's push carries the content, and a
/// refused token fails the connect.
#[tokio::test]
async fn the_v3_client_pipelines_sends_and_reports_a_refused_token() {
    use confab_client::{OpenImWsClient, OpenImWsOptions};
    use confab_openim_pb::openim::sdkws::MsgData;
    let t = TestServer::start(Backend::Sqlite).await.unwrap();
    let url = t.url();
    let mut clients = Vec::new();
    for user in ["bv3a", "bv3b"] {
        t.user(user).await;
        let token = t.anon.user_token(SECRET, user, 5).await.unwrap();
        let c = OpenImWsClient::connect(&url, user, &token, OpenImWsOptions::default());
        clients.push(c.await.unwrap());
    }
    let sends = (0..8).map(|i| {
        let msg = MsgData {
            send_id: "bv3a".into(),
            recv_id: "bv3b".into(),
            client_msg_id: format!("pipelined-{i}"),
            session_type: 1,
            msg_from: 100,
            content_type: 101,
            content: format!(r#"{{"content":"hi {i}"}}"#).into_bytes(),
            ..Default::default()
        };
        let client = &clients[0];
        async move { client.send(&msg).await }
    });
    let answers = futures_util::future::join_all(sends).await;
    for (i, answer) in answers.into_iter().enumerate() {
        assert_eq!(answer.unwrap().client_msg_id, format!("pipelined-{i}"));
    }
    let mut seqs = Vec::new();
    while seqs.len() < 8 {
        let m = clients[1]
            .next_message(std::time::Duration::from_secs(5))
            .await
            .expect("a push");
        assert_eq!(
            (m.conversation_id.as_str(), m.msg.send_id.as_str()),
            ("si_bv3a_bv3b", "bv3a")
        );
        let content: serde_json::Value = serde_json::from_slice(&m.msg.content).unwrap();
        assert!(
            content["content"].as_str().unwrap().starts_with("hi "),
            "{content}"
        );
        seqs.push(m.msg.seq);
    }
    assert_eq!(seqs, (1..=8).collect::<Vec<_>>());
    // The sender hears its own messages back (the echo) and answers pings.
    let echo = clients[0]
        .next_message(std::time::Duration::from_secs(5))
        .await;
    assert_eq!(echo.expect("an echo").msg.send_id, "bv3a");
    clients[0].ping().await.unwrap();

    let refused = OpenImWsClient::connect(&url, "bv3a", "not-a-token", OpenImWsOptions::default());
    match refused.await {
        Err(confab_client::ClientError::Api { code, .. }) => assert_ne!(code, 0),
        Err(e) => panic!("expected the greeting's errCode, got {e}"),
        Ok(_) => panic!("a refused token connected"),
    }
    t.stop().await;
}
