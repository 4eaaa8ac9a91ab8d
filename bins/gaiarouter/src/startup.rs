//! Composition: connect and migrate the database, bootstrap credentials, build the actix app, bind.
//! `Application::build` is shared by `main` and the black-box tests (which bind port 0).

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
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

/// Builds every provider: the four built-in ones from the environment, then the configuration file's.
fn build_providers(
    settings: &Settings,
    file: &FileConfig,
) -> Result<Vec<Arc<Provider>>, StartupError> {
    let timeouts = file.timeouts();
    let builtin = |name: &str, kind, p: &crate::configuration::ProviderSettings| {
        ProviderConfig::new(
            name,
            kind,
            p.base_url.as_str(),
            p.api_key.as_ref().map(|k| k.expose().to_owned()),
        )
    };
    let mut configs = vec![
        builtin("openai", ProviderKind::OpenAi, &settings.openai),
        builtin("anthropic", ProviderKind::Anthropic, &settings.anthropic),
        builtin("google", ProviderKind::Gemini, &settings.gemini),
        builtin("openrouter", ProviderKind::OpenRouter, &settings.openrouter),
    ];
    if let Some(referer) = &settings.openrouter_http_referer {
        configs[3]
            .headers
            .push(("HTTP-Referer".to_owned(), referer.clone()));
    }
    if let Some(title) = &settings.openrouter_x_title {
        configs[3]
            .headers
            .push(("X-Title".to_owned(), title.clone()));
    }
    for extra in file.provider_configs(|var| std::env::var(var).ok()) {
        if configs.iter().any(|c| c.name == extra.name) {
            return Err(StartupError::Config(format!(
                "provider '{}' is declared twice",
                extra.name
            )));
        }
        configs.push(extra);
    }
    configs
        .into_iter()
        .map(|c| Provider::new(c, timeouts).map_err(|e| StartupError::Config(e.message)))
        .collect()
}

fn read_file_config(settings: &Settings) -> Result<FileConfig, StartupError> {
    let Some(path) = &settings.config_file else {
        return Ok(FileConfig::default());
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        StartupError::Config(format!("GAIA_CONFIG: cannot read {}: {e}", path.display()))
    })?;
    FileConfig::parse(&text)
        .map_err(|e| StartupError::Config(format!("GAIA_CONFIG {}: {}", path.display(), e.message)))
}

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

/// Binds the listener first: if the port is taken, nothing (such as a generated admin key) is created in
/// vain.
fn bind(settings: &Settings) -> Result<TcpListener, StartupError> {
    let listener = TcpListener::bind(settings.bind).map_err(|source| StartupError::Bind {
        addr: settings.bind,
        source,
    })?;
    // std listens with a backlog of 128: a burst of new connections (thousands of clients starting at
    // once) would overflow it and wait for SYN retransmits. Ask for 4,096 (the kernel caps it at
    // net.core.somaxconn); listening again on a listening socket only changes the backlog.
    if let Err(e) = socket2::SockRef::from(&listener).listen(4096) {
        tracing::warn!(error = %e, "could not raise the listen backlog; keeping the default");
    }
    Ok(listener)
}

/// What the first start creates and prints once.
struct Bootstrapped {
    generated_admin_key: Option<String>,
    generated_admin_user: Option<(String, String)>,
}

/// The admin key, the model catalog and file models, the first admin user; and the slow one-time work
/// started on the blocking pool rather than by the first request that needs it (the tokenizer tables of
/// token estimates, the dummy hash unknown usernames are checked against).
async fn bootstrap(
    store: &Store,
    settings: &Settings,
    file: &FileConfig,
) -> Result<Bootstrapped, StartupError> {
    let bootstrap = ensure_admin_key(store, settings.admin_key_hash.is_some())
        .await
        .map_err(StartupError::Bootstrap)?;
    let generated_admin_key = match bootstrap {
        AdminKeyBootstrap::Generated(key) => Some(key.full),
        AdminKeyBootstrap::Existing => None,
    };
    let mut seed =
        gaia_providers::catalog::builtin().map_err(|e| StartupError::Config(e.message))?;
    seed.extend(file.models());
    store
        .seed_models(&seed, chrono::Utc::now())
        .await
        .map_err(StartupError::Database)?;
    let generated_admin_user = gaia_orgs::users::ensure_admin_user(
        store,
        settings.admin_username.as_deref(),
        settings.admin_password.as_ref().map(|p| p.expose()),
        chrono::Utc::now(),
    )
    .await
    .map_err(StartupError::Bootstrap)?;
    tokio::task::spawn_blocking(gaia_stats::estimate::warm_up);
    tokio::spawn(async {
        if let Err(e) = gaia_orgs::users::warm_up().await {
            tracing::warn!(error = %e, "could not prepare password hashing ahead");
        }
    });
    Ok(Bootstrapped {
        generated_admin_key,
        generated_admin_user,
    })
}

