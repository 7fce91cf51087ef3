//! Integration tests: the real server on 127.0.0.1:0, driven over HTTP with
//! `confab-client`. One binary, a module per feature.

// Test helpers fail loudly: a panic is the report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod harness;

mod app;
mod auth;
mod authz;
mod backup_restore;
mod bad_input;
mod bench_baseline;
mod bench_soak;
mod binary;
mod crash;
mod defects;
mod disk_full;
mod easemob;
mod easemob_messages;
mod friends;
mod groups;
mod limits;
mod messaging;
mod openapi;
mod openim_client_routes;
mod openim_gateway;
mod openim_sdk;
mod openim_sync;
mod openim_v3;
mod openim_v3_more;
mod revocation;
mod shutdown;
mod spec_examples;
mod traffic;
mod users;
mod ws_close;
mod yunbay;
mod yunbay_catch_up;
mod yunbay_notifications;
mod yunbay_profiles;
mod yunbay_support;
