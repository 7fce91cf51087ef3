//! The incremental sync: what changed in a user's friends, joined groups
//! and conversations, and in a group's members, since the version a client
//! holds (`confab_core::versions`).
//!
//! Each use case that changes one of these records the change right after
//! its write succeeded and before it notifies anyone, so that a client
//! syncing because of the notification finds the change. A failure to
//! record is logged, not returned: the write it follows stands, and
//! failing the call would have the client retry a change already made.
//! What is lost is a difference: a client that starts from nothing (every
//! login of OpenIM's JS SDK) still gets everything (docs/decisions.md).

use crate::auth::Caller;
use crate::groups::{GroupInfo, MAX_MEMBER_BATCH};
use crate::relations::FriendInfo;
use crate::Service;
use confab_core::message::UserConversation;
use confab_core::model::{GroupMember, GroupStatus};
use confab_core::versions::{
    ChangeKind, VersionChange, VersionDelta, VersionDomain, GROUP_INFO_ENTITY,
};
use confab_core::{Error, ErrorKind, GroupId, Result, UserId};

/// Most groups one `groups_members_since` takes.
pub const MAX_MEMBER_SYNC_GROUPS: usize = 1000;

/// What a client must apply to its copy: everything (`full`, all of it in
/// `inserted`) or the difference since its version. `version_id` and
/// `version` are what it holds afterwards.
#[derive(Debug, Clone)]
pub struct Synced<T> {
    pub version_id: String,
    pub version: i64,
    pub full: bool,
    pub inserted: Vec<T>,
    pub updated: Vec<T>,
    /// Ids of what is gone.
    pub deleted: Vec<String>,
}

impl<T> Synced<T> {
    fn everything(delta: VersionDelta, all: Vec<T>) -> Synced<T> {
        Synced {
            version_id: delta.version_id,
            version: delta.version,
            full: true,
            inserted: all,
            updated: Vec::new(),
            deleted: Vec::new(),
        }
    }

    fn difference(delta: VersionDelta, inserted: Vec<T>, updated: Vec<T>) -> Synced<T> {
        Synced {
            version_id: delta.version_id,
            version: delta.version,
            full: false,
            inserted,
            updated,
            deleted: delta.deleted,
        }
    }
}

/// The members of one group since a version, with the group itself when
/// the client's copy of it may be stale: everything is sent, or anything
/// changed (its info, or its members, and with them its member count).
#[derive(Debug, Clone)]
pub struct MembersSynced {
    pub group_id: GroupId,
    pub group: Option<GroupInfo>,
    pub members: Synced<GroupMember>,
}

/// Every id of a list, with the version of its log they stand at.
#[derive(Debug, Clone)]
pub struct IdsAt {
    pub version_id: String,
    pub version: i64,
    pub ids: Vec<String>,
}

/// Both users' friend lists, when a friendship begins or ends.
pub(crate) fn friendship(a: &UserId, b: &UserId, kind: ChangeKind) -> Vec<VersionChange> {
    vec![
        VersionChange::new(a.as_str(), VersionDomain::Friends, b.as_str(), kind),
        VersionChange::new(b.as_str(), VersionDomain::Friends, a.as_str(), kind),
    ]
}

/// Users joining (`Insert`) or leaving (`Delete`) a group: their joined
/// groups, and the group's members.
pub(crate) fn membership(
    group: &GroupId,
    users: &[UserId],
    kind: ChangeKind,
) -> Vec<VersionChange> {
    users
        .iter()
        .flat_map(|user| {
            [
                VersionChange::new(user.as_str(), VersionDomain::Groups, group.as_str(), kind),
                VersionChange::new(group.as_str(), VersionDomain::Members, user.as_str(), kind),
            ]
        })
        .collect()
}

/// Members whose info or role changed.
pub(crate) fn member_updates(group: &GroupId, users: &[&UserId]) -> Vec<VersionChange> {
    users
        .iter()
        .map(|user| {
            VersionChange::new(
                group.as_str(),
                VersionDomain::Members,
                user.as_str(),
                ChangeKind::Update,
            )
        })
        .collect()
}

/// The group's own info changed.
pub(crate) fn group_info_update(group: &GroupId) -> VersionChange {
    VersionChange::new(
        group.as_str(),
        VersionDomain::Members,
        GROUP_INFO_ENTITY,
        ChangeKind::Update,
    )
}

/// A user's settings of a conversation changed.
pub(crate) fn conversation_update(user: &UserId, conversation_id: &str) -> VersionChange {
    VersionChange::new(
        user.as_str(),
        VersionDomain::Conversations,
        conversation_id,
        ChangeKind::Update,
    )
}

/// The user ids among entity ids (a `Members` log also holds the group's
/// own entity).
fn user_ids(entities: &[String]) -> Vec<UserId> {
    entities
        .iter()
        .filter(|e| e.as_str() != GROUP_INFO_ENTITY)
        .map(|e| UserId::from_trusted(e.clone()))
        .collect()
}

