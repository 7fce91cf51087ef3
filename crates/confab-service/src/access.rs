//! The app access API's accounts: SMS codes, sign-in by SMS, and session
//! tokens (opaque, random, kept only as hashes, one per device).
//!
//! Rules: a number must be valid for its country (libphonenumber's data);
//! one code per phone per resend interval, a daily limit per phone and an
//! hourly limit per client IP; a code expires, works once, and is void
//! after too many wrong attempts; the first sign-in creates the user with
//! the next free number as their id.

use crate::auth::{Caller, TokenGrant};
use crate::Service;
use blake2::{Blake2b512, Digest};
use confab_core::model::User;
use confab_core::store::SmsCodeCheck;
use confab_core::{now_millis, Error, ErrorKind, Field, Platform, Result, UserId};
use rand::Rng;

/// Limits and lifetimes of SMS codes; the server fills them from config.
#[derive(Debug, Clone)]
pub struct SmsSettings {
    pub code_ttl_secs: i64,
    pub resend_interval_secs: i64,
    pub daily_limit: i64,
    pub ip_hourly_limit: i64,
    pub max_attempts: i64,
}

impl Default for SmsSettings {
    fn default() -> Self {
        SmsSettings {
            code_ttl_secs: 300,
            resend_interval_secs: 60,
            daily_limit: 10,
            ip_hourly_limit: 30,
            max_attempts: 5,
        }
    }
}

/// Sends a code by SMS. `Err` carries why, for the log; the caller is told
/// only that the SMS could not be sent.
#[async_trait::async_trait]
pub trait SmsSender: Send + Sync {
    async fn send(
        &self,
        nation_code: &str,
        phone: &str,
        code: &str,
    ) -> std::result::Result<(), String>;
}

/// The development provider: writes the phone and code to the server log.
pub struct LogSms;

#[async_trait::async_trait]
impl SmsSender for LogSms {
    async fn send(
        &self,
        nation_code: &str,
        phone: &str,
        code: &str,
    ) -> std::result::Result<(), String> {
        tracing::info!(
            nation_code,
            phone,
            code,
            "SMS code (sms_provider = \"log\")"
        );
        Ok(())
    }
}

/// The device kinds a sign-in names, and the gateway platform each maps to.
pub fn device_platform(device: &str) -> Option<Platform> {
    match device {
        "ios" => Some(Platform::Ios),
        "android" => Some(Platform::Android),
        "web" => Some(Platform::Web),
        // OpenIM's "mini web": a second web platform, so that a browser and
        // an H5 page of one user do not replace each other's sessions.
        "h5" => Some(Platform::MiniWeb),
        _ => None,
    }
}

/// A number valid for its country, in E.164 (`+8616522222222`).
pub fn canonical_phone(nation_code: &str, phone: &str) -> Result<String> {
    let digits = |s: &str| !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit());
    let nation = nation_code.trim().trim_start_matches('+');
    if !digits(nation) {
        return Err(Error::invalid(
            "nation_code: must be a country calling code, e.g. 86",
        ));
    }
    let phone = phone.trim();
    if !digits(phone) {
        return Err(Error::invalid("phone: must be digits"));
    }
    let number = phonenumber::parse(None, format!("+{nation}{phone}"))
        .map_err(|_| Error::invalid("phone: not a phone number"))?;
    if !phonenumber::is_valid(&number) {
        return Err(Error::invalid(format!(
            "phone: not a valid number for country code {nation}"
        )));
    }
    Ok(number.format().mode(phonenumber::Mode::E164).to_string())
}

