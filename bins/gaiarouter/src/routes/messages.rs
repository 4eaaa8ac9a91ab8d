//! `POST /v1/messages` and `POST /v1/messages/count_tokens` — the Anthropic Messages API in front of every
//! provider (specs/messages.md).
//!
//! Like the chat route: decode the Messages body into the canonical request, hand it to the inference
//! pipeline (the same keys, limits, routing and usage records; the record names the `messages` API) and
//! encode the answer, or each event of the stream, back into the Messages format. Every error, the
//! authentication failures included, leaves in Anthropic's envelope.

use std::convert::Infallible;

use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use bytes::Bytes;
use chrono::Utc;
use futures_util::StreamExt;
use gaia_adapters::anthropic::inbound;
use gaia_adapters::{ResponseMeta, StreamEncoder};
use gaia_core::{GaiaError, InboundApi};
use gaia_gateway::{RequestContext, Served, StreamItem};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Authenticated;
use crate::error::{AnthropicError, ApiError};
use crate::middleware::RequestId;
use crate::routes::chat::sniff_model;
use crate::state::AppState;

/// The answer of `POST /v1/messages/count_tokens`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenCount {
    /// The input tokens the request would use.
    pub input_tokens: u64,
}

fn request_id(req: &HttpRequest) -> String {
    req.extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default()
}

/// The body, or why it could not be read (too large: 413).
fn body_or_error(body: Result<Bytes, actix_web::Error>) -> Result<Bytes, GaiaError> {
    body.map_err(|e| {
        if e.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE {
            crate::error::payload_too_large(None, 0)
        } else {
            GaiaError::invalid_request(format!("could not read the request body: {e}"))
                .with_code("invalid_body")
        }
    })
}

/// The caller, its body and its request id, or the error to answer in Anthropic's envelope.
fn admitted(
    auth: Result<Authenticated, ApiError>,
    body: Result<Bytes, actix_web::Error>,
    request_id: &str,
) -> Result<(Authenticated, Bytes), AnthropicError> {
    let auth = auth.map_err(|ApiError(e)| AnthropicError::new(e, request_id))?;
    let body = body_or_error(body).map_err(|e| AnthropicError::new(e, request_id))?;
    Ok((auth, body))
}

/// The client's `anthropic-beta` and `anthropic-version`, for Anthropic upstreams.
fn pass_anthropic_headers(req: &HttpRequest, request: &mut gaia_core::ChatRequest) {
    request.anthropic.beta = anthropic_beta(req);
    request.anthropic.version = req
        .headers()
        .get("anthropic-version")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
}

