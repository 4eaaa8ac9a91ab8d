//! Composition: connect and migrate the database, bootstrap credentials, build the actix app, bind.
//! `Application::build` is shared by `main` and the black-box tests (which bind port 0).

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use gaia_cluster::{Cluster, ClusterConfig};
use gaia_core::ProviderKind;
use gaia_orgs::auth::KeyCache;
use gaia_providers::router::RetryPolicy;
use gaia_providers::{FileConfig, Provider, ProviderConfig, Registry};

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use gaia_orgs::bootstrap::{AdminKeyBootstrap, ensure_admin_key};
use gaia_store::{Store, StoreOptions};
use utoipa_swagger_ui::SwaggerUi;

use crate::configuration::Settings;
use crate::error;
use crate::middleware::request_context;
use crate::openapi;
use crate::routes;
use crate::state::AppState;

mod server;
mod wiring;

use server::build_server;
use wiring::{
    bind, bootstrap, build_providers, build_state, cluster_events, read_file_config, refresh_loop,
};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot open the database: {0}")]
    Database(#[source] gaia_store::StoreError),
    #[error("cannot bootstrap credentials: {0}")]
    Bootstrap(#[source] gaia_core::GaiaError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("configuration: {0}")]
    Config(String),
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    server: Server,
    generated_admin_key: Option<String>,
    generated_admin_user: Option<(String, String)>,
    settings: Arc<Settings>,
    state: AppState,
    static_dir: Option<PathBuf>,
    background: tokio::task::JoinHandle<()>,
    retention: tokio::task::JoinHandle<()>,
    shutdown: ShutdownSignals,
}

/// SIGTERM and SIGINT listeners, registered while building (before the banner is printed) so a signal
/// that arrives at any point after start-up triggers a graceful stop rather than the default kill.
struct ShutdownSignals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    fn register() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    async fn recv(mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }
}

/// How often the registry and the key cache are reloaded from the database. This bounds how long a
/// change made on another instance (a revoked key, a disabled model) takes to apply here.
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(5);

/// Lifetime of login tokens.
pub const TOKEN_TTL_SECS: i64 = 12 * 3600;

/// `gaiarouter migrate`.
pub async fn run_migrations(settings: &Settings) -> Result<(), StartupError> {
    let store = Store::connect(settings.database_url.expose(), &StoreOptions::default())
        .await
        .map_err(StartupError::Database)?;
    store.migrate().await.map_err(StartupError::Database)?;
    let applied = store
        .applied_migrations()
        .await
        .map_err(StartupError::Database)?;
    tracing::info!(
        count = applied.len(),
        backend = store.backend().as_str(),
        "migrations applied"
    );
    Ok(())
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let listener = bind(&settings)?;
        let shutdown = ShutdownSignals::register()?;
        // Everything that can be wrong in the configuration is checked before anything is written.
        let file = read_file_config(&settings)?;
        let providers = build_providers(&settings, &file)?;
        let store =
            Store::connect_and_migrate(settings.database_url.expose(), &StoreOptions::default())
                .await
                .map_err(StartupError::Database)?;
        let first = bootstrap(&store, &settings, &file).await?;
        let port = listener.local_addr()?.port();
        let static_dir = settings
            .static_dir
            .clone()
            .or_else(|| Some(PathBuf::from("frontend/dist")))
            .filter(|d| d.join("index.html").is_file());
        let state = build_state(settings, store, &file, providers).await?;
        let settings = state.settings.clone();
        let background = tokio::spawn(refresh_loop(state.clone()));
        if let Some(cluster) = &state.cluster {
            tokio::spawn(cluster_events(state.clone(), cluster.events()));
        }
        let retention = gaia_stats::retention::spawn(
            state.store.clone(),
            gaia_stats::retention::RetentionConfig {
                days: state.settings.usage_retention_days,
                ..Default::default()
            },
        );
        let server = build_server(listener, state.clone(), static_dir.clone())?;
        Ok(Self {
            port,
            server,
            generated_admin_key: first.generated_admin_key,
            generated_admin_user: first.generated_admin_user,
            state,
            settings,
            static_dir,
            background,
            retention,
            shutdown,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The admin key generated at this start, if any (shown once).
    pub fn generated_admin_key(&self) -> Option<&str> {
        self.generated_admin_key.as_deref()
    }

    /// Tells the operator where to go: the docs URL and, once, a generated admin key.
    pub fn announce(&self) {
        let host = match self.settings.bind.ip() {
            ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
            ip if ip.is_ipv6() => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        let base = format!("http://{host}:{}", self.port);
        tracing::info!(url = %base, "GaiaRouter is listening");
        let mut lines = vec![
            format!("GaiaRouter is listening on {base}"),
            format!(
                "  API docs (Swagger UI): {base}/docs   ReDoc: {base}/redoc   OpenAPI: {base}/openapi.json"
            ),
        ];
        if self.static_dir.is_some() {
            lines.push(format!("  Admin UI: {base}/"));
        }
        match (&self.generated_admin_key, self.settings.admin_key_hash.is_some()) {
            (Some(key), _) => {
                lines.push("  A new admin API key was generated. It is shown only this once — store it now:".to_owned());
                lines.push(format!("      {key}"));
                lines.push("  (Only its hash is stored. Set GAIA_ADMIN_KEY to use a key of your own instead.)".to_owned());
            }
            (None, true) => lines.push("  Admin key: the value of GAIA_ADMIN_KEY.".to_owned()),
            (None, false) => lines.push(
                "  Admin key: the one printed at first start (create more with the API; set GAIA_ADMIN_KEY to add your own)."
                    .to_owned(),
            ),
        }
        if let Some((user, password)) = &self.generated_admin_user {
            lines.push(format!(
                "  Admin UI user created: username '{user}', password '{password}' (shown once; set GAIA_ADMIN_USERNAME/GAIA_ADMIN_PASSWORD to choose them)."
            ));
        }
        // Operator-facing banner on stderr, outside the structured log stream. Written with the error
        // ignored: `eprintln!` panics when stderr is gone (a log collector that went away), and a banner is
        // not worth the process.
        let mut banner = lines.join("\n");
        banner.push('\n');
        let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), banner.as_bytes());
    }

    /// Serves until SIGTERM/SIGINT, then drains in-flight requests (bounded by `GAIA_SHUTDOWN_TIMEOUT`).
    pub async fn run_until_stopped(self) -> Result<(), StartupError> {
        let handle = self.server.handle();
        let shutdown = self.shutdown;
        let graceful = tokio::spawn(async move {
            let signal = shutdown.recv().await;
            tracing::info!(signal, "shutting down: draining in-flight requests");
            handle.stop(true).await;
        });
        let result = self.server.await;
        graceful.abort();
        self.background.abort();
        self.retention.abort();
        // In-flight requests are done: persist what only lives in memory, within the shutdown budget.
        let budget = Duration::from_secs(self.settings.shutdown_timeout_secs.max(5));
        if let Err(unwritten) = self.state.usage.shutdown_within(budget).await {
            tracing::error!(
                unwritten = unwritten.0,
                "usage records could not be written before exit (database unavailable)"
            );
        }
        if let Err(e) = self.state.keys.flush_last_used().await {
            tracing::warn!(error = %e.message, "could not record key last-use times at shutdown");
        }
        if let Err(e) = self.state.limiter.release_unused().await {
            tracing::warn!(error = %e.message, "could not return unused request-limit slots at shutdown");
        }
        result?;
        tracing::info!("GaiaRouter stopped");
        Ok(())
    }
}
