//! Domain records. They carry no wire shape: each dialect converts them.

use crate::ids::{GroupId, UserId};
use crate::Millis;

/// A user and the profile fields every dialect shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub user_id: UserId,
    /// The number shown by dialects whose specs show numeric user ids: the id
    /// itself when it is a decimal number, else allocated by the store on
    /// creation (0 until then).
    pub numeric_id: i64,
    pub nickname: String,
    pub face_url: String,
    /// 0 unknown, 1 male, 2 female.
    pub gender: i32,
    pub phone_number: String,
    /// Free text as the OpenIM v1 spec shows it; dialects with numeric
    /// birthdays render it as a number when it is one.
    pub birth: String,
    pub email: String,
    pub ex: String,
    /// Argon2 PHC string; users of token-only dialects have none.
    pub password_hash: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl User {
    /// A user with an id and empty profile, created at `now`.
    pub fn new(user_id: UserId, now: Millis) -> User {
        User {
            user_id,
            numeric_id: 0,
            nickname: String::new(),
            face_url: String::new(),
            gender: 0,
            phone_number: String::new(),
            birth: String::new(),
            email: String::new(),
            ex: String::new(),
            password_hash: None,
            created_at: now,
            updated_at: now,
        }
    }
}

/// A partial profile update: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserPatch {
    pub nickname: Option<String>,
    pub face_url: Option<String>,
    pub gender: Option<i32>,
    pub phone_number: Option<String>,
    pub birth: Option<String>,
    pub email: Option<String>,
    pub ex: Option<String>,
}

impl UserPatch {
    pub fn is_empty(&self) -> bool {
        *self == UserPatch::default()
    }

    pub fn apply(&self, user: &mut User) {
        let set = |field: &mut String, value: &Option<String>| {
            if let Some(v) = value {
                field.clone_from(v);
            }
        };
        set(&mut user.nickname, &self.nickname);
        set(&mut user.face_url, &self.face_url);
        set(&mut user.phone_number, &self.phone_number);
        set(&mut user.birth, &self.birth);
        set(&mut user.email, &self.email);
        set(&mut user.ex, &self.ex);
        if let Some(g) = self.gender {
            user.gender = g;
        }
    }
}

/// A directed relation edge owner → friend. OpenIM friendship is two edges;
/// the app API's one-way follow is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Friend {
    pub owner_user_id: UserId,
    pub friend_user_id: UserId,
    pub remark: String,
    pub created_at: Millis,
    pub ex: String,
}

/// owner has blocked `block_user_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Black {
    pub owner_user_id: UserId,
    pub block_user_id: UserId,
    pub created_at: Millis,
    pub ex: String,
}

/// Outcome of a friend or group application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandleResult {
    Pending = 0,
    Accepted = 1,
    Refused = -1,
}

impl HandleResult {
    pub fn from_i32(v: i32) -> Option<HandleResult> {
        match v {
            0 => Some(HandleResult::Pending),
            1 => Some(HandleResult::Accepted),
            -1 => Some(HandleResult::Refused),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FriendRequest {
    pub from_user_id: UserId,
    pub to_user_id: UserId,
    pub req_msg: String,
    pub handle_result: HandleResult,
    pub handle_msg: String,
    pub created_at: Millis,
    pub handled_at: Millis,
    pub ex: String,
}

/// Group lifecycle, with OpenIM's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupStatus {
    Ok = 0,
    /// Everyone but the owner and admins is muted.
    Muted = 3,
    Dismissed = 2,
}

impl GroupStatus {
    pub fn from_i32(v: i32) -> GroupStatus {
        match v {
            2 => GroupStatus::Dismissed,
            3 => GroupStatus::Muted,
            _ => GroupStatus::Ok,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub group_id: GroupId,
    pub group_name: String,
    pub notification: String,
    pub introduction: String,
    pub face_url: String,
    pub ex: String,
    pub group_type: i32,
    pub status: GroupStatus,
    pub creator_user_id: UserId,
    pub owner_user_id: UserId,
    pub created_at: Millis,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupPatch {
    pub group_name: Option<String>,
    pub notification: Option<String>,
    pub introduction: Option<String>,
    pub face_url: Option<String>,
    pub ex: Option<String>,
}

impl GroupPatch {
    pub fn is_empty(&self) -> bool {
        *self == GroupPatch::default()
    }
}

/// A member's role, with OpenIM v2's `roleLevel` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Member = 1,
    Owner = 2,
    Admin = 3,
}

impl Role {
    pub fn from_i32(v: i32) -> Option<Role> {
        match v {
            1 => Some(Role::Member),
            2 => Some(Role::Owner),
            3 => Some(Role::Admin),
            _ => None,
        }
    }
    /// Owners and admins manage the group.
    pub fn manages(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMember {
    pub group_id: GroupId,
    pub user_id: UserId,
    pub nickname: String,
    pub face_url: String,
    pub role: Role,
    pub join_time: Millis,
    /// 2 invited, 3 applied, 4 via create (OpenIM's join sources).
    pub join_source: i32,
    pub inviter_user_id: String,
    pub operator_user_id: String,
    /// Muted until this time; 0 when not muted.
    pub mute_end_time: Millis,
    pub ex: String,
}

impl GroupMember {
    pub fn new(group_id: GroupId, user_id: UserId, role: Role, now: Millis) -> GroupMember {
        GroupMember {
            group_id,
            user_id,
            nickname: String::new(),
            face_url: String::new(),
            role,
            join_time: now,
            join_source: 0,
            inviter_user_id: String::new(),
            operator_user_id: String::new(),
            mute_end_time: 0,
            ex: String::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberPatch {
    pub nickname: Option<String>,
    pub face_url: Option<String>,
    pub role: Option<Role>,
    pub mute_end_time: Option<Millis>,
    pub ex: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRequest {
    pub group_id: GroupId,
    pub user_id: UserId,
    pub req_msg: String,
    pub handle_result: HandleResult,
    pub handle_msg: String,
    pub handled_user_id: String,
    pub req_time: Millis,
    pub handled_time: Millis,
    pub join_source: i32,
    pub inviter_user_id: String,
    pub ex: String,
}
