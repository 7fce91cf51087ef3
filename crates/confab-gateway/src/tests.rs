//! The session loop driven through channels instead of a socket.

use crate::{run_session, Gateway, GatewayConfig, Registry};
use axum::extract::ws::Message;
use confab_core::Platform;
use confab_service::{Caller, Service, ServiceConfig};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::time::Duration;

async fn service(
    bus: Arc<confab_bus::LocalBus>,
    registry: Arc<Registry>,
) -> (Arc<Service>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store = confab_store::open(&url, confab_store::Durability::Process)
        .await
        .unwrap();
    let service = Service::new(
        store,
        bus,
        registry,
        ServiceConfig {
            admin_user_ids: vec![],
            admin_secret: "s".into(),
            jwt_secret: b"k".to_vec(),
            token_ttl_secs: 60,
            revoke_window_secs: 60,
            max_content_bytes: 1024,
            system_user_id: confab_core::UserId::parse("system", "admin").unwrap(),
            app_token_ttl_secs: 3600,
            app_client_id: "id".into(),
            app_client_secret: "secret".into(),
            signed_api: Default::default(),
            sms: Default::default(),
        },
    );
    (Arc::new(service), dir)
}

async fn gateway(config: GatewayConfig) -> (Arc<Gateway>, tempfile::TempDir) {
    let bus = Arc::new(confab_bus::LocalBus::new());
    let registry = Arc::new(Registry::new());
    let (service, dir) = service(bus.clone(), registry.clone()).await;
    let gateway = Arc::new(Gateway::new(service, registry, bus.clone(), config));
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
        gw.service().presence().platforms(&user).await.unwrap(),
        vec![Platform::Web]
    );
    drop(to_server);
    session.await.unwrap();
    assert_eq!(gw.registry().session_count(), 0);
    assert!(gw
        .service()
        .presence()
        .platforms(&user)
        .await
        .unwrap()
        .is_empty());
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
    let frame = confab_core::bus::Payload::Read {
        reader: user.clone(),
        conversation_id: "x".into(),
        seq: 1,
    };
    for _ in 0..10 {
        gw.registry()
            .push(std::slice::from_ref(&user), None, None, &frame);
    }
    tokio::time::timeout(Duration::from_secs(10), session)
        .await
        .expect("the session task ends although its writer is stuck")
        .unwrap();
    assert_eq!(gw.registry().session_count(), 0);
    assert!(gw
        .service()
        .presence()
        .platforms(&user)
        .await
        .unwrap()
        .is_empty());
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
    assert_eq!(
        gw.service().presence().platforms(&user).await.unwrap(),
        [Platform::Web]
    );
    assert_eq!(gw.registry().session_count(), 1);

    drop(new_in);
    new.await.unwrap();
    assert!(gw
        .service()
        .presence()
        .platforms(&user)
        .await
        .unwrap()
        .is_empty());
}

/// A binary protocol, to show the seam fits one: a request is its name,
/// answers and events are binary frames.
struct Binary;

impl crate::EventEncoder for Binary {
    fn protocol(&self) -> crate::Protocol {
        crate::Protocol("test-binary")
    }

    fn event(&self, payload: &confab_core::bus::Payload) -> Option<crate::Frame> {
        match payload {
            confab_core::bus::Payload::Read { seq, .. } => Some(crate::Frame::Binary(
                format!("read {seq}").into_bytes().into(),
            )),
            _ => None,
        }
    }

    fn kick(&self, reason: &str) -> crate::Frame {
        crate::Frame::Binary(format!("kick {reason}").into_bytes().into())
    }
}

impl crate::Codec for Binary {
    type Tag = ();

    fn decode(
        &self,
        _: &Caller,
        frame: crate::Frame,
    ) -> Result<((), crate::Request), ((), confab_core::Error)> {
        match frame {
            crate::Frame::Binary(b) if &b[..] == b"ping" => Ok(((), crate::Request::Ping)),
            _ => Err(((), confab_core::Error::invalid("unknown request"))),
        }
    }

    fn reply(&self, _: &(), reply: crate::Reply) -> Option<crate::Frame> {
        let name = match reply {
            crate::Reply::Pong => "pong",
            _ => "other",
        };
        Some(crate::Frame::Binary(name.as_bytes().to_vec().into()))
    }

    fn error(&self, _: &(), e: &confab_core::Error) -> crate::Frame {
        crate::Frame::Binary(format!("error {}", e.client_message()).into_bytes().into())
    }
}

fn binary(m: Option<Message>) -> String {
    match m {
        Some(Message::Binary(b)) => String::from_utf8(b.to_vec()).unwrap(),
        other => panic!("expected binary, got {other:?}"),
    }
}

