//! The yunbay API's routes (`docs/yunbay.md`).

use super::envelope::{Reply, Signed, Trusted, YbError, YbResult};
use crate::openapi::YbAnswer;
use crate::AppState;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use confab_core::presence::SessionFilter;
use confab_core::{Error, Field};
use confab_service::{numbered_user_id, AppProfile, Audience, Notification};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Instant;
use utoipa::{IntoParams, ToSchema};

/// The query string as `T`; a missing or malformed argument is
/// `ERR_ARGS_INVALID`.
fn query<T: DeserializeOwned>(raw: Option<String>) -> Result<T, YbError> {
    serde_urlencoded::from_str(raw.as_deref().unwrap_or(""))
        .map_err(|e| YbError::from(Error::invalid(format!("query: {e}"))))
}

/// Go's way of printing a duration (`850µs`, `84.2ms`, `2.25s`,
/// `1m30.5s`), as the original's `tick`.
fn tick(started: Instant) -> String {
    go_duration(started.elapsed().as_nanos())
}

fn go_duration(nanos: u128) -> String {
    // The whole number and its fraction, trailing zeros dropped.
    fn decimal(value: u128, unit: u128, suffix: &str) -> String {
        let whole = value / unit;
        let fraction = value % unit;
        if fraction == 0 {
            return format!("{whole}{suffix}");
        }
        let digits = unit.ilog10() as usize;
        let fraction = format!("{fraction:0digits$}");
        format!("{whole}.{}{suffix}", fraction.trim_end_matches('0'))
    }
    const SECOND: u128 = 1_000_000_000;
    match nanos {
        0 => "0s".to_owned(),
        n if n < 1_000 => format!("{n}ns"),
        n if n < 1_000_000 => decimal(n, 1_000, "µs"),
        n if n < SECOND => decimal(n, 1_000_000, "ms"),
        n if n < 60 * SECOND => decimal(n, SECOND, "s"),
        n if n < 3600 * SECOND => format!(
            "{}m{}",
            n / (60 * SECOND),
            decimal(n % (60 * SECOND), SECOND, "s")
        ),
        n => format!(
            "{}h{}m{}",
            n / (3600 * SECOND),
            n % (3600 * SECOND) / (60 * SECOND),
            decimal(n % (60 * SECOND), SECOND, "s")
        ),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserIdQuery {
    /// The user's number.
    user_id: i64,
}

/// `GET /man/account/token?user_id=N`: a user token (`X-Yf-Token`) for an
/// existing user.
#[utoipa::path(get, path = "/man/account/token", tag = "yunbay",
    params(UserIdQuery), security(("trusted_network" = [])), responses(YbAnswer))]
pub async fn account_token(
    State(s): State<AppState>,
    Trusted(caller): Trusted,
    RawQuery(raw): RawQuery,
) -> YbResult {
    let q: UserIdQuery = query(raw)?;
    let id = numbered_user_id(q.user_id)?;
    let token = s.service.issue_user_token(&caller, &id).await?;
    Ok(Reply(json!({
        "user_id": q.user_id,
        "token": token.token,
        "expires_at": token.expires_at / 1000,
    })))
}

/// `GET /v1/user/token` (signed, with `X-Yf-Token`): a gateway token for
/// the user and their account id.
#[utoipa::path(get, path = "/v1/user/token", tag = "yunbay",
    params(
        ("X-Yf-AppId" = String, Header, description = "The signing app's id"),
        ("X-Yf-Platform" = Option<String>, Header, description = "The device's platform (ios, android, web, ...)"),
    ),
    security(("yunbay_sign" = [], "yunbay_user" = [])), responses(YbAnswer))]
pub async fn im_token(State(s): State<AppState>, signed: Signed) -> YbResult {
    let grant = s.service.gateway_token(&signed.caller).await?;
    Ok(Reply(json!({
        "im_token": grant.token,
        "accid": grant.user_id.to_string(),
    })))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = yunbay::RegisterIn)]
struct RegisterIn {
    user_id: i64,
}

