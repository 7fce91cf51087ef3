//! The proxy's envelope, its errors, and the body extractor.

use crate::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use axum::Json;
use confab_core::{Error, ErrorKind, Field};
use confab_service::Caller;
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

/// The proxy's name of each domain field.
pub fn field_name(field: Field) -> &'static str {
    match field {
        Field::User | Field::OtherUser => "username",
        Field::Users | Field::UsersToCheck | Field::UsersToDelete => "users",
        Field::FriendsToImport => "friend_username",
        Field::Recipient | Field::Recipients => "target",
        Field::Groups => "groups",
        Field::Members | Field::Invitees | Field::KickedMembers => "members",
        Field::NewOwner => "owner",
        Field::Role => "role",
        Field::Nickname => "nickname",
        Field::FaceUrl => "avatar",
        Field::PhoneNumber => "phone",
        Field::Birth => "birth",
        Field::Email => "email",
        Field::Gender => "gender",
        Field::Ex | Field::Notification | Field::Introduction => "ext",
        Field::GroupName => "name",
        Field::RequestMessage | Field::HandleMessage | Field::Remark => "reason",
        Field::ClientMessageId => "msg_id",
        Field::SenderNickname | Field::SenderFaceUrl => "from",
        Field::ContentType => "type",
        Field::Content => "msg",
        Field::SessionType => "target_type",
        Field::Mentions => "ext",
        Field::Seqs => "seqs",
        Field::ReceiveOption => "option",
        Field::MaxMembers => "maxusers",
        Field::Action => "action",
        Field::Conversations => "conversations",
        Field::Password => "password",
    }
}

/// A failure in the proxy's envelope. `renamed` names fields a route
/// spells its own way (`newpassword`).
pub struct HxError(pub Error, pub &'static [(Field, &'static str)]);

impl HxError {
    pub fn naming(renamed: &'static [(Field, &'static str)]) -> impl Fn(Error) -> HxError {
        move |e| HxError(e, renamed)
    }

    fn code(&self) -> u16 {
        code_of(self.0.kind())
    }
}

/// The proxy's `code` of a failure of `kind`.
pub fn code_of(kind: ErrorKind) -> u16 {
    match kind {
        ErrorKind::InvalidArgument | ErrorKind::Conflict | ErrorKind::FailedPrecondition => 400,
        ErrorKind::NotFound => 404,
        ErrorKind::PermissionDenied
        | ErrorKind::TokenMalformed
        | ErrorKind::TokenInvalid
        | ErrorKind::TokenExpired
        | ErrorKind::TokenRevoked => 401,
        ErrorKind::TooManyRequests => 429,
        ErrorKind::Unavailable => 503,
        ErrorKind::Internal => 500,
    }
}

impl From<Error> for HxError {
    fn from(e: Error) -> Self {
        HxError(e, &[])
    }
}

impl IntoResponse for HxError {
    fn into_response(self) -> Response {
        let code = self.code();
        if self.0.kind() == ErrorKind::Internal {
            tracing::error!(error = %self.0.log_message(), "easemob request failed");
        }
        let status = crate::envelope_status(self.0.kind());
        let renamed = self.1;
        let message = self.0.client_message_naming(|f| {
            renamed
                .iter()
                .find(|(field, _)| *field == f)
                .map(|(_, name)| *name)
                .unwrap_or_else(|| field_name(f))
        });
        let body = json!({"code": code, "message": message, "data": null});
        (status, Json(body)).into_response()
    }
}

pub type HxResult = Result<Reply, HxError>;

/// A successful answer: `{code: 200, message: "请求成功", data}` (and `msg`,
/// as the spec's getUser shows it, when asked).
pub struct Reply {
    data: Map<String, Value>,
    with_msg: bool,
}

