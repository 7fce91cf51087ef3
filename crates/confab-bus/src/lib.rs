//! Cross-node delivery. `LocalBus` hands events straight to this node's
//! gateway: on a single node every session is local.

use confab_core::bus::{Bus, BusError, Deliver, Event};
use std::sync::{Arc, RwLock, Weak};

/// The in-process bus. Events go to every subscriber, synchronously: a
/// subscriber must not block (the gateway only queues frames). Publishing
/// never fails.
///
/// Subscribers are held weakly: the service and the gateway hold the bus,
/// so strong references back would keep a stopped server (its tasks, its
/// database pool) alive for ever.
#[derive(Default)]
pub struct LocalBus {
    subscribers: RwLock<Vec<Weak<dyn Deliver>>>,
}

impl LocalBus {
    pub fn new() -> LocalBus {
        LocalBus::default()
    }

    /// Delivers events to `subscriber` for as long as it lives.
    pub fn subscribe(&self, subscriber: Arc<dyn Deliver>) {
        let mut subscribers = self.subscribers.write().unwrap_or_else(|e| e.into_inner());
        subscribers.retain(|s| s.strong_count() > 0);
        subscribers.push(Arc::downgrade(&subscriber));
    }
}

impl Bus for LocalBus {
    fn publish(&self, event: Event) -> Result<(), BusError> {
        let subscribers = self.subscribers.read().unwrap_or_else(|e| e.into_inner());
        for s in subscribers.iter().filter_map(Weak::upgrade) {
            s.deliver(&event);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_core::bus::Payload;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<usize>>);

    impl Deliver for Recorder {
        fn deliver(&self, event: &Event) {
            self.0.lock().unwrap().push(event.recipients.len());
        }
    }

    #[test]
    fn events_reach_every_subscriber() {
        let bus = LocalBus::new();
        let a = Arc::new(Recorder::default());
        let b = Arc::new(Recorder::default());
        bus.subscribe(a.clone());
        bus.subscribe(b.clone());
        let user = confab_core::UserId::parse("u", "u1").unwrap();
        bus.publish(Event {
            recipients: vec![user],
            origin: None,
            payload: Payload::Kick {
                platform: None,
                reason: "test".into(),
                except_session: None,
            },
            filter: None,
        })
        .unwrap();
        assert_eq!(*a.0.lock().unwrap(), vec![1]);
        assert_eq!(*b.0.lock().unwrap(), vec![1]);
    }
}
