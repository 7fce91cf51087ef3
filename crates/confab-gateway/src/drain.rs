//! Graceful shutdown of the sessions: a drain.
//!
//! Closing a session at once would drop the answers to the sends it has
//! read and not yet answered (they commit, but their clients never learn
//! it), and the frames a client wrote just before the close would go
//! unread. So when the server stops, each session is told to drain: it
//! keeps reading and answering, refuses new sends with an error that says
//! the server is stopping (so the client stops sending and reconnects
//! elsewhere or later), and closes once every send it read is answered and
//! the client has been quiet for `QUIET`. The server waits for the sessions
//! up to its own deadline, then closes what is left.

use confab_core::{Error, ErrorKind};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// How long a draining session waits for a client that has all its answers
/// before closing: long enough for a client to read a refusal and stop
/// writing, so that nothing it wrote meanwhile goes unread.
pub const QUIET: Duration = Duration::from_millis(500);

/// What refuses a send while the server drains.
pub(crate) fn refusal() -> Error {
    Error::new(
        ErrorKind::Unavailable,
        "the server is shutting down; send again after reconnecting",
    )
}

/// The node's drain signal and its count of running sessions, which the
/// server waits on.
pub(crate) struct Drain {
    draining: watch::Sender<bool>,
    live: watch::Sender<usize>,
    /// When the drain began.
    began: std::sync::OnceLock<Instant>,
}

impl Default for Drain {
    fn default() -> Drain {
        Drain {
            draining: watch::Sender::new(false),
            live: watch::Sender::new(0),
            began: std::sync::OnceLock::new(),
        }
    }
}

impl Drain {
    /// Tells every session, present and future, to drain.
    pub(crate) fn start(&self) {
        self.began.get_or_init(Instant::now);
        self.draining.send_replace(true);
    }

    /// When the drain began (now if it has not).
    pub(crate) fn began(&self) -> Instant {
        *self.began.get_or_init(Instant::now)
    }

    /// A session starts: counted until the returned guard drops.
    pub(crate) fn session(&self) -> (LiveSession, watch::Receiver<bool>) {
        self.live.send_modify(|n| *n += 1);
        (LiveSession(self.live.clone()), self.draining.subscribe())
    }

    /// Waits until no session runs, or `deadline`; returns how many still
    /// run.
    pub(crate) async fn ended(&self, deadline: Instant) -> usize {
        let mut live = self.live.subscribe();
        let _ = tokio::time::timeout_at(deadline, live.wait_for(|n| *n == 0)).await;
        let left = *live.borrow();
        left
    }
}

/// A running session, counted by `Drain`.
pub(crate) struct LiveSession(watch::Sender<usize>);

impl Drop for LiveSession {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// One session's view of the drain: whether it drains, and until when it
/// waits for its client.
pub(crate) struct SessionDrain {
    signal: watch::Receiver<bool>,
    /// Set once draining: the session closes past it with nothing to answer.
    quiet_until: Option<Instant>,
}

impl SessionDrain {
    pub(crate) fn new(signal: watch::Receiver<bool>) -> SessionDrain {
        SessionDrain {
            signal,
            quiet_until: None,
        }
    }

    pub(crate) fn draining(&self) -> bool {
        self.quiet_until.is_some()
    }

    /// Completes when the drain begins (never once it has: the session
    /// then waits on `quiet`).
    pub(crate) async fn begins(&mut self) {
        if self.draining() {
            return std::future::pending().await;
        }
        let _ = self.signal.wait_for(|d| *d).await;
    }

    /// The drain began, or the client said something: the quiet wait
    /// starts over.
    pub(crate) fn heard(&mut self) {
        if self.draining() || *self.signal.borrow() {
            self.quiet_until = Some(Instant::now() + QUIET);
        }
    }

    /// How long to wait for the client's next frame: `wait` while not
    /// draining, then until the quiet wait is over.
    pub(crate) fn read_timeout(&self, wait: Duration) -> Duration {
        match self.quiet_until {
            Some(at) => at.saturating_duration_since(Instant::now()).min(wait),
            None => wait,
        }
    }
}
