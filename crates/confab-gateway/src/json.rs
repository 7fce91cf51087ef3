//! Confab's own protocol at `/ws`: JSON text frames `{type, reqID, data}`
//! (`docs/protocol.md`; the frame types are in `confab_wire`,
//! shared with `confab-client`).

use crate::codec::{Codec, EventEncoder, Frame, Protocol, Reply, Request};
use confab_core::bus::Payload;
use confab_core::message::{Content, ContentType, Message, Recipient, SessionType};
use confab_core::{ChatroomId, Error, GroupId, Result, UserId};
use confab_service::{Caller, OutgoingMessage, SendRequest};
use confab_wire::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The JSON codec. Stateless: one value serves every session.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonCodec;

/// Serialises a server frame.
fn frame<D: Serialize>(kind: &str, req_id: &str, data: Option<D>) -> Frame {
    Frame::Text(ServerFrame::ok_text(kind, req_id, data).into())
}

fn ack(req_id: &str, m: &Message) -> Frame {
    frame(
        "ack",
        req_id,
        Some(AckData {
            client_msg_id: m.client_msg_id.clone(),
            server_msg_id: m.server_msg_id.clone(),
            conversation_id: m.conversation_id.clone(),
            seq: m.seq,
            send_time: m.send_time,
        }),
    )
}

impl EventEncoder for JsonCodec {
    fn protocol(&self) -> Protocol {
        Protocol::JSON
    }

    fn event(&self, payload: &Payload) -> Option<Frame> {
        match payload {
            Payload::Message(m) => Some(frame("push", "", Some(MessageView::new(m)))),
            Payload::Read {
                reader,
                conversation_id,
                seq,
            } => Some(frame(
                "read",
                "",
                Some(ReadData {
                    user_id: reader.to_string(),
                    conversation_id: conversation_id.clone(),
                    seq: *seq,
                }),
            )),
            // Settings are read with the conversations, at sync.
            Payload::ConversationsChanged { .. }
            | Payload::Kick { .. }
            | Payload::GroupMembersChanged { .. } => None,
        }
    }

    fn kick(&self, reason: &str) -> Frame {
        frame(
            "kick",
            "",
            Some(KickData {
                reason: reason.to_owned(),
            }),
        )
    }
}

impl Codec for JsonCodec {
    /// The `reqID`, echoed in the answer.
    type Tag = String;

    fn decode(
        &self,
        caller: &Caller,
        frame: Frame,
    ) -> std::result::Result<(String, Request), (String, Error)> {
        let Frame::Text(text) = frame else {
            return Err((String::new(), Error::invalid("frames must be JSON text")));
        };
        let request: ClientFrame = serde_json::from_str(&text)
            .map_err(|e| (String::new(), Error::invalid(format!("frame: {e}"))))?;
        // PostgreSQL cannot store a NUL in text: refused at the boundary,
        // alike on both backends (as the HTTP dialects do).
        if has_nul_escape(text.as_bytes()) {
            return Err((
                request.req_id,
                Error::invalid("frame: text must not contain a NUL character (\\u0000)"),
            ));
        }
        match request_of(caller, &request) {
            Ok(r) => Ok((request.req_id, r)),
            Err(e) => Err((request.req_id, e)),
        }
    }

    fn reply(&self, req_id: &String, reply: Reply) -> Option<Frame> {
        Some(match reply {
            Reply::Pong => frame::<()>("pong", req_id, None),
            Reply::Sent(m) | Reply::Revoked(m) => ack(req_id, &m),
            Reply::MaxSeqs(list) => {
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
                frame("max_seqs", req_id, Some(MaxSeqsData { conversations }))
            }
            Reply::Pulled { messages, more } => {
                let messages = messages.iter().map(MessageView::new).collect();
                frame("pulled", req_id, Some(PulledData { messages, more }))
            }
            Reply::Done => frame::<()>("ok", req_id, None),
            // Requests of other protocols: `/ws` never decodes them.
            Reply::PulledRanges(_)
            | Reply::PulledSeqs(_)
            | Reply::LoggedOut
            | Reply::OnlineStatus(_) => frame::<()>("ok", req_id, None),
            Reply::Conversation(info) => frame(
                "conversation",
                req_id,
                Some(ConversationCreated {
                    group_id: info.group.group_id.to_string(),
                    conversation_id: confab_core::message::group_conversation_id(
                        &info.group.group_id,
                    ),
                    member_count: info.member_count,
                }),
            ),
        })
    }