impl Service {
    /// Records changes after the write they describe; logs a failure (see
    /// the module's comment for why it is not returned).
    pub(crate) async fn record_versions(&self, changes: Vec<VersionChange>) {
        if changes.is_empty() {
            return;
        }
        if let Err(e) = self.store.record_changes(&changes).await {
            tracing::error!(
                error = %e.log_message(),
                changes = changes.len(),
                first_owner = changes.first().map(|c| c.owner.as_str()).unwrap_or(""),
                "recording sync versions failed: clients syncing a difference miss these changes"
            );
        }
    }

    /// The user's friends since a version. The head is read before the
    /// records, so a change made in between is sent again next time rather
    /// than missed.
    pub async fn friends_since(
        &self,
        caller: &Caller,
        user: &UserId,
        version_id: &str,
        version: i64,
    ) -> Result<Synced<FriendInfo>> {
        caller.require_acts_for(user)?;
        self.require_user(user).await?;
        let delta = self
            .store
            .changes_since(user.as_str(), VersionDomain::Friends, version_id, version)
            .await?;
        if delta.full {
            let all = self.friend_list(caller, user).await?;
            return Ok(Synced::everything(delta, all));
        }
        let inserted = self.friends_among(user, &delta.inserted).await?;
        let updated = self.friends_among(user, &delta.updated).await?;
        Ok(Synced::difference(delta, inserted, updated))
    }

    /// The friends of `owner` among `ids`, with their profiles (those no
    /// longer friends are left out: their deletion comes next time).
    async fn friends_among(&self, owner: &UserId, ids: &[String]) -> Result<Vec<FriendInfo>> {
        let mut friends = Vec::with_capacity(ids.len());
        for id in user_ids(ids) {
            if let Some(f) = self.store.get_friend(owner, &id).await? {
                friends.push(f);
            }
        }
        let users = if friends.is_empty() {
            Vec::new()
        } else {
            let ids: Vec<UserId> = friends.iter().map(|f| f.friend_user_id.clone()).collect();
            self.store.get_users(&ids).await?
        };
        Ok(friends
            .into_iter()
            .map(|friend| FriendInfo {
                user: users
                    .iter()
                    .find(|u| u.user_id == friend.friend_user_id)
                    .cloned(),
                friend,
            })
            .collect())
    }

    /// The groups the user is in, since a version.
    pub async fn joined_groups_since(
        &self,
        caller: &Caller,
        user: &UserId,
        version_id: &str,
        version: i64,
    ) -> Result<Synced<GroupInfo>> {
        caller.require_acts_for(user)?;
        let delta = self
            .store
            .changes_since(user.as_str(), VersionDomain::Groups, version_id, version)
            .await?;
        if delta.full {
            let all = self.joined_groups(caller, user).await?;
            return Ok(Synced::everything(delta, all));
        }
        let inserted = self.live_groups_among(&delta.inserted).await?;
        let updated = self.live_groups_among(&delta.updated).await?;
        Ok(Synced::difference(delta, inserted, updated))
    }

