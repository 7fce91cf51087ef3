//! Requests an app server signs with its app's key (the yunbay API's
//! `X-Yf-Sign`). The dialect reduces a request to its canonical text (its
//! wire format decides what that is); this checks that the signature is
//! the SHA-1 of that text followed by the key of the app it names.

use crate::auth::{secrets_match, Caller};
use crate::Service;
use confab_core::{Error, ErrorKind, Platform, Result};
use sha1::{Digest, Sha1};

/// Lowercase hex SHA-1.
pub fn sha1_hex(data: &[u8]) -> String {
    format!("{:x}", Sha1::digest(data))
}

impl Service {
    /// The caller a signed request stands for: the app server, acting as
    /// the system user with app-admin rights. `canonical` is the request's
    /// canonical text without the key; `signature` what the request
    /// carries. An unknown app is `TokenMalformed`, a missing or wrong
    /// signature `TokenInvalid`; the dialect names the app id and the
    /// signature in its own words.
    pub fn authenticate_signed(
        &self,
        app_id: &str,
        canonical: &str,
        signature: &str,
    ) -> Result<Caller> {
        let settings = &self.config.signed_api;
        let key = settings
            .signing_keys
            .get(app_id)
            .ok_or_else(|| Error::new(ErrorKind::TokenMalformed, "no such app"))?;
        if signature.is_empty() {
            return Err(Error::new(ErrorKind::TokenInvalid, "missing"));
        }
        let debug = settings
            .debug_signature
            .as_deref()
            .is_some_and(|d| secrets_match(signature, d));
        let expected = sha1_hex(format!("{canonical}\n{key}").as_bytes());
        if !debug && !secrets_match(&signature.to_ascii_lowercase(), &expected) {
            return Err(Error::new(
                ErrorKind::TokenInvalid,
                "does not match the request",
            ));
        }
        Ok(self.app_server_caller())
    }

    /// The caller of a management request that needs no signature, from a
    /// caller the dialect found on a trusted network.
    pub fn trusted_app_caller(&self) -> Caller {
        self.app_server_caller()
    }

    /// The app server: the system user with app-admin rights. Its user row
    /// is not created here: the yunbay API numbers its users itself, and a
    /// system user would take one of their numbers.
    fn app_server_caller(&self) -> Caller {
        Caller {
            user_id: self.config.system_user_id.clone(),
            platform: Platform::APad,
            is_admin: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sha1_hex;

    #[test]
    fn sha1_of_the_empty_string() {
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    }
}
