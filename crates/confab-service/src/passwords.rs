//! Passwords: set with a user (registration) or later, checked at login.
//! Hashing is argon2, off the async runtime (it is meant to be slow).

use crate::auth::{Caller, TokenGrant};
use crate::Service;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use confab_core::model::User;
use confab_core::{now_millis, Error, ErrorKind, Field, Platform, Result, UserId};

/// Shortest and longest password accepted, in characters.
pub const MIN_PASSWORD_LEN: usize = 1;
pub const MAX_PASSWORD_LEN: usize = 128;

/// Checks a password's bounds.
pub(crate) fn validate_password(password: &str) -> Result<()> {
    let len = password.chars().count();
    if !(MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&len) {
        return Err(Error::invalid_field(
            Field::Password,
            format!("must be {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters"),
        ));
    }
    confab_core::validate::no_nul(Field::Password, password)
}

/// Bounds the hashing work running at once: each argon2 run holds ~19 MiB
/// and a core for tens of milliseconds, so a flood of logins or
/// registrations queues here instead of exhausting memory.
pub(crate) fn hashing_limit() -> tokio::sync::Semaphore {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    tokio::sync::Semaphore::new(cores)
}

/// The argon2 PHC string of a password.
pub(crate) async fn hash_password(password: &str) -> Result<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(Error::internal)
    })
    .await
    .map_err(Error::internal)?
}

async fn password_matches(password: &str, hash: &str) -> Result<bool> {
    let (password, hash) = (password.to_owned(), hash.to_owned());
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(Error::internal)?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(Error::internal)?
}

/// A hash to check against when the user does not exist, so that a login
/// takes as long either way and says nothing of who exists.
const DECOY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3Ie6b2bNIdBzFo1ti+3sdSKclXjaAsw0ZpWj5rDfkjM";

impl Service {
    /// `hash_password`, within the hashing limit.
    pub(crate) async fn hash(&self, password: &str) -> Result<String> {
        let _permit = self.hashing.acquire().await.map_err(Error::internal)?;
        hash_password(password).await
    }

    async fn verify(&self, password: &str, hash: &str) -> Result<bool> {
        let _permit = self.hashing.acquire().await.map_err(Error::internal)?;
        password_matches(password, hash).await
    }

    /// Sets a user's password: the user themselves, or an app admin. Every
    /// token of the user is revoked, the caller's own included.
    pub async fn set_password(
        &self,
        caller: &Caller,
        user_id: &UserId,
        password: &str,
    ) -> Result<()> {
        caller.require_acts_for(user_id)?;
        validate_password(password)?;
        let hash = self.hash(password).await?;
        if !self
            .store
            .set_password_hash(user_id, &hash, now_millis())
            .await?
        {
            return Err(Error::not_found(format!("user {user_id} does not exist")));
        }
        // A new password ends every login made with the old one (or with a
        // token someone took): every token and session of the user, on
        // every dialect and connection.
        self.revoke_everything(user_id, "the password was changed")
            .await
    }

    /// A token for `user_id` on `platform` if `password` is theirs, with the
    /// user. A wrong password, an unknown user and a user without a password
    /// are refused alike.
    pub async fn password_login(
        &self,
        user_id: &UserId,
        password: &str,
        platform: Platform,
    ) -> Result<(TokenGrant, User)> {
        let refused = || Error::new(ErrorKind::TokenInvalid, "wrong username or password");
        // Limited whether or not the user exists, so that the limit says
        // nothing of who does.
        self.admit_login(user_id.as_str())?;
        let user = self.store.get_user(user_id).await?;
        let hash = user.as_ref().and_then(|u| u.password_hash.as_deref());
        let matches = self.verify(password, hash.unwrap_or(DECOY_HASH)).await?;
        match user {
            Some(user) if hash.is_some() && matches => {
                Ok((self.issue_token(user_id, platform).await?, user))
            }
            _ => Err(refused()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_the_decoy_parses() {
        let hash = hash_password("s3cret").await.unwrap();
        assert!(password_matches("s3cret", &hash).await.unwrap());
        assert!(!password_matches("other", &hash).await.unwrap());
        assert!(!password_matches("s3cret", DECOY_HASH).await.unwrap());
        assert!(validate_password("").is_err());
        assert!(validate_password(&"p".repeat(129)).is_err());
    }
}
