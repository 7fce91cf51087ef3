//! Each dialect's envelope as a schema, and the responses of its routes
//! with the error codes each kind of failure gets. The tables are made
//! from the functions the envelopes use, so they cannot drift from what
//! is sent.

use confab_core::ErrorKind;
use std::collections::BTreeMap;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::IntoResponses;

/// Every kind of failure, in the order the tables list them.
const KINDS: [ErrorKind; 12] = [
    ErrorKind::InvalidArgument,
    ErrorKind::NotFound,
    ErrorKind::Conflict,
    ErrorKind::PermissionDenied,
    ErrorKind::FailedPrecondition,
    ErrorKind::TokenMalformed,
    ErrorKind::TokenInvalid,
    ErrorKind::TokenExpired,
    ErrorKind::TokenRevoked,
    ErrorKind::TooManyRequests,
    ErrorKind::Unavailable,
    ErrorKind::Internal,
];

/// Fails to compile when a kind is added and `KINDS` does not list it.
#[allow(dead_code)]
fn every_kind_is_listed(kind: ErrorKind) -> usize {
    match kind {
        ErrorKind::InvalidArgument
        | ErrorKind::NotFound
        | ErrorKind::Conflict
        | ErrorKind::PermissionDenied
        | ErrorKind::FailedPrecondition
        | ErrorKind::TokenMalformed
        | ErrorKind::TokenInvalid
        | ErrorKind::TokenExpired
        | ErrorKind::TokenRevoked
        | ErrorKind::TooManyRequests
        | ErrorKind::Unavailable
        | ErrorKind::Internal => KINDS.len(),
    }
}

/// The status the envelopes give a failure of `kind`.
fn http_status(kind: ErrorKind) -> u16 {
    crate::envelope_status(kind).as_u16()
}

const OPENIM: &str = "openim.Envelope";
const EASEMOB: &str = "easemob.Envelope";
const APP: &str = "app.Envelope";
const APP_FILE_ERROR: &str = "app.FileError";
const YUNBAY: &str = "yunbay.Envelope";

fn typed(ty: Type, description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::new(ty))
        .description(Some(description))
        .into()
}

fn any(description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::AnyValue)
        .description(Some(description))
        .into()
}

/// A Markdown table of `kind -> code` rows.
fn table(header: &str, row: impl Fn(ErrorKind) -> String) -> String {
    let mut text = format!("{header}\n|---|---|---|\n");
    for kind in KINDS {
        text.push_str(&format!("| `{}` | {} |\n", kind.code(), row(kind)));
    }
    text
}

fn openim_codes() -> String {
    let rows = table("| failure | errCode | HTTP |", |kind| {
        let status = http_status(kind);
        format!("{} | {status}", confab_wire::err_code(kind))
    });
    format!(
        "`errCode` 0 and `errMsg` \"\" on success, with the answer in `data` (and, on \
         some v1 routes, copied to a top-level field). A failure has no `data`; its \
         `errMsg` names the field at fault and `errDlt` is the kind:\n\n{rows}"
    )
}

fn easemob_codes() -> String {
    let rows = table("| failure | code | HTTP |", |kind| {
        let code = crate::easemob::code_of(kind);
        let status = http_status(kind);
        format!("{code} | {status}")
    });
    format!(
        "`code` 200 and `message` \"请求成功\" on success, Easemob's fields in `data`. A \
         failure has `data: null` and a `message` naming the problem:\n\n{rows}"
    )
}

fn app_codes() -> String {
    let rows = table("| failure | code | HTTP |", |kind| {
        let status = http_status(kind);
        format!("{} | {status}", crate::app::error_code(kind))
    });
    format!(
        "`code` 0 and `message` \"ok\" on success, the answer in `data`; a failure has \
         `data: null`. Every answer carries `request-id` (also in the `x-request-id` \
         header):\n\n{rows}"
    )
}

fn yunbay_codes() -> String {
    let rows = table("| failure | reason | HTTP |", |kind| {
        let (reason, status) = confab_wire::yunbay::reason(kind);
        format!("`{reason}` | {status}")
    });
    format!(
        "`ok: true`, `reason` \"\" and `data` on success; a failure is `{{ok: false, \
         reason, err_msg}}`:\n\n{rows}\nBesides: a request from outside the trusted \
         networks on a /man route is `ERR_HTTP_FORBIDDEN` (403); a bad signature \
         `ERR_SIGN_ERROR` (401), an unknown `X-Yf-AppId` `ERR_ARGS_INVALID` (401)."
    )
}

