//! The app's account service, where the yunbay API refreshes profiles
//! from: `GET URL?user_id=N` answering `{"ok": true, "data": {"user_id",
//! "username", "avatar", "birthday", "user_type"}}` (`docs/yunbay.md`).
//! No answer in time, or an answer of another shape, is `Unavailable`
//! and changes nothing.

use confab_core::{Error, ErrorKind, Result};
use confab_service::{AppProfile, ProfileSource};
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;

pub struct HttpProfiles {
    url: String,
    timeout: Duration,
    http: reqwest::Client,
}

impl HttpProfiles {
    pub fn new(url: String, timeout: Duration) -> anyhow::Result<HttpProfiles> {
        let http = reqwest::Client::builder().timeout(timeout).build()?;
        Ok(HttpProfiles { url, timeout, http })
    }

    /// A failed request or read: late, or not reached.
    fn failed(&self, e: &reqwest::Error, otherwise: &str) -> Error {
        if e.is_timeout() {
            unavailable(format!(
                "the account service did not answer within {} ms",
                self.timeout.as_millis()
            ))
        } else {
            unavailable(otherwise.to_owned())
        }
    }
}

#[derive(Deserialize)]
struct Answer {
    ok: bool,
    #[serde(default)]
    reason: String,
    data: Option<Profile>,
}

#[derive(Deserialize)]
struct Profile {
    user_id: i64,
    username: Option<String>,
    avatar: Option<String>,
    /// A date as text, or a number.
    birthday: Option<Value>,
    user_type: Option<i64>,
}

fn unavailable(message: String) -> Error {
    Error::new(ErrorKind::Unavailable, message)
}

#[async_trait::async_trait]
impl ProfileSource for HttpProfiles {
    async fn profile(&self, number: i64) -> Result<AppProfile> {
        let response = self
            .http
            .get(&self.url)
            .query(&[("user_id", number)])
            .send()
            .await
            .map_err(|e| self.failed(&e, "the account service cannot be reached"))?;
        let status = response.status();
        if !status.is_success() {
            return Err(unavailable(format!(
                "the account service answered HTTP {}",
                status.as_u16()
            )));
        }
        let answer: Answer = response
            .json()
            .await
            .map_err(|e| self.failed(&e, "the account service's answer is not {ok, data} JSON"))?;
        if !answer.ok {
            return Err(
                if answer.reason.contains("NOT_FOUND") || answer.reason.contains("NOT_EXIST") {
                    Error::not_found(format!("the account service does not know user {number}"))
                } else {
                    unavailable(format!("the account service refused: {}", answer.reason))
                },
            );
        }
        let profile = answer
            .data
            .ok_or_else(|| unavailable("the account service's answer has no data".to_owned()))?;
        if profile.user_id != number {
            return Err(unavailable(format!(
                "the account service answered for user {} instead",
                profile.user_id
            )));
        }
        let birthday = match profile.birthday {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(_) => {
                return Err(unavailable(
                    "the account service's birthday is neither text nor a number".to_owned(),
                ))
            }
        };
        Ok(AppProfile {
            username: profile.username,
            avatar: profile.avatar,
            birthday,
            user_type: profile.user_type,
        })
    }
}