    fn error(&self, req_id: &String, e: &Error) -> Frame {
        let frame: ServerFrame<()> = ServerFrame {
            kind: "error".to_owned(),
            req_id: req_id.clone(),
            err_code: err_code(e.kind()),
            err_msg: e.client_message_naming(field_name),
            data: None,
        };
        Frame::Text(serde_json::to_string(&frame).unwrap_or_default().into())
    }
}

fn request_of(caller: &Caller, request: &ClientFrame) -> Result<Request> {
    let data = request.data.as_deref();
    Ok(match request.kind.as_str() {
        "ping" => Request::Ping,
        "send" => Request::Send(Box::new(send_request(caller, data)?)),
        "get_max_seqs" => Request::MaxSeqs,
        "pull" => {
            let d: PullData = parse(data)?;
            Request::Pull {
                conversation_id: d.conversation_id,
                begin: d.begin,
                end: d.end,
                limit: d.limit,
            }
        }
        "mark_read" => {
            let d: SeqData = parse(data)?;
            Request::MarkRead {
                conversation_id: d.conversation_id,
                seq: d.seq,
            }
        }
        "delivered" => {
            let d: SeqData = parse(data)?;
            Request::Delivered {
                conversation_id: d.conversation_id,
                seq: d.seq,
            }
        }
        "revoke" => {
            let d: SeqData = parse(data)?;
            Request::Revoke {
                conversation_id: d.conversation_id,
                seq: d.seq,
            }
        }
        "create_conversation" => {
            let d: CreateConversationData = parse(data)?;
            Request::CreateConversation {
                members: d.members,
                name: d.name,
                signature: d.signature,
            }
        }
        "join_room" | "leave_room" => {
            let d: RoomData = parse(data)?;
            let room_id = ChatroomId::parse("data.roomID", &d.room_id)?;
            if request.kind == "join_room" {
                Request::JoinRoom { room_id }
            } else {
                Request::LeaveRoom { room_id }
            }
        }
        other => return Err(Error::invalid(format!(
            "type: unknown frame type {other:?}; expected ping, send, get_max_seqs, pull, mark_read, delivered, revoke, join_room, leave_room or create_conversation"
        ))),
    })
}

