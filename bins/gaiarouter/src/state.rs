//! Shared application state, built once at start-up and handed to every worker.

use std::sync::Arc;

use gaia_store::Store;

use crate::configuration::Settings;

/// Everything handlers need, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub settings: Arc<Settings>,
    /// SHA-256 of `GAIA_ADMIN_KEY`, when configured (the key itself is not kept).
    pub admin_key_hash: Option<Arc<str>>,
}
