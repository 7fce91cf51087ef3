//! Users known by number (the yunbay API): the app server registers them
//! and has their profiles refreshed from its own account records, one
//! user or every user page by page.

use crate::accounts::validate_profile;
use crate::auth::{Caller, TokenGrant};
use crate::Service;
use async_trait::async_trait;
use confab_core::ids::NAMED_USER_NUMBERS_FROM;
use confab_core::model::{User, UserPatch};
use confab_core::validate;
use confab_core::{now_millis, Error, ErrorKind, Field, Platform, Result, UserId};
use futures_util::StreamExt;

/// Users refreshed by one `refresh_profiles` call.
pub const REFRESH_PAGE: u32 = 100;
/// Profiles asked of the account service at once.
const REFRESH_CONCURRENCY: usize = 8;
/// Most users one `numbered_profiles` reads.
const MAX_PROFILES: usize = 500;

/// A profile in the app's words. From the account service every field is
/// set; from a request, only those it carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppProfile {
    pub username: Option<String>,
    pub avatar: Option<String>,
    pub birthday: Option<String>,
    pub user_type: Option<i64>,
}

impl AppProfile {
    fn is_empty(&self) -> bool {
        *self == AppProfile::default()
    }

    /// The change to `user`: `user_type` goes into `ex` (a JSON object),
    /// keeping what else `ex` holds.
    fn patch(&self, user: &User) -> UserPatch {
        let ex = self.user_type.map(|t| {
            let mut ex = match serde_json::from_str::<serde_json::Value>(&user.ex) {
                Ok(serde_json::Value::Object(map)) => map,
                _ => serde_json::Map::new(),
            };
            ex.insert("user_type".into(), t.into());
            serde_json::Value::Object(ex).to_string()
        });
        UserPatch {
            nickname: self.username.clone(),
            face_url: self.avatar.clone(),
            birth: self.birthday.clone(),
            ex,
            ..UserPatch::default()
        }
    }
}

/// Where profiles come from: the app's account service. Failing to get an
/// answer, or a usable one, is `Unavailable`; a user it does not know,
/// `NotFound`.
#[async_trait]
pub trait ProfileSource: Send + Sync {
    async fn profile(&self, number: i64) -> Result<AppProfile>;
}

/// What one page of a refresh of every user did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshPage {
    pub updated: u32,
    /// Where the next page starts; None after the last user.
    pub next: Option<i64>,
}

/// The user known by `number`: the id `"<number>"`, for numbers from 0
/// below the named users' range.
pub fn numbered_user_id(number: i64) -> Result<UserId> {
    if !(0..NAMED_USER_NUMBERS_FROM).contains(&number) {
        return Err(Error::invalid_field(
            Field::User,
            format!("must be from 0 to {}", NAMED_USER_NUMBERS_FROM - 1),
        ));
    }
    UserId::parse("user_id", &number.to_string())
}

impl Service {
    /// Creates user `number` if it does not exist yet (the same user as the
    /// id `"<number>"` in every dialect) and gives their gateway token on
    /// `platform`: the live one if they have one (so registering again
    /// logs nobody out), else a new one. App administrators only.
    pub async fn register_numbered_user(
        &self,
        caller: &Caller,
        number: i64,
        platform: Platform,
    ) -> Result<(User, TokenGrant)> {
        caller.require_admin()?;
        let id = numbered_user_id(number)?;
        self.ensure_users(std::slice::from_ref(&id)).await?;
        // Created or not, it must exist now; if not, its number is a named
        // user's (a data dir from before named users had their own range).
        let user = self.store.get_user(&id).await?.ok_or_else(|| {
            Error::new(
                ErrorKind::Conflict,
                format!("user number {number} is taken by a user of another name"),
            )
        })?;
        let grant = self.live_or_new_token(&id, platform).await?;
        Ok((user, grant))
    }

    /// Refreshes user `number`'s profile from the account service when one
    /// is configured, else from `given`. Nothing changes unless the whole
    /// profile was read. App administrators only.
    pub async fn refresh_profile(
        &self,
        caller: &Caller,
        number: i64,
        given: &AppProfile,
    ) -> Result<()> {
        caller.require_admin()?;
        let id = numbered_user_id(number)?;
        let user = self.require_user(&id).await?;
        match &self.profile_source {
            Some(source) => {
                let profile = source.profile(number).await?;
                self.apply_profile(&user, &profile, true).await
            }
            None => self.apply_profile(&user, given, false).await,
        }
    }

    /// Stores a profile; one from the account service that does not fit is
    /// the service's fault, not the caller's.
    async fn apply_profile(&self, user: &User, profile: &AppProfile, fetched: bool) -> Result<()> {
        if profile.is_empty() {
            return Ok(());
        }
        let patch = profile.patch(user);
        validate_profile(&patch).map_err(|e| {
            if fetched {
                Error::new(
                    ErrorKind::Unavailable,
                    format!(
                        "the account service's profile does not fit: {}",
                        e.client_message()
                    ),
                )
            } else {
                e
            }
        })?;
        if !self
            .store
            .update_user(&user.user_id, &patch, now_millis())
            .await?
        {
            return Err(Error::not_found(format!(
                "user {} does not exist",
                user.user_id
            )));
        }
        Ok(())
    }

    /// Refreshes, from the account service, one page of the users known by
    /// number from `from` on, in number order. A failure stops the page at
    /// the user it happened to (those before are refreshed) and says where
    /// to resume. App administrators only.
    pub async fn refresh_profiles(&self, caller: &Caller, from: i64) -> Result<RefreshPage> {
        caller.require_admin()?;
        let Some(source) = &self.profile_source else {
            return Err(Error::new(
                ErrorKind::FailedPrecondition,
                "no account service is configured: profiles can only be refreshed one by one, from the request",
            ));
        };
        let mut users = self
            .store
            .numbered_users(from.max(0), REFRESH_PAGE + 1)
            .await?;
        let next = if users.len() > REFRESH_PAGE as usize {
            users.pop().map(|u| u.numeric_id)
        } else {
            None
        };
        let asks = users.into_iter().map(|user| {
            let source = source.clone();
            async move {
                let profile = source.profile(user.numeric_id).await;
                (user, profile)
            }
        });
        let mut profiles = futures_util::stream::iter(asks).buffered(REFRESH_CONCURRENCY);
        let mut updated = 0;
        while let Some((user, profile)) = profiles.next().await {
            let user = &user;
            let applied = match profile {
                Ok(p) => self.apply_profile(user, &p, true).await,
                Err(e) => Err(e),
            };
            if let Err(e) = applied {
                if e.kind() == ErrorKind::Internal {
                    return Err(e);
                }
                return Err(Error::new(
                    e.kind(),
                    format!(
                        "user {}: {}; the {updated} users before it are refreshed: resume from user {}",
                        user.numeric_id,
                        e.client_message(),
                        user.numeric_id
                    ),
                ));
            }
            updated += 1;
        }
        Ok(RefreshPage { updated, next })
    }

    /// The users among `numbers` that exist, in the order asked.
    pub async fn numbered_profiles(&self, caller: &Caller, numbers: &[i64]) -> Result<Vec<User>> {
        caller.require_admin()?;
        validate::batch(Field::Users, numbers, MAX_PROFILES)?;
        let ids = numbers
            .iter()
            .map(|n| numbered_user_id(*n))
            .collect::<Result<Vec<_>>>()?;
        self.users_in_order(&crate::dedup(&ids)).await
    }
}
