//! Groups, members and join requests.
//!
//! Rules: the owner and admins manage a group (info, kick, mute, answer
//! requests); app administrators may do anything. An admin may act on
//! ordinary members only; the owner on everyone but themselves. The owner
//! cannot quit before transferring ownership. A dismissed group refuses
//! every change and leaves everyone's joined list.

use crate::auth::Caller;
use crate::{dedup, Service};
use confab_core::ids::GroupId;
use confab_core::message::content_type as ct;
use confab_core::model::*;
use confab_core::validate::{self, MAX_NAME_LEN, MAX_TEXT_LEN};
use confab_core::{now_millis, Error, Result, UserId};
use serde_json::json;

/// Most users invited, kicked or listed by id in one request.
pub const MAX_MEMBER_BATCH: usize = 1000;
/// Page size of `member_list`.
pub const MEMBER_PAGE: u32 = 100;

/// OpenIM's join sources.
const JOIN_BY_INVITE: i32 = 2;
const JOIN_BY_REQUEST: i32 = 3;
const JOIN_BY_CREATE: i32 = 4;

#[derive(Debug, Clone)]
pub struct NewGroup {
    /// Chosen by the caller, or generated when None.
    pub group_id: Option<GroupId>,
    pub owner: UserId,
    pub group_type: i32,
    pub info: GroupPatch,
    /// Initial members and their roles (ordinary or admin).
    pub members: Vec<(UserId, Role)>,
}

#[derive(Debug, Clone)]
pub struct GroupInfo {
    pub group: Group,
    pub member_count: i64,
}

/// Which members `member_list` returns (OpenIM's `filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberFilter {
    All,
    Owner,
    Admins,
    Ordinary,
}

impl MemberFilter {
    pub fn from_i32(v: i32) -> Option<MemberFilter> {
        match v {
            0 => Some(MemberFilter::All),
            1 => Some(MemberFilter::Owner),
            2 => Some(MemberFilter::Admins),
            3 => Some(MemberFilter::Ordinary),
            _ => None,
        }
    }
    fn role(self) -> Option<Role> {
        match self {
            MemberFilter::All => None,
            MemberFilter::Owner => Some(Role::Owner),
            MemberFilter::Admins => Some(Role::Admin),
            MemberFilter::Ordinary => Some(Role::Member),
        }
    }
}

fn validate_group_info(p: &GroupPatch) -> Result<()> {
    validate::opt_max_len("groupName", &p.group_name, MAX_NAME_LEN)?;
    validate::opt_max_len("notification", &p.notification, MAX_TEXT_LEN)?;
    validate::opt_max_len("introduction", &p.introduction, MAX_TEXT_LEN)?;
    validate::opt_max_len("faceURL", &p.face_url, MAX_NAME_LEN)?;
    validate::opt_max_len("ex", &p.ex, MAX_TEXT_LEN)
}

impl Service {
    /// The group, if it exists and is not dismissed.
    async fn live_group(&self, group_id: &GroupId) -> Result<Group> {
        let group = self
            .store
            .get_group(group_id)
            .await?
            .ok_or_else(|| Error::not_found(format!("group {group_id} does not exist")))?;
        if group.status == GroupStatus::Dismissed {
            return Err(Error::precondition(format!(
                "group {group_id} has been dismissed"
            )));
        }
        Ok(group)
    }

    async fn require_member(&self, group_id: &GroupId, user_id: &UserId) -> Result<GroupMember> {
        self.store
            .get_member(group_id, user_id)
            .await?
            .ok_or_else(|| {
                Error::not_found(format!("{user_id} is not a member of group {group_id}"))
            })
    }

    /// The caller's role in the group: `Owner` for app admins, who may do
    /// anything; fails unless the caller is owner or admin of the group.
    async fn manager_role(&self, caller: &Caller, group_id: &GroupId) -> Result<Role> {
        if caller.is_admin {
            return Ok(Role::Owner);
        }
        match self.store.get_member(group_id, &caller.user_id).await? {
            Some(m) if m.role.manages() => Ok(m.role),
            _ => Err(Error::denied(format!(
                "only the owner or an admin of group {group_id} may do this"
            ))),
        }
    }

