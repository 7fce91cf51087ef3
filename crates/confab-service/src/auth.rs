//! Tokens: one live HS256 token per user and platform, recorded in the store
//! so that a new login or a force-logout revokes the previous one.

use crate::Service;
use confab_core::bus::SessionId;
use confab_core::{now_millis, Error, ErrorKind, Platform, Result, UserId};
use jsonwebtoken::{
    decode, encode, errors::ErrorKind as JwtError, Algorithm, DecodingKey, EncodingKey, Header,
    Validation,
};
use serde::{Deserialize, Serialize};

/// OpenIM's claim names, so that tokens look like OpenIM's to its tools.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    #[serde(rename = "UID")]
    uid: String,
    #[serde(rename = "Platform")]
    platform: String,
    exp: i64,
    nbf: i64,
    iat: i64,
    /// Identifies this token among the user's; the store keeps the live one.
    jti: String,
    /// `app` for an app token (the Easemob proxy's), which stands for the
    /// app server rather than one login: it is checked by signature and
    /// expiry only, and never accepted where a user token is expected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
}

const APP_TOKEN: &str = "app";

/// Who is calling, established from a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    pub platform: Platform,
    pub is_admin: bool,
}

impl Caller {
    /// May this caller act on behalf of `user_id`? Admins act for anyone.
    pub fn acts_for(&self, user_id: &UserId) -> bool {
        self.is_admin || &self.user_id == user_id
    }

    pub fn require_acts_for(&self, user_id: &UserId) -> Result<()> {
        if self.acts_for(user_id) {
            Ok(())
        } else {
            Err(Error::denied(format!(
                "a token of {} cannot act for {user_id}",
                self.user_id
            )))
        }
    }

    pub fn require_admin(&self) -> Result<()> {
        if self.is_admin {
            Ok(())
        } else {
            Err(Error::denied("only an app administrator may do this"))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    pub user_id: UserId,
    pub token: String,
    /// Expiry, in seconds since the Unix epoch.
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub user_id: UserId,
    pub platform: Platform,
    /// Expiry, in seconds since the Unix epoch.
    pub expires_at: i64,
}

/// Who asks for an app token.
#[derive(Debug, Clone, Copy)]
pub enum AppTokenAsker<'a> {
    /// A caller on a trusted network (the dialect judged its address).
    Trusted,
    /// A caller elsewhere, with what it presented.
    Credentials {
        client_id: &'a str,
        client_secret: &'a str,
    },
}

/// Compares secrets in time independent of where they differ.
pub(crate) fn secrets_match(given: &str, expected: &str) -> bool {
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Service {
    /// Fails unless `secret` is the admin secret.
    pub fn check_secret(&self, secret: &str) -> Result<()> {
        if secrets_match(secret, &self.config.admin_secret) {
            Ok(())
        } else {
            Err(Error::denied("secret: wrong secret"))
        }
    }

    /// Issues a token for an existing user, revoking their previous token
    /// on the same platform. The app server proves itself with the secret.
    pub async fn user_token(
        &self,
        secret: &str,
        user_id: &UserId,
        platform: Platform,
    ) -> Result<TokenGrant> {
        self.check_secret(secret)?;
        self.require_user(user_id).await?;
        self.issue_token(user_id, platform).await
    }

    pub(crate) async fn issue_token(
        &self,
        user_id: &UserId,
        platform: Platform,
    ) -> Result<TokenGrant> {
        let expires_at = now_millis() / 1000 + self.config.token_ttl_secs;
        let jti = uuid::Uuid::new_v4().simple().to_string();
        let grant = self.mint(user_id, platform, &jti, expires_at)?;
        self.store
            .put_token(user_id, platform, &jti, expires_at * 1000)
            .await?;
        Ok(grant)
    }

    /// The user's live token on `platform`, written again (the same id and
    /// expiry, so it revokes nothing), or a new one when there is none.
    pub(crate) async fn live_or_new_token(
        &self,
        user_id: &UserId,
        platform: Platform,
    ) -> Result<TokenGrant> {
        match self
            .store
            .live_token(user_id, platform, now_millis())
            .await?
        {
            Some((jti, expires_at)) => self.mint(user_id, platform, &jti, expires_at / 1000),
            None => self.issue_token(user_id, platform).await,
        }
    }

    /// Signs a user token; `expires_at` in seconds.
    fn mint(
        &self,
        user_id: &UserId,
        platform: Platform,
        jti: &str,
        expires_at: i64,
    ) -> Result<TokenGrant> {
        let now = now_millis() / 1000;
        let claims = Claims {
            uid: user_id.to_string(),
            platform: platform.name().to_owned(),
            exp: expires_at,
            nbf: now,
            iat: now,
            jti: jti.to_owned(),
            kind: None,
        };
        let token = encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&self.config.jwt_secret),
        )
        .map_err(Error::internal)?;
        Ok(TokenGrant {
            user_id: user_id.clone(),
            token,
            expires_at,
        })
    }

