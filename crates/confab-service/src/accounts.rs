//! Users: registration, profiles, deletion, listing.

use crate::auth::{Caller, TokenGrant};
use crate::{dedup, Service};
use confab_core::model::{Role, User, UserPatch};
use confab_core::store::OwnedGroupFate;
use confab_core::validate::{self, MAX_NAME_LEN, MAX_TEXT_LEN};
use confab_core::versions::{ChangeKind, VersionChange, VersionDomain};
use confab_core::{now_millis, Error, Field, Platform, Result, UserId};

/// Most ids `account_check` takes at once (OpenIM's limit).
pub const MAX_ACCOUNT_CHECK: usize = 100;
/// Most users registered or deleted in one request.
pub const MAX_USER_BATCH: usize = 1000;
/// Page size of `all_user_ids`' walk through the store.
const USER_ID_PAGE: u32 = 1000;

/// A user to register, with the profile the dialect received.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub user_id: UserId,
    pub profile: UserPatch,
    /// For dialects whose users log in with one.
    pub password: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountStatus {
    pub user_id: UserId,
    pub registered: bool,
}

/// Bounds every profile field.
pub(crate) fn validate_profile(p: &UserPatch) -> Result<()> {
    validate::opt_max_len(Field::Nickname, &p.nickname, MAX_NAME_LEN)?;
    validate::opt_max_len(Field::FaceUrl, &p.face_url, MAX_NAME_LEN)?;
    validate::opt_max_len(Field::PhoneNumber, &p.phone_number, 32)?;
    validate::opt_max_len(Field::Birth, &p.birth, 32)?;
    validate::opt_max_len(Field::Email, &p.email, MAX_NAME_LEN)?;
    validate::opt_max_len(Field::Ex, &p.ex, MAX_TEXT_LEN)?;
    if let Some(g) = p.gender {
        if !(0..=2).contains(&g) {
            return Err(Error::invalid_field(
                Field::Gender,
                "must be 0 (unknown), 1 (male) or 2 (female)",
            ));
        }
    }
    Ok(())
}

impl Service {
    /// Creates the configured admin users that do not exist yet, so that
    /// admins can get tokens and send as themselves from the first start.
    pub async fn ensure_admin_users(&self) -> Result<()> {
        self.ensure_users(&self.config.admin_user_ids).await
    }

    /// Creates those of `wanted` that do not exist yet, named after their id.
    pub(crate) async fn ensure_users(&self, wanted: &[UserId]) -> Result<()> {
        let existing = self.store.get_users(wanted).await?;
        let now = now_millis();
        let missing: Vec<User> = wanted
            .iter()
            .filter(|id| !existing.iter().any(|u| &u.user_id == *id))
            .map(|id| {
                let mut u = User::new(id.clone(), now);
                u.nickname = id.to_string();
                u
            })
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        match self.store.create_users(&missing).await {
            // Created meanwhile by a concurrent call (or another node).
            Err(e) if e.kind() == confab_core::ErrorKind::Conflict => Ok(()),
            other => other,
        }
    }

    /// Registers users, all or none; the app server proves itself with the
    /// admin secret.
    pub async fn register_users(&self, secret: &str, users: &[NewUser]) -> Result<()> {
        self.check_secret(secret)?;
        self.create_users(users).await
    }

    /// Registers one user with the secret and returns their first token, as
    /// OpenIM v2's `user_register` does.
    pub async fn register_user_with_token(
        &self,
        secret: &str,
        user: NewUser,
        platform: Platform,
    ) -> Result<TokenGrant> {
        self.check_secret(secret)?;
        let user_id = user.user_id.clone();
        self.create_users(std::slice::from_ref(&user)).await?;
        self.issue_token(&user_id, platform).await
    }

