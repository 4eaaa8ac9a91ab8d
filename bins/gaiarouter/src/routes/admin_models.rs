//! The model registry for admins: list, register, enable/disable (also in bulk), sync from OpenRouter,
//! and aliases. Every change is applied to this instance's in-memory registry at once and reaches other
//! instances within the refresh interval.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use gaia_core::{GaiaError, ModelInfo, ModelRef};
use gaia_providers::config::usd_per_mtok_to_nanos;
use gaia_store::models::ModelFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AdminOnly;
use crate::error::ApiError;
use crate::routes::pagination::{PageQuery, Paginated};
use crate::state::AppState;
use gaia_core::money::usd;

/// A registry entry as admins see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminModel {
    #[schema(example = "openai/gpt-4o-mini")]
    pub id: String,
    pub provider: String,
    pub upstream_name: String,
    pub display_name: Option<String>,
    pub context_length: Option<i64>,
    pub max_completion_tokens: Option<i64>,
    /// USD per million input tokens.
    pub input_price_per_mtok: f64,
    /// USD per million output tokens.
    pub output_price_per_mtok: f64,
    pub supports_vision: bool,
    pub supports_tools: bool,
    pub supports_streaming: bool,
    pub enabled: bool,
    /// `catalog`, `config`, `openrouter` or `manual`.
    pub source: String,
    /// Whether its provider has credentials on this gateway.
    pub provider_configured: bool,
    /// Whether its prices are known. `false`: its cost is not known (prices read 0), so requests of keys
    /// or organizations with a monthly cost limit are refused on it; set its prices (0 for free) to
    /// allow them.
    pub priced: bool,
}

fn to_admin(m: ModelInfo, state: &AppState) -> AdminModel {
    let configured = state
        .registry
        .load()
        .provider(&m.provider)
        .is_some_and(|p| p.is_configured());
    AdminModel {
        input_price_per_mtok: usd(m.input_price_nanos_per_mtok),
        output_price_per_mtok: usd(m.output_price_nanos_per_mtok),
        id: m.id,
        provider: m.provider,
        upstream_name: m.upstream_name,
        display_name: m.display_name,
        context_length: m.context_length,
        max_completion_tokens: m.max_completion_tokens,
        supports_vision: m.supports_vision,
        supports_tools: m.supports_tools,
        supports_streaming: m.supports_streaming,
        enabled: m.enabled,
        source: m.source,
        provider_configured: configured,
        priced: m.priced,
    }
}

/// Filters of the admin model list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ModelListQuery {
    /// Only this provider (`openai`, `anthropic`, `google`, `openrouter`, …).
    pub provider: Option<String>,
    /// Only enabled (`true`) or disabled (`false`) models.
    pub enabled: Option<bool>,
    /// Substring of the id or display name.
    pub search: Option<String>,
}

/// List the registry (paginated, filterable).
#[utoipa::path(get, path = "/v1/admin/models", tag = "models",
    params(PageQuery, ModelListQuery),
    responses(
        (status = 200, description = "A page of models", body = inline(Paginated<AdminModel>)),
        (status = 401, description = "Missing or invalid API key", body = crate::routes::schemas::ErrorBody),
        (status = 403, description = "Not an admin", body = crate::routes::schemas::ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn list(
    _admin: AdminOnly,
    state: web::Data<AppState>,
    page: web::Query<PageQuery>,
    filter: web::Query<ModelListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = page.into_inner().validate()?;
    let filter = filter.into_inner();
    let filter = ModelFilter {
        provider: filter.provider,
        enabled: filter.enabled,
        search: filter.search,
    };
    let result = state.store.list_models_page(&filter, page).await?;
    Ok(HttpResponse::Ok().json(Paginated::from_page(result, |m| to_admin(m, &state))))
}

/// A model to register by hand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewModel {
    /// `provider/model`; the provider must exist on this gateway.
    #[schema(
        example = "openai/gpt-4o-2024-11-20",
        pattern = "^[^/\\u0000-\\u001F\\u007F-\\u009F]+/[^\\u0000-\\u001F\\u007F-\\u009F]+$",
        max_length = 256
    )]
    pub id: String,
    /// The name the upstream knows (default: the part after the provider).
    #[schema(pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")]
    pub upstream_name: Option<String>,
    #[schema(pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")]
    pub display_name: Option<String>,
    #[schema(minimum = 1)]
    #[serde(default, deserialize_with = "crate::routes::patch::integer")]
    pub context_length: Option<i64>,
    #[schema(minimum = 1)]
    #[serde(default, deserialize_with = "crate::routes::patch::integer")]
    pub max_completion_tokens: Option<i64>,
    /// USD per million input tokens. Give at least one price (0 for a free model): a model registered
    /// without prices is unpriced, and keys or organizations with a monthly cost limit are refused on it.
    #[schema(minimum = 0)]
    pub input_price_per_mtok: Option<f64>,
    /// USD per million output tokens (0 when only the input price is given).
    #[schema(minimum = 0)]
    pub output_price_per_mtok: Option<f64>,
    #[serde(default)]
    pub supports_vision: bool,
    #[serde(default = "yes")]
    pub supports_tools: bool,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// Names shown or sent upstream hold no control characters (NUL cannot even be stored by PostgreSQL).
