//! The per-address limit on credential routes, in front of every dialect:
//! routes that hand out tokens or check secrets, passwords and SMS codes
//! are where guessing and flooding happen. Callers on the trusted networks
//! (the app's own servers) are not limited by address.

use crate::fallback::Dialect;
use crate::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::net::SocketAddr;

/// The credential routes of every dialect.
pub const CREDENTIAL_ROUTES: &[&str] = &[
    // OpenIM: the admin secret buys a token or a registration.
    "/auth/user_token",
    "/auth/user_register",
    // Easemob proxy: client credentials buy an app token; a password login.
    "/hx/getToken",
    "/hx/userToken",
    // The app API: SMS codes and the sign-in that checks them.
    "/sms/send",
    "/accessuser/signinbysms",
    // yunbay: signed requests for tokens.
    "/man/account/token",
    "/v1/user/token",
];

/// Refuses a credential request over the caller's address's rate, in the
/// envelope of the route's dialect.
pub async fn limit_credentials(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    if CREDENTIAL_ROUTES.contains(&path) {
        // Without the peer (an in-process call, not a connection) there is
        // no address to limit.
        if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>() {
            let client = state.client_address(*peer, req.headers());
            if !client.trusted {
                if let Err(e) = state.service.admit_credentials_from(client.ip) {
                    return Dialect::of(path).refuse(e);
                }
            }
        }
    }
    next.run(req).await
}
