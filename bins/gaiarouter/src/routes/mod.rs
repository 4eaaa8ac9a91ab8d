//! HTTP routes. One module per area; handlers extract, call one service, map the result.

pub mod admin_models;
pub mod chat;
pub mod docs;
pub mod health;
pub mod models;
pub mod pagination;
pub mod ui;
