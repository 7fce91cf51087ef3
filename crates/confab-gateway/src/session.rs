//! One WebSocket session, generic over its sink and stream so that tests
//! can drive it with channels, and over its protocol's codec.

use crate::codec::{Codec, EventEncoder, Frame, Reply, Request};
use crate::drain::SessionDrain;
use crate::registry::{ended, Outbound, SessionHandle};
use crate::Gateway;
use axum::extract::ws::Message;
use confab_core::presence::SessionAttributes;
use confab_core::{ErrorKind, Result};
use confab_service::Caller;
use futures_util::stream::FuturesOrdered;
use futures_util::{Sink, Stream, StreamExt};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// Close code for a client that stopped sending heartbeats (1001: going away).
const CLOSE_IDLE: u16 = 1001;
/// Close code for a frame over the size limit (1009: message too big).
const CLOSE_TOO_BIG: u16 = 1009;
/// Close code for a text frame that is not UTF-8 (1007: invalid payload).
const CLOSE_NOT_UTF8: u16 = 1007;
/// Close code when the server cannot serve the session now (1011).
const CLOSE_UNAVAILABLE: u16 = 1011;
/// Close code once a drain is over (1001: going away).
const CLOSE_SHUTTING_DOWN: u16 = 1001;
/// How long a closing session waits for its writer.
pub(crate) const WRITER_GRACE: std::time::Duration = std::time::Duration::from_secs(2);
/// Sends of one session that may await their commit at once; beyond this
/// the session stops reading until the oldest is answered.
const MAX_UNACKED_SENDS: usize = 64;
/// Why a new login ends the older session on its platform.
pub(crate) const REPLACED: &str = "logged in again on the same platform";

/// A request's answer once known, with the tag of the request.
type Answer<T> = (T, Result<Reply>);
/// Sends awaiting their commit, answered in the order they came.
type Committing<T> = FuturesOrdered<Pin<Box<dyn Future<Output = Answer<T>> + Send>>>;

/// Runs a session of Confab's JSON protocol (`/ws`) until the client
/// leaves, is kicked, falls behind or goes silent. `caller` is the
/// authenticated user.
pub async fn run_session<S, R, E>(gateway: Arc<Gateway>, caller: Caller, sink: S, stream: R)
where
    S: Sink<Message> + Unpin + Send + 'static,
    R: Stream<Item = std::result::Result<Message, E>> + Unpin + Send,
    E: std::error::Error + 'static,
{
    let codec = gateway.json.clone();
    let attributes = platform_attributes(&caller);
    run_session_with(gateway, codec, caller, attributes, sink, stream).await
}

/// The attributes of a session that says nothing of itself: its platform,
/// by its name in lower case (`ios`, `android`, `web`, ...).
pub(crate) fn platform_attributes(caller: &Caller) -> SessionAttributes {
    [(
        "platform".to_owned(),
        caller.platform.name().to_ascii_lowercase(),
    )]
    .into_iter()
    .collect()
}

