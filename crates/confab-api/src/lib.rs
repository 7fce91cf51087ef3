//! Confab's HTTP dialects. Each module translates one API's wire shapes to
//! service calls and back, and maps domain errors to its own envelope. No
//! dialect touches storage.

pub mod app;
mod batch;
mod body;
pub mod easemob;
pub mod fallback;
pub mod limits;
pub mod openapi;
pub mod openim;
pub mod yunbay;

use axum::Router;
use confab_service::Service;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;

/// Shared state of every route.
#[derive(Clone)]
pub struct AppState {
    pub service: Arc<Service>,
    /// Callers from these networks are trusted (the Easemob proxy's
    /// `getToken` needs no credentials from them).
    pub trusted_networks: Arc<Vec<ipnet::IpNet>>,
    pub easemob: Arc<easemob::EasemobSettings>,
}

/// What the dialects need besides the service.
#[derive(Clone)]
pub struct ApiSettings {
    pub trusted_networks: Vec<ipnet::IpNet>,
    pub easemob: easemob::EasemobSettings,
}

impl AppState {
    /// Whether a caller at `peer` is on the trusted networks. A request
    /// relayed by a proxy comes from the proxy's address, not its
    /// sender's: it is never trusted by address.
    pub(crate) fn trusts(
        &self,
        peer: &std::net::SocketAddr,
        headers: &axum::http::HeaderMap,
    ) -> bool {
        self.client_address(*peer, headers).trusted
    }

    /// The caller behind `peer` (`confab_wire::peer::client_address`).
    pub(crate) fn client_address(
        &self,
        peer: std::net::SocketAddr,
        headers: &axum::http::HeaderMap,
    ) -> confab_wire::peer::ClientAddress {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        confab_wire::peer::client_address(peer, header, &self.trusted_networks)
    }
}

/// The HTTP status of a failure in the OpenIM, Easemob and app envelopes:
/// 200, as their clients read the envelope's code, but for an internal
/// error and a rate limit, which proxies and clients should see too.
/// (yunbay gives each reason its own status: `confab_wire::yunbay::reason`.)
pub fn envelope_status(kind: confab_core::ErrorKind) -> axum::http::StatusCode {
    use axum::http::StatusCode;
    match kind {
        confab_core::ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        confab_core::ErrorKind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::OK,
    }
}

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Every dialect's routes, each with its operation in the OpenAPI
/// document: registering a route documents it. `max_upload` bounds an
/// avatar upload (`app::router`).
pub fn routes(max_upload: usize) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(openim::router())
        .merge(easemob::router())
        .merge(app::router(max_upload))
        .merge(yunbay::router())
}

/// The OpenAPI document of every dialect's routes.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    // The bound of an upload is not in the document.
    let (_, mut doc) = routes(0).split_for_parts();
    openapi::complete(&mut doc);
    doc
}

/// All dialects on one router (their paths do not collide), and the
/// OpenAPI document of its routes.
pub fn router(service: Arc<Service>, settings: ApiSettings) -> (Router, utoipa::openapi::OpenApi) {
    let settings_max_upload = service.avatar_max_bytes();
    let state = AppState {
        service,
        trusted_networks: Arc::new(settings.trusted_networks),
        easemob: Arc::new(settings.easemob),
    };
    let (router, mut doc) = routes(settings_max_upload).split_for_parts();
    openapi::complete(&mut doc);
    let router = router
        .fallback(fallback::no_route)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::limit_credentials,
        ))
        .layer(axum::middleware::from_fn(fallback::method_envelope))
        .layer(axum::middleware::from_fn(app::request_id))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state);
    (router, doc)
}
