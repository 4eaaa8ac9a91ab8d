//! `POST /v1/embeddings` — OpenAI's embeddings API in front of OpenAI, Gemini, OpenRouter and
//! OpenAI-compatible servers (specs/embeddings.md).
//!
//! The handler decodes the body (`gaia_adapters::embeddings::parse_request`), hands it to the inference
//! pipeline (`gaia_gateway::Pipeline::embed`: resolve an embedding model, admit, route, record) and writes
//! the vectors back as floats or base64 (`gaia_adapters::embeddings::encode_response`).

use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use bytes::Bytes;
use gaia_adapters::embeddings;
use gaia_core::InboundApi;
use gaia_gateway::RequestContext;

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::middleware::RequestId;
use crate::routes::chat::sniff_model;
use crate::state::AppState;

/// Create embeddings.
///
/// OpenAI's embeddings request and response for every registered embedding model (kind `embedding` in
/// `/v1/models`): `openai/text-embedding-3-small`, `google/gemini-embedding-001`,
/// `openrouter/<vendor>/<model>` or an alias. `input` is a string, a list of strings, a token array (a list
/// of integers) or a list of token arrays — at most 2048 inputs; token arrays only for OpenAI-format
/// providers. `encoding_format: "base64"` returns each vector as its little-endian `f32` bytes in base64.
/// A chat model named here is a 422 (`model_kind_mismatch`).
#[utoipa::path(
    post,
    path = "/v1/embeddings",
    tag = "inference",
    request_body(content = Object, description = "An OpenAI embeddings request (schema: `EmbeddingRequest`)", content_type = "application/json",
        example = json!({"model": "openai/text-embedding-3-small", "input": ["The first text", "The second"], "dimensions": 256})),
    responses(
        (status = 200, description = "A `list` of `embedding` objects, one per input, in input order",
            content((Object = "application/json",
                example = json!({"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.0123, -0.0456]}],
                    "model": "openai/text-embedding-3-small", "usage": {"prompt_tokens": 4, "total_tokens": 4}})))),
        (status = 400, description = "Invalid request (`param` names the field), or the model's provider is not configured", body = crate::routes::schemas::ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = crate::routes::schemas::ErrorBody),
        (status = 403, description = "The model has no known price and the key or its organization has a cost limit (`model_not_priced`)", body = crate::routes::schemas::ErrorBody),
        (status = 404, description = "Unknown or disabled model (`model_not_found`)", body = crate::routes::schemas::ErrorBody),
        (status = 413, description = "Body larger than GAIA_MAX_BODY_BYTES", body = crate::routes::schemas::ErrorBody),
        (status = 422, description = "Well-formed, but refused by a rule of the model: a chat model (`model_kind_mismatch`), `dimensions` above its vector length (`dimensions_too_large`), or token arrays for a provider that embeds text only (`token_input_unsupported`)", body = crate::routes::schemas::ErrorBody),
        (status = 429, description = "A limit is reached (`organization_limit_error` monthly, `rate_limit_error` per minute) or the provider is rate limiting; see `retry-after`", body = crate::routes::schemas::ErrorBody),
        (status = 502, description = "The provider failed or answered something that is not embeddings", body = crate::routes::schemas::ErrorBody),
        (status = 503, description = "Every channel of the model's provider is failing or disabled (`channels_unavailable`), every connection its `max_connections` allows stayed in use (`upstream_busy`), or per-minute limits cannot be checked while Redis is unreachable and `GAIA_REDIS_FAILURE=closed` (`rate_limiter_unavailable`); see `retry-after`", body = crate::routes::schemas::ErrorBody),
        (status = 504, description = "The provider did not answer in time", body = crate::routes::schemas::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_embeddings(
    Authenticated(principal): Authenticated,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let context = RequestContext::new(request_id, &principal).with_api(InboundApi::Embeddings);
    let request = match embeddings::parse_request(&body) {
        Ok(r) => r,
        Err(e) => {
            state
                .pipeline
                .refuse_undecodable(context, sniff_model(&body), &e);
            return Err(e.into());
        }
    };
    let encoding = request.encoding;
    let (response, target) = state.pipeline.embed(context, request).await?;
    let body = embeddings::encode_response(&response, &target.model.id, encoding);
    Ok(HttpResponse::Ok()
        .content_type(header::ContentType::json())
        .insert_header(("x-gaia-provider", target.provider.name().to_owned()))
        .body(body))
}
