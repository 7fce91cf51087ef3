//! OpenIM v3's client gateway at `/`, driven as its SDK does: the greeting
//! text frame, binary JSON envelopes holding base64 protobuf, the sender's
//! echo, bad frames answered without closing, refused tokens.

use crate::harness::*;
use base64::Engine;
use confab_openim_pb::openim::{msg, sdkws};
use confab_openim_pb::Message as _;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

async fn connect(t: &TestServer, user: &str, token: &str) -> Socket {
    let url = format!(
        "{}/?sendID={user}&token={token}&platformID=5&operationID=op1&isBackground=false&isMsgResp=true&sdkType=js",
        t.url().replacen("http://", "ws://", 1)
    );
    let (socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    socket
}

async fn next(socket: &mut Socket) -> Message {
    tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .expect("a frame")
        .expect("open")
        .unwrap()
}

/// The next binary envelope, skipping pings.
async fn envelope(socket: &mut Socket) -> Value {
    loop {
        match next(socket).await {
            Message::Binary(b) => return serde_json::from_slice(&b).unwrap(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("expected a binary frame, got {other:?}"),
        }
    }
}

fn data(envelope: &Value) -> Vec<u8> {
    B64.decode(envelope["data"].as_str().unwrap()).unwrap()
}

async fn request(socket: &mut Socket, user: &str, ident: i32, incr: &str, body: &[u8]) {
    let frame = json!({
        "reqIdentifier": ident, "msgIncr": incr, "sendID": user,
        "operationID": format!("op-{incr}"), "data": B64.encode(body),
    });
    socket
        .send(Message::Binary(serde_json::to_vec(&frame).unwrap().into()))
        .await
        .unwrap();
}

async fn greeted(t: &TestServer, user: &str) -> Socket {
    t.user(user).await;
    greeted_again(t, user).await
}

/// A greeted socket of a user registered already.
async fn greeted_again(t: &TestServer, user: &str) -> Socket {
    let token = t.anon.user_token(SECRET, user, 5).await.unwrap();
    let mut socket = connect(t, user, &token).await;
    assert_eq!(
        next(&mut socket).await,
        Message::Text(r#"{"errCode":0,"errDlt":"","errMsg":""}"#.into())
    );
    socket
}

async fn a_send_is_answered_then_echoed_and_pushed(t: &TestServer) {
    let mut alice = greeted(t, "v3alice").await;
    let mut bob = greeted(t, "v3bob").await;
    let sent = sdkws::MsgData {
        send_id: "v3alice".into(),
        recv_id: "v3bob".into(),
        client_msg_id: "c1".into(),
        session_type: 1,
        msg_from: 100,
        content_type: 101,
        content: br#"{"content":"hello"}"#.to_vec(),
        ..Default::default()
    };
    request(&mut alice, "v3alice", 1003, "7", &sent.encode_to_vec()).await;
    let reply = envelope(&mut alice).await;
    assert_eq!(
        (
            &reply["reqIdentifier"],
            &reply["msgIncr"],
            &reply["operationID"],
            &reply["errCode"]
        ),
        (&json!(1003), &json!("7"), &json!("op-7"), &json!(0))
    );
    let ack = sdkws::UserSendMsgResp::decode(data(&reply).as_slice()).unwrap();
    assert_eq!(ack.client_msg_id, "c1");
    assert!(!ack.server_msg_id.is_empty());
    // The sender's own echo carries the seq and the send's operationID.
    let echo = envelope(&mut alice).await;
    assert_eq!(
        (&echo["reqIdentifier"], &echo["operationID"]),
        (&json!(2001), &json!("op-7"))
    );
    let push = sdkws::PushMessages::decode(data(&echo).as_slice()).unwrap();
    let m = &push.msgs["si_v3alice_v3bob"].msgs[0];
    assert_eq!(
        (m.seq, m.content.as_slice()),
        (1, br#"{"content":"hello"}"#.as_slice())
    );
    let pushed = envelope(&mut bob).await;
    let push = sdkws::PushMessages::decode(data(&pushed).as_slice()).unwrap();
    let m = &push.msgs["si_v3alice_v3bob"].msgs[0];
    assert_eq!((m.send_id.as_str(), m.seq, m.status), ("v3alice", 1, 2));

    // Bob's index of conversations, then the message by its seq.
    let ask = msg::GetConversationsHasReadAndMaxSeqReq {
        user_id: "v3bob".into(),
        conversation_ids: Vec::new(),
    };
    request(&mut bob, "v3bob", 1006, "8", &ask.encode_to_vec()).await;
    let seqs = msg::GetConversationsHasReadAndMaxSeqResp::decode(
        data(&envelope(&mut bob).await).as_slice(),
    )
    .unwrap();
    let s = &seqs.seqs["si_v3alice_v3bob"];
    assert_eq!((s.max_seq, s.has_read_seq), (1, 0));
    assert_eq!(
        seqs.seqs.len(),
        1,
        "no notification conversation: {:?}",
        seqs.seqs.keys()
    );
    let ask = msg::GetSeqMessageReq {
        user_id: "v3bob".into(),
        conversations: vec![
            msg::ConversationSeqs {
                conversation_id: "si_v3alice_v3bob".into(),
                seqs: vec![0, 1],
            },
            msg::ConversationSeqs {
                conversation_id: "si_v3bob_nobody".into(),
                seqs: vec![1],
            },
        ],
        order: 0,
    };
    request(&mut bob, "v3bob", 1005, "9", &ask.encode_to_vec()).await;
    let answer = envelope(&mut bob).await;
    assert_eq!(
        answer["errCode"],
        json!(1004),
        "a conversation bob has not: {answer}"
    );
    let ask = msg::GetSeqMessageReq {
        user_id: "v3bob".into(),
        conversations: vec![msg::ConversationSeqs {
            conversation_id: "si_v3alice_v3bob".into(),
            seqs: vec![0, 1],
        }],
        order: 0,
    };
    request(&mut bob, "v3bob", 1005, "10", &ask.encode_to_vec()).await;
    let got = msg::GetSeqMessageResp::decode(data(&envelope(&mut bob).await).as_slice()).unwrap();
    assert_eq!(
        got.msgs["si_v3alice_v3bob"]
            .msgs
            .iter()
            .map(|m| m.seq)
            .collect::<Vec<_>>(),
        vec![1]
    );

    // Ranges: an empty ask still gets an answer the SDK can read.
    let ask = sdkws::PullMessageBySeqsReq {
        user_id: "v3bob".into(),
        seq_ranges: Vec::new(),
        order: 0,
    };
    request(&mut bob, "v3bob", 1002, "11", &ask.encode_to_vec()).await;
    let answer = envelope(&mut bob).await;
    assert_eq!(
        (answer["errCode"].clone(), answer["data"].clone()),
        (json!(0), json!("oAYA"))
    );
}

async fn bad_frames_are_answered_and_the_connection_stays(t: &TestServer) {
    let mut s = greeted(t, "v3carol").await;
    let frame = json!({"reqIdentifier": 1006, "msgIncr": "1", "sendID": "v3carol", "operationID": "o", "data": "%%%"});
    s.send(Message::Binary(serde_json::to_vec(&frame).unwrap().into()))
        .await
        .unwrap();
    let e = envelope(&mut s).await;
    assert_eq!(
        (&e["reqIdentifier"], &e["msgIncr"], &e["errCode"]),
        (&json!(1006), &json!("1"), &json!(1001))
    );
    assert!(
        e["errMsg"]
            .as_str()
            .unwrap()
            .starts_with("data: not base64"),
        "{e}"
    );
    request(&mut s, "v3carol", 1003, "2", &[0xff, 0xff, 0xff]).await;
    let e = envelope(&mut s).await;
    assert!(
        e["errMsg"]
            .as_str()
            .unwrap()
            .starts_with("data: not protobuf"),
        "{e}"
    );
    request(&mut s, "v3carol", 1234, "3", &[]).await;
    let e = envelope(&mut s).await;
    assert_eq!(e["errCode"], json!(1001));
    assert!(
        e["errMsg"]
            .as_str()
            .unwrap()
            .starts_with("reqIdentifier: 1234 is not a request"),
        "{e}"
    );
    request(&mut s, "someone_else", 1006, "4", &[]).await;
    let e = envelope(&mut s).await;
    assert_eq!(e["errCode"], json!(1002), "{e}");
    s.send(Message::Text(r#"{"type":"ping"}"#.into()))
        .await
        .unwrap();
    assert_eq!(
        next(&mut s).await,
        Message::Text(r#"{"type":"pong"}"#.into())
    );
    // Still served.
    request(&mut s, "v3carol", 1006, "5", &[]).await;
    assert_eq!(envelope(&mut s).await["errCode"], json!(0));
}

async fn a_refused_token_is_told_in_the_greeting(t: &TestServer) {
    t.user("v3dave").await;
    let mut s = connect(t, "v3dave", "not-a-token").await;
    match next(&mut s).await {
        Message::Text(text) => {
            let v: Value = serde_json::from_str(&text).unwrap();
            assert!(
                [1502, 1503].contains(&v["errCode"].as_i64().unwrap()),
                "{v}"
            );
        }
        other => panic!("expected the greeting, got {other:?}"),
    }
    assert!(matches!(next(&mut s).await, Message::Close(Some(_))));
    // A Go SDK core (gob frames) is refused with a reason.
    let token = t.anon.user_token(SECRET, "v3dave", 5).await.unwrap();
    let url = format!(
        "{}/?sendID=v3dave&token={token}&platformID=5&sdkType=go",
        t.url().replacen("http://", "ws://", 1)
    );
    let (mut s, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    match next(&mut s).await {
        Message::Close(Some(close)) => assert!(close.reason.contains("sdkType=go"), "{close:?}"),
        other => panic!("expected a close, got {other:?}"),
    }
}

/// OpenIM's own port: any path, as its gateway takes; without
/// `isMsgResp` no greeting comes; a logout is answered, then the session
/// ends.
#[tokio::test]
async fn openim_gateway_listen_serves_any_path() {
    let t = TestServer::start_with(Backend::Sqlite, |s| {
        s.openim_gateway_listen = Some("127.0.0.1:0".into());
    })
    .await
    .unwrap();
    t.user("v3erin").await;
    let token = t.anon.user_token(SECRET, "v3erin", 5).await.unwrap();
    let url = format!(
        "{}/msg_gateway?sendID=v3erin&token={token}&platformID=5&operationID=o&isMsgResp=false&sdkType=js",
        t.openim_gateway_url().unwrap()
    );
    let (mut s, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    request(&mut s, "v3erin", 1006, "1", &[]).await;
    let answer = envelope(&mut s).await;
    assert_eq!(
        (&answer["reqIdentifier"], &answer["errCode"]),
        (&json!(1006), &json!(0))
    );
    request(&mut s, "v3erin", 2003, "2", &[]).await;
    let answer = envelope(&mut s).await;
    assert_eq!(
        (&answer["reqIdentifier"], &answer["msgIncr"]),
        (&json!(2003), &json!("2"))
    );
    match next(&mut s).await {
        Message::Close(Some(close)) => assert_eq!(close.reason.as_str(), "logged out"),
        other => panic!("expected a close, got {other:?}"),
    }
    // The second port serves nothing else: only upgrades (GET).
    let http = format!(
        "{}/auth/user_token",
        t.openim_gateway_url()
            .unwrap()
            .replacen("ws://", "http://", 1)
    );
    let r = reqwest::Client::new()
        .post(http)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    t.stop().await;
}

async fn a_subscription_is_pushed_each_change(t: &TestServer) {
    let mut watcher = greeted(t, "v3fred").await;
    t.user("v3gina").await;
    let sub = sdkws::SubUserOnlineStatus {
        subscribe_user_id: vec!["v3gina".into()],
        unsubscribe_user_id: Vec::new(),
    };
    request(&mut watcher, "v3fred", 2005, "1", &sub.encode_to_vec()).await;
    let answer = envelope(&mut watcher).await;
    assert_eq!(answer["msgIncr"], json!("1"));
    let now = sdkws::SubUserOnlineStatusTips::decode(data(&answer).as_slice()).unwrap();
    assert_eq!(
        (
            now.subscribers[0].user_id.as_str(),
            now.subscribers[0].online_platform_ids.len()
        ),
        ("v3gina", 0)
    );
    let status = |e: &Value| {
        assert_eq!(
            (&e["reqIdentifier"], &e["msgIncr"]),
            (&json!(2005), &json!("")),
            "a push: {e}"
        );
        sdkws::SubUserOnlineStatusTips::decode(data(e).as_slice())
            .unwrap()
            .subscribers[0]
            .online_platform_ids
            .clone()
    };
    let gina = greeted_again(t, "v3gina").await;
    assert_eq!(
        status(&envelope(&mut watcher).await),
        vec![5],
        "gina is online on the web"
    );
    drop(gina);
    assert_eq!(
        status(&envelope(&mut watcher).await),
        Vec::<i32>::new(),
        "and offline"
    );
    // Unsubscribed: no more pushes.
    let unsub = sdkws::SubUserOnlineStatus {
        subscribe_user_id: Vec::new(),
        unsubscribe_user_id: vec!["v3gina".into()],
    };
    request(&mut watcher, "v3fred", 2005, "2", &unsub.encode_to_vec()).await;
    assert_eq!(envelope(&mut watcher).await["msgIncr"], json!("2"));
    let _gina = greeted_again(t, "v3gina").await;
    request(&mut watcher, "v3fred", 1006, "3", &[]).await;
    assert_eq!(
        envelope(&mut watcher).await["msgIncr"],
        json!("3"),
        "no status push came first"
    );
}

on_sqlite!(
    a_subscription_is_pushed_each_change,
    a_send_is_answered_then_echoed_and_pushed,
    bad_frames_are_answered_and_the_connection_stays,
    a_refused_token_is_told_in_the_greeting
);
