//! `POST /v1/responses` — the OpenAI Responses API in front of every provider (specs/responses.md).
//!
//! Like the chat route: decode the Responses body into the canonical request, hand it to the inference
//! pipeline (the same keys, limits, routing and usage records; the record names the `responses` API) and
//! encode the answer, or each event of the stream, back into the Responses format. Errors use the OpenAI
//! envelope.

use std::convert::Infallible;

use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use bytes::Bytes;
use chrono::Utc;
use futures_util::StreamExt;
use gaia_adapters::{ResponseMeta, StreamEncoder, responses};
use gaia_core::{GaiaError, InboundApi};
use gaia_gateway::conversations::{self, Answered, Conversations};
use gaia_gateway::{RequestContext, Served, StreamItem};
use gaia_orgs::auth::Principal;
use serde_json::Value;
use utoipa::IntoParams;

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::middleware::RequestId;
use crate::routes::chat::sniff_model;
use crate::state::AppState;

/// Built-in tools (web search, file search, code interpreter, …) run on OpenAI's side of its own
/// Responses API; GaiaRouter reaches OpenAI through Chat Completions, where they do not exist, so they are
/// refused for every model, naming the first one.
fn refuse_builtin_tools(request: &responses::ResponsesRequest) -> Result<(), GaiaError> {
    let Some(tool) = request
        .builtin_tools
        .first()
        .or(request.builtin_tool_choice.as_ref())
    else {
        return Ok(());
    };
    let kind = tool.get("type").and_then(|t| t.as_str()).unwrap_or("?");
    Err(GaiaError::invalid_request(format!(
        "the built-in tool '{kind}' is not supported: GaiaRouter serves function tools only"
    ))
    .with_param("tools")
    .with_code("builtin_tool_unsupported"))
}

