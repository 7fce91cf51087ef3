//! OpenIM v3's client gateway (`docs/openim-client.md`): the protocol of
//! OpenIM's official SDKs, served at `/` for upgrades with `sendID` and
//! `token`. One more codec of the one session loop: the JSON envelope and
//! its base64 protobuf are in `envelope.rs`, messages and conversation ids
//! in OpenIM's words in `convert.rs`.

mod envelope;
mod send;

use confab_wire::openim_v3::{
    self as convert, confab_conversation_id, openim_conversation_id, tips, v3_err_code,
};

use crate::codec::{Codec, EventEncoder, Frame, Protocol, Reply, Request};
use confab_core::bus::Payload;
use confab_core::message::UserConversation;
use confab_core::{now_millis, Error};
use confab_openim_pb::openim::{msg as pb_msg, sdkws};
use confab_openim_pb::Message as _;
use confab_service::{Caller, SeqRange};
use envelope::{ident, Req, Resp};
use std::collections::BTreeMap;

/// What ties an answer to its request.
#[derive(Debug, Default)]
pub struct Tag {
    ident: i32,
    msg_incr: String,
    operation_id: String,
    /// The conversations a 1005 or 1006 asked about (OpenIM ids), each of
    /// which gets an entry in the answer.
    asked: Vec<String>,
}

/// The v3 codec; `gzip` when the client connected with
/// `compression=gzip` (a protocol of its own: its bytes differ).
#[derive(Debug, Clone, Copy)]
pub struct OpenImCodec {
    gzip: bool,
    /// Largest frame a gzipped frame may unpack to.
    max_unzipped: usize,
}

impl Default for OpenImCodec {
    fn default() -> Self {
        OpenImCodec::PLAIN
    }
}

/// How long after its ack a sender is pushed its own message.
const ECHO_DELAY: std::time::Duration = std::time::Duration::from_millis(10);

/// Largest frame a gzipped frame may unpack to, unless the gateway says
/// (`with_max_unzipped`).
const MAX_UNZIPPED: usize = 1 << 20;

impl OpenImCodec {
    pub const PLAIN: OpenImCodec = OpenImCodec {
        gzip: false,
        max_unzipped: MAX_UNZIPPED,
    };
    pub const GZIP: OpenImCodec = OpenImCodec {
        gzip: true,
        max_unzipped: MAX_UNZIPPED,
    };

    /// The codec whose gzipped frames may unpack to `bytes` at most. The
    /// gateway gives its frame limit: a frame of repeated empty protobuf
    /// records packs a thousandfold and decodes to some eighty times its
    /// unpacked size, so a gzip client must not send more than a plain one.
    pub const fn with_max_unzipped(self, bytes: usize) -> OpenImCodec {
        OpenImCodec {
            max_unzipped: bytes,
            ..self
        }
    }

    /// The text frame sent right after the upgrade when the client asked
    /// for it (`isMsgResp=true`): success, or why the connection is refused.
    pub fn greeting(error: Option<&Error>) -> Frame {
        let body = match error {
            None => serde_json::json!({"errCode": 0, "errMsg": "", "errDlt": ""}),
            Some(e) => serde_json::json!({
                "errCode": v3_err_code(e.kind()),
                "errMsg": e.client_message(),
                "errDlt": "",
            }),
        };
        Frame::Text(body.to_string().into())
    }

    fn frame(&self, resp: &Resp<'_>) -> Frame {
        let json = serde_json::to_vec(resp).unwrap_or_default();
        if self.gzip {
            Frame::Binary(envelope::gzip(&json).into())
        } else {
            Frame::Binary(json.into())
        }
    }

    fn push(&self, ident: i32, data: &[u8]) -> Frame {
        self.push_for(ident, "", data)
    }

    fn push_for(&self, ident: i32, operation_id: &str, data: &[u8]) -> Frame {
        self.frame(&Resp {
            req_identifier: ident,
            msg_incr: "",
            operation_id,
            err_code: 0,
            err_msg: "",
            data: convert::encode_data(data),
        })
    }