fn parse<T: DeserializeOwned>(data: Option<&serde_json::value::RawValue>) -> Result<T> {
    let text = data.map(|d| d.get()).unwrap_or("{}");
    // Parsed plainly first: tracking the path costs a fifth of a frame's
    // decoding, and is only needed to name the field of an error.
    if let Ok(parsed) = serde_json::from_str(text) {
        return Ok(parsed);
    }
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

fn send_request(
    caller: &Caller,
    data: Option<&serde_json::value::RawValue>,
) -> Result<SendRequest> {
    let d: SendData = parse(data)?;
    let to = match SessionType::from_i32(d.session_type) {
        Some(SessionType::Single) => Recipient::User(UserId::parse("recvID", &d.recv_id)?),
        Some(t) if t.is_group() => {
            let group = if d.group_id.is_empty() {
                &d.recv_id
            } else {
                &d.group_id
            };
            Recipient::Group(GroupId::parse("groupID", group)?)
        }
        Some(SessionType::Chatroom) => {
            Recipient::Chatroom(ChatroomId::parse("recvID", &d.recv_id)?)
        }
        Some(SessionType::Notification) => {
            return Err(Error::invalid(
                "sessionType: notifications are sent by the system",
            ))
        }
        _ => {
            return Err(Error::invalid(format!(
                "data.sessionType: unknown session type {}",
                d.session_type
            )))
        }
    };
    let kind = ContentType::parse(d.content_type)
        .map_err(|e| Error::invalid(e.client_message_naming(field_name)))?;
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use confab_core::{Platform, UserId};

    fn text(frame: Option<Frame>) -> String {
        match frame {
            Some(Frame::Text(t)) => t.to_string(),
            other => panic!("expected text, got {other:?}"),
        }
    }

    fn caller() -> Caller {
        Caller {
            user_id: UserId::parse("u", "alice").unwrap(),
            platform: Platform::Web,
            is_admin: false,
        }
    }

    /// The bytes of `/ws` are the protocol: these are what clients parse.
    #[test]
    fn frames_are_byte_for_byte_the_protocol() {
        let codec = JsonCodec;
        let req_id = "7".to_owned();
        assert_eq!(
            text(codec.reply(&req_id, Reply::Pong)),
            r#"{"type":"pong","reqID":"7","errCode":0}"#
        );
        assert_eq!(
            text(codec.reply(&req_id, Reply::Done)),
            r#"{"type":"ok","reqID":"7","errCode":0}"#
        );
        assert_eq!(
            text(Some(
                codec.error(&String::new(), &Error::invalid("frame: x"))
            )),
            r#"{"type":"error","errCode":803,"errMsg":"frame: x"}"#
        );
        assert_eq!(
            text(Some(codec.kick("bye"))),
            r#"{"type":"kick","errCode":0,"data":{"reason":"bye"}}"#
        );
        let read = Payload::Read {
            reader: UserId::parse("u", "bob").unwrap(),
            conversation_id: "si_alice_bob".into(),
            seq: 3,
        };
        assert_eq!(
            text(codec.event(&read)),
            r#"{"type":"read","errCode":0,"data":{"userID":"bob","conversationID":"si_alice_bob","seq":3}}"#
        );
    }

    #[test]
    fn decoding_names_what_is_wrong() {
        let codec = JsonCodec;
        let decode = |t: &str| codec.decode(&caller(), Frame::Text(t.into()));
        assert!(matches!(
            decode(r#"{"type":"ping","reqID":"1"}"#),
            Ok((id, Request::Ping)) if id == "1"
        ));
        let (id, e) = decode(
            r#"{"type":"pull","reqID":"9","data":{"conversationID":"si_\u0000","begin":1,"end":2}}"#,
        )
        .unwrap_err();
        assert_eq!(id, "9");
        assert!(e.client_message().contains("NUL"), "{}", e.client_message());
        let (id, e) = decode(r#"{"type":"nope","reqID":"2"}"#).unwrap_err();
        assert_eq!(id, "2");
        assert!(e
            .client_message()
            .starts_with("type: unknown frame type \"nope\""));
        let (id, e) = codec
            .decode(&caller(), Frame::Binary(vec![1u8].into()))
            .unwrap_err();
        assert_eq!(
            (id.as_str(), e.client_message().as_str()),
            ("", "frames must be JSON text")
        );
        match decode(
            r#"{"type":"send","reqID":"3","data":{"sessionType":2,"groupID":"g1","contentType":101,"content":{"text":"hi"}}}"#,
        ) {
            Ok((_, Request::Send(req))) => {
                assert_eq!((req.to.id(), req.message.sender.as_str()), ("g1", "alice"));
                assert_eq!(req.message.sender_platform, 5);
            }
            other => panic!("expected a send, got {other:?}"),
        }
    }

    #[test]
    fn errors_name_fields_as_before() {
        let codec = JsonCodec;
        let e = Error::invalid_field(
            confab_core::Field::ClientMessageId,
            "must be at most 64 characters",
        );
        assert_eq!(
            text(Some(codec.error(&"7".to_owned(), &e))),
            r#"{"type":"error","reqID":"7","errCode":803,"errMsg":"clientMsgID: must be at most 64 characters"}"#
        );
        let decode = |t: &str| {
            codec
                .decode(&caller(), Frame::Text(t.to_owned().into()))
                .map(|_| ())
                .unwrap_err()
                .1
                .client_message()
        };
        assert_eq!(
            decode(
                r#"{"type":"send","data":{"sessionType":4,"recvID":"b","contentType":101,"content":{"text":"x"}}}"#
            ),
            "sessionType: notifications are sent by the system"
        );
        assert_eq!(
            decode(
                r#"{"type":"send","data":{"sessionType":1,"recvID":"","contentType":101,"content":{"text":"x"}}}"#
            ),
            "recvID: must not be empty"
        );
        assert_eq!(
            decode(
                r#"{"type":"send","data":{"sessionType":1,"recvID":"b","contentType":1201,"content":{}}}"#
            ),
            "contentType: 1201 is not a chat content type (101..114)"
        );
    }
}
