//! The system notifications the service sends when friends and groups
//! change: one typed table. Each variant has its content type (OpenIM's
//! numbers, which the content model follows) and a body with domain field
//! names; each dialect renders the body in its own words.

use confab_core::message::content_type as ct;
use confab_core::{GroupId, UserId};
use serde::Serialize;

/// What a changed group member's info became (`None`: unchanged).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct MemberInfo {
    pub nickname: Option<String>,
    pub face_url: Option<String>,
    pub ex: Option<String>,
}

/// What a group's info became (`None`: unchanged).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct GroupInfoChange {
    pub group_name: Option<String>,
    pub notification: Option<String>,
    pub introduction: Option<String>,
    pub face_url: Option<String>,
    pub ex: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub(crate) enum Notice {
    FriendApplication {
        from_user_id: UserId,
        to_user_id: UserId,
        req_msg: String,
    },
    FriendApplicationAnswered {
        #[serde(skip)]
        accepted: bool,
        from_user_id: UserId,
        to_user_id: UserId,
        handle_msg: String,
    },
    /// `kind` is one of FRIEND_ADDED, FRIEND_DELETED, BLACK_ADDED,
    /// BLACK_DELETED: the same body.
    FriendEdge {
        #[serde(skip)]
        kind: FriendEdgeKind,
        from_user_id: UserId,
        to_user_id: UserId,
    },
    FriendRemarkSet {
        from_user_id: UserId,
        to_user_id: UserId,
        remark: String,
    },
    GroupCreated {
        group_id: GroupId,
        group_name: String,
        owner_user_id: UserId,
        op_user_id: UserId,
        member_user_ids: Vec<UserId>,
    },
    GroupInfoSet {
        group_id: GroupId,
        op_user_id: UserId,
        #[serde(flatten)]
        info: GroupInfoChange,
    },
    JoinGroupApplication {
        group_id: GroupId,
        user_id: UserId,
        req_msg: String,
    },
    MemberQuit {
        group_id: GroupId,
        user_id: UserId,
    },
    GroupApplicationAnswered {
        #[serde(skip)]
        accepted: bool,
        group_id: GroupId,
        user_id: UserId,
        op_user_id: UserId,
        handle_msg: String,
    },
    GroupOwnerTransferred {
        group_id: GroupId,
        old_owner_user_id: UserId,
        new_owner_user_id: UserId,
        op_user_id: UserId,
    },
    MembersKicked {
        group_id: GroupId,
        op_user_id: UserId,
        kicked_user_ids: Vec<UserId>,
    },
    MembersInvited {
        group_id: GroupId,
        op_user_id: UserId,
        invited_user_ids: Vec<UserId>,
    },
    /// Dismissed, muted or unmuted: the same body.
    GroupState {
        #[serde(skip)]
        kind: GroupStateKind,
        group_id: GroupId,
        op_user_id: UserId,
    },
    MemberMuted {
        group_id: GroupId,
        user_id: UserId,
        op_user_id: UserId,
        muted_seconds: u32,
    },
    MemberInfoSet {
        #[serde(skip)]
        kind: MemberInfoKind,
        group_id: GroupId,
        user_id: UserId,
        op_user_id: UserId,
        #[serde(flatten)]
        info: MemberInfo,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FriendEdgeKind {
    Added,
    Deleted,
    Blocked,
    Unblocked,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GroupStateKind {
    Dismissed,
    Muted,
    Unmuted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MemberInfoKind {
    InfoSet,
    SetToAdmin,
    SetToOrdinary,
}

impl Notice {
    /// The content type the notice is stored with.
    pub(crate) fn content_type(&self) -> i32 {
        match self {
            Notice::FriendApplication { .. } => ct::FRIEND_APPLICATION,
            Notice::FriendApplicationAnswered { accepted: true, .. } => {
                ct::FRIEND_APPLICATION_APPROVED
            }
            Notice::FriendApplicationAnswered { .. } => ct::FRIEND_APPLICATION_REJECTED,
            Notice::FriendEdge { kind, .. } => match kind {
                FriendEdgeKind::Added => ct::FRIEND_ADDED,
                FriendEdgeKind::Deleted => ct::FRIEND_DELETED,
                FriendEdgeKind::Blocked => ct::BLACK_ADDED,
                FriendEdgeKind::Unblocked => ct::BLACK_DELETED,
            },
            Notice::FriendRemarkSet { .. } => ct::FRIEND_REMARK_SET,
            Notice::GroupCreated { .. } => ct::GROUP_CREATED,
            Notice::GroupInfoSet { .. } => ct::GROUP_INFO_SET,
            Notice::JoinGroupApplication { .. } => ct::JOIN_GROUP_APPLICATION,
            Notice::MemberQuit { .. } => ct::MEMBER_QUIT,
            Notice::GroupApplicationAnswered { accepted: true, .. } => {
                ct::GROUP_APPLICATION_ACCEPTED
            }
            Notice::GroupApplicationAnswered { .. } => ct::GROUP_APPLICATION_REJECTED,
            Notice::GroupOwnerTransferred { .. } => ct::GROUP_OWNER_TRANSFERRED,
            Notice::MembersKicked { .. } => ct::MEMBER_KICKED,
            Notice::MembersInvited { .. } => ct::MEMBER_INVITED,
            Notice::GroupState { kind, .. } => match kind {
                GroupStateKind::Dismissed => ct::GROUP_DISMISSED,
                GroupStateKind::Muted => ct::GROUP_MUTED,
                GroupStateKind::Unmuted => ct::GROUP_CANCEL_MUTED,
            },
            Notice::MemberMuted {
                muted_seconds: 0, ..
            } => ct::GROUP_MEMBER_CANCEL_MUTED,
            Notice::MemberMuted { .. } => ct::GROUP_MEMBER_MUTED,
            Notice::MemberInfoSet { kind, .. } => match kind {
                MemberInfoKind::InfoSet => ct::GROUP_MEMBER_INFO_SET,
                MemberInfoKind::SetToAdmin => ct::GROUP_MEMBER_SET_TO_ADMIN,
                MemberInfoKind::SetToOrdinary => ct::GROUP_MEMBER_SET_TO_ORDINARY,
            },
        }
    }

    /// The body, as JSON text.
    pub(crate) fn body(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_use_domain_names() {
        let g = GroupId::from_trusted("g1".into());
        let u = UserId::from_trusted("u1".into());
        let n = Notice::MembersKicked {
            group_id: g.clone(),
            op_user_id: u.clone(),
            kicked_user_ids: vec![u.clone()],
        };
        assert_eq!(n.content_type(), ct::MEMBER_KICKED);
        assert_eq!(
            n.body(),
            r#"{"group_id":"g1","op_user_id":"u1","kicked_user_ids":["u1"]}"#
        );
        let n = Notice::MemberInfoSet {
            kind: MemberInfoKind::SetToAdmin,
            group_id: g,
            user_id: u.clone(),
            op_user_id: u,
            info: MemberInfo {
                nickname: Some("n".into()),
                face_url: None,
                ex: None,
            },
        };
        assert_eq!(n.content_type(), ct::GROUP_MEMBER_SET_TO_ADMIN);
        assert_eq!(
            n.body(),
            r#"{"group_id":"g1","user_id":"u1","op_user_id":"u1","nickname":"n","face_url":null,"ex":null}"#
        );
    }
}
