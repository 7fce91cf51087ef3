//! Abuse limits: how often one address may ask for credentials (tokens,
//! logins, SMS codes) or open a connection, and how often one account may
//! try to log in. GCRA limiters (`governor`), kept in memory per node: a
//! limit is a brake on guessing and flooding, not an accounting record.

use crate::Service;
use confab_core::{Error, ErrorKind, Result};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

/// The configured rates, each per minute; 0 turns a limit off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimits {
    /// Requests to credential routes (tokens, logins, SMS) from one address.
    pub credentials_per_ip: u32,
    /// Login attempts (password, SMS code) for one account.
    pub logins_per_account: u32,
    /// WebSocket connects from one address.
    pub connects_per_ip: u32,
}

/// What a limit is about, for its message.
#[derive(Debug, Clone, Copy)]
enum Subject {
    Address,
    Account,
}

/// One keyed limiter, or none when its rate is 0.
struct Keyed<K: Hash + Eq + Clone> {
    limiter: Option<DefaultKeyedRateLimiter<K>>,
    /// Checks since the last sweep of keys that are back to full.
    checks: AtomicU64,
}

/// A sweep of idle keys every so many checks keeps the maps from growing
/// with every address that ever called.
const SWEEP_EVERY: u64 = 4096;

impl<K: Hash + Eq + Clone> Keyed<K> {
    fn new(per_minute: u32) -> Keyed<K> {
        Keyed {
            limiter: NonZeroU32::new(per_minute)
                .map(|n| DefaultKeyedRateLimiter::keyed(Quota::per_minute(n))),
            checks: AtomicU64::new(0),
        }
    }

    fn check(&self, key: &K, subject: Subject, what: &str) -> Result<()> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let whose = match subject {
                Subject::Address => "from this address",
                Subject::Account => "for this account",
            };
            Error::new(
                ErrorKind::TooManyRequests,
                format!("too many requests: too many {what} {whose}; try again in {secs} s"),
            )
        })
    }
}

/// The limiters of one service.
pub(crate) struct Limiters {
    credentials: Keyed<IpAddr>,
    logins: Keyed<String>,
    connects: Keyed<IpAddr>,
}

impl Limiters {
    pub(crate) fn new(rates: RateLimits) -> Limiters {
        Limiters {
            credentials: Keyed::new(rates.credentials_per_ip),
            logins: Keyed::new(rates.logins_per_account),
            connects: Keyed::new(rates.connects_per_ip),
        }
    }
}

impl Service {
    /// The service with these abuse limits (`Service::new` starts with
    /// none: the server sets them from its config).
    pub fn with_rate_limits(mut self, rates: RateLimits) -> Service {
        self.limiters = Limiters::new(rates);
        self
    }

    /// Admits a request to a credential route (a token, a login, an SMS
    /// code) from `ip`, or refuses it as too many.
    pub fn admit_credentials_from(&self, ip: IpAddr) -> Result<()> {
        (self.limiters.credentials).check(&ip, Subject::Address, "credential requests")
    }

    /// Admits a WebSocket connect from `ip`, or refuses it as too many.
    pub fn admit_connect_from(&self, ip: IpAddr) -> Result<()> {
        (self.limiters.connects).check(&ip, Subject::Address, "connects")
    }

    /// Admits a login attempt for `account` (a user id, a phone number).
    pub(crate) fn admit_login(&self, account: &str) -> Result<()> {
        (self.limiters.logins).check(&account.to_owned(), Subject::Account, "login attempts")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_burst_then_waits_and_others_are_unaffected() {
        let limiter: Keyed<IpAddr> = Keyed::new(3);
        let (a, b) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        for _ in 0..3 {
            limiter.check(&a, Subject::Address, "connects").unwrap();
        }
        let err = limiter.check(&a, Subject::Address, "connects").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooManyRequests);
        assert_eq!(
            err.client_message(),
            "too many requests: too many connects from this address; try again in 20 s"
        );
        limiter.check(&b, Subject::Address, "connects").unwrap();
    }

    #[test]
    fn a_rate_of_zero_is_no_limit() {
        let limiter: Keyed<String> = Keyed::new(0);
        for _ in 0..10_000 {
            limiter
                .check(&"u1".to_owned(), Subject::Account, "logins")
                .unwrap();
        }
    }
}
