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
use confab_core::presence::SessionFilter;
use confab_core::store::AwaitedAck;
use confab_core::validate;
use confab_core::{now_millis, Error, Field, GroupId, Result, UserId};
use serde::{Deserialize, Serialize};

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
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// What the app calls it (`lotterys_notify`).
    pub action: String,
    pub payload: serde_json::Value,
    /// The app's kind of notification (the yunbay API: 0 notify, 1 control).
    pub kind: i64,
    /// Each recipient must confirm it: until they do, it is sent again on
    /// each of their connections.
    pub ack: bool,
    /// A broadcast reaches only the sessions that match (ignored for
    /// notifications to listed users).
    pub filter: Option<SessionFilter>,
}

/// A notification as stored (the body of its message, content type 1400)
/// and sent: with the id the server gave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentNotification {
    /// Unique in the deployment, increasing; 0 for notifications stored
    /// before ids were given.
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub kind: i64,
    pub action: String,
    pub payload: serde_json::Value,
    #[serde(default)]
    pub ack: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<SessionFilter>,
}

impl SentNotification {
    /// The notification a message carries, if it is one.
    pub fn from_message(message: &Message) -> Option<SentNotification> {
        if message.content_type != content_type::SYSTEM_NOTIFICATION {
            return None;
        }
        serde_json::from_str(&message.content).ok()
    }
}

/// What `notify` did: the notification's id, and a result per recipient
/// (one for a broadcast).
#[derive(Debug)]
pub struct NotifyOutcome {
    pub id: i64,
    /// The users it was for, each once, in the order of `results` (empty
    /// for a broadcast).
    pub users: Vec<UserId>,
    pub results: Vec<Result<SendOutcome>>,
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

    /// Sends a system notification (content type 1400, body a
    /// [`SentNotification`]) to some users, one result each, or to every
    /// user as one stored message (one result). App administrators only.
    /// Users who are online get it pushed; the others find it when they
    /// sync or connect. A notification that wants acks is recorded as
    /// awaited before it is sent, so that no crash can leave it sent but
    /// not awaited.
    pub async fn notify(
        &self,
        caller: &Caller,
        audience: &Audience,
        notification: &Notification,
    ) -> Result<NotifyOutcome> {
        caller.require_admin()?;
        if notification.action.is_empty() {
            return Err(Error::invalid_field(Field::Action, "must not be empty"));
        }
        validate::max_len(Field::Action, &notification.action, MAX_ACTION_LEN)?;
        let users = match audience {
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
                Some(users)
            }
            Audience::All => None,
        };
        let sent = SentNotification {
            id: self.store.next_notification_id().await?,
            kind: notification.kind,
            action: notification.action.clone(),
            payload: notification.payload.clone(),
            ack: notification.ack,
            filter: users
                .is_none()
                .then(|| notification.filter.clone())
                .flatten(),
        };
        let content = serde_json::to_string(&sent).map_err(Error::internal)?;
        if content.len() > self.config.max_content_bytes {
            return Err(Error::invalid_field(
                Field::Content,
                format!("at most {} bytes", self.config.max_content_bytes),
            ));
        }
        match users {
            Some(users) => self.notify_listed(caller, users, &sent, content).await,
            None => self.notify_all(caller, &sent, content).await,
        }
    }

    /// `notify` to listed users: one message each in their notification
    /// conversation.
    async fn notify_listed(
        &self,
        caller: &Caller,
        users: Vec<UserId>,
        sent: &SentNotification,
        content: String,
    ) -> Result<NotifyOutcome> {
        let id = sent.id;
        if sent.ack {
            let awaited: Vec<AwaitedAck> = users
                .iter()
                .map(|user| AwaitedAck {
                    user_id: user.clone(),
                    notification_id: id,
                    body: content.clone(),
                })
                .collect();
            self.store.await_acks(&awaited, now_millis()).await?;
        }
        let results = self
            .append_to_users(
                &caller.user_id,
                &users,
                content_type::SYSTEM_NOTIFICATION,
                &content,
            )
            .await;
        if sent.ack {
            // Those it was not sent to should not be asked for it later.
            for (user, result) in users.iter().zip(&results) {
                if result.is_err() {
                    if let Err(e) = self.store.ack_awaited(user, id).await {
                        tracing::error!(error = %e.log_message(), notification = id, user = %user, "forgetting the ack of a failed notification");
                    }
                }
            }
        }
        Ok(NotifyOutcome { id, users, results })
    }

    /// `notify` to everyone: one message in the broadcast conversation.
    async fn notify_all(
        &self,
        caller: &Caller,
        sent: &SentNotification,
        content: String,
    ) -> Result<NotifyOutcome> {
        let id = sent.id;
        if sent.ack {
            // Awaited before it is sent, like acks of listed users.
            self.store
                .put_ack_broadcast(id, &content, now_millis(), self.broadcast_cutoff())
                .await?;
        }
        let message = self.notice_message(
            &caller.user_id,
            BROADCAST_CONVERSATION_ID.to_owned(),
            SessionType::Notification,
            String::new(),
            content_type::SYSTEM_NOTIFICATION,
            content,
        );
        // The delivery task pushes it to everyone online (who matches).
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
            .await;
        match appended {
            Ok(appended) => Ok(NotifyOutcome {
                id,
                users: Vec::new(),
                results: vec![Ok(SendOutcome {
                    message: appended.message,
                    duplicate: appended.duplicate,
                })],
            }),
            Err(e) => {
                // Sent to nobody: nobody should be asked for it later.
                if let Err(forgetting) = self.store.forget_awaited_acks(id).await {
                    tracing::error!(error = %forgetting.log_message(), notification = id, "forgetting the acks of a failed notification");
                }
                Err(e)
            }
        }
    }
}