/// The client's `anthropic-beta` features (every header of that name, joined).
fn anthropic_beta(req: &HttpRequest) -> Option<String> {
    let values: Vec<&str> = req
        .headers()
        .get_all("anthropic-beta")
        .filter_map(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

/// Create a message (the Anthropic Messages API).
///
/// Anthropic's `POST /v1/messages` for every registered model — Claude, GPT, Gemini, OpenRouter and
/// OpenAI-compatible servers alike. Authenticate with `x-api-key: <GaiaRouter key>` (as the Anthropic
/// SDKs and Claude Code do) or `Authorization: Bearer`. `anthropic-version` and `anthropic-beta` are
/// accepted and passed on to Anthropic upstreams. With `"stream": true` the answer is Anthropic's
/// event stream (`message_start`, `content_block_start` / `_delta` / `_stop`, `message_delta`,
/// `message_stop`, `ping` while the provider is silent, `error` on a failure after the first byte).
/// Errors use Anthropic's envelope.
#[utoipa::path(
    post,
    path = "/v1/messages",
    tag = "inference",
    params(
        ("anthropic-version" = Option<String>, Header, description = "Passed on to Anthropic upstreams (default `2023-06-01`)"),
        ("anthropic-beta" = Option<String>, Header, description = "Beta features, passed on to Anthropic upstreams"),
    ),
    request_body(content = Object, description = "An Anthropic Messages API request (schema: `MessagesRequest`)", content_type = "application/json",
        example = json!({"model": "anthropic/claude-sonnet-4-5", "max_tokens": 1024, "messages": [{"role": "user", "content": "Hello!"}]})),
    responses(
        (status = 200, description = "A `message` object, or Anthropic's event stream when `stream` is true",
            content((Object = "application/json",
                example = json!({"id": "msg_01a21b5c4b4971f1b6a35a732ad14862", "type": "message", "role": "assistant", "model": "anthropic/claude-sonnet-4-5",
                    "content": [{"type": "text", "text": "Hello! How can I help?"}], "stop_reason": "end_turn", "stop_sequence": null,
                    "usage": {"input_tokens": 9, "output_tokens": 7, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}})),
                (crate::routes::schemas::SseEvent = "text/event-stream"))),
        (status = 400, description = "Invalid request (`invalid_request_error`; the message starts with the field at fault), or the model's provider is not configured", body = crate::routes::schemas::AnthropicErrorBody),
        (status = 401, description = "Missing or invalid API key (`authentication_error`)", body = crate::routes::schemas::AnthropicErrorBody),
        (status = 403, description = "The model has no known price and the key or its organization has a cost limit (`permission_error`)", body = crate::routes::schemas::AnthropicErrorBody),
        (status = 404, description = "Unknown or disabled model (`not_found_error`)", body = crate::routes::schemas::AnthropicErrorBody),
        (status = 422, description = "A well-formed request refused by a rule no schema states (`invalid_request_error`): an embedding model (use /v1/embeddings); a `thinking.budget_tokens` not below `max_tokens`, a `tool_choice` naming a tool not in `tools`, or a conversation with nothing an Anthropic model can take (every message empty)", body = crate::routes::schemas::AnthropicErrorBody),
        (status = 413, description = "Body larger than GAIA_MAX_BODY_BYTES (`request_too_large`)", body = crate::routes::schemas::AnthropicErrorBody),
        (status = 429, description = "A limit is reached or the provider is rate limiting (`rate_limit_error`); see `retry-after`", body = crate::routes::schemas::AnthropicErrorBody),
        (status = 502, description = "The provider failed (`api_error`)", body = crate::routes::schemas::AnthropicErrorBody),
        (status = 503, description = "`overloaded_error`: every channel of the model's provider is failing or disabled, every connection its `max_connections` allows stayed in use, or per-minute limits cannot be checked while Redis is unreachable and `GAIA_REDIS_FAILURE=closed`; see `retry-after`", body = crate::routes::schemas::AnthropicErrorBody),
        (status = 504, description = "The provider did not answer in time (`timeout_error`)", body = crate::routes::schemas::AnthropicErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn messages(
    auth: Result<Authenticated, ApiError>,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Result<Bytes, actix_web::Error>,
) -> Result<HttpResponse, AnthropicError> {
    let request_id = request_id(&req);
    let (Authenticated(principal), body) = admitted(auth, body, &request_id)?;
    let context =
        RequestContext::new(request_id.clone(), &principal).with_api(InboundApi::Messages);
    let mut request = match inbound::parse_request(&body) {
        Ok(r) => r,
        Err(e) => {
            state
                .pipeline
                .refuse_undecodable(context, sniff_model(&body), &e);
            return Err(AnthropicError::new(e, &request_id));
        }
    };
    pass_anthropic_headers(&req, &mut request);
    // The body itself, for an Anthropic upstream (a reference to the same buffer, not a copy).
    request.anthropic.raw = Some(gaia_core::RawBody::new(body.clone()));
    let meta = ResponseMeta::new(
        format!("msg_{request_id}"),
        request.model.clone(),
        Utc::now().timestamp(),
    );
    let served = state
        .pipeline
        .serve(context, request, meta.clone())
        .await
        .map_err(|e| AnthropicError::new(e, &request_id))?;
    match served {
        Served::Complete { response, target } => {
            let body = inbound::encode_response(&response, &target.model.id, &meta.id)
                .map_err(|e| AnthropicError::new(e, &request_id))?;
            Ok(HttpResponse::Ok()
                .content_type(header::ContentType::json())
                .insert_header(("x-gaia-provider", target.provider.name().to_owned()))
                .insert_header(("request-id", request_id))
                .body(body))
        }
        Served::Stream(stream) => {
            let target = stream.target();
            let provider = target.provider.name().to_owned();
            let mut encoder =
                inbound::AnthropicStreamEncoder::new(meta.id, target.model.id.clone());
            let frames = stream.map(move |item| {
                let mut out = String::with_capacity(192);
                match item {
                    StreamItem::Event(event) => encoder.encode(&event, &mut out),
                    StreamItem::KeepAlive => encoder.ping(&mut out),
                }
                Ok::<_, Infallible>(Bytes::from(out))
            });
            Ok(HttpResponse::Ok()
                .content_type("text/event-stream")
                .insert_header((header::CACHE_CONTROL, "no-cache"))
                .insert_header(("x-accel-buffering", "no"))
                .insert_header(("x-gaia-provider", provider))
                .insert_header(("request-id", request_id))
                .streaming(frames))
        }
    }
}

/// Count the tokens of a message request.
///
/// Anthropic's `POST /v1/messages/count_tokens`: the same body as `POST /v1/messages` (`max_tokens` not
/// required) for any registered model. Anthropic and Gemini models are counted by their provider
/// (`x-gaia-token-count: provider`); other models — or when that call fails — by GaiaRouter's tokenizer
/// (`o200k_base` over the system prompt, messages, tool calls and tool definitions, with per-message
/// framing; `x-gaia-token-count: estimate`). No usage is recorded and no limit is charged.
#[utoipa::path(
    post,
    path = "/v1/messages/count_tokens",
    tag = "inference",
    request_body(content = Object, description = "An Anthropic Messages API request, `max_tokens` optional (schema: `MessagesCountTokensRequest`)", content_type = "application/json",
        example = json!({"model": "anthropic/claude-sonnet-4-5", "messages": [{"role": "user", "content": "Hello!"}]})),
    responses(
        (status = 200, description = "The input tokens", body = TokenCount,
            headers(("x-gaia-token-count" = String, description = "`provider`: the provider's own count (Anthropic, Gemini); `estimate`: GaiaRouter's tokenizer"))),
        (status = 400, description = "Invalid request (`invalid_request_error`)", body = crate::routes::schemas::AnthropicErrorBody),
        (status = 401, description = "Missing or invalid API key (`authentication_error`)", body = crate::routes::schemas::AnthropicErrorBody),
        (status = 404, description = "Unknown or disabled model (`not_found_error`)", body = crate::routes::schemas::AnthropicErrorBody),
        (status = 422, description = "A well-formed request refused by a rule no schema states (`invalid_request_error`): an embedding model (use /v1/embeddings); a `thinking.budget_tokens` not below `max_tokens`, or a `tool_choice` naming a tool not in `tools`", body = crate::routes::schemas::AnthropicErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn count_tokens(
    auth: Result<Authenticated, ApiError>,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Result<Bytes, actix_web::Error>,
) -> Result<HttpResponse, AnthropicError> {
    let request_id = request_id(&req);
    let (_caller, body) = admitted(auth, body, &request_id)?;
    let mut request = inbound::parse_count_tokens_request(&body)
        .map_err(|e| AnthropicError::new(e, &request_id))?;
    pass_anthropic_headers(&req, &mut request);
    let count = state
        .pipeline
        .count_tokens(request)
        .await
        .map_err(|e| AnthropicError::new(e, &request_id))?;
    let source = if count.counted_by_provider {
        "provider"
    } else {
        "estimate"
    };
    Ok(HttpResponse::Ok()
        .insert_header(("x-gaia-token-count", source))
        .insert_header(("request-id", request_id))
        .json(TokenCount {
            input_tokens: count.input_tokens,
        }))
}
