//! One-way follows and blocks (the app access API's relations): the same
//! directed edges and blocks the other dialects see. Following someone
//! lifts one's block of them; blocking someone ends one's follow of them.

use crate::auth::Caller;
use crate::notices::{FriendEdgeKind, Notice};
use crate::Service;
use confab_core::model::{Friend, User};
use confab_core::versions::{ChangeKind, VersionChange, VersionDomain};
use confab_core::{now_millis, Error, Field, Result, UserId};

/// What `follow_operation` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowOp {
    Follow,
    Unfollow,
    Block,
    Unblock,
}

/// Which list `follow_list` gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowList {
    /// Those the user follows.
    Follows,
    /// Those the user blocked.
    Blocks,
}

/// Most users one page of `follow_list` holds.
pub const MAX_FOLLOW_PAGE: u32 = 100;

impl Service {
    pub async fn follow_operation(
        &self,
        caller: &Caller,
        owner: &UserId,
        target: &UserId,
        op: FollowOp,
    ) -> Result<()> {
        caller.require_acts_for(owner)?;
        if owner == target {
            return Err(Error::invalid_field(
                Field::OtherUser,
                "cannot follow or block oneself",
            ));
        }
        self.require_user(target).await?;
        match op {
            FollowOp::Follow => {
                if self.store.get_black(target, owner).await?.is_some() {
                    return Err(Error::precondition(format!("{target} has blocked {owner}")));
                }
                self.store.remove_black(owner, target).await?;
                let edge = Friend {
                    owner_user_id: owner.clone(),
                    friend_user_id: target.clone(),
                    remark: String::new(),
                    created_at: now_millis(),
                    ex: String::new(),
                };
                if self.store.add_friends(&[edge]).await? > 0 {
                    self.record_follow(owner, target, ChangeKind::Insert).await;
                    self.notify_users(
                        owner,
                        &[owner.clone(), target.clone()],
                        Notice::FriendEdge {
                            kind: FriendEdgeKind::Added,
                            from_user_id: owner.clone(),
                            to_user_id: target.clone(),
                        },
                    )
                    .await;
                }
            }
            FollowOp::Unfollow => {
                self.unfollow(owner, target).await?;
            }
            FollowOp::Block => {
                self.unfollow(owner, target).await?;
                if self.store.get_black(owner, target).await?.is_none() {
                    self.add_black(caller, owner, target, "").await?;
                }
            }
            FollowOp::Unblock => {
                if self.store.get_black(owner, target).await?.is_some() {
                    self.remove_black(caller, owner, target).await?;
                }
            }
        }
        Ok(())
    }

    async fn unfollow(&self, owner: &UserId, target: &UserId) -> Result<()> {
        let removed = self
            .store
            .delete_friends(&[(owner.clone(), target.clone())])
            .await?;
        if removed > 0 {
            self.record_follow(owner, target, ChangeKind::Delete).await;
        }
        Ok(())
    }

    /// A follow is one edge: only the follower's friend list changes.
    async fn record_follow(&self, owner: &UserId, target: &UserId, kind: ChangeKind) {
        self.record_versions(vec![VersionChange::new(
            owner.as_str(),
            VersionDomain::Friends,
            target.as_str(),
            kind,
        )])
        .await;
    }

    /// A page (from 1) of those `owner` follows or blocked, oldest first,
    /// and how many there are in all.
    pub async fn follow_list(
        &self,
        caller: &Caller,
        owner: &UserId,
        list: FollowList,
        page: u32,
        size: u32,
    ) -> Result<(Vec<User>, usize)> {
        caller.require_acts_for(owner)?;
        if page == 0 {
            return Err(Error::invalid("page: counts from 1"));
        }
        if !(1..=MAX_FOLLOW_PAGE).contains(&size) {
            return Err(Error::invalid(format!(
                "size: must be between 1 and {MAX_FOLLOW_PAGE}"
            )));
        }
        let ids: Vec<UserId> = match list {
            FollowList::Follows => self
                .store
                .list_friends(owner)
                .await?
                .into_iter()
                .map(|f| f.friend_user_id)
                .collect(),
            FollowList::Blocks => self
                .store
                .list_blacks(owner)
                .await?
                .into_iter()
                .map(|b| b.block_user_id)
                .collect(),
        };
        let total = ids.len();
        let start = ((page - 1) as usize).saturating_mul(size as usize);
        let page_ids: Vec<UserId> = ids.into_iter().skip(start).take(size as usize).collect();
        Ok((self.users_in_order(&page_ids).await?, total))
    }
}
