//! Who is online, on which platforms. The gateway's registry of sessions
//! answers it on a node; the service asks it (online status) without
//! knowing who keeps the answer.

use crate::ids::{Platform, UserId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a session says of itself when it connects: `platform` (its
/// protocol's name for it) and whatever else its protocol carries (an app
/// version, say). Pushes meant for some sessions only are matched against it.
/// A sorted vector (`litemap`): a session holds two or three pairs, and a
/// B-tree's first node alone is half a kilobyte, held by every connection.
pub type SessionAttributes = litemap::LiteMap<String, String>;

/// Narrows a push to the sessions whose attributes hold every one of its
/// pairs (a broadcast `{"platform": "ios"}`). The empty filter matches all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionFilter(pub BTreeMap<String, String>);

impl SessionFilter {
    pub fn matches(&self, attributes: &SessionAttributes) -> bool {
        self.0
            .iter()
            .all(|(name, value)| attributes.get(name) == Some(value))
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_matches_sessions_that_hold_all_its_pairs() {
        let attributes: SessionAttributes = [("platform", "ios"), ("version", "2.8.1")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let filter = |pairs: &[(&str, &str)]| {
            SessionFilter(
                pairs
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            )
        };
        assert!(filter(&[]).matches(&attributes));
        assert!(filter(&[("platform", "ios")]).matches(&attributes));
        assert!(filter(&[("platform", "ios"), ("version", "2.8.1")]).matches(&attributes));
        assert!(!filter(&[("platform", "android")]).matches(&attributes));
        assert!(!filter(&[("platform", "ios"), ("channel", "x")]).matches(&attributes));
    }
}
