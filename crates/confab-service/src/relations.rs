//! Friends, friend requests and blacklists.
//!
//! Relations are directed edges. An OpenIM friendship is the pair of edges
//! a→b and b→a, made together (accepted request, import) and removed
//! together (delete_friend). Blocking does not end a friendship: a block
//! only stops the blocked user from adding the blocker (and, with
//! messaging, from sending to them); an explicit delete ends the friendship.

use crate::auth::Caller;
use crate::notices::{FriendEdgeKind, Notice};
use crate::versions::friendship;
use crate::{dedup, Service};
use confab_core::model::{Black, Friend, FriendRequest, HandleResult, User};
use confab_core::validate::{self, MAX_NAME_LEN, MAX_TEXT_LEN};
use confab_core::versions::{ChangeKind, VersionChange, VersionDomain};
use confab_core::{now_millis, Error, Field, Result, UserId};

/// Most friends imported in one request.
pub const MAX_IMPORT: usize = 1000;

/// A friend edge with the friend's profile, as lists show it.
#[derive(Debug, Clone)]
pub struct FriendInfo {
    pub friend: Friend,
    pub user: Option<User>,
}

fn both_edges(a: &UserId, b: &UserId, now: i64) -> [Friend; 2] {
    let edge = |owner: &UserId, other: &UserId| Friend {
        owner_user_id: owner.clone(),
        friend_user_id: other.clone(),
        remark: String::new(),
        created_at: now,
        ex: String::new(),
    };
    [edge(a, b), edge(b, a)]
}

impl Service {
    /// Refuses a friendship between a and b when either blocks the other.
    async fn check_not_blocked(&self, a: &UserId, b: &UserId) -> Result<()> {
        if self.store.get_black(a, b).await?.is_some() {
            return Err(Error::precondition(format!(
                "{b} is in the blacklist of {a}; remove them from it first"
            )));
        }
        if self.store.get_black(b, a).await?.is_some() {
            return Err(Error::precondition(format!("{b} has blocked {a}")));
        }
        Ok(())
    }

    async fn are_friends(&self, a: &UserId, b: &UserId) -> Result<bool> {
        Ok(self.store.get_friend(a, b).await?.is_some()
            && self.store.get_friend(b, a).await?.is_some())
    }

    /// `from` asks `to` to be friends; the request waits for `to`'s answer.
    pub async fn add_friend(
        &self,
        caller: &Caller,
        from: &UserId,
        to: &UserId,
        req_msg: &str,
    ) -> Result<()> {
        caller.require_acts_for(from)?;
        validate::max_len(Field::RequestMessage, req_msg, MAX_TEXT_LEN)?;
        if from == to {
            return Err(Error::invalid_field(
                Field::OtherUser,
                "cannot befriend oneself",
            ));
        }
        self.require_user(from).await?;
        self.require_user(to).await?;
        self.check_not_blocked(from, to).await?;
        if self.are_friends(from, to).await? {
            return Err(Error::conflict(format!(
                "{from} and {to} are already friends"
            )));
        }
        let now = now_millis();
        self.store
            .put_friend_request(&FriendRequest {
                from_user_id: from.clone(),
                to_user_id: to.clone(),
                req_msg: req_msg.to_owned(),
                handle_result: HandleResult::Pending,
                handle_msg: String::new(),
                created_at: now,
                handled_at: 0,
                ex: String::new(),
            })
            .await?;
        self.notify_users(
            from,
            std::slice::from_ref(to),
            Notice::FriendApplication {
                from_user_id: from.clone(),
                to_user_id: to.clone(),
                req_msg: req_msg.to_owned(),
            },
        )
        .await;
        Ok(())
    }

    /// `to` answers the pending request of `from`; accepting makes them friends.
    pub async fn answer_friend_request(
        &self,
        caller: &Caller,
        to: &UserId,
        from: &UserId,
        accept: bool,
        handle_msg: &str,
    ) -> Result<()> {
        caller.require_acts_for(to)?;
        validate::max_len(Field::HandleMessage, handle_msg, MAX_TEXT_LEN)?;
        let request = self
            .store
            .get_friend_request(from, to)
            .await?
            .ok_or_else(|| Error::not_found(format!("no friend request from {from} to {to}")))?;
        if request.handle_result != HandleResult::Pending {
            return Err(Error::precondition(format!(
                "the friend request from {from} to {to} was already answered"
            )));
        }
        let now = now_millis();
        let (result, edges) = if accept {
            self.check_not_blocked(to, from).await?;
            (HandleResult::Accepted, both_edges(from, to, now).to_vec())
        } else {
            (HandleResult::Refused, Vec::new())
        };
        if !self
            .store
            .answer_friend_request(from, to, result, handle_msg, now, &edges)
            .await?
        {
            return Err(Error::not_found(format!(
                "no friend request from {from} to {to}"
            )));
        }
        let notice = Notice::FriendApplicationAnswered {
            accepted: accept,
            from_user_id: from.clone(),
            to_user_id: to.clone(),
            handle_msg: handle_msg.to_owned(),
        };
        if accept {
            self.record_versions(friendship(from, to, ChangeKind::Insert))
                .await;
            self.notify_users(to, &[from.clone(), to.clone()], notice)
                .await;
            // Each user is also told of their new friend (FriendAdded), as
            // seen from their side: OpenIM's JS SDK syncs its friends on
            // that notice only, so without it the applicant's SDK would
            // not learn of the friendship until its next login.
            for (owner, friend) in [(from, to), (to, from)] {
                self.notify_users(
                    to,
                    std::slice::from_ref(owner),
                    Notice::FriendEdge {
                        kind: FriendEdgeKind::Added,
                        from_user_id: owner.clone(),
                        to_user_id: friend.clone(),
                    },
                )
                .await;
            }
        } else {
            self.notify_users(to, std::slice::from_ref(from), notice)
                .await;
        }
        Ok(())
    }

