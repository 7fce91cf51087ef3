//! Who is online, on which platforms. The gateway's registry of sessions
//! answers it on a node; the service asks it (online status) without
//! knowing who keeps the answer.

use crate::ids::{Platform, UserId};

pub trait Presence: Send + Sync {
    /// The platforms `user` is online on, in platform id order; empty when
    /// offline.
    fn platforms(&self, user: &UserId) -> Vec<Platform>;

    fn is_online(&self, user: &UserId) -> bool {
        !self.platforms(user).is_empty()
    }

    /// Every user online (a broadcast's recipients).
    fn online_users(&self) -> Vec<UserId>;
}

/// Nobody is online: the presence of a service that has no gateway (tools,
/// tests of the service alone).
#[derive(Debug, Clone, Copy, Default)]
pub struct NobodyOnline;

impl Presence for NobodyOnline {
    fn platforms(&self, _user: &UserId) -> Vec<Platform> {
        Vec::new()
    }

    fn online_users(&self) -> Vec<UserId> {
        Vec::new()
    }
}
