//! Who is connected here: user → sessions. Pushing only enqueues; a session
//! whose queue is full is cut off. Each session knows its protocol's
//! encoder; an event is encoded at most once per protocol among its
//! recipients, on first need, and the frame is shared.
//!
//! The registry is also this node's presence: a user is online on the
//! platforms of their registered sessions. One map under one lock answers
//! both, so no interleaving of a login and a close can leave them
//! disagreeing (with a second map, a replaced session closing as its
//! replacement registered could mark an online user offline).

pub(crate) use crate::handle::{ended, too_slow, Outbound, SessionHandle};

use crate::codec::{EventEncoder, Frame, Protocol};
use confab_core::bus::Payload;
use confab_core::presence::{Presence, SessionFilter};
use confab_core::{Platform, UserId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The sessions of this node, by user; this node's presence.
#[derive(Default)]
pub struct Registry {
    users: Mutex<HashMap<UserId, Vec<Arc<SessionHandle>>>>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds a session and ends the user's other sessions of its protocol
    /// on its platform (a new login replaces the old one; a device's chat
    /// socket and notification socket live side by side), sending them a
    /// kick first.
    pub(crate) fn register(&self, user: &UserId, session: Arc<SessionHandle>, reason: &str) {
        let mut kicks = Frames::default();
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        let sessions = users.entry(user.clone()).or_default();
        sessions.retain(|s| {
            if s.platform == session.platform && s.protocol() == session.protocol() {
                let kick = kicks.get(s, |e| Some(e.kick(reason)));
                if let Some(kick) = kick {
                    s.send(Outbound::Last(kick));
                }
                false
            } else {
                true
            }
        });
        sessions.push(session);
    }

    /// Removes a session (when a newer one replaced it, it is gone
    /// already and this changes nothing).
    /// Returns whether it was the user's last session here.
    pub(crate) fn unregister(&self, user: &UserId, session: &SessionHandle) -> bool {
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        let Some(sessions) = users.get_mut(user) else {
            return true;
        };
        sessions.retain(|s| s.id != session.id);
        if sessions.is_empty() {
            users.remove(user);
            return true;
        }
        false
    }

    /// Queues the push of `payload` for every session of `recipients` but
    /// `skip` (and but those `filter` leaves out), in each session's
    /// protocol.
    pub(crate) fn push(
        &self,
        recipients: &[UserId],
        skip: Option<&str>,
        filter: Option<&SessionFilter>,
        payload: &Payload,
    ) {
        // Only finding the sessions holds the lock: encoding a large
        // message must not stall logins and closes.
        let targets: Vec<Arc<SessionHandle>> = {
            let users = self.users.lock().unwrap_or_else(|e| e.into_inner());
            recipients
                .iter()
                .filter_map(|user| users.get(user))
                .flatten()
                .filter(|s| Some(&*s.id) != skip)
                .filter(|s| filter.is_none_or(|f| f.matches(&s.attributes)))
                .cloned()
                .collect()
        };
        // The notification a message carries, read once for every session
        // that must not get it twice (its catch-up may have sent it).
        let notification = match payload {
            Payload::Message(m) if targets.iter().any(|s| s.tracks_delivery()) => {
                confab_service::SentNotification::from_message(m).map(|n| n.id)
            }
            _ => None,
        };
        let mut frames = Frames::default();
        for s in &targets {
            if let Some(frame) = frames.get(s, |e| e.event(payload)) {
                s.push(frame, payload, notification);
            }
        }
    }

    /// Ends the sessions of `users` on `platform` (all when None) but
    /// `keep` (and but those `filter` leaves out), telling them `reason`.
    pub(crate) fn kick(
        &self,
        users: &[UserId],
        platform: Option<Platform>,
        keep: Option<&str>,
        filter: Option<&SessionFilter>,
        reason: &str,
    ) {
        let mut kicks = Frames::default();
        let mut registered = self.users.lock().unwrap_or_else(|e| e.into_inner());
        for user in users {
            let Some(sessions) = registered.get_mut(user) else {
                continue;
            };
            sessions.retain(|s| {
                let hit = platform.is_none_or(|p| p == s.platform)
                    && Some(&*s.id) != keep
                    && filter.is_none_or(|f| f.matches(&s.attributes));
                if hit {
                    let sent = kicks
                        .get(s, |e| Some(e.kick(reason)))
                        .is_some_and(|kick| s.send(Outbound::Last(kick)));
                    if !sent {
                        s.cut_off();
                    }
                }
                !hit
            });
            if sessions.is_empty() {
                registered.remove(user);
            }
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

/// The frames of one event, encoded at most once per protocol and only
/// for protocols some recipient speaks.
#[derive(Default)]
struct Frames {
    encoded: Vec<(Protocol, Option<Frame>)>,
}

impl Frames {
    fn get(
        &mut self,
        session: &SessionHandle,
        encode: impl FnOnce(&dyn EventEncoder) -> Option<Frame>,
    ) -> Option<Frame> {
        let protocol = session.protocol();
        if let Some((_, frame)) = self.encoded.iter().find(|(p, _)| *p == protocol) {
            return frame.clone();
        }
        let frame = encode(&*session.encoder);
        self.encoded.push((protocol, frame.clone()));
        frame
    }
}

impl Registry {
    /// The platforms `user` is online on at this node, in platform id order.
    pub fn local_platforms(&self, user: &UserId) -> Vec<Platform> {
        let users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        let mut platforms: Vec<Platform> = users
            .get(user)
            .map(|sessions| sessions.iter().map(|s| s.platform).collect())
            .unwrap_or_default();
        platforms.sort_unstable();
        platforms.dedup();
        platforms
    }

    /// The users with a session at this node.
    pub fn local_users(&self) -> Vec<UserId> {
        let users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        users.keys().cloned().collect()
    }
}

/// On one node, the registry is the whole presence.
#[async_trait::async_trait]
impl Presence for Registry {
    async fn platforms_of(&self, users: &[UserId]) -> confab_core::Result<Vec<Vec<Platform>>> {
        Ok(users.iter().map(|u| self.local_platforms(u)).collect())
    }

    async fn online_users(&self) -> confab_core::Result<Vec<UserId>> {
        Ok(self.local_users())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use confab_core::presence::SessionAttributes;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// Encodes every event as its protocol's name, counting encodings.
    struct Counting {
        protocol: Protocol,
        encoded: Arc<AtomicUsize>,
        tracks: bool,
    }

    impl EventEncoder for Counting {
        fn protocol(&self) -> Protocol {
            self.protocol
        }

        fn event(&self, _: &Payload) -> Option<Frame> {
            self.encoded.fetch_add(1, Ordering::Relaxed);
            Some(Frame::Text(self.protocol.0.into()))
        }

        fn kick(&self, _: &str) -> Frame {
            self.encoded.fetch_add(1, Ordering::Relaxed);
            Frame::Text(format!("kick {}", self.protocol.0).into())
        }

        fn tracks_delivery(&self) -> bool {
            self.tracks
        }
    }

    fn encoder(name: &'static str, encoded: &Arc<AtomicUsize>) -> Arc<dyn EventEncoder> {
        Arc::new(Counting {
            protocol: Protocol(name),
            encoded: encoded.clone(),
            tracks: false,
        })
    }

    fn session_with(
        id: &str,
        platform: Platform,
        encoder: Arc<dyn EventEncoder>,
    ) -> (Arc<SessionHandle>, flume::Receiver<Outbound>) {
        let (tx, rx) = flume::bounded(8);
        (
            Arc::new(SessionHandle::new(
                id.into(),
                platform,
                SessionAttributes::new(),
                encoder,
                tx,
            )),
            rx,
        )
    }

    fn session(id: &str, platform: Platform) -> (Arc<SessionHandle>, flume::Receiver<Outbound>) {
        session_with(id, platform, Arc::new(crate::JsonCodec))
    }

    fn user(id: &str) -> UserId {
        UserId::parse("u", id).unwrap()
    }

    fn received(rx: &mut flume::Receiver<Outbound>) -> Vec<Frame> {
        let mut frames = Vec::new();
        while let Ok(out) = rx.try_recv() {
            match out {
                Outbound::Frame(f) | Outbound::Last(f) | Outbound::Push(f, _) => frames.push(f),
                Outbound::Close(..) | Outbound::Ping | Outbound::Note(_) => {}
            }
        }
        frames
    }

    #[test]
    fn an_event_is_encoded_once_per_protocol_among_its_recipients() {
        let registry = Registry::new();
        let (a, b, c) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
        );
        let mut queues = Vec::new();
        // Three users on protocol "a" (two encoder values, one protocol),
        // two on "b"; "c" is spoken only by someone the event is not for.
        for (i, (name, counter)) in [("a", &a), ("a", &a), ("a", &a), ("b", &b), ("b", &b)]
            .into_iter()
            .enumerate()
        {
            let (s, rx) = session_with(&format!("n1-{i}"), Platform::Web, encoder(name, counter));
            registry.register(&user(&format!("u{i}")), s, "");
            queues.push(rx);
        }
        let (bystander, mut bystander_rx) = session_with("n1-9", Platform::Web, encoder("c", &c));
        registry.register(&user("bystander"), bystander, "");

        let recipients: Vec<UserId> = (0..5).map(|i| user(&format!("u{i}"))).collect();
        let payload = Payload::Read {
            reader: user("u0"),
            conversation_id: "si_u0_u1".into(),
            seq: 1,
        };
        registry.push(&recipients, None, None, &payload);
        assert_eq!(
            (
                a.load(Ordering::Relaxed),
                b.load(Ordering::Relaxed),
                c.load(Ordering::Relaxed)
            ),
            (1, 1, 0)
        );
        let got: Vec<Vec<Frame>> = queues.iter_mut().map(received).collect();
        let a_frame = Frame::Text("a".into());
        let b_frame = Frame::Text("b".into());
        assert_eq!(
            got,
            [
                vec![a_frame.clone()],
                vec![a_frame.clone()],
                vec![a_frame],
                vec![b_frame.clone()],
                vec![b_frame]
            ]
        );
        assert!(received(&mut bystander_rx).is_empty());

        // Nobody of the event online: nothing is encoded.
        registry.push(&[user("offline")], None, None, &payload);
        assert_eq!(a.load(Ordering::Relaxed) + b.load(Ordering::Relaxed), 2);

        // Kicks too: once per protocol.
        registry.kick(&recipients, None, None, None, "bye");
        assert_eq!(
            (a.load(Ordering::Relaxed), b.load(Ordering::Relaxed)),
            (2, 2)
        );
        assert_eq!(registry.session_count(), 1);
    }

    #[test]
    fn a_kicked_user_is_offline() {
        let registry = Registry::new();
        let (web, _rx) = session("n1-1", Platform::Web);
        registry.register(&user("u1"), web, "");
        registry.kick(&[user("u1")], None, None, None, "bye");
        assert!(registry.local_platforms(&user("u1")).is_empty());
        assert!(registry.local_platforms(&user("u1")).is_empty());
    }

    #[test]
    fn presence_is_the_platforms_of_the_sessions() {
        let registry = Registry::new();
        let user = user("u1");
        assert!(registry.local_platforms(&user).is_empty());
        let (web, _web_rx) = session("n1-1", Platform::Web);
        let (ios, _ios_rx) = session("n1-2", Platform::Ios);
        registry.register(&user, web.clone(), "");
        registry.register(&user, ios.clone(), "");
        assert_eq!(
            registry.local_platforms(&user),
            [Platform::Ios, Platform::Web]
        );
        assert!(!registry.local_platforms(&user).is_empty());
        registry.unregister(&user, &ios);
        assert_eq!(registry.local_platforms(&user), [Platform::Web]);
        registry.unregister(&user, &web);
        assert!(registry.local_platforms(&user).is_empty());
        assert!(registry.local_platforms(&user).is_empty());
    }

    #[test]
    fn a_replaced_session_that_closes_leaves_its_user_online() {
        let registry = Registry::new();
        let user = user("u1");
        let (old, old_rx) = session("n1-1", Platform::Web);
        let (new, _new_rx) = session("n1-2", Platform::Web);
        registry.register(&user, old.clone(), "again");
        registry.register(&user, new.clone(), "again");
        assert!(matches!(old_rx.try_recv(), Ok(Outbound::Last(_))), "kicked");
        // The kicked session closes after its replacement registered...
        registry.unregister(&user, &old);
        assert_eq!(registry.local_platforms(&user), [Platform::Web]);
        assert_eq!(registry.session_count(), 1);

        // ...or closes on its own just before its replacement registers.
        let (newer, _newer_rx) = session("n1-3", Platform::Web);
        registry.unregister(&user, &new);
        registry.register(&user, newer, "again");
        assert_eq!(registry.local_platforms(&user), [Platform::Web]);
    }

    fn message(conversation_id: &str, seq: i64) -> Payload {
        Payload::Message(Arc::new(confab_core::message::Message {
            conversation_id: conversation_id.into(),
            seq,
            server_msg_id: format!("s{seq}"),
            client_msg_id: format!("c{seq}"),
            sender_id: user("admin"),
            sender_platform: 0,
            sender_nickname: String::new(),
            sender_face_url: String::new(),
            session_type: confab_core::message::SessionType::Notification,
            recv_id: String::new(),
            content_type: 101,
            content: "{}".into(),
            send_time: 1,
            status: confab_core::message::MessageStatus::Normal,
            at_user_ids: vec![],
            ex: String::new(),
        }))
    }

    #[test]
    fn a_filter_picks_sessions_by_their_attributes() {
        let registry = Registry::new();
        let encoded = Arc::new(AtomicUsize::new(0));
        let mut queues = Vec::new();
        for (i, platform) in ["ios", "android"].into_iter().enumerate() {
            let (tx, rx) = flume::bounded(8);
            let attributes = [("platform".to_owned(), platform.to_owned())]
                .into_iter()
                .collect();
            let s = Arc::new(SessionHandle::new(
                format!("n1-{i}").into(),
                Platform::Web,
                attributes,
                encoder("a", &encoded),
                tx,
            ));
            registry.register(&user(&format!("u{i}")), s, "");
            queues.push(rx);
        }
        let everyone = [user("u0"), user("u1")];
        let ios = SessionFilter([("platform".to_owned(), "ios".to_owned())].into());
        registry.push(&everyone, None, Some(&ios), &message("b_all", 1));
        assert_eq!(received(&mut queues[0]).len(), 1);
        assert!(received(&mut queues[1]).is_empty());
        registry.push(&everyone, None, None, &message("b_all", 2));
        assert_eq!(received(&mut queues[0]).len(), 1);
        assert_eq!(received(&mut queues[1]).len(), 1);
    }

    #[tokio::test]
    async fn pushes_held_during_a_catch_up_skip_what_it_looked_at() {
        let registry = Registry::new();
        let encoded = Arc::new(AtomicUsize::new(0));
        let (tx, mut rx) = flume::bounded(8);
        let s = Arc::new(SessionHandle::new(
            "n1-1".into(),
            Platform::Web,
            SessionAttributes::new(),
            Arc::new(Counting {
                protocol: Protocol("a"),
                encoded: encoded.clone(),
                tracks: true,
            }),
            tx,
        ));
        registry.register(&user("u1"), s.clone(), "");
        for seq in 1..=3 {
            registry.push(&[user("u1")], None, None, &message("n_u1", seq));
        }
        assert!(received(&mut rx).is_empty(), "held");
        let catch_up = confab_service::CatchUp {
            notifications: Vec::new(),
            looked: vec![confab_service::Looked {
                conversation_id: "n_u1".into(),
                last: 2,
                complete: true,
            }],
        };
        assert!(s.release(&catch_up, Duration::from_secs(1)).await);
        assert_eq!(
            received(&mut rx).len(),
            1,
            "only seq 3, which the catch-up did not see"
        );
        registry.push(&[user("u1")], None, None, &message("n_u1", 4));
        assert_eq!(received(&mut rx).len(), 1, "no longer held");
        // A late push of what the catch-up covered is not sent again.
        registry.push(&[user("u1")], None, None, &message("n_u1", 2));
        assert!(received(&mut rx).is_empty());
    }
}
