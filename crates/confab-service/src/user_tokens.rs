//! Opaque user tokens: random strings an app hands its users (the yunbay
//! API's `X-Yf-Token`), stored only as keyed hashes, each with an expiry. A
//! user may hold many (one per sign-in); logging out everywhere revokes
//! them all.

use crate::access::digest;
use crate::auth::Caller;
use crate::Service;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use confab_core::{now_millis, Error, ErrorKind, Platform, Result, UserId};
use rand::Rng;

/// A token just issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserToken {
    pub token: String,
    /// Expiry, in milliseconds since the Unix epoch.
    pub expires_at: i64,
}

impl Service {
    fn user_token_hash(&self, token: &str) -> String {
        digest(&self.config.jwt_secret, &["user-token", token])
    }

    /// Issues an opaque token for an existing user. App administrators only.
    pub async fn issue_user_token(&self, caller: &Caller, user_id: &UserId) -> Result<UserToken> {
        caller.require_admin()?;
        self.require_user(user_id).await?;
        // 32 random bytes, URL-safe: the token also travels as a query
        // parameter (`/v1/ws?token=`), where `+` and `/` would need escaping.
        let bytes: [u8; 32] = rand::rngs::OsRng.gen();
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let now = now_millis();
        let expires_at = now + self.config.signed_api.user_token_ttl_secs * 1000;
        self.store
            .put_user_token(&self.user_token_hash(&token), user_id, expires_at, now)
            .await?;
        Ok(UserToken { token, expires_at })
    }

    /// The caller an opaque user token stands for, on `platform` (which the
    /// client names with each request). Unknown and expired tokens look
    /// alike to the caller.
    pub async fn authenticate_user_token(&self, token: &str, platform: Platform) -> Result<Caller> {
        if token.is_empty() {
            return Err(Error::new(ErrorKind::TokenMalformed, "token: missing"));
        }
        let user_id = self
            .store
            .get_user_token(&self.user_token_hash(token), now_millis())
            .await?
            .ok_or_else(|| Error::new(ErrorKind::TokenInvalid, "token: unknown or expired"))?;
        Ok(Caller {
            is_admin: self.is_admin(&user_id),
            user_id,
            platform,
        })
    }
}

impl Service {
    /// A gateway token for the caller themselves, on their platform, like
    /// a login there (it replaces their previous one on that platform).
    pub async fn gateway_token(&self, caller: &Caller) -> Result<crate::TokenGrant> {
        self.require_user(&caller.user_id).await?;
        self.issue_token(&caller.user_id, caller.platform).await
    }
}
