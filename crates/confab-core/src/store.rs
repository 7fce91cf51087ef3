//! The storage traits. `confab-store` implements them for SQLite and
//! PostgreSQL; the service layer is written against them only.
//!
//! Every method that changes several rows does so in one transaction. A
//! unique-key violation is reported as `ErrorKind::Conflict` by every backend.
//! The store applies changes; it does not decide rules (who may do what):
//! the service does, and passes the store a complete plan.

use crate::error::Result;
use crate::ids::{GroupId, Platform, UserId};
use crate::message::{Appended, ConversationPatch, Message, NewMessage, UserConversation};
use crate::model::*;
use crate::versions::{VersionChange, VersionDelta, VersionDomain};
use crate::Millis;
use async_trait::async_trait;

/// What happens to a group owned by a user being deleted: ownership passes to
/// `successor`, or the group is dismissed when there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedGroupFate {
    pub group_id: GroupId,
    pub successor: Option<UserId>,
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Inserts all users or none; `Conflict` names the first id taken.
    async fn create_users(&self, users: &[User]) -> Result<()>;
    async fn get_user(&self, user_id: &UserId) -> Result<Option<User>>;
    /// The users that exist among `user_ids`, in no particular order.
    async fn get_users(&self, user_ids: &[UserId]) -> Result<Vec<User>>;
    /// Applies `patch`; false when the user does not exist.
    async fn update_user(&self, user_id: &UserId, patch: &UserPatch, now: Millis) -> Result<bool>;
    async fn set_password_hash(&self, user_id: &UserId, hash: &str, now: Millis) -> Result<bool>;
    /// Deletes the user with their relations, requests, memberships and
    /// tokens, after handing over or dismissing the groups they own, all in
    /// one transaction. False when the user does not exist.
    async fn delete_user(&self, user_id: &UserId, owned: &[OwnedGroupFate]) -> Result<bool>;
    /// User ids in id order, after `after`, at most `limit`.
    async fn list_user_ids(&self, after: Option<&UserId>, limit: u32) -> Result<Vec<UserId>>;
    /// Users whose id is a decimal number (its own `numeric_id`: `"42"`,
    /// not `"042"` nor `"alice"`), from number `from` on, in number order,
    /// at most `limit`. The dialects with numeric user ids page with it.
    async fn numbered_users(&self, from: i64, limit: u32) -> Result<Vec<User>>;
}

#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Records the one live token of a user on a platform, replacing any other.
    async fn put_token(
        &self,
        user_id: &UserId,
        platform: Platform,
        token_id: &str,
        expires_at: Millis,
    ) -> Result<()>;
    async fn get_token_id(&self, user_id: &UserId, platform: Platform) -> Result<Option<String>>;
    /// The live token's id and expiry (ms), when it has not expired at `now`.
    async fn live_token(
        &self,
        user_id: &UserId,
        platform: Platform,
        now: Millis,
    ) -> Result<Option<(String, Millis)>>;
    /// Revokes the token of one platform, or of all when `platform` is None.
    async fn delete_tokens(&self, user_id: &UserId, platform: Option<Platform>) -> Result<u64>;
}

#[async_trait]
pub trait RelationStore: Send + Sync {
    /// Inserts the edges that do not exist yet; returns how many were new.
    async fn add_friends(&self, edges: &[Friend]) -> Result<u64>;
    /// Deletes the edges (owner, friend); returns how many existed.
    async fn delete_friends(&self, edges: &[(UserId, UserId)]) -> Result<u64>;
    async fn get_friend(&self, owner: &UserId, friend: &UserId) -> Result<Option<Friend>>;
    /// Edges from `owner`, oldest first.
    async fn list_friends(&self, owner: &UserId) -> Result<Vec<Friend>>;
    async fn set_friend_remark(
        &self,
        owner: &UserId,
        friend: &UserId,
        remark: &str,
    ) -> Result<bool>;

    /// False when the block already existed.
    async fn add_black(&self, black: &Black) -> Result<bool>;
    async fn remove_black(&self, owner: &UserId, blocked: &UserId) -> Result<bool>;
    async fn get_black(&self, owner: &UserId, blocked: &UserId) -> Result<Option<Black>>;
    /// Blocks made by `owner`, oldest first.
    async fn list_blacks(&self, owner: &UserId) -> Result<Vec<Black>>;

