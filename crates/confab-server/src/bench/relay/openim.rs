//! The relay's OpenIM v3 gateway at `/`: the frames Confab's v3 gateway
//! writes (the greeting, binary JSON envelopes with base64 protobuf, the
//! sender's echo), with none of its work. So a `--protocol openim`
//! baseline carries the same wire costs on both sides (base64, protobuf,
//! the envelope, one echo frame per send) and the fraction measures what
//! Confab adds beyond them.

use super::{open, route, Relay, Routed, Wire};
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use confab_client::openim_ws::{
    decode_data, encode_data, ident, RequestFrame, ResponseFrame, PONG,
};
use confab_openim_pb::openim::sdkws::{MsgData, PullMsgs, PushMessages, UserSendMsgResp};
use confab_openim_pb::Message as _;
use confab_wire::openim_v3::{openim_conversation_id, SUPER_GROUP};
use futures_util::StreamExt;
use serde::Deserialize;
use std::sync::Arc;
use tokio::sync::mpsc;

const GREETING: &str = r#"{"errCode":0,"errDlt":"","errMsg":""}"#;

/// OpenIM's code for a request it does not take (ArgsError).
const ARGS_ERROR: i64 = 1001;

#[derive(Deserialize)]
pub(super) struct Params {
    /// The user: the relay's tokens are user ids.
    token: String,
}

pub(super) async fn connect(
    State(r): State<Arc<Relay>>,
    Query(params): Query<Params>,
    ws: WebSocketUpgrade,
) -> Response {
    ws.on_upgrade(move |socket| session(r, params.token, socket))
}

fn frame(resp: &ResponseFrame) -> WsMessage {
    WsMessage::Binary(serde_json::to_vec(resp).unwrap_or_default().into())
}

async fn session(r: Arc<Relay>, user: String, mut socket: WebSocket) {
    // As Confab's gateway: the greeting before the session registers.
    if socket.send(WsMessage::Text(GREETING.into())).await.is_err() {
        return;
    }
    let (sink, mut stream) = socket.split();
    let (id, tx, writer) = open(&r, &user, Wire::OpenIm, sink);
    while let Some(Ok(message)) = stream.next().await {
        let bytes = match message {
            WsMessage::Binary(b) => b,
            WsMessage::Text(t) => {
                let kind = serde_json::from_str::<serde_json::Value>(&t).ok();
                if kind.as_ref().and_then(|v| v["type"].as_str()) == Some("ping") {
                    let _ = tx.try_send(WsMessage::Text(PONG.into()));
                }
                continue;
            }
            WsMessage::Close(_) => break,
            _ => continue,
        };
        let Ok(req) = serde_json::from_slice::<RequestFrame>(&bytes) else {
            continue;
        };
        let msg = (req.req_identifier == ident::SEND)
            .then(|| decode_data(&req.data).ok())
            .flatten()
            .and_then(|b| MsgData::decode(b.as_slice()).ok());
        match msg {
            Some(msg) => relay(&r, &user, id, &tx, &req, msg),
            None => {
                let _ = tx.try_send(frame(&ResponseFrame {
                    req_identifier: req.req_identifier,
                    msg_incr: req.msg_incr,
                    operation_id: req.operation_id,
                    err_code: ARGS_ERROR,
                    err_msg: "the relay takes sends (1003) only".into(),
                    data: String::new(),
                }));
            }
        }
    }
    super::close(&r, &user, id, writer);
}

/// Answers a send, echoes it to its sender (with the send's
/// `operationID`, as Confab does) and pushes it, encoded once, to the
/// recipients' sessions.
fn relay(
    r: &Relay,
    user: &str,
    session: u64,
    tx: &mpsc::Sender<WsMessage>,
    req: &RequestFrame,
    mut msg: MsgData,
) {
    let group = msg.session_type == 2 || msg.session_type == SUPER_GROUP;
    let to = if group { &msg.group_id } else { &msg.recv_id };
    let Routed {
        conversation_id,
        seq,
        targets,
    } = route(r, user, session, Wire::OpenIm, to, group);
    let now = confab_core::now_millis();
    let server_msg_id = format!("{conversation_id}-{seq}");
    let ack = UserSendMsgResp {
        server_msg_id: server_msg_id.clone(),
        client_msg_id: msg.client_msg_id.clone(),
        send_time: now,
    };
    let _ = tx.try_send(frame(&ResponseFrame {
        req_identifier: ident::SEND,
        msg_incr: req.msg_incr.clone(),
        operation_id: req.operation_id.clone(),
        err_code: 0,
        err_msg: String::new(),
        data: encode_data(&ack.encode_to_vec()),
    }));
    user.clone_into(&mut msg.send_id);
    msg.server_msg_id = server_msg_id;
    msg.seq = seq;
    msg.send_time = now;
    msg.status = 2;
    if group {
        msg.session_type = SUPER_GROUP;
    }
    let mut push = PushMessages::default();
    push.msgs.insert(
        openim_conversation_id(&conversation_id),
        PullMsgs {
            msgs: vec![msg],
            ..Default::default()
        },
    );
    let data = encode_data(&push.encode_to_vec());
    let pushed = |operation_id: &str| {
        frame(&ResponseFrame {
            req_identifier: ident::PUSH,
            operation_id: operation_id.to_owned(),
            data: data.clone(),
            ..Default::default()
        })
    };
    // Confab echoes 10 ms later, so that the SDK has read the answer
    // first; the relay's queue keeps that order without a timer.
    let _ = tx.try_send(pushed(&req.operation_id));
    let push = pushed("");
    for q in targets {
        let _ = q.try_send(push.clone());
    }
}