fn printable(field: &str, value: Option<&str>) -> Result<(), GaiaError> {
    if value.is_some_and(|v| v.chars().any(char::is_control)) {
        return Err(GaiaError::invalid_request(format!(
            "`{field}` must not contain control characters"
        ))
        .with_param(field));
    }
    Ok(())
}

/// `context_length` and `max_completion_tokens`, when given, are at least 1.
fn positive_limits(
    context_length: Option<i64>,
    max_completion_tokens: Option<i64>,
) -> Result<(), GaiaError> {
    for (name, v) in [
        ("context_length", context_length),
        ("max_completion_tokens", max_completion_tokens),
    ] {
        if v.is_some_and(|v| v < 1) {
            return Err(
                GaiaError::invalid_request(format!("`{name}` must be positive")).with_param(name),
            );
        }
    }
    Ok(())
}

/// Register a model by hand.
#[utoipa::path(post, path = "/v1/admin/models", tag = "models", request_body = NewModel,
    responses(
        (status = 201, description = "Registered", body = AdminModel),
        (status = 400, description = "Invalid id or negative price", body = crate::routes::schemas::ErrorBody),
        (status = 422, description = "Well-formed, but the provider does not exist on this gateway (`unknown_provider`)", body = crate::routes::schemas::ErrorBody),
        (status = 409, description = "Already registered", body = crate::routes::schemas::ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn create(
    _admin: AdminOnly,
    state: web::Data<AppState>,
    body: web::Json<NewModel>,
) -> Result<HttpResponse, ApiError> {
    let new = body.into_inner();
    // A registered id is always `provider/model`; a bare name is a malformed field (400), not an unknown
    // model (404).
    if !new.id.contains('/') {
        return Err(GaiaError::invalid_request("`id` must be 'provider/model'")
            .with_param("id")
            .into());
    }
    let parsed = ModelRef::parse(&new.id).map_err(|_| {
        GaiaError::invalid_request(format!(
            "`id` must be 'provider/model', at most {} printable characters",
            ModelRef::MAX_LEN
        ))
        .with_param("id")
    })?;
    if state.registry.load().provider(&parsed.provider).is_none() {
        return Err(
            // Well-formed, but no such provider here: 422 (a schema cannot list them).
            GaiaError::unprocessable(format!("unknown provider '{}'", parsed.provider))
                .with_param("id")
                .with_code("unknown_provider")
                .into(),
        );
    }
    for (name, v) in [
        ("input_price_per_mtok", new.input_price_per_mtok),
        ("output_price_per_mtok", new.output_price_per_mtok),
    ] {
        if v.is_some_and(|v| !v.is_finite() || v < 0.0) {
            return Err(GaiaError::invalid_request(format!(
                "`{name}` must be a non-negative number"
            ))
            .with_param(name)
            .into());
        }
    }
    positive_limits(new.context_length, new.max_completion_tokens)?;
    printable("upstream_name", new.upstream_name.as_deref())?;
    printable("display_name", new.display_name.as_deref())?;
    let model = ModelInfo {
        id: format!("{}/{}", parsed.provider, parsed.model),
        upstream_name: new.upstream_name.unwrap_or(parsed.model),
        provider: parsed.provider,
        display_name: new.display_name,
        context_length: new.context_length,
        max_completion_tokens: new.max_completion_tokens,
        input_price_nanos_per_mtok: usd_per_mtok_to_nanos(new.input_price_per_mtok.unwrap_or(0.0)),
        output_price_nanos_per_mtok: usd_per_mtok_to_nanos(
            new.output_price_per_mtok.unwrap_or(0.0),
        ),
        priced: new.input_price_per_mtok.is_some() || new.output_price_per_mtok.is_some(),
        supports_vision: new.supports_vision,
        supports_tools: new.supports_tools,
        supports_streaming: true,
        enabled: new.enabled,
        source: "manual".to_owned(),
    };
    let created = state.store.create_model(&model, Utc::now()).await?;
    state.reload_registry().await?;
    Ok(HttpResponse::Created().json(to_admin(created, &state)))
}

/// Changes to a model: enable/disable, and (for any source) correct its prices or limits. A later
/// catalog or OpenRouter sync of the same source may refresh prices again.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelPatch {
    pub enabled: Option<bool>,
    /// USD per million input tokens.
    #[schema(minimum = 0)]
    pub input_price_per_mtok: Option<f64>,
    /// USD per million output tokens.
    #[schema(minimum = 0)]
    pub output_price_per_mtok: Option<f64>,
    #[schema(minimum = 1)]
    #[serde(default, deserialize_with = "crate::routes::patch::integer")]
    pub context_length: Option<i64>,
    #[schema(minimum = 1)]
    #[serde(default, deserialize_with = "crate::routes::patch::integer")]
    pub max_completion_tokens: Option<i64>,
    #[schema(pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")]
    pub display_name: Option<String>,
}

/// Enable or disable a model, or correct its prices and limits.
#[utoipa::path(patch, path = "/v1/admin/models/{id}", tag = "models", request_body = ModelPatch,
    params(("id" = String, Path, description = "Model id, e.g. `openai/gpt-4o-mini`", min_length = 1, max_length = 256)),
    responses(
        (status = 200, description = "Updated", body = AdminModel),
        (status = 404, description = "No such model", body = crate::routes::schemas::ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn patch(
    _admin: AdminOnly,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<ModelPatch>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let mut model = state.store.get_model(&id).await?;
    let p = body.into_inner();
    for (name, v) in [
        ("input_price_per_mtok", p.input_price_per_mtok),
        ("output_price_per_mtok", p.output_price_per_mtok),
    ] {
        if v.is_some_and(|v| !v.is_finite() || v < 0.0) {
            return Err(GaiaError::invalid_request(format!(
                "`{name}` must be a non-negative number"
            ))
            .with_param(name)
            .into());
        }
    }
    positive_limits(p.context_length, p.max_completion_tokens)?;
    printable("display_name", p.display_name.as_deref())?;
    if let Some(e) = p.enabled {
        model.enabled = e;
    }
    if let Some(v) = p.input_price_per_mtok {
        model.input_price_nanos_per_mtok = usd_per_mtok_to_nanos(v);
    }
    if let Some(v) = p.output_price_per_mtok {
        model.output_price_nanos_per_mtok = usd_per_mtok_to_nanos(v);
    }
    if p.input_price_per_mtok.is_some() || p.output_price_per_mtok.is_some() {
        // A price given by an operator is a known price (0: free).
        model.priced = true;
    }
    if p.context_length.is_some() {
        model.context_length = p.context_length;
    }
    if p.max_completion_tokens.is_some() {
        model.max_completion_tokens = p.max_completion_tokens;
    }
    if let Some(d) = p.display_name {
        model.display_name = Some(d).filter(|d| !d.trim().is_empty());
    }
    let model = state.store.update_model(&model, Utc::now()).await?;
    state.reload_registry().await?;
    Ok(HttpResponse::Ok().json(to_admin(model, &state)))
}

/// Enable or disable many models at once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkToggle {
    /// Model ids (at most 1000).
    #[schema(max_items = 1000)]
    pub ids: Vec<String>,
    pub enabled: bool,
}

/// How many models changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    pub updated: u64,
}

/// Enable or disable models in bulk (unknown ids are ignored).
#[utoipa::path(post, path = "/v1/admin/models/bulk", tag = "models", request_body = BulkToggle,
    responses((status = 200, description = "Updated", body = BulkResult)),
    security(("bearer" = [])))]
