//! Creating, changing, transferring, muting and dismissing groups, and
//! reading their info.

use super::*;
use crate::dedup;
use crate::notices::*;
use confab_core::now_millis;

impl Service {
    pub async fn create_group(&self, caller: &Caller, new: NewGroup) -> Result<GroupInfo> {
        caller.require_acts_for(&new.owner)?;
        validate_group_info(&new.info)?;
        if new.members.len() > MAX_MEMBER_BATCH {
            return Err(Error::invalid_field(
                Field::Members,
                format!("at most {MAX_MEMBER_BATCH} members per request"),
            ));
        }
        self.require_user(&new.owner).await?;
        let mut members: Vec<(UserId, Role)> = Vec::new();
        for (user_id, role) in &new.members {
            if *role == Role::Owner {
                return Err(Error::invalid_field(
                    Field::Members,
                    format!("{user_id} cannot have the owner's role; the owner is named apart"),
                ));
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
            return Err(Error::not_found(format!("user {missing} does not exist"))
                .with_field(Field::Members));
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
        let member_ids: Vec<UserId> = records.iter().map(|m| m.user_id.clone()).collect();
        self.record_versions(membership(&group_id, &member_ids, ChangeKind::Insert))
            .await;
        self.members_changed(&group_id);
        self.notify_group(
            &caller.user_id,
            &group_id,
            Notice::GroupCreated {
                group_id: group_id.clone(),
                group_name: group.group_name.clone(),
                owner_user_id: group.owner_user_id.clone(),
                op_user_id: caller.user_id.clone(),
                member_user_ids: member_ids,
            },
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
        self.record_versions(vec![group_info_update(group_id)])
            .await;
        self.notify_group(
            &caller.user_id,
            group_id,
            Notice::GroupInfoSet {
                group_id: group_id.clone(),
                op_user_id: caller.user_id.clone(),
                info: patch.into(),
            },
        )
        .await;
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
            return Err(Error::invalid_field(
                Field::NewOwner,
                format!("{new_owner} already owns the group"),
            ));
        }
        self.require_member(group_id, new_owner).await?;
        self.store
            .transfer_owner(group_id, &group.owner_user_id, new_owner, Role::Member)
            .await?;
        let mut changes = member_updates(group_id, &[&group.owner_user_id, new_owner]);
        changes.push(group_info_update(group_id));
        self.record_versions(changes).await;
        self.notify_group(
            &caller.user_id,
            group_id,
            Notice::GroupOwnerTransferred {
                group_id: group_id.clone(),
                old_owner_user_id: group.owner_user_id.clone(),
                new_owner_user_id: new_owner.clone(),
                op_user_id: caller.user_id.clone(),
            },
        )
        .await;
        Ok(())
    }

    /// Groups that exist among `group_ids` (dismissed ones included, with
    /// their status), in request order. Any authenticated caller may read
    /// group info.
    pub async fn groups_info(
        &self,
        _caller: &Caller,
        group_ids: &[GroupId],
    ) -> Result<Vec<GroupInfo>> {
        validate::batch(Field::Groups, group_ids, MAX_MEMBER_BATCH)?;
        let ids = dedup(group_ids);
        let mut groups = self.store.get_groups(&ids).await?;
        groups.sort_by_key(|g| ids.iter().position(|id| *id == g.group_id));
        self.with_member_counts(groups).await
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
        // The members stay on record (with the group) for history; for
        // their clients the group is gone.
        match self.store.member_ids(group_id).await {
            Ok(members) => {
                let mut changes = membership(group_id, &members, ChangeKind::Delete);
                changes.push(group_info_update(group_id));
                self.record_versions(changes).await;
            }
            Err(e) => tracing::error!(error = %e.log_message(), group = %group_id,
                "listing members to record a dismissal failed"),
        }
        self.notify_group(
            &caller.user_id,
            group_id,
            Notice::GroupState {
                kind: GroupStateKind::Dismissed,
                group_id: group_id.clone(),
                op_user_id: caller.user_id.clone(),
            },
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
        self.record_versions(vec![group_info_update(group_id)])
            .await;
        let kind = if muted {
            GroupStateKind::Muted
        } else {
            GroupStateKind::Unmuted
        };
        self.notify_group(
            &caller.user_id,
            group_id,
            Notice::GroupState {
                kind,
                group_id: group_id.clone(),
                op_user_id: caller.user_id.clone(),
            },
        )
        .await;
        Ok(())
    }
}