    /// Requests received by `user_id`, newest first.
    pub async fn friend_requests_received(
        &self,
        caller: &Caller,
        user_id: &UserId,
    ) -> Result<Vec<FriendRequest>> {
        caller.require_acts_for(user_id)?;
        self.store.list_friend_requests_to(user_id).await
    }

    /// Requests sent by `user_id`, newest first.
    pub async fn friend_requests_sent(
        &self,
        caller: &Caller,
        user_id: &UserId,
    ) -> Result<Vec<FriendRequest>> {
        caller.require_acts_for(user_id)?;
        self.store.list_friend_requests_from(user_id).await
    }

    /// Ends the friendship of owner and friend (both edges).
    pub async fn delete_friend(
        &self,
        caller: &Caller,
        owner: &UserId,
        friend: &UserId,
    ) -> Result<()> {
        caller.require_acts_for(owner)?;
        let removed = self
            .store
            .delete_friends(&[
                (owner.clone(), friend.clone()),
                (friend.clone(), owner.clone()),
            ])
            .await?;
        if removed == 0 {
            return Err(Error::not_found(format!(
                "{friend} is not a friend of {owner}"
            )));
        }
        self.record_versions(friendship(owner, friend, ChangeKind::Delete))
            .await;
        self.notify_users(
            owner,
            &[owner.clone(), friend.clone()],
            Notice::FriendEdge {
                kind: FriendEdgeKind::Deleted,
                from_user_id: owner.clone(),
                to_user_id: friend.clone(),
            },
        )
        .await;
        Ok(())
    }

