//! The HTTP server: middleware, the route table (`routes::table`), the API documentation and the admin UI.

use super::*;

/// CORS: closed unless origins are configured (`GAIA_CORS_ORIGINS`).
pub(super) fn cors(origins: &[String]) -> actix_cors::Cors {
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
pub(super) fn security_headers() -> actix_web::middleware::DefaultHeaders {
    actix_web::middleware::DefaultHeaders::new()
        .add(("x-content-type-options", "nosniff"))
        .add(("x-frame-options", "DENY"))
        .add(("referrer-policy", "no-referrer"))
        .add(("cross-origin-opener-policy", "same-origin"))
}

pub(super) fn build_server(
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
