//! A slow reader: a member of every lasting group that reads one frame,
//! then sleeps. It speaks `/ws` over its own socket rather than through
//! `WsClient`, whose reader task drains the socket as fast as frames come:
//! only a client that leaves bytes unread makes the server queue them,
//! and a small receive buffer makes that happen soon. When the server
//! cuts it off (close 1008), it syncs what the cut dropped and connects
//! again.

use super::sync::{merge, sync, Held};
use super::{Soak, Tally, PLATFORM, READ_BUFFER};
use confab_wire::ServerFrame;
use futures_util::{SinkExt, StreamExt};
use socket2::{Domain, Protocol, Socket, Type};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// The slow reader's socket receive buffer (the kernel doubles it).
const RECEIVE_BUFFER: usize = 4096;
/// The largest TCP segment it takes: Ethernet's, as over the Internet.
const SEGMENT_SIZE: u32 = 1460;
/// The close code of a client cut off for not reading.
const CLOSE_TOO_SLOW: u16 = 1008;
/// A heartbeat, well inside the server's default 60 s timeout.
const HEARTBEAT: Duration = Duration::from_secs(20);

enum Ended {
    Deadline,
    CutOff,
    Unexpected(String),
}

pub(super) async fn run(soak: Arc<Soak>, token: String, pause: Duration) {
    let t = &soak.tally;
    let mut held = Held::new();
    while Instant::now() < soak.deadline {
        // Catch up with an ordinary client first: at the start, and after
        // a cut-off, whose queue the server dropped.
        let Some(client) = soak.connect(&token).await else {
            return;
        };
        let pulled = sync(&soak, &client, &held).await;
        merge(&mut held, pulled);
        client.close().await;
        let ws = match connect(&soak.server, &token).await {
            Ok(ws) => ws,
            Err(e) => {
                t.error(&t.connect_failures, || format!("slow reader: {e}"));
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        match read_slowly(&soak, ws, &mut held, pause).await {
            Ended::Deadline => return,
            Ended::CutOff => Tally::add(&t.cutoffs),
            Ended::Unexpected(why) => {
                t.error(&t.unexpected_closes, || format!("slow reader: {why}"));
            }
        }
    }
}

/// Opens `/ws` on a socket with a small receive buffer.
async fn connect(server: &str, token: &str) -> anyhow::Result<WebSocketStream<TcpStream>> {
    let url = reqwest::Url::parse(server)?;
    anyhow::ensure!(url.scheme() == "http", "slow readers speak ws:// only");
    let host = url.host_str().unwrap_or("127.0.0.1");
    let port = url.port_or_known_default().unwrap_or(80);
    let addr = tokio::net::lookup_host((host, port))
        .await?
        .next()
        .ok_or_else(|| anyhow::anyhow!("{host} has no address"))?;
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // Both before connecting: the window the client offers stays small,
    // and so does the segment size the server uses. Loopback's 64 KiB
    // segments would let the server's send buffer grow to megabytes
    // (the kernel sizes it by segments in flight), which no client over
    // a real network path causes.
    socket.set_recv_buffer_size(RECEIVE_BUFFER)?;
    socket.set_tcp_mss(SEGMENT_SIZE)?;
    socket.set_nonblocking(true)?;
    let stream = TcpSocket::from_std_stream(socket.into())
        .connect(addr)
        .await?;
    let ws_url = format!("ws://{host}:{port}/ws?token={token}&platformID={PLATFORM}");
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
    let (ws, _) = tokio_tungstenite::client_async_with_config(ws_url, stream, Some(config)).await?;
    Ok(ws)
}

#[derive(serde::Deserialize)]
struct PushedSeq {
    #[serde(rename = "conversationID")]
    conversation_id: String,
    seq: i64,
}

/// Reads a frame, sleeps `pause`, and again, until the deadline or the
/// connection's end; keeps the highest seq pushed per conversation.
async fn read_slowly(
    soak: &Soak,
    ws: WebSocketStream<TcpStream>,
    held: &mut Held,
    pause: Duration,
) -> Ended {
    let (mut sink, mut stream) = ws.split();
    let mut last_heartbeat = Instant::now();

    loop {
        // Checked apart from the read: with frames waiting, a read past
        // the deadline is ready at once and the timeout never fires.
        let next = match Instant::now() < soak.deadline {
            true => tokio::time::timeout_at(soak.deadline.into(), stream.next())
                .await
                .ok(),
            false => None,
        };
        let frame = match next {
            None => {
                let _ = sink.close().await;
                return Ended::Deadline;
            }
            Some(None) => return Ended::Unexpected("the connection ended without a close".into()),
            Some(Some(Err(e))) => return Ended::Unexpected(format!("reading: {e}")),
            Some(Some(Ok(frame))) => frame,
        };
        match frame {
            Message::Text(text) => {
                Tally::add(&soak.tally.slow_reader_frames);
                if let Ok(frame) = serde_json::from_str::<ServerFrame<PushedSeq>>(&text) {
                    if let Some(m) = frame.data.filter(|m| frame.kind == "push" && m.seq > 0) {
                        let seq = held.entry(m.conversation_id).or_insert(m.seq);
                        *seq = (*seq).max(m.seq);
                    }
                }
            }
            Message::Close(Some(c)) if u16::from(c.code) == CLOSE_TOO_SLOW => return Ended::CutOff,
            Message::Close(c) => {
                return Ended::Unexpected(format!("closed: {c:?}"));
            }
            _ => {}
        }
        tokio::time::sleep(pause).await;
        if last_heartbeat.elapsed() >= HEARTBEAT {
            last_heartbeat = Instant::now();
            if sink.send(Message::Ping(Vec::new().into())).await.is_err() {
                return Ended::Unexpected("sending a heartbeat failed".into());
            }
        }
    }
}
