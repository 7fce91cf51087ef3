//! `sendMessages` and `offlineMsgCount`.
//!
//! Easemob's message bodies map to the content types OpenIM clients know
//! (Confab's content model): `txt` text (101), `img` picture (102), `audio`
//! voice (103), `video` (104), `file` (105), `loc` location (109), `custom`
//! custom (110), and `cmd` a custom message pushed to online devices and not
//! stored (like typing).

use super::envelope::{AppHx, HxResult, Reply};
use crate::AppState;
use axum::extract::State;
use confab_core::message::{Content, ContentType, Recipient};
use confab_core::{ChatroomId, Error, GroupId, UserId};
use confab_service::OutgoingMessage;
use serde::Deserialize;
use serde_json::{json, Map, Value};

crate::with_app_token!(SendReqWithToken, SendReq);
crate::with_app_token!(OfflineCountReqWithToken, OfflineCountReq);

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = easemob::SendMessagesReq)]
pub struct SendReq {
    target_type: String,
    target: Vec<String>,
    msg: Map<String, Value>,
    /// Absent: the system user `admin`. Present and empty: refused.
    from: Option<String>,
    /// Kept with the message and delivered (as its `ex`).
    ext: Option<Value>,
}

fn text_field<'a>(msg: &'a Map<String, Value>, key: &str) -> Result<&'a str, Error> {
    match msg.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) => Err(Error::invalid(format!("msg.{key}: must not be empty"))),
        Some(_) => Err(Error::invalid(format!("msg.{key}: must be a string"))),
        None => Err(Error::invalid(format!("msg.{key}: missing"))),
    }
}

fn number(msg: &Map<String, Value>, key: &str) -> Value {
    msg.get(key)
        .cloned()
        .filter(Value::is_number)
        .unwrap_or(json!(0))
}

fn string(msg: &Map<String, Value>, key: &str) -> Value {
    msg.get(key)
        .cloned()
        .filter(Value::is_string)
        .unwrap_or(json!(""))
}

/// The content an Easemob `msg` stands for, and whether it is pushed only.
fn content_of(msg: &Map<String, Value>) -> Result<(Content, bool), Error> {
    let kind = msg
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::invalid("msg.type: missing"))?;
    let (content_type, body, online_only) = match kind {
        "txt" => (ContentType::Text, json!({"text": text_field(msg, "msg")?}), false),
        "img" => {
            let size = msg.get("size").and_then(Value::as_object);
            let dim = |k: &str| size.and_then(|s| s.get(k)).cloned().unwrap_or(json!(0));
            let picture = json!({"url": text_field(msg, "url")?, "width": dim("width"), "height": dim("height")});
            (
                ContentType::Picture,
                json!({"sourcePicture": picture, "bigPicture": picture, "snapshotPicture": picture, "fileName": string(msg, "filename")}),
                false,
            )
        }
        "audio" => (
            ContentType::Voice,
            json!({"sourceUrl": text_field(msg, "url")?, "duration": number(msg, "length"), "dataSize": number(msg, "file_length"), "fileName": string(msg, "filename")}),
            false,
        ),
        "video" => (
            ContentType::Video,
            json!({"videoUrl": text_field(msg, "url")?, "duration": number(msg, "length"), "videoSize": number(msg, "file_length"), "snapshotUrl": string(msg, "thumb"), "fileName": string(msg, "filename")}),
            false,
        ),
        "file" => (
            ContentType::File,
            json!({"sourceUrl": text_field(msg, "url")?, "fileName": string(msg, "filename"), "fileSize": number(msg, "file_length")}),
            false,
        ),
        "loc" => {
            let coordinate = |k: &str| {
                msg.get(k)
                    .and_then(|v| v.as_f64().or_else(|| v.as_str()?.parse().ok()))
                    .ok_or_else(|| Error::invalid(format!("msg.{k}: must be a number")))
            };
            (
                ContentType::Location,
                json!({"latitude": coordinate("lat")?, "longitude": coordinate("lng")?, "description": string(msg, "addr")}),
                false,
            )
        }
        "cmd" => {
            let action = text_field(msg, "action")?;
            (
                ContentType::Custom,
                json!({"data": json!({"action": action}).to_string(), "description": "cmd", "extension": ""}),
                true,
            )
        }
        "custom" => {
            let event = msg.get("customEvent").cloned().unwrap_or(json!(""));
            let exts = msg.get("customExts").cloned().unwrap_or(json!({}));
            (
                ContentType::Custom,
                json!({"data": json!({"customEvent": event, "customExts": exts}).to_string(), "description": event, "extension": ""}),
                false,
            )
        }
        other => {
            return Err(Error::invalid(format!(
                "msg.type: unknown type {other:?}; expected txt, img, loc, audio, video, file, cmd or custom"
            )))
        }
    };
    Ok((Content::new(content_type, body), online_only))
}

