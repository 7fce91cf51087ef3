//! The session loop driven through channels instead of a socket.

use crate::{run_session, Gateway, GatewayConfig, Registry};
use axum::extract::ws::Message;
use confab_core::Platform;
use confab_service::{Caller, Service, ServiceConfig};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::time::Duration;

async fn gateway(config: GatewayConfig) -> (Arc<Gateway>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store = confab_store::open(&url, confab_store::Durability::Process)
        .await
        .unwrap();
    let bus = Arc::new(confab_bus::LocalBus::new());
    let registry = Arc::new(Registry::new());
    let service = Service::new(
        store,
        bus.clone(),
        registry.clone(),
        ServiceConfig {
            admin_user_ids: vec![],
            admin_secret: "s".into(),
            jwt_secret: b"k".to_vec(),
            token_ttl_secs: 60,
            revoke_window_secs: 60,
            max_content_bytes: 1024,
        },
    );
    let gateway = Arc::new(Gateway::new(Arc::new(service), registry, config));
    bus.subscribe(gateway.clone());
    (gateway, dir)
}

fn caller(user: &str) -> Caller {
    Caller {
        user_id: confab_core::UserId::parse("u", user).unwrap(),
        platform: Platform::Web,
        is_admin: false,
    }
}

fn text(m: Message) -> serde_json::Value {
    match m {
        Message::Text(t) => serde_json::from_str(&t).unwrap(),
        other => panic!("expected text, got {other:?}"),
    }
}

#[tokio::test]
async fn answers_frames_and_cleans_up() {
    let (gw, _dir) = gateway(GatewayConfig::default()).await;
    let (mut to_server, from_client) =
        futures_channel::mpsc::unbounded::<Result<Message, std::io::Error>>();
    let (to_client, mut from_server) = futures_channel::mpsc::unbounded::<Message>();
    let session = tokio::spawn(run_session(
        gw.clone(),
        caller("alice"),
        to_client,
        from_client,
    ));

    to_server
        .send(Ok(Message::Text(r#"{"type":"ping","reqID":"1"}"#.into())))
        .await
        .unwrap();
    let pong = text(from_server.next().await.unwrap());
    assert_eq!(
        (pong["type"].as_str(), pong["reqID"].as_str()),
        (Some("pong"), Some("1"))
    );

    to_server
        .send(Ok(Message::Text("not json".into())))
        .await
        .unwrap();
    let err = text(from_server.next().await.unwrap());
    assert_eq!(err["type"], "error");
    assert_eq!(err["errCode"], 803);

    to_server
        .send(Ok(Message::Text(
            r#"{"type":"pull","reqID":"2","data":{"conversationID":"x","begin":"a"}}"#.into(),
        )))
        .await
        .unwrap();
    let err = text(from_server.next().await.unwrap());
    assert!(
        err["errMsg"].as_str().unwrap().starts_with("data.begin"),
        "{err}"
    );

    assert_eq!(gw.registry().session_count(), 1);
    let user = confab_core::UserId::parse("u", "alice").unwrap();
    assert_eq!(
        gw.service().presence().platforms(&user),
        vec![Platform::Web]
    );
    drop(to_server);
    session.await.unwrap();
    assert_eq!(gw.registry().session_count(), 0);
    assert!(gw.service().presence().platforms(&user).is_empty());
}

#[tokio::test]
async fn silent_clients_are_closed() {
    let config = GatewayConfig {
        heartbeat_timeout: Duration::from_millis(200),
        ..GatewayConfig::default()
    };
    let (gw, _dir) = gateway(config).await;
    let (_to_server, from_client) =
        futures_channel::mpsc::unbounded::<Result<Message, std::io::Error>>();
    let (to_client, mut from_server) = futures_channel::mpsc::unbounded::<Message>();
    run_session(gw, caller("bob"), to_client, from_client).await;
    match from_server.next().await {
        Some(Message::Close(Some(frame))) => assert_eq!(frame.code, 1001),
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[tokio::test]
async fn a_client_that_stops_reading_is_cut_off_and_released() {
    let config = GatewayConfig {
        queue_capacity: 2,
        ..GatewayConfig::default()
    };
    let (gw, _dir) = gateway(config).await;
    let (_to_server, from_client) =
        futures_channel::mpsc::unbounded::<Result<Message, std::io::Error>>();
    // A sink with no room that nobody reads: the writer blocks on it.
    let (to_client, _from_server) = futures_channel::mpsc::channel::<Message>(0);
    let session = tokio::spawn(run_session(
        gw.clone(),
        caller("slow"),
        to_client,
        from_client,
    ));
    while gw.registry().session_count() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let user = confab_core::UserId::parse("u", "slow").unwrap();
    let frame: axum::extract::ws::Utf8Bytes = "{}".into();
    for _ in 0..10 {
        gw.registry()
            .push(std::slice::from_ref(&user), None, &frame);
    }
    tokio::time::timeout(Duration::from_secs(10), session)
        .await
        .expect("the session task ends although its writer is stuck")
        .unwrap();
    assert_eq!(gw.registry().session_count(), 0);
    assert!(gw.service().presence().platforms(&user).is_empty());
}

#[tokio::test]
async fn a_replaced_session_that_closes_leaves_its_user_online() {
    let (gw, _dir) = gateway(GatewayConfig::default()).await;
    let user = confab_core::UserId::parse("u", "carol").unwrap();
    let (old_in, old_from_client) =
        futures_channel::mpsc::unbounded::<Result<Message, std::io::Error>>();
    let (old_to_client, mut old_out) = futures_channel::mpsc::unbounded::<Message>();
    let old = tokio::spawn(run_session(
        gw.clone(),
        caller("carol"),
        old_to_client,
        old_from_client,
    ));
    while gw.registry().session_count() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (new_in, new_from_client) =
        futures_channel::mpsc::unbounded::<Result<Message, std::io::Error>>();
    let (new_to_client, _new_out) = futures_channel::mpsc::unbounded::<Message>();
    let new = tokio::spawn(run_session(
        gw.clone(),
        caller("carol"),
        new_to_client,
        new_from_client,
    ));

    let kick = text(old_out.next().await.unwrap());
    assert_eq!(kick["type"], "kick");
    match old_out.next().await {
        Some(Message::Close(Some(frame))) => assert_eq!(frame.code, 4001),
        other => panic!("expected a close frame, got {other:?}"),
    }
    tokio::time::timeout(Duration::from_secs(10), old)
        .await
        .expect("the kicked session ends")
        .unwrap();
    drop(old_in);
    assert_eq!(gw.service().presence().platforms(&user), [Platform::Web]);
    assert_eq!(gw.registry().session_count(), 1);

    drop(new_in);
    new.await.unwrap();
    assert!(!gw.service().presence().is_online(&user));
}
