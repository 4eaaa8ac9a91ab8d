//! `GET /v1/models` and `GET /v1/models/{id}` in OpenAI's list format.

use actix_web::{HttpResponse, web};
use gaia_core::{CacheRatios, GaiaError, ModelInfo};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::state::AppState;

/// A model as OpenAI lists it, plus GaiaRouter's registry details.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelObject {
    /// `provider/model`, the id to send as `model`.
    #[schema(example = "openai/gpt-4o-mini")]
    pub id: String,
    /// Always `model`.
    pub object: &'static str,
    /// Unix seconds (0: unknown).
    pub created: i64,
    /// The provider serving it.
    #[schema(example = "openai")]
    pub owned_by: String,
    pub display_name: Option<String>,
    pub context_length: Option<i64>,
    pub max_completion_tokens: Option<i64>,
    /// USD per million input tokens.
    pub input_price_per_mtok: f64,
    /// USD per million output tokens.
    pub output_price_per_mtok: f64,
    /// USD per million prompt tokens read from a cache (cached input), as billed: the model's own price or
    /// its provider's default ratio of the input price.
    pub cached_input_price_per_mtok: f64,
    /// USD per million prompt tokens written to a cache, as billed: the model's own price or its
    /// provider's default ratio of the input price.
    pub cache_write_price_per_mtok: f64,
    /// Whether the prices are known (`false`: the prices read 0 but the cost is unknown; a key or
    /// organization with a monthly cost limit is refused on this model).
    pub priced: bool,
    pub capabilities: Capabilities,
    /// `chat` (chat completions, messages, responses) or `embedding` (`/v1/embeddings`).
    pub kind: crate::routes::admin_models::ModelKind,
    /// An embedding model's native vector length, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Capabilities {
    pub vision: bool,
    pub tools: bool,
    pub streaming: bool,
}

/// `{"object":"list","data":[…]}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelList {
    pub object: &'static str,
    pub data: Vec<ModelObject>,
}

impl From<&ModelInfo> for ModelObject {
    /// `m` comes from the registry snapshot, whose models have their cache prices filled in.
    fn from(m: &ModelInfo) -> Self {
        let prices = m.token_prices(CacheRatios::AT_INPUT);
        Self {
            id: m.id.clone(),
            object: "model",
            created: 0,
            owned_by: m.provider.clone(),
            display_name: m.display_name.clone(),
            context_length: m.context_length,
            max_completion_tokens: m.max_completion_tokens,
            input_price_per_mtok: gaia_core::money::usd(m.input_price_nanos_per_mtok),
            output_price_per_mtok: gaia_core::money::usd(m.output_price_nanos_per_mtok),
            cached_input_price_per_mtok: gaia_core::money::usd(prices.cached_input),
            cache_write_price_per_mtok: gaia_core::money::usd(prices.cache_write),
            priced: m.priced,
            capabilities: Capabilities {
                vision: m.supports_vision,
                tools: m.supports_tools,
                streaming: m.supports_streaming,
            },
            kind: m.kind.into(),
            dimensions: m.dimensions,
        }
    }
}

/// List the models this gateway can serve: enabled models of configured providers.
#[utoipa::path(
    get,
    path = "/v1/models",
    tag = "inference",
    responses(
        (status = 200, description = "The models", body = ModelList),
        (status = 401, description = "Missing or invalid API key", body = crate::routes::schemas::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_models(_auth: Authenticated, state: web::Data<AppState>) -> HttpResponse {
    let registry = state.registry.load();
    let data = registry
        .available_models()
        .into_iter()
        .map(ModelObject::from)
        .collect();
    HttpResponse::Ok().json(ModelList {
        object: "list",
        data,
    })
}

/// One model (the id may contain slashes: `openrouter/meta-llama/llama-3.1-8b-instruct`).
#[utoipa::path(
    get,
    path = "/v1/models/{id}",
    tag = "inference",
    params(("id" = String, Path, description = "Model id, e.g. `openai/gpt-4o-mini`", min_length = 1, max_length = 256)),
    responses(
        (status = 200, description = "The model", body = ModelObject),
        (status = 404, description = "Unknown, disabled or unavailable model", body = crate::routes::schemas::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_model(
    _auth: Authenticated,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let registry = state.registry.load();
    let model = registry.available_model(&id).ok_or_else(|| {
        GaiaError::not_found(format!("the model '{id}' is not available on this gateway"))
            .with_code("model_not_found")
    })?;
    Ok(HttpResponse::Ok().json(ModelObject::from(model)))
}