/// Runs a session that speaks `codec`'s protocol.
pub async fn run_session_with<C, S, R, E>(
    gateway: Arc<Gateway>,
    codec: Arc<C>,
    caller: Caller,
    mut attributes: SessionAttributes,
    sink: S,
    mut stream: R,
) where
    C: Codec,
    S: Sink<Message> + Unpin + Send + 'static,
    R: Stream<Item = std::result::Result<Message, E>> + Unpin + Send,
    E: std::error::Error + 'static,
{
    let id = gateway.new_session_id();
    // Counted until the end, so that a stopping server waits for it.
    let (_live, signal) = gateway.drain.session();
    let mut drain = SessionDrain::new(signal);
    drain.heard();
    attributes.insert(crate::PROTOCOL.to_owned(), codec.protocol().0.to_owned());
    let (tx, rx) = flume::bounded(gateway.config.queue_capacity);
    let encoder: Arc<dyn EventEncoder> = codec.clone();
    // A session whose protocol tracks delivery holds its pushes until its
    // catch-up is sent, so that it gets each notification once, in order.
    let handle = Arc::new(SessionHandle::new(
        id.clone(),
        caller.platform,
        attributes,
        encoder,
        tx,
    ));
    gateway.login(&caller, handle.clone());
    tracing::debug!(session = %id, user = %caller.user_id, platform = caller.platform.name(), protocol = codec.protocol().0, "session opened");

    let writer = tokio::spawn(crate::writer::write_loop(sink, rx, handle.clone()));
    let timeout = gateway.config.heartbeat_timeout;
    let mut watcher = handle.watch();
    let mut committing: Committing<C::Tag> = FuturesOrdered::new();
    // Queues the frame that answers a request; false once the session is
    // cut off.
    let answer = |(tag, result): Answer<C::Tag>| -> bool {
        let frame = match result {
            Ok(Reply::LoggedOut) => {
                if let Some(f) = codec.reply(&tag, Reply::LoggedOut) {
                    handle.send(Outbound::Frame(f));
                }
                handle.send(Outbound::Close(1000, "logged out"));
                return false;
            }
            Ok(Reply::Sent(m)) => {
                let echo = codec.echo(&tag, &m);
                let ack = codec.reply(&tag, Reply::Sent(m));
                if ack.is_some_and(|f| !handle.send(Outbound::Frame(f))) {
                    return false;
                }
                if let Some((frame, after)) = echo {
                    let handle = handle.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(after).await;
                        handle.send(Outbound::Frame(frame));
                    });
                }
                return true;
            }
            Ok(reply) => codec.reply(&tag, reply),
            Err(e) => {
                if e.kind() == ErrorKind::Internal {
                    tracing::error!(error = %e.log_message(), "gateway request failed");
                }
                Some(codec.error(&tag, &e))
            }
        };
        frame.is_none_or(|f| handle.send(Outbound::Frame(f)))
    };
    let mut open = true;
    if codec.tracks_delivery() {
        // Boxed here and below: what runs once or rarely stays out of the
        // session's future, which every idle connection holds.
        let missed = Box::pin(
            gateway
                .service
                .catch_up_notifications(&caller, &handle.attributes),
        )
        .await;
        open = match missed {
            Ok(c) => Box::pin(catch_up(&*codec, &handle, c, timeout)).await,
            // Without its catch-up the session would skip what it missed:
            // the client is told and closed, and connects again.
            Err(e) => {
                answer((C::Tag::default(), Err(e)));
                handle.send(Outbound::Close(
                    CLOSE_UNAVAILABLE,
                    "could not catch up; connect again",
                ));
                false
            }
        };
    }
    // Clients that do not send heartbeats are pinged when quiet for half
    // the timeout, and closed when quiet for the other half too.
    let pings = codec.pings_clients();
    let wait = if pings { timeout / 2 } else { timeout };
    let mut pinged = false;
    loop {
        if !open || handle.is_cut() {
            break;
        }
        let read_timeout = drain.read_timeout(wait);
        let next = tokio::select! {
            Some(done) = committing.next(), if !committing.is_empty() => {
                if !answer(done) {
                    break;
                }
                continue;
            }
            _ = drain.begins() => {
                drain.heard();
                continue;
            }
            next = tokio::time::timeout(read_timeout, stream.next()) => next,
            _ = ended(&mut watcher) => break,
        };
        let message = match next {
            // Draining and quiet: once every send read is answered, the
            // session closes.
            Err(_) if drain.draining() => match committing.next().await {
                Some(done) => {
                    if !answer(done) {
                        break;
                    }
                    continue;
                }
                None => {
                    handle.send(Outbound::Close(CLOSE_SHUTTING_DOWN, "server shutting down"));
                    break;
                }
            },
            Err(_) if pings && !pinged => {
                pinged = true;
                if !handle.send(Outbound::Ping) {
                    break;
                }
                continue;
            }
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
        pinged = false;
        let frame = match message {
            Message::Text(t) => Frame::Text(t),
            Message::Binary(b) => Frame::Binary(b),
            Message::Close(_) => break,
            // Pings are answered by the WebSocket layer; any frame counts as a heartbeat.
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        drain.heard();
        if committing.len() >= MAX_UNACKED_SENDS {
            if let Some(done) = committing.next().await {
                if !answer(done) {
                    break;
                }
            }
        }
        let answered = match codec.decode(&caller, frame) {
            Ok((tag, Request::Send(_))) if drain.draining() => {
                Handled::Now((tag, Err(crate::drain::refusal())))
            }
            Ok((tag, request)) => {
                Box::pin(handle_request(&gateway, &caller, &handle, tag, request)).await
            }
            Err((tag, e)) => Handled::Now((tag, Err(e))),
        };
        match answered {
            Handled::Later(done) => committing.push_back(done),
            Handled::Now(done) => {
                // Other answers wait for earlier sends, so that a client sees
                // its answers in the order of its requests.
                let mut open = true;
                while let Some(earlier) = committing.next().await {
                    open &= answer(earlier);
                }
                if !open || !answer(done) {
                    break;
                }
            }
        }
    }

    if gateway.registry.unregister(&caller.user_id, &handle) {
        // Chatrooms are online-only: a user who is gone leaves them.
        gateway.service.leave_all_chatrooms(&caller.user_id);
    }
    gateway.presence_changed(&caller.user_id);
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
    // What was written to the client counts as delivered (for protocols
    // without receipts): it is not sent again on the next connection.
    for (conversation_id, seq) in handle.take_written() {
        if let Err(e) = Box::pin(
            gateway
                .service
                .mark_delivered(&caller, &conversation_id, seq),
        )
        .await
        {
            tracing::warn!(error = %e.log_message(), session = %id, conversation = %conversation_id, "recording what a session was sent");
        }
    }
    tracing::debug!(session = %id, user = %caller.user_id, "session closed");
}

/// Sends a catch-up, waiting for room in the queue however long it is
/// (for at most `patience` without room), then how far it looked, to be
/// recorded once written; then lets the pushes held meanwhile through, but
/// those it covered. False once the session is gone.
async fn catch_up<C: Codec>(
    codec: &C,
    handle: &SessionHandle,
    catch_up: confab_service::CatchUp,
    patience: std::time::Duration,
) -> bool {
    for n in &catch_up.notifications {
        if let Some(frame) = codec.notification(n) {
            if !handle.send_waiting(Outbound::Frame(frame), patience).await {
                return false;
            }
        }
    }
    if !handle
        .send_waiting(Outbound::Note(catch_up.looked.clone()), patience)
        .await
    {
        return false;
    }
    handle.release(&catch_up, patience).await
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

/// The answer to a request: known now, or (a send) once its message is
/// committed.
enum Handled<T> {
    Now(Answer<T>),
    Later(Pin<Box<dyn Future<Output = Answer<T>> + Send>>),
}

async fn handle_request<T: Send + 'static>(
    gateway: &Gateway,
    caller: &Caller,
    handle: &Arc<SessionHandle>,
    tag: T,
    request: Request,
) -> Handled<T> {
    let session = &handle.id;
    if let Request::Send(req) = request {
        let submitted = gateway
            .service
            .submit_message(caller, Some(session.clone()), *req)
            .await;
        return match submitted {
            Ok(pending) => Handled::Later(Box::pin(async move {
                let outcome = pending.outcome().await;
                (tag, outcome.map(|o| Reply::Sent(Box::new(o.message))))
            })),
            Err(e) => Handled::Now((tag, Err(e))),
        };
    }
    Handled::Now((tag, dispatch(gateway, caller, handle, request).await))
}

/// The messages of `seqs` in a conversation, in order: one pull per run
/// of seqs that fits a pull. A seq the user cannot see, or that does not
/// exist, is left out.
async fn pull_seqs(
    gateway: &Gateway,
    caller: &Caller,
    conversation_id: &str,
    mut seqs: Vec<i64>,
) -> Result<Vec<confab_core::message::Message>> {
    use confab_service::MAX_PULL;
    confab_core::validate::batch(confab_core::Field::Seqs, &seqs, MAX_PULL as usize)?;
    seqs.sort_unstable();
    seqs.dedup();
    seqs.retain(|s| *s > 0);
    let mut out = Vec::with_capacity(seqs.len());
    let mut rest = seqs.as_slice();
    while let Some(&first) = rest.first() {
        let run = rest.partition_point(|s| *s < first + i64::from(MAX_PULL));
        let (now, later) = rest.split_at(run);
        let last = now.last().copied().unwrap_or(first);
        let (messages, _) = gateway
            .service
            .pull(
                caller,
                &caller.user_id,
                conversation_id,
                first,
                last,
                MAX_PULL,
            )
            .await?;
        out.extend(
            messages
                .into_iter()
                .filter(|m| now.binary_search(&m.seq).is_ok()),
        );
        rest = later;
    }
    Ok(out)
}

async fn dispatch(
    gateway: &Gateway,
    caller: &Caller,
    handle: &Arc<SessionHandle>,
    request: Request,
) -> Result<Reply> {
    let session = &handle.id;
    let service = &gateway.service;
    let user = &caller.user_id;
    match request {
        Request::Ping => Ok(Reply::Pong),
        Request::MaxSeqs => Ok(Reply::MaxSeqs(service.conversations(caller, user).await?)),
        Request::Pull {
            conversation_id,
            begin,
            end,
            limit,
        } => {
            let (messages, more) = service
                .pull(caller, user, &conversation_id, begin, end, limit)
                .await?;
            Ok(Reply::Pulled { messages, more })
        }
        Request::MarkRead {
            conversation_id,
            seq,
        } => {
            service
                .mark_read(caller, Some(session.clone()), &conversation_id, seq)
                .await?;
            Ok(Reply::Done)
        }
        Request::Delivered {
            conversation_id,
            seq,
        } => {
            service
                .mark_delivered(caller, &conversation_id, seq)
                .await?;
            Ok(Reply::Done)
        }
        Request::Revoke {
            conversation_id,
            seq,
        } => {
            let notice = service
                .revoke(caller, Some(session.clone()), &conversation_id, seq)
                .await?;
            Ok(Reply::Revoked(Box::new(notice)))
        }
        Request::JoinRoom { room_id } => {
            service.join_chatroom(caller, &room_id, user).await?;
            Ok(Reply::Done)
        }
        Request::CreateConversation {
            members,
            name,
            signature,
        } => {
            let info = service
                .create_signed_conversation(caller, &members, &name, &signature)
                .await?;
            Ok(Reply::Conversation(Box::new(info)))
        }
        Request::AckNotification { id } => {
            service.ack_notification(caller, id).await?;
            Ok(Reply::Done)
        }
        Request::LeaveRoom { room_id } => {
            service.leave_chatroom(caller, &room_id, user)?;
            Ok(Reply::Done)
        }
        // OpenIM's SDK asks with no range when it has nothing to catch up.
        Request::PullRanges(ranges) if ranges.is_empty() => Ok(Reply::PulledRanges(Vec::new())),
        Request::PullRanges(ranges) => Ok(Reply::PulledRanges(
            service.pull_ranges(caller, user, &ranges).await?,
        )),
        Request::PullSeqs(conversations) => {
            let mut out = Vec::with_capacity(conversations.len());
            for (conversation_id, seqs) in conversations {
                let messages = pull_seqs(gateway, caller, &conversation_id, seqs).await?;
                out.push((conversation_id, messages));
            }
            Ok(Reply::PulledSeqs(out))
        }
        Request::Logout => {
            service.sign_out(caller, Some(session.clone())).await?;
            // The service's kick spares this session, and a kick that spares
            // a session of this node is this node's to carry out (as for a
            // login): the user's other sessions here on the platform end now.
            let user = std::slice::from_ref(user);
            let platform = Some(caller.platform);
            (gateway.registry).kick(user, platform, Some(session), None, "logged out");
            Ok(Reply::LoggedOut)
        }
        Request::OnlineStatus {
            subscribe,
            unsubscribe,
        } => {
            gateway.watchers.unwatch(handle, &unsubscribe);
            if subscribe.is_empty() {
                return Ok(Reply::OnlineStatus(Vec::new()));
            }
            let statuses = service.users_online_status(caller, &subscribe).await?;
            gateway.watchers.watch(handle, &subscribe);
            Ok(Reply::OnlineStatus(statuses))
        }
        // Sessions pipeline their sends (`handle_request`); answering one
        // here waits for its commit.
        Request::Send(req) => {
            let outcome = service
                .send_message(caller, Some(session.clone()), *req)
                .await?;
            Ok(Reply::Sent(Box::new(outcome.message)))
        }
    }
}