pub async fn bulk(
    _admin: AdminOnly,
    state: web::Data<AppState>,
    body: web::Json<BulkToggle>,
) -> Result<HttpResponse, ApiError> {
    if body.ids.len() > 1000 {
        return Err(GaiaError::invalid_request("at most 1000 ids per call")
            .with_param("ids")
            .into());
    }
    let updated = state
        .store
        .set_models_enabled(&body.ids, body.enabled, Utc::now())
        .await?;
    state.reload_registry().await?;
    Ok(HttpResponse::Ok().json(BulkResult { updated }))
}

/// What a sync did.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncResult {
    /// Models OpenRouter listed.
    pub total: u64,
    /// Newly registered.
    pub inserted: u64,
    /// Existing OpenRouter entries whose prices or limits changed.
    pub updated: u64,
}

/// Import OpenRouter's public model list with prices (`GET {OPENROUTER_BASE_URL}/models`).
/// New models are registered enabled; existing ones keep their enabled flag.
#[utoipa::path(post, path = "/v1/admin/models/sync", tag = "models",
    responses(
        (status = 200, description = "Synced", body = SyncResult),
        (status = 502, description = "OpenRouter failed", body = crate::routes::schemas::ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn sync(_admin: AdminOnly, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let provider = state
        .registry
        .load()
        .provider("openrouter")
        .cloned()
        .ok_or_else(|| GaiaError::invalid_request("the openrouter provider is not set up"))?;
    let models = gaia_providers::openrouter::fetch_models(&provider).await?;
    let total = models.len() as u64;
    let (inserted, updated) = state.store.seed_models(&models, Utc::now()).await?;
    state.reload_registry().await?;
    Ok(HttpResponse::Ok().json(SyncResult {
        total,
        inserted,
        updated,
    }))
}

/// An alias and its targets in fallback order.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Alias {
    #[schema(example = "fast")]
    pub alias: String,
    #[schema(example = json!(["google/gemini-2.5-flash", "openai/gpt-4o-mini"]))]
    pub targets: Vec<String>,
}

/// The targets of an alias.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AliasTargets {
    /// Model ids tried in order (fallbacks), 1–10.
    #[schema(min_items = 1, max_items = 10)]
    pub targets: Vec<String>,
}