    fn answer(&self, tag: &Tag, data: &[u8]) -> Frame {
        self.frame(&Resp {
            req_identifier: tag.ident,
            msg_incr: &tag.msg_incr,
            operation_id: &tag.operation_id,
            err_code: 0,
            err_msg: "",
            data: convert::answer_data(data),
        })
    }
}

impl EventEncoder for OpenImCodec {
    fn protocol(&self) -> Protocol {
        if self.gzip {
            Protocol("openim+gzip")
        } else {
            Protocol("openim")
        }
    }

    fn event(&self, payload: &Payload) -> Option<Frame> {
        match payload {
            Payload::Message(m) => {
                let push = push_messages(std::slice::from_ref(&**m));
                Some(self.push(ident::PUSH, &push.encode_to_vec()))
            }
            Payload::Read {
                reader,
                conversation_id,
                seq,
            } => {
                let mut push = read_receipt(reader.as_str(), conversation_id, *seq);
                // The reader's other devices ignore a receipt of their own
                // user's: they learn the new unread count by syncing their
                // conversations, which this tells them to.
                merge(
                    &mut push.notification_msgs,
                    conversations_changed(reader.as_str(), std::slice::from_ref(conversation_id))
                        .notification_msgs,
                );
                Some(self.push(ident::PUSH, &push.encode_to_vec()))
            }
            Payload::ConversationsChanged {
                user_id,
                conversation_ids,
            } => {
                let push = conversations_changed(user_id.as_str(), conversation_ids);
                Some(self.push(ident::PUSH, &push.encode_to_vec()))
            }
            Payload::Kick { .. } | Payload::GroupMembersChanged { .. } => None,
        }
    }

    fn kick(&self, _reason: &str) -> Frame {
        self.push(ident::KICK, &[])
    }

    /// A 2005 push (no `msgIncr`: the SDK tells it from an answer so).
    fn status(
        &self,
        user: &confab_core::UserId,
        platforms: &[confab_core::Platform],
    ) -> Option<Frame> {
        let tips = sdkws::SubUserOnlineStatusTips {
            subscribers: vec![sdkws::SubUserOnlineStatusElem {
                user_id: user.to_string(),
                online_platform_ids: platforms.iter().map(|p| p.id()).collect(),
            }],
        };
        Some(self.push(ident::SUBSCRIBE_STATUS, &tips.encode_to_vec()))
    }
}

/// Messages as pushed or pulled, each where `convert::place` puts it:
/// chat under its conversation in `msgs`, notifications under OpenIM's
/// notification conversation (`n_...`) in `notificationMsgs`.
fn push_messages(messages: &[confab_core::message::Message]) -> sdkws::PushMessages {
    let mut push = sdkws::PushMessages::default();
    for m in messages {
        let id = openim_conversation_id(&m.conversation_id);
        let placed = convert::place(m);
        if let Some(chat) = placed.chat {
            push.msgs.entry(id.clone()).or_default().msgs.push(chat);
        }
        if let Some(notice) = placed.notification {
            let key = match id
                .strip_prefix("sg_")
                .or_else(|| id.strip_prefix("si_"))
                .or_else(|| id.strip_prefix("sn_"))
            {
                Some(rest) => format!("n_{rest}"),
                None => id,
            };
            push.notification_msgs
                .entry(key)
                .or_default()
                .msgs
                .push(notice);
        }
    }
    push
}

impl Codec for OpenImCodec {
    type Tag = Tag;

