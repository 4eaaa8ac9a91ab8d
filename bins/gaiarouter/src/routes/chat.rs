//! `POST /v1/chat/completions` — the OpenAI Chat Completions API in front of every provider.

use std::convert::Infallible;

use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use bytes::Bytes;
use futures_util::StreamExt;
use gaia_adapters::{ResponseMeta, StreamEncoder, openai};
use gaia_providers::router;

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
    request_body(content = Object, description = "An OpenAI Chat Completions request", content_type = "application/json",
        example = json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hello!"}]})),
    responses(
        (status = 200, description = "A `chat.completion` object, or an SSE stream of `chat.completion.chunk` objects when `stream` is true", body = Object,
            example = json!({"id": "chatcmpl-0192…", "object": "chat.completion", "created": 1764200000, "model": "openai/gpt-4o-mini",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello! How can I help?"}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 9, "completion_tokens": 7, "total_tokens": 16}})),
        (status = 400, description = "Invalid request, or the model's provider is not configured", body = crate::openapi::ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = crate::openapi::ErrorBody),
        (status = 404, description = "Unknown or disabled model (`model_not_found`)", body = crate::openapi::ErrorBody),
        (status = 413, description = "Body larger than GAIA_MAX_BODY_BYTES", body = crate::openapi::ErrorBody),
        (status = 429, description = "Rate limited (upstream or a GaiaRouter limit); see `retry-after`", body = crate::openapi::ErrorBody),
        (status = 502, description = "The provider failed", body = crate::openapi::ErrorBody),
        (status = 504, description = "The provider did not answer in time", body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn chat_completions(
    _auth: Authenticated,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let request = openai::parse_request(&body)?;
    let targets = state.registry.load().resolve(&request.model)?;
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let created = chrono::Utc::now().timestamp();
    let meta = ResponseMeta::new(
        format!("chatcmpl-{request_id}"),
        request.model.clone(),
        created,
    );

    if request.stream {
        let (events, target, _) =
            router::chat_stream(&targets, &request, &meta, state.retry).await?;
        let mut encoder =
            openai::OpenAiStreamEncoder::new(target.model.id.clone(), request.include_usage)
                .with_id(meta.id.clone(), created);
        let frames = events.map(move |event| {
            let mut out = String::with_capacity(128);
            encoder.encode(&event, &mut out);
            Ok::<_, Infallible>(Bytes::from(out))
        });
        return Ok(HttpResponse::Ok()
            .content_type("text/event-stream")
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .insert_header(("x-accel-buffering", "no"))
            .insert_header(("x-gaia-provider", target.provider.name().to_owned()))
            .streaming(frames));
    }
    let (response, target, _) = router::chat(&targets, &request, &meta, state.retry).await?;
    let mut body = openai::encode_response(&response, &target.model.id);
    body["id"] = serde_json::Value::String(meta.id);
    Ok(HttpResponse::Ok()
        .insert_header(("x-gaia-provider", target.provider.name().to_owned()))
        .json(body))
}
