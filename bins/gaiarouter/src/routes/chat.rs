//! `POST /v1/chat/completions` — the OpenAI Chat Completions API in front of every provider.
//!
//! Per request: authenticate (memory), parse once, resolve the model (memory), check limits (memory;
//! the database only when a request-limit block runs out), call the provider through the router, convert
//! back, and queue one usage record — success or failure, streaming or not, client gone or not.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use bytes::Bytes;
use chrono::Utc;
use futures_util::{Stream, StreamExt};
use gaia_adapters::{ResponseMeta, StreamEncoder, openai};
use gaia_core::{ChatRequest, GaiaError, StreamEvent, Usage};
use gaia_orgs::auth::Principal;
use gaia_orgs::limits::Admission;
use gaia_providers::{EventStream, Target, router};
use gaia_store::usage::NewUsageRecord;

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::middleware::RequestId;
use crate::state::AppState;

/// What is known about a request so far, for its usage record.
struct Outcome {
    request_id: String,
    started: Instant,
    key_id: Option<String>,
    organization_id: Option<String>,
    model_requested: String,
    stream: bool,
    admission: Option<Admission>,
    /// Upstream calls made (retries and fallbacks included).
    attempts: u32,
    /// When the request ended and how long it took, fixed before a deferred token count (else: now).
    ended: Option<(chrono::DateTime<Utc>, u32)>,
}

impl Outcome {
    /// Queues the request's usage record (consuming the outcome: a request is recorded exactly once).
    #[allow(clippy::too_many_arguments)]
    fn record(
        self,
        state: &AppState,
        target: Option<&Target>,
        result: Result<(), &GaiaError>,
        usage: Option<Usage>,
        estimated: Option<Usage>,
        upstream_ms: Option<u32>,
        ttft_ms: Option<u32>,
    ) {
        let is_estimate = usage.is_none() && estimated.is_some();
        let usage = usage.or(estimated).unwrap_or_default();
        let cost_nanos = target.map_or(0, |t| {
            t.model
                .cost_nanos(usage.prompt_tokens, usage.completion_tokens)
        });
        let (status_code, error_code) = match result {
            Ok(()) => (200, None),
            // 499 ("client closed request"), as reverse proxies log it: not a failure of ours or the
            // provider's, and distinct from every status a client can receive.
            Err(e) if e.code() == "client_disconnected" => (499, Some(e.code().to_owned())),
            Err(e) => (e.status(), Some(e.code().to_owned())),
        };
        let (now, total_latency_ms) = self.ended.unwrap_or_else(|| {
            (
                Utc::now(),
                u32::try_from(self.started.elapsed().as_millis()).unwrap_or(u32::MAX),
            )
        });
        if let (Some(key_id), Some(org_id)) = (&self.key_id, &self.organization_id) {
            let admission = self.admission.unwrap_or_else(|| Admission {
                key_id: key_id.clone(),
                organization_id: org_id.clone(),
            });
            state.limiter.add_usage(
                &admission,
                i64::try_from(usage.total_tokens).unwrap_or(i64::MAX),
                cost_nanos,
                now,
            );
        }
        let record = NewUsageRecord {
            request_id: self.request_id,
            created_at: now,
            api_key_id: self.key_id,
            organization_id: self.organization_id,
            model_requested: self.model_requested,
            model_served: target.map(|t| t.model.id.clone()),
            provider: target.map(|t| t.provider.name().to_owned()),
            stream: self.stream,
            status_code,
            error_code,
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            cached_tokens: usage.cached_tokens,
            total_tokens: usage.total_tokens,
            cost_nanos,
            // A stream that ended without the provider's usage (cut, or the client left) was counted
            // with a tokenizer; it is marked so statistics can tell.
            estimated: is_estimate,
            upstream_latency_ms: upstream_ms,
            ttft_ms,
            total_latency_ms,
            attempts: Some(self.attempts),
            unpriced: target.is_some_and(|t| !t.model.priced),
        };
        state.usage.record(record);
    }