    fn decode(&self, caller: &Caller, frame: Frame) -> Result<(Tag, Request), (Tag, Error)> {
        let bytes = match frame {
            Frame::Text(text) => {
                return match serde_json::from_str::<envelope::TextFrame>(&text) {
                    Ok(t) if t.kind == "ping" => Ok((Tag::default(), Request::Ping)),
                    _ => Err((
                        Tag::default(),
                        Error::invalid("frame: text frames are {\"type\":\"ping\"}"),
                    )),
                };
            }
            Frame::Binary(bytes) => bytes,
        };
        let unzipped;
        let json: &[u8] = if self.gzip {
            unzipped = envelope::gunzip(&bytes, self.max_unzipped)
                .map_err(|e| (Tag::default(), Error::invalid(e)))?;
            &unzipped
        } else {
            &bytes
        };
        let req: Req = serde_json::from_slice(json)
            .map_err(|e| (Tag::default(), Error::invalid(format!("frame: {e}"))))?;
        let mut tag = Tag {
            ident: req.req_identifier,
            msg_incr: req.msg_incr.clone(),
            operation_id: req.operation_id.clone(),
            asked: Vec::new(),
        };
        match request_of(caller, &req, &mut tag) {
            Ok(r) => Ok((tag, r)),
            Err(e) => Err((tag, e)),
        }
    }

    fn reply(&self, tag: &Tag, reply: Reply) -> Option<Frame> {
        let data = match reply {
            // A text ping is answered in text; a 2004 with its empty reply.
            Reply::Pong if tag.ident == 0 => return Some(Frame::Text(envelope::PONG.into())),
            Reply::Pong | Reply::Done | Reply::LoggedOut => Vec::new(),
            Reply::Sent(m) => sdkws::UserSendMsgResp {
                server_msg_id: m.server_msg_id.clone(),
                client_msg_id: m.client_msg_id.clone(),
                send_time: m.send_time,
            }
            .encode_to_vec(),
            Reply::MaxSeqs(list) if tag.ident == ident::GET_NEWEST_SEQ => {
                let mut resp = sdkws::GetMaxSeqResp::default();
                for c in &list {
                    let id = openim_conversation_id(&c.conversation_id);
                    resp.min_seqs.insert(id.clone(), c.min_seq);
                    resp.max_seqs.insert(id, c.max_seq);
                }
                resp.encode_to_vec()
            }
            Reply::MaxSeqs(list) => read_and_max_seqs(&list, &tag.asked).encode_to_vec(),
            Reply::PulledRanges(ranges) => {
                let mut resp = sdkws::PullMessageBySeqsResp::default();
                for r in ranges {
                    let id = openim_conversation_id(&r.conversation_id);
                    let push = push_messages(&r.messages);
                    resp.msgs.entry(id.clone()).or_default();
                    merge(&mut resp.msgs, push.msgs);
                    merge(&mut resp.notification_msgs, push.notification_msgs);
                    if let Some(entry) = resp.msgs.get_mut(&id) {
                        entry.is_end = !r.more;
                    }
                }
                resp.encode_to_vec()
            }
            Reply::PulledSeqs(conversations) => {
                let mut resp = pb_msg::GetSeqMessageResp::default();
                for id in &tag.asked {
                    resp.msgs.entry(id.clone()).or_default().is_end = true;
                }
                for (_, messages) in conversations {
                    let push = push_messages(&messages);
                    merge(&mut resp.msgs, push.msgs);
                    merge(&mut resp.notification_msgs, push.notification_msgs);
                }
                resp.encode_to_vec()
            }
            Reply::OnlineStatus(users) => sdkws::SubUserOnlineStatusTips {
                subscribers: users
                    .into_iter()
                    .map(|(user, platforms)| sdkws::SubUserOnlineStatusElem {
                        user_id: user.to_string(),
                        online_platform_ids: platforms.iter().map(|p| p.id()).collect(),
                    })
                    .collect(),
            }
            .encode_to_vec(),
            // What Confab's other protocols answer has no v3 request.
            Reply::Pulled { .. } | Reply::Revoked(_) | Reply::Conversation(_) => Vec::new(),
        };
        Some(self.answer(tag, &data))
    }

