//! A Rust client for Confab's APIs. The tests, the CLI and the load generator
//! drive the server through it.

pub mod openim;
pub mod ws;

pub use openim::{ApiReply, ClientError, OpenImClient};
pub use ws::{Pushed, WsClient, WsOptions};
