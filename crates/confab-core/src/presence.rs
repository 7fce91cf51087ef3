//! Who is online, on which platforms. The gateway's registry of sessions
//! answers it on a node; the service asks it (online status) without
//! knowing who keeps the answer.

use crate::bus::SessionId;
use crate::ids::{Platform, UserId};
use crate::Result;
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

/// Who is online, across every node. On one node the gateway's registry
/// answers from memory; in a cluster the answer comes from the shared
/// database (sessions of nodes whose lease is live), so asking may fail.
#[async_trait::async_trait]
pub trait Presence: Send + Sync {
    /// For each of `users`, in order, the platforms it is online on, in
    /// platform id order; empty when offline.
    async fn platforms_of(&self, users: &[UserId]) -> Result<Vec<Vec<Platform>>>;

    /// Every user online (a broadcast's recipients).
    async fn online_users(&self) -> Result<Vec<UserId>>;

    async fn platforms(&self, user: &UserId) -> Result<Vec<Platform>> {
        let mut all = self.platforms_of(std::slice::from_ref(user)).await?;
        Ok(all.pop().unwrap_or_default())
    }

    /// Those of `users` who are online, in their order.
    async fn online_among(&self, users: &[UserId]) -> Result<Vec<UserId>> {
        let platforms = self.platforms_of(users).await?;
        Ok(users
            .iter()
            .zip(platforms)
            .filter(|(_, p)| !p.is_empty())
            .map(|(u, _)| u.clone())
            .collect())
    }
}

/// Told when a session of this node opens and when it ends, exactly once
/// each: how a cluster learns who is where (the shared presence, the bus's
/// interest in the user's events). On one node nobody listens.
pub trait SessionLog: Send + Sync {
    fn opened(&self, session: &SessionId, user: &UserId, platform: Platform);
    fn closed(&self, session: &SessionId, user: &UserId);
}

/// Nobody is online: the presence of a service that has no gateway (tools,
/// tests of the service alone).
#[derive(Debug, Clone, Copy, Default)]
pub struct NobodyOnline;

#[async_trait::async_trait]
impl Presence for NobodyOnline {
    async fn platforms_of(&self, users: &[UserId]) -> Result<Vec<Vec<Platform>>> {
        Ok(vec![Vec::new(); users.len()])
    }

    async fn online_users(&self) -> Result<Vec<UserId>> {
        Ok(Vec::new())
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
