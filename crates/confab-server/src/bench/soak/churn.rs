//! Group changes through the admin API while the soak sends: a churner is
//! invited to a lasting group or kicked from it, and every tenth change
//! creates a group of churners and dismisses the one created before.
//! Churners never send to the lasting groups, so a kick never turns a
//! sender's message into a refusal.

use super::{Soak, Tally};
use confab_client::OpenImClient;
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

/// Churners in each short-lived group, its owner included.
const SHORT_LIVED_MEMBERS: usize = 4;

pub(super) struct Churn {
    pub admin: OpenImClient,
    /// The lasting groups.
    pub groups: Vec<String>,
    pub churners: Vec<String>,
    pub every: Duration,
    pub run_id: String,
}

impl Churn {
    pub(super) async fn run(self, soak: Arc<Soak>) {
        if self.groups.is_empty() || self.churners.is_empty() {
            return;
        }
        let t = &soak.tally;
        // (group, churner) pairs that are members now.
        let mut joined: HashSet<(usize, usize)> = HashSet::new();
        let mut short_lived: Option<String> = None;
        let mut ticks = tokio::time::interval(self.every);
        ticks.tick().await;
        for n in 1u64.. {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = tokio::time::sleep_until(soak.deadline.into()) => break,
            }
            if n % 10 == 0 {
                let id = format!("{}-t{n}", self.run_id);
                match self.create(&id).await {
                    Ok(()) => {
                        Tally::add(&t.groups_created);
                        if let Some(old) = short_lived.replace(id) {
                            self.dismiss(t, &old).await;
                        }
                    }
                    Err(e) => t.error(&t.group_change_failures, || format!("create {id}: {e}")),
                }
                continue;
            }
            let (g, c) = {
                let mut rng = rand::thread_rng();
                (
                    rng.gen_range(0..self.groups.len()),
                    rng.gen_range(0..self.churners.len()),
                )
            };
            let (group, user) = (&self.groups[g], &self.churners[c]);
            let (path, body) = if joined.contains(&(g, c)) {
                (
                    "/group/kick_group",
                    json!({"groupID": group, "kickedUserIDs": [user], "reason": "soak"}),
                )
            } else {
                (
                    "/group/invite_user_to_group",
                    json!({"groupID": group, "invitedUserIDs": [user], "reason": "soak"}),
                )
            };
            match self.admin.ok(path, &body).await {
                Ok(_) => {
                    Tally::add(&t.group_changes);
                    if !joined.remove(&(g, c)) {
                        joined.insert((g, c));
                    }
                }
                Err(e) => t.error(&t.group_change_failures, || format!("{path} {user}: {e}")),
            }
        }
        if let Some(last) = short_lived {
            self.dismiss(t, &last).await;
        }
    }

    /// Creates the group `id`: an owner and a few more churners.
    async fn create(&self, id: &str) -> Result<(), confab_client::ClientError> {
        let chosen: Vec<&String> = self
            .churners
            .choose_multiple(&mut rand::thread_rng(), SHORT_LIVED_MEMBERS)
            .collect();
        let (owner, members) = chosen
            .split_first()
            .map_or((None, &[][..]), |(o, m)| (Some(*o), m));
        let body = json!({"ownerUserID": owner, "memberUserIDs": members,
                          "groupInfo": {"groupID": id, "groupName": "soak, short-lived"}});
        self.admin.ok("/group/create_group", &body).await.map(drop)
    }

    async fn dismiss(&self, t: &Tally, id: &str) {
        let body: Value = json!({"groupID": id, "deleteMember": false});
        match self.admin.ok("/group/dismiss_group", &body).await {
            Ok(_) => Tally::add(&t.groups_dismissed),
            Err(e) => t.error(&t.group_change_failures, || format!("dismiss {id}: {e}")),
        }
    }
}
