//! Liveness and readiness.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::state::AppState;

/// Liveness answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` while the process serves requests.
    #[schema(example = "ok")]
    pub status: &'static str,
    #[schema(example = "0.1.0")]
    pub version: &'static str,
}

/// Readiness answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ready {
    #[schema(example = "ready")]
    pub status: &'static str,
    /// Database engine in use: `sqlite`, `postgres` or `mysql`.
    #[schema(example = "sqlite")]
    pub database: &'static str,
    /// With `GAIA_REDIS_URL`: `up` or `down` (absent without Redis). Redis being down does not make the
    /// instance unready: it goes on serving, with per-minute limits as `rate_limits` says.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "up")]
    pub redis: Option<&'static str>,
    /// How per-minute limits are checked right now: `shared` (Redis, exact across instances), `local`
    /// (this instance's own buckets: no Redis configured, or Redis down with `GAIA_REDIS_FAILURE=open`) or
    /// `refusing` (Redis down with `GAIA_REDIS_FAILURE=closed`: requests that have one get 503).
    #[schema(example = "local")]
    pub rate_limits: &'static str,
}

/// Liveness: the process is up. Never touches the database.
#[utoipa::path(
    get,
    path = "/health",
    tag = "system",
    responses((status = 200, description = "The process is alive", body = Health))
)]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// Readiness: the database answers. Load balancers should route traffic only to ready instances.
#[utoipa::path(
    get,
    path = "/ready",
    tag = "system",
    responses(
        (status = 200, description = "Ready to serve", body = Ready),
        (status = 503, description = "The database is unreachable", body = crate::routes::schemas::ErrorBody),
    )
)]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.store.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "readiness check failed");
        gaia_core::GaiaError::new(
            gaia_core::ErrorKind::Unavailable,
            "the database is unreachable",
        )
        .with_code("database_unavailable")
    })?;
    let (redis, rate_limits) = match &state.cluster {
        None => (None, "local"),
        Some(c) if c.is_up() => (Some("up"), "shared"),
        Some(c) => (
            Some("down"),
            match c.failure_mode() {
                gaia_cluster::FailureMode::Open => "local",
                gaia_cluster::FailureMode::Closed => "refusing",
            },
        ),
    };
    Ok(HttpResponse::Ok().json(Ready {
        status: "ready",
        database: state.store.backend().as_str(),
        redis,
        rate_limits,
    }))
}
