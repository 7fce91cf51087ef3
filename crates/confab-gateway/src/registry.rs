//! Who is connected here: user → sessions. Pushing only enqueues; a session
//! whose queue is full is cut off.
//!
//! The registry is also this node's presence: a user is online on the
//! platforms of their registered sessions. One map under one lock answers
//! both, so no interleaving of a login and a close can leave them
//! disagreeing (with a second map, a replaced session closing as its
//! replacement registered could mark an online user offline).

use axum::extract::ws::Utf8Bytes;
use confab_core::presence::Presence;
use confab_core::{Platform, UserId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, watch};

/// What the writer task sends.
pub enum Outbound {
    Frame(Utf8Bytes),
    /// Send this frame, then close (kicked).
    Last(Utf8Bytes),
    /// Close with this code and reason.
    Close(u16, &'static str),
}

pub struct SessionHandle {
    pub id: Arc<str>,
    pub platform: Platform,
    queue: mpsc::Sender<Outbound>,
    /// Set when the session must end without waiting for its queue.
    /// Level-triggered, so neither the reader nor the writer can miss it.
    state: watch::Sender<State>,
}

impl SessionHandle {
    pub(crate) fn new(
        id: Arc<str>,
        platform: Platform,
        queue: mpsc::Sender<Outbound>,
    ) -> SessionHandle {
        SessionHandle {
            id,
            platform,
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

/// The sessions of this node, by user; this node's presence.
#[derive(Default)]
pub struct Registry {
    users: Mutex<HashMap<UserId, Vec<Arc<SessionHandle>>>>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds a session and ends the user's other sessions on its platform
    /// (a new login replaces the old one), sending them `kick` first.
    pub(crate) fn register(&self, user: &UserId, session: Arc<SessionHandle>, kick: &Utf8Bytes) {
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        let sessions = users.entry(user.clone()).or_default();
        sessions.retain(|s| {
            if s.platform == session.platform {
                s.send(Outbound::Last(kick.clone()));
                false
            } else {
                true
            }
        });
        sessions.push(session);
    }

    /// Removes a session (when a newer one replaced it, it is gone
    /// already and this changes nothing).
    pub(crate) fn unregister(&self, user: &UserId, session: &SessionHandle) {
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        let Some(sessions) = users.get_mut(user) else {
            return;
        };
        sessions.retain(|s| s.id != session.id);
        if sessions.is_empty() {
            users.remove(user);
        }
    }

    /// Queues `frame` for every session of `recipients` but `skip`.
    pub(crate) fn push(&self, recipients: &[UserId], skip: Option<&str>, frame: &Utf8Bytes) {
        let users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        for user in recipients {
            if let Some(sessions) = users.get(user) {
                for s in sessions {
                    if Some(&*s.id) != skip {
                        s.send(Outbound::Frame(frame.clone()));
                    }
                }
            }
        }
    }

    /// Ends a user's sessions on `platform` (all when None) but `keep`.
    pub(crate) fn kick(
        &self,
        user: &UserId,
        platform: Option<Platform>,
        keep: Option<&str>,
        frame: &Utf8Bytes,
    ) {
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sessions) = users.get_mut(user) {
            sessions.retain(|s| {
                let hit = platform.is_none_or(|p| p == s.platform) && Some(&*s.id) != keep;
                if hit && !s.send(Outbound::Last(frame.clone())) {
                    s.cut_off();
                }
                !hit
            });
        }
    }

    /// Closes every session (the server is shutting down).
    pub fn close_all(&self) {
        let users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        for s in users.values().flatten() {
            if !s.send(Outbound::Close(1001, "server shutting down")) {
                s.cut_off();
            }
        }
    }

    /// How many sessions are connected to this node.
    pub fn session_count(&self) -> usize {
        let users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        users.values().map(Vec::len).sum()
    }
}

impl Presence for Registry {
    fn platforms(&self, user: &UserId) -> Vec<Platform> {
        let users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        let mut platforms: Vec<Platform> = users
            .get(user)
            .map(|sessions| sessions.iter().map(|s| s.platform).collect())
            .unwrap_or_default();
        platforms.sort_unstable();
        platforms.dedup();
        platforms
    }

    fn is_online(&self, user: &UserId) -> bool {
        // A user's entry goes when their last session does.
        let users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        users.contains_key(user)
    }

    fn online_users(&self) -> Vec<UserId> {
        let users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        users.keys().cloned().collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn session(id: &str, platform: Platform) -> (Arc<SessionHandle>, mpsc::Receiver<Outbound>) {
        let (tx, rx) = mpsc::channel(8);
        (Arc::new(SessionHandle::new(id.into(), platform, tx)), rx)
    }

    #[test]
    fn presence_is_the_platforms_of_the_sessions() {
        let registry = Registry::new();
        let user = UserId::parse("u", "u1").unwrap();
        let kick: Utf8Bytes = "kick".into();
        assert!(!registry.is_online(&user));
        let (web, _web_rx) = session("n1-1", Platform::Web);
        let (ios, _ios_rx) = session("n1-2", Platform::Ios);
        registry.register(&user, web.clone(), &kick);
        registry.register(&user, ios.clone(), &kick);
        assert_eq!(registry.platforms(&user), [Platform::Ios, Platform::Web]);
        assert!(registry.is_online(&user));
        registry.unregister(&user, &ios);
        assert_eq!(registry.platforms(&user), [Platform::Web]);
        registry.unregister(&user, &web);
        assert!(registry.platforms(&user).is_empty());
        assert!(!registry.is_online(&user));
    }

    #[test]
    fn a_replaced_session_that_closes_leaves_its_user_online() {
        let registry = Registry::new();
        let user = UserId::parse("u", "u1").unwrap();
        let kick: Utf8Bytes = "kick".into();
        let (old, mut old_rx) = session("n1-1", Platform::Web);
        let (new, _new_rx) = session("n1-2", Platform::Web);
        registry.register(&user, old.clone(), &kick);
        registry.register(&user, new.clone(), &kick);
        assert!(matches!(old_rx.try_recv(), Ok(Outbound::Last(_))), "kicked");
        // The kicked session closes after its replacement registered...
        registry.unregister(&user, &old);
        assert_eq!(registry.platforms(&user), [Platform::Web]);
        assert_eq!(registry.session_count(), 1);

        // ...or closes on its own just before its replacement registers.
        let (newer, _newer_rx) = session("n1-3", Platform::Web);
        registry.unregister(&user, &new);
        registry.register(&user, newer, &kick);
        assert_eq!(registry.platforms(&user), [Platform::Web]);
    }
}