#[tokio::test]
async fn sessions_of_two_protocols_get_events_in_their_own() {
    use confab_core::bus::{Deliver, Event, Payload};
    let (gw, _dir) = gateway(GatewayConfig::default()).await;
    let user = confab_core::UserId::parse("u", "dora").unwrap();
    let (mut binary_in, binary_from_client) =
        futures_channel::mpsc::unbounded::<Result<Message, std::io::Error>>();
    let (binary_to_client, mut binary_out) = futures_channel::mpsc::unbounded::<Message>();
    let binary_session = tokio::spawn(crate::run_session_with(
        gw.clone(),
        Arc::new(Binary),
        caller("dora"),
        Default::default(),
        binary_to_client,
        binary_from_client,
    ));
    let (_json_in, json_from_client) =
        futures_channel::mpsc::unbounded::<Result<Message, std::io::Error>>();
    let (json_to_client, mut json_out) = futures_channel::mpsc::unbounded::<Message>();
    let json_caller = Caller {
        platform: Platform::Ios,
        ..caller("dora")
    };
    let json_session = tokio::spawn(run_session(
        gw.clone(),
        json_caller,
        json_to_client,
        json_from_client,
    ));

    binary_in
        .send(Ok(Message::Binary(b"ping".to_vec().into())))
        .await
        .unwrap();
    assert_eq!(binary(binary_out.next().await), "pong");
    binary_in
        .send(Ok(Message::Binary(b"what".to_vec().into())))
        .await
        .unwrap();
    assert_eq!(binary(binary_out.next().await), "error unknown request");
    while gw.registry().session_count() < 2 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    gw.deliver(&Event {
        recipients: vec![user.clone()],
        origin: None,
        payload: Payload::Read {
            reader: user.clone(),
            conversation_id: "si_dora_eve".into(),
            seq: 4,
        },
        filter: None,
    });
    assert_eq!(binary(binary_out.next().await), "read 4");
    let read = text(json_out.next().await.unwrap());
    assert_eq!(
        (read["type"].as_str(), read["data"]["seq"].as_i64()),
        (Some("read"), Some(4))
    );

    gw.deliver(&Event {
        recipients: vec![user.clone()],
        origin: None,
        payload: Payload::Kick {
            platform: None,
            reason: "logged out".into(),
            except_session: None,
        },
        filter: None,
    });
    assert_eq!(binary(binary_out.next().await), "kick logged out");
    assert_eq!(
        text(json_out.next().await.unwrap())["data"]["reason"],
        "logged out"
    );
    binary_session.await.unwrap();
    json_session.await.unwrap();
    assert!(gw
        .service()
        .presence()
        .platforms(&user)
        .await
        .unwrap()
        .is_empty());
}

/// Channels standing in for one client's socket.
struct Client {
    to_server: futures_channel::mpsc::UnboundedSender<Result<Message, std::io::Error>>,
    from_server: futures_channel::mpsc::UnboundedReceiver<Message>,
    session: tokio::task::JoinHandle<()>,
}

fn connect(gateway: &Arc<Gateway>, caller: Caller) -> Client {
    let (to_server, from_client) =
        futures_channel::mpsc::unbounded::<Result<Message, std::io::Error>>();
    let (to_client, from_server) = futures_channel::mpsc::unbounded::<Message>();
    let session = tokio::spawn(run_session(gateway.clone(), caller, to_client, from_client));
    Client {
        to_server,
        from_server,
        session,
    }
}