    /// [`record`](Self::record), counting the tokens first when the provider reported no usage
    /// (`to_count`: the request and the text it produced). The tokenizer runs on the blocking pool, in
    /// the background: neither the answer nor the request thread waits for it.
    #[allow(clippy::too_many_arguments)]
    fn record_counting(
        mut self,
        state: &web::Data<AppState>,
        target: Option<Target>,
        error: Option<GaiaError>,
        usage: Option<Usage>,
        to_count: Option<(ChatRequest, String)>,
        upstream_ms: Option<u32>,
        ttft_ms: Option<u32>,
    ) {
        let result = error.as_ref().map_or(Ok(()), Err);
        let (Some((request, completion)), None) = (to_count, usage) else {
            self.record(
                state,
                target.as_ref(),
                result,
                usage,
                None,
                upstream_ms,
                ttft_ms,
            );
            return;
        };
        self.ended = Some((Utc::now(), elapsed_ms(self.started)));
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // No runtime (the process is shutting down): count here rather than lose the record.
            let estimate = Usage::new(
                gaia_stats::estimate::prompt_tokens(&request),
                gaia_stats::estimate::text_tokens(&completion),
            );
            self.record(
                state,
                target.as_ref(),
                result,
                None,
                Some(estimate),
                upstream_ms,
                ttft_ms,
            );
            return;
        };
        let state = state.clone();
        runtime.spawn(async move {
            let estimate = gaia_stats::estimate::usage_off_thread(request, completion).await;
            let result = error.as_ref().map_or(Ok(()), Err);
            self.record(
                &state,
                target.as_ref(),
                result,
                None,
                Some(estimate),
                upstream_ms,
                ttft_ms,
            );
        });
    }
}

fn elapsed_ms(since: Instant) -> u32 {
    u32::try_from(since.elapsed().as_millis()).unwrap_or(u32::MAX)
}

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
        (status = 400, description = "Invalid request, or the model's provider is not configured", body = crate::openapi::ErrorBody),
        (status = 403, description = "The model has no known price and the key or its organization has a cost limit (`model_not_priced`)", body = crate::openapi::ErrorBody),
        (status = 422, description = "`max_tokens` beyond what the model can produce (`max_tokens_too_large`)", body = crate::openapi::ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = crate::openapi::ErrorBody),
        (status = 404, description = "Unknown or disabled model (`model_not_found`)", body = crate::openapi::ErrorBody),
        (status = 413, description = "Body larger than GAIA_MAX_BODY_BYTES", body = crate::openapi::ErrorBody),
        (status = 429, description = "A limit is reached (`organization_limit_error` monthly, `rate_limit_error` per minute) or the provider is rate limiting; see `retry-after`", body = crate::openapi::ErrorBody),
        (status = 502, description = "The provider failed", body = crate::openapi::ErrorBody),
        (status = 504, description = "The provider did not answer in time", body = crate::openapi::ErrorBody),
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
    let mut outcome = Outcome {
        request_id,
        started: Instant::now(),
        key_id: principal.key_id.clone(),
        organization_id: principal.organization_id.clone(),
        model_requested: String::new(),
        stream: false,
        admission: None,
        attempts: 0,
        ended: None,
    };
    let request = match openai::parse_request(&body) {
        Ok(r) => r,
        Err(e) => {
            outcome.model_requested = sniff_model(&body);
            outcome.record(&state, None, Err(&e), None, None, None, None);
            return Err(e.into());
        }
    };
    outcome.model_requested.clone_from(&request.model);
    outcome.stream = request.stream;
    // `serve` takes the outcome when it hands it on (to a stream, or by recording a success).
    let mut outcome = Some(outcome);
    match serve(&state, &principal, &mut outcome, request).await {
        Ok(response) => Ok(response),
        Err((target, e)) => {
            if let Some(outcome) = outcome {
                outcome.record(&state, target.as_ref(), Err(&e), None, None, None, None);
            }
            Err(e.into())
        }
    }
}

/// Drops targets whose model cannot produce `max_tokens`; refuses (400) when none is left, rather than
/// sending a request every provider would reject.
fn within_output_limit(
    targets: Vec<Target>,
    max_tokens: Option<u32>,
) -> Result<Vec<Target>, GaiaError> {
    let Some(asked) = max_tokens.map(i64::from) else {
        return Ok(targets);
    };
    let limit_of = |t: &Target| t.model.max_completion_tokens.filter(|m| *m > 0);
    let first_limit = targets.iter().find_map(limit_of);
    let fitting: Vec<Target> = targets
        .into_iter()
        .filter(|t| limit_of(t).is_none_or(|m| asked <= m))
        .collect();
    match (fitting.is_empty(), first_limit) {
        // Well-formed, but beyond this model's limit (a rule per model, which no schema states): 422.
        (true, Some(limit)) => Err(GaiaError::unprocessable(format!(
            "max_tokens is {asked}, but the model can produce at most {limit} tokens"
        ))
        .with_param("max_tokens")
        .with_code("max_tokens_too_large")),
        _ => Ok(fitting),
    }
}

