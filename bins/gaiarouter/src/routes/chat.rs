//! `POST /v1/chat/completions` — the OpenAI Chat Completions API in front of every provider.
//!
//! The handler decodes the OpenAI body into the canonical request, hands it to the inference pipeline
//! (`gaia_gateway::Pipeline`: resolve, admit, route, record — shared by every inbound API) and encodes
//! the answer, or each event of the stream, back into OpenAI's format.

use std::convert::Infallible;

use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use bytes::Bytes;
use chrono::Utc;
use futures_util::StreamExt;
use gaia_adapters::{ResponseMeta, StreamEncoder, openai};
use gaia_gateway::{RequestContext, Served, StreamItem};

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::middleware::RequestId;
use crate::state::AppState;

/// Create a chat completion.
///
/// The OpenAI Chat Completions request and response, for every registered model: `provider/model`
/// (`openai/gpt-4o-mini`, `anthropic/claude-sonnet-4-5`, `google/gemini-2.5-flash`,
/// `openrouter/<vendor>/<model>`), a bare well-known name (`gpt-4o-mini`, `claude-…`, `gemini-…`) or an
/// alias. With `"stream": true` the answer is Server-Sent Events: `data: {chat.completion.chunk}` lines,
/// a usage chunk when `stream_options.include_usage` is set, then `data: [DONE]`.
#[utoipa::path(
    post,
    path = "/v1/chat/completions",
    tag = "inference",
    request_body(content = Object, description = "An OpenAI Chat Completions request (schema: `ChatCompletionRequest`)", content_type = "application/json",
        example = json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hello!"}]})),
    responses(
        (status = 200, description = "A `chat.completion` object, or an SSE stream of `chat.completion.chunk` objects when `stream` is true",
            content((Object = "application/json",
                example = json!({"id": "chatcmpl-0192…", "object": "chat.completion", "created": 1764200000, "model": "openai/gpt-4o-mini",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello! How can I help?"}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 9, "completion_tokens": 7, "total_tokens": 16}})),
                (crate::routes::schemas::SseEvent = "text/event-stream"))),
        (status = 400, description = "Invalid request, or the model's provider is not configured", body = crate::routes::schemas::ErrorBody),
        (status = 403, description = "The model has no known price and the key or its organization has a cost limit (`model_not_priced`)", body = crate::routes::schemas::ErrorBody),
        (status = 422, description = "`max_tokens` beyond what the model can produce (`max_tokens_too_large`), or an embedding model (`model_kind_mismatch`: use /v1/embeddings)", body = crate::routes::schemas::ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = crate::routes::schemas::ErrorBody),
        (status = 404, description = "Unknown or disabled model (`model_not_found`)", body = crate::routes::schemas::ErrorBody),
        (status = 413, description = "Body larger than GAIA_MAX_BODY_BYTES", body = crate::routes::schemas::ErrorBody),
        (status = 429, description = "A limit is reached (`organization_limit_error` monthly, `rate_limit_error` per minute) or the provider is rate limiting; see `retry-after`", body = crate::routes::schemas::ErrorBody),
        (status = 502, description = "The provider failed", body = crate::routes::schemas::ErrorBody),
        (status = 503, description = "Every channel of the model's provider is failing or disabled (`channels_unavailable`), every connection its `max_connections` allows stayed in use (`upstream_busy`), or per-minute limits cannot be checked while Redis is unreachable and `GAIA_REDIS_FAILURE=closed` (`rate_limiter_unavailable`); see `retry-after`", body = crate::routes::schemas::ErrorBody),
        (status = 504, description = "The provider did not answer in time", body = crate::routes::schemas::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn chat_completions(
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
    let context = RequestContext::new(request_id, &principal);
    let request = match openai::parse_request(&body) {
        Ok(r) => r,
        Err(e) => {
            state
                .pipeline
                .refuse_undecodable(context, sniff_model(&body), &e);
            return Err(e.into());
        }
    };
    let created = Utc::now().timestamp();
    let meta = ResponseMeta::new(
        format!("chatcmpl-{}", context.request_id()),
        request.model.clone(),
        created,
    );
    let include_usage = request.include_usage;
    match state.pipeline.serve(context, request, meta.clone()).await? {
        Served::Complete { response, target } => {
            let body = openai::encode_response_bytes(&response, &target.model.id, &meta.id)?;
            Ok(HttpResponse::Ok()
                .content_type(header::ContentType::json())
                .insert_header(("x-gaia-provider", target.provider.name().to_owned()))
                .body(body))
        }
        Served::Stream(stream) => {
            let target = stream.target();
            let provider = target.provider.name().to_owned();
            let mut encoder =
                openai::OpenAiStreamEncoder::new(target.model.id.clone(), include_usage)
                    .with_id(meta.id, created);
            let frames = stream.map(move |item| {
                Ok::<_, Infallible>(match item {
                    StreamItem::Event(event) => {
                        let mut out = String::with_capacity(160);
                        encoder.encode(&event, &mut out);
                        Bytes::from(out)
                    }
                    StreamItem::KeepAlive => Bytes::from_static(b": keep-alive\n\n"),
                })
            });
            Ok(HttpResponse::Ok()
                .content_type("text/event-stream")
                .insert_header((header::CACHE_CONTROL, "no-cache"))
                .insert_header(("x-accel-buffering", "no"))
                .insert_header(("x-gaia-provider", provider))
                .streaming(frames))
        }
    }
}

/// The model named in a body that did not parse, for the record (best effort, bounded).
pub(crate) fn sniff_model(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct JustModel {
        model: Option<String>,
    }
    serde_json::from_slice::<JustModel>(body)
        .ok()
        .and_then(|m| m.model)
        .map(|m| m.chars().take(256).collect())
        .unwrap_or_default()
}
