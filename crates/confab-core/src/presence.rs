//! Who is online, on which platforms. The gateway's registry of sessions is
//! the one source of truth; the service reads it through this trait.

use crate::ids::{Platform, UserId};

pub trait Presence: Send + Sync {
    /// The platforms the user is online on, in platform id order.
    fn platforms(&self, user: &UserId) -> Vec<Platform>;

    fn is_online(&self, user: &UserId) -> bool {
        !self.platforms(user).is_empty()
    }

    /// Every user online here.
    fn online_users(&self) -> Vec<UserId>;
}