/// The envelopes, as components.
pub fn envelopes() -> Vec<(&'static str, RefOr<Schema>)> {
    let openim = ObjectBuilder::new()
        .description(Some(openim_codes()))
        .property("errCode", typed(Type::Integer, "0, or the failure's code"))
        .required("errCode")
        .property("errMsg", typed(Type::String, "\"\", or what went wrong"))
        .required("errMsg")
        .property("errDlt", typed(Type::String, "the failure's kind"))
        .property("data", any("the answer"));
    let easemob = ObjectBuilder::new()
        .description(Some(easemob_codes()))
        .property("code", typed(Type::Integer, "200, or the failure's code"))
        .required("code")
        .property(
            "message",
            typed(Type::String, "\"请求成功\", or what went wrong"),
        )
        .required("message")
        .property("msg", typed(Type::String, "`message` again, on getUser"))
        .property("data", any("the answer; null on failure"))
        .required("data");
    let app_fields = |builder: ObjectBuilder| {
        builder
            .property("code", typed(Type::Integer, "0, or the failure's code"))
            .required("code")
            .property("message", typed(Type::String, "\"ok\", or what went wrong"))
            .required("message")
            .property("data", any("the answer; null on failure"))
            .required("data")
    };
    let app = app_fields(ObjectBuilder::new().description(Some(app_codes())))
        .property("request-id", typed(Type::String, "the request's id"))
        .required("request-id");
    let app_file_error = app_fields(
        ObjectBuilder::new().description(Some("A file that is not there, or a failure.")),
    );
    let yunbay = ObjectBuilder::new()
        .description(Some(yunbay_codes()))
        .property("ok", typed(Type::Boolean, "whether it succeeded"))
        .required("ok")
        .property(
            "reason",
            typed(Type::String, "\"\", or the failure's reason code"),
        )
        .required("reason")
        .property("data", any("the answer, on success"))
        .property(
            "err_msg",
            typed(Type::String, "what went wrong, on failure"),
        );
    vec![
        (OPENIM, openim.into()),
        (EASEMOB, easemob.into()),
        (APP, app.into()),
        (APP_FILE_ERROR, app_file_error.into()),
        (YUNBAY, yunbay.into()),
    ]
}

fn json(description: &str, schema: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(schema)))
                .build(),
        )
        .build()
        .into()
}

fn responses(rows: &[(u16, &str, &str)]) -> BTreeMap<String, RefOr<Response>> {
    rows.iter()
        .map(|(status, description, schema)| (status.to_string(), json(description, schema)))
        .collect()
}

/// An OpenIM route's answers.
pub struct OpenImAnswer;

impl IntoResponses for OpenImAnswer {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(&[
            (200, "The answer, or a failure (errCode != 0).", OPENIM),
            (
                500,
                "An internal error: errCode 500, errMsg \"internal error\".",
                OPENIM,
            ),
        ])
    }
}

/// An Easemob proxy route's answers.
pub struct HxAnswer;

impl IntoResponses for HxAnswer {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(&[
            (200, "The answer, or a failure (code != 200).", EASEMOB),
            (
                500,
                "An internal error: code 500, \"internal error\".",
                EASEMOB,
            ),
        ])
    }
}

/// An app API route's answers.
pub struct AppAnswer;

impl IntoResponses for AppAnswer {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(&[
            (200, "The answer, or a failure (code != 0).", APP),
            (500, "An internal error: code 500, \"internal error\".", APP),
        ])
    }
}

/// A stored file, or why there is none.
pub struct FileAnswer;

impl IntoResponses for FileAnswer {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let file = ResponseBuilder::new()
            .description(
                "The file, with its content type; cached for a year (names are never reused).",
            )
            .content("*/*", ContentBuilder::new().build())
            .build();
        let mut rows = responses(&[
            (404, "No such file (code 4).", APP_FILE_ERROR),
            (500, "An internal error.", APP_FILE_ERROR),
        ]);
        rows.insert("200".into(), file.into());
        rows
    }
}

/// A yunbay route's answers, with the HTTP status of each failure.
pub struct YbAnswer;

impl IntoResponses for YbAnswer {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(&[
            (
                200,
                "The answer, or ERR_NOT_FOUND / DATA_NOT_SUPPORT (ok: false).",
                YUNBAY,
            ),
            (
                400,
                "ERR_ARGS_INVALID: a missing or malformed argument.",
                YUNBAY,
            ),
            (
                401,
                "ERR_TOKEN_INVALID, ERR_SIGN_ERROR, or an unknown X-Yf-AppId.",
                YUNBAY,
            ),
            (
                403,
                "ERR_HTTP_FORBIDDEN: outside the trusted networks, or not allowed.",
                YUNBAY,
            ),
            (500, "ERR_SERVER_ERROR.", YUNBAY),
        ])
    }
}