/// A keyed hash: codes and tokens are kept only so.
pub(crate) fn digest(key: &[u8], parts: &[&str]) -> String {
    let mut hasher = Blake2b512::new();
    hasher.update((key.len() as u64).to_le_bytes());
    hasher.update(key);
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .take(32)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What a sign-in gives.
#[derive(Debug, Clone)]
pub struct SignIn {
    pub user: User,
    pub first_login: bool,
    /// The session token of this API (shown once; kept only as a hash).
    pub token: String,
    /// The gateway token, on the device's platform.
    pub im_token: TokenGrant,
}

impl Service {
    fn code_hash(&self, phone: &str, code: &str) -> String {
        digest(&self.config.jwt_secret, &["sms", phone, code])
    }

    fn session_hash(&self, token: &str) -> String {
        digest(&self.config.jwt_secret, &["session", token])
    }

    /// Sends a sign-in code to a phone, within the limits.
    pub async fn send_sms_code(
        &self,
        nation_code: &str,
        phone: &str,
        client_ip: &str,
    ) -> Result<()> {
        let e164 = canonical_phone(nation_code, phone)?;
        let now = now_millis();
        let limits = &self.config.sms;
        let counts = self
            .store
            .sms_send_counts(&e164, client_ip, now - 86_400_000, now - 3_600_000)
            .await?;
        if let Some(last) = counts.last_sent_at {
            let wait = limits.resend_interval_secs * 1000 - (now - last);
            if wait > 0 {
                return Err(Error::precondition(format!(
                    "phone: a code was sent less than {} seconds ago; try again in {} seconds",
                    limits.resend_interval_secs,
                    (wait + 999) / 1000
                )));
            }
        }
        if counts.phone_sends >= limits.daily_limit {
            return Err(Error::precondition(format!(
                "phone: at most {} codes a day",
                limits.daily_limit
            )));
        }
        if counts.ip_sends >= limits.ip_hourly_limit {
            return Err(Error::precondition(format!(
                "at most {} codes an hour from one address",
                limits.ip_hourly_limit
            )));
        }
        let code = format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000));
        let nation = nation_code.trim().trim_start_matches('+');
        if let Err(why) = self.sms.send(nation, phone.trim(), &code).await {
            tracing::warn!(error = %why, "the SMS provider failed; no code kept");
            return Err(Error::precondition(
                "phone: the SMS could not be sent; try again later",
            ));
        }
        let expires_at = now + limits.code_ttl_secs * 1000;
        self.store
            .put_sms_code(
                &e164,
                client_ip,
                &self.code_hash(&e164, &code),
                expires_at,
                now,
            )
            .await
    }

    /// Signs a phone in with its code: the first time creates the user.
    pub async fn sign_in_by_sms(
        &self,
        nation_code: &str,
        phone: &str,
        check_code: &str,
        device: &str,
        device_id: &str,
    ) -> Result<SignIn> {
        let e164 = canonical_phone(nation_code, phone)?;
        let platform = device_platform(device).ok_or_else(|| {
            Error::invalid(format!(
                "device: must be web, h5, android or ios, got {device:?}"
            ))
        })?;
        confab_core::validate::max_len(Field::Ex, device_id, 128)
            .map_err(|_| Error::invalid("device_id: at most 128 characters"))?;
        let code = check_code.trim();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid("check_code: must be the 6 digits sent"));
        }
        self.admit_login(&e164)?;
        let now = now_millis();
        match self
            .store
            .check_sms_code(&e164, &self.code_hash(&e164, code), now, self.config.sms.max_attempts)
            .await?
        {
            SmsCodeCheck::Accepted => {}
            SmsCodeCheck::Wrong => return Err(Error::invalid("check_code: wrong code")),
            SmsCodeCheck::NoCode => {
                return Err(Error::precondition(
                    "check_code: no valid code for this phone (expired, used or too many attempts); request a new one",
                ))
            }
        }
        let mut template = User::new(UserId::from_trusted(String::new()), now);
        template.nickname = random_nickname();
        template.phone_number = e164.clone();
        let (user, first_login) = self.store.phone_user(&e164, &template).await?;
        let token = random_token();
        self.store
            .put_session(
                &self.session_hash(&token),
                &user.user_id,
                device,
                device_id,
                now,
            )
            .await?;
        let im_token = self.issue_token(&user.user_id, platform).await?;
        Ok(SignIn {
            user,
            first_login,
            token,
            im_token,
        })
    }

    /// The caller a session token stands for; a missing, unknown or
    /// revoked one is refused.
    pub async fn authenticate_session(&self, token: &str) -> Result<Caller> {
        if token.is_empty() {
            return Err(Error::new(ErrorKind::TokenMalformed, "token: missing"));
        }
        let (user_id, device) = self
            .store
            .get_session(&self.session_hash(token))
            .await?
            .ok_or_else(|| Error::new(ErrorKind::TokenInvalid, "token: unknown or signed out"))?;
        Ok(Caller {
            is_admin: false,
            platform: device_platform(&device).unwrap_or(Platform::Web),
            user_id,
        })
    }
}

fn random_token() -> String {
    let bytes: [u8; 16] = rand::rngs::OsRng.gen();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn random_nickname() -> String {
    const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rngs::OsRng;
    (0..6)
        .map(|_| LETTERS[rng.gen_range(0..LETTERS.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_checked_for_their_country() {
        assert_eq!(
            canonical_phone("86", "16522222222").unwrap(),
            "+8616522222222"
        );
        assert_eq!(
            canonical_phone("+86", "13800138000").unwrap(),
            "+8613800138000"
        );
        assert!(
            canonical_phone("86", "1234").is_err(),
            "too short for China"
        );
        assert!(
            canonical_phone("1", "16522222222").is_err(),
            "not a US number"
        );
        assert!(canonical_phone("86", "165-2222").is_err());
        assert!(canonical_phone("", "16522222222").is_err());
    }

    #[test]
    fn devices_map_to_platforms() {
        assert_eq!(device_platform("ios"), Some(Platform::Ios));
        assert_eq!(device_platform("android"), Some(Platform::Android));
        assert_eq!(device_platform("web"), Some(Platform::Web));
        assert_eq!(device_platform("h5"), Some(Platform::MiniWeb));
        assert_eq!(device_platform("tv"), None);
    }

    #[test]
    fn digests_are_keyed_and_distinct() {
        assert_ne!(digest(b"k", &["a", "bc"]), digest(b"k", &["ab", "c"]));
        assert_ne!(digest(b"k1", &["a"]), digest(b"k2", &["a"]));
        assert_eq!(digest(b"k", &["a"]).len(), 64);
    }
}
