//! Groups: their lifecycle, members and join requests.
//!
//! Rules: the owner and admins manage a group (info, kick, mute, answer
//! requests); app administrators may do anything. An admin may act on
//! ordinary members only; the owner on everyone but themselves. The owner
//! cannot quit before transferring ownership. A dismissed group refuses
//! every change and leaves everyone's joined list.

mod lifecycle;
mod members;
mod requests;

use crate::appender::Delivery;
use crate::auth::Caller;
use crate::notices::GroupInfoChange;
use crate::versions::{group_info_update, member_updates, membership};
use crate::Service;
use confab_core::bus::{Event, Payload};
use confab_core::ids::GroupId;
use confab_core::model::*;
use confab_core::validate::{self, MAX_NAME_LEN, MAX_TEXT_LEN};
use confab_core::versions::ChangeKind;
use confab_core::{Error, Field, Result, UserId};

/// Most users invited, kicked or listed by id in one request.
pub const MAX_MEMBER_BATCH: usize = 1000;
/// Page size of `member_list`.
pub const MEMBER_PAGE: u32 = 100;

/// OpenIM's join sources.
pub(crate) const JOIN_BY_INVITE: i32 = 2;
pub(crate) const JOIN_BY_REQUEST: i32 = 3;
pub(crate) const JOIN_BY_CREATE: i32 = 4;

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
    validate::opt_max_len(Field::GroupName, &p.group_name, MAX_NAME_LEN)?;
    validate::opt_max_len(Field::Notification, &p.notification, MAX_TEXT_LEN)?;
    validate::opt_max_len(Field::Introduction, &p.introduction, MAX_TEXT_LEN)?;
    validate::opt_max_len(Field::FaceUrl, &p.face_url, MAX_NAME_LEN)?;
    validate::opt_max_len(Field::Ex, &p.ex, MAX_TEXT_LEN)
}

impl From<&GroupPatch> for GroupInfoChange {
    fn from(p: &GroupPatch) -> Self {
        GroupInfoChange {
            group_name: p.group_name.clone(),
            notification: p.notification.clone(),
            introduction: p.introduction.clone(),
            face_url: p.face_url.clone(),
            ex: p.ex.clone(),
        }
    }
}

impl Service {
    /// A group's membership changed: its cached member list is stale here
    /// and on every node.
    pub(crate) fn members_changed(&self, group_id: &GroupId) {
        self.members.invalidate(group_id);
        // In commit order with the group's messages, so that another node
        // forgets its list before it fans out what follows the change.
        self.appender.deliver(Delivery::Event(Event {
            recipients: Vec::new(),
            origin: None,
            payload: Payload::GroupMembersChanged {
                group_id: group_id.clone(),
            },
            filter: None,
        }));
    }

    /// The group, if it exists and is not dismissed.
    pub(crate) async fn live_group(&self, group_id: &GroupId) -> Result<Group> {
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

    pub(crate) async fn require_group(&self, group_id: &GroupId) -> Result<Group> {
        self.store
            .get_group(group_id)
            .await?
            .ok_or_else(|| Error::not_found(format!("group {group_id} does not exist")))
    }

    pub(crate) async fn require_member(
        &self,
        group_id: &GroupId,
        user_id: &UserId,
    ) -> Result<GroupMember> {
        self.store
            .get_member(group_id, user_id)
            .await?
            .ok_or_else(|| {
                Error::not_found(format!("{user_id} is not a member of group {group_id}"))
            })
    }

    /// The caller's role in the group: `Owner` for app admins, who may do
    /// anything; fails unless the caller is owner or admin of the group.
    pub(crate) async fn manager_role(&self, caller: &Caller, group_id: &GroupId) -> Result<Role> {
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
    pub(crate) fn outranks(actor: Role, target: Role) -> bool {
        match actor {
            Role::Owner => target != Role::Owner,
            Role::Admin => target == Role::Member,
            Role::Member => false,
        }
    }

    /// The groups with their member counts.
    pub(crate) async fn with_member_counts(&self, groups: Vec<Group>) -> Result<Vec<GroupInfo>> {
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
}
