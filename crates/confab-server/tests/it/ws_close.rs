//! How the gateway closes a connection whose client breaks the WebSocket
//! rules: the close code tells the client what it did wrong (RFC 6455 7.4).

use crate::harness::*;
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A raw WebSocket of `user` on the web platform, so that a test can send
/// what `confab-client` never would.
async fn raw_socket(t: &TestServer, user: &str) -> Socket {
    t.user(user).await;
    let token = t.anon.user_token(SECRET, user, 5).await.unwrap();
    let url = format!(
        "{}/ws?token={token}&platformID=5",
        t.url().replacen("http://", "ws://", 1)
    );
    let (socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    socket
}

/// The code of the close frame the server sends next (frames before it are
/// skipped).
async fn close_code(socket: &mut Socket) -> u16 {
    let read = async {
        while let Some(frame) = socket.next().await {
            match frame.unwrap() {
                Message::Close(Some(close)) => return u16::from(close.code),
                Message::Close(None) => panic!("a close frame without a code"),
                _ => {}
            }
        }
        panic!("the connection ended without a close frame")
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("a close frame")
}

async fn a_frame_over_the_limit_closes_with_1009(t: &TestServer) {
    let mut socket = raw_socket(t, "big").await;
    // The default limit: max_message_bytes (64 KiB) plus 16 KiB of envelope.
    let text = "x".repeat(81 * 1024);
    socket.send(Message::Text(text.into())).await.unwrap();
    assert_eq!(close_code(&mut socket).await, 1009);
}

async fn invalid_utf8_in_a_text_frame_closes_with_1007(t: &TestServer) {
    let mut socket = raw_socket(t, "garbled").await;
    let frame = Frame::message(vec![b'{', 0xff, 0xfe, b'}'], OpCode::Data(Data::Text), true);
    socket.send(Message::Frame(frame)).await.unwrap();
    assert_eq!(close_code(&mut socket).await, 1007);
}

on_sqlite!(
    a_frame_over_the_limit_closes_with_1009,
    invalid_utf8_in_a_text_frame_closes_with_1007,
    a_ping_flood_without_reading_closes_with_1008_and_a_reason,
    a_flood_of_websocket_pings_costs_the_server_nothing
);

/// A client that floods pings and never reads fills its queue of answers:
/// it is cut off, and once it reads again it finds a close frame with 1008
/// and the reason, not a connection that just ends.
async fn a_ping_flood_without_reading_closes_with_1008_and_a_reason(t: &TestServer) {
    let mut socket = raw_socket(t, "flooder").await;
    // Long request ids make long answers, so that the socket buffers fill
    // and the answers back up in the server's queue.
    let ping = format!(r#"{{"type":"ping","reqID":"{}"}}"#, "p".repeat(2000));
    for _ in 0..20_000 {
        let sent = tokio::time::timeout(
            Duration::from_millis(500),
            socket.send(Message::Text(ping.clone().into())),
        )
        .await;
        // The server stopped reading: it has cut the session off.
        if !matches!(sent, Ok(Ok(()))) {
            break;
        }
    }
    let read = async {
        while let Some(frame) = socket.next().await {
            match frame {
                Ok(Message::Close(Some(close))) => return Some(close),
                Ok(_) => {}
                Err(e) => panic!("the connection broke without a close frame: {e}"),
            }
        }
        None
    };
    let close = tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .expect("a close frame in time")
        .expect("a close frame before the end");
    assert_eq!(u16::from(close.code), 1008);
    assert_eq!(
        close.reason.as_str(),
        "too slow: the client does not read what it is sent"
    );
}

/// The same flood with WebSocket pings: their pongs are answered by the
/// WebSocket layer, which keeps one pending at most, so the session lives
/// on and answers the next request.
async fn a_flood_of_websocket_pings_costs_the_server_nothing(t: &TestServer) {
    let mut socket = raw_socket(t, "pinger").await;
    for _ in 0..5_000 {
        let sent = tokio::time::timeout(
            Duration::from_millis(500),
            socket.send(Message::Ping(vec![0u8; 100].into())),
        )
        .await;
        if !matches!(sent, Ok(Ok(()))) {
            break;
        }
    }
    socket
        .send(Message::Text(r#"{"type":"ping","reqID":"last"}"#.into()))
        .await
        .unwrap();
    let read = async {
        while let Some(frame) = socket.next().await {
            if let Message::Text(t) = frame.unwrap() {
                let v: serde_json::Value = serde_json::from_str(&t).unwrap();
                if v["reqID"] == "last" {
                    return v;
                }
            }
        }
        panic!("the connection ended")
    };
    let pong = tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .expect("an answer to the last ping");
    assert_eq!(pong["type"], "pong");
    assert_eq!(pong["errCode"], 0);
}