/// The secret login tokens are signed with: `GAIA_JWT_SECRET`, or a random one for this process.
fn jwt_secret(settings: &Settings) -> Vec<u8> {
    match &settings.jwt_secret {
        Some(s) => s.expose().as_bytes().to_vec(),
        None => {
            tracing::warn!(
                "GAIA_JWT_SECRET is unset: login tokens are signed with a random per-process secret (they end at restart and do not work across instances)"
            );
            let mut bytes = vec![0u8; 32];
            rand::Rng::fill(&mut rand::rng(), &mut bytes[..]);
            bytes
        }
    }
}

/// The key cache and the limiter, loaded.
async fn credentials_and_limits(
    store: &Store,
    settings: &Settings,
) -> Result<(Arc<KeyCache>, Arc<gaia_orgs::limits::Limiter>), StartupError> {
    let admin_key_hash = settings
        .admin_key_hash
        .as_ref()
        .map(|h| h.expose().to_owned());
    let keys = Arc::new(KeyCache::new(store.clone(), admin_key_hash).with_tokens(
        gaia_orgs::tokens::TokenSigner::new(&jwt_secret(settings), TOKEN_TTL_SECS),
    ));
    let limiter = Arc::new(gaia_orgs::limits::Limiter::new(
        store.clone(),
        settings.default_rate_limit_rpm,
    ));
    limiter
        .refresh(chrono::Utc::now())
        .await
        .map_err(StartupError::Bootstrap)?;
    keys.refresh().await.map_err(StartupError::Bootstrap)?;
    Ok((keys, limiter))
}

