//! Black-box API tests: each test starts the real server on a random port and speaks HTTP to it.
//! One integration binary for all of them (faster to link, shared helpers).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod client;
mod cluster;
mod helpers;

mod authz;
mod bad_input;
mod caching;
mod channels;
mod crash;
mod docs;
mod embeddings;
mod errors;
mod faults;
mod gateway;
mod hot_path;
mod lifecycle;
mod messages;
mod observability;
mod outage;
mod reasoning;
mod recording;
mod registry;
mod responses;
mod scenarios;
mod schema_regressions;
mod secrets;
mod snapshots;
mod stats;
mod system;
mod tenancy;
mod upstream_http2;
mod upstream_tls;
