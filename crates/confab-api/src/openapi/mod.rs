//! The OpenAPI contract of the HTTP dialects. Each handler's
//! `#[utoipa::path]` and its registration (`routes!`) are one statement, so
//! the document lists exactly the routes the router serves; this module
//! adds what is shared: the credentials (security schemes), the envelopes
//! and their error codes (`answers.rs`), and the schemas of shapes that
//! serde reads its own way (`shapes.rs`).
//!
//! Each operation's `security` is the table of which credential a route
//! needs: one name per kind of credential below, several names in one
//! requirement when all are needed, an empty requirement (`{}`) for an
//! open route.

mod answers;
mod shapes;

pub use answers::{AppAnswer, FileAnswer, HxAnswer, OpenImAnswer, YbAnswer};
pub use shapes::{
    either, scalar_map, string_or_integer, uint64, with_app_token, wrapped_bool, wrapped_i32,
    wrapped_string,
};

use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::OpenApi;

/// The kinds of credential, as named in each operation's `security`.
pub mod scheme {
    /// An OpenIM user token (`/auth/user_token`) in the `token` header. An
    /// admin's token is a user token too.
    pub const OPENIM_USER: &str = "openim_user";
    /// The token of a user listed in `admin_user_ids`, in the `token`
    /// header.
    pub const OPENIM_ADMIN: &str = "openim_admin";
    /// The server's `admin_secret`, in the body's `secret`.
    pub const OPENIM_SECRET: &str = "openim_secret";
    /// An Easemob app token (`/hx/getToken`), in the body's `token`.
    pub const EASEMOB_APP: &str = "easemob_app";
    /// The Easemob app's `client_id` and `client_secret`, in the body.
    pub const EASEMOB_CLIENT: &str = "easemob_client";
    /// An app API session token (`/accessuser/signinbysms`), in the
    /// `token` header.
    pub const APP_SESSION: &str = "app_session";
    /// A yunbay request signature: `X-Yf-Sign` over the request, by the
    /// app named in `X-Yf-AppId`.
    pub const YUNBAY_SIGN: &str = "yunbay_sign";
    /// A yunbay user token (`/man/account/token`) in `X-Yf-Token`.
    pub const YUNBAY_USER: &str = "yunbay_user";
    /// A caller on the trusted networks, not relayed by a proxy.
    pub const TRUSTED_NETWORK: &str = "trusted_network";

    /// Every scheme the document defines.
    pub const ALL: [&str; 9] = [
        OPENIM_USER,
        OPENIM_ADMIN,
        OPENIM_SECRET,
        EASEMOB_APP,
        EASEMOB_CLIENT,
        APP_SESSION,
        YUNBAY_SIGN,
        YUNBAY_USER,
        TRUSTED_NETWORK,
    ];
}

/// The tag of each dialect, as its operations carry it.
pub const TAGS: [(&str, &str); 4] = [
    (
        "openim",
        "OpenIM v2 admin API and the HTTP routes of OpenIM v3's client SDKs \
         (docs/openim.md, docs/openim-client.md). POST, JSON bodies, answers \
         `{errCode, errMsg, errDlt, data}`.",
    ),
    (
        "easemob",
        "The Easemob (环信) REST proxy under /hx (docs/easemob.md). POST, JSON \
         bodies carrying the app token in `token`; answers `{code, message, data}`.",
    ),
    (
        "app",
        "The app access API (docs/app.md): form-encoded bodies; answers \
         `{code, message, data, request-id}`.",
    ),
    (
        "yunbay",
        "The yunbay IM API (docs/yunbay.md): management routes under /man \
         (trusted networks, most of them signed) and the app's /v1/user/token; \
         answers `{ok, reason, data}`.",
    ),
];

/// Where a credential that OpenAPI cannot place (a body field, the
/// caller's address) really is: `x-confab-in` on its scheme.
fn placed(mut value: ApiKeyValue, location: &str) -> ApiKeyValue {
    value.extensions = Some(
        ExtensionsBuilder::new()
            .add("x-confab-in", location)
            .build(),
    );
    value
}

fn header(name: &str, description: &str) -> SecurityScheme {
    SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
        name,
        description,
    )))
}

