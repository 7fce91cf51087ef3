//! One WebSocket session, generic over its sink and stream so that tests
//! can drive it with channels.

use crate::registry::{ended, Outbound, SessionHandle};
use crate::{error_frame, frame, Gateway};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
use confab_core::bus::SessionId;
use confab_core::message::{Content, ContentType, Recipient, SessionType};
use confab_core::protocol::*;
use confab_core::{Error, GroupId, Result, UserId};
use confab_service::{Caller, OutgoingMessage, SendRequest};
use futures_util::stream::FuturesOrdered;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use serde::de::DeserializeOwned;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Close code for a client that cannot keep up (1008: policy violation).
const CLOSE_TOO_SLOW: u16 = 1008;
/// Close code for a client that stopped sending heartbeats (1001: going away).
const CLOSE_IDLE: u16 = 1001;
/// Close code for a frame over the size limit (1009: message too big).
const CLOSE_TOO_BIG: u16 = 1009;
/// Close code for a text frame that is not UTF-8 (1007: invalid payload).
const CLOSE_NOT_UTF8: u16 = 1007;
/// Close code after a kick (4001, application-defined).
const CLOSE_KICKED: u16 = 4001;
/// How long a closing session waits for its writer.
const WRITER_GRACE: std::time::Duration = std::time::Duration::from_secs(2);
/// Sends of one session that may await their commit at once; beyond this
/// the session stops reading until the oldest is answered.
const MAX_UNACKED_SENDS: usize = 64;

