//! HTTP routes. One module per area; handlers extract, call one service, map the result.

pub mod admin_models;
pub mod api_keys;
pub mod chat;
pub mod docs;
pub mod health;
pub mod metrics;
pub mod models;
pub mod organizations;
pub mod pagination;
pub mod patch;
pub mod schemas;
pub mod stats;
pub mod ui;
pub mod users;
