//! Friends and blacklists as a messaging client asks for them: both sides
//! of a friendship at once, chosen blacklist entries, and one change made
//! to many friends.

use super::MAX_CLIENT_LOOKUP;
use crate::auth::Caller;
use crate::{dedup, Service};
use confab_core::model::{Black, User};
use confab_core::validate::{self, MAX_NAME_LEN};
use confab_core::{Error, Field, Result, UserId};

impl Service {
    /// Whether `b` is in `a`'s friend list, and whether `a` is in `b`'s.
    /// Either of the two (or an app admin) may ask.
    pub async fn friendship_between(
        &self,
        caller: &Caller,
        a: &UserId,
        b: &UserId,
    ) -> Result<(bool, bool)> {
        if !caller.acts_for(a) && !caller.acts_for(b) {
            return Err(Error::denied(format!(
                "a token of {} may check only its own friendships",
                caller.user_id
            )));
        }
        let a_has_b = self.store.get_friend(a, b).await?.is_some();
        let b_has_a = self.store.get_friend(b, a).await?.is_some();
        Ok((a_has_b, b_has_a))
    }

    /// The entries of `owner`'s blacklist among `user_ids`, in request
    /// order, with the blocked users' profiles; others are left out.
    pub async fn specified_blacks(
        &self,
        caller: &Caller,
        owner: &UserId,
        user_ids: &[UserId],
    ) -> Result<Vec<(Black, Option<User>)>> {
        validate::batch(Field::Users, user_ids, MAX_CLIENT_LOOKUP)?;
        let wanted = dedup(user_ids);
        let mut blacks: Vec<(Black, Option<User>)> = self
            .black_list(caller, owner)
            .await?
            .into_iter()
            .filter(|(b, _)| wanted.contains(&b.block_user_id))
            .collect();
        blacks.sort_by_key(|(b, _)| wanted.iter().position(|id| *id == b.block_user_id));
        Ok(blacks)
    }

    /// Sets `remark` (when given) on each of `friends` of `owner`, as
    /// `set_friend_remark` does (a notice and a version change each).
    /// Changes nothing unless every one is a friend; with no remark it only
    /// checks that they are.
    pub async fn update_friends(
        &self,
        caller: &Caller,
        owner: &UserId,
        friends: &[UserId],
        remark: Option<&str>,
    ) -> Result<()> {
        caller.require_acts_for(owner)?;
        validate::batch(Field::Users, friends, MAX_CLIENT_LOOKUP)?;
        if let Some(remark) = remark {
            validate::max_len(Field::Remark, remark, MAX_NAME_LEN)?;
        }
        let ids = dedup(friends);
        let current = self.store.list_friends(owner).await?;
        if let Some(stranger) = ids
            .iter()
            .find(|id| !current.iter().any(|f| &f.friend_user_id == *id))
        {
            return Err(
                Error::not_found(format!("{stranger} is not a friend of {owner}"))
                    .with_field(Field::Users),
            );
        }
        if let Some(remark) = remark {
            for id in &ids {
                self.set_friend_remark(caller, owner, id, remark).await?;
            }
        }
        Ok(())
    }
}