    async fn live_groups_among(&self, ids: &[String]) -> Result<Vec<GroupInfo>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<GroupId> = ids
            .iter()
            .map(|id| GroupId::from_trusted(id.clone()))
            .collect();
        let mut groups = self.store.get_groups(&ids).await?;
        groups.retain(|g| g.status != GroupStatus::Dismissed);
        groups.sort_by_key(|g| ids.iter().position(|id| *id == g.group_id));
        self.with_member_counts(groups).await
    }

    /// The user's conversations (their settings), since a version. Every
    /// conversation the user has, broadcast ones included: the dialect
    /// shows those its clients know.
    pub async fn conversations_since(
        &self,
        caller: &Caller,
        user: &UserId,
        version_id: &str,
        version: i64,
    ) -> Result<Synced<UserConversation>> {
        caller.require_acts_for(user)?;
        let delta = self
            .store
            .changes_since(
                user.as_str(),
                VersionDomain::Conversations,
                version_id,
                version,
            )
            .await?;
        if delta.full {
            let all = self.store.user_conversations(user).await?;
            return Ok(Synced::everything(delta, all));
        }
        let mut changed = [Vec::new(), Vec::new()];
        for (out, ids) in changed.iter_mut().zip([&delta.inserted, &delta.updated]) {
            for id in ids {
                if let Some(c) = self.store.user_conversation(user, id).await? {
                    out.push(c);
                }
            }
        }
        let [inserted, updated] = changed;
        Ok(Synced::difference(delta, inserted, updated))
    }

    /// The members of a group `user` is in, since a version. NotFound for
    /// a group that does not exist, FailedPrecondition for a dismissed one,
    /// PermissionDenied when `user` is not a member.
    pub async fn group_members_since(
        &self,
        caller: &Caller,
        user: &UserId,
        group_id: &GroupId,
        version_id: &str,
        version: i64,
    ) -> Result<MembersSynced> {
        caller.require_acts_for(user)?;
        self.live_group(group_id).await?;
        self.require_sync_member(group_id, user).await?;
        let delta = self
            .store
            .changes_since(
                group_id.as_str(),
                VersionDomain::Members,
                version_id,
                version,
            )
            .await?;
        let changed =
            !(delta.inserted.is_empty() && delta.updated.is_empty() && delta.deleted.is_empty());
        let members = if delta.full {
            let ids = self.store.member_ids(group_id).await?;
            let all = self.members_with_profiles(caller, group_id, &ids).await?;
            Synced::everything(delta, all)
        } else {
            let inserted = self
                .members_with_profiles(caller, group_id, &user_ids(&delta.inserted))
                .await?;
            let updated = self
                .members_with_profiles(caller, group_id, &user_ids(&delta.updated))
                .await?;
            let mut synced = Synced::difference(delta, inserted, updated);
            synced.deleted.retain(|e| e != GROUP_INFO_ENTITY);
            synced
        };
        // Read after the head, like the members: never older than the
        // version the client is given.
        let group = if members.full || changed {
            let group = self.require_group(group_id).await?;
            self.with_member_counts(vec![group]).await?.pop()
        } else {
            None
        };
        Ok(MembersSynced {
            group_id: group_id.clone(),
            group,
            members,
        })
    }

    /// `group_members_since` for several groups (each once). Groups the
    /// user cannot sync (gone, dismissed, or left) are left out of the
    /// answer rather than failing it: a client syncing after being removed
    /// then drops them, and learns why from its joined groups.
    pub async fn groups_members_since(
        &self,
        caller: &Caller,
        user: &UserId,
        positions: &[(GroupId, String, i64)],
    ) -> Result<Vec<MembersSynced>> {
        caller.require_acts_for(user)?;
        if positions.len() > MAX_MEMBER_SYNC_GROUPS {
            return Err(Error::invalid_field(
                confab_core::Field::Groups,
                format!("at most {MAX_MEMBER_SYNC_GROUPS} groups per request"),
            ));
        }
        let mut out: Vec<MembersSynced> = Vec::with_capacity(positions.len());
        for (group_id, version_id, version) in positions {
            if out.iter().any(|m| m.group_id == *group_id) {
                continue;
            }
            match self
                .group_members_since(caller, user, group_id, version_id, *version)
                .await
            {
                Ok(synced) => out.push(synced),
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::NotFound
                            | ErrorKind::FailedPrecondition
                            | ErrorKind::PermissionDenied
                    ) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// The members among `ids` as the other member routes show them
    /// (`members_info_with_profiles`: a member's own nickname and face, else
    /// their profile's), so that the SDK's member cache names senders alike.
    async fn members_with_profiles(
        &self,
        caller: &Caller,
        group_id: &GroupId,
        ids: &[UserId],
    ) -> Result<Vec<GroupMember>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(MAX_MEMBER_BATCH) {
            out.extend(
                self.members_info_with_profiles(caller, group_id, chunk)
                    .await?,
            );
        }
        Ok(out)
    }

    /// Fails unless `user` is a member of the group.
    async fn require_sync_member(&self, group_id: &GroupId, user: &UserId) -> Result<()> {
        match self.store.get_member(group_id, user).await? {
            Some(_) => Ok(()),
            None => Err(Error::denied(format!(
                "{user} is not a member of group {group_id}"
            ))),
        }
    }

    /// Where a log stands (creating its head), for the routes that list
    /// every id.
    async fn log_head(&self, owner: &str, domain: VersionDomain) -> Result<VersionDelta> {
        self.store.changes_since(owner, domain, "", 0).await
    }

    /// Every friend id of the user, with the version of their friend list.
    pub async fn friend_ids_at(&self, caller: &Caller, user: &UserId) -> Result<IdsAt> {
        caller.require_acts_for(user)?;
        let head = self.log_head(user.as_str(), VersionDomain::Friends).await?;
        let ids = self
            .store
            .list_friends(user)
            .await?
            .into_iter()
            .map(|f| f.friend_user_id.into_string())
            .collect();
        Ok(IdsAt {
            version_id: head.version_id,
            version: head.version,
            ids,
        })
    }

    /// Every group id the user is in, with the version of that list.
    pub async fn joined_group_ids_at(&self, caller: &Caller, user: &UserId) -> Result<IdsAt> {
        caller.require_acts_for(user)?;
        let head = self.log_head(user.as_str(), VersionDomain::Groups).await?;
        let ids = self
            .store
            .joined_groups(user)
            .await?
            .into_iter()
            .map(|g| g.group_id.to_string())
            .collect();
        Ok(IdsAt {
            version_id: head.version_id,
            version: head.version,
            ids,
        })
    }

    /// Every member id of a group the caller is in (any group, for app
    /// admins), with the version of its member list.
    pub async fn member_ids_at(&self, caller: &Caller, group_id: &GroupId) -> Result<IdsAt> {
        self.require_group(group_id).await?;
        if !caller.is_admin {
            self.require_sync_member(group_id, &caller.user_id).await?;
        }
        let head = self
            .log_head(group_id.as_str(), VersionDomain::Members)
            .await?;
        let ids = self
            .store
            .member_ids(group_id)
            .await?
            .into_iter()
            .map(UserId::into_string)
            .collect();
        Ok(IdsAt {
            version_id: head.version_id,
            version: head.version,
            ids,
        })
    }
}
