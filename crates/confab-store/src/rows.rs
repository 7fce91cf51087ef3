//! Row shapes shared by both backends and their conversion to domain types.

use confab_core::model::*;
use confab_core::{GroupId, UserId};

pub(crate) const USER_COLUMNS: &str = "user_id, numeric_id, nickname, face_url, gender, phone_number, birth, email, ex, password_hash, created_at, updated_at";
pub(crate) const FRIEND_COLUMNS: &str = "owner_user_id, friend_user_id, remark, created_at, ex";
pub(crate) const BLACK_COLUMNS: &str = "owner_user_id, block_user_id, created_at, ex";
pub(crate) const FRIEND_REQUEST_COLUMNS: &str =
    "from_user_id, to_user_id, req_msg, handle_result, handle_msg, created_at, handled_at, ex";
pub(crate) const GROUP_COLUMNS: &str = "group_id, group_name, notification, introduction, face_url, ex, group_type, status, creator_user_id, owner_user_id, created_at";
pub(crate) const MEMBER_COLUMNS: &str = "group_id, user_id, nickname, face_url, role_level, join_time, join_source, inviter_user_id, operator_user_id, mute_end_time, ex";
pub(crate) const GROUP_REQUEST_COLUMNS: &str = "group_id, user_id, req_msg, handle_result, handle_msg, handled_user_id, req_time, handled_time, join_source, inviter_user_id, ex";

