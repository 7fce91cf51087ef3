//! System notifications: friend and group changes reach the affected users
//! as messages (OpenIM content types 1201–1208, 1501–1518) through the same
//! seq and sync path as chat. Group notifications go to the group's
//! conversation, which every member syncs; the others to each user's own
//! notification conversation `n_<userID>`.
//!
//! They are appended after the change they report has committed; if the
//! append fails, the change stands and the failure is logged.

use crate::Service;
use confab_core::message::*;
use confab_core::{now_millis, GroupId, UserId};
use serde_json::Value;

impl Service {
    fn notice(
        &self,
        op: &UserId,
        conversation_id: String,
        session_type: SessionType,
        recv_id: String,
        content_type: i32,
        content: &Value,
    ) -> Message {
        Message {
            conversation_id,
            seq: 0,
            server_msg_id: uuid::Uuid::now_v7().simple().to_string(),
            client_msg_id: uuid::Uuid::now_v7().simple().to_string(),
            sender_id: op.clone(),
            sender_platform: 0,
            sender_nickname: String::new(),
            sender_face_url: String::new(),
            session_type,
            recv_id,
            content_type,
            content: content.to_string(),
            send_time: now_millis(),
            status: MessageStatus::Normal,
            at_user_ids: Vec::new(),
            ex: String::new(),
        }
    }

    /// Notifies each of `users` in their notification conversation.
    pub(crate) async fn notify_users(
        &self,
        op: &UserId,
        users: &[UserId],
        content_type: i32,
        content: Value,
    ) {
        for user in users {
            let message = self.notice(
                op,
                notification_conversation_id(user),
                SessionType::Notification,
                user.to_string(),
                content_type,
                &content,
            );
            let new = NewMessage {
                message,
                participants: vec![(user.clone(), user.to_string())],
            };
            if let Err(e) = self.appender.append(new, None, None).await {
                tracing::error!(error = %e.log_message(), user = %user, content_type, "appending a notification");
            }
        }
    }

    /// Notifies the members of a group in the group's conversation.
    pub(crate) async fn notify_group(
        &self,
        op: &UserId,
        group: &GroupId,
        content_type: i32,
        content: Value,
    ) {
        let message = self.notice(
            op,
            group_conversation_id(group),
            SessionType::Group,
            group.to_string(),
            content_type,
            &content,
        );
        let new = NewMessage {
            message,
            participants: Vec::new(),
        };
        if let Err(e) = self.appender.append(new, None, None).await {
            tracing::error!(error = %e.log_message(), group = %group, content_type, "appending a group notification");
        }
    }
}
