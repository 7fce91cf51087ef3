//! A real SQLite store wrapped to count appends (commits) and to refuse a
//! batch holding a message to the user `poison`; a bus that records; a
//! presence the test sets.

use async_trait::async_trait;
use confab_core::bus::{Bus, BusError, Event};
use confab_core::message::*;
use confab_core::model::*;
use confab_core::store::*;
use confab_core::{GroupId, Millis, Platform, Result, UserId};
use confab_service::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub const POISON: &str = "poison";

pub struct Counting {
    pub inner: Arc<dyn Store>,
    pub appends: AtomicUsize,
    /// Every append fails, as when the database is down.
    pub down: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl UserStore for Counting {
    async fn create_users(&self, users: &[User]) -> Result<()> {
        self.inner.create_users(users).await
    }
    async fn get_user(&self, user_id: &UserId) -> Result<Option<User>> {
        self.inner.get_user(user_id).await
    }
    async fn get_users(&self, user_ids: &[UserId]) -> Result<Vec<User>> {
        self.inner.get_users(user_ids).await
    }
    async fn update_user(&self, user_id: &UserId, patch: &UserPatch, now: Millis) -> Result<bool> {
        self.inner.update_user(user_id, patch, now).await
    }
    async fn set_password_hash(&self, user_id: &UserId, hash: &str, now: Millis) -> Result<bool> {
        self.inner.set_password_hash(user_id, hash, now).await
    }
    async fn numbered_users(&self, from: i64, limit: u32) -> Result<Vec<User>> {
        self.inner.numbered_users(from, limit).await
    }
    async fn delete_user(&self, user_id: &UserId, owned: &[OwnedGroupFate]) -> Result<bool> {
        self.inner.delete_user(user_id, owned).await
    }
    async fn list_user_ids(&self, after: Option<&UserId>, limit: u32) -> Result<Vec<UserId>> {
        self.inner.list_user_ids(after, limit).await
    }
}

#[async_trait]
impl TokenStore for Counting {
    async fn put_token(
        &self,
        user_id: &UserId,
        platform: Platform,
        token_id: &str,
        expires_at: Millis,
    ) -> Result<()> {
        self.inner
            .put_token(user_id, platform, token_id, expires_at)
            .await
    }
    async fn get_token_id(&self, user_id: &UserId, platform: Platform) -> Result<Option<String>> {
        self.inner.get_token_id(user_id, platform).await
    }
    async fn live_token(
        &self,
        user_id: &UserId,
        platform: Platform,
        now: Millis,
    ) -> Result<Option<(String, Millis)>> {
        self.inner.live_token(user_id, platform, now).await
    }
    async fn delete_tokens(&self, user_id: &UserId, platform: Option<Platform>) -> Result<u64> {
        self.inner.delete_tokens(user_id, platform).await
    }
}

#[async_trait]
impl RelationStore for Counting {
    async fn add_friends(&self, edges: &[Friend]) -> Result<u64> {
        self.inner.add_friends(edges).await
    }
    async fn delete_friends(&self, edges: &[(UserId, UserId)]) -> Result<u64> {
        self.inner.delete_friends(edges).await
    }
    async fn get_friend(&self, owner: &UserId, friend: &UserId) -> Result<Option<Friend>> {
        self.inner.get_friend(owner, friend).await
    }
    async fn list_friends(&self, owner: &UserId) -> Result<Vec<Friend>> {
        self.inner.list_friends(owner).await
    }
    async fn set_friend_remark(
        &self,
        owner: &UserId,
        friend: &UserId,
        remark: &str,
    ) -> Result<bool> {
        self.inner.set_friend_remark(owner, friend, remark).await
    }
    async fn add_black(&self, black: &Black) -> Result<bool> {
        self.inner.add_black(black).await
    }
    async fn remove_black(&self, owner: &UserId, blocked: &UserId) -> Result<bool> {
        self.inner.remove_black(owner, blocked).await
    }
    async fn get_black(&self, owner: &UserId, blocked: &UserId) -> Result<Option<Black>> {
        self.inner.get_black(owner, blocked).await
    }
    async fn list_blacks(&self, owner: &UserId) -> Result<Vec<Black>> {
        self.inner.list_blacks(owner).await
    }
    async fn put_friend_request(&self, request: &FriendRequest) -> Result<()> {
        self.inner.put_friend_request(request).await
    }
    async fn get_friend_request(
        &self,
        from: &UserId,
        to: &UserId,
    ) -> Result<Option<FriendRequest>> {
        self.inner.get_friend_request(from, to).await
    }
    async fn list_friend_requests_to(&self, to: &UserId) -> Result<Vec<FriendRequest>> {
        self.inner.list_friend_requests_to(to).await
    }
    async fn list_friend_requests_from(&self, from: &UserId) -> Result<Vec<FriendRequest>> {
        self.inner.list_friend_requests_from(from).await
    }
    async fn answer_friend_request(
        &self,
        from: &UserId,
        to: &UserId,
        result: HandleResult,
        handle_msg: &str,
        now: Millis,
        edges: &[Friend],
    ) -> Result<bool> {
        self.inner
            .answer_friend_request(from, to, result, handle_msg, now, edges)
            .await
    }
}

#[async_trait]
impl GroupStore for Counting {
    async fn create_group(&self, group: &Group, members: &[GroupMember]) -> Result<()> {
        self.inner.create_group(group, members).await
    }
    async fn get_group(&self, group_id: &GroupId) -> Result<Option<Group>> {
        self.inner.get_group(group_id).await
    }
    async fn get_groups(&self, group_ids: &[GroupId]) -> Result<Vec<Group>> {
        self.inner.get_groups(group_ids).await
    }
    async fn update_group(&self, group_id: &GroupId, patch: &GroupPatch) -> Result<bool> {
        self.inner.update_group(group_id, patch).await
    }
    async fn set_group_status(&self, group_id: &GroupId, status: GroupStatus) -> Result<bool> {
        self.inner.set_group_status(group_id, status).await
    }
    async fn member_counts(&self, group_ids: &[GroupId]) -> Result<Vec<(GroupId, i64)>> {
        self.inner.member_counts(group_ids).await
    }
    async fn add_members(&self, members: &[GroupMember]) -> Result<Vec<UserId>> {
        self.inner.add_members(members).await
    }
    async fn remove_members(&self, group_id: &GroupId, user_ids: &[UserId]) -> Result<Vec<UserId>> {
        self.inner.remove_members(group_id, user_ids).await
    }
    async fn get_member(
        &self,
        group_id: &GroupId,
        user_id: &UserId,
    ) -> Result<Option<GroupMember>> {
        self.inner.get_member(group_id, user_id).await
    }
    async fn get_members(
        &self,
        group_id: &GroupId,
        user_ids: &[UserId],
    ) -> Result<Vec<GroupMember>> {
        self.inner.get_members(group_id, user_ids).await
    }
    async fn list_members(
        &self,
        group_id: &GroupId,
        role: Option<Role>,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<GroupMember>> {
        self.inner.list_members(group_id, role, offset, limit).await
    }
    async fn update_member(
        &self,
        group_id: &GroupId,
        user_id: &UserId,
        patch: &MemberPatch,
    ) -> Result<bool> {
        self.inner.update_member(group_id, user_id, patch).await
    }
    async fn transfer_owner(
        &self,
        group_id: &GroupId,
        old_owner: &UserId,
        new_owner: &UserId,
        old_owner_role: Role,
    ) -> Result<()> {
        self.inner
            .transfer_owner(group_id, old_owner, new_owner, old_owner_role)
            .await
    }
    async fn member_ids(&self, group_id: &GroupId) -> Result<Vec<UserId>> {
        self.inner.member_ids(group_id).await
    }
    async fn joined_groups(&self, user_id: &UserId) -> Result<Vec<Group>> {
        self.inner.joined_groups(user_id).await
    }
    async fn managed_group_ids(&self, user_id: &UserId) -> Result<Vec<GroupId>> {
        self.inner.managed_group_ids(user_id).await
    }
    async fn put_group_request(&self, request: &GroupRequest) -> Result<()> {
        self.inner.put_group_request(request).await
    }
    async fn get_group_request(
        &self,
        group_id: &GroupId,
        user_id: &UserId,
    ) -> Result<Option<GroupRequest>> {
        self.inner.get_group_request(group_id, user_id).await
    }
    async fn list_group_requests_for(&self, group_ids: &[GroupId]) -> Result<Vec<GroupRequest>> {
        self.inner.list_group_requests_for(group_ids).await
    }
    async fn list_group_requests_by(&self, user_id: &UserId) -> Result<Vec<GroupRequest>> {
        self.inner.list_group_requests_by(user_id).await
    }
    async fn answer_group_request(
        &self,
        group_id: &GroupId,
        user_id: &UserId,
        result: HandleResult,
        handle_msg: &str,
        handled_by: &UserId,
        now: Millis,
        member: Option<&GroupMember>,
    ) -> Result<bool> {
        self.inner
            .answer_group_request(
                group_id, user_id, result, handle_msg, handled_by, now, member,
            )
            .await
    }
}

#[async_trait]
impl MessageStore for Counting {
    async fn append_messages(&self, batch: &[NewMessage]) -> Result<Vec<Appended>> {
        self.appends.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return Err(confab_core::Error::internal("the database is down"));
        }
        if batch.iter().any(|m| m.message.recv_id == POISON) {
            return Err(confab_core::Error::internal(
                "this store refuses the poisoned row",
            ));
        }
        self.inner.append_messages(batch).await
    }
    async fn revoke_message(
        &self,
        conversation_id: &str,
        seq: i64,
        notice: &NewMessage,
    ) -> Result<Option<Appended>> {
        self.inner
            .revoke_message(conversation_id, seq, notice)
            .await
    }
    async fn chat_facts(&self, pairs: &[(UserId, UserId)]) -> Result<Vec<ChatFacts>> {
        self.inner.chat_facts(pairs).await
    }
    async fn get_message(&self, conversation_id: &str, seq: i64) -> Result<Option<Message>> {
        self.inner.get_message(conversation_id, seq).await
    }
    async fn find_message_by_client_id(
        &self,
        conversation_id: &str,
        client_msg_id: &str,
    ) -> Result<Option<Message>> {
        self.inner
            .find_message_by_client_id(conversation_id, client_msg_id)
            .await
    }
    async fn get_messages(
        &self,
        user_id: &UserId,
        conversation_id: &str,
        begin: i64,
        end: i64,
        limit: u32,
    ) -> Result<Vec<Message>> {
        self.inner
            .get_messages(user_id, conversation_id, begin, end, limit)
            .await
    }
    async fn undelivered_count(&self, user_id: &UserId) -> Result<i64> {
        self.inner.undelivered_count(user_id).await
    }
    async fn max_seq(&self, conversation_id: &str) -> Result<i64> {
        self.inner.max_seq(conversation_id).await
    }
    async fn first_seq_since(&self, conversation_id: &str, since: Millis) -> Result<Option<i64>> {
        self.inner.first_seq_since(conversation_id, since).await
    }
    async fn user_conversations(&self, user_id: &UserId) -> Result<Vec<UserConversation>> {
        self.inner.user_conversations(user_id).await
    }
    async fn user_conversation(
        &self,
        user_id: &UserId,
        conversation_id: &str,
    ) -> Result<Option<UserConversation>> {
        self.inner.user_conversation(user_id, conversation_id).await
    }
    async fn mark_read(
        &self,
        user_id: &UserId,
        conversation_id: &str,
        seq: i64,
        now: Millis,
    ) -> Result<bool> {
        self.inner
            .mark_read(user_id, conversation_id, seq, now)
            .await
    }
    async fn mark_delivered(
        &self,
        user_id: &UserId,
        conversation_id: &str,
        seq: i64,
        now: Millis,
    ) -> Result<bool> {
        self.inner
            .mark_delivered(user_id, conversation_id, seq, now)
            .await
    }
    async fn clear_conversation(
        &self,
        user_id: &UserId,
        conversation_id: &str,
        now: Millis,
    ) -> Result<bool> {
        self.inner
            .clear_conversation(user_id, conversation_id, now)
            .await
    }
    async fn delete_messages_for(
        &self,
        user_id: &UserId,
        conversation_id: &str,
        seqs: &[i64],
    ) -> Result<u64> {
        self.inner
            .delete_messages_for(user_id, conversation_id, seqs)
            .await
    }
    async fn update_user_conversation(
        &self,
        user_id: &UserId,
        conversation_id: &str,
        patch: &ConversationPatch,
        now: Millis,
    ) -> Result<bool> {
        self.inner
            .update_user_conversation(user_id, conversation_id, patch, now)
            .await
    }
}

/// Records every published event.
#[derive(Default)]
pub struct Recorder(pub Mutex<Vec<Event>>);

impl Bus for Recorder {
    fn publish(&self, event: Event) -> std::result::Result<(), BusError> {
        self.0.lock().unwrap().push(event);
        Ok(())
    }
}

/// Who is online, as a test says.
#[derive(Default)]
pub struct Online(pub Mutex<Vec<UserId>>);

#[async_trait::async_trait]
impl confab_core::presence::Presence for Online {
    async fn platforms_of(&self, users: &[UserId]) -> confab_core::Result<Vec<Vec<Platform>>> {
        let online = self.0.lock().unwrap();
        Ok(users
            .iter()
            .map(|u| match online.contains(u) {
                true => vec![Platform::Web],
                false => Vec::new(),
            })
            .collect())
    }
    async fn online_users(&self) -> confab_core::Result<Vec<UserId>> {
        Ok(self.0.lock().unwrap().clone())
    }
}

pub struct Fixture {
    pub online: Arc<Online>,
    pub service: Service,
    pub store: Arc<Counting>,
    pub sqlite: Arc<confab_store::SqliteStore>,
    pub bus: Arc<Recorder>,
    _dir: tempfile::TempDir,
}

pub fn uid(s: &str) -> UserId {
    UserId::parse("user", s).unwrap()
}

pub const ADMIN: &str = "admin";

pub async fn fixture(users: &[&str]) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let sqlite = Arc::new(
        confab_store::SqliteStore::open(&url, confab_store::Durability::Process)
            .await
            .unwrap(),
    );
    let store = Arc::new(Counting {
        inner: sqlite.clone(),
        appends: AtomicUsize::new(0),
        down: std::sync::atomic::AtomicBool::new(false),
    });
    let mut all: Vec<User> = users.iter().map(|u| User::new(uid(u), 1)).collect();
    all.push(User::new(uid(ADMIN), 1));
    store.create_users(&all).await.unwrap();
    let bus = Arc::new(Recorder::default());
    let online = Arc::new(Online::default());
    let service = Service::new(
        store.clone(),
        bus.clone(),
        online.clone(),
        ServiceConfig {
            admin_user_ids: vec![uid(ADMIN)],
            admin_secret: "s".into(),
            jwt_secret: b"k".to_vec(),
            token_ttl_secs: 3600,
            revoke_window_secs: 120,
            max_content_bytes: 64 * 1024,
            system_user_id: confab_core::UserId::parse("system", "admin").unwrap(),
            app_token_ttl_secs: 3600,
            app_client_id: "id".into(),
            app_client_secret: "secret".into(),
            signed_api: Default::default(),
            sms: Default::default(),
        },
    );
    Fixture {
        online,
        service,
        store,
        sqlite,
        bus,
        _dir: dir,
    }
}

