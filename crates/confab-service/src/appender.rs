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
use confab_core::message::{is_broadcast_conversation, Appended, Message, NewMessage, SessionType};
use confab_core::presence::Presence;
use confab_core::store::Store;
use confab_core::{Error, ErrorKind, GroupId, Result, UserId};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Most messages appended in one transaction. Under load each batch writes
/// one page of the `(conversation, seq)` index per conversation it touches,
/// so larger batches share those pages among more messages (1,024 → 4,096:
/// one-to-one window 8 from 34k to 39k delivered/s); when idle, batches
/// stay as small as what is queued.
pub const MAX_BATCH: usize = 4096;
/// Sends waiting for the appender; senders wait when it is full.
const QUEUE: usize = 8192;
/// Deliveries waiting to be published. When full, a delivery is dropped
/// (and logged) rather than queued without bound: push is an optimisation,
/// sync is the truth, as for a session whose queue is full.
pub const DELIVERY_QUEUE: usize = 65_536;

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

impl Delivery {
    /// Whether losing it would break a promise rather than a push: a kick
    /// must end its sessions, a member-list change must reach every cache.
    fn must_arrive(&self) -> bool {
        matches!(
            self,
            Delivery::Event(Event {
                payload: Payload::Kick { .. } | Payload::GroupMembersChanged { .. },
                ..
            })
        )
    }
}

/// The queue of deliveries, in commit order.
#[derive(Clone)]
pub(crate) struct Deliveries(mpsc::Sender<Delivery>);

impl Deliveries {
    /// Queues a delivery. When the queue is full a push is dropped (clients
    /// catch up by sync), but a control event (a kick, a member-list change)
    /// is never dropped: it waits for room on its own task.
    pub(crate) fn send(&self, delivery: Delivery) {
        match self.0.try_send(delivery) {
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
            Err(mpsc::error::TrySendError::Full(d)) if d.must_arrive() => {
                let queue = self.0.clone();
                tokio::spawn(async move {
                    let _ = queue.send(d).await;
                });
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(
                    capacity = DELIVERY_QUEUE,
                    "the delivery queue is full: a push was dropped (clients catch up by sync)"
                );
            }
        }
    }
}

/// What the delivery task needs to find recipients and publish.
pub(crate) struct DeliveryContext {
    pub store: Arc<dyn Store>,
    pub bus: Arc<dyn Bus>,
    pub members: Arc<MemberCache>,
    pub presence: Arc<dyn Presence>,
}

#[derive(Clone)]
pub(crate) struct Appender {
    /// Submissions: one job, or the jobs of one `send_many`, which stay
    /// together in one transaction.
    jobs: mpsc::Sender<Vec<Job>>,
    deliveries: Deliveries,
}

/// A message to append, where it came from and its chat check.
pub(crate) struct ToAppend {
    pub message: NewMessage,
    pub origin: Option<SessionId>,
    pub check: Option<ChatCheck>,
}

impl Appender {
    pub(crate) fn start(context: DeliveryContext) -> Appender {
        let (jobs, rx) = mpsc::channel(QUEUE);
        let (deliveries, delivery_rx) = mpsc::channel(DELIVERY_QUEUE);
        let deliveries = Deliveries(deliveries);
        tokio::spawn(append_loop(context.store.clone(), rx, deliveries.clone()));
        tokio::spawn(delivery_loop(context, delivery_rx));
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
        let mut one = self
            .enqueue_many(vec![ToAppend {
                message,
                origin,
                check,
            }])
            .await?;
        one.pop()
            .ok_or_else(|| Error::internal("the appender lost a send"))
    }

    /// Queues messages as one submission: they are appended in the same
    /// transaction, in order. A submission is never split, so a batch may
    /// exceed `MAX_BATCH` by one submission; callers keep theirs bounded
    /// (`send_many` and `notify` take at most 1,000 recipients).
    pub(crate) async fn enqueue_many(&self, items: Vec<ToAppend>) -> Result<Vec<Committing>> {
        let mut jobs = Vec::with_capacity(items.len());
        let mut waiting = Vec::with_capacity(items.len());
        for item in items {
            let (reply, rx) = oneshot::channel();
            jobs.push(Job {
                message: item.message,
                origin: item.origin,
                check: item.check,
                reply,
            });
            waiting.push(Committing(rx));
        }
        self.jobs
            .send(jobs)
            .await
            .map_err(|_| Error::internal("the appender has stopped"))?;
        Ok(waiting)
    }

    /// Queues a message or event for delivery after those committed before.
    pub(crate) fn deliver(&self, delivery: Delivery) {
        self.deliveries.send(delivery);
    }
}