    async fn create_users(&self, users: &[NewUser]) -> Result<()> {
        validate::batch(Field::Users, users, MAX_USER_BATCH)?;
        let now = now_millis();
        let mut records = Vec::with_capacity(users.len());
        for new in users {
            validate_profile(&new.profile)?;
            if records.iter().any(|u: &User| u.user_id == new.user_id) {
                return Err(Error::invalid(format!(
                    "user {} appears twice",
                    new.user_id
                )));
            }
            let mut user = User::new(new.user_id.clone(), now);
            new.profile.apply(&mut user);
            if let Some(password) = &new.password {
                crate::passwords::validate_password(password)?;
            }
            records.push(user);
        }
        for (user, new) in records.iter_mut().zip(users) {
            if let Some(password) = &new.password {
                user.password_hash = Some(self.hash(password).await?);
            }
        }
        self.store.create_users(&records).await
    }

    /// Registers users, all or none, as an app admin (the Easemob proxy's
    /// app token); returns them as stored.
    pub async fn register_users_as_admin(
        &self,
        caller: &Caller,
        users: &[NewUser],
    ) -> Result<Vec<User>> {
        caller.require_admin()?;
        self.create_users(users).await?;
        let ids: Vec<UserId> = users.iter().map(|u| u.user_id.clone()).collect();
        self.users_in_order(&ids).await
    }

    /// A page of users in id order, after `after`: at most `limit`, and
    /// where the next page starts after (None: this is the last page). App
    /// admins only. Ordered by id, so that a walk sees every user who
    /// existed when it started exactly once, whatever is added meanwhile.
    pub async fn list_users(
        &self,
        caller: &Caller,
        after: Option<&UserId>,
        limit: u32,
    ) -> Result<(Vec<User>, Option<UserId>)> {
        caller.require_admin()?;
        // One more id than asked tells whether another page follows, from
        // the ids themselves (a user deleted meanwhile does not end it).
        let mut ids = self.store.list_user_ids(after, limit + 1).await?;
        let more = ids.len() > limit as usize;
        ids.truncate(limit as usize);
        let next = if more { ids.last().cloned() } else { None };
        Ok((self.users_in_order(&ids).await?, next))
    }

    /// Updates a profile: users update their own, admins anyone's.
    pub async fn update_user(
        &self,
        caller: &Caller,
        user_id: &UserId,
        patch: &UserPatch,
    ) -> Result<()> {
        caller.require_acts_for(user_id)?;
        validate_profile(patch)?;
        if !self.store.update_user(user_id, patch, now_millis()).await? {
            return Err(Error::not_found(format!("user {user_id} does not exist")));
        }
        if patch.nickname.is_some() || patch.face_url.is_some() || patch.ex.is_some() {
            match self.profile_changes(user_id).await {
                Ok(changes) => self.record_versions(changes).await,
                Err(e) => tracing::error!(error = %e.log_message(), user = %user_id,
                    "finding whom a profile change concerns failed"),
            }
        }
        Ok(())
    }

    /// The profiles of the users that exist among `user_ids`, in request
    /// order. Any authenticated caller may read profiles.
    pub async fn get_users(
        &self,
        _caller: &Caller,
        user_ids: &[UserId],
        max: usize,
    ) -> Result<Vec<User>> {
        validate::batch(Field::Users, user_ids, max)?;
        let ids = dedup(user_ids);
        self.users_in_order(&ids).await
    }

    pub async fn get_user(&self, user_id: &UserId) -> Result<User> {
        self.require_user(user_id).await
    }

    /// Deletes users; returns the ids that could not be deleted (unknown).
    /// Groups a deleted user owned pass to their longest-serving admin, else
    /// their longest-serving member, else are dismissed.
    pub async fn delete_users(&self, caller: &Caller, user_ids: &[UserId]) -> Result<Vec<UserId>> {
        caller.require_admin()?;
        validate::batch(Field::UsersToDelete, user_ids, MAX_USER_BATCH)?;
        let mut failed = Vec::new();
        for user_id in dedup(user_ids) {
            let fates = self.owned_group_fates(&user_id).await?;
            let changes = self.deletion_changes(&user_id, &fates).await?;
            if self.store.delete_user(&user_id, &fates).await? {
                self.record_versions(changes).await;
                self.kick(&user_id, None, "the user was deleted");
            } else {
                failed.push(user_id);
            }
        }
        self.members.clear();
        Ok(failed)
    }

