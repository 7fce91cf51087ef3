//! Notifications. Friend and group changes reach the affected users as
//! messages (the typed `Notice` table) through the same seq and sync path
//! as chat: group notices go to the group's conversation, which every
//! member syncs; the others to each user's own notification conversation
//! `n_<userID>`. An app's system notifications (`notify`) go to chosen
//! users the same way, or to everyone as one message in the broadcast
//! conversation that every user reads with their own cursor.
//!
//! Change notices are appended after the change they report has committed;
//! if the append fails, the change stands and the failure is logged.

use crate::appender::ToAppend;
use crate::auth::Caller;
use crate::notices::Notice;
use crate::send::{Draft, SendOutcome};
use crate::Service;
use confab_core::message::*;
use confab_core::validate;
use confab_core::{now_millis, Error, Field, GroupId, Result, UserId};
use serde::Serialize;

/// Most users one `notify` names.
pub const MAX_AUDIENCE: usize = 1000;
/// Longest action name of a system notification.
const MAX_ACTION_LEN: usize = 64;

/// Who a system notification is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    Users(Vec<UserId>),
    /// Every user, present and future: stored once.
    All,
}

/// A system notification from the app: an action name and its payload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    pub action: String,
    pub payload: serde_json::Value,
}

impl Service {
    fn notice_message(
        &self,
        op: &UserId,
        conversation_id: String,
        session_type: SessionType,
        recv_id: String,
        content_type: i32,
        content: String,
    ) -> Message {
        Draft {
            conversation_id,
            session_type,
            recv_id,
            sender: op.clone(),
            sender_platform: 0,
            content_type,
            content,
            client_msg_id: String::new(),
        }
        .into_message(now_millis())
    }

    /// Appends one message per user in their notification conversation:
    /// all are queued, then awaited, so they share commits.
    async fn append_to_users(
        &self,
        op: &UserId,
        users: &[UserId],
        content_type: i32,
        content: &str,
    ) -> Vec<Result<SendOutcome>> {
        let items = users
            .iter()
            .map(|user| ToAppend {
                message: NewMessage {
                    message: self.notice_message(
                        op,
                        notification_conversation_id(user),
                        SessionType::Notification,
                        user.to_string(),
                        content_type,
                        content.to_owned(),
                    ),
                    participants: vec![(user.clone(), user.to_string())],
                },
                origin: None,
                check: None,
            })
            .collect();
        let committing = match self.appender.enqueue_many(items).await {
            Ok(c) => c,
            Err(e) => return users.iter().map(|_| Err(e.clone())).collect(),
        };
        let mut out = Vec::with_capacity(committing.len());
        for c in committing {
            out.push(c.wait().await.map(|a| SendOutcome {
                message: a.message,
                duplicate: a.duplicate,
            }));
        }
        out
    }

    /// Notifies each of `users` of a change in their notification conversation.
    pub(crate) async fn notify_users(&self, op: &UserId, users: &[UserId], notice: Notice) {
        let content_type = notice.content_type();
        let results = self
            .append_to_users(op, users, content_type, &notice.body())
            .await;
        for (user, result) in users.iter().zip(results) {
            if let Err(e) = result {
                tracing::error!(error = %e.log_message(), user = %user, content_type, "appending a notification");
            }
        }
    }

    /// Notifies the members of a group of a change in the group's conversation.
    pub(crate) async fn notify_group(&self, op: &UserId, group: &GroupId, notice: Notice) {
        let content_type = notice.content_type();
        let message = self.notice_message(
            op,
            group_conversation_id(group),
            SessionType::Group,
            group.to_string(),
            content_type,
            notice.body(),
        );
        let new = NewMessage {
            message,
            participants: Vec::new(),
        };
        if let Err(e) = self.appender.append(new, None, None).await {
            tracing::error!(error = %e.log_message(), group = %group, content_type, "appending a group notification");
        }
    }

    /// Sends a system notification (content type 1400, body `{action,
    /// payload}`) to some users, one result each, or to every user as one
    /// stored message (one result). App administrators only. Users who are
    /// online get it pushed; the others find it when they sync.
    pub async fn notify(
        &self,
        caller: &Caller,
        audience: &Audience,
        notification: &Notification,
    ) -> Result<Vec<Result<SendOutcome>>> {
        caller.require_admin()?;
        if notification.action.is_empty() {
            return Err(Error::invalid_field(Field::Action, "must not be empty"));
        }
        validate::max_len(Field::Action, &notification.action, MAX_ACTION_LEN)?;
        let content = serde_json::to_string(notification).map_err(Error::internal)?;
        if content.len() > self.config.max_content_bytes {
            return Err(Error::invalid_field(
                Field::Content,
                format!("at most {} bytes", self.config.max_content_bytes),
            ));
        }
        let ct = content_type::SYSTEM_NOTIFICATION;
        match audience {
            Audience::Users(users) => {
                validate::batch(Field::Users, users, MAX_AUDIENCE)?;
                let users = crate::dedup(users);
                let found = self.store.get_users(&users).await?;
                if let Some(missing) = users
                    .iter()
                    .find(|id| !found.iter().any(|u| &u.user_id == *id))
                {
                    return Err(Error::not_found(format!("user {missing} does not exist")));
                }
                Ok(self
                    .append_to_users(&caller.user_id, &users, ct, &content)
                    .await)
            }
            Audience::All => {
                let message = self.notice_message(
                    &caller.user_id,
                    BROADCAST_CONVERSATION_ID.to_owned(),
                    SessionType::Notification,
                    String::new(),
                    ct,
                    content,
                );
                // The delivery task pushes it to everyone online.
                let appended = self
                    .appender
                    .append(
                        NewMessage {
                            message,
                            participants: Vec::new(),
                        },
                        None,
                        None,
                    )
                    .await?;
                Ok(vec![Ok(SendOutcome {
                    message: appended.message,
                    duplicate: appended.duplicate,
                })])
            }
        }
    }
}
