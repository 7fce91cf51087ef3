//! A Rust client for Confab's APIs. The tests, the CLI and the load generator
//! drive the server through it.

pub mod openim;
pub mod openim_ws;
pub mod ws;

pub use openim::{ApiReply, ClientError, OpenImClient};
pub use openim_ws::{OpenImPushed, OpenImWsClient, OpenImWsOptions, PushedMsg};
pub use ws::{Pushed, WsClient, WsOptions};
