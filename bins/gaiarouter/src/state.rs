//! Shared application state, built once at start-up and handed to every worker.

use std::sync::Arc;

use arc_swap::ArcSwap;
use gaia_orgs::auth::KeyCache;
use gaia_providers::Registry;
use gaia_providers::router::RetryPolicy;
use gaia_store::Store;

use crate::configuration::Settings;

/// Everything handlers need, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub settings: Arc<Settings>,
    /// API keys in memory (no database round-trip per request).
    pub keys: Arc<KeyCache>,
    /// Monthly and per-minute limits.
    pub limiter: Arc<gaia_orgs::limits::Limiter>,
    /// Usage records → bounded queue → batched writer.
    pub usage: gaia_stats::UsageSink,
    /// Statistics queries.
    pub stats: Arc<gaia_stats::StatsService>,
    /// Slows down repeated failed sign-ins.
    pub login_guard: Arc<gaia_orgs::users::LoginGuard>,
    /// Providers, models and aliases; swapped atomically when the registry changes.
    pub registry: Arc<ArcSwap<Registry>>,
    pub retry: RetryPolicy,
    /// Interval of SSE keep-alive comments while a provider is silent.
    pub keepalive: std::time::Duration,
    /// Aliases declared in the configuration file (merged into every registry snapshot).
    pub file_aliases: Arc<Vec<(String, Vec<String>)>>,
    /// Every provider, built once (their HTTP clients are pooled).
    pub providers: Arc<Vec<Arc<gaia_providers::Provider>>>,
    /// The time GaiaRouter itself adds to each answered chat completion (`GET /metrics`).
    pub overhead: Arc<crate::overhead::Histogram>,
    /// The inference pipeline every inbound API shares (resolve, admit, route, record).
    pub pipeline: gaia_gateway::Pipeline,
    /// The model registry: admin changes, and the snapshot reloads.
    pub models: gaia_gateway::models::Models,
    /// Stored Responses API responses and the conversations they continue.
    pub conversations: gaia_gateway::conversations::Conversations,
    /// The Redis every instance shares (`GAIA_REDIS_URL`); `None`: this instance alone.
    pub cluster: Option<Arc<gaia_cluster::Cluster>>,
}

impl AppState {
    /// Rebuilds the registry snapshot from the database.
    pub async fn reload_registry(&self) -> Result<(), gaia_core::GaiaError> {
        self.models.reload().await
    }
}
