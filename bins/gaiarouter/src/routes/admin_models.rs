//! The model registry for admins over HTTP: list, register, enable/disable (also in bulk), sync from
//! OpenRouter, and aliases. The rules live in `gaia_gateway::models::Models`; these handlers only read
//! the request, check the role and shape the answer. Every change is applied to this instance's
//! in-memory registry at once and reaches other instances within the refresh interval.

use actix_web::{HttpResponse, web};
use gaia_core::ModelInfo;
use gaia_store::models::ModelFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AdminOnly;
use crate::error::ApiError;
use crate::routes::pagination::{PageQuery, Paginated};
use crate::state::AppState;
use gaia_core::money::usd;

/// What a model does: `chat` (chat completions, messages, responses) or `embedding` (embeddings).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    #[default]
    Chat,
    Embedding,
}

impl From<ModelKind> for gaia_core::ModelKind {
    fn from(kind: ModelKind) -> Self {
        match kind {
            ModelKind::Chat => gaia_core::ModelKind::Chat,
            ModelKind::Embedding => gaia_core::ModelKind::Embedding,
        }
    }
}

impl From<gaia_core::ModelKind> for ModelKind {
    fn from(kind: gaia_core::ModelKind) -> Self {
        match kind {
            gaia_core::ModelKind::Chat => ModelKind::Chat,
            gaia_core::ModelKind::Embedding => ModelKind::Embedding,
        }
    }
}

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
    /// USD per million prompt tokens read from a cache; `null`: the provider's default ratio of the input
    /// price (the price that applies is in `effective_prices`).
    pub cached_input_price_per_mtok: Option<f64>,
    /// USD per million prompt tokens written to a cache; `null`: the provider's default ratio of the input
    /// price.
    pub cache_write_price_per_mtok: Option<f64>,
    /// The price of every token class as requests are billed.
    pub effective_prices: EffectivePrices,
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
    pub kind: ModelKind,
    /// An embedding model's native vector length (the most `dimensions` a request may ask), when known.
    pub dimensions: Option<i64>,
}

/// The price of every token class as requests are billed (USD per million tokens): the model's own prices,
/// and for a cache price it does not set, its provider's default ratio of the input price (Anthropic: reads
/// 0.1×, writes 1.25×; OpenAI: 0.5×, 1×; Gemini: 0.25×, 1×; OpenRouter and OpenAI-compatible servers: 1×,
/// 1×). A request costs `(prompt − cached − cache writes) × input + cached × cached_input + cache writes ×
/// cache_write + completion × output` (reasoning tokens are completion tokens).
#[derive(Debug, Serialize, ToSchema)]
pub struct EffectivePrices {
    pub input_price_per_mtok: f64,
    pub cached_input_price_per_mtok: f64,
    pub cache_write_price_per_mtok: f64,
    pub output_price_per_mtok: f64,
}

fn to_admin(m: ModelInfo, state: &AppState) -> AdminModel {
    let configured = state.models.provider_configured(&m.provider);
    let effective = state.models.token_prices(&m);
    AdminModel {
        input_price_per_mtok: usd(m.input_price_nanos_per_mtok),
        output_price_per_mtok: usd(m.output_price_nanos_per_mtok),
        cached_input_price_per_mtok: m.cached_input_price_nanos_per_mtok.map(usd),
        cache_write_price_per_mtok: m.cache_write_price_nanos_per_mtok.map(usd),
        effective_prices: EffectivePrices {
            input_price_per_mtok: usd(effective.input),
            cached_input_price_per_mtok: usd(effective.cached_input),
            cache_write_price_per_mtok: usd(effective.cache_write),
            output_price_per_mtok: usd(effective.output),
        },
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
        kind: m.kind.into(),
        dimensions: m.dimensions,
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
    /// Only models of this kind.
    pub kind: Option<ModelKind>,
}

/// List the registry (paginated, filterable).
#[utoipa::path(get, path = "/v1/admin/models", operation_id = "list_admin_models", tag = "models",
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
        kind: filter.kind.map(Into::into),
    };
    let result = state.models.list(&filter, page).await?;
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
    #[schema(minimum = 0, maximum = 9e9)]
    pub input_price_per_mtok: Option<f64>,
    /// USD per million output tokens (0 when only the input price is given).
    #[schema(minimum = 0, maximum = 9e9)]
    pub output_price_per_mtok: Option<f64>,
    /// USD per million prompt tokens read from a cache. Left out or `null`: the provider's default ratio
    /// of the input price (see `effective_prices` in the answer).
    #[schema(minimum = 0, maximum = 9e9)]
    pub cached_input_price_per_mtok: Option<f64>,
    /// USD per million prompt tokens written to a cache. Left out or `null`: the provider's default ratio
    /// of the input price.
    #[schema(minimum = 0, maximum = 9e9)]
    pub cache_write_price_per_mtok: Option<f64>,
    #[serde(default)]
    pub supports_vision: bool,
    #[serde(default = "yes")]
    pub supports_tools: bool,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// `chat` (the default) or `embedding`. An embedding model is billed for its input tokens only (its
    /// output and cache prices must be 0 or absent) and cannot be served by an Anthropic provider (422).
    #[serde(default)]
    pub kind: ModelKind,
    /// An embedding model's native vector length: requests asking more `dimensions` are refused (422).
    #[schema(minimum = 1)]
    #[serde(default, deserialize_with = "crate::routes::patch::integer")]
    pub dimensions: Option<i64>,
}

fn yes() -> bool {
    true
}

