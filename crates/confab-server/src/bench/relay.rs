//! The bench's baseline (`--baseline`): a bare relay, started in the
//! bench's own process, that speaks the wire shapes the bench uses (the
//! token and group routes, `/ws` frames, and OpenIM v3's gateway at `/`,
//! in `openim.rs`) and does none of Confab's work: no authentication (a
//! token is the user id), no storage, no rules, no group commit. Seqs are
//! counters in memory; a send is acked at once and pushed to the
//! recipients' sessions. What Confab reaches of it, in one run on one
//! machine, is a figure another machine can compare.

mod openim;

use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use confab_core::message::{Message, MessageStatus, SessionType};
use confab_core::UserId;
use confab_wire::{AckData, ClientFrame, MessageView, SendData, ServerFrame};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Frames queued for one session before the relay drops its pushes.
const QUEUE: usize = 1024;

/// The wire of a session. A push goes only to sessions of its sender's
/// wire: the bench's users of one run all speak one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wire {
    Json,
    OpenIm,
}

/// A session: its id, its wire and the queue to its writer.
type Session = (u64, Wire, mpsc::Sender<WsMessage>);

#[derive(Default)]
struct Relay {
    /// Each user's sessions.
    sessions: Mutex<HashMap<String, Vec<Session>>>,
    groups: Mutex<HashMap<String, Vec<String>>>,
    seqs: Mutex<HashMap<String, i64>>,
    next: std::sync::atomic::AtomicU64,
}

/// Starts the relay on a free port of 127.0.0.1; its base URL.
pub async fn start() -> anyhow::Result<String> {
    let relay = Arc::new(Relay::default());
    let app = Router::new()
        .route("/auth/user_token", post(token))
        .route("/auth/user_register", post(token))
        .route("/group/create_group", post(create_group))
        .route("/group/invite_user_to_group", post(invite))
        .route("/ws", get(connect))
        .route("/", get(openim::connect))
        .with_state(relay);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the baseline relay stopped");
        }
    });
    Ok(url)
}

fn ok(data: Value) -> Json<Value> {
    Json(json!({"errCode": 0, "errMsg": "", "data": data}))
}

/// Any user id is a user, and its token is the id.
async fn token(Json(body): Json<Value>) -> Json<Value> {
    let user = body["userID"].as_str().unwrap_or_default();
    ok(json!({"token": user, "expiredTime": 0}))
}

async fn create_group(State(r): State<Arc<Relay>>, Json(body): Json<Value>) -> Json<Value> {
    let n = r.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let group_id = format!("relay-g{n}");
    let mut members = vec![body["ownerUserID"].as_str().unwrap_or_default().to_owned()];
    if let Some(list) = body["memberList"].as_array() {
        members.extend(
            list.iter()
                .filter_map(|m| m["userID"].as_str().map(str::to_owned)),
        );
    }
    lock(&r.groups).insert(group_id.clone(), members);
    ok(json!({"groupID": group_id}))
}

async fn invite(State(r): State<Arc<Relay>>, Json(body): Json<Value>) -> Json<Value> {
    let group_id = body["groupID"].as_str().unwrap_or_default();
    let invited = body["invitedUserIDList"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|u| u.as_str().map(str::to_owned))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    if let Some(members) = lock(&r.groups).get_mut(group_id) {
        members.extend(invited);
    }
    ok(json!([]))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Deserialize)]
struct ConnectParams {
    token: String,
}

async fn connect(
    State(r): State<Arc<Relay>>,
    Query(params): Query<ConnectParams>,
    ws: WebSocketUpgrade,
) -> Response {
    ws.on_upgrade(move |socket| session(r, params.token, socket))
}

fn text<D: serde::Serialize>(kind: &str, req_id: &str, data: Option<D>) -> WsMessage {
    WsMessage::Text(ServerFrame::ok_text(kind, req_id, data).into())
}

