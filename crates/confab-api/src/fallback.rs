//! The answers to requests no route takes: an unknown path, or a known path
//! with the wrong method. Each is given in the envelope of the dialect the
//! path's prefix belongs to, from one place, since axum lets only one
//! router own a fallback.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// The dialect a path belongs to, by its prefix. The paths of the four
/// dialects do not collide; everything else is OpenIM's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    OpenIm,
    Easemob,
    Yunbay,
    App,
}

impl Dialect {
    pub fn of(path: &str) -> Dialect {
        let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
        match first {
            "hx" => Dialect::Easemob,
            "man" | "v1" => Dialect::Yunbay,
            "sms" | "accessuser" | "relation" => Dialect::App,
            _ => Dialect::OpenIm,
        }
    }

    /// The dialect's error envelope for `status` with `message`.
    fn error(self, status: StatusCode, message: String) -> Response {
        let body = match self {
            // The Easemob proxy's envelope: `code` is the HTTP-like status.
            Dialect::Easemob => json!({"code": status.as_u16(), "message": message, "data": null}),
            // yunbay answers `{ok, reason}` with a reason code.
            Dialect::Yunbay => {
                let reason = if status == StatusCode::NOT_FOUND {
                    "ERR_NOT_FOUND"
                } else {
                    "ERR_ARGS_INVALID"
                };
                confab_wire::yunbay::failure(reason, &message)
            }
            // The app API: `code` 0 is success, 1 a failure.
            Dialect::App => json!({"code": 1, "message": message, "data": null}),
            // OpenIM's envelope, with the HTTP status as errCode.
            Dialect::OpenIm => json!({"errCode": status.as_u16(), "errMsg": message}),
        };
        (status, Json(body)).into_response()
    }

    /// `e` in the dialect's error envelope, as its routes answer it.
    pub fn refuse(self, e: confab_core::Error) -> Response {
        match self {
            Dialect::OpenIm => crate::openim::ApiError::from(e).into_response(),
            Dialect::Easemob => crate::easemob::HxError::from(e).into_response(),
            Dialect::Yunbay => crate::yunbay::YbError::from(e).into_response(),
            Dialect::App => crate::app::AppError::from(e).into_response(),
        }
    }

    pub fn no_route(self, path: &str) -> Response {
        self.error(StatusCode::NOT_FOUND, format!("no such route: {path}"))
    }

    pub fn wrong_method(self, path: &str) -> Response {
        self.error(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{path}: method not allowed (this route takes POST)"),
        )
    }
}

/// The router's fallback: an unknown path.
pub async fn no_route(uri: axum::http::Uri) -> Response {
    let path = uri.path();
    Dialect::of(path).no_route(path)
}

/// Gives axum's bare 405 (a known path, another method) the dialect's
/// envelope.
pub async fn method_envelope(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let response = next.run(req).await;
    if response.status() == StatusCode::METHOD_NOT_ALLOWED {
        let mut answer = Dialect::of(&path).wrong_method(&path);
        // Keep the methods the route takes (RFC 9110 asks for them).
        if let Some(allow) = response.headers().get(axum::http::header::ALLOW) {
            answer
                .headers_mut()
                .insert(axum::http::header::ALLOW, allow.clone());
        }
        return answer;
    }
    response
}

#[cfg(test)]
mod tests {
    use super::Dialect;

    #[test]
    fn prefixes() {
        assert_eq!(Dialect::of("/hx/getToken"), Dialect::Easemob);
        assert_eq!(Dialect::of("/man/account/token"), Dialect::Yunbay);
        assert_eq!(Dialect::of("/v1/user/token"), Dialect::Yunbay);
        assert_eq!(Dialect::of("/sms/send"), Dialect::App);
        assert_eq!(Dialect::of("/accessuser/signinbysms"), Dialect::App);
        assert_eq!(Dialect::of("/relation/follow"), Dialect::App);
        assert_eq!(Dialect::of("/user/get_users_info"), Dialect::OpenIm);
        assert_eq!(Dialect::of("/hxx/a"), Dialect::OpenIm);
        assert_eq!(Dialect::of("/"), Dialect::OpenIm);
    }
}
