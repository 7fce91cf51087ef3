//! Property tests of every codec's frame decoder (issue 13, item 3): for
//! arbitrary bytes and for near-valid frames (valid envelopes with fields
//! mutated, of the wrong type, huge, deeply nested, truncated), decoding
//! never panics, and a frame that is no request is answered with an error
//! frame in the protocol's own envelope.
//!
//! Cases per property: `PROPTEST_CASES` (default `DEFAULT_CASES`), so CI
//! runs a short round and a long one is
//! `PROPTEST_CASES=200000 cargo test -p confab-gateway --test fuzz_frames`.
//! Regressions found by these properties are plain tests beside them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod json_codec;
mod openim_codec;
mod strategies;
mod yunbay_codec;

use confab_core::{Platform, UserId};
use confab_service::Caller;
use proptest::test_runner::Config;

/// Cases per property when `PROPTEST_CASES` is unset: small enough that
/// the suite takes a few seconds in a debug build.
const DEFAULT_CASES: u32 = 128;

/// The runner's config: `PROPTEST_CASES` when set, else `DEFAULT_CASES`.
pub fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    Config {
        cases,
        // Failures are kept as plain regression tests, not in files.
        failure_persistence: None,
        ..Config::default()
    }
}

/// The user of the connection every frame is decoded for.
pub const USER: &str = "alice";

pub fn caller() -> Caller {
    Caller {
        user_id: UserId::parse("u", USER).unwrap(),
        platform: Platform::Web,
        is_admin: false,
    }
}