/// Registers a session of `user` and starts its writer, which feeds the
/// frames queued for it and flushes once the queue is empty.
fn open(
    r: &Relay,
    user: &str,
    wire: Wire,
    mut sink: futures_util::stream::SplitSink<WebSocket, WsMessage>,
) -> (u64, mpsc::Sender<WsMessage>, tokio::task::JoinHandle<()>) {
    let id = r.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (tx, mut rx) = mpsc::channel::<WsMessage>(QUEUE);
    lock(&r.sessions)
        .entry(user.to_owned())
        .or_default()
        .push((id, wire, tx.clone()));
    let writer = tokio::spawn(async move {
        while let Some(m) = rx.recv().await {
            if sink.feed(m).await.is_err() {
                return;
            }
            while let Ok(m) = rx.try_recv() {
                if sink.feed(m).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    });
    (id, tx, writer)
}

fn close(r: &Relay, user: &str, id: u64, writer: tokio::task::JoinHandle<()>) {
    if let Some(list) = lock(&r.sessions).get_mut(user) {
        list.retain(|(s, _, _)| *s != id);
    }
    writer.abort();
}

async fn session(r: Arc<Relay>, user: String, socket: WebSocket) {
    let (sink, mut stream) = socket.split();
    let (id, tx, writer) = open(&r, &user, Wire::Json, sink);
    while let Some(Ok(WsMessage::Text(t))) = stream.next().await {
        let Ok(frame) = serde_json::from_str::<ClientFrame>(&t) else {
            continue;
        };
        match frame.kind.as_str() {
            "ping" => {
                let _ = tx.try_send(text::<()>("pong", &frame.req_id, None));
            }
            "send" => {
                let Some(Ok(data)) = frame
                    .data
                    .map(|d| serde_json::from_str::<SendData>(d.get()))
                else {
                    continue;
                };
                relay(&r, &user, id, &tx, &frame.req_id, data);
            }
            _ => {}
        }
    }
    close(&r, &user, id, writer);
}

/// Where a send goes: its conversation (Confab's id), the seq it takes
/// there, and the queues of the recipients' sessions of `wire` but the
/// sending one.
struct Routed {
    conversation_id: String,
    seq: i64,
    targets: Vec<mpsc::Sender<WsMessage>>,
}

fn route(r: &Relay, user: &str, session: u64, wire: Wire, to: &str, group: bool) -> Routed {
    let (conversation_id, recipients) = if group {
        let members = lock(&r.groups).get(to).cloned().unwrap_or_default();
        (format!("g_{to}"), members)
    } else {
        let (a, b) = if user <= to { (user, to) } else { (to, user) };
        (format!("si_{a}_{b}"), vec![user.to_owned(), to.to_owned()])
    };
    let seq = {
        let mut seqs = lock(&r.seqs);
        let seq = seqs.entry(conversation_id.clone()).or_default();
        *seq += 1;
        *seq
    };
    let targets = {
        let sessions = lock(&r.sessions);
        recipients
            .iter()
            .filter_map(|u| sessions.get(u))
            .flatten()
            .filter(|(s, w, _)| *s != session && *w == wire)
            .map(|(_, _, q)| q.clone())
            .collect()
    };
    Routed {
        conversation_id,
        seq,
        targets,
    }
}

/// Acks a send and pushes it to the recipients' sessions but the sender's.
fn relay(
    r: &Relay,
    user: &str,
    session: u64,
    tx: &mpsc::Sender<WsMessage>,
    req_id: &str,
    data: SendData,
) {
    let group = data.session_type == 2;
    let to = if group { &data.group_id } else { &data.recv_id };
    let Routed {
        conversation_id,
        seq,
        targets,
    } = route(r, user, session, Wire::Json, to, group);
    let message = Message {
        conversation_id: conversation_id.clone(),
        seq,
        server_msg_id: format!("{conversation_id}-{seq}"),
        client_msg_id: data.client_msg_id.clone(),
        sender_id: UserId::from_trusted(user.to_owned()),
        sender_platform: 1,
        sender_nickname: String::new(),
        sender_face_url: String::new(),
        session_type: if group {
            SessionType::Group
        } else {
            SessionType::Single
        },
        recv_id: to.clone(),
        content_type: data.content_type,
        content: data.content.to_string(),
        send_time: confab_core::now_millis(),
        status: MessageStatus::Normal,
        at_user_ids: Vec::new(),
        ex: String::new(),
    };
    let ack = AckData {
        client_msg_id: message.client_msg_id.clone(),
        server_msg_id: message.server_msg_id.clone(),
        conversation_id,
        seq,
        send_time: message.send_time,
    };
    let _ = tx.try_send(text("ack", req_id, Some(ack)));
    // Encoded once, shared by every recipient.
    let push = text("push", "", Some(MessageView::new(&message)));
    for q in targets {
        let _ = q.try_send(push.clone());
    }
}
