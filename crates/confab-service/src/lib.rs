//! Confab's use cases. Every dialect calls these; they own the rules (who may
//! do what, what must exist, what a change implies) and leave storage to the
//! `Store` they are given.

mod access;
mod accounts;
mod appender;
mod auth;
mod chatrooms;
mod client_sdk;
mod conversations;
mod follows;
mod groups;
mod inbox;
mod limits;
mod members;
mod notices;
mod notify;
mod numbered;
mod passwords;
mod profiles;
mod relations;
mod revoke;
mod send;
mod sessions;
mod signatures;
mod signed_requests;
mod summaries;
mod uploads;
mod user_tokens;
mod versions;

pub use access::{canonical_phone, device_platform, LogSms, SignIn, SmsSender, SmsSettings};
pub use accounts::{AccountStatus, NewUser};
pub use auth::{AppTokenAsker, Caller, TokenGrant, TokenInfo};
pub use chatrooms::{Chatroom, NewChatroom, DEFAULT_CHATROOM_MAX_MEMBERS, MAX_CHATROOM_MEMBERS};
pub use client_sdk::{
    FriendRequestView, GroupRequestView, MemberPage, MAX_CLIENT_LOOKUP, MAX_MEMBER_PAGE,
};
pub use conversations::{
    ConversationChange, PulledRange, SeqRange, MAX_CONVERSATION_BATCH, MAX_PULL,
};
pub use follows::{FollowList, FollowOp, MAX_FOLLOW_PAGE};
pub use groups::{GroupInfo, MemberFilter, NewGroup, MEMBER_PAGE};
pub use inbox::{CatchUp, Looked, MAX_CATCH_UP};
pub use limits::RateLimits;
pub use notify::{Audience, Notification, NotifyOutcome, SentNotification, MAX_AUDIENCE};
pub use numbered::{numbered_user_id, AppProfile, ProfileSource, RefreshPage, REFRESH_PAGE};
pub use passwords::{MAX_PASSWORD_LEN, MIN_PASSWORD_LEN};
pub use profiles::{content_type_of, FileStore};
pub use relations::FriendInfo;
pub use send::{OutgoingMessage, PendingSend, SendOutcome, SendRequest, MAX_RECIPIENTS};
pub use sessions::MAX_ONLINE_STATUS;
pub use signatures::{members_digest, CREATE_CONVERSATION, SIGNATURE_TTL_SECS};
pub use signed_requests::sha1_hex;
pub use summaries::{ConversationSummary, Summaries, MAX_SUMMARIES};
pub use uploads::{StartedUpload, MAX_UPLOAD_BYTES, MIN_PART_SIZE};
pub use user_tokens::UserToken;
pub use versions::{IdsAt, MembersSynced, Synced, MAX_MEMBER_SYNC_GROUPS};

use appender::{Appender, DeliveryContext};
use chatrooms::Chatrooms;
use confab_core::bus::Bus;
use confab_core::presence::Presence;
use confab_core::store::Store;
use confab_core::{Error, Result, UserId};
use members::MemberCache;
use std::sync::Arc;

/// Settings the service needs; the server fills them from its config.
#[derive(Clone)]
pub struct ServiceConfig {
    /// Users with app-manager rights (OpenIM's `appManagerUid`).
    pub admin_user_ids: Vec<UserId>,
    /// The secret an app server presents to obtain tokens.
    pub admin_secret: String,
    /// Key of the HS256 tokens.
    pub jwt_secret: Vec<u8>,
    /// Lifetime of issued tokens, in seconds.
    pub token_ttl_secs: i64,
    /// How long after sending a sender may revoke a message, in seconds.
    pub revoke_window_secs: i64,
    /// Largest message content, in bytes of JSON.
    pub max_content_bytes: usize,
    /// The system user (Easemob's `admin`): created with the first app
    /// token; what an app token sends, it sends, with app-admin rights that
    /// its own user tokens do not have.
    pub system_user_id: UserId,
    /// Lifetime of app tokens, in seconds.
    pub app_token_ttl_secs: i64,
    /// What an app server off the trusted networks presents for an app
    /// token (the Easemob proxy's `client_id` and `client_secret`).
    pub app_client_id: String,
    pub app_client_secret: String,
    /// SMS code limits and lifetimes (the app access API).
    pub sms: SmsSettings,
    /// Signed app requests, opaque user tokens and notification lifetimes
    /// (the yunbay API).
    pub signed_api: SignedApiSettings,
}