/// Runs a session until the client leaves, is kicked, falls behind or goes
/// silent. `caller` is the authenticated user.
pub async fn run_session<S, R, E>(gateway: Arc<Gateway>, caller: Caller, sink: S, mut stream: R)
where
    S: Sink<Message> + Unpin + Send + 'static,
    R: Stream<Item = std::result::Result<Message, E>> + Unpin + Send,
    E: std::error::Error + 'static,
{
    let id = gateway.new_session_id();
    let (tx, rx) = mpsc::channel(gateway.config.queue_capacity);
    let handle = Arc::new(SessionHandle::new(id.clone(), caller.platform, tx));
    let replaced = frame(
        "kick",
        "",
        Some(KickData {
            reason: "logged in again on the same platform".into(),
        }),
    );
    gateway
        .registry
        .register(&caller.user_id, handle.clone(), &replaced);
    tracing::debug!(session = %id, user = %caller.user_id, platform = caller.platform.name(), "session opened");

    let writer = tokio::spawn(write_loop(sink, rx, handle.clone()));
    let timeout = gateway.config.heartbeat_timeout;
    let mut watcher = handle.watch();
    // Sends awaiting their commit, answered in the order they came.
    let mut committing: FuturesOrdered<Pin<Box<dyn Future<Output = Utf8Bytes> + Send>>> =
        FuturesOrdered::new();
    loop {
        if handle.is_cut() {
            break;
        }
        let next = tokio::select! {
            Some(ack) = committing.next(), if !committing.is_empty() => {
                if !handle.send(Outbound::Frame(ack)) {
                    break;
                }
                continue;
            }
            next = tokio::time::timeout(timeout, stream.next()) => next,
            _ = ended(&mut watcher) => break,
        };
        let message = match next {
            Err(_) => {
                handle.send(Outbound::Close(CLOSE_IDLE, "heartbeat timeout"));
                break;
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                if let Some((code, reason)) = read_error_close(&e) {
                    handle.send(Outbound::Close(code, reason));
                }
                break;
            }
            Ok(Some(Ok(m))) => m,
        };
        let text = match message {
            Message::Text(t) => t,
            Message::Binary(_) => {
                handle.send(Outbound::Frame(error_frame(
                    "",
                    &Error::invalid("frames must be JSON text"),
                )));
                continue;
            }
            Message::Close(_) => break,
            // Pings are answered by the WebSocket layer; any frame counts as a heartbeat.
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        if committing.len() >= MAX_UNACKED_SENDS {
            if let Some(ack) = committing.next().await {
                if !handle.send(Outbound::Frame(ack)) {
                    break;
                }
            }
        }
        match handle_frame(&gateway, &caller, &id, &text).await {
            Reply::Later(ack) => committing.push_back(ack),
            Reply::Now(reply) => {
                // Other replies wait for earlier sends, so that a client sees
                // its answers in the order of its requests.
                let mut open = true;
                while let Some(ack) = committing.next().await {
                    open &= handle.send(Outbound::Frame(ack));
                }
                if !open || !handle.send(Outbound::Frame(reply)) {
                    break;
                }
            }
        }
    }

    gateway.registry.unregister(&caller.user_id, &handle);
    handle.finish();
    // A writer blocked on a peer that stopped reading would wait for TCP to
    // give up; it gets a moment to send its close frame, then is dropped
    // with the socket.
    let mut writer = writer;
    if tokio::time::timeout(WRITER_GRACE, &mut writer)
        .await
        .is_err()
    {
        writer.abort();
    }
    tracing::debug!(session = %id, user = %caller.user_id, "session closed");
}

/// The close frame owed to a client whose frame could not be read: 1009
/// (message too big) for a frame over `max_frame_bytes`, 1007 (invalid
/// payload) for a text frame that is not UTF-8. Other failures (the
/// connection broke) leave nothing to say. axum wraps tungstenite's error,
/// so the error's sources are searched.
fn read_error_close(e: &(dyn std::error::Error + 'static)) -> Option<(u16, &'static str)> {
    use tokio_tungstenite::tungstenite::Error as WsError;
    let mut next = Some(e);
    while let Some(e) = next {
        match e.downcast_ref::<WsError>() {
            Some(WsError::Capacity(_)) => return Some((CLOSE_TOO_BIG, "message too big")),
            Some(WsError::Utf8(_)) => return Some((CLOSE_NOT_UTF8, "text is not UTF-8")),
            Some(_) => return None,
            None => next = e.source(),
        }
    }
    None
}

async fn write_loop<S>(mut sink: S, mut rx: mpsc::Receiver<Outbound>, handle: Arc<SessionHandle>)
where
    S: Sink<Message> + Unpin,
{
    let mut watcher = handle.watch();
    loop {
        let next = tokio::select! {
            biased;
            next = rx.recv() => next,
            _ = ended(&mut watcher) => None,
        };
        let Some(first) = next else {
            let code = if handle.was_too_slow() {
                CLOSE_TOO_SLOW
            } else {
                1000
            };
            close(&mut sink, code, "closing").await;
            return;
        };
        // Write what is queued, then flush once.
        let mut out = Some(first);
        while let Some(o) = out {
            if !write(&mut sink, o).await {
                // Kicked or closed: the reader stops too.
                handle.finish();
                return;
            }
            out = rx.try_recv().ok();
        }
        if sink.flush().await.is_err() {
            return;
        }
    }
}

/// Writes one outbound item; false when the connection is done.
async fn write<S: Sink<Message> + Unpin>(sink: &mut S, out: Outbound) -> bool {
    match out {
        Outbound::Frame(f) => sink.feed(Message::Text(f)).await.is_ok(),
        Outbound::Last(f) => {
            let _ = sink.feed(Message::Text(f)).await;
            close(sink, CLOSE_KICKED, "kicked").await;
            false
        }
        Outbound::Close(code, reason) => {
            close(sink, code, reason).await;
            false
        }
    }
}

async fn close<S: Sink<Message> + Unpin>(sink: &mut S, code: u16, reason: &str) {
    let _ = sink.flush().await;
    let frame = CloseFrame {
        code,
        reason: reason.to_owned().into(),
    };
    let _ = sink.send(Message::Close(Some(frame))).await;
}

fn parse<T: DeserializeOwned>(data: Option<&serde_json::value::RawValue>) -> Result<T> {
    let text = data.map(|d| d.get()).unwrap_or("{}");
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || path == "?" {
            Error::invalid(format!("data: {inner}"))
        } else {
            Error::invalid(format!("data.{path}: {inner}"))
        }
    })
}

/// The answer to a frame: ready, or (a send) once its message is committed.
enum Reply {
    Now(Utf8Bytes),
    Later(Pin<Box<dyn Future<Output = Utf8Bytes> + Send>>),
}

async fn handle_frame(
    gateway: &Gateway,
    caller: &Caller,
    session: &SessionId,
    text: &str,
) -> Reply {
    let request: ClientFrame = match serde_json::from_str(text) {
        Ok(r) => r,
        Err(e) => return Reply::Now(error_frame("", &Error::invalid(format!("frame: {e}")))),
    };
    let req_id = request.req_id.clone();
    if request.kind == "send" {
        let submitted = match send_request(caller, request.data.as_deref()) {
            Ok(req) => {
                gateway
                    .service
                    .submit_message(caller, Some(session.clone()), req)
                    .await
            }
            Err(e) => Err(e),
        };
        return match submitted {
            Ok(pending) => Reply::Later(Box::pin(async move {
                match pending.outcome().await {
                    Ok(outcome) => {
                        let m = outcome.message;
                        frame(
                            "ack",
                            &req_id,
                            Some(AckData {
                                client_msg_id: m.client_msg_id,
                                server_msg_id: m.server_msg_id,
                                conversation_id: m.conversation_id,
                                seq: m.seq,
                                send_time: m.send_time,
                            }),
                        )
                    }
                    Err(e) => error_frame(&req_id, &e),
                }
            })),
            Err(e) => Reply::Now(error_frame(&req_id, &e)),
        };
    }
    match dispatch(gateway, caller, session, &request).await {
        Ok(reply) => Reply::Now(reply),
        Err(e) => Reply::Now(error_frame(&req_id, &e)),
    }
}