    /// The push of the sender's own message, with the send's
    /// `operationID`: the SDK takes its seq from it, and by that id knows
    /// it for its own (not new, not unread), provided it comes after the
    /// ack has been handled, hence a moment later.
    fn echo(
        &self,
        tag: &Tag,
        message: &confab_core::message::Message,
    ) -> Option<(Frame, std::time::Duration)> {
        if message.seq == 0 {
            return None;
        }
        let push = push_messages(std::slice::from_ref(message));
        let frame = self.push_for(ident::PUSH, &tag.operation_id, &push.encode_to_vec());
        Some((frame, ECHO_DELAY))
    }

    fn error(&self, tag: &Tag, e: &Error) -> Frame {
        self.frame(&Resp {
            req_identifier: tag.ident,
            msg_incr: &tag.msg_incr,
            operation_id: &tag.operation_id,
            err_code: v3_err_code(e.kind()),
            err_msg: &e.client_message_naming(confab_wire::field_name),
            data: String::new(),
        })
    }

    /// OpenIM's gateway pings its web clients; quiet ones are pinged here.
    fn pings_clients(&self) -> bool {
        true
    }
}

/// OpenIM's conversation change (1300, `ConversationUpdateTips`), upon
/// which the SDK syncs its conversations.
fn conversations_changed(user: &str, conversation_ids: &[String]) -> sdkws::PushMessages {
    let ids: Vec<String> = conversation_ids
        .iter()
        .map(|id| openim_conversation_id(id))
        .collect();
    let now = now_millis();
    let notice = sdkws::MsgData {
        send_id: user.to_owned(),
        recv_id: user.to_owned(),
        client_msg_id: format!("conv_{user}_{now}_{}", ids.join(",")),
        session_type: 1,
        msg_from: 200,
        content_type: tips::CONVERSATION_CHANGED,
        content: tips::content(&serde_json::json!({"userID": user, "conversationIDList": ids}))
            .into_bytes(),
        send_time: now,
        create_time: now,
        status: 2,
        ..Default::default()
    };
    let mut push = sdkws::PushMessages::default();
    push.notification_msgs
        .entry(format!("n_{user}"))
        .or_default()
        .msgs
        .push(notice);
    push
}

/// A read mark as OpenIM's read receipt (2200), among notifications.
fn read_receipt(reader: &str, conversation_id: &str, seq: i64) -> sdkws::PushMessages {
    let id = openim_conversation_id(conversation_id);
    let now = now_millis();
    let group = id.strip_prefix("sg_");
    let notice = sdkws::MsgData {
        send_id: reader.to_owned(),
        group_id: group.unwrap_or("").to_owned(),
        client_msg_id: format!("read_{id}_{reader}_{seq}"),
        session_type: if group.is_some() {
            convert::SUPER_GROUP
        } else {
            1
        },
        msg_from: 200,
        content_type: tips::HAS_READ_RECEIPT,
        content: tips::content(&tips::read_tips(reader, &id, seq)).into_bytes(),
        send_time: now,
        create_time: now,
        status: 2,
        ..Default::default()
    };
    let mut push = sdkws::PushMessages::default();
    let key = format!(
        "n_{}",
        id.split_once('_').map_or(id.as_str(), |(_, rest)| rest)
    );
    push.notification_msgs
        .entry(key)
        .or_default()
        .msgs
        .push(notice);
    push
}

fn merge(into: &mut BTreeMap<String, sdkws::PullMsgs>, from: BTreeMap<String, sdkws::PullMsgs>) {
    for (id, pulled) in from {
        into.entry(id).or_default().msgs.extend(pulled.msgs);
    }
}

/// The 1006 answer: each asked conversation's seqs (all of the user's
/// when none was asked).
fn read_and_max_seqs(
    list: &[UserConversation],
    asked: &[String],
) -> pb_msg::GetConversationsHasReadAndMaxSeqResp {
    let mut resp = pb_msg::GetConversationsHasReadAndMaxSeqResp::default();
    for c in list {
        // A user's notices and broadcasts are no conversation of OpenIM's:
        // its SDK would list them.
        if !convert::is_chat_conversation(&c.conversation_id) {
            continue;
        }
        let id = openim_conversation_id(&c.conversation_id);
        if !asked.is_empty() && !asked.contains(&id) {
            continue;
        }
        resp.seqs.insert(
            id,
            pb_msg::Seqs {
                max_seq: c.max_seq,
                has_read_seq: c.read_seq.max(c.min_seq - 1).max(0),
                max_seq_time: c.updated_at,
            },
        );
    }
    resp
}

