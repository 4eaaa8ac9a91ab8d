//! # gaiarouter (the server)
//!
//! The only crate that names actix-web. It wires the domain crates together — configuration, database,
//! migrations, routes, OpenAPI — and holds no business logic of its own: handlers extract, call one
//! service, and map the result. [`startup::Application`] is shared by `main` and the black-box tests.

pub mod auth;
pub mod client_addr;
pub mod configuration;
pub mod error;
pub mod middleware;
pub mod openapi;
pub mod overhead;
pub mod routes;
pub mod startup;
pub mod state;
pub mod telemetry;
