//! Composition: connect and migrate the database, bootstrap credentials, build the actix app, bind.
//! `Application::build` is shared by `main` and the black-box tests (which bind port 0).

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

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
}

/// `gaiarouter migrate`.
pub async fn run_migrations(settings: &Settings) -> Result<(), StartupError> {
    let store = Store::connect(settings.database_url.expose(), &StoreOptions::default())
        .await
        .map_err(StartupError::Database)?;
    store.migrate().await.map_err(StartupError::Database)?;
    let applied = store.applied_migrations().await.map_err(StartupError::Database)?;
    tracing::info!(count = applied.len(), backend = store.backend().as_str(), "migrations applied");
    Ok(())
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let store = Store::connect_and_migrate(settings.database_url.expose(), &StoreOptions::default())
            .await
            .map_err(StartupError::Database)?;
        let bootstrap = ensure_admin_key(&store, settings.admin_key.is_some())
            .await
            .map_err(StartupError::Bootstrap)?;
        let generated_admin_key = match bootstrap {
            AdminKeyBootstrap::Generated(key) => Some(key.full),
            AdminKeyBootstrap::Existing => None,
        };
        let listener = TcpListener::bind(settings.bind).map_err(|source| StartupError::Bind {
            addr: settings.bind,
            source,
        })?;
        let port = listener.local_addr()?.port();
        let static_dir = settings
            .static_dir
            .clone()
            .or_else(|| Some(PathBuf::from("frontend/dist")))
            .filter(|d| d.join("index.html").is_file());
        let state = AppState {
            store,
            admin_key_hash: settings
                .admin_key
                .as_ref()
                .map(|k| Arc::from(gaia_orgs::keys::hash_secret(k.expose()))),
            settings: Arc::new(settings),
        };
        let settings = state.settings.clone();
        let server = build_server(listener, state, static_dir.clone())?;
        Ok(Self {
            port,
            server,
            generated_admin_key,
            settings,
            static_dir,
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
            format!("  API docs (Swagger UI): {base}/docs   ReDoc: {base}/redoc   OpenAPI: {base}/openapi.json"),
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
        self.server.await?;
        tracing::info!("GaiaRouter stopped");
        Ok(())
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
            .app_data(web::JsonConfig::default().limit(max_body).error_handler(error::json_error))
            .app_data(web::PayloadConfig::default().limit(max_body))
            .app_data(web::QueryConfig::default().error_handler(error::query_error))
            .app_data(web::PathConfig::default().error_handler(error::path_error))
            .service(web::resource("/health").route(web::get().to(routes::health::health)))
            .service(web::resource("/ready").route(web::get().to(routes::health::ready)))
            .service(web::resource("/docs").route(web::get().to(routes::docs::docs_redirect)))
            .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", openapi.clone()))
            .service(web::resource("/redoc").route(web::get().to(routes::docs::redoc_page)))
            .service(
                web::resource("/redoc/redoc.standalone.js").route(web::get().to(routes::docs::redoc_js)),
            );
        if let Some(dir) = &static_dir {
            app = app.service(routes::ui::service(dir));
        }
        app.default_service(web::to(error::not_found))
    })
    .shutdown_timeout(settings.shutdown_timeout_secs)
    .listen(listener)?;
    if let Some(workers) = settings.workers {
        server = server.workers(workers);
    }
    Ok(server.run())
}