fn send_request(
    caller: &Caller,
    data: Option<&serde_json::value::RawValue>,
) -> Result<SendRequest> {
    let d: SendData = parse(data)?;
    let to = match SessionType::from_i32(d.session_type) {
        Some(SessionType::Single) => Recipient::User(UserId::parse("data.recvID", &d.recv_id)?),
        Some(t) if t.is_group() => {
            let group = if d.group_id.is_empty() {
                &d.recv_id
            } else {
                &d.group_id
            };
            Recipient::Group(GroupId::parse("data.groupID", group)?)
        }
        _ => {
            return Err(Error::invalid(format!(
                "data.sessionType: unknown session type {}",
                d.session_type
            )))
        }
    };
    let kind = ContentType::from_code(d.content_type).ok_or_else(|| {
        Error::invalid(format!(
            "data.contentType: {} is not a chat content type (101..114)",
            d.content_type
        ))
    })?;
    Ok(SendRequest {
        to,
        message: OutgoingMessage {
            client_msg_id: d.client_msg_id,
            sender: caller.user_id.clone(),
            sender_platform: caller.platform.id(),
            sender_nickname: d.sender_nickname,
            sender_face_url: d.sender_face_url,
            content: Content::new(kind, d.content),
            is_online_only: d.is_online_only,
            mentions: d.at_user_id_list,
            ex: d.ex,
        },
    })
}

async fn dispatch(
    gateway: &Gateway,
    caller: &Caller,
    session: &SessionId,
    request: &ClientFrame,
) -> Result<Utf8Bytes> {
    let service = &gateway.service;
    let req_id = request.req_id.as_str();
    let data = request.data.as_deref();
    match request.kind.as_str() {
        "ping" => Ok(frame::<()>("pong", req_id, None)),
        "get_max_seqs" => {
            let list = service.conversations(caller, &caller.user_id).await?;
            let conversations = list
                .iter()
                .map(|c| ConversationSeqs {
                    conversation_id: c.conversation_id.clone(),
                    session_type: c.session_type as i32,
                    peer_id: c.peer_id.clone(),
                    max_seq: c.max_seq,
                    read_seq: c.read_seq,
                    min_seq: c.min_seq,
                    unread: c.unread(),
                })
                .collect();
            Ok(frame("max_seqs", req_id, Some(MaxSeqsData { conversations })))
        }
        "pull" => {
            let d: PullData = parse(data)?;
            let (messages, more) = service
                .pull(caller, &caller.user_id, &d.conversation_id, d.begin, d.end, d.limit)
                .await?;
            let messages = messages.iter().map(MessageView::new).collect();
            Ok(frame("pulled", req_id, Some(PulledData { messages, more })))
        }
        "mark_read" => {
            let d: SeqData = parse(data)?;
            service.mark_read(caller, Some(session.clone()), &d.conversation_id, d.seq).await?;
            Ok(frame::<()>("ok", req_id, None))
        }
        "delivered" => {
            let d: SeqData = parse(data)?;
            service.mark_delivered(caller, &d.conversation_id, d.seq).await?;
            Ok(frame::<()>("ok", req_id, None))
        }
        "revoke" => {
            let d: SeqData = parse(data)?;
            let notice = service.revoke(caller, Some(session.clone()), &d.conversation_id, d.seq).await?;
            Ok(frame(
                "ack",
                req_id,
                Some(AckData {
                    client_msg_id: notice.client_msg_id,
                    server_msg_id: notice.server_msg_id,
                    conversation_id: notice.conversation_id,
                    seq: notice.seq,
                    send_time: notice.send_time,
                }),
            ))
        }
        other => Err(Error::invalid(format!(
            "type: unknown frame type {other:?}; expected ping, send, get_max_seqs, pull, mark_read, delivered or revoke"
        ))),
    }
}
