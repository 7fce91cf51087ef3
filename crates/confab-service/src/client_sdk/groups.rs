//! Groups as a messaging client asks for them: invitations and removals
//! that succeed for every user named or for none (as OpenIM v3's do), and
//! join requests with the applicant's profile and the group.

use crate::auth::Caller;
use crate::groups::{GroupInfo, MAX_MEMBER_BATCH};
use crate::{dedup, Service};
use confab_core::model::{GroupRequest, User};
use confab_core::validate;
use confab_core::{Error, Field, GroupId, Result, UserId};

/// A join request with the applicant's profile (None: deleted since) and
/// the group with its member count.
#[derive(Debug, Clone)]
pub struct GroupRequestView {
    pub request: GroupRequest,
    pub user: Option<User>,
    pub group: GroupInfo,
}

impl Service {
    /// `invite_members`, refused as a whole when any of `user_ids` is not
    /// a user or already a member, so that a success means every one of
    /// them joined. Who may invite is `invite_members`' rule.
    pub async fn invite_every_member(
        &self,
        caller: &Caller,
        group_id: &GroupId,
        user_ids: &[UserId],
    ) -> Result<()> {
        validate::batch(Field::Invitees, user_ids, MAX_MEMBER_BATCH)?;
        self.live_group(group_id).await?;
        let ids = dedup(user_ids);
        let users = self.store.get_users(&ids).await?;
        if let Some(missing) = ids
            .iter()
            .find(|id| !users.iter().any(|u| &u.user_id == *id))
        {
            return Err(Error::not_found(format!("user {missing} does not exist"))
                .with_field(Field::Invitees));
        }
        if let Some(member) = self.store.get_members(group_id, &ids).await?.first() {
            return Err(Error::conflict(format!(
                "{} is already a member of group {group_id}",
                member.user_id
            ))
            .with_field(Field::Invitees));
        }
        self.invite_members(caller, group_id, &ids).await?;
        Ok(())
    }

    /// `kick_members`, refused as a whole when any of `user_ids` is not a
    /// member, is the caller, or outranks the caller's role.
    pub async fn kick_every_member(
        &self,
        caller: &Caller,
        group_id: &GroupId,
        user_ids: &[UserId],
    ) -> Result<()> {
        validate::batch(Field::KickedMembers, user_ids, MAX_MEMBER_BATCH)?;
        self.live_group(group_id).await?;
        let actor = self.manager_role(caller, group_id).await?;
        let ids = dedup(user_ids);
        let members = self.store.get_members(group_id, &ids).await?;
        for id in &ids {
            let member = members.iter().find(|m| &m.user_id == id).ok_or_else(|| {
                Error::not_found(format!("{id} is not a member of group {group_id}"))
                    .with_field(Field::KickedMembers)
            })?;
            if *id == caller.user_id {
                return Err(Error::invalid_field(
                    Field::KickedMembers,
                    "cannot remove oneself; quit the group instead",
                ));
            }
            if !Self::outranks(actor, member.role) {
                return Err(Error::denied(format!(
                    "{id} cannot be removed by this caller"
                )));
            }
        }
        self.kick_members(caller, group_id, &ids).await?;
        Ok(())
    }

    /// `group_requests_received`, with profiles and groups.
    pub async fn group_requests_received_with_info(
        &self,
        caller: &Caller,
        user_id: &UserId,
    ) -> Result<Vec<GroupRequestView>> {
        let requests = self.group_requests_received(caller, user_id).await?;
        self.with_group_request_info(requests).await
    }

    /// `group_requests_sent`, with profiles and groups.
    pub async fn group_requests_sent_with_info(
        &self,
        caller: &Caller,
        user_id: &UserId,
    ) -> Result<Vec<GroupRequestView>> {
        let requests = self.group_requests_sent(caller, user_id).await?;
        self.with_group_request_info(requests).await
    }

    /// The request of `user_id` to join `group_id`, if any (a client asks
    /// after sending or answering one). The user, the group's managers
    /// and app admins may ask.
    pub async fn user_group_request(
        &self,
        caller: &Caller,
        group_id: &GroupId,
        user_id: &UserId,
    ) -> Result<Vec<GroupRequestView>> {
        self.require_group(group_id).await?;
        if !caller.acts_for(user_id) {
            self.manager_role(caller, group_id).await?;
        }
        let request = self.store.get_group_request(group_id, user_id).await?;
        self.with_group_request_info(request.into_iter().collect())
            .await
    }

    async fn with_group_request_info(
        &self,
        requests: Vec<GroupRequest>,
    ) -> Result<Vec<GroupRequestView>> {
        let user_ids: Vec<UserId> = requests.iter().map(|r| r.user_id.clone()).collect();
        let users = self.users_in_order(&dedup(&user_ids)).await?;
        let group_ids: Vec<GroupId> = requests.iter().map(|r| r.group_id.clone()).collect();
        let group_ids = dedup(&group_ids);
        let groups = if group_ids.is_empty() {
            Vec::new()
        } else {
            let found = self.store.get_groups(&group_ids).await?;
            self.with_member_counts(found).await?
        };
        // Groups are never deleted, only dismissed: each request finds its group.
        Ok(requests
            .into_iter()
            .filter_map(|request| {
                let group = groups
                    .iter()
                    .find(|g| g.group.group_id == request.group_id)?
                    .clone();
                let user = users.iter().find(|u| u.user_id == request.user_id).cloned();
                Some(GroupRequestView {
                    request,
                    user,
                    group,
                })
            })
            .collect())
    }
}