/// Decodes a request's `data` as the protobuf message `T`.
fn data<T: confab_openim_pb::Message + Default>(req: &Req) -> Result<T, Error> {
    let bytes = convert::decode_data(&req.data)
        .map_err(|e| Error::invalid(format!("data: not base64: {e}")))?;
    T::decode(bytes.as_slice()).map_err(|e| Error::invalid(format!("data: not protobuf: {e}")))
}

/// Most messages one range of a 1002 asks for (OpenIM's own cap).
const MAX_RANGE_NUM: i64 = 100;

fn request_of(caller: &Caller, req: &Req, tag: &mut Tag) -> Result<Request, Error> {
    if req.send_id != caller.user_id.as_str() {
        return Err(Error::denied("sendID: must be the user of the connection"));
    }
    Ok(match req.req_identifier {
        ident::GET_NEWEST_SEQ => Request::MaxSeqs,
        ident::READ_AND_MAX_SEQS => {
            let asked: pb_msg::GetConversationsHasReadAndMaxSeqReq = data(req)?;
            tag.asked = asked.conversation_ids;
            Request::MaxSeqs
        }
        ident::PULL_BY_SEQ_RANGES => {
            let pull: sdkws::PullMessageBySeqsReq = data(req)?;
            let desc = pull.order == sdkws::PullOrder::Desc as i32;
            let ranges = pull
                .seq_ranges
                .into_iter()
                .map(|r| {
                    let num = r.num.clamp(1, MAX_RANGE_NUM);
                    // Descending asks for the newest `num` of the range;
                    // saturating, as the client picks `end` (i64::MIN too).
                    let begin = if desc {
                        r.begin.max(r.end.saturating_sub(num - 1))
                    } else {
                        r.begin
                    };
                    SeqRange {
                        conversation_id: confab_conversation_id(&r.conversation_id),
                        begin: begin.max(0),
                        end: r.end.max(0),
                        limit: num as u32,
                    }
                })
                .collect();
            Request::PullRanges(ranges)
        }
        ident::PULL_BY_SEQS => {
            let asked: pb_msg::GetSeqMessageReq = data(req)?;
            let mut conversations = Vec::with_capacity(asked.conversations.len());
            for c in asked.conversations {
                tag.asked.push(c.conversation_id.clone());
                conversations.push((confab_conversation_id(&c.conversation_id), c.seqs));
            }
            Request::PullSeqs(conversations)
        }
        ident::SEND => {
            let msg: sdkws::MsgData = data(req)?;
            Request::Send(Box::new(send::send_request(caller, msg)?))
        }
        ident::LOGOUT => Request::Logout,
        // Watches: the current statuses now, their changes pushed.
        ident::SUBSCRIBE_STATUS => {
            let sub: sdkws::SubUserOnlineStatus = data(req)?;
            let ids = |list: &[String], field: &str| {
                list.iter()
                    .map(|u| confab_core::UserId::parse(field, u))
                    .collect::<Result<Vec<_>, _>>()
            };
            Request::OnlineStatus {
                subscribe: ids(&sub.subscribe_user_id, "subscribeUserID")?,
                unsubscribe: ids(&sub.unsubscribe_user_id, "unsubscribeUserID")?,
            }
        }
        // Confab pushes the same whether the app is in the background.
        ident::SET_BACKGROUND => {
            let _: sdkws::SetAppBackgroundStatusReq = data(req)?;
            Request::Ping
        }
        other => {
            return Err(Error::invalid(format!(
                "reqIdentifier: {other} is not a request of this gateway (1001, 1002, 1003, 1005, 1006, 2003, 2004, 2005)"
            )))
        }
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