    /// Creates or renews (back to pending) the request from → to.
    async fn put_friend_request(&self, request: &FriendRequest) -> Result<()>;
    async fn get_friend_request(&self, from: &UserId, to: &UserId)
        -> Result<Option<FriendRequest>>;
    /// Requests received by `to`, newest first.
    async fn list_friend_requests_to(&self, to: &UserId) -> Result<Vec<FriendRequest>>;
    /// Requests sent by `from`, newest first.
    async fn list_friend_requests_from(&self, from: &UserId) -> Result<Vec<FriendRequest>>;
    /// Records the answer to a request and, in the same transaction, adds
    /// `edges` (both directions of a friendship when accepted).
    async fn answer_friend_request(
        &self,
        from: &UserId,
        to: &UserId,
        result: HandleResult,
        handle_msg: &str,
        now: Millis,
        edges: &[Friend],
    ) -> Result<bool>;
}

#[async_trait]
pub trait GroupStore: Send + Sync {
    /// Creates the group and its first members in one transaction.
    async fn create_group(&self, group: &Group, members: &[GroupMember]) -> Result<()>;
    async fn get_group(&self, group_id: &GroupId) -> Result<Option<Group>>;
    async fn get_groups(&self, group_ids: &[GroupId]) -> Result<Vec<Group>>;
    async fn update_group(&self, group_id: &GroupId, patch: &GroupPatch) -> Result<bool>;
    async fn set_group_status(&self, group_id: &GroupId, status: GroupStatus) -> Result<bool>;
    /// Member counts of the given groups (groups without members are omitted).
    async fn member_counts(&self, group_ids: &[GroupId]) -> Result<Vec<(GroupId, i64)>>;

    /// Inserts the members that are not members yet, in one transaction;
    /// returns the ids actually added.
    async fn add_members(&self, members: &[GroupMember]) -> Result<Vec<UserId>>;
    /// Removes the members; returns the ids that were members.
    async fn remove_members(&self, group_id: &GroupId, user_ids: &[UserId]) -> Result<Vec<UserId>>;
    async fn get_member(&self, group_id: &GroupId, user_id: &UserId)
        -> Result<Option<GroupMember>>;
    async fn get_members(
        &self,
        group_id: &GroupId,
        user_ids: &[UserId],
    ) -> Result<Vec<GroupMember>>;
    /// Members by join time, optionally only of one role, paged.
    async fn list_members(
        &self,
        group_id: &GroupId,
        role: Option<Role>,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<GroupMember>>;
    async fn update_member(
        &self,
        group_id: &GroupId,
        user_id: &UserId,
        patch: &MemberPatch,
    ) -> Result<bool>;
    /// Makes `new_owner` the owner and gives `old_owner` `old_owner_role`.
    async fn transfer_owner(
        &self,
        group_id: &GroupId,
        old_owner: &UserId,
        new_owner: &UserId,
        old_owner_role: Role,
    ) -> Result<()>;
    /// Ids of all members of a group.
    async fn member_ids(&self, group_id: &GroupId) -> Result<Vec<UserId>>;
    /// Groups `user_id` is a member of and that are not dismissed.
    async fn joined_groups(&self, user_id: &UserId) -> Result<Vec<Group>>;
    /// Ids of groups (not dismissed) where `user_id` is owner or admin.
    async fn managed_group_ids(&self, user_id: &UserId) -> Result<Vec<GroupId>>;

    /// Creates or renews (back to pending) a join request.
    async fn put_group_request(&self, request: &GroupRequest) -> Result<()>;
    async fn get_group_request(
        &self,
        group_id: &GroupId,
        user_id: &UserId,
    ) -> Result<Option<GroupRequest>>;
    /// Requests to join any of `group_ids`, newest first.
    async fn list_group_requests_for(&self, group_ids: &[GroupId]) -> Result<Vec<GroupRequest>>;
    /// Requests made by `user_id`, newest first.
    async fn list_group_requests_by(&self, user_id: &UserId) -> Result<Vec<GroupRequest>>;
    /// Records the answer and, in the same transaction, adds `member`.
    #[allow(clippy::too_many_arguments)]
    async fn answer_group_request(
        &self,
        group_id: &GroupId,
        user_id: &UserId,
        result: HandleResult,
        handle_msg: &str,
        handled_by: &UserId,
        now: Millis,
        member: Option<&GroupMember>,
    ) -> Result<bool>;
}

/// What the store knows of a one-to-one send, for the service to judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatFacts {
    pub recipient_exists: bool,
    pub recipient_blocks_sender: bool,
}

