//! gaia-stats against real databases: SQLite files always, PostgreSQL when `GAIA_TEST_POSTGRES_URL` is set
//! (`make test` sets it; see `gaia_store::testing`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bench;
mod helpers;
mod rollup;
mod service;
mod sink;
