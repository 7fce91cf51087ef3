//! What a messaging client (as against an app server) needs beyond the
//! admin use cases: the presence of the users it shows, the requests
//! between two users with both profiles, chosen friends, pages of members
//! with a total, and answering a friend request named by the pair of users
//! in either order; friendships seen from both sides, chosen blacklist
//! entries and remarks set on many friends (`relations.rs`); invitations
//! and removals that succeed for all or none, and join requests with their
//! user and group (`groups.rs`). Each builds on the rules of the topic's
//! own file.

mod groups;
mod relations;

pub use groups::GroupRequestView;

use crate::auth::Caller;
use crate::groups::MemberFilter;
use crate::relations::FriendInfo;
use crate::sessions::MAX_ONLINE_STATUS;
use crate::{dedup, Service};
use confab_core::model::{FriendRequest, GroupMember, HandleResult, Role, User};
use confab_core::{validate, Error, Field, GroupId, Platform, Result, UserId};

/// Most friends or members looked up by id at once.
pub const MAX_CLIENT_LOOKUP: usize = 1000;
/// Most members one page holds.
pub const MAX_MEMBER_PAGE: u32 = 1000;

/// A friend request with the profiles of its two users (None: the user
/// was deleted since).
#[derive(Debug, Clone)]
pub struct FriendRequestView {
    pub request: FriendRequest,
    pub from: Option<User>,
    pub to: Option<User>,
}

/// One page of a group's members and how many match in all.
#[derive(Debug, Clone)]
pub struct MemberPage {
    pub total: i64,
    pub members: Vec<GroupMember>,
}

fn filter_role(filter: MemberFilter) -> Option<Role> {
    match filter {
        MemberFilter::All => None,
        MemberFilter::Owner => Some(Role::Owner),
        MemberFilter::Admins => Some(Role::Admin),
        MemberFilter::Ordinary => Some(Role::Member),
    }
}

/// When a request last changed: its answer, else its sending.
fn last_change(r: &FriendRequest) -> i64 {
    r.created_at.max(r.handled_at)
}

impl Service {
    /// For each id, the platforms it is online on (empty: offline). Unlike
    /// `online_status` (app administrators only), any user may ask: a chat
    /// client shows whether its contacts are online, and OpenIM lets every
    /// user see every user's status (docs/decisions.md).
    pub async fn users_online_status(
        &self,
        _caller: &Caller,
        user_ids: &[UserId],
    ) -> Result<Vec<(UserId, Vec<Platform>)>> {
        validate::batch(Field::Users, user_ids, MAX_ONLINE_STATUS)?;
        let ids = dedup(user_ids);
        let platforms = self.presence.platforms_of(&ids).await?;
        Ok(ids.into_iter().zip(platforms).collect())
    }

    /// The requests between `a` and `b`, either way, the latest changed
    /// first: a client asks after sending one, and after answering one, and
    /// wants that one. Only `a` or `b` (or an app admin) may ask.
    pub async fn friend_requests_between(
        &self,
        caller: &Caller,
        a: &UserId,
        b: &UserId,
    ) -> Result<Vec<FriendRequestView>> {
        if !caller.acts_for(a) && !caller.acts_for(b) {
            return Err(Error::denied(format!(
                "a token of {} may read only its own friend requests",
                caller.user_id
            )));
        }
        let mut requests = Vec::new();
        if let Some(r) = self.store.get_friend_request(a, b).await? {
            requests.push(r);
        }
        if a != b {
            if let Some(r) = self.store.get_friend_request(b, a).await? {
                requests.push(r);
            }
        }
        requests.sort_by_key(|r| std::cmp::Reverse(last_change(r)));
        self.with_request_profiles(requests).await
    }

    /// `friend_requests_received`, with the profiles of both users.
    pub async fn friend_requests_received_with_profiles(
        &self,
        caller: &Caller,
        user_id: &UserId,
    ) -> Result<Vec<FriendRequestView>> {
        let requests = self.friend_requests_received(caller, user_id).await?;
        self.with_request_profiles(requests).await
    }

    /// `friend_requests_sent`, with the profiles of both users.
    pub async fn friend_requests_sent_with_profiles(
        &self,
        caller: &Caller,
        user_id: &UserId,
    ) -> Result<Vec<FriendRequestView>> {
        let requests = self.friend_requests_sent(caller, user_id).await?;
        self.with_request_profiles(requests).await
    }

    async fn with_request_profiles(
        &self,
        requests: Vec<FriendRequest>,
    ) -> Result<Vec<FriendRequestView>> {
        let mut ids: Vec<UserId> = Vec::new();
        for r in &requests {
            ids.push(r.from_user_id.clone());
            ids.push(r.to_user_id.clone());
        }
        let users = self.users_in_order(&dedup(&ids)).await?;
        let find = |id: &UserId| users.iter().find(|u| &u.user_id == id).cloned();
        Ok(requests
            .into_iter()
            .map(|request| FriendRequestView {
                from: find(&request.from_user_id),
                to: find(&request.to_user_id),
                request,
            })
            .collect())
    }

