//! HTTP routes. One module per area; handlers extract, call one service, map the result.

pub mod chat;
pub mod docs;
pub mod health;
pub mod models;
pub mod ui;