/// What the signed app API needs: the apps' signing keys, and lifetimes.
#[derive(Clone)]
pub struct SignedApiSettings {
    /// Signing key of each app, by app id.
    pub signing_keys: std::collections::HashMap<String, String>,
    /// A literal accepted in place of a signature, for development; None
    /// (the default) accepts none.
    pub debug_signature: Option<String>,
    /// Lifetime of an opaque user token, in seconds.
    pub user_token_ttl_secs: i64,
    /// How long a broadcast notification still reaches users who connect
    /// after it was sent, in seconds.
    pub broadcast_ttl_secs: i64,
}

impl Default for SignedApiSettings {
    fn default() -> Self {
        SignedApiSettings {
            signing_keys: Default::default(),
            debug_signature: None,
            user_token_ttl_secs: 30 * 86_400,
            broadcast_ttl_secs: 7 * 86_400,
        }
    }
}

impl std::fmt::Debug for ServiceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceConfig")
            .field("admin_user_ids", &self.admin_user_ids)
            .field("token_ttl_secs", &self.token_ttl_secs)
            .field("revoke_window_secs", &self.revoke_window_secs)
            .field("max_content_bytes", &self.max_content_bytes)
            .finish_non_exhaustive()
    }
}

/// The use cases, over one store. Cheap to share behind an `Arc`.
pub struct Service {
    store: Arc<dyn Store>,
    config: ServiceConfig,
    presence: Arc<dyn Presence>,
    members: Arc<MemberCache>,
    chatrooms: Chatrooms,
    appender: Appender,
    /// Password hashing running at once (argon2 is heavy by design).
    hashing: tokio::sync::Semaphore,
    /// Where SMS codes go (`with_sms` sets it; the log by default).
    sms: Arc<dyn SmsSender>,
    /// Where uploaded files go (`with_files` sets it).
    files: Option<profiles::FileStore>,
    /// The app's account service, for profile refreshes
    /// (`with_profile_source` sets it).
    profile_source: Option<Arc<dyn ProfileSource>>,
    /// Abuse limits (`with_rate_limits` sets them; none by default).
    limiters: limits::Limiters,
}

impl Service {
    /// The service over `store`, publishing on `bus`, asking `presence` who
    /// is online. Starts the appender and delivery tasks, so it must be
    /// called within a Tokio runtime.
    pub fn new(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        presence: Arc<dyn Presence>,
        config: ServiceConfig,
    ) -> Service {
        let members = Arc::new(MemberCache::default());
        let appender = Appender::start(DeliveryContext {
            store: store.clone(),
            bus,
            members: members.clone(),
            presence: presence.clone(),
        });
        Service {
            store,
            config,
            presence,
            members,
            chatrooms: Chatrooms::default(),
            appender,
            hashing: passwords::hashing_limit(),
            sms: Arc::new(LogSms),
            files: None,
            profile_source: None,
            limiters: limits::Limiters::new(RateLimits::default()),
        }
    }

    /// The service sending SMS codes through `sms`.
    pub fn with_sms(mut self, sms: Arc<dyn SmsSender>) -> Service {
        self.sms = sms;
        self
    }

    /// The service refreshing profiles from `source` (the app's account
    /// service).
    pub fn with_profile_source(mut self, source: Arc<dyn ProfileSource>) -> Service {
        self.profile_source = Some(source);
        self
    }

    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }

    pub fn presence(&self) -> &dyn Presence {
        &*self.presence
    }

    /// Whether a user's own tokens carry app-admin rights. The system user
    /// has them only through an app token (`authenticate_app`): a user
    /// who happens to be called `admin` gains nothing by the name.
    pub fn is_admin(&self, user_id: &UserId) -> bool {
        self.config.admin_user_ids.contains(user_id)
    }

    /// The users that exist among `ids`, in the order of `ids`.
    async fn users_in_order(&self, ids: &[UserId]) -> Result<Vec<confab_core::model::User>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut found = self.store.get_users(ids).await?;
        found.sort_by_key(|u| ids.iter().position(|id| *id == u.user_id));
        Ok(found)
    }

    /// Fails with `NotFound` unless the user exists.
    async fn require_user(&self, user_id: &UserId) -> Result<confab_core::model::User> {
        self.store
            .get_user(user_id)
            .await?
            .ok_or_else(|| Error::not_found(format!("user {user_id} does not exist")))
    }
}

/// Keeps the first occurrence of each item.
fn dedup<T: PartialEq + Clone>(items: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(item) {
            out.push(item.clone());
        }
    }
    out
}