impl Reply {
    /// `data` with the fields every answer has: `action`, `uri`,
    /// `timestamp` and `duration` (the real handling time, in ms).
    pub fn new(ctx: &Ctx, action: &str, path: &str) -> Reply {
        let mut data = Map::new();
        data.insert("action".into(), json!(action));
        data.insert("path".into(), json!(path));
        data.insert(
            "uri".into(),
            json!(format!(
                "{}/{}/{}{path}",
                ctx.base_uri, ctx.settings.org, ctx.settings.app
            )),
        );
        data.insert("timestamp".into(), json!(confab_core::now_millis()));
        let elapsed = ctx.started.elapsed().as_millis();
        data.insert("duration".into(), json!(elapsed as u64));
        Reply {
            data,
            with_msg: false,
        }
    }

    /// A `data` with only what the caller adds (the token answers).
    pub fn bare() -> Reply {
        Reply {
            data: Map::new(),
            with_msg: false,
        }
    }

    /// Adds `application`, `organization` and `applicationName`.
    pub fn with_app(mut self, ctx: &Ctx) -> Reply {
        self.data
            .insert("application".into(), json!(ctx.settings.application));
        self.data
            .insert("organization".into(), json!(ctx.settings.org));
        self.data
            .insert("applicationName".into(), json!(ctx.settings.app));
        self
    }

    pub fn with(mut self, key: &str, value: impl serde::Serialize) -> Reply {
        self.data.insert(
            key.to_owned(),
            serde_json::to_value(value).unwrap_or(Value::Null),
        );
        self
    }

    /// Also says `msg` beside `message`.
    pub fn with_msg(mut self) -> Reply {
        self.with_msg = true;
        self
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut body = json!({"code": 200, "message": "请求成功", "data": self.data});
        if self.with_msg {
            body["msg"] = json!("请求成功");
        }
        Json(body).into_response()
    }
}

/// What every handler needs to answer: when the request started, the
/// proxy's settings, and the base of its `uri` fields.
pub struct Ctx {
    pub started: std::time::Instant,
    pub settings: std::sync::Arc<super::EasemobSettings>,
    pub base_uri: String,
}

/// Reads a JSON object body (refusing a NUL anywhere) and starts the
/// request's clock.
async fn read_body(req: Request, state: &AppState) -> Result<(Value, Ctx), HxError> {
    let started = std::time::Instant::now();
    let host = req
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_owned();
    let bytes = Bytes::from_request(req, state)
        .await
        .map_err(|e| HxError::from(Error::invalid(format!("request body: {}", e.body_text()))))?;
    let body = crate::body::json_object(&bytes)?;
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| HxError::from(Error::invalid(format!("request body: {e}"))))?;
    let ctx = Ctx {
        started,
        settings: state.easemob.clone(),
        base_uri: format!("http://{host}"),
    };
    Ok((value, ctx))
}

/// The route's shape of a body; a wrong type or a missing field is a 400
/// naming the field.
fn shape<T: DeserializeOwned>(value: Value) -> Result<T, HxError> {
    serde_path_to_error::deserialize(value).map_err(|e| HxError::from(crate::body::shape_error(e)))
}

/// A JSON body of a route that needs no token (`getToken`, `userToken`).
pub struct Hx<T>(pub T, pub Ctx);

impl<T: DeserializeOwned> FromRequest<AppState> for Hx<T> {
    type Rejection = HxError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (value, ctx) = read_body(req, state).await?;
        Ok(Hx(shape(value)?, ctx))
    }
}

/// A JSON body carrying an app token in `token`, and the caller it stands
/// for. The token is checked before the body's shape, so a caller without
/// one learns nothing of what the route expects.
pub struct AppHx<T>(pub Caller, pub T, pub Ctx);

impl<T: DeserializeOwned> FromRequest<AppState> for AppHx<T> {
    type Rejection = HxError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (value, ctx) = read_body(req, state).await?;
        let token = value.get("token").and_then(Value::as_str).unwrap_or("");
        let caller = state.service.authenticate_app(token)?;
        Ok(AppHx(caller, shape(value)?, ctx))
    }
}