    /// Whether a manager of role `actor` may act on a member of role `target`.
    fn outranks(actor: Role, target: Role) -> bool {
        match actor {
            Role::Owner => target != Role::Owner,
            Role::Admin => target == Role::Member,
            Role::Member => false,
        }
    }

    pub async fn create_group(&self, caller: &Caller, new: NewGroup) -> Result<GroupInfo> {
        caller.require_acts_for(&new.owner)?;
        validate_group_info(&new.info)?;
        if new.members.len() > MAX_MEMBER_BATCH {
            return Err(Error::invalid(format!(
                "memberList: at most {MAX_MEMBER_BATCH} members per request"
            )));
        }
        self.require_user(&new.owner).await?;
        let mut members: Vec<(UserId, Role)> = Vec::new();
        for (user_id, role) in &new.members {
            if *role == Role::Owner {
                return Err(Error::invalid(format!(
                    "memberList: {user_id} cannot have roleLevel 2 (owner); the owner is ownerUserID"
                )));
            }
            if *user_id != new.owner && !members.iter().any(|(u, _)| u == user_id) {
                members.push((user_id.clone(), *role));
            }
        }
        let ids: Vec<UserId> = members.iter().map(|(u, _)| u.clone()).collect();
        let found = self.store.get_users(&ids).await?;
        if let Some(missing) = ids
            .iter()
            .find(|id| !found.iter().any(|u| &u.user_id == *id))
        {
            return Err(Error::not_found(format!(
                "memberList: user {missing} does not exist"
            )));
        }
        let now = now_millis();
        let group_id = match new.group_id {
            Some(id) => id,
            None => GroupId::from_trusted(uuid::Uuid::new_v4().simple().to_string()),
        };
        let info = new.info;
        let group = Group {
            group_id: group_id.clone(),
            group_name: info.group_name.unwrap_or_default(),
            notification: info.notification.unwrap_or_default(),
            introduction: info.introduction.unwrap_or_default(),
            face_url: info.face_url.unwrap_or_default(),
            ex: info.ex.unwrap_or_default(),
            group_type: new.group_type,
            status: GroupStatus::Ok,
            creator_user_id: caller.user_id.clone(),
            owner_user_id: new.owner.clone(),
            created_at: now,
        };
        let mut records = vec![GroupMember {
            join_source: JOIN_BY_CREATE,
            operator_user_id: caller.user_id.to_string(),
            ..GroupMember::new(group_id.clone(), new.owner.clone(), Role::Owner, now)
        }];
        records.extend(members.into_iter().map(|(user_id, role)| GroupMember {
            join_source: JOIN_BY_INVITE,
            inviter_user_id: new.owner.to_string(),
            operator_user_id: caller.user_id.to_string(),
            ..GroupMember::new(group_id.clone(), user_id, role, now)
        }));
        self.store.create_group(&group, &records).await?;
        self.members.invalidate(&group_id);
        let member_ids: Vec<String> = records.iter().map(|m| m.user_id.to_string()).collect();
        self.notify_group(
            &caller.user_id,
            &group_id,
            ct::GROUP_CREATED,
            json!({"groupID": group_id, "groupName": group.group_name, "ownerUserID": group.owner_user_id, "opUserID": caller.user_id, "memberUserIDList": member_ids}),
        )
        .await;
        Ok(GroupInfo {
            group,
            member_count: records.len() as i64,
        })
    }

    pub async fn set_group_info(
        &self,
        caller: &Caller,
        group_id: &GroupId,
        patch: &GroupPatch,
    ) -> Result<()> {
        validate_group_info(patch)?;
        self.live_group(group_id).await?;
        self.manager_role(caller, group_id).await?;
        self.store.update_group(group_id, patch).await?;
        self.notify_group(
            &caller.user_id,
            group_id,
            ct::GROUP_INFO_SET,
            json!({"groupID": group_id, "opUserID": caller.user_id, "groupName": patch.group_name, "notification": patch.notification, "introduction": patch.introduction, "faceURL": patch.face_url, "ex": patch.ex}),
        )
        .await;
        Ok(())
    }

