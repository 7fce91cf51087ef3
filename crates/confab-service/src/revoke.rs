//! Revoking messages: by the sender within the revoke window, by an owner
//! or admin of the group, or by an app admin. Everyone in the conversation
//! gets a revoke notice (contentType 111).

use crate::appender::Delivery;
use crate::auth::Caller;
use crate::send::Draft;
use crate::Service;
use confab_core::bus::SessionId;
use confab_core::message::*;
use confab_core::{now_millis, Error, GroupId, Result};
use std::sync::Arc;

impl Service {
    /// Revokes the message at `seq`: its sender within the revoke window,
    /// an owner or admin of its group, or an app admin. Everyone in the
    /// conversation gets a revoke notice (contentType 111).
    pub async fn revoke(
        &self,
        caller: &Caller,
        origin: Option<SessionId>,
        conversation_id: &str,
        seq: i64,
    ) -> Result<Message> {
        if !caller.is_admin {
            self.conversation(caller, &caller.user_id, conversation_id)
                .await?;
        }
        let target = self
            .store
            .get_message(conversation_id, seq)
            .await?
            .ok_or_else(|| Error::not_found(format!("no message {seq} in {conversation_id}")))?;
        self.revoke_message(caller, origin, target).await
    }

    /// Revokes the message a revoke message (contentType 111) names, by its
    /// `seq` or its `revokeMsgClientID` (the content model's keys).
    pub(crate) async fn revoke_by_content(
        &self,
        caller: &Caller,
        origin: Option<SessionId>,
        conversation_id: &str,
        content: &serde_json::Value,
    ) -> Result<Message> {
        let target = match content.get("seq").and_then(serde_json::Value::as_i64) {
            Some(seq) => self.store.get_message(conversation_id, seq).await?,
            None => {
                let client_id = content
                    .get("revokeMsgClientID")
                    .and_then(|v| v.as_str())
                    .unwrap_or("");
                self.store
                    .find_message_by_client_id(conversation_id, client_id)
                    .await?
            }
        }
        .ok_or_else(|| {
            Error::not_found("content: the message to revoke does not exist in this conversation")
        })?;
        self.revoke_message(caller, origin, target).await
    }

    async fn revoke_message(
        &self,
        caller: &Caller,
        origin: Option<SessionId>,
        target: Message,
    ) -> Result<Message> {
        if target.status == MessageStatus::Revoked {
            return Err(Error::precondition("the message is already revoked"));
        }
        if target.content_type == content_type::REVOKE
            || content_type::is_notification(target.content_type)
        {
            return Err(Error::precondition(
                "revoke notices and notifications cannot be revoked",
            ));
        }
        let now = now_millis();
        let own_in_window = target.sender_id == caller.user_id
            && now - target.send_time <= self.config.revoke_window_secs * 1000;
        let allowed = if caller.is_admin || own_in_window {
            true
        } else if target.session_type.is_group() {
            let group = GroupId::from_trusted(target.recv_id.clone());
            matches!(self.store.get_member(&group, &caller.user_id).await?, Some(m) if m.role.manages())
        } else {
            false
        };
        if !allowed {
            return Err(Error::denied(if target.sender_id == caller.user_id {
                format!(
                    "the revoke window of {} seconds has passed",
                    self.config.revoke_window_secs
                )
            } else {
                "only the sender, a group owner or admin, or an app admin may revoke this message"
                    .to_owned()
            }));
        }
        let content = serde_json::json!({
            "revokeMsgClientID": target.client_msg_id,
            "revokeMsgServerID": target.server_msg_id,
            "seq": target.seq,
            "revokerID": caller.user_id,
            "sourceMessageSendID": target.sender_id,
            "revokeTime": now,
        });
        let notice = Draft {
            conversation_id: target.conversation_id.clone(),
            session_type: target.session_type,
            recv_id: if target.session_type == SessionType::Single
                && target.sender_id != caller.user_id
            {
                target.sender_id.to_string()
            } else {
                target.recv_id.clone()
            },
            sender: caller.user_id.clone(),
            sender_platform: caller.platform.id(),
            content_type: content_type::REVOKE,
            content: content.to_string(),
            client_msg_id: String::new(),
        }
        .into_message(now);
        let appended = self
            .store
            .revoke_message(
                &target.conversation_id,
                target.seq,
                &NewMessage {
                    message: notice,
                    participants: Vec::new(),
                },
            )
            .await?
            .ok_or_else(|| Error::not_found("the message to revoke does not exist"))?;
        self.appender.deliver(Delivery::Message(
            Arc::new(appended.message.clone()),
            origin,
        ));
        Ok(appended.message)
    }
}
