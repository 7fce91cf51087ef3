//! IM signatures: the app server approves an action on some members (today
//! `conv.create`, a new conversation) with a short-lived JWT that the
//! gateway checks before acting. Its claims: `aud` (the user, a number),
//! `act`, `members` (the MD5 of the members as a compact JSON array of
//! strings sorted by numeric value: 7 and 6 give `md5('["6","7"]')`) and
//! `exp`.

use crate::auth::Caller;
use crate::groups::{GroupInfo, NewGroup};
use crate::Service;
use confab_core::model::{GroupPatch, Role};
use confab_core::{now_millis, Error, ErrorKind, Result, UserId};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

/// How long a signature is good for, in seconds.
pub const SIGNATURE_TTL_SECS: i64 = 600;
/// The action that creates a conversation.
pub const CREATE_CONVERSATION: &str = "conv.create";
/// Most members one signature names.
const MAX_SIGNED_MEMBERS: usize = 1000;

#[derive(Debug, Serialize, Deserialize)]
struct SignatureClaims {
    aud: i64,
    act: String,
    members: String,
    exp: i64,
}

/// The members as numbers: deduplicated, sorted ascending.
fn member_numbers(members: &[String]) -> Result<Vec<i64>> {
    if members.is_empty() {
        return Err(Error::invalid("members: must not be empty"));
    }
    if members.len() > MAX_SIGNED_MEMBERS {
        return Err(Error::invalid(format!(
            "members: at most {MAX_SIGNED_MEMBERS}"
        )));
    }
    let mut numbers = members
        .iter()
        .map(|m| {
            confab_core::ids::numeric_id(m.trim())
                .ok_or_else(|| Error::invalid(format!("members: {m:?} is not a user id number")))
        })
        .collect::<Result<Vec<i64>>>()?;
    numbers.sort_unstable();
    numbers.dedup();
    Ok(numbers)
}

/// The `members` claim: lowercase hex MD5 of `["6","7"]`-style JSON.
pub fn members_digest(sorted: &[i64]) -> String {
    let strings: Vec<String> = sorted.iter().map(i64::to_string).collect();
    let json = serde_json::to_string(&strings).unwrap_or_default();
    Md5::digest(json.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Service {
    fn caller_number(&self, caller: &Caller) -> Result<i64> {
        caller.user_id.numeric().ok_or_else(|| {
            Error::denied("signatures are for users whose id is a number (signed in by SMS)")
        })
    }

    /// Signs `act` on `members` for the caller, good for ten minutes.
    pub fn sign_action(&self, caller: &Caller, act: &str, members: &[String]) -> Result<String> {
        if act.is_empty() || act.len() > 64 {
            return Err(Error::invalid("act: 1 to 64 characters"));
        }
        let claims = SignatureClaims {
            aud: self.caller_number(caller)?,
            act: act.to_owned(),
            members: members_digest(&member_numbers(members)?),
            exp: now_millis() / 1000 + SIGNATURE_TTL_SECS,
        };
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&self.config.jwt_secret),
        )
        .map_err(Error::internal)
    }

    fn check_signature(
        &self,
        caller: &Caller,
        act: &str,
        members: &[i64],
        signature: &str,
    ) -> Result<()> {
        let refused = |why: &str| Error::new(ErrorKind::TokenInvalid, format!("signature: {why}"));
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        // `aud` is a number here, which the library's check cannot read.
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp"]);
        let claims = decode::<SignatureClaims>(
            signature,
            &DecodingKey::from_secret(&self.config.jwt_secret),
            &validation,
        )
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                Error::new(ErrorKind::TokenExpired, "signature: expired")
            }
            _ => refused("not a signature of this server"),
        })?
        .claims;
        if claims.aud != self.caller_number(caller)? {
            return Err(refused("signed for another user"));
        }
        if claims.act != act {
            return Err(refused("signed for another action"));
        }
        if claims.members != members_digest(members) {
            return Err(refused("signed for other members"));
        }
        Ok(())
    }

    /// Creates a conversation (a group owned by the caller with `members`)
    /// that the app approved with a `conv.create` signature.
    pub async fn create_signed_conversation(
        &self,
        caller: &Caller,
        members: &[String],
        name: &str,
        signature: &str,
    ) -> Result<GroupInfo> {
        let numbers = member_numbers(members)?;
        self.check_signature(caller, CREATE_CONVERSATION, &numbers, signature)?;
        let members: Vec<(UserId, Role)> = numbers
            .iter()
            .map(|n| (UserId::from_trusted(n.to_string()), Role::Member))
            .filter(|(id, _)| *id != caller.user_id)
            .collect();
        self.create_group(
            caller,
            NewGroup {
                group_id: None,
                owner: caller.user_id.clone(),
                group_type: 0,
                info: GroupPatch {
                    group_name: (!name.is_empty()).then(|| name.to_owned()),
                    ..Default::default()
                },
                members,
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_of_the_spec() {
        let sorted = member_numbers(&["7".into(), "6".into(), "7".into()]).unwrap();
        assert_eq!(sorted, [6, 7]);
        assert_eq!(members_digest(&sorted), "4da3203c3552dab1c183da893a483ede");
        // Sorted by value, not as text.
        let sorted = member_numbers(&["10".into(), "9".into()]).unwrap();
        assert_eq!(sorted, [9, 10]);
        assert!(member_numbers(&["x".into()]).is_err());
        assert!(member_numbers(&[]).is_err());
    }
}
