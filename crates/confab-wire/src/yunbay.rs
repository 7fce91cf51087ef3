//! The yunbay API's vocabulary, shared by its HTTP dialect and its
//! WebSocket codec (`docs/yunbay.md`): platform names, reason codes, and
//! the frames of `/v1/ws`.

use confab_core::{ErrorKind, Platform};
use serde::{Deserialize, Serialize};

/// The Confab platform of an `X-Yf-Platform` value. Names it does not know
/// (the spec's `test`, none at all) are the web platform: one such session
/// per user, like a browser tab.
pub fn platform(name: &str) -> Platform {
    match name.trim().to_ascii_lowercase().as_str() {
        "ios" | "iphone" => Platform::Ios,
        "android" => Platform::Android,
        "windows" | "pc" => Platform::Windows,
        "mac" | "osx" | "macos" => Platform::Osx,
        "linux" => Platform::Linux,
        "h5" | "miniweb" => Platform::MiniWeb,
        "ipad" => Platform::IPad,
        "apad" => Platform::APad,
        _ => Platform::Web,
    }
}

/// The reason code and HTTP status of a failure. `ERR_SIGN_ERROR` and the
/// unknown app's `ERR_ARGS_INVALID` (both 401) are given by the signature
/// check itself, which knows which it is.
pub fn reason(kind: ErrorKind) -> (&'static str, u16) {
    match kind {
        ErrorKind::InvalidArgument => ("ERR_ARGS_INVALID", 400),
        ErrorKind::NotFound => ("ERR_NOT_FOUND", 200),
        ErrorKind::Conflict => ("ERR_ARGS_INVALID", 400),
        ErrorKind::PermissionDenied => ("ERR_HTTP_FORBIDDEN", 403),
        ErrorKind::FailedPrecondition => ("DATA_NOT_SUPPORT", 200),
        ErrorKind::TokenMalformed
        | ErrorKind::TokenInvalid
        | ErrorKind::TokenExpired
        | ErrorKind::TokenRevoked => ("ERR_TOKEN_INVALID", 401),
        ErrorKind::TooManyRequests => ("ERR_TOO_MANY_REQUESTS", 429),
        ErrorKind::Unavailable | ErrorKind::Internal => ("ERR_SERVER_ERROR", 500),
    }
}

/// The body of a failure, on HTTP and on `/v1/ws`:
/// `{"ok": false, "reason", "err_msg"}`.
pub fn failure(reason: &str, message: &str) -> serde_json::Value {
    serde_json::json!({"ok": false, "reason": reason, "err_msg": message})
}

/// A notification pushed on `/v1/ws`: `{id, type, action, data, ack}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Push<'a> {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: i64,
    pub action: &'a str,
    pub data: &'a serde_json::Value,
    pub ack: bool,
}

/// A frame from a `/v1/ws` client: `{"action": "ack", "id": N}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ClientFrame {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub id: Option<i64>,
}

/// The action of a client's ack.
pub const ACK: &str = "ack";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_names() {
        assert_eq!(platform("ios"), Platform::Ios);
        assert_eq!(platform("Android"), Platform::Android);
        assert_eq!(platform("web"), Platform::Web);
        assert_eq!(platform("test"), Platform::Web);
        assert_eq!(platform(""), Platform::Web);
    }
}