/// `POST /man/user/register {"user_id": N}`: the IM account of user N,
/// created if needed, with a gateway token.
#[utoipa::path(post, path = "/man/user/register", tag = "yunbay",
    params(
        ("X-Yf-AppId" = String, Header, description = "The signing app's id"),
        ("X-Yf-Platform" = Option<String>, Header, description = "The platform of the token's device"),
    ),
    request_body = RegisterIn,
    security(("trusted_network" = [], "yunbay_sign" = [])), responses(YbAnswer))]
pub async fn register(State(s): State<AppState>, headers: HeaderMap, signed: Signed) -> YbResult {
    let req: RegisterIn = signed.json()?;
    let platform = confab_wire::yunbay::platform(
        headers
            .get("x-yf-platform")
            .and_then(|v| v.to_str().ok())
            .unwrap_or(""),
    );
    let (user, grant) = s
        .service
        .register_numbered_user(&signed.caller, req.user_id, platform)
        .await?;
    Ok(Reply(json!({
        "user_id": req.user_id,
        "accid": user.user_id.to_string(),
        "im_token": grant.token,
    })))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = yunbay::UpdateIn)]
struct UpdateIn {
    user_id: i64,
    username: Option<String>,
    avatar: Option<String>,
    birthday: Option<String>,
    user_type: Option<i64>,
}

/// `POST /man/user/info/update {"user_id": N, ...}`: refreshes the
/// profile, from the account service when one is configured.
#[utoipa::path(post, path = "/man/user/info/update", tag = "yunbay",
    params(("X-Yf-AppId" = String, Header, description = "The signing app's id")),
    request_body = UpdateIn,
    security(("trusted_network" = [], "yunbay_sign" = [])), responses(YbAnswer))]
pub async fn update_info(State(s): State<AppState>, signed: Signed) -> YbResult {
    let req: UpdateIn = signed.json()?;
    let given = AppProfile {
        username: req.username,
        avatar: req.avatar,
        birthday: req.birthday,
        user_type: req.user_type,
    };
    s.service
        .refresh_profile(&signed.caller, req.user_id, &given)
        .await?;
    Ok(Reply(json!({})))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct UpdateAllQuery {
    /// The first user number of the page (default 0).
    #[serde(default)]
    start_user_id: i64,
}

/// `GET /man/user/info/update/all?start_user_id=N`: one page of the
/// refresh of every user from N on; `next_user_id` resumes it (null when
/// done).
#[utoipa::path(get, path = "/man/user/info/update/all", tag = "yunbay",
    params(
        UpdateAllQuery,
        ("X-Yf-AppId" = String, Header, description = "The signing app's id"),
    ),
    security(("trusted_network" = [], "yunbay_sign" = [])), responses(YbAnswer))]
pub async fn update_all(
    State(s): State<AppState>,
    RawQuery(raw): RawQuery,
    signed: Signed,
) -> YbResult {
    let started = Instant::now();
    let q: UpdateAllQuery = query(raw)?;
    let page = s
        .service
        .refresh_profiles(&signed.caller, q.start_user_id)
        .await?;
    Ok(Reply(json!({
        "updated": page.updated,
        "next_user_id": page.next,
        "tick": tick(started),
    })))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct InfoQuery {
    /// User numbers, comma-separated.
    #[param(pattern = r"^ *[0-9]{1,18}( *, *[0-9]{1,18})* *$")]
    user_ids: String,
}

/// `GET /man/user/info?user_ids=a,b`: the profiles of those that exist.
#[utoipa::path(get, path = "/man/user/info", tag = "yunbay",
    params(
        InfoQuery,
        ("X-Yf-AppId" = String, Header, description = "The signing app's id"),
    ),
    security(("trusted_network" = [], "yunbay_sign" = [])), responses(YbAnswer))]
