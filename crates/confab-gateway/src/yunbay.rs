//! The yunbay API's WebSocket at `/v1/ws` (`docs/yunbay.md`): the server
//! pushes notifications as text frames `{id, type, action, data, ack}`;
//! the client acks those that ask with `{"action": "ack", "id": N}`. The
//! protocol has no delivery receipts and no sync, so the server tracks
//! delivery (a session first receives what it missed; what it writes counts
//! as delivered); nor client heartbeats, so the server pings quiet clients.

use crate::codec::{Codec, EventEncoder, Frame, Protocol, Reply, Request};
use confab_core::bus::Payload;
use confab_core::Error;
use confab_service::{Caller, SentNotification};
use confab_wire::yunbay::{failure, reason, ClientFrame, Push, ACK};
use serde_json::json;

/// The yunbay codec. Stateless: one value serves every session.
#[derive(Debug, Clone, Copy, Default)]
pub struct YunbayCodec;

fn text(value: &impl serde::Serialize) -> Frame {
    Frame::Text(serde_json::to_string(value).unwrap_or_default().into())
}

impl EventEncoder for YunbayCodec {
    fn protocol(&self) -> Protocol {
        Protocol::YUNBAY
    }

    /// Only notifications: chat and change notices are not this protocol's.
    fn event(&self, payload: &Payload) -> Option<Frame> {
        match payload {
            Payload::Message(m) => {
                SentNotification::from_message(m).and_then(|n| self.notification(&n))
            }
            _ => None,
        }
    }

    /// A control notification (`type` 1) named `kick`.
    fn kick(&self, reason: &str) -> Frame {
        text(
            &json!({"id": 0, "type": 1, "action": "kick", "data": {"reason": reason}, "ack": false}),
        )
    }

    fn notification(&self, n: &SentNotification) -> Option<Frame> {
        Some(text(&Push {
            id: n.id,
            kind: n.kind,
            action: &n.action,
            data: &n.payload,
            ack: n.ack,
        }))
    }

    fn tracks_delivery(&self) -> bool {
        true
    }
}

impl Codec for YunbayCodec {
    type Tag = ();

    fn decode(&self, _caller: &Caller, frame: Frame) -> Result<((), Request), ((), Error)> {
        let bytes: &[u8] = match &frame {
            Frame::Text(t) => t.as_bytes(),
            Frame::Binary(b) => b,
        };
        let parsed: ClientFrame = serde_json::from_slice(bytes).map_err(|e| {
            (
                (),
                Error::invalid(format!("frame: not a JSON object with an action: {e}")),
            )
        })?;
        match parsed.action.as_str() {
            ACK => match parsed.id {
                Some(id) => Ok(((), Request::AckNotification { id })),
                None => Err(((), Error::invalid("id: missing"))),
            },
            "ping" => Ok(((), Request::Ping)),
            other => Err((
                (),
                Error::invalid(format!(
                    "action: unknown action {other:?}, expected \"ack\""
                )),
            )),
        }
    }

    fn reply(&self, _tag: &(), reply: Reply) -> Option<Frame> {
        match reply {
            Reply::Pong => Some(text(&json!({"action": "pong"}))),
            // An ack is answered by not sending the notification again.
            _ => None,
        }
    }

    /// The envelope of the HTTP routes: `{ok: false, reason, err_msg}`.
    fn error(&self, _tag: &(), error: &Error) -> Frame {
        let (code, _) = reason(error.kind());
        text(&failure(code, &error.client_message()))
    }

    fn pings_clients(&self) -> bool {
        true
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use confab_core::{Platform, UserId};

    fn caller() -> Caller {
        Caller {
            user_id: UserId::parse("u", "7").unwrap(),
            platform: Platform::Ios,
            is_admin: false,
        }
    }

    #[test]
    fn frames() {
        let codec = YunbayCodec;
        let n = SentNotification {
            id: 12,
            kind: 0,
            action: "lotterys_notify".into(),
            payload: json!({"lotterys_id": 1}),
            ack: true,
            filter: None,
        };
        assert_eq!(
            codec.notification(&n),
            Some(Frame::Text(
                r#"{"id":12,"type":0,"action":"lotterys_notify","data":{"lotterys_id":1},"ack":true}"#.into()
            ))
        );
        let ack = codec.decode(&caller(), Frame::Text(r#"{"action":"ack","id":12}"#.into()));
        assert!(matches!(ack, Ok(((), Request::AckNotification { id: 12 }))));
        let bad = codec.decode(&caller(), Frame::Text("nope".into()));
        let ((), e) = bad.err().unwrap();
        let Frame::Text(text) = codec.error(&(), &e) else {
            panic!("a text frame")
        };
        let error: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            error,
            json!({"ok": false, "reason": "ERR_ARGS_INVALID", "err_msg": e.client_message()})
        );
        let unknown = codec.decode(&caller(), Frame::Text(r#"{"action":"broadcast"}"#.into()));
        assert!(unknown.is_err(), "clients cannot broadcast");
    }
}
