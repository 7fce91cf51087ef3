//! One session as the registry and the session loop share it: its queue
//! to the writer, its state, what it said of itself, and (`deliveries.rs`)
//! what it has been sent and the pushes it holds while it catches up.

use crate::codec::{EventEncoder, Frame, Protocol};
use crate::deliveries::{Covered, HeldPush, Marks};
use confab_core::bus::Payload;
use confab_core::presence::SessionAttributes;
use confab_core::Platform;
use confab_service::{CatchUp, Looked};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// What the writer task sends.
pub enum Outbound {
    Frame(Frame),
    /// A push to a session whose protocol tracks delivery; once written,
    /// its message (if it is one) is recorded.
    /// (Boxed: queued items are as large as the largest variant.)
    Push(Frame, Option<Box<Looked>>),
    /// Once everything before it is written, these are recorded (the end
    /// of a catch-up).
    Note(Vec<Looked>),
    /// Send this frame, then close (kicked).
    Last(Frame),
    /// Close with this code and reason.
    Close(u16, &'static str),
    /// A WebSocket ping (to clients that do not send heartbeats).
    Ping,
}

pub struct SessionHandle {
    pub id: Arc<str>,
    pub platform: Platform,
    /// What the session said of itself (for filtered pushes).
    pub attributes: SessionAttributes,
    /// How this session's protocol says events.
    pub(crate) encoder: Arc<dyn EventEncoder>,
    /// What was written, kept when the protocol tracks delivery (then the
    /// session also catches up on connecting); the session records it when
    /// it ends.
    marks: Option<Mutex<Marks>>,
    /// Pushes held while the session catches up (None once it has).
    held: Mutex<Option<Vec<HeldPush>>>,
    /// What the catch-up covered.
    covered: Mutex<Covered>,
    queue: flume::Sender<Outbound>,
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
        queue: flume::Sender<Outbound>,
    ) -> SessionHandle {
        let tracks = encoder.tracks_delivery();
        SessionHandle {
            id,
            platform,
            attributes,
            encoder,
            marks: tracks.then(Mutex::default),
            held: Mutex::new(tracks.then(Vec::new)),
            covered: Mutex::default(),
            queue,
            state: watch::Sender::new(State::Open),
        }
    }

    /// Queues a frame; a full queue cuts the session off, and nothing is
    /// queued once it is (so nothing after a lost push can be recorded as
    /// delivered).
    pub(crate) fn send(&self, frame: Outbound) -> bool {
        if self.is_cut() {
            return false;
        }
        match self.queue.try_send(frame) {
            Ok(()) => true,
            Err(flume::TrySendError::Full(_)) => {
                self.cut_off();
                false
            }
            Err(flume::TrySendError::Disconnected(_)) => false,
        }
    }

    /// Queues a frame, waiting while the queue is full (a catch-up, which
    /// may be longer than the queue), for at most `patience` without room.
    /// False once the session ends, or cut off when it ran out of patience.
    pub(crate) async fn send_waiting(&self, out: Outbound, patience: Duration) -> bool {
        if self.is_cut() {
            return false;
        }
        let mut watcher = self.watch();
        tokio::select! {
            sent = self.queue.send_async(out) => sent.is_ok(),
            _ = ended(&mut watcher) => false,
            _ = tokio::time::sleep(patience) => {
                self.cut_off();
                false
            }
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

    /// Whether the session's protocol tracks delivery (it catches up on
    /// connecting and holds pushes meanwhile).
    pub(crate) fn tracks_delivery(&self) -> bool {
        self.marks.is_some()
    }

    /// Queues the push of an event (`notification`: the id of the
    /// notification it carries), or holds it while the session catches up.
    /// A push the catch-up covered is dropped. False when the session is
    /// cut off.
    pub(crate) fn push(&self, frame: Frame, payload: &Payload, notification: Option<i64>) -> bool {
        if !self.tracks_delivery() {
            return self.send(Outbound::Frame(frame));
        }
        let message = match payload {
            Payload::Message(m) => Some((m.conversation_id.clone(), m.seq)),
            _ => None,
        };
        if self
            .covered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .covers(message.as_ref(), notification)
        {
            return true;
        }
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(held) = held.as_mut() {
            // Held pushes count against the queue, as queued ones would.
            if held.len() >= self.queue.capacity().unwrap_or(usize::MAX) {
                self.cut_off();
                return false;
            }
            held.push(HeldPush {
                frame,
                message,
                notification,
            });
            return true;
        }
        drop(held);
        self.send(Outbound::Push(frame, written(message)))
    }

    /// Ends the catch-up: from now on pushes of what it covered (what it
    /// looked at, what it sent) are dropped, and the held pushes but those
    /// are sent, waiting for room as the catch-up did. False when the
    /// session ends meanwhile.
    pub(crate) async fn release(&self, catch_up: &CatchUp, patience: Duration) -> bool {
        *self.covered.lock().unwrap_or_else(|e| e.into_inner()) =
            Covered::new(&catch_up.looked, &catch_up.notifications);
        loop {
            // Pushes arriving while a batch is sent are held for the next
            // one, so none overtakes an older one.
            let batch = {
                let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
                match held.as_mut() {
                    None => return true,
                    Some(pushes) if pushes.is_empty() => {
                        *held = None;
                        return true;
                    }
                    Some(pushes) => std::mem::take(pushes),
                }
            };
            for push in batch {
                let covered = self
                    .covered
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .covers(push.message.as_ref(), push.notification);
                if covered {
                    continue;
                }
                if !self
                    .send_waiting(Outbound::Push(push.frame, written(push.message)), patience)
                    .await
                {
                    return false;
                }
            }
        }
    }

    /// Records what the writer has written (see `Outbound::Push`, `Note`).
    pub(crate) fn record(&self, written: impl IntoIterator<Item = Looked>) {
        if let Some(marks) = &self.marks {
            let mut marks = marks.lock().unwrap_or_else(|e| e.into_inner());
            for d in written {
                marks.record(d);
            }
        }
    }

    /// The last seq written per conversation, taken.
    pub(crate) fn take_written(&self) -> Vec<(String, i64)> {
        self.marks
            .as_ref()
            .map(|m| m.lock().unwrap_or_else(|e| e.into_inner()).take())
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

/// What writing a push of `message` (conversation, seq) records.
fn written(message: Option<(String, i64)>) -> Option<Box<Looked>> {
    message.map(|(conversation_id, last)| {
        Box::new(Looked {
            conversation_id,
            last,
            complete: true,
        })
    })
}

/// Completes once the watched session is ending.
pub(crate) async fn ended(watcher: &mut watch::Receiver<State>) {
    let _ = watcher.wait_for(|s| *s != State::Open).await;
}

/// Completes once the session is cut off for not keeping up.
pub(crate) async fn too_slow(watcher: &mut watch::Receiver<State>) {
    let _ = watcher.wait_for(|s| *s == State::TooSlow).await;
}

/// Whether a session goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Open,
    TooSlow,
    Done,
}