    /// Checks a token's signature and claims (not whether it is live).
    fn decode_claims(&self, token: &str) -> Result<Claims> {
        if token.is_empty() {
            return Err(Error::new(ErrorKind::TokenMalformed, "token: missing"));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        // No grace after `exp` (the library's default is 60 s): an expired
        // token is refused at once. Confab issues and checks its tokens on
        // the same clocks, so no skew needs absorbing.
        validation.leeway = 0;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "nbf"]);
        let data = decode::<Claims>(
            token,
            &DecodingKey::from_secret(&self.config.jwt_secret),
            &validation,
        )
        .map_err(|e| match e.kind() {
            JwtError::ExpiredSignature => Error::new(ErrorKind::TokenExpired, "token: expired"),
            JwtError::ImmatureSignature => {
                Error::new(ErrorKind::TokenInvalid, "token: not valid yet")
            }
            JwtError::InvalidSignature | JwtError::InvalidAlgorithm => {
                Error::new(ErrorKind::TokenInvalid, "token: signature does not match")
            }
            _ => Error::new(ErrorKind::TokenMalformed, "token: not a Confab token"),
        })?;
        Ok(data.claims)
    }

    /// Checks a user token: signature, expiry, and that it is still the
    /// live token of its user and platform.
    pub async fn parse_token(&self, token: &str) -> Result<TokenInfo> {
        let claims = self.decode_claims(token)?;
        if claims.kind.is_some() {
            return Err(Error::new(
                ErrorKind::TokenInvalid,
                "token: an app token, not a user token",
            ));
        }
        let user_id = UserId::parse("token", &claims.uid)
            .map_err(|_| Error::new(ErrorKind::TokenInvalid, "token: bad user id"))?;
        let platform = Platform::from_name(&claims.platform)
            .ok_or_else(|| Error::new(ErrorKind::TokenInvalid, "token: bad platform"))?;
        match self.store.get_token_id(&user_id, platform).await? {
            Some(live) if live == claims.jti => Ok(TokenInfo {
                user_id,
                platform,
                expires_at: claims.exp,
            }),
            _ => Err(Error::new(
                ErrorKind::TokenRevoked,
                "token: replaced by a newer login or logged out",
            )),
        }
    }

    /// Issues an app token: the app server's credential for the Easemob
    /// proxy, acting as the system user with app-admin rights. Many may be
    /// live at once (each app server gets its own); they end at expiry.
    /// Who may ask: a caller the dialect found on a trusted network, or one
    /// presenting the app's client credentials. The system user is created
    /// with the first app token, so that it exists before anything an app
    /// token does (and only where a dialect that uses it is used).
    pub async fn app_token(&self, asker: AppTokenAsker<'_>) -> Result<TokenGrant> {
        if let AppTokenAsker::Credentials {
            client_id,
            client_secret,
        } = asker
        {
            let known = secrets_match(client_id, &self.config.app_client_id)
                & secrets_match(client_secret, &self.config.app_client_secret);
            if !known {
                return Err(Error::new(
                    ErrorKind::TokenInvalid,
                    "client_id and client_secret: required from outside the trusted networks, and must match",
                ));
            }
        }
        self.ensure_users(std::slice::from_ref(&self.config.system_user_id))
            .await?;
        let now = now_millis() / 1000;
        let expires_at = now + self.config.app_token_ttl_secs;
        let claims = Claims {
            uid: self.config.system_user_id.to_string(),
            platform: Platform::APad.name().to_owned(),
            exp: expires_at,
            nbf: now,
            iat: now,
            jti: uuid::Uuid::new_v4().simple().to_string(),
            kind: Some(APP_TOKEN.to_owned()),
        };
        let token = encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&self.config.jwt_secret),
        )
        .map_err(Error::internal)?;
        Ok(TokenGrant {
            user_id: self.config.system_user_id.clone(),
            token,
            expires_at,
        })
    }

    /// The caller an app token stands for: the system user, an app admin.
    pub fn authenticate_app(&self, token: &str) -> Result<Caller> {
        let claims = self.decode_claims(token)?;
        if claims.kind.as_deref() != Some(APP_TOKEN) {
            return Err(Error::new(
                ErrorKind::TokenInvalid,
                "token: not an app token",
            ));
        }
        Ok(Caller {
            user_id: self.config.system_user_id.clone(),
            platform: Platform::APad,
            is_admin: true,
        })
    }

    /// Establishes the caller of a request from its token.
    pub async fn authenticate(&self, token: &str) -> Result<Caller> {
        let info = self.parse_token(token).await?;
        Ok(Caller {
            is_admin: self.is_admin(&info.user_id),
            user_id: info.user_id,
            platform: info.platform,
        })
    }

    /// Revokes the token of a user on a platform (all platforms when None).
    /// A user may log themselves out; only an admin may log out others.
    pub async fn force_logout(
        &self,
        caller: &Caller,
        user_id: &UserId,
        platform: Option<Platform>,
    ) -> Result<()> {
        caller.require_acts_for(user_id)?;
        self.require_user(user_id).await?;
        match platform {
            Some(_) => {
                self.store.delete_tokens(user_id, platform).await?;
                self.kick(user_id, platform, "logged out by force_logout");
                Ok(())
            }
            None => {
                self.revoke_everything(user_id, "logged out by force_logout")
                    .await
            }
        }
    }

    /// Ends a session's login (its protocol's logout): the token of the
    /// caller's platform is revoked, and the user's other sessions on that
    /// platform end; `session`, which asked, is left to close itself.
    pub async fn sign_out(&self, caller: &Caller, session: Option<SessionId>) -> Result<()> {
        let platform = Some(caller.platform);
        self.store.delete_tokens(&caller.user_id, platform).await?;
        self.kick_except(&caller.user_id, platform, "logged out", session);
        Ok(())
    }

    /// Revokes every credential of a user: the IM tokens of all platforms,
    /// the app API's sessions and the opaque user tokens; and ends their
    /// connections.
    pub(crate) async fn revoke_everything(&self, user_id: &UserId, reason: &str) -> Result<()> {
        self.store.delete_tokens(user_id, None).await?;
        self.store.delete_user_sessions(user_id).await?;
        self.store.delete_user_tokens(user_id).await?;
        self.kick(user_id, None, reason);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::secrets_match;

    #[test]
    fn secrets() {
        assert!(secrets_match("tuoyun", "tuoyun"));
        assert!(!secrets_match("tuoyun", "tuoyuN"));
        assert!(!secrets_match("tuoyu", "tuoyun"));
        assert!(!secrets_match("", "x"));
    }
}