/// A caller under a monthly cost limit (its key's or its organization's) is served only by models whose
/// price is known: an unpriced model would cost it nothing on paper, so the limit could never bite. Drops
/// unpriced targets of an alias; refuses (403 `model_not_priced`) when none is left, naming the model and
/// how to price it.
fn priced_for(
    targets: Vec<Target>,
    limits: Option<&gaia_orgs::auth::AppliedLimits>,
) -> Result<Vec<Target>, GaiaError> {
    let Some(limits) = limits else {
        return Ok(targets);
    };
    let whose = if limits.key.monthly_cost_nanos.is_some() {
        "this key's"
    } else if limits.organization.monthly_cost_nanos.is_some() {
        "this key's organization's"
    } else {
        return Ok(targets);
    };
    let first = targets.first().map(|t| t.model.id.clone());
    let priced: Vec<Target> = targets.into_iter().filter(|t| t.model.priced).collect();
    match first {
        Some(id) if priced.is_empty() => Err(GaiaError::forbidden(format!(
            "the model '{id}' has no known price, so {whose} monthly cost limit cannot be enforced on it; \
             an administrator can price it with PATCH /v1/admin/models/{id} \
             (`input_price_per_mtok`, `output_price_per_mtok`; 0 declares it free)"
        ))
        .with_param("model")
        .with_code("model_not_priced")),
        _ => Ok(priced),
    }
}