pub fn caller(id: &str) -> Caller {
    Caller {
        user_id: uid(id),
        platform: Platform::Web,
        is_admin: id == ADMIN,
    }
}

#[async_trait]
impl SettingStore for Counting {
    async fn setting_or_init(&self, key: &str, initial: &str) -> Result<String> {
        self.inner.setting_or_init(key, initial).await
    }
}

#[async_trait]
impl NotificationStore for Counting {
    async fn next_notification_id(&self) -> Result<i64> {
        self.inner.next_notification_id().await
    }
    async fn await_acks(&self, awaited: &[AwaitedAck], now: Millis) -> Result<()> {
        self.inner.await_acks(awaited, now).await
    }
    async fn forget_awaited_acks(&self, notification_id: i64) -> Result<u64> {
        self.inner.forget_awaited_acks(notification_id).await
    }
    async fn put_ack_broadcast(
        &self,
        notification_id: i64,
        body: &str,
        sent_at: Millis,
        forget_before: Millis,
    ) -> Result<()> {
        self.inner
            .put_ack_broadcast(notification_id, body, sent_at, forget_before)
            .await
    }
    async fn unacked_broadcasts(
        &self,
        user_id: &UserId,
        since: Millis,
        limit: u32,
    ) -> Result<Vec<AwaitedAck>> {
        self.inner.unacked_broadcasts(user_id, since, limit).await
    }
    async fn is_ack_broadcast(&self, notification_id: i64, since: Millis) -> Result<bool> {
        self.inner.is_ack_broadcast(notification_id, since).await
    }
    async fn awaited_acks(&self, user_id: &UserId, limit: u32) -> Result<Vec<AwaitedAck>> {
        self.inner.awaited_acks(user_id, limit).await
    }
    async fn ack_awaited(&self, user_id: &UserId, notification_id: i64) -> Result<bool> {
        self.inner.ack_awaited(user_id, notification_id).await
    }
    async fn put_broadcast_ack(
        &self,
        user_id: &UserId,
        notification_id: i64,
        now: Millis,
        forget_before: Millis,
    ) -> Result<()> {
        self.inner
            .put_broadcast_ack(user_id, notification_id, now, forget_before)
            .await
    }
    async fn broadcast_acks(&self, user_id: &UserId, ids: &[i64]) -> Result<Vec<i64>> {
        self.inner.broadcast_acks(user_id, ids).await
    }
}

