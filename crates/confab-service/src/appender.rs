//! Group commit, and delivery in commit order.
//!
//! Sends queue here; one task takes everything queued (up to `MAX_BATCH`)
//! and appends it in one transaction, so many concurrent sends share one
//! commit (and, with `durability = "fsync"`, one flush). Committed messages
//! then go, in commit order, to the delivery task, which works out their
//! recipients and publishes them on the bus: pushes of one conversation
//! leave in seq order.

use crate::members::MemberCache;
use confab_core::bus::{Bus, Event, Payload, SessionId};
use confab_core::message::{Appended, Message, NewMessage, SessionType};
use confab_core::store::Store;
use confab_core::{Error, GroupId, Result, UserId};
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Most messages appended in one transaction.
pub const MAX_BATCH: usize = 512;
/// Sends waiting for the appender; senders wait when it is full.
const QUEUE: usize = 8192;

struct Job {
    message: NewMessage,
    origin: Option<SessionId>,
    check: Option<ChatCheck>,
    reply: oneshot::Sender<Result<Appended>>,
}

/// Rules of a one-to-one message checked for the whole batch at once (two
/// queries per batch instead of two per message): the recipient exists and
/// has not blocked the sender.
#[derive(Debug, Clone)]
pub(crate) struct ChatCheck {
    pub recipient: UserId,
    pub sender: UserId,
}

/// A committed message to deliver, or another event to publish in order.
pub(crate) enum Delivery {
    Message(Arc<Message>, Option<SessionId>),
    Event(Event),
}

#[derive(Clone)]
pub(crate) struct Appender {
    jobs: mpsc::Sender<Job>,
    deliveries: mpsc::UnboundedSender<Delivery>,
}

impl Appender {
    pub(crate) fn start(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        members: Arc<MemberCache>,
    ) -> Appender {
        let (jobs, rx) = mpsc::channel(QUEUE);
        let (deliveries, delivery_rx) = mpsc::unbounded_channel();
        tokio::spawn(append_loop(store.clone(), rx, deliveries.clone()));
        tokio::spawn(delivery_loop(store, bus, members, delivery_rx));
        Appender { jobs, deliveries }
    }

    /// Appends one message; returns once it is committed.
    pub(crate) async fn append(
        &self,
        message: NewMessage,
        origin: Option<SessionId>,
        check: Option<ChatCheck>,
    ) -> Result<Appended> {
        let (reply, rx) = oneshot::channel();
        self.jobs
            .send(Job {
                message,
                origin,
                check,
                reply,
            })
            .await
            .map_err(|_| Error::internal("the appender has stopped"))?;
        rx.await
            .map_err(|_| Error::internal("the appender dropped a send"))?
    }

    /// Queues a message or event for delivery after those committed before.
    pub(crate) fn deliver(&self, delivery: Delivery) {
        let _ = self.deliveries.send(delivery);
    }
}

async fn append_loop(
    store: Arc<dyn Store>,
    mut rx: mpsc::Receiver<Job>,
    deliveries: mpsc::UnboundedSender<Delivery>,
) {
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        if let Err(e) = check_chats(&*store, &mut jobs).await {
            tracing::error!(error = %e.log_message(), "checking a batch of messages");
            for job in jobs.drain(..) {
                let _ = job.reply.send(Err(Error::new(e.kind(), e.log_message())));
            }
            continue;
        }
        if jobs.is_empty() {
            continue;
        }
        let batch: Vec<NewMessage> = jobs.iter().map(|j| j.message.clone()).collect();
        let mut result = store.append_messages(&batch).await;
        if let Err(e) = &result {
            // Another node may have stored the same (sender, clientMsgID)
            // between our check and our insert: the retry finds it.
            if e.kind() == confab_core::ErrorKind::Conflict {
                result = store.append_messages(&batch).await;
            }
        }
        match result {
            Ok(appended) => {
                for (job, appended) in jobs.drain(..).zip(appended) {
                    if !appended.duplicate {
                        let _ = deliveries.send(Delivery::Message(
                            Arc::new(appended.message.clone()),
                            job.origin,
                        ));
                    }
                    let _ = job.reply.send(Ok(appended));
                }
            }
            Err(e) => {
                tracing::error!(error = %e.log_message(), batch = jobs.len(), "appending messages failed");
                for job in jobs.drain(..) {
                    let _ = job.reply.send(Err(Error::new(e.kind(), e.log_message())));
                }
            }
        }
    }
}

/// Answers the jobs whose chat check fails and removes them from `jobs`.
async fn check_chats(store: &dyn Store, jobs: &mut Vec<Job>) -> Result<()> {
    let checks: Vec<&ChatCheck> = jobs.iter().filter_map(|j| j.check.as_ref()).collect();
    if checks.is_empty() {
        return Ok(());
    }
    let mut recipients: Vec<UserId> = checks.iter().map(|c| c.recipient.clone()).collect();
    recipients.sort();
    recipients.dedup();
    let existing: HashSet<UserId> = store
        .existing_user_ids(&recipients)
        .await?
        .into_iter()
        .collect();
    let mut pairs: Vec<(UserId, UserId)> = checks
        .iter()
        .filter(|c| existing.contains(&c.recipient))
        .map(|c| (c.recipient.clone(), c.sender.clone()))
        .collect();
    pairs.sort();
    pairs.dedup();
    let blocked: HashSet<(UserId, UserId)> = if pairs.is_empty() {
        HashSet::new()
    } else {
        store.blocked_pairs(&pairs).await?.into_iter().collect()
    };
    let mut kept = Vec::with_capacity(jobs.len());
    for job in jobs.drain(..) {
        let refusal = job.check.as_ref().and_then(|c| {
            if !existing.contains(&c.recipient) {
                Some(Error::not_found(format!(
                    "user {} does not exist",
                    c.recipient
                )))
            } else if blocked.contains(&(c.recipient.clone(), c.sender.clone())) {
                Some(Error::precondition(format!(
                    "{} has blocked {}",
                    c.recipient, c.sender
                )))
            } else {
                None
            }
        });
        match refusal {
            Some(e) => {
                let _ = job.reply.send(Err(e));
            }
            None => kept.push(job),
        }
    }
    *jobs = kept;
    Ok(())
}

async fn delivery_loop(
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    members: Arc<MemberCache>,
    mut rx: mpsc::UnboundedReceiver<Delivery>,
) {
    while let Some(delivery) = rx.recv().await {
        let event = match delivery {
            Delivery::Event(event) => event,
            Delivery::Message(message, origin) => {
                let recipients = match recipients(&*store, &members, &message).await {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::error!(error = %e.log_message(), "finding the recipients of a message");
                        continue;
                    }
                };
                Event {
                    recipients,
                    origin,
                    payload: Payload::Message(message),
                }
            }
        };
        bus.publish(event);
    }
}

/// Who gets a message: both users of a chat (the sender's other devices
/// too), every member of a group, the notified user.
pub(crate) async fn recipients(
    store: &dyn Store,
    members: &MemberCache,
    m: &Message,
) -> Result<Vec<UserId>> {
    Ok(match m.session_type {
        SessionType::Single => {
            let recv = UserId::from_trusted(m.recv_id.clone());
            if recv == m.sender_id {
                vec![recv]
            } else {
                vec![m.sender_id.clone(), recv]
            }
        }
        SessionType::Group | SessionType::SuperGroup => {
            let group = GroupId::from_trusted(m.recv_id.clone());
            members.get(store, &group).await?.to_vec()
        }
        SessionType::Notification => vec![UserId::from_trusted(m.recv_id.clone())],
    })
}