/// The model named in a body that did not parse, for the record (best effort, bounded).
fn sniff_model(body: &[u8]) -> String {
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

async fn serve(
    state: &web::Data<AppState>,
    principal: &Principal,
    slot: &mut Option<Outcome>,
    request: ChatRequest,
) -> Result<HttpResponse, (Option<Target>, GaiaError)> {
    let Some(outcome) = slot.as_mut() else {
        return Err((
            None,
            GaiaError::internal("the request was already recorded"),
        ));
    };
    let targets = state
        .registry
        .load()
        .resolve(&request.model)
        .map_err(|e| (None, e))?;
    let targets = within_output_limit(targets, request.max_tokens).map_err(|e| (None, e))?;
    let targets = priced_for(targets, principal.limits.as_ref()).map_err(|e| (None, e))?;
    if let (Some(limits), Some(key_id), Some(org_id)) = (
        &principal.limits,
        &principal.key_id,
        &principal.organization_id,
    ) {
        let admission = state
            .limiter
            .admit(key_id, org_id, limits, Utc::now())
            .await
            .map_err(|e| (None, e))?;
        outcome.admission = Some(admission);
    }
    let created = Utc::now().timestamp();
    let meta = ResponseMeta::new(
        format!("chatcmpl-{}", outcome.request_id),
        request.model.clone(),
        created,
    );
    let upstream_started = Instant::now();

    if request.stream {
        let (events, target, attempts) =
            router::chat_stream(&targets, &request, &meta, state.retry)
                .await
                .map_err(|f| {
                    outcome.attempts = f.attempts.count;
                    (f.target, f.error)
                })?;
        outcome.attempts = attempts.count;
        let encoder =
            openai::OpenAiStreamEncoder::new(target.model.id.clone(), request.include_usage)
                .with_id(meta.id.clone(), created);
        let provider = target.provider.name().to_owned();
        let frames = RecordingStream {
            events,
            encoder,
            state: state.clone(),
            outcome: slot.take(),
            target,
            upstream_ms: Some(elapsed_ms(upstream_started)),
            first_token: None,
            usage: None,
            error: None,
            done: false,
            output: String::new(),
            request,
            keepalive_every: state.keepalive,
            keepalive: Box::pin(tokio::time::sleep(state.keepalive)),
        };
        return Ok(HttpResponse::Ok()
            .content_type("text/event-stream")
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .insert_header(("x-accel-buffering", "no"))
            .insert_header(("x-gaia-provider", provider))
            .streaming(frames));
    }
    let (response, target, attempts) = router::chat(&targets, &request, &meta, state.retry)
        .await
        .map_err(|f| {
        outcome.attempts = f.attempts.count;
        (f.target, f.error)
    })?;
    outcome.attempts = attempts.count;
    let upstream_ms = elapsed_ms(upstream_started);
    let body = openai::encode_response_bytes(&response, &target.model.id, &meta.id)
        .map_err(|e| (Some(target.clone()), e))?;
    // A provider that reported no usage: counted with the tokenizer (in the background) and marked
    // estimated.
    let to_count = response.usage.is_none().then(|| {
        let completion: String = response
            .choices
            .iter()
            .flat_map(|c| {
                c.message
                    .text_content()
                    .chars()
                    .chain(
                        c.message
                            .tool_calls
                            .iter()
                            .flat_map(|t| t.arguments.chars()),
                    )
                    .collect::<Vec<_>>()
            })
            .collect();
        (request, completion)
    });
    if let Some(outcome) = slot.take() {
        outcome.record_counting(
            state,
            Some(target.clone()),
            None,
            response.usage,
            to_count,
            Some(upstream_ms),
            None,
        );
    }
    Ok(HttpResponse::Ok()
        .content_type(header::ContentType::json())
        .insert_header(("x-gaia-provider", target.provider.name().to_owned()))
        .body(body))
}

/// Encodes canonical events as SSE frames and writes the usage record exactly once: when the stream
/// ends, or when it is dropped early (the client went away — which also drops, and so cancels, the
/// upstream request).
struct RecordingStream {
    events: EventStream,
    encoder: openai::OpenAiStreamEncoder,
    state: web::Data<AppState>,
    outcome: Option<Outcome>,
    target: Target,
    upstream_ms: Option<u32>,
    first_token: Option<u32>,
    usage: Option<Usage>,
    error: Option<GaiaError>,
    done: bool,
    /// Text streamed so far, for a tokenizer count if the provider never reports usage.
    output: String,
    request: ChatRequest,
    /// While the provider is silent, an SSE comment goes out this often: it keeps proxies from timing
    /// the connection out, and a write to a departed client fails, which is how its disconnect (and the
    /// cancellation of the upstream request) is noticed even when nothing else is being sent.
    keepalive_every: std::time::Duration,
    keepalive: Pin<Box<tokio::time::Sleep>>,
}

impl RecordingStream {
    fn finish(&mut self, client_gone: bool) {
        let Some(outcome) = self.outcome.take() else {
            return;
        };
        let error = match (&self.error, client_gone) {
            (Some(e), _) => Some(e.clone()),
            (None, true) => Some(
                GaiaError::new(
                    gaia_core::ErrorKind::InvalidRequest,
                    "the client closed the connection",
                )
                .with_code("client_disconnected"),
            ),
            (None, false) => None,
        };
        let to_count = self.usage.is_none().then(|| {
            (
                std::mem::take(&mut self.request),
                std::mem::take(&mut self.output),
            )
        });
        outcome.record_counting(
            &self.state,
            Some(self.target.clone()),
            error,
            self.usage,
            to_count,
            self.upstream_ms,
            self.first_token,
        );
    }
}

impl Stream for RecordingStream {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        match this.events.poll_next_unpin(cx) {
            Poll::Pending => {
                if this.keepalive.as_mut().poll(cx).is_ready() {
                    let next = tokio::time::Instant::now() + this.keepalive_every;
                    this.keepalive.as_mut().reset(next);
                    return Poll::Ready(Some(Ok(Bytes::from_static(b": keep-alive\n\n"))));
                }
                Poll::Pending
            }
            Poll::Ready(None) => {
                this.done = true;
                this.finish(false);
                Poll::Ready(None)
            }
            Poll::Ready(Some(event)) => {
                let next = tokio::time::Instant::now() + this.keepalive_every;
                this.keepalive.as_mut().reset(next);
                match &event {
                    StreamEvent::TextDelta { .. }
                    | StreamEvent::ToolCallStart { .. }
                    | StreamEvent::ReasoningDelta { .. }
                        if this.first_token.is_none() =>
                    {
                        this.first_token = this.outcome.as_ref().map(|o| elapsed_ms(o.started));
                    }
                    StreamEvent::Usage(u) => this.usage = Some(*u),
                    _ => {}
                }
                match &event {
                    StreamEvent::TextDelta { text, .. }
                    | StreamEvent::ReasoningDelta { text, .. } => this.output.push_str(text),
                    StreamEvent::ToolCallArgsDelta { arguments, .. } => {
                        this.output.push_str(arguments)
                    }
                    StreamEvent::Error(e) => this.error = Some(e.clone()),
                    _ => {}
                }
                let terminal = event.is_terminal();
                let mut out = String::with_capacity(160);
                this.encoder.encode(&event, &mut out);
                if terminal {
                    this.done = true;
                    this.finish(false);
                }
                Poll::Ready(Some(Ok(Bytes::from(out))))
            }
        }
    }
}

impl Drop for RecordingStream {
    fn drop(&mut self) {
        // Dropped before its end: the client disconnected.
        self.finish(true);
    }
}