#[async_trait]
impl VersionStore for Counting {
    async fn record_changes(&self, changes: &[confab_core::versions::VersionChange]) -> Result<()> {
        self.inner.record_changes(changes).await
    }
    async fn changes_since(
        &self,
        owner: &str,
        domain: confab_core::versions::VersionDomain,
        version_id: &str,
        version: i64,
    ) -> Result<confab_core::versions::VersionDelta> {
        self.inner
            .changes_since(owner, domain, version_id, version)
            .await
    }
}

#[async_trait]
impl AccessStore for Counting {
    async fn put_user_token(
        &self,
        token_hash: &str,
        user_id: &UserId,
        expires_at: Millis,
        now: Millis,
    ) -> Result<()> {
        self.inner
            .put_user_token(token_hash, user_id, expires_at, now)
            .await
    }
    async fn get_user_token(&self, token_hash: &str, now: Millis) -> Result<Option<UserId>> {
        self.inner.get_user_token(token_hash, now).await
    }
    async fn delete_user_tokens(&self, user_id: &UserId) -> Result<u64> {
        self.inner.delete_user_tokens(user_id).await
    }
    async fn sms_send_counts(
        &self,
        phone: &str,
        ip: &str,
        phone_since: Millis,
        ip_since: Millis,
    ) -> Result<SmsSendCounts> {
        self.inner
            .sms_send_counts(phone, ip, phone_since, ip_since)
            .await
    }
    async fn put_sms_code(
        &self,
        phone: &str,
        ip: &str,
        code_hash: &str,
        expires_at: Millis,
        now: Millis,
    ) -> Result<()> {
        self.inner
            .put_sms_code(phone, ip, code_hash, expires_at, now)
            .await
    }
    async fn check_sms_code(
        &self,
        phone: &str,
        code_hash: &str,
        now: Millis,
        max_attempts: i64,
    ) -> Result<SmsCodeCheck> {
        self.inner
            .check_sms_code(phone, code_hash, now, max_attempts)
            .await
    }
    async fn phone_user(&self, phone: &str, template: &User) -> Result<(User, bool)> {
        self.inner.phone_user(phone, template).await
    }
    async fn put_session(
        &self,
        token_hash: &str,
        user_id: &UserId,
        device: &str,
        device_id: &str,
        now: Millis,
    ) -> Result<()> {
        self.inner
            .put_session(token_hash, user_id, device, device_id, now)
            .await
    }
    async fn get_session(&self, token_hash: &str) -> Result<Option<(UserId, String)>> {
        self.inner.get_session(token_hash).await
    }
    async fn delete_user_sessions(&self, user_id: &UserId) -> Result<u64> {
        self.inner.delete_user_sessions(user_id).await
    }
    async fn delete_session(&self, token_hash: &str) -> Result<bool> {
        self.inner.delete_session(token_hash).await
    }
}