/// Everything handlers share: the store, the caches, the usage sink, the registry and the pipeline over
/// them, with the registry snapshot loaded.
async fn build_state(
    settings: Settings,
    store: Store,
    file: &FileConfig,
    providers: Vec<Arc<gaia_providers::Provider>>,
) -> Result<AppState, StartupError> {
    let (keys, limiter) = credentials_and_limits(&store, &settings).await?;
    let retry = RetryPolicy {
        max_retries: file
            .upstream
            .max_retries
            .unwrap_or(RetryPolicy::default().max_retries),
        ..RetryPolicy::default()
    };
    let usage = gaia_stats::UsageSink::start(
        store.clone(),
        gaia_stats::SinkConfig::default(),
        Some(Arc::new(LimitsObserver(limiter.clone())) as Arc<dyn gaia_stats::UsageObserver>),
    );
    let keepalive = Duration::from_secs(settings.sse_keepalive_secs);
    let registry = Arc::new(ArcSwap::from_pointee(Registry::default()));
    let pipeline = gaia_gateway::Pipeline::new(
        registry.clone(),
        limiter.clone(),
        usage.clone(),
        retry,
        keepalive,
    );
    let state = AppState {
        usage,
        stats: Arc::new(gaia_stats::StatsService::new(store.clone())),
        store,
        settings: Arc::new(settings),
        keys,
        limiter,
        login_guard: Arc::new(gaia_orgs::users::LoginGuard::default()),
        registry,
        retry,
        keepalive,
        file_aliases: Arc::new(
            file.aliases
                .iter()
                .map(|a| (a.name.clone(), a.targets.clone()))
                .collect(),
        ),
        providers: Arc::new(providers),
        overhead: Arc::default(),
        pipeline,
    };
    state
        .reload_registry()
        .await
        .map_err(StartupError::Bootstrap)?;
    Ok(state)
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

/// Tells the limiter which served requests have reached the rollup (so they are not counted twice).
struct LimitsObserver(Arc<gaia_orgs::limits::Limiter>);

impl gaia_stats::UsageObserver for LimitsObserver {
    fn observed(&self, batch: &[gaia_store::usage::NewUsageRecord]) {
        for r in batch {
            if let (Some(key_id), Some(organization_id)) = (&r.api_key_id, &r.organization_id) {
                let admission = gaia_orgs::limits::Admission {
                    key_id: key_id.clone(),
                    organization_id: organization_id.clone(),
                };
                self.0.confirm_usage(
                    &admission,
                    i64::try_from(r.total_tokens).unwrap_or(i64::MAX),
                    r.cost_nanos,
                    r.created_at,
                );
            }
        }
    }
}

/// Reloads the key cache and the registry snapshot periodically.
async fn refresh_loop(state: AppState) {
    let mut tick = tokio::time::interval(REFRESH_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        if let Err(e) = state.keys.refresh().await {
            tracing::warn!(error = %e.message, "refreshing API keys failed; keeping the previous ones");
        }
        if let Err(e) = state.keys.flush_last_used().await {
            tracing::warn!(error = %e.message, "recording key last-use times failed; will retry");
        }
        if let Err(e) = state.limiter.refresh(chrono::Utc::now()).await {
            tracing::warn!(error = %e.message, "refreshing month-to-date usage failed; keeping the previous totals");
        }
        if let Err(e) = state.reload_registry().await {
            tracing::warn!(error = %e.message, "refreshing the model registry failed; keeping the previous one");
        }
    }
}

/// CORS: closed unless origins are configured (`GAIA_CORS_ORIGINS`).
fn cors(origins: &[String]) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            actix_web::http::header::AUTHORIZATION,
            actix_web::http::header::CONTENT_TYPE,
            actix_web::http::header::HeaderName::from_static("x-request-id"),
        ])
        .expose_headers(["x-request-id", "x-gaia-provider", "retry-after"])
        .max_age(600);
    for origin in origins {
        cors = if origin == "*" {
            cors.allow_any_origin()
        } else {
            cors.allowed_origin(origin)
        };
    }
    cors
}

/// Headers that harden every response, the admin UI's pages above all.
fn security_headers() -> actix_web::middleware::DefaultHeaders {
    actix_web::middleware::DefaultHeaders::new()
        .add(("x-content-type-options", "nosniff"))
        .add(("x-frame-options", "DENY"))
        .add(("referrer-policy", "no-referrer"))
        .add(("cross-origin-opener-policy", "same-origin"))
}

fn build_server(
    listener: TcpListener,
    state: AppState,
    static_dir: Option<PathBuf>,
) -> Result<Server, StartupError> {
    let settings = state.settings.clone();
    let max_body = settings.max_body_bytes;
    let data = web::Data::new(state);
    let openapi = openapi::document();
    let cors_origins = settings.cors_origins.clone();
    let mut server = HttpServer::new(move || {
        let mut app = App::new()
            .wrap(cors(&cors_origins))
            .wrap(security_headers())
            .wrap(from_fn(request_context))
            .app_data(data.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(max_body)
                    .error_handler(error::json_error),
            )
            .app_data(web::PayloadConfig::default().limit(max_body))
            .app_data(web::QueryConfig::default().error_handler(error::query_error))
            .app_data(web::PathConfig::default().error_handler(error::path_error))
            .configure(routes::table)
            .service(web::resource("/docs").route(web::get().to(routes::docs::docs_redirect)))
            .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", openapi.clone()))
            .service(web::resource("/redoc").route(web::get().to(routes::docs::redoc_page)))
            .service(
                web::resource("/redoc/redoc.standalone.js")
                    .route(web::get().to(routes::docs::redoc_js)),
            );
        if let Some(dir) = &static_dir {
            app = app.service(routes::ui::service(dir));
        }
        app.default_service(web::to(error::not_found))
    })
    // Every answer is written as soon as it is ready: without TCP_NODELAY, the last small write of a
    // streamed answer on a kept-alive connection waits for the client's delayed ACK (40 ms on Linux).
    .tcp_nodelay(true)
    .shutdown_timeout(settings.shutdown_timeout_secs)
    .disable_signals()
    .listen(listener)?;
    if let Some(workers) = settings.workers {
        server = server.workers(workers);
    }
    Ok(server.run())
}
