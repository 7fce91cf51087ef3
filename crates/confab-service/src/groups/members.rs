//! A group's members: inviting, kicking, quitting, muting, their info and
//! the member lists.

use super::*;
use crate::dedup;
use crate::notices::*;
use confab_core::now_millis;

impl Service {
    /// Adds users directly; per id, whether they were added (false for
    /// unknown users and existing members). Any member may invite.
    pub async fn invite_members(
        &self,
        caller: &Caller,
        group_id: &GroupId,
        user_ids: &[UserId],
    ) -> Result<Vec<(UserId, bool)>> {
        validate::batch(Field::Invitees, user_ids, MAX_MEMBER_BATCH)?;
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
            self.record_versions(membership(group_id, &added, ChangeKind::Insert))
                .await;
            self.members_changed(group_id);
            self.notify_group(
                &caller.user_id,
                group_id,
                Notice::MembersInvited {
                    group_id: group_id.clone(),
                    op_user_id: caller.user_id.clone(),
                    invited_user_ids: added.clone(),
                },
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

    /// Removes members; per id, whether it was removed. Managers only; an
    /// admin may remove ordinary members only, no one removes the owner.
    pub async fn kick_members(
        &self,
        caller: &Caller,
        group_id: &GroupId,
        user_ids: &[UserId],
    ) -> Result<Vec<(UserId, bool)>> {
        validate::batch(Field::KickedMembers, user_ids, MAX_MEMBER_BATCH)?;
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
            self.record_versions(membership(group_id, &removed, ChangeKind::Delete))
                .await;
            self.members_changed(group_id);
            let notice = Notice::MembersKicked {
                group_id: group_id.clone(),
                op_user_id: caller.user_id.clone(),
                kicked_user_ids: removed.clone(),
            };
            self.notify_group(&caller.user_id, group_id, notice.clone())
                .await;
            self.notify_users(&caller.user_id, &removed, notice).await;
        }
        Ok(ids
            .into_iter()
            .map(|id| {
                let ok = removed.contains(&id);
                (id, ok)
            })
            .collect())
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
        self.record_versions(membership(
            group_id,
            std::slice::from_ref(user_id),
            ChangeKind::Delete,
        ))
        .await;
        self.members_changed(group_id);
        self.notify_group(
            user_id,
            group_id,
            Notice::MemberQuit {
                group_id: group_id.clone(),
                user_id: user_id.clone(),
            },
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
        self.record_versions(member_updates(group_id, &[user_id]))
            .await;
        self.notify_group(
            &caller.user_id,
            group_id,
            Notice::MemberMuted {
                group_id: group_id.clone(),
                user_id: user_id.clone(),
                op_user_id: caller.user_id.clone(),
                muted_seconds: seconds,
            },
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
        validate::opt_max_len(Field::Nickname, &patch.nickname, MAX_NAME_LEN)?;
        validate::opt_max_len(Field::FaceUrl, &patch.face_url, MAX_NAME_LEN)?;
        validate::opt_max_len(Field::Ex, &patch.ex, MAX_TEXT_LEN)?;
        self.live_group(group_id).await?;
        let target = self.require_member(group_id, user_id).await?;
        let self_edit = caller.user_id == *user_id;
        if let Some(role) = patch.role {
            if role == Role::Owner {
                return Err(Error::invalid_field(
                    Field::Role,
                    "use transfer_group to change the owner",
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
        self.record_versions(member_updates(group_id, &[user_id]))
            .await;
        let kind = match patch.role {
            Some(Role::Admin) => MemberInfoKind::SetToAdmin,
            Some(Role::Member) => MemberInfoKind::SetToOrdinary,
            _ => MemberInfoKind::InfoSet,
        };
        self.notify_group(
            &caller.user_id,
            group_id,
            Notice::MemberInfoSet {
                kind,
                group_id: group_id.clone(),
                user_id: user_id.clone(),
                op_user_id: caller.user_id.clone(),
                info: MemberInfo {
                    nickname: patch.nickname.clone(),
                    face_url: patch.face_url.clone(),
                    ex: patch.ex.clone(),
                },
            },
        )
        .await;
        Ok(())
    }

    /// A page of members. Any authenticated caller may read member lists.
    pub async fn member_list(
        &self,
        _caller: &Caller,
        group_id: &GroupId,
        filter: MemberFilter,
        offset: u32,
    ) -> Result<Vec<GroupMember>> {
        self.require_group(group_id).await?;
        self.store
            .list_members(group_id, filter.role(), offset, MEMBER_PAGE)
            .await
    }

    pub async fn all_members(
        &self,
        _caller: &Caller,
        group_id: &GroupId,
    ) -> Result<Vec<GroupMember>> {
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
        _caller: &Caller,
        group_id: &GroupId,
        user_ids: &[UserId],
    ) -> Result<Vec<GroupMember>> {
        validate::batch(Field::Members, user_ids, MAX_MEMBER_BATCH)?;
        self.require_group(group_id).await?;
        let ids = dedup(user_ids);
        let mut members = self.store.get_members(group_id, &ids).await?;
        members.sort_by_key(|m| ids.iter().position(|id| *id == m.user_id));
        Ok(members)
    }
}