/// Create a model response (the OpenAI Responses API).
///
/// OpenAI's `POST /v1/responses` for every registered model — GPT, Claude, Gemini, OpenRouter and
/// OpenAI-compatible servers alike: `input` as a string or items (messages, function calls and their
/// outputs, reasoning items sent back as received), function tools, `reasoning.effort`, `text.format`.
/// With `"stream": true` the answer is OpenAI's typed event stream (`response.created` …
/// `response.completed`, each with a `sequence_number`). Built-in tools are refused (400
/// `builtin_tool_unsupported`).
#[utoipa::path(
    post,
    path = "/v1/responses",
    tag = "inference",
    request_body(content = Object, description = "An OpenAI Responses API request (schema: `ResponsesRequest`)", content_type = "application/json",
        example = json!({"model": "openai/gpt-4o-mini", "input": "Say hello in one word."})),
    responses(
        (status = 200, description = "A `response` object, or an SSE stream of typed `response.*` events when `stream` is true",
            content((Object = "application/json",
                example = json!({"id": "resp_01a21b5c4b4971f1b6a35a732ad14862", "object": "response", "created_at": 1764200000, "status": "completed",
                    "model": "openai/gpt-4o-mini", "output": [{"type": "message", "id": "msg_01a21b5c4b4971f1b6a35a732ad14862_0", "status": "completed", "role": "assistant",
                    "content": [{"type": "output_text", "text": "Hello!", "annotations": []}]}],
                    "usage": {"input_tokens": 12, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 2, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 14}})),
                (crate::routes::schemas::SseEvent = "text/event-stream"))),
        (status = 400, description = "Invalid request (the `param` names the field), a built-in tool (`builtin_tool_unsupported`), or the model's provider is not configured", body = crate::routes::schemas::ErrorBody),
        (status = 403, description = "The model has no known price and the key or its organization has a cost limit (`model_not_priced`)", body = crate::routes::schemas::ErrorBody),
        (status = 404, description = "Unknown or disabled model (`model_not_found`)", body = crate::routes::schemas::ErrorBody),
        (status = 422, description = "A well-formed request refused by a rule no schema states (an embedding model, `model_kind_mismatch`; `input` missing or empty without `previous_response_id`, a `tool_choice` naming a function not in `tools`, a provider's limits, `max_output_tokens` beyond the model)", body = crate::routes::schemas::ErrorBody),
        (status = 429, description = "A limit is reached or the provider is rate limiting; see `retry-after`", body = crate::routes::schemas::ErrorBody),
        (status = 502, description = "The provider failed", body = crate::routes::schemas::ErrorBody),
        (status = 503, description = "Every channel of the model's provider is failing or disabled (`channels_unavailable`), every connection its `max_connections` allows stayed in use (`upstream_busy`), or per-minute limits cannot be checked while Redis is unreachable and `GAIA_REDIS_FAILURE=closed` (`rate_limiter_unavailable`); see `retry-after`", body = crate::routes::schemas::ErrorBody),
        (status = 504, description = "The provider did not answer in time", body = crate::routes::schemas::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create(
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
    let context =
        RequestContext::new(request_id.clone(), &principal).with_api(InboundApi::Responses);
    let request = match decode(&state, &principal, &body).await {
        Ok(r) => r,
        Err(e) => {
            state
                .pipeline
                .refuse_undecodable(context, sniff_model(&body), &e);
            return Err(e.into());
        }
    };
    let Decoded {
        request,
        input_items,
    } = request;
    let echo = request.echo();
    let keep = request.store.then(|| Keep {
        conversations: state.conversations.clone(),
        principal: principal.clone(),
        previous_response_id: request.previous_response_id.clone(),
        input_items,
    });
    // Minted here rather than taken from the request id, which a client may set (`x-request-id`): a stored
    // response's id must be unique and short whatever the client sends.
    let meta = ResponseMeta::new(
        format!("resp_{}", uuid::Uuid::now_v7().simple()),
        request.chat.model.clone(),
        Utc::now().timestamp(),
    );
    match state
        .pipeline
        .serve(context, request.chat, meta.clone())
        .await?
    {
        Served::Complete { response, target } => {
            let meta = ResponseMeta::new(meta.id, target.model.id.clone(), meta.created);
            let body = responses::encode_response(&response, &meta, &echo)?;
            if let Some(keep) = keep {
                let document = serde_json::from_slice(&body).unwrap_or_default();
                keep.store(&meta, document).await?;
            }
            Ok(HttpResponse::Ok()
                .content_type(header::ContentType::json())
                .insert_header(("x-gaia-provider", target.provider.name().to_owned()))
                .body(body))
        }
        Served::Stream(stream) => {
            let target = stream.target();
            let provider = target.provider.name().to_owned();
            let meta = ResponseMeta::new(meta.id, target.model.id.clone(), meta.created);
            let mut encoder = responses::ResponsesStreamEncoder::new(meta.clone(), echo);
            let mut keep = keep;
            let frames = stream.map(move |item| {
                Ok::<_, Infallible>(match item {
                    StreamItem::Event(event) => {
                        let mut out = String::with_capacity(256);
                        encoder.encode(&event, &mut out);
                        // A stream that ended cleanly is kept in the background: the client has it all.
                        if let Some(document) = encoder.take_final_response()
                            && let Some(keep) = keep.take()
                        {
                            let meta = meta.clone();
                            tokio::spawn(async move {
                                if let Err(e) = keep.store(&meta, document).await {
                                    tracing::warn!(error = %e.message, "a streamed response could not be stored");
                                }
                            });
                        }
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

/// A request, decoded with the conversation it continues, and its own input items (what is stored).
struct Decoded {
    request: responses::ResponsesRequest,
    input_items: Value,
}

/// Parses the body; with `previous_response_id`, the stored conversation goes before the new input.
async fn decode(
    state: &AppState,
    principal: &Principal,
    body: &[u8],
) -> Result<Decoded, GaiaError> {
    let request = responses::parse_request(body)?;
    refuse_builtin_tools(&request)?;
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        GaiaError::invalid_request(format!("the request body is not valid JSON: {e}"))
    })?;
    let input_items = conversations::input_items(&value);
    let Some(previous) = request.previous_response_id.clone() else {
        return Ok(Decoded {
            request,
            input_items,
        });
    };
    let mut items = state.conversations.history(&previous, principal).await?;
    if let Value::Array(new) = &input_items {
        items.extend(new.iter().cloned());
    }
    let mut value = value;
    value["input"] = Value::Array(items);
    let continued = serde_json::to_vec(&value)
        .map_err(|e| GaiaError::internal("re-encoding the conversation").with_source(e))?;
    Ok(Decoded {
        request: responses::parse_request(&continued)?,
        input_items,
    })
}

/// What `store: true` keeps once the response is answered.
struct Keep {
    conversations: Conversations,
    principal: Principal,
    previous_response_id: Option<String>,
    input_items: Value,
}

impl Keep {
    async fn store(self, meta: &ResponseMeta, response: Value) -> Result<(), GaiaError> {
        self.conversations
            .keep(Answered {
                id: &meta.id,
                principal: &self.principal,
                created_at: Utc::now(),
                model: &meta.model,
                previous_response_id: self.previous_response_id.as_deref(),
                input_items: self.input_items,
                response,
            })
            .await
    }
}

/// The path of a stored response.
#[derive(Debug, serde::Deserialize, IntoParams)]
pub struct ResponsePath {
    /// The response id (`resp_…`).
    pub id: String,
}

/// Get a stored response.
///
/// A response created with `store: true`, as it was answered. Another organization's id (or one deleted
/// or past the usage retention) answers 404.
#[utoipa::path(get, path = "/v1/responses/{id}", tag = "inference", params(ResponsePath),
    responses(
        (status = 200, description = "The `response` object", body = Object),
        (status = 404, description = "No such stored response for this caller (`response_not_found`)", body = crate::routes::schemas::ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn get(
    Authenticated(principal): Authenticated,
    state: web::Data<AppState>,
    path: web::Path<ResponsePath>,
) -> Result<HttpResponse, ApiError> {
    let stored = state.conversations.get(&path.id, &principal).await?;
    Ok(HttpResponse::Ok().json(stored.output))
}

/// Delete a stored response.
#[utoipa::path(delete, path = "/v1/responses/{id}", tag = "inference", params(ResponsePath),
    responses(
        (status = 200, description = "`{\"id\", \"object\": \"response.deleted\", \"deleted\": true}`", body = Object),
        (status = 404, description = "No such stored response for this caller (`response_not_found`)", body = crate::routes::schemas::ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn delete(
    Authenticated(principal): Authenticated,
    state: web::Data<AppState>,
    path: web::Path<ResponsePath>,
) -> Result<HttpResponse, ApiError> {
    state.conversations.delete(&path.id, &principal).await?;
    Ok(HttpResponse::Ok()
        .json(serde_json::json!({"id": path.id, "object": "response.deleted", "deleted": true})))
}

/// `input_items` listing parameters.
#[derive(Debug, serde::Deserialize, IntoParams)]
pub struct InputItemsParams {
    /// 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `asc` (oldest first) or `desc` (default: newest first).
    #[param(pattern = "^(asc|desc)?$")]
    pub order: Option<String>,
    /// An item id: list the items after it in `order`.
    pub after: Option<String>,
}

/// List the input items of a stored response.
///
/// The request's own input items (a string input is one user message), each with an `id`
/// (`<response id>_in_<n>` when the client gave none), as OpenAI's cursor list.
#[utoipa::path(get, path = "/v1/responses/{id}/input_items", tag = "inference", params(ResponsePath, InputItemsParams),
    responses(
        (status = 200, description = "`{\"object\": \"list\", \"data\", \"first_id\", \"last_id\", \"has_more\"}`", body = Object),
        (status = 400, description = "`limit` out of range or `order` not `asc` or `desc`", body = crate::routes::schemas::ErrorBody),
        (status = 404, description = "No such stored response for this caller (`response_not_found`)", body = crate::routes::schemas::ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn input_items(
    Authenticated(principal): Authenticated,
    state: web::Data<AppState>,
    path: web::Path<ResponsePath>,
    params: web::Query<InputItemsParams>,
) -> Result<HttpResponse, ApiError> {
    let stored = state.conversations.get(&path.id, &principal).await?;
    let page = conversations::list_input_items(
        &stored,
        params.limit,
        params.order.as_deref(),
        params.after.as_deref(),
    )?;
    Ok(HttpResponse::Ok().json(page))
}
