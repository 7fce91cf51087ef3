//! Property tests of every HTTP dialect's body parsing, through the real
//! router (issue 13, item 3): generated bodies (any bytes, JSON of the
//! wrong shape, objects of the dialects' own field names with odd values,
//! form and multipart bodies with odd boundaries and parts, odd content
//! types and query strings) go to every route of each dialect, with and
//! without credentials that let them past authentication. Whatever is
//! sent, the status is never 5xx, the body is the dialect's envelope, and
//! nothing panics.
//!
//! The router is the server's own (`confab_server::build` on a temporary
//! SQLite database), called in process with `tower::ServiceExt::oneshot`.
//! Cases per property: `PROPTEST_CASES` (default `DEFAULT_CASES`); a long
//! run is `PROPTEST_CASES=20000 cargo test -p confab-server --test fuzz_bodies`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bodies;
mod dialects;
mod envelopes;
mod fixture;
mod regressions;
mod routes;
mod signatures;

use proptest::test_runner::Config;

/// Cases per property when `PROPTEST_CASES` is unset: each is one request,
/// a few milliseconds in a debug build.
const DEFAULT_CASES: u32 = 96;

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
        // Each case is a request: shrinking is bounded to keep a failing
        // run short.
        max_shrink_iters: 512,
        ..Config::default()
    }
}
