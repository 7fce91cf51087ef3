//! Sessions watching other users' presence (OpenIM's 2005 subscription):
//! when a watched user's platforms change on this node (a session opens
//! or ends), each watching session is pushed the new status, in its
//! protocol. Watches die with their session (held weakly, dropped when
//! found dead).

use crate::codec::{Frame, Protocol};
use crate::handle::{Outbound, SessionHandle};
use confab_core::{Platform, UserId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

#[derive(Default)]
pub struct Watchers {
    by_user: Mutex<HashMap<UserId, Vec<Weak<SessionHandle>>>>,
}

impl Watchers {
    /// `session` watches `users` (again: once).
    pub(crate) fn watch(&self, session: &Arc<SessionHandle>, users: &[UserId]) {
        let mut by_user = self.by_user.lock().unwrap_or_else(|e| e.into_inner());
        for user in users {
            let list = by_user.entry(user.clone()).or_default();
            list.retain(|w| w.strong_count() > 0);
            if !list
                .iter()
                .any(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(session)))
            {
                list.push(Arc::downgrade(session));
            }
        }
    }

    /// `session` stops watching `users`.
    pub(crate) fn unwatch(&self, session: &SessionHandle, users: &[UserId]) {
        let mut by_user = self.by_user.lock().unwrap_or_else(|e| e.into_inner());
        for user in users {
            if let Some(list) = by_user.get_mut(user) {
                list.retain(|w| w.strong_count() > 0 && !std::ptr::eq(w.as_ptr(), session));
                if list.is_empty() {
                    by_user.remove(user);
                }
            }
        }
    }

    /// Tells the sessions watching `user` that it is on `platforms` now
    /// (none: offline). Each protocol's frame is encoded once.
    pub(crate) fn changed(&self, user: &UserId, platforms: &[Platform]) {
        let targets: Vec<Arc<SessionHandle>> = {
            let mut by_user = self.by_user.lock().unwrap_or_else(|e| e.into_inner());
            let Some(list) = by_user.get_mut(user) else {
                return;
            };
            list.retain(|w| w.strong_count() > 0);
            let live: Vec<_> = list.iter().filter_map(Weak::upgrade).collect();
            if list.is_empty() {
                by_user.remove(user);
            }
            live
        };
        let mut frames: HashMap<Protocol, Option<Frame>> = HashMap::new();
        for s in targets {
            let frame = frames
                .entry(s.protocol())
                .or_insert_with(|| s.encoder.status(user, platforms))
                .clone();
            if let Some(frame) = frame {
                s.send(Outbound::Frame(frame));
            }
        }
    }
}