/// Messages and per-user conversation state.
///
/// Group members get their state in the group's conversation when they join
/// (`add_members`, `create_group`, an accepted request), with `min_seq` past
/// the group's current last message, and lose it when they leave.
///
/// Broadcast conversations (`message::is_broadcast_conversation`) are read
/// by every existing user and stored once: appending to one creates no per-user
/// state (its messages have no participants). Until a user changes their
/// state there, they see it as unread from seq 1, not pinned, not hidden
/// (`updated_at` 0); the first change (`mark_read`, `mark_delivered`,
/// `clear_conversation`, `update_user_conversation`) stores their state.
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Appends a batch in one transaction (group commit). Per message, in
    /// order: the existing message when `(sender, client_msg_id)` exists
    /// (also within the batch), else the message with the next seq of its
    /// conversation. Seqs are gap-free: a seq is taken only by a commit.
    async fn append_messages(&self, batch: &[NewMessage]) -> Result<Vec<Appended>>;
    /// Marks a message revoked and appends `notice`, in one transaction.
    /// False (and nothing appended) when the message does not exist.
    async fn revoke_message(
        &self,
        conversation_id: &str,
        seq: i64,
        notice: &NewMessage,
    ) -> Result<Option<Appended>>;
    /// For each (recipient, sender): whether the recipient exists, and
    /// whether they block the sender. One round trip for a batch of sends.
    async fn chat_facts(&self, pairs: &[(UserId, UserId)]) -> Result<Vec<ChatFacts>>;
    async fn get_message(&self, conversation_id: &str, seq: i64) -> Result<Option<Message>>;
    async fn find_message_by_client_id(
        &self,
        conversation_id: &str,
        client_msg_id: &str,
    ) -> Result<Option<Message>>;
    /// Messages with `begin <= seq <= end`, ascending, at most `limit`,
    /// leaving out those `user_id` deleted for themselves.
    async fn get_messages(
        &self,
        user_id: &UserId,
        conversation_id: &str,
        begin: i64,
        end: i64,
        limit: u32,
    ) -> Result<Vec<Message>>;
    /// The last seq of a conversation (0 when it has no message).
    async fn max_seq(&self, conversation_id: &str) -> Result<i64>;
    /// The first seq of a conversation whose message was sent at or after
    /// `since`; None when there is none.
    async fn first_seq_since(&self, conversation_id: &str, since: Millis) -> Result<Option<i64>>;
    /// Chat messages of others (content 101–110 and 114, not revoked, not
    /// deleted by the user), in the user's one-to-one and group
    /// conversations, that no device of the user has received yet (above
    /// their delivered and read seqs and their `min_seq`).
    async fn undelivered_count(&self, user_id: &UserId) -> Result<i64>;
    /// Every conversation of a user, with its max seq, in conversation id
    /// order: their own, and every broadcast conversation that has a
    /// message. A constant number of queries, whatever the number of users.
    async fn user_conversations(&self, user_id: &UserId) -> Result<Vec<UserConversation>>;
    /// One conversation of a user; a broadcast one when it has a message.
    async fn user_conversation(
        &self,
        user_id: &UserId,
        conversation_id: &str,
    ) -> Result<Option<UserConversation>>;
    /// Moves `read_seq` (and `delivered_seq`) up to `seq`; never down.
    /// False when the user has no such conversation (for all these updates;
    /// in a broadcast conversation: when it has no message).
    async fn mark_read(
        &self,
        user_id: &UserId,
        conversation_id: &str,
        seq: i64,
        now: Millis,
    ) -> Result<bool>;
    /// Moves `delivered_seq` up to `seq`; never down.
    async fn mark_delivered(
        &self,
        user_id: &UserId,
        conversation_id: &str,
        seq: i64,
        now: Millis,
    ) -> Result<bool>;
    /// Hides everything up to the current last message from the user
    /// (`min_seq` past it), and marks it read.
    async fn clear_conversation(
        &self,
        user_id: &UserId,
        conversation_id: &str,
        now: Millis,
    ) -> Result<bool>;
    /// Deletes messages for one user only; returns how many were new.
    async fn delete_messages_for(
        &self,
        user_id: &UserId,
        conversation_id: &str,
        seqs: &[i64],
    ) -> Result<u64>;
    async fn update_user_conversation(
        &self,
        user_id: &UserId,
        conversation_id: &str,
        patch: &ConversationPatch,
        now: Millis,
    ) -> Result<bool>;
}