    /// `user_id` asks to join; an owner or admin answers.
    pub async fn join_group(
        &self,
        caller: &Caller,
        group_id: &GroupId,
        user_id: &UserId,
        req_msg: &str,
    ) -> Result<()> {
        caller.require_acts_for(user_id)?;
        validate::max_len("reqMessage", req_msg, MAX_TEXT_LEN)?;
        self.live_group(group_id).await?;
        self.require_user(user_id).await?;
        if self.store.get_member(group_id, user_id).await?.is_some() {
            return Err(Error::conflict(format!(
                "{user_id} is already a member of group {group_id}"
            )));
        }
        self.store
            .put_group_request(&GroupRequest {
                group_id: group_id.clone(),
                user_id: user_id.clone(),
                req_msg: req_msg.to_owned(),
                handle_result: HandleResult::Pending,
                handle_msg: String::new(),
                handled_user_id: String::new(),
                req_time: now_millis(),
                handled_time: 0,
                join_source: JOIN_BY_REQUEST,
                inviter_user_id: String::new(),
                ex: String::new(),
            })
            .await?;
        let mut managers = self
            .store
            .list_members(group_id, Some(Role::Owner), 0, 1)
            .await?;
        managers.extend(
            self.store
                .list_members(group_id, Some(Role::Admin), 0, 1000)
                .await?,
        );
        let managers: Vec<UserId> = managers.into_iter().map(|m| m.user_id).collect();
        self.notify_users(
            user_id,
            &managers,
            ct::JOIN_GROUP_APPLICATION,
            json!({"groupID": group_id, "userID": user_id, "reqMsg": req_msg}),
        )
        .await;
        Ok(())
    }

    pub async fn quit_group(
        &self,
        caller: &Caller,
        group_id: &GroupId,
        user_id: &UserId,
    ) -> Result<()> {
        caller.require_acts_for(user_id)?;
        self.live_group(group_id).await?;
        let member = self.require_member(group_id, user_id).await?;
        if member.role == Role::Owner {
            return Err(Error::precondition(
                "the owner cannot quit the group; transfer ownership or dismiss it first",
            ));
        }
        self.store
            .remove_members(group_id, std::slice::from_ref(user_id))
            .await?;
        self.members.invalidate(group_id);
        self.notify_group(
            user_id,
            group_id,
            ct::MEMBER_QUIT,
            json!({"groupID": group_id, "userID": user_id}),
        )
        .await;
        Ok(())
    }

    pub async fn answer_group_request(
        &self,
        caller: &Caller,
        group_id: &GroupId,
        applicant: &UserId,
        accept: bool,
        handle_msg: &str,
    ) -> Result<()> {
        validate::max_len("handledMsg", handle_msg, MAX_TEXT_LEN)?;
        self.live_group(group_id).await?;
        self.manager_role(caller, group_id).await?;
        let request = self
            .store
            .get_group_request(group_id, applicant)
            .await?
            .ok_or_else(|| {
                Error::not_found(format!(
                    "no request from {applicant} to join group {group_id}"
                ))
            })?;
        if request.handle_result != HandleResult::Pending {
            return Err(Error::precondition(format!(
                "the request from {applicant} to join group {group_id} was already answered"
            )));
        }
        let now = now_millis();
        let member = accept.then(|| GroupMember {
            join_source: JOIN_BY_REQUEST,
            operator_user_id: caller.user_id.to_string(),
            ..GroupMember::new(group_id.clone(), applicant.clone(), Role::Member, now)
        });
        let result = if accept {
            HandleResult::Accepted
        } else {
            HandleResult::Refused
        };
        self.store
            .answer_group_request(
                group_id,
                applicant,
                result,
                handle_msg,
                &caller.user_id,
                now,
                member.as_ref(),
            )
            .await?;
        let content = json!({"groupID": group_id, "userID": applicant, "opUserID": caller.user_id, "handleMsg": handle_msg});
        if accept {
            self.members.invalidate(group_id);
            self.notify_group(
                &caller.user_id,
                group_id,
                ct::GROUP_APPLICATION_ACCEPTED,
                content,
            )
            .await;
        } else {
            self.notify_users(
                &caller.user_id,
                std::slice::from_ref(applicant),
                ct::GROUP_APPLICATION_REJECTED,
                content,
            )
            .await;
        }
        Ok(())
    }

