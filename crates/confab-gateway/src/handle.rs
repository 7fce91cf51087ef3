//! One session as the registry and the session loop share it: its queue
//! to the writer, its state, what it said of itself, and the pushes it
//! holds while it catches up.

use crate::codec::{EventEncoder, Frame, Protocol};
use confab_core::bus::Payload;
use confab_core::presence::SessionAttributes;
use confab_core::Platform;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, watch};

/// What the writer task sends.
pub enum Outbound {
    Frame(Frame),
    /// Send this frame, then close (kicked).
    Last(Frame),
    /// Close with this code and reason.
    Close(u16, &'static str),
    /// A WebSocket ping (to clients that do not send heartbeats).
    Ping,
}

/// The last seq pushed per conversation, and the conversations whose mark
/// must stay where a catch-up cut short left it.
#[derive(Default)]
struct Pushed {
    last: HashMap<String, i64>,
    capped: HashSet<String>,
}

/// A push held back during a catch-up.
struct HeldPush {
    frame: Frame,
    message: Option<(String, i64)>,
    /// The notification it carries, if any.
    notification: Option<i64>,
}

pub struct SessionHandle {
    pub id: Arc<str>,
    pub platform: Platform,
    /// What the session said of itself (for filtered pushes).
    pub attributes: SessionAttributes,
    /// How this session's protocol says events.
    pub(crate) encoder: Arc<dyn EventEncoder>,
    /// What was pushed, kept when the protocol's pushes count as
    /// deliveries; the session records it when it ends.
    pushed: Option<Mutex<Pushed>>,
    /// Pushes held while the session catches up (None once it has): each
    /// with the conversation and seq of its message.
    held: Mutex<Option<Vec<HeldPush>>>,
    queue: mpsc::Sender<Outbound>,
    /// Set when the session must end without waiting for its queue.
    /// Level-triggered, so neither the reader nor the writer can miss it.
    state: watch::Sender<State>,
}

impl SessionHandle {
    pub(crate) fn new(
        id: Arc<str>,
        platform: Platform,
        attributes: SessionAttributes,
        encoder: Arc<dyn EventEncoder>,
        queue: mpsc::Sender<Outbound>,
        catching_up: bool,
    ) -> SessionHandle {
        let pushed = encoder.pushes_are_deliveries().then(Mutex::default);
        SessionHandle {
            id,
            platform,
            attributes,
            encoder,
            pushed,
            held: Mutex::new(catching_up.then(Vec::new)),
            queue,
            state: watch::Sender::new(State::Open),
        }
    }

    /// Queues a frame; a full queue cuts the session off.
    pub(crate) fn send(&self, frame: Outbound) -> bool {
        match self.queue.try_send(frame) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.cut_off();
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// Ends the session because its client cannot keep up.
    pub(crate) fn cut_off(&self) {
        self.state.send_if_modified(|s| {
            let open = *s == State::Open;
            if open {
                *s = State::TooSlow;
            }
            open
        });
    }

    /// Ends the session (the client left, was kicked, or the server stops).
    pub(crate) fn finish(&self) {
        self.state.send_if_modified(|s| {
            let open = *s == State::Open;
            if open {
                *s = State::Done;
            }
            open
        });
    }

    /// Notes a message pushed to this session, if its protocol counts
    /// pushes as deliveries.
    fn note_pushed(&self, conversation_id: &str, seq: i64) {
        if let Some(pushed) = &self.pushed {
            let mut pushed = pushed.lock().unwrap_or_else(|e| e.into_inner());
            if pushed.capped.contains(conversation_id) {
                return;
            }
            let last = pushed.last.entry(conversation_id.to_owned()).or_default();
            *last = (*last).max(seq);
        }
    }

    /// Notes what a catch-up queued: up to `last` of a conversation, and
    /// when it stopped short of the end, no further.
    pub(crate) fn note_caught_up(&self, conversation_id: &str, last: i64, complete: bool) {
        self.note_pushed(conversation_id, last);
        if let (false, Some(pushed)) = (complete, &self.pushed) {
            let mut pushed = pushed.lock().unwrap_or_else(|e| e.into_inner());
            pushed.capped.insert(conversation_id.to_owned());
        }
    }

    /// Queues a frame, waiting while the queue is full (a catch-up, which
    /// may be longer than the queue). False once the writer is gone.
    pub(crate) async fn send_waiting(&self, frame: Frame) -> bool {
        !self.is_cut() && self.queue.send(Outbound::Frame(frame)).await.is_ok()
    }

    /// Queues the push of an event, or holds it while the session catches
    /// up. False when the session is cut off.
    pub(crate) fn push(&self, frame: Frame, payload: &Payload) -> bool {
        let message = match payload {
            Payload::Message(m) => Some((m.conversation_id.clone(), m.seq)),
            _ => None,
        };
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(held) = held.as_mut() {
            // Held pushes count against the queue, as queued ones would.
            if held.len() >= self.queue.max_capacity() {
                self.cut_off();
                return false;
            }
            let notification = match payload {
                Payload::Message(m) => {
                    confab_service::SentNotification::from_message(m).map(|n| n.id)
                }
                _ => None,
            };
            held.push(HeldPush {
                frame,
                message,
                notification,
            });
            return true;
        }
        drop(held);
        let sent = self.send(Outbound::Frame(frame));
        if let (true, Some((conversation_id, seq))) = (sent, &message) {
            self.note_pushed(conversation_id, *seq);
        }
        sent
    }

    /// Ends the catch-up: sends the held pushes but those of messages the
    /// catch-up looked at already (`seen`: the last seq looked at per
    /// conversation) and of notifications it sent (`sent`, by id). False
    /// when the session is cut off.
    pub(crate) fn release(&self, seen: &[(&str, i64)], sent: &[i64]) -> bool {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let Some(pushes) = held.take() else {
            return true;
        };
        // Sent under the lock, so that no newer push overtakes them.
        for push in pushes {
            let looked = push.message.as_ref().is_some_and(|(conversation_id, seq)| {
                seen.iter()
                    .any(|(c, last)| c == conversation_id && seq <= last)
            }) || push.notification.is_some_and(|id| sent.contains(&id));
            if looked {
                continue;
            }
            if !self.send(Outbound::Frame(push.frame)) {
                return false;
            }
            if let Some((conversation_id, seq)) = &push.message {
                self.note_pushed(conversation_id, *seq);
            }
        }
        true
    }

    /// The last seq pushed per conversation (see `note_pushed`), taken.
    pub(crate) fn take_pushed(&self) -> Vec<(String, i64)> {
        self.pushed
            .as_ref()
            .map(|p| {
                let mut pushed = p.lock().unwrap_or_else(|e| e.into_inner());
                std::mem::take(&mut pushed.last).into_iter().collect()
            })
            .unwrap_or_default()
    }

    pub fn protocol(&self) -> Protocol {
        self.encoder.protocol()
    }

    pub fn is_cut(&self) -> bool {
        *self.state.borrow() != State::Open
    }

    pub(crate) fn was_too_slow(&self) -> bool {
        *self.state.borrow() == State::TooSlow
    }

    /// A watcher of the session's state, for `ended`.
    pub(crate) fn watch(&self) -> watch::Receiver<State> {
        self.state.subscribe()
    }
}

/// Completes once the watched session is ending.
pub(crate) async fn ended(watcher: &mut watch::Receiver<State>) {
    let _ = watcher.wait_for(|s| *s != State::Open).await;
}

/// Whether a session goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Open,
    TooSlow,
    Done,
}
