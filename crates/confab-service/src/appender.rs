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
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Most messages appended in one transaction.
pub const MAX_BATCH: usize = 1024;
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

/// A queued message on its way to the store.
pub(crate) struct Committing(oneshot::Receiver<Result<Appended>>);

impl Committing {
    pub(crate) async fn wait(self) -> Result<Appended> {
        self.0
            .await
            .map_err(|_| Error::internal("the appender dropped a send"))?
    }
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
        self.enqueue(message, origin, check).await?.wait().await
    }

    /// Queues one message and returns at once; the message takes its place
    /// in the order of enqueueing, and `wait` returns once it is committed.
    pub(crate) async fn enqueue(
        &self,
        message: NewMessage,
        origin: Option<SessionId>,
        check: Option<ChatCheck>,
    ) -> Result<Committing> {
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
        Ok(Committing(rx))
    }

    /// Queues a message or event for delivery after those committed before.
    pub(crate) fn deliver(&self, delivery: Delivery) {
        let _ = self.deliveries.send(delivery);
    }
}

/// Stage one: takes what is queued, checks its chats (one query per
/// batch), and hands the batch to stage two, so that the checks of the next
/// batch run while this one is written.
async fn append_loop(
    store: Arc<dyn Store>,
    mut rx: mpsc::Receiver<Job>,
    deliveries: mpsc::UnboundedSender<Delivery>,
) {
    let (checked_tx, checked_rx) = mpsc::channel::<Vec<Job>>(2);
    tokio::spawn(write_loop(store.clone(), checked_rx, deliveries));
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let started = std::time::Instant::now();
        let checked = check_chats(&*store, &mut jobs).await;
        tracing::debug!(
            messages = jobs.len(),
            micros = started.elapsed().as_micros() as u64,
            "checked a batch"
        );
        if let Err(e) = checked {
            tracing::error!(error = %e.log_message(), "checking a batch of messages");
            for job in jobs.drain(..) {
                let _ = job.reply.send(Err(Error::new(e.kind(), e.log_message())));
            }
            continue;
        }
        if jobs.is_empty() {
            continue;
        }
        let batch = std::mem::replace(&mut jobs, Vec::with_capacity(MAX_BATCH));
        if checked_tx.send(batch).await.is_err() {
            return;
        }
    }
}

/// Stage two: appends each checked batch (with any others waiting) in one
/// transaction, answers the senders and queues the deliveries in commit
/// order.
async fn write_loop(
    store: Arc<dyn Store>,
    mut rx: mpsc::Receiver<Vec<Job>>,
    deliveries: mpsc::UnboundedSender<Delivery>,
) {
    while let Some(mut jobs) = rx.recv().await {
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(more) => jobs.extend(more),
                Err(_) => break,
            }
        }
        // The messages go to the store; who to answer stays here.
        let (batch, waiting): (Vec<NewMessage>, Vec<_>) = jobs
            .into_iter()
            .map(|j| (j.message, (j.origin, j.reply)))
            .unzip();
        let started = std::time::Instant::now();
        let mut result = store.append_messages(&batch).await;
        tracing::debug!(
            messages = batch.len(),
            micros = started.elapsed().as_micros() as u64,
            "appended a batch"
        );
        if let Err(e) = &result {
            // Another node may have stored the same (sender, clientMsgID)
            // between our check and our insert: the retry finds it.
            if e.kind() == confab_core::ErrorKind::Conflict {
                result = store.append_messages(&batch).await;
            }
        }
        match result {
            Ok(appended) => {
                for ((origin, reply), appended) in waiting.into_iter().zip(appended) {
                    if !appended.duplicate {
                        let _ = deliveries.send(Delivery::Message(
                            Arc::new(appended.message.clone()),
                            origin,
                        ));
                    }
                    let _ = reply.send(Ok(appended));
                }
            }
            Err(e) => {
                tracing::error!(error = %e.log_message(), batch = batch.len(), "appending messages failed");
                for (_, reply) in waiting {
                    let _ = reply.send(Err(Error::new(e.kind(), e.log_message())));
                }
            }
        }
    }
}

/// Answers the jobs whose chat check fails and removes them from `jobs`.
async fn check_chats(store: &dyn Store, jobs: &mut Vec<Job>) -> Result<()> {
    let pairs: Vec<(UserId, UserId)> = jobs
        .iter()
        .filter_map(|j| j.check.as_ref())
        .map(|c| (c.recipient.clone(), c.sender.clone()))
        .collect();
    if pairs.is_empty() {
        return Ok(());
    }
    let mut facts = store.chat_facts(&pairs).await?.into_iter();
    let mut kept = Vec::with_capacity(jobs.len());
    for job in jobs.drain(..) {
        let refusal = match (&job.check, job.check.as_ref().and_then(|_| facts.next())) {
            (Some(c), Some(f)) if !f.recipient_exists => Some(Error::not_found(format!(
                "user {} does not exist",
                c.recipient
            ))),
            (Some(c), Some(f)) if f.recipient_blocks_sender => Some(Error::precondition(format!(
                "{} has blocked {}",
                c.recipient, c.sender
            ))),
            _ => None,
        };
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
        if let Err(e) = bus.publish(event) {
            tracing::error!(error = %e, "delivering an event");
        }
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