    /// Makes `new_owner` (a member) the owner; the old owner becomes an
    /// ordinary member. Only the owner or an app admin may do it.
    pub async fn transfer_group(
        &self,
        caller: &Caller,
        group_id: &GroupId,
        new_owner: &UserId,
    ) -> Result<()> {
        let group = self.live_group(group_id).await?;
        if !caller.acts_for(&group.owner_user_id) {
            return Err(Error::denied(format!(
                "only the owner of group {group_id} may transfer it"
            )));
        }
        if *new_owner == group.owner_user_id {
            return Err(Error::invalid(format!(
                "newOwnerUserID: {new_owner} already owns the group"
            )));
        }
        self.require_member(group_id, new_owner).await?;
        self.store
            .transfer_owner(group_id, &group.owner_user_id, new_owner, Role::Member)
            .await?;
        self.notify_group(
            &caller.user_id,
            group_id,
            ct::GROUP_OWNER_TRANSFERRED,
            json!({"groupID": group_id, "oldOwnerUserID": group.owner_user_id, "newOwnerUserID": new_owner, "opUserID": caller.user_id}),
        )
        .await;
        Ok(())
    }

    /// Join requests to the groups `user_id` owns or administers.
    pub async fn group_requests_received(
        &self,
        caller: &Caller,
        user_id: &UserId,
    ) -> Result<Vec<GroupRequest>> {
        caller.require_acts_for(user_id)?;
        let groups = self.store.managed_group_ids(user_id).await?;
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        self.store.list_group_requests_for(&groups).await
    }

    /// Join requests made by `user_id`.
    pub async fn group_requests_sent(
        &self,
        caller: &Caller,
        user_id: &UserId,
    ) -> Result<Vec<GroupRequest>> {
        caller.require_acts_for(user_id)?;
        self.store.list_group_requests_by(user_id).await
    }

    /// Groups that exist among `group_ids` (dismissed ones included, with
    /// their status), in request order.
    pub async fn groups_info(&self, group_ids: &[GroupId]) -> Result<Vec<GroupInfo>> {
        validate::batch("groupIDList", group_ids, MAX_MEMBER_BATCH)?;
        let ids = dedup(group_ids);
        let mut groups = self.store.get_groups(&ids).await?;
        groups.sort_by_key(|g| ids.iter().position(|id| *id == g.group_id));
        self.with_member_counts(groups).await
    }

    /// The groups with their member counts.
    async fn with_member_counts(&self, groups: Vec<Group>) -> Result<Vec<GroupInfo>> {
        let ids: Vec<GroupId> = groups.iter().map(|g| g.group_id.clone()).collect();
        let counts = if ids.is_empty() {
            Vec::new()
        } else {
            self.store.member_counts(&ids).await?
        };
        Ok(groups
            .into_iter()
            .map(|group| GroupInfo {
                member_count: counts
                    .iter()
                    .find(|(g, _)| *g == group.group_id)
                    .map(|(_, n)| *n)
                    .unwrap_or(0),
                group,
            })
            .collect())
    }

    /// Removes members; per id, whether it was removed. Managers only; an
    /// admin may remove ordinary members only, no one removes the owner.
    pub async fn kick_members(
        &self,
        caller: &Caller,
        group_id: &GroupId,
        user_ids: &[UserId],
    ) -> Result<Vec<(UserId, bool)>> {
        validate::batch("kickedUserIDList", user_ids, MAX_MEMBER_BATCH)?;
        self.live_group(group_id).await?;
        let actor = self.manager_role(caller, group_id).await?;
        let ids = dedup(user_ids);
        let members = self.store.get_members(group_id, &ids).await?;
        let removable: Vec<UserId> = members
            .iter()
            .filter(|m| Self::outranks(actor, m.role) && m.user_id != caller.user_id)
            .map(|m| m.user_id.clone())
            .collect();
        let removed = self.store.remove_members(group_id, &removable).await?;
        if !removed.is_empty() {
            self.members.invalidate(group_id);
            let content = json!({"groupID": group_id, "opUserID": caller.user_id, "kickedUserIDList": removed});
            self.notify_group(
                &caller.user_id,
                group_id,
                ct::MEMBER_KICKED,
                content.clone(),
            )
            .await;
            self.notify_users(&caller.user_id, &removed, ct::MEMBER_KICKED, content)
                .await;
        }
        Ok(ids
            .into_iter()
            .map(|id| {
                let ok = removed.contains(&id);
                (id, ok)
            })
            .collect())
    }