fn recipient(target_type: &str, target: &str) -> Result<Recipient, Error> {
    Ok(match target_type {
        "users" => Recipient::User(UserId::parse("target", target)?),
        "chatgroups" => Recipient::Group(GroupId::parse("target", target)?),
        "chatrooms" => Recipient::Chatroom(ChatroomId::parse("target", target)?),
        other => {
            return Err(Error::invalid(format!(
                "target_type: must be users, chatgroups or chatrooms, got {other:?}"
            )))
        }
    })
}

/// `sendMessages`: one message to up to `easemob_max_targets` users,
/// groups or chatrooms. A target that does not exist, or that refuses the
/// sender, fails alone: `data` says `success` or why, per target.
#[utoipa::path(post, path = "/hx/sendMessages", tag = "easemob",
    request_body = SendReqWithToken,
    security(("easemob_app" = [])), responses(crate::openapi::HxAnswer))]
pub async fn send_messages(
    State(s): State<AppState>,
    AppHx(caller, req, ctx): AppHx<SendReq>,
) -> HxResult {
    let max = ctx.settings.max_targets;
    if req.target.is_empty() {
        return Err(Error::invalid("target: must not be empty").into());
    }
    if req.target.len() > max {
        return Err(Error::invalid(format!(
            "target: at most {max} targets per request, got {}",
            req.target.len()
        ))
        .into());
    }
    // Checked before any target, so a bad type fails the request.
    recipient(&req.target_type, "x")?;
    let sender = match req.from.as_deref() {
        None => caller.user_id.clone(),
        Some("") => return Err(Error::invalid("from: must not be empty").into()),
        Some(from) => UserId::parse("from", from)?,
    };
    let (content, online_only) = content_of(&req.msg)?;
    let mut message = OutgoingMessage::new(sender, content);
    message.is_online_only = online_only;
    // Kept as the app sent it: a string as is, anything else as JSON text.
    match &req.ext {
        Some(Value::String(text)) => message.ex = text.clone(),
        Some(Value::Null) | None => {}
        Some(other) => message.ex = other.to_string(),
    }
    // A target named twice is sent to once, as it shows once in `data`.
    let mut targets: Vec<&String> = Vec::with_capacity(req.target.len());
    for t in &req.target {
        if !targets.contains(&t) {
            targets.push(t);
        }
    }
    let parsed: Vec<Result<Recipient, Error>> = targets
        .iter()
        .map(|t| recipient(&req.target_type, t))
        .collect();
    let outcomes = crate::batch::send_each(&s.service, &caller, message, parsed).await?;
    let mut data = Map::new();
    for (target, outcome) in targets.iter().zip(outcomes) {
        let answer = match outcome {
            Ok(_) => "success".to_owned(),
            Err(e) if e.kind() == confab_core::ErrorKind::Internal => {
                tracing::error!(error = %e.log_message(), target = %target, "easemob send failed");
                "internal error".to_owned()
            }
            Err(e) => e.client_message_naming(super::field_name),
        };
        data.insert((*target).clone(), json!(answer));
    }
    Ok(Reply::new(&ctx, "post", "/messages")
        .with_app(&ctx)
        .with("data", data))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = easemob::OfflineMsgCountReq)]
pub struct OfflineCountReq {
    owner_username: String,
}

/// `offlineMsgCount`: messages to the user that none of their devices has
/// received yet.
#[utoipa::path(post, path = "/hx/offlineMsgCount", tag = "easemob",
    request_body = OfflineCountReqWithToken,
    security(("easemob_app" = [])), responses(crate::openapi::HxAnswer))]
pub async fn offline_msg_count(
    State(s): State<AppState>,
    AppHx(caller, req, ctx): AppHx<OfflineCountReq>,
) -> HxResult {
    let owner = UserId::parse("owner_username", &req.owner_username)?;
    let count = s.service.offline_message_count(&caller, &owner).await?;
    let mut data = Map::new();
    data.insert(owner.to_string(), json!(count));
    Ok(
        Reply::new(&ctx, "get", &format!("/users/{owner}/offline_msg_count"))
            .with("data", data)
            .with("entities", json!([]))
            .with("count", 0),
    )
}
