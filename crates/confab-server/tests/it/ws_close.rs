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
    invalid_utf8_in_a_text_frame_closes_with_1007
);