    pub async fn member_list(
        &self,
        group_id: &GroupId,
        filter: MemberFilter,
        offset: u32,
    ) -> Result<Vec<GroupMember>> {
        self.require_group(group_id).await?;
        self.store
            .list_members(group_id, filter.role(), offset, MEMBER_PAGE)
            .await
    }

    pub async fn all_members(&self, group_id: &GroupId) -> Result<Vec<GroupMember>> {
        self.require_group(group_id).await?;
        let mut out = Vec::new();
        loop {
            let page = self
                .store
                .list_members(group_id, None, out.len() as u32, 1000)
                .await?;
            let done = page.len() < 1000;
            out.extend(page);
            if done {
                return Ok(out);
            }
        }
    }

    /// The members among `user_ids`, in request order.
    pub async fn members_info(
        &self,
        group_id: &GroupId,
        user_ids: &[UserId],
    ) -> Result<Vec<GroupMember>> {
        validate::batch("memberList", user_ids, MAX_MEMBER_BATCH)?;
        self.require_group(group_id).await?;
        let ids = dedup(user_ids);
        let mut members = self.store.get_members(group_id, &ids).await?;
        members.sort_by_key(|m| ids.iter().position(|id| *id == m.user_id));
        Ok(members)
    }

    async fn require_group(&self, group_id: &GroupId) -> Result<Group> {
        self.store
            .get_group(group_id)
            .await?
            .ok_or_else(|| Error::not_found(format!("group {group_id} does not exist")))
    }

    /// Adds users directly; per id, whether they were added (false for
    /// unknown users and existing members). Any member may invite.
    pub async fn invite_members(
        &self,
        caller: &Caller,
        group_id: &GroupId,
        user_ids: &[UserId],
    ) -> Result<Vec<(UserId, bool)>> {
        validate::batch("invitedUserIDList", user_ids, MAX_MEMBER_BATCH)?;
        self.live_group(group_id).await?;
        if !caller.is_admin {
            self.require_member(group_id, &caller.user_id)
                .await
                .map_err(|_| {
                    Error::denied(format!("only members of group {group_id} may invite"))
                })?;
        }
        let ids = dedup(user_ids);
        let existing = self.store.get_users(&ids).await?;
        let now = now_millis();
        let records: Vec<GroupMember> = ids
            .iter()
            .filter(|id| existing.iter().any(|u| &u.user_id == *id))
            .map(|id| GroupMember {
                join_source: JOIN_BY_INVITE,
                inviter_user_id: caller.user_id.to_string(),
                operator_user_id: caller.user_id.to_string(),
                ..GroupMember::new(group_id.clone(), id.clone(), Role::Member, now)
            })
            .collect();
        let added = self.store.add_members(&records).await?;
        if !added.is_empty() {
            self.members.invalidate(group_id);
            self.notify_group(
                &caller.user_id,
                group_id,
                ct::MEMBER_INVITED,
                json!({"groupID": group_id, "opUserID": caller.user_id, "invitedUserIDList": added}),
            )
            .await;
        }
        Ok(ids
            .into_iter()
            .map(|id| {
                let ok = added.contains(&id);
                (id, ok)
            })
            .collect())
    }

    pub async fn joined_groups(&self, caller: &Caller, user_id: &UserId) -> Result<Vec<GroupInfo>> {
        caller.require_acts_for(user_id)?;
        let groups = self.store.joined_groups(user_id).await?;
        self.with_member_counts(groups).await
    }

    /// Ends the group for everyone. Owner or app admin only.
    pub async fn dismiss_group(&self, caller: &Caller, group_id: &GroupId) -> Result<()> {
        let group = self.live_group(group_id).await?;
        if !caller.acts_for(&group.owner_user_id) {
            return Err(Error::denied(format!(
                "only the owner of group {group_id} may dismiss it"
            )));
        }
        self.store
            .set_group_status(group_id, GroupStatus::Dismissed)
            .await?;
        self.notify_group(
            &caller.user_id,
            group_id,
            ct::GROUP_DISMISSED,
            json!({"groupID": group_id, "opUserID": caller.user_id}),
        )
        .await;
        Ok(())
    }

