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
    settings: Arc<Settings>,
    static_dir: Option<PathBuf>,
    background: tokio::task::JoinHandle<()>,
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

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        // Bind first: if the port is taken, nothing (such as a generated admin key) is created in vain.
        let listener = TcpListener::bind(settings.bind).map_err(|source| StartupError::Bind {
            addr: settings.bind,
            source,
        })?;
        let shutdown = ShutdownSignals::register()?;
        let store =
            Store::connect_and_migrate(settings.database_url.expose(), &StoreOptions::default())
                .await
                .map_err(StartupError::Database)?;
        let bootstrap = ensure_admin_key(&store, settings.admin_key.is_some())
            .await
            .map_err(StartupError::Bootstrap)?;
        let generated_admin_key = match bootstrap {
            AdminKeyBootstrap::Generated(key) => Some(key.full),
            AdminKeyBootstrap::Existing => None,
        };
        let file = read_file_config(&settings)?;
        let providers = build_providers(&settings, &file)?;
        let mut seed =
            gaia_providers::catalog::builtin().map_err(|e| StartupError::Config(e.message))?;
        seed.extend(file.models());
        store
            .seed_models(&seed, chrono::Utc::now())
            .await
            .map_err(StartupError::Database)?;
        let keys = Arc::new(KeyCache::new(
            store.clone(),
            settings.admin_key.as_ref().map(|k| k.expose()),
        ));
        keys.refresh().await.map_err(StartupError::Bootstrap)?;
        let retry = RetryPolicy {
            max_retries: file
                .upstream
                .max_retries
                .unwrap_or(RetryPolicy::default().max_retries),
            ..RetryPolicy::default()
        };
        let port = listener.local_addr()?.port();
        let static_dir = settings
            .static_dir
            .clone()
            .or_else(|| Some(PathBuf::from("frontend/dist")))
            .filter(|d| d.join("index.html").is_file());
        let state = AppState {
            store,
            settings: Arc::new(settings),
            keys,
            registry: Arc::new(ArcSwap::from_pointee(Registry::default())),
            retry,
            file_aliases: Arc::new(
                file.aliases
                    .iter()
                    .map(|a| (a.name.clone(), a.targets.clone()))
                    .collect(),
            ),
            providers: Arc::new(providers),
        };
        state
            .reload_registry()
            .await
            .map_err(StartupError::Bootstrap)?;
        let settings = state.settings.clone();
        let background = tokio::spawn(refresh_loop(state.clone()));
        let server = build_server(listener, state, static_dir.clone())?;
        Ok(Self {
            port,
            server,
            generated_admin_key,
            settings,
            static_dir,
            background,
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
        match (&self.generated_admin_key, self.settings.admin_key.is_some()) {
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
        // Operator-facing banner on stderr, outside the structured log stream.
        eprintln!("{}", lines.join("\n"));
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
        result?;
        tracing::info!("GaiaRouter stopped");
        Ok(())
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
        if let Err(e) = state.reload_registry().await {
            tracing::warn!(error = %e.message, "refreshing the model registry failed; keeping the previous one");
        }
    }
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
    let mut server = HttpServer::new(move || {
        let mut app = App::new()
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
            .service(
                web::resource("/v1/chat/completions")
                    .route(web::post().to(routes::chat::chat_completions)),
            )
            .service(web::resource("/v1/models").route(web::get().to(routes::models::list_models)))
            .service(
                web::resource("/v1/models/{id:.+}").route(web::get().to(routes::models::get_model)),
            )
            .service(
                web::resource("/v1/admin/models")
                    .route(web::get().to(routes::admin_models::list))
                    .route(web::post().to(routes::admin_models::create)),
            )
            .service(
                web::resource("/v1/admin/models/bulk")
                    .route(web::post().to(routes::admin_models::bulk)),
            )
            .service(
                web::resource("/v1/admin/models/sync")
                    .route(web::post().to(routes::admin_models::sync)),
            )
            .service(
                web::resource("/v1/admin/models/{id:.+}")
                    .route(web::patch().to(routes::admin_models::patch)),
            )
            .service(
                web::resource("/v1/admin/aliases")
                    .route(web::get().to(routes::admin_models::list_aliases)),
            )
            .service(
                web::resource("/v1/admin/aliases/{alias}")
                    .route(web::put().to(routes::admin_models::put_alias))
                    .route(web::delete().to(routes::admin_models::delete_alias)),
            )
            .service(web::resource("/health").route(web::get().to(routes::health::health)))
            .service(web::resource("/ready").route(web::get().to(routes::health::ready)))
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
    .shutdown_timeout(settings.shutdown_timeout_secs)
    .disable_signals()
    .listen(listener)?;
    if let Some(workers) = settings.workers {
        server = server.workers(workers);
    }
    Ok(server.run())
}