/// What the SMS limits count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsSendCounts {
    /// When a code was last sent to the phone.
    pub last_sent_at: Option<Millis>,
    /// Codes sent to the phone since the time asked.
    pub phone_sends: i64,
    /// Codes sent at the request of the IP since the time asked.
    pub ip_sends: i64,
}

/// How a code check went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsCodeCheck {
    /// The code matched; it is used up.
    Accepted,
    /// A wrong code; the attempt is counted (the code is void once the
    /// attempts reach the limit).
    Wrong,
    /// No live code: none sent, expired, used, or void after too many
    /// attempts.
    NoCode,
}

/// The app access API's sign-in state: SMS codes and sends, phone users,
/// session tokens (only hashes are given and kept).
#[async_trait]
pub trait AccessStore: Send + Sync {
    /// Sends to `phone` since `phone_since`, and from `ip` since `ip_since`.
    async fn sms_send_counts(
        &self,
        phone: &str,
        ip: &str,
        phone_since: Millis,
        ip_since: Millis,
    ) -> Result<SmsSendCounts>;
    /// Records a sent code (replacing the phone's previous one) and the send.
    async fn put_sms_code(
        &self,
        phone: &str,
        ip: &str,
        code_hash: &str,
        expires_at: Millis,
        now: Millis,
    ) -> Result<()>;
    /// Checks a code against the phone's live one, in one transaction.
    async fn check_sms_code(
        &self,
        phone: &str,
        code_hash: &str,
        now: Millis,
        max_attempts: i64,
    ) -> Result<SmsCodeCheck>;
    /// The user of a phone, creating them when there is none: a new user's
    /// id is the next free number (so every dialect shows the same number),
    /// with `template`'s profile. True when created.
    async fn phone_user(&self, phone: &str, template: &User) -> Result<(User, bool)>;
    /// Records a session token's hash for a user's device, replacing the
    /// device's previous session.
    async fn put_session(
        &self,
        token_hash: &str,
        user_id: &UserId,
        device: &str,
        device_id: &str,
        now: Millis,
    ) -> Result<()>;
    /// The user and device of a live session.
    async fn get_session(&self, token_hash: &str) -> Result<Option<(UserId, String)>>;
    /// Ends a session; false when there was none.
    async fn delete_session(&self, token_hash: &str) -> Result<bool>;
    /// Ends every session of a user; how many there were.
    async fn delete_user_sessions(&self, user_id: &UserId) -> Result<u64>;

    /// Records a user token's hash (the yunbay API's `X-Yf-Token`); a user
    /// may hold many. The user's expired tokens are deleted on the way.
    async fn put_user_token(
        &self,
        token_hash: &str,
        user_id: &UserId,
        expires_at: Millis,
        now: Millis,
    ) -> Result<()>;
    /// The user of a token that has not expired at `now`.
    async fn get_user_token(&self, token_hash: &str, now: Millis) -> Result<Option<UserId>>;
    /// Revokes every user token of a user; how many there were.
    async fn delete_user_tokens(&self, user_id: &UserId) -> Result<u64>;
}