    /// Mutes a member for `seconds` (0 lifts the mute).
    pub async fn mute_member(
        &self,
        caller: &Caller,
        group_id: &GroupId,
        user_id: &UserId,
        seconds: u32,
    ) -> Result<()> {
        self.live_group(group_id).await?;
        let actor = self.manager_role(caller, group_id).await?;
        let target = self.require_member(group_id, user_id).await?;
        if !Self::outranks(actor, target.role) {
            return Err(Error::denied(format!(
                "{user_id} cannot be muted by this caller"
            )));
        }
        let until = if seconds == 0 {
            0
        } else {
            now_millis() + i64::from(seconds) * 1000
        };
        let patch = MemberPatch {
            mute_end_time: Some(until),
            ..Default::default()
        };
        self.store.update_member(group_id, user_id, &patch).await?;
        let kind = if seconds == 0 {
            ct::GROUP_MEMBER_CANCEL_MUTED
        } else {
            ct::GROUP_MEMBER_MUTED
        };
        self.notify_group(
            &caller.user_id,
            group_id,
            kind,
            json!({"groupID": group_id, "userID": user_id, "opUserID": caller.user_id, "mutedSeconds": seconds}),
        )
        .await;
        Ok(())
    }

    /// Mutes (or unmutes) the whole group: only the owner and admins may
    /// then send.
    pub async fn set_group_muted(
        &self,
        caller: &Caller,
        group_id: &GroupId,
        muted: bool,
    ) -> Result<()> {
        self.live_group(group_id).await?;
        self.manager_role(caller, group_id).await?;
        let status = if muted {
            GroupStatus::Muted
        } else {
            GroupStatus::Ok
        };
        self.store.set_group_status(group_id, status).await?;
        let kind = if muted {
            ct::GROUP_MUTED
        } else {
            ct::GROUP_CANCEL_MUTED
        };
        self.notify_group(
            &caller.user_id,
            group_id,
            kind,
            json!({"groupID": group_id, "opUserID": caller.user_id}),
        )
        .await;
        Ok(())
    }

    /// Changes a member's group nickname, face, ex or role. Members change
    /// their own nickname, face and ex; managers those of members they
    /// outrank; only the owner changes roles (to ordinary or admin).
    pub async fn set_member_info(
        &self,
        caller: &Caller,
        group_id: &GroupId,
        user_id: &UserId,
        patch: &MemberPatch,
    ) -> Result<()> {
        validate::opt_max_len("nickname", &patch.nickname, MAX_NAME_LEN)?;
        validate::opt_max_len("faceURL", &patch.face_url, MAX_NAME_LEN)?;
        validate::opt_max_len("ex", &patch.ex, MAX_TEXT_LEN)?;
        self.live_group(group_id).await?;
        let target = self.require_member(group_id, user_id).await?;
        let self_edit = caller.user_id == *user_id;
        if let Some(role) = patch.role {
            if role == Role::Owner {
                return Err(Error::invalid(
                    "roleLevel: use transfer_group to change the owner",
                ));
            }
            let actor = self.manager_role(caller, group_id).await?;
            if actor != Role::Owner || target.role == Role::Owner {
                return Err(Error::denied(
                    "only the owner may change roles of other members",
                ));
            }
        } else if !self_edit {
            let actor = self.manager_role(caller, group_id).await?;
            if !Self::outranks(actor, target.role) {
                return Err(Error::denied(format!(
                    "the caller may not change the info of {user_id}"
                )));
            }
        }
        let patch = MemberPatch {
            mute_end_time: None,
            ..patch.clone()
        };
        self.store.update_member(group_id, user_id, &patch).await?;
        let kind = match patch.role {
            Some(Role::Admin) => ct::GROUP_MEMBER_SET_TO_ADMIN,
            Some(Role::Member) => ct::GROUP_MEMBER_SET_TO_ORDINARY,
            _ => ct::GROUP_MEMBER_INFO_SET,
        };
        self.notify_group(
            &caller.user_id,
            group_id,
            kind,
            json!({"groupID": group_id, "userID": user_id, "opUserID": caller.user_id, "nickname": patch.nickname, "faceURL": patch.face_url, "ex": patch.ex}),
        )
        .await;
        Ok(())
    }
}