pub async fn info(State(s): State<AppState>, RawQuery(raw): RawQuery, signed: Signed) -> YbResult {
    let q: InfoQuery = query(raw)?;
    let numbers = q
        .user_ids
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| {
            n.parse::<i64>().map_err(|_| {
                YbError::from(Error::invalid(format!("user_ids: {n:?} is not a number")))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let users = s
        .service
        .numbered_profiles(&signed.caller, &numbers)
        .await?;
    let infos: Vec<Value> = users
        .iter()
        .map(|u| {
            json!({
                "accid": u.user_id.to_string(),
                "name": u.nickname,
                "icon": u.face_url,
                "birth": u.birth,
                "ex": u.ex,
            })
        })
        .collect();
    Ok(Reply(Value::Array(infos)))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = yunbay::SendIn)]
struct SendIn {
    /// The notification's type, the app's own.
    #[serde(rename = "type", default)]
    kind: i64,
    /// The users (numbers) it is for; `[]`: everyone.
    to: Vec<i64>,
    /// The app's own id of the notification: the server gives its own.
    #[serde(default)]
    #[allow(dead_code)]
    id: Value,
    /// What the notification is (absent or empty is refused).
    #[serde(default)]
    #[schema(required = true, min_length = 1, max_length = 64)]
    action: String,
    /// Its payload, any JSON.
    #[serde(default)]
    data: Value,
    /// Whether clients must acknowledge it.
    #[serde(default)]
    ack: bool,
    /// Only the sessions whose attributes match every pair (strings,
    /// numbers or booleans).
    #[serde(default)]
    #[schema(schema_with = crate::openapi::scalar_map)]
    filter: Option<serde_json::Map<String, Value>>,
}

/// A broadcast filter's values as text: strings as they are, numbers and
/// booleans as JSON writes them.
fn session_filter(filter: serde_json::Map<String, Value>) -> Result<SessionFilter, YbError> {
    filter
        .into_iter()
        .map(|(name, value)| match value {
            Value::String(s) => Ok((name, s)),
            Value::Number(_) | Value::Bool(_) => Ok((name, value.to_string())),
            _ => Err(YbError::from(Error::invalid(format!(
                "filter.{name}: must be a string, a number or a boolean"
            )))),
        })
        .collect::<Result<_, _>>()
        .map(SessionFilter)
}

/// How `/man/msg/send` names its users.
const TO: &[(Field, &str)] = &[(Field::Users, "to"), (Field::User, "to")];

/// `POST /man/msg/send`: a system notification to the listed users, or
/// (`to: []`) to everyone.
#[utoipa::path(post, path = "/man/msg/send", tag = "yunbay",
    request_body = SendIn,
    security(("trusted_network" = [])), responses(YbAnswer))]
pub async fn send(
    State(s): State<AppState>,
    Trusted(caller): Trusted,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> YbResult {
    // A body past the bound, in the envelope (axum's answer is plain text).
    let body = body.map_err(|e| Error::invalid(format!("request body: {}", e.body_text())))?;
    let req: SendIn = crate::body::parse_object(&body)?;
    let audience = if req.to.is_empty() {
        Audience::All
    } else {
        Audience::Users(
            req.to
                .iter()
                .map(|n| numbered_user_id(*n))
                .collect::<Result<_, _>>()
                .map_err(YbError::naming(TO))?,
        )
    };
    let notification = Notification {
        action: req.action,
        payload: req.data,
        kind: req.kind,
        ack: req.ack,
        filter: req.filter.map(session_filter).transpose()?,
    };
    let outcome = s
        .service
        .notify(&caller, &audience, &notification)
        .await
        .map_err(YbError::naming(TO))?;
    // Sent to some: say to whom it failed, so that only they are retried
    // (a retry of all would send the others a second one).
    let failed: Vec<i64> = outcome
        .users
        .iter()
        .zip(&outcome.results)
        .filter(|(_, r)| r.is_err())
        .filter_map(|(u, _)| u.numeric())
        .collect();
    if let Some(Err(e)) = outcome.results.iter().find(|r| r.is_err()) {
        if outcome.results.iter().all(|r| r.is_err()) {
            return Err(e.clone().into());
        }
    }
    let mut data = json!({"id": outcome.id});
    if !failed.is_empty() {
        data["failed"] = json!(failed);
    }
    Ok(Reply(data))
}

#[cfg(test)]
mod tests {
    use super::go_duration;

    #[test]
    fn durations_as_go_prints_them() {
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(999), "999ns");
        assert_eq!(go_duration(850_000), "850µs");
        assert_eq!(go_duration(84_200_000), "84.2ms");
        assert_eq!(go_duration(2_250_000_000), "2.25s");
        assert_eq!(go_duration(90_500_000_000), "1m30.5s");
        assert_eq!(go_duration(3_600_000_000_000), "1h0m0s");
    }
}