/// `$start, $start+1, ...` for `count` parameters.
pub(crate) fn placeholders(start: usize, count: usize) -> String {
    (start..start + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    user_id: String,
    numeric_id: i64,
    nickname: String,
    face_url: String,
    gender: i32,
    phone_number: String,
    birth: String,
    email: String,
    ex: String,
    password_hash: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> User {
        User {
            user_id: UserId::from_trusted(r.user_id),
            numeric_id: r.numeric_id,
            nickname: r.nickname,
            face_url: r.face_url,
            gender: r.gender,
            phone_number: r.phone_number,
            birth: r.birth,
            email: r.email,
            ex: r.ex,
            password_hash: r.password_hash,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct FriendRow {
    owner_user_id: String,
    friend_user_id: String,
    remark: String,
    created_at: i64,
    ex: String,
}

impl From<FriendRow> for Friend {
    fn from(r: FriendRow) -> Friend {
        Friend {
            owner_user_id: UserId::from_trusted(r.owner_user_id),
            friend_user_id: UserId::from_trusted(r.friend_user_id),
            remark: r.remark,
            created_at: r.created_at,
            ex: r.ex,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct BlackRow {
    owner_user_id: String,
    block_user_id: String,
    created_at: i64,
    ex: String,
}

impl From<BlackRow> for Black {
    fn from(r: BlackRow) -> Black {
        Black {
            owner_user_id: UserId::from_trusted(r.owner_user_id),
            block_user_id: UserId::from_trusted(r.block_user_id),
            created_at: r.created_at,
            ex: r.ex,
        }
    }
}

fn handle_result(v: i32) -> HandleResult {
    HandleResult::from_i32(v).unwrap_or(HandleResult::Pending)
}

#[derive(sqlx::FromRow)]
pub(crate) struct FriendRequestRow {
    from_user_id: String,
    to_user_id: String,
    req_msg: String,
    handle_result: i32,
    handle_msg: String,
    created_at: i64,
    handled_at: i64,
    ex: String,
}

impl From<FriendRequestRow> for FriendRequest {
    fn from(r: FriendRequestRow) -> FriendRequest {
        FriendRequest {
            from_user_id: UserId::from_trusted(r.from_user_id),
            to_user_id: UserId::from_trusted(r.to_user_id),
            req_msg: r.req_msg,
            handle_result: handle_result(r.handle_result),
            handle_msg: r.handle_msg,
            created_at: r.created_at,
            handled_at: r.handled_at,
            ex: r.ex,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct GroupRow {
    group_id: String,
    group_name: String,
    notification: String,
    introduction: String,
    face_url: String,
    ex: String,
    group_type: i32,
    status: i32,
    creator_user_id: String,
    owner_user_id: String,
    created_at: i64,
}

impl From<GroupRow> for Group {
    fn from(r: GroupRow) -> Group {
        Group {
            group_id: GroupId::from_trusted(r.group_id),
            group_name: r.group_name,
            notification: r.notification,
            introduction: r.introduction,
            face_url: r.face_url,
            ex: r.ex,
            group_type: r.group_type,
            status: GroupStatus::from_i32(r.status),
            creator_user_id: UserId::from_trusted(r.creator_user_id),
            owner_user_id: UserId::from_trusted(r.owner_user_id),
            created_at: r.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct MemberRow {
    group_id: String,
    user_id: String,
    nickname: String,
    face_url: String,
    role_level: i32,
    join_time: i64,
    join_source: i32,
    inviter_user_id: String,
    operator_user_id: String,
    mute_end_time: i64,
    ex: String,
}

impl From<MemberRow> for GroupMember {
    fn from(r: MemberRow) -> GroupMember {
        GroupMember {
            group_id: GroupId::from_trusted(r.group_id),
            user_id: UserId::from_trusted(r.user_id),
            nickname: r.nickname,
            face_url: r.face_url,
            role: Role::from_i32(r.role_level).unwrap_or(Role::Member),
            join_time: r.join_time,
            join_source: r.join_source,
            inviter_user_id: r.inviter_user_id,
            operator_user_id: r.operator_user_id,
            mute_end_time: r.mute_end_time,
            ex: r.ex,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct GroupRequestRow {
    group_id: String,
    user_id: String,
    req_msg: String,
    handle_result: i32,
    handle_msg: String,
    handled_user_id: String,
    req_time: i64,
    handled_time: i64,
    join_source: i32,
    inviter_user_id: String,
    ex: String,
}

impl From<GroupRequestRow> for GroupRequest {
    fn from(r: GroupRequestRow) -> GroupRequest {
        GroupRequest {
            group_id: GroupId::from_trusted(r.group_id),
            user_id: UserId::from_trusted(r.user_id),
            req_msg: r.req_msg,
            handle_result: handle_result(r.handle_result),
            handle_msg: r.handle_msg,
            handled_user_id: r.handled_user_id,
            req_time: r.req_time,
            handled_time: r.handled_time,
            join_source: r.join_source,
            inviter_user_id: r.inviter_user_id,
            ex: r.ex,
        }
    }
}

pub(crate) const MESSAGE_COLUMNS: &str = "conversation_id, seq, server_msg_id, client_msg_id, sender_id, sender_platform, sender_nickname, sender_face_url, session_type, recv_id, content_type, content, send_time, status, at_user_ids, ex";

/// The `at_user_ids` column of a message: its ids as a JSON array.
pub(crate) fn at_user_ids_column(ids: &[String]) -> Result<String, crate::common::AppendError> {
    serde_json::to_string(ids)
        .map_err(|e| crate::common::AppendError::Other(confab_core::Error::internal(e)))
}

#[derive(sqlx::FromRow)]
pub(crate) struct MessageRow {
    conversation_id: String,
    seq: i64,
    server_msg_id: String,
    client_msg_id: String,
    sender_id: String,
    sender_platform: i32,
    sender_nickname: String,
    sender_face_url: String,
    session_type: i32,
    recv_id: String,
    content_type: i32,
    content: String,
    send_time: i64,
    status: i32,
    at_user_ids: String,
    ex: String,
}

impl From<MessageRow> for confab_core::message::Message {
    fn from(r: MessageRow) -> Self {
        use confab_core::message::{MessageStatus, SessionType};
        confab_core::message::Message {
            conversation_id: r.conversation_id,
            seq: r.seq,
            server_msg_id: r.server_msg_id,
            client_msg_id: r.client_msg_id,
            sender_id: UserId::from_trusted(r.sender_id),
            sender_platform: r.sender_platform,
            sender_nickname: r.sender_nickname,
            sender_face_url: r.sender_face_url,
            session_type: SessionType::from_i32(r.session_type).unwrap_or(SessionType::Single),
            recv_id: r.recv_id,
            content_type: r.content_type,
            content: r.content,
            send_time: r.send_time,
            status: MessageStatus::from_i32(r.status),
            at_user_ids: serde_json::from_str(&r.at_user_ids).unwrap_or_default(),
            ex: r.ex,
        }
    }
}

/// A user's own rows of `user_conversations` (`uc`), with their
/// conversation's max seq. Columns are named (`AS`) where a union with
/// [`broadcast_view_select`] orders by them.
pub(crate) const USER_CONVERSATION_SELECT: &str = "SELECT uc.user_id, uc.conversation_id AS conversation_id, uc.session_type, uc.peer_id, \
     COALESCE(c.max_seq, 0) AS max_seq, uc.read_seq, uc.delivered_seq, uc.min_seq, uc.recv_msg_opt, \
     uc.is_pinned, uc.is_hidden, uc.ex, uc.updated_at FROM user_conversations uc \
     LEFT JOIN conversations c ON c.conversation_id = uc.conversation_id";

/// The condition that picks broadcast conversations (`c`), the prefix of
/// `confab_core::message::is_broadcast_conversation`, through their index:
/// it must stay exactly the index's (migration 0003).
pub(crate) const BROADCAST_CONVERSATIONS: &str = "substr(c.conversation_id, 1, 2) = 'b_'";

/// Every broadcast conversation with at least one message as user `$1` sees
/// it: their row (`uc`) where they have one, else the state of a user who
/// has not touched it yet (nothing read, nothing hidden, `updated_at` 0).
/// Users who do not exist see none. Callers add `AND ...` conditions.
pub(crate) fn broadcast_view_select() -> String {
    let notification = confab_core::message::SessionType::Notification as i32;
    format!(
        "SELECT $1 AS user_id, c.conversation_id AS conversation_id, \
         COALESCE(uc.session_type, {notification}) AS session_type, COALESCE(uc.peer_id, '') AS peer_id, \
         c.max_seq AS max_seq, COALESCE(uc.read_seq, 0) AS read_seq, \
         COALESCE(uc.delivered_seq, 0) AS delivered_seq, COALESCE(uc.min_seq, 1) AS min_seq, \
         COALESCE(uc.recv_msg_opt, 0) AS recv_msg_opt, COALESCE(uc.is_pinned, FALSE) AS is_pinned, \
         COALESCE(uc.is_hidden, FALSE) AS is_hidden, COALESCE(uc.ex, '') AS ex, \
         COALESCE(uc.updated_at, 0) AS updated_at FROM conversations c \
         LEFT JOIN user_conversations uc ON uc.user_id = $1 AND uc.conversation_id = c.conversation_id \
         WHERE {BROADCAST_CONVERSATIONS} AND c.max_seq > 0 \
         AND EXISTS (SELECT 1 FROM users u WHERE u.user_id = $1)"
    )
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserConversationRow {
    user_id: String,
    conversation_id: String,
    session_type: i32,
    peer_id: String,
    max_seq: i64,
    read_seq: i64,
    delivered_seq: i64,
    min_seq: i64,
    recv_msg_opt: i32,
    is_pinned: bool,
    is_hidden: bool,
    ex: String,
    updated_at: i64,
}

impl From<UserConversationRow> for confab_core::message::UserConversation {
    fn from(r: UserConversationRow) -> Self {
        use confab_core::message::SessionType;
        confab_core::message::UserConversation {
            user_id: UserId::from_trusted(r.user_id),
            conversation_id: r.conversation_id,
            session_type: SessionType::from_i32(r.session_type).unwrap_or(SessionType::Single),
            peer_id: r.peer_id,
            max_seq: r.max_seq,
            read_seq: r.read_seq,
            delivered_seq: r.delivered_seq,
            min_seq: r.min_seq,
            recv_msg_opt: r.recv_msg_opt,
            is_pinned: r.is_pinned,
            is_hidden: r.is_hidden,
            ex: r.ex,
            updated_at: r.updated_at,
        }
    }
}