    /// The friends of `owner` with their profiles, oldest friendship first.
    pub async fn friend_list(&self, caller: &Caller, owner: &UserId) -> Result<Vec<FriendInfo>> {
        caller.require_acts_for(owner)?;
        self.require_user(owner).await?;
        let friends = self.store.list_friends(owner).await?;
        let ids: Vec<UserId> = friends.iter().map(|f| f.friend_user_id.clone()).collect();
        let users = self.store.get_users(&ids).await?;
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

    pub async fn set_friend_remark(
        &self,
        caller: &Caller,
        owner: &UserId,
        friend: &UserId,
        remark: &str,
    ) -> Result<()> {
        caller.require_acts_for(owner)?;
        validate::max_len(Field::Remark, remark, MAX_NAME_LEN)?;
        if !self.store.set_friend_remark(owner, friend, remark).await? {
            return Err(Error::not_found(format!(
                "{friend} is not a friend of {owner}"
            )));
        }
        self.record_versions(vec![VersionChange::new(
            owner.as_str(),
            VersionDomain::Friends,
            friend.as_str(),
            ChangeKind::Update,
        )])
        .await;
        self.notify_users(
            owner,
            std::slice::from_ref(owner),
            Notice::FriendRemarkSet {
                from_user_id: owner.clone(),
                to_user_id: friend.clone(),
                remark: remark.to_owned(),
            },
        )
        .await;
        Ok(())
    }

    /// Whether `friend` is in the friend list of `owner`.
    pub async fn is_friend(
        &self,
        caller: &Caller,
        owner: &UserId,
        friend: &UserId,
    ) -> Result<bool> {
        caller.require_acts_for(owner)?;
        Ok(self.store.get_friend(owner, friend).await?.is_some())
    }

    /// Makes `owner` and `friend` friends at once, with no request (the
    /// Easemob proxy's contacts). Admin only. Already friends: nothing to do.
    /// Returns the owner and the friend.
    pub async fn add_friendship(
        &self,
        caller: &Caller,
        owner: &UserId,
        friend: &UserId,
    ) -> Result<(User, User)> {
        caller.require_admin()?;
        if owner == friend {
            return Err(Error::invalid_field(
                Field::OtherUser,
                "cannot befriend oneself",
            ));
        }
        let owner_user = self.require_user(owner).await?;
        let friend_user = self.require_user(friend).await?;
        self.check_not_blocked(owner, friend).await?;
        let added = self
            .store
            .add_friends(&both_edges(owner, friend, now_millis()))
            .await?;
        if added > 0 {
            self.record_versions(friendship(owner, friend, ChangeKind::Insert))
                .await;
            self.notify_users(
                owner,
                &[owner.clone(), friend.clone()],
                Notice::FriendEdge {
                    kind: FriendEdgeKind::Added,
                    from_user_id: owner.clone(),
                    to_user_id: friend.clone(),
                },
            )
            .await;
        }
        Ok((owner_user, friend_user))
    }

    /// Ends the friendship of owner and friend, as `delete_friend`, and
    /// returns the owner and the former friend.
    pub async fn remove_friendship(
        &self,
        caller: &Caller,
        owner: &UserId,
        friend: &UserId,
    ) -> Result<(User, User)> {
        let owner_user = self.require_user(owner).await?;
        let friend_user = self.require_user(friend).await?;
        self.delete_friend(caller, owner, friend).await?;
        Ok((owner_user, friend_user))
    }

    /// Makes `owner` friends with each of `friends` at once, with no request.
    /// Admin only. Returns, per id, whether it succeeded.
    pub async fn import_friends(
        &self,
        caller: &Caller,
        owner: &UserId,
        friends: &[UserId],
    ) -> Result<Vec<(UserId, bool)>> {
        caller.require_admin()?;
        validate::batch(Field::FriendsToImport, friends, MAX_IMPORT)?;
        self.require_user(owner).await?;
        let now = now_millis();
        let mut results = Vec::with_capacity(friends.len());
        for friend in dedup(friends) {
            let ok = friend != *owner
                && self.store.get_user(&friend).await?.is_some()
                && self.check_not_blocked(owner, &friend).await.is_ok();
            if ok
                && self
                    .store
                    .add_friends(&both_edges(owner, &friend, now))
                    .await?
                    > 0
            {
                self.record_versions(friendship(owner, &friend, ChangeKind::Insert))
                    .await;
                self.notify_users(
                    owner,
                    &[owner.clone(), friend.clone()],
                    Notice::FriendEdge {
                        kind: FriendEdgeKind::Added,
                        from_user_id: owner.clone(),
                        to_user_id: friend.clone(),
                    },
                )
                .await;
            }
            results.push((friend, ok));
        }
        Ok(results)
    }

    /// `owner` blocks `blocked`, keeping `ex` with the entry. Idempotent:
    /// blocking again keeps the first entry.
    pub async fn add_black(
        &self,
        caller: &Caller,
        owner: &UserId,
        blocked: &UserId,
        ex: &str,
    ) -> Result<()> {
        caller.require_acts_for(owner)?;
        validate::max_len(Field::Ex, ex, MAX_TEXT_LEN)?;
        if owner == blocked {
            return Err(Error::invalid_field(
                Field::OtherUser,
                "cannot block oneself",
            ));
        }
        self.require_user(owner).await?;
        self.require_user(blocked).await?;
        self.store
            .add_black(&Black {
                owner_user_id: owner.clone(),
                block_user_id: blocked.clone(),
                created_at: now_millis(),
                ex: ex.to_owned(),
            })
            .await?;
        self.notify_users(
            owner,
            std::slice::from_ref(owner),
            Notice::FriendEdge {
                kind: FriendEdgeKind::Blocked,
                from_user_id: owner.clone(),
                to_user_id: blocked.clone(),
            },
        )
        .await;
        Ok(())
    }

    pub async fn remove_black(
        &self,
        caller: &Caller,
        owner: &UserId,
        blocked: &UserId,
    ) -> Result<()> {
        caller.require_acts_for(owner)?;
        if !self.store.remove_black(owner, blocked).await? {
            return Err(Error::not_found(format!(
                "{blocked} is not in the blacklist of {owner}"
            )));
        }
        self.notify_users(
            owner,
            std::slice::from_ref(owner),
            Notice::FriendEdge {
                kind: FriendEdgeKind::Unblocked,
                from_user_id: owner.clone(),
                to_user_id: blocked.clone(),
            },
        )
        .await;
        Ok(())
    }

    /// The blacklist of `owner` with profiles, oldest first.
    pub async fn black_list(
        &self,
        caller: &Caller,
        owner: &UserId,
    ) -> Result<Vec<(Black, Option<User>)>> {
        caller.require_acts_for(owner)?;
        self.require_user(owner).await?;
        let blacks = self.store.list_blacks(owner).await?;
        let ids: Vec<UserId> = blacks.iter().map(|b| b.block_user_id.clone()).collect();
        let users = self.store.get_users(&ids).await?;
        Ok(blacks
            .into_iter()
            .map(|b| {
                let user = users.iter().find(|u| u.user_id == b.block_user_id).cloned();
                (b, user)
            })
            .collect())
    }
}