/// List aliases.
#[utoipa::path(get, path = "/v1/admin/aliases", tag = "models",
    responses((status = 200, description = "Aliases", body = Vec<Alias>)),
    security(("bearer" = [])))]
pub async fn list_aliases(
    _admin: AdminOnly,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let aliases: Vec<Alias> = state
        .store
        .list_model_aliases()
        .await?
        .into_iter()
        .map(|a| Alias {
            alias: a.alias,
            targets: a.targets,
        })
        .collect();
    Ok(HttpResponse::Ok().json(aliases))
}

/// Create or replace an alias (e.g. `fast` → `google/gemini-2.5-flash`, then `openai/gpt-4o-mini`).
#[utoipa::path(put, path = "/v1/admin/aliases/{alias}", tag = "models", request_body = AliasTargets,
    params(("alias" = String, Path, description = "Alias name: letters, digits, '-', '_', '.', ':' (at most 128)", pattern = "^[A-Za-z0-9._:-]{1,128}$")),
    responses(
        (status = 200, description = "Saved", body = Alias),
        (status = 400, description = "Bad name or targets", body = crate::routes::schemas::ErrorBody),
        (status = 422, description = "A target is well-formed but not a registered model (`model_not_found`)", body = crate::routes::schemas::ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn put_alias(
    _admin: AdminOnly,
    state: web::Data<AppState>,
    alias: web::Path<String>,
    body: web::Json<AliasTargets>,
) -> Result<HttpResponse, ApiError> {
    let alias = alias.into_inner();
    let valid_name = !alias.is_empty()
        && alias.len() <= 128
        && alias
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    if !valid_name {
        return Err(GaiaError::invalid_request(
            "alias names use letters, digits, '-', '_', '.', ':' (at most 128)",
        )
        .with_param("alias")
        .into());
    }
    let targets = &body.targets;
    if targets.is_empty() || targets.len() > 10 {
        return Err(GaiaError::invalid_request("an alias needs 1 to 10 targets")
            .with_param("targets")
            .into());
    }
    for t in targets {
        if state.store.get_model(t).await.is_err() {
            // Well-formed, but not in the registry: 422 (a schema cannot list the registry).
            return Err(GaiaError::unprocessable(format!(
                "target '{t}' is not a registered model id"
            ))
            .with_param("targets")
            .with_code("model_not_found")
            .into());
        }
    }
    let saved = state
        .store
        .put_model_alias(&alias, targets, Utc::now())
        .await?;
    state.reload_registry().await?;
    Ok(HttpResponse::Ok().json(Alias {
        alias: saved.alias,
        targets: saved.targets,
    }))
}

/// Delete an alias.
#[utoipa::path(delete, path = "/v1/admin/aliases/{alias}", tag = "models",
    params(("alias" = String, Path, description = "Alias name")),
    responses(
        (status = 200, description = "Deleted", body = crate::routes::organizations::Message),
        (status = 404, description = "No such alias", body = crate::routes::schemas::ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn delete_alias(
    _admin: AdminOnly,
    state: web::Data<AppState>,
    alias: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.store.delete_model_alias(&alias).await?;
    state.reload_registry().await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"message": format!("alias '{alias}' deleted")})))
}