    /// The friends of `owner` among `friend_ids`, in request order;
    /// others are left out.
    pub async fn designated_friends(
        &self,
        caller: &Caller,
        owner: &UserId,
        friend_ids: &[UserId],
    ) -> Result<Vec<FriendInfo>> {
        validate::batch(Field::Users, friend_ids, MAX_CLIENT_LOOKUP)?;
        let wanted = dedup(friend_ids);
        let mut friends: Vec<FriendInfo> = self
            .friend_list(caller, owner)
            .await?
            .into_iter()
            .filter(|f| wanted.contains(&f.friend.friend_user_id))
            .collect();
        friends.sort_by_key(|f| wanted.iter().position(|id| *id == f.friend.friend_user_id));
        Ok(friends)
    }

    /// The members among `user_ids`, in request order, as `members_info`
    /// finds them, with the user's own nickname and face where the member
    /// has none of their own in the group: a client names a message's
    /// sender by it.
    pub async fn members_info_with_profiles(
        &self,
        caller: &Caller,
        group_id: &GroupId,
        user_ids: &[UserId],
    ) -> Result<Vec<GroupMember>> {
        let members = self.members_info(caller, group_id, user_ids).await?;
        self.with_member_profiles(members).await
    }

    /// `limit` members after the first `offset` of those that match
    /// `filter` and, when not empty, `keyword` (in their user id or shown
    /// nickname), with the total that match; profiles filled in as
    /// `members_info_with_profiles` does. Who may read follows
    /// `member_list`.
    pub async fn member_page(
        &self,
        caller: &Caller,
        group_id: &GroupId,
        filter: MemberFilter,
        keyword: &str,
        offset: u32,
        limit: u32,
    ) -> Result<MemberPage> {
        if limit == 0 || limit > MAX_MEMBER_PAGE {
            return Err(Error::invalid(format!(
                "page size must be between 1 and {MAX_MEMBER_PAGE}, got {limit}"
            )));
        }
        if filter == MemberFilter::All && keyword.is_empty() {
            self.require_group(group_id).await?;
            let total = self
                .store
                .member_counts(std::slice::from_ref(group_id))
                .await?
                .first()
                .map(|(_, n)| *n)
                .unwrap_or(0);
            let members = self
                .store
                .list_members(group_id, None, offset, limit)
                .await?;
            return Ok(MemberPage {
                total,
                members: self.with_member_profiles(members).await?,
            });
        }
        // A filtered page needs the whole filtered list for its total.
        let role = filter_role(filter);
        let all = self.all_members(caller, group_id).await?;
        let matching: Vec<GroupMember> = self
            .with_member_profiles(all)
            .await?
            .into_iter()
            .filter(|m| role.is_none_or(|r| m.role == r))
            .filter(|m| {
                keyword.is_empty()
                    || m.user_id.as_str().contains(keyword)
                    || m.nickname.contains(keyword)
            })
            .collect();
        Ok(MemberPage {
            total: matching.len() as i64,
            members: matching
                .into_iter()
                .skip(offset as usize)
                .take(limit as usize)
                .collect(),
        })
    }

    async fn with_member_profiles(
        &self,
        mut members: Vec<GroupMember>,
    ) -> Result<Vec<GroupMember>> {
        let bare: Vec<UserId> = members
            .iter()
            .filter(|m| m.nickname.is_empty() || m.face_url.is_empty())
            .map(|m| m.user_id.clone())
            .collect();
        if bare.is_empty() {
            return Ok(members);
        }
        let users = self.store.get_users(&bare).await?;
        for m in &mut members {
            if let Some(u) = users.iter().find(|u| u.user_id == m.user_id) {
                if m.nickname.is_empty() {
                    m.nickname.clone_from(&u.nickname);
                }
                if m.face_url.is_empty() {
                    m.face_url.clone_from(&u.face_url);
                }
            }
        }
        Ok(members)
    }

    /// Answers the pending friend request between `first` and `second`.
    /// Dialects name the pair in different orders (the responder first, or
    /// the applicant first), so the request itself tells: the pending one
    /// is answered by its recipient. When both are pending, the one sent to
    /// a user the caller acts for; when none is, `first` answers `second`'s,
    /// and the errors are those of `answer_friend_request`.
    pub async fn answer_friend_request_between(
        &self,
        caller: &Caller,
        first: &UserId,
        second: &UserId,
        accept: bool,
        handle_msg: &str,
    ) -> Result<()> {
        let pending =
            |r: Option<FriendRequest>| r.is_some_and(|r| r.handle_result == HandleResult::Pending);
        let to_first = pending(self.store.get_friend_request(second, first).await?);
        let to_second = pending(self.store.get_friend_request(first, second).await?);
        let second_answers =
            to_second && (!to_first || (caller.acts_for(second) && !caller.acts_for(first)));
        let (responder, applicant) = if second_answers {
            (second, first)
        } else {
            (first, second)
        };
        self.answer_friend_request(caller, responder, applicant, accept, handle_msg)
            .await
    }
}