async fn wait_for_sessions(gateway: &Gateway, count: usize) {
    while gateway.registry().session_count() != count {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_login_on_one_node_ends_the_session_on_another_but_not_itself() {
    use confab_core::bus::Deliver;
    let bus = Arc::new(confab_bus::LocalBus::new());
    let (registry_a, registry_b) = (Arc::new(Registry::new()), Arc::new(Registry::new()));
    let (service, _dir) = service(bus.clone(), registry_a.clone()).await;
    let node = |id: &str, registry: &Arc<Registry>| {
        let config = GatewayConfig {
            node_id: id.into(),
            ..GatewayConfig::default()
        };
        let gateway = Arc::new(Gateway::new(
            service.clone(),
            registry.clone(),
            bus.clone(),
            config,
        ));
        bus.subscribe(gateway.clone());
        gateway
    };
    let (a, b) = (node("a", &registry_a), node("b", &registry_b));
    let user = confab_core::UserId::parse("u", "erin").unwrap();

    let mut old = connect(&a, caller("erin"));
    wait_for_sessions(&a, 1).await;
    let new = connect(&b, caller("erin"));
    let kick = text(old.from_server.next().await.unwrap());
    assert_eq!(kick["type"], "kick");
    assert_eq!(
        kick["data"]["reason"],
        "logged in again on the same platform"
    );
    tokio::time::timeout(Duration::from_secs(10), old.session)
        .await
        .expect("the older session ends")
        .unwrap();
    assert!(registry_a.local_platforms(&user).is_empty());
    wait_for_sessions(&b, 1).await;
    assert_eq!(registry_b.local_platforms(&user), [Platform::Web]);

    // A node's own re-login kick, coming back late over the bus, must not
    // end a newer session of the same platform.
    let newer = connect(&b, caller("erin"));
    let mut new = new;
    assert_eq!(text(new.from_server.next().await.unwrap())["type"], "kick");
    new.session.await.unwrap();
    wait_for_sessions(&b, 1).await;
    b.deliver(&confab_core::bus::Event {
        recipients: vec![user.clone()],
        origin: None,
        payload: confab_core::bus::Payload::Kick {
            platform: Some(Platform::Web),
            reason: "logged in again on the same platform".into(),
            except_session: Some("b-1".into()),
        },
        filter: None,
    });
    assert_eq!(registry_b.local_platforms(&user), [Platform::Web]);
    drop(newer.to_server);
    newer.session.await.unwrap();
    drop(old.to_server);
}

/// Every idle connection holds its session's future, and its queue holds
/// items of the size of `Outbound`: both stay small (BENCHMARKS.md, idle
/// connections). Rarely taken paths are boxed out of the future.
#[tokio::test]
async fn an_idle_session_holds_little() {
    let (gw, _dir) = gateway(GatewayConfig::default()).await;
    let (_to_server, from_client) =
        futures_channel::mpsc::unbounded::<Result<Message, std::io::Error>>();
    let (to_client, _from_server) = futures_channel::mpsc::unbounded::<Message>();
    let session = run_session(gw.clone(), caller("bob"), to_client, from_client);
    let size = std::mem::size_of_val(&session);
    assert!(size <= 1536, "the session future takes {size} bytes");
    let item = std::mem::size_of::<crate::handle::Outbound>();
    assert!(item <= 48, "a queued item takes {item} bytes");
}

/// A draining session refuses the sends it reads with an error frame,
/// keeps answering other requests, and closes with 1001 once quiet; the
/// server's wait for its sessions then ends. (That sends read before the
/// drain are answered is the binary's test, `tests/it/shutdown.rs`.)
#[tokio::test]
async fn a_draining_session_answers_every_send_then_closes() {
    let (gw, _dir) = gateway(GatewayConfig::default()).await;
    let users: Vec<_> = ["dora", "dan"]
        .iter()
        .map(|id| confab_service::NewUser {
            user_id: confab_core::UserId::parse("u", id).unwrap(),
            profile: Default::default(),
            password: None,
        })
        .collect();
    gw.service().register_users("s", &users).await.unwrap();
    let mut client = connect(&gw, caller("dora"));
    let send = |req: &str| {
        let frame = serde_json::json!({"type": "send", "reqID": req, "data": {
            "recvID": "dan", "sessionType": 1, "contentType": 101,
            "clientMsgID": format!("c{req}"), "content": {"text": req}}});
        Ok(Message::Text(frame.to_string().into()))
    };
    let ping = |req: &str| {
        let frame = serde_json::json!({"type": "ping", "reqID": req});
        Ok(Message::Text(frame.to_string().into()))
    };
    let mut answers = Vec::new();
    let mut answer = async || loop {
        let frame = text(client.from_server.next().await.unwrap());
        if frame["reqID"].as_str().is_some_and(|r| !r.is_empty()) {
            return frame;
        }
    };
    // The pong comes after the acks: every send before it was read.
    for frame in [send("1"), send("2"), ping("3")] {
        client.to_server.send(frame).await.unwrap();
    }
    for _ in 0..3 {
        answers.push(answer().await);
    }
    gw.begin_drain();
    for frame in [send("4"), ping("5")] {
        client.to_server.send(frame).await.unwrap();
    }
    for _ in 0..2 {
        answers.push(answer().await);
    }
    let kinds: Vec<_> = answers
        .iter()
        .map(|a| a["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["ack", "ack", "pong", "error", "pong"],
        "{answers:?}"
    );
    assert_eq!(answers[1]["data"]["seq"], 2);
    assert_eq!(
        answers[3]["errMsg"],
        "the server is shutting down; send again after reconnecting"
    );
    let started = tokio::time::Instant::now();
    assert_eq!(gw.drained(Duration::from_secs(10)).await, 0);
    assert!(started.elapsed() < Duration::from_secs(5));
    loop {
        match client.from_server.next().await {
            Some(Message::Close(Some(frame))) => {
                assert_eq!(frame.code, 1001);
                assert_eq!(frame.reason, "server shutting down");
                break;
            }
            Some(Message::Text(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
    client.session.await.unwrap();
}