    /// Whose sync logs show a user's profile: their friends' lists (the
    /// friend's nickname, face and ex) and their groups' members (who show
    /// the profile's nickname and face when they have none of their own).
    async fn profile_changes(&self, user_id: &UserId) -> Result<Vec<VersionChange>> {
        let changed = |owner: &str, domain| {
            VersionChange::new(owner, domain, user_id.as_str(), ChangeKind::Update)
        };
        let mut changes: Vec<VersionChange> = self
            .store
            .list_friends(user_id)
            .await?
            .iter()
            .map(|f| changed(f.friend_user_id.as_str(), VersionDomain::Friends))
            .collect();
        for group in self.store.joined_groups(user_id).await? {
            changes.push(changed(group.group_id.as_str(), VersionDomain::Members));
        }
        Ok(changes)
    }

    /// What deleting a user changes in others' sync logs: they leave their
    /// friends' lists and their groups' members, and the groups they owned
    /// get a new owner (a group dismissed for want of one has no one left).
    async fn deletion_changes(
        &self,
        user_id: &UserId,
        fates: &[OwnedGroupFate],
    ) -> Result<Vec<VersionChange>> {
        let gone = |owner: &str, domain| {
            VersionChange::new(owner, domain, user_id.as_str(), ChangeKind::Delete)
        };
        let mut changes: Vec<VersionChange> = self
            .store
            .list_friends(user_id)
            .await?
            .iter()
            .map(|f| gone(f.friend_user_id.as_str(), VersionDomain::Friends))
            .collect();
        for group in self.store.joined_groups(user_id).await? {
            changes.push(gone(group.group_id.as_str(), VersionDomain::Members));
        }
        for fate in fates {
            if let Some(successor) = &fate.successor {
                changes.extend(crate::versions::member_updates(
                    &fate.group_id,
                    &[successor],
                ));
                changes.push(crate::versions::group_info_update(&fate.group_id));
            }
        }
        Ok(changes)
    }

    async fn owned_group_fates(&self, user_id: &UserId) -> Result<Vec<OwnedGroupFate>> {
        let mut fates = Vec::new();
        for group_id in self.store.managed_group_ids(user_id).await? {
            let Some(group) = self.store.get_group(&group_id).await? else {
                continue;
            };
            if &group.owner_user_id != user_id {
                continue;
            }
            let admins = self
                .store
                .list_members(&group_id, Some(Role::Admin), 0, 1)
                .await?;
            let successor = match admins.into_iter().next() {
                Some(admin) => Some(admin.user_id),
                None => self
                    .store
                    .list_members(&group_id, Some(Role::Member), 0, 1)
                    .await?
                    .into_iter()
                    .next()
                    .map(|m| m.user_id),
            };
            fates.push(OwnedGroupFate {
                group_id,
                successor,
            });
        }
        Ok(fates)
    }

    /// Every registered user id, in id order. Admin only.
    pub async fn all_user_ids(&self, caller: &Caller) -> Result<Vec<UserId>> {
        caller.require_admin()?;
        let mut out: Vec<UserId> = Vec::new();
        loop {
            let page = self.store.list_user_ids(out.last(), USER_ID_PAGE).await?;
            let done = page.len() < USER_ID_PAGE as usize;
            out.extend(page);
            if done {
                return Ok(out);
            }
        }
    }

    /// Which of the ids are registered, in request order. Admin only.
    pub async fn account_check(
        &self,
        caller: &Caller,
        user_ids: &[UserId],
    ) -> Result<Vec<AccountStatus>> {
        caller.require_admin()?;
        validate::batch(Field::UsersToCheck, user_ids, MAX_ACCOUNT_CHECK)?;
        let found = self.store.get_users(user_ids).await?;
        Ok(user_ids
            .iter()
            .map(|id| AccountStatus {
                user_id: id.clone(),
                registered: found.iter().any(|u| &u.user_id == id),
            })
            .collect())
    }
}