/// A credential carried in the JSON body. OpenAPI has no body location
/// for a credential: the scheme says `header` with the body field's
/// name, `x-confab-in: body` says where it goes, and the route's body
/// schema has the field.
fn body_field(name: &str, description: &str) -> SecurityScheme {
    SecurityScheme::ApiKey(ApiKey::Header(placed(
        ApiKeyValue::with_description(name, description),
        "body",
    )))
}

fn security_schemes() -> Vec<(&'static str, SecurityScheme)> {
    use scheme::*;
    vec![
        (
            OPENIM_USER,
            header(
                "token",
                "An OpenIM user token, from /auth/user_token or /auth/user_register. \
                 Any user's token: a route acting for a user takes that user's own \
                 token, or an admin's.",
            ),
        ),
        (
            OPENIM_ADMIN,
            header(
                "token",
                "The token of an app administrator (a user listed in the server's \
                 `admin_user_ids`), from /auth/user_token.",
            ),
        ),
        (
            OPENIM_SECRET,
            body_field(
                "secret",
                "The server's `admin_secret`, in the JSON body's `secret` field.",
            ),
        ),
        (
            EASEMOB_APP,
            body_field(
                "token",
                "An Easemob app token from /hx/getToken, in the JSON body's `token` \
                 field (the proxy's spec puts it there).",
            ),
        ),
        (
            EASEMOB_CLIENT,
            body_field(
                "client_secret",
                "The app's credentials `client_id` and `client_secret` \
                 (`[easemob]` in the config), in the JSON body.",
            ),
        ),
        (
            APP_SESSION,
            header(
                "token",
                "An app API session token, from /accessuser/signinbysms.",
            ),
        ),
        (
            YUNBAY_SIGN,
            header(
                "X-Yf-Sign",
                "The SHA-1 of the request's canonical text and the app's key \
                 (docs/yunbay.md), by the app named in `X-Yf-AppId`.",
            ),
        ),
        (
            YUNBAY_USER,
            header(
                "X-Yf-Token",
                "A yunbay user token, from /man/account/token.",
            ),
        ),
        (
            TRUSTED_NETWORK,
            // The closest of OpenAPI's kinds: established by the
            // connection, not by anything the request carries.
            SecurityScheme::MutualTls {
                description: Some(
                    "No credential in the request: the caller's address must be on the \
                     server's `trusted_networks`, and the request not relayed (a \
                     `Forwarded`, `X-Forwarded-For` or `X-Real-IP` header makes it \
                     untrusted). No certificate is asked for."
                        .to_owned(),
                ),
                extensions: Some(
                    ExtensionsBuilder::new()
                        .add("x-confab-in", "peer-address")
                        .build(),
                ),
            },
        ),
    ]
}

/// The shared parts of the document: its info, the dialects' tags, the
/// security schemes and the envelopes.
pub fn complete(doc: &mut OpenApi) {
    doc.info.title = "Confab".to_owned();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc.info.description = Some(
        "The HTTP dialects of Confab, a self-hosted instant-messaging server. \
         Each operation's `security` names the credential it needs; an empty \
         requirement marks an open route. Failures are answered in the \
         dialect's envelope, mostly with HTTP 200: each response's description \
         lists the codes."
            .to_owned(),
    );
    doc.tags = Some(
        TAGS.iter()
            .map(|(name, description)| {
                TagBuilder::new()
                    .name(*name)
                    .description(Some(*description))
                    .build()
            })
            .collect(),
    );
    // One id per operation, from its path (each path has one method):
    // handlers of several dialects share names.
    for (path, item) in doc.paths.paths.iter_mut() {
        let id = operation_id(path);
        for operation in operations(item) {
            operation.operation_id = Some(id.clone());
        }
    }
    let components = doc
        .components
        .get_or_insert_with(utoipa::openapi::Components::new);
    for (name, scheme) in security_schemes() {
        components.add_security_scheme(name, scheme);
    }
    for (name, schema) in answers::envelopes() {
        components.schemas.insert(name.to_owned(), schema);
    }
}

/// `/object/upload/{id}/{part}` -> `object.upload.id.part`.
fn operation_id(path: &str) -> String {
    path.trim_start_matches('/')
        .replace(['{', '}'], "")
        .replace('/', ".")
}

fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .flatten()
}