/// A notification a user must confirm: sent again on each of their
/// connections until they ack it. Its body is kept with it, so that
/// re-sending needs no other row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwaitedAck {
    pub user_id: UserId,
    pub notification_id: i64,
    pub body: String,
}

/// System notifications: their ids, and the acks they wait for.
#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// The next notification id of the deployment (1, 2, 3, ...): never
    /// given twice, on any node, also after a restart.
    async fn next_notification_id(&self) -> Result<i64>;
    /// Records, in one transaction, that each user must ack a notification.
    /// A (user, notification) already awaited is left as it is.
    async fn await_acks(&self, awaited: &[AwaitedAck], now: Millis) -> Result<()>;
    /// Drops every awaited ack of a notification, and its record as a
    /// broadcast asking acks (its send failed); how many there were.
    async fn forget_awaited_acks(&self, notification_id: i64) -> Result<u64>;
    /// Records a broadcast that asks each user's ack, with its body, and
    /// deletes those sent before `forget_before`.
    async fn put_ack_broadcast(
        &self,
        notification_id: i64,
        body: &str,
        sent_at: Millis,
        forget_before: Millis,
    ) -> Result<()>;
    /// The broadcasts sent since `since` that ask acks and that `user_id`
    /// has not acked, by id, at most `limit` (as `AwaitedAck`s of the user).
    async fn unacked_broadcasts(
        &self,
        user_id: &UserId,
        since: Millis,
        limit: u32,
    ) -> Result<Vec<AwaitedAck>>;
    /// Whether `notification_id` is a broadcast sent since `since` that
    /// asks acks.
    async fn is_ack_broadcast(&self, notification_id: i64, since: Millis) -> Result<bool>;
    /// The notifications a user has not acked yet, by id, at most `limit`.
    async fn awaited_acks(&self, user_id: &UserId, limit: u32) -> Result<Vec<AwaitedAck>>;
    /// Records a user's ack; false when nothing of theirs awaited it.
    async fn ack_awaited(&self, user_id: &UserId, notification_id: i64) -> Result<bool>;
    /// Records a user's ack of a broadcast (a notification stored once for
    /// everyone), and deletes their broadcast acks recorded before
    /// `forget_before` (broadcasts that old are sent to nobody any more).
    async fn put_broadcast_ack(
        &self,
        user_id: &UserId,
        notification_id: i64,
        now: Millis,
        forget_before: Millis,
    ) -> Result<()>;
    /// Which of `notification_ids` the user has acked as broadcasts.
    async fn broadcast_acks(&self, user_id: &UserId, notification_ids: &[i64]) -> Result<Vec<i64>>;
}

/// Values made once per deployment and shared by its nodes.
#[async_trait]
pub trait SettingStore: Send + Sync {
    /// The value of `key`, storing `initial` first when it has none (the
    /// first caller's value wins, on every node).
    async fn setting_or_init(&self, key: &str, initial: &str) -> Result<String>;
}

/// The version logs of the incremental sync (`versions.rs`).
#[async_trait]
pub trait VersionStore: Send + Sync {
    /// Records the changes in one transaction: the head of each (owner,
    /// domain) touched goes up by one (created, with a fresh id, when it
    /// has none), and each entity is stamped with that version. When an
    /// entity appears more than once, the last change wins, except that an
    /// update after an insert keeps it inserted.
    async fn record_changes(&self, changes: &[VersionChange]) -> Result<()>;
    /// Where the log of (owner, domain) stands (creating its head when it
    /// has none) and what changed after `version`. `full` when `version_id`
    /// is empty or not the log's, or `version` is not one the log has had.
    async fn changes_since(
        &self,
        owner: &str,
        domain: VersionDomain,
        version_id: &str,
        version: i64,
    ) -> Result<VersionDelta>;
}

/// Everything the service needs from storage.
pub trait Store:
    UserStore
    + TokenStore
    + RelationStore
    + GroupStore
    + MessageStore
    + SettingStore
    + AccessStore
    + NotificationStore
    + VersionStore
{
}

impl<
        T: UserStore
            + TokenStore
            + RelationStore
            + GroupStore
            + MessageStore
            + SettingStore
            + AccessStore
            + NotificationStore
            + VersionStore,
    > Store for T
{
}