/// Register a model by hand.
#[utoipa::path(post, path = "/v1/admin/models", operation_id = "create_model", tag = "models", request_body = NewModel,
    responses(
        (status = 201, description = "Registered", body = AdminModel),
        (status = 400, description = "Invalid id or negative price", body = crate::routes::schemas::ErrorBody),
        (status = 422, description = "Well-formed, but the provider does not exist on this gateway (`unknown_provider`), an output or cache price above 0 for an embedding model (`price_unused`), `dimensions` for a chat model (`dimensions_unsupported`), or an embedding model on an Anthropic provider (`embeddings_unsupported`)", body = crate::routes::schemas::ErrorBody),
        (status = 409, description = "Already registered", body = crate::routes::schemas::ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn create(
    _admin: AdminOnly,
    state: web::Data<AppState>,
    body: web::Json<NewModel>,
) -> Result<HttpResponse, ApiError> {
    let new = body.into_inner();
    let created = state
        .models
        .register(gaia_gateway::models::NewModel {
            id: new.id,
            upstream_name: new.upstream_name,
            display_name: new.display_name,
            context_length: new.context_length,
            max_completion_tokens: new.max_completion_tokens,
            input_price_per_mtok: new.input_price_per_mtok,
            output_price_per_mtok: new.output_price_per_mtok,
            cached_input_price_per_mtok: new.cached_input_price_per_mtok,
            cache_write_price_per_mtok: new.cache_write_price_per_mtok,
            supports_vision: new.supports_vision,
            supports_tools: new.supports_tools,
            enabled: new.enabled,
            kind: new.kind.into(),
            dimensions: new.dimensions,
        })
        .await?;
    Ok(HttpResponse::Created().json(to_admin(created, &state)))
}

/// Changes to a model: enable/disable, and (for any source) correct its prices or limits. A later
/// catalog or OpenRouter sync of the same source may refresh prices again.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelPatch {
    pub enabled: Option<bool>,
    /// USD per million input tokens.
    #[schema(minimum = 0, maximum = 9e9)]
    pub input_price_per_mtok: Option<f64>,
    /// USD per million output tokens.
    #[schema(minimum = 0, maximum = 9e9)]
    pub output_price_per_mtok: Option<f64>,
    /// USD per million prompt tokens read from a cache; `null` goes back to the provider's default ratio
    /// of the input price.
    #[serde(default, deserialize_with = "crate::routes::patch::nullable")]
    #[schema(value_type = Option<f64>, minimum = 0)]
    pub cached_input_price_per_mtok: Option<Option<f64>>,
    /// USD per million prompt tokens written to a cache; `null` goes back to the provider's default ratio
    /// of the input price.
    #[serde(default, deserialize_with = "crate::routes::patch::nullable")]
    #[schema(value_type = Option<f64>, minimum = 0)]
    pub cache_write_price_per_mtok: Option<Option<f64>>,
    #[schema(minimum = 1)]
    #[serde(default, deserialize_with = "crate::routes::patch::integer")]
    pub context_length: Option<i64>,
    #[schema(minimum = 1)]
    #[serde(default, deserialize_with = "crate::routes::patch::integer")]
    pub max_completion_tokens: Option<i64>,
    #[schema(pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")]
    pub display_name: Option<String>,
    /// An embedding model's native vector length (embedding models only).
    #[schema(minimum = 1)]
    #[serde(default, deserialize_with = "crate::routes::patch::integer")]
    pub dimensions: Option<i64>,
}

/// Enable or disable a model, or correct its prices and limits.
#[utoipa::path(patch, path = "/v1/admin/models/{id}", operation_id = "update_model", tag = "models", request_body = ModelPatch,
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
    let p = body.into_inner();
    let model = state
        .models
        .change(
            &id,
            gaia_gateway::models::ModelChange {
                enabled: p.enabled,
                input_price_per_mtok: p.input_price_per_mtok,
                output_price_per_mtok: p.output_price_per_mtok,
                cached_input_price_per_mtok: p.cached_input_price_per_mtok,
                cache_write_price_per_mtok: p.cache_write_price_per_mtok,
                context_length: p.context_length,
                max_completion_tokens: p.max_completion_tokens,
                display_name: p.display_name,
                dimensions: p.dimensions,
            },
        )
        .await?;
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
#[utoipa::path(post, path = "/v1/admin/models/bulk", operation_id = "bulk_toggle_models", tag = "models", request_body = BulkToggle,
    responses((status = 200, description = "Updated", body = BulkResult)),
    security(("bearer" = [])))]
pub async fn bulk(
    _admin: AdminOnly,
    state: web::Data<AppState>,
    body: web::Json<BulkToggle>,
) -> Result<HttpResponse, ApiError> {
    let updated = state.models.set_enabled(&body.ids, body.enabled).await?;
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
#[utoipa::path(post, path = "/v1/admin/models/sync", operation_id = "sync_openrouter_models", tag = "models",
    responses(
        (status = 200, description = "Synced", body = SyncResult),
        (status = 502, description = "OpenRouter failed", body = crate::routes::schemas::ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn sync(_admin: AdminOnly, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let synced = state.models.sync_openrouter().await?;
    Ok(HttpResponse::Ok().json(SyncResult {
        total: synced.total,
        inserted: synced.inserted,
        updated: synced.updated,
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
        .models
        .aliases()
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
    let saved = state.models.put_alias(&alias, &body.targets).await?;
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
    state.models.delete_alias(&alias).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"message": format!("alias '{alias}' deleted")})))
}