/// Stage one: takes what is queued, checks its chats (one query per
/// batch), and hands the batch to stage two, so that the checks of the next
/// batch run while this one is written.
async fn append_loop(
    store: Arc<dyn Store>,
    mut rx: mpsc::Receiver<Vec<Job>>,
    deliveries: Deliveries,
) {
    let (checked_tx, checked_rx) = mpsc::channel::<Vec<Job>>(2);
    tokio::spawn(write_loop(store.clone(), checked_rx, deliveries));
    while let Some(mut jobs) = rx.recv().await {
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(more) => jobs.extend(more),
                Err(_) => break,
            }
        }
        let started = std::time::Instant::now();
        let checked = check_chats(&*store, &mut jobs).await;
        tracing::debug!(
            messages = jobs.len(),
            micros = started.elapsed().as_micros() as u64,
            "checked a batch"
        );
        if let Err(e) = checked {
            // Each sender's dialect logs the error it is answered with.
            for job in jobs.drain(..) {
                let _ = job.reply.send(Err(e.clone()));
            }
            continue;
        }
        if jobs.is_empty() {
            continue;
        }
        if checked_tx.send(jobs).await.is_err() {
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
    deliveries: Deliveries,
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
        let results = append_batch(&*store, &batch).await;
        tracing::debug!(
            messages = batch.len(),
            micros = started.elapsed().as_micros() as u64,
            "appended a batch"
        );
        for ((origin, reply), result) in waiting.into_iter().zip(results) {
            if let Ok(appended) = &result {
                if !appended.duplicate {
                    deliveries.send(Delivery::Message(
                        Arc::new(appended.message.clone()),
                        origin,
                    ));
                }
            }
            let _ = reply.send(result);
        }
    }
}

/// Appends a batch in one transaction; one result per message. When the
/// store refuses the batch for a reason other than a conflict (a row it
/// cannot take), the batch is split in halves, each appended on its own,
/// down to the offending message, so that only its send fails and one
/// client can never fail another's. The splits are bounded (about twice the
/// depth of the halving), so that while the database is down a batch fails
/// after a few attempts instead of one attempt per message.
async fn append_batch(store: &dyn Store, batch: &[NewMessage]) -> Vec<Result<Appended>> {
    let mut results: Vec<Option<Result<Appended>>> = vec![None; batch.len()];
    // Enough failed attempts to isolate two bad rows; past them the store
    // is taken to be failing as a whole.
    let depth = (usize::BITS - batch.len().leading_zeros()) as usize;
    let mut failures_left = 2 * depth + 2;
    // Ranges still to append, in batch order, so that what commits keeps
    // the order of the sends.
    let mut ranges = std::collections::VecDeque::from([(0, batch.len())]);
    while let Some((lo, hi)) = ranges.pop_front() {
        let e = match append_once(store, &batch[lo..hi]).await {
            Ok(appended) => {
                for (slot, a) in results[lo..hi].iter_mut().zip(appended) {
                    *slot = Some(Ok(a));
                }
                continue;
            }
            Err(e) => e,
        };
        failures_left = failures_left.saturating_sub(1);
        if failures_left == 0 {
            // Everything not appended yet fails with this error.
            for slot in results.iter_mut().filter(|r| r.is_none()) {
                *slot = Some(Err(e.clone()));
            }
            break;
        }
        if hi - lo == 1 {
            results[lo] = Some(Err(e));
            continue;
        }
        if lo == 0 && hi == batch.len() {
            tracing::warn!(error = %e.log_message(), batch = batch.len(), "a batch was refused; appending it in parts");
        }
        let mid = lo + (hi - lo) / 2;
        ranges.push_front((mid, hi));
        ranges.push_front((lo, mid));
    }
    results
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| Err(Error::internal("a message of the batch was not appended")))
        })
        .collect()
}

/// One append, retried once on a conflict: another node may have stored
/// the same (sender, clientMsgID) between our check and our insert, and the
/// retry finds it. The store answers one result per message.
async fn append_once(store: &dyn Store, batch: &[NewMessage]) -> Result<Vec<Appended>> {
    let result = match store.append_messages(batch).await {
        Err(e) if e.kind() == ErrorKind::Conflict => store.append_messages(batch).await,
        other => other,
    }?;
    if result.len() != batch.len() {
        return Err(Error::internal("the store answered a different count"));
    }
    Ok(result)
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

async fn delivery_loop(context: DeliveryContext, mut rx: mpsc::Receiver<Delivery>) {
    while let Some(delivery) = rx.recv().await {
        let event = match delivery {
            Delivery::Event(event) => event,
            Delivery::Message(message, origin) => {
                let recipients = match recipients(&context, &message).await {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::error!(error = %e.log_message(), "finding the recipients of a message");
                        continue;
                    }
                };
                // A broadcast may be for some sessions only.
                let filter = if is_broadcast_conversation(&message.conversation_id) {
                    crate::notify::SentNotification::from_message(&message).and_then(|n| n.filter)
                } else {
                    None
                };
                Event {
                    recipients,
                    origin,
                    payload: Payload::Message(message),
                    filter,
                }
            }
        };
        if let Err(e) = context.bus.publish(event) {
            tracing::error!(error = %e, "publishing an event failed; its recipients catch up by sync");
        }
    }
}

/// Who gets a message: both users of a chat (the sender's other devices
/// too), every member of a group, the notified user, everyone online for a
/// broadcast. (Chatroom messages are delivered as events with their
/// recipients.)
async fn recipients(context: &DeliveryContext, m: &Message) -> Result<Vec<UserId>> {
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
            context.members.get(&*context.store, &group).await?.to_vec()
        }
        SessionType::Notification if is_broadcast_conversation(&m.conversation_id) => {
            context.presence.online_users().await?
        }
        SessionType::Notification => vec![UserId::from_trusted(m.recv_id.clone())],
        SessionType::Chatroom => Vec::new(),
    })
}
