//! A `MsgData` the SDK sends, as the send it asks for.

use confab_core::message::{Content, ContentType, Recipient};
use confab_core::{ChatroomId, Error, GroupId, Result, UserId};
use confab_openim_pb::openim::sdkws::MsgData;
use confab_service::{Caller, OutgoingMessage, SendRequest};
use confab_wire::openim_v3::SUPER_GROUP;

/// The send a `MsgData` from the SDK asks for. The sender is the caller,
/// whatever `sendID` says.
pub fn send_request(caller: &Caller, data: MsgData) -> Result<SendRequest> {
    if data.send_id != caller.user_id.as_str() {
        return Err(Error::denied("sendID: must be the user of the connection"));
    }
    let to = match data.session_type {
        1 => Recipient::User(UserId::parse("recvID", &data.recv_id)?),
        2 | SUPER_GROUP => Recipient::Group(GroupId::parse("groupID", &data.group_id)?),
        5 => Recipient::Chatroom(ChatroomId::parse("recvID", &data.recv_id)?),
        4 => {
            return Err(Error::invalid(
                "sessionType: notifications are sent by the system",
            ))
        }
        t => {
            return Err(Error::invalid(format!(
                "sessionType: unknown session type {t}"
            )))
        }
    };
    let kind = ContentType::parse(data.content_type)
        .map_err(|e| Error::invalid(e.client_message_naming(confab_wire::field_name)))?;
    let body: serde_json::Value = serde_json::from_slice(&data.content)
        .map_err(|e| Error::invalid(format!("content: not JSON: {e}")))?;
    let body = confab_content(kind, body);
    Ok(SendRequest {
        to,
        message: OutgoingMessage {
            client_msg_id: data.client_msg_id,
            sender: caller.user_id.clone(),
            sender_platform: caller.platform.id(),
            sender_nickname: data.sender_nickname,
            sender_face_url: data.sender_face_url,
            content: Content::new(kind, body),
            is_online_only: data.options.get("history") == Some(&false)
                && data.options.get("persistent") == Some(&false),
            mentions: data.at_user_id_list,
            ex: data.ex,
        },
    })
}

/// The SDK's text element in Confab's shape (see `openim_content`).
fn confab_content(kind: ContentType, body: serde_json::Value) -> serde_json::Value {
    match (kind, body) {
        (ContentType::Text, serde_json::Value::Object(mut body)) if !body.contains_key("text") => {
            if let Some(text) = body.remove("content") {
                body.insert("text".into(), text);
            }
            serde_json::Value::Object(body)
        }
        (_, body) => body,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn text_is_renamed_for_confab() {
        assert_eq!(
            confab_content(ContentType::Text, serde_json::json!({"content": "hi"})),
            serde_json::json!({"text": "hi"})
        );
    }
}
