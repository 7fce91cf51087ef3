//! Who is online, on which platforms. The WebSocket gateway reports
//! connections here; until a user connects they are offline.

use confab_core::{Platform, UserId};
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

#[derive(Default)]
pub struct Presence {
    online: Mutex<HashMap<UserId, BTreeSet<Platform>>>,
}

impl Presence {
    pub fn set_online(&self, user_id: &UserId, platform: Platform) {
        let mut online = self.online.lock().unwrap_or_else(|e| e.into_inner());
        online.entry(user_id.clone()).or_default().insert(platform);
    }

    pub fn set_offline(&self, user_id: &UserId, platform: Platform) {
        let mut online = self.online.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(platforms) = online.get_mut(user_id) {
            platforms.remove(&platform);
            if platforms.is_empty() {
                online.remove(user_id);
            }
        }
    }
}

impl Presence {
    /// The platforms the user is online on, in platform id order.
    pub fn platforms(&self, user_id: &UserId) -> Vec<Platform> {
        confab_core::presence::Presence::platforms(self, user_id)
    }
}

impl confab_core::presence::Presence for Presence {
    fn platforms(&self, user_id: &UserId) -> Vec<Platform> {
        let online = self.online.lock().unwrap_or_else(|e| e.into_inner());
        online
            .get(user_id)
            .map(|p| p.iter().copied().collect())
            .unwrap_or_default()
    }

    fn online_users(&self) -> Vec<UserId> {
        let online = self.online.lock().unwrap_or_else(|e| e.into_inner());
        online.keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_platforms() {
        let p = Presence::default();
        let u = UserId::parse("u", "u1").unwrap();
        assert!(p.platforms(&u).is_empty());
        p.set_online(&u, Platform::Web);
        p.set_online(&u, Platform::Ios);
        assert_eq!(p.platforms(&u), vec![Platform::Ios, Platform::Web]);
        p.set_offline(&u, Platform::Ios);
        p.set_offline(&u, Platform::Web);
        assert!(p.platforms(&u).is_empty());
    }
}
