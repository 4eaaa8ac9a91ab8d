//! What is known about a request so far, and its one usage record.

use std::time::Instant;

use chrono::{DateTime, Utc};
use gaia_core::{ChatRequest, GaiaError, InboundApi, Usage};
use gaia_orgs::auth::{KeyCaller, Principal};
use gaia_orgs::limits::{Admission, Limiter};
use gaia_providers::Target;
use gaia_stats::UsageSink;
use gaia_store::usage::NewUsageRecord;

/// A request as it starts: who sent it and when. Handlers make one per request, before they parse it.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub(crate) request_id: String,
    pub(crate) started: Instant,
    /// The calling key; `None` for the bootstrap key (whose requests no limit binds).
    pub(crate) key: Option<KeyCaller>,
    /// The API the request came in through (chat completions unless the handler says otherwise).
    pub(crate) api: InboundApi,
    /// The request's trace span (disabled unless traces are exported); the outcome fills it in.
    pub(crate) span: tracing::Span,
}

impl RequestContext {
    /// The context of a request `principal` sends, known as `request_id` (its `x-request-id`).
    pub fn new(request_id: String, principal: &Principal) -> Self {
        Self {
            request_id,
            started: Instant::now(),
            key: principal.key().cloned(),
            api: InboundApi::ChatCompletions,
            span: tracing::Span::current(),
        }
    }

    /// The same context for a request that came in through `api`.
    #[must_use]
    pub fn with_api(mut self, api: InboundApi) -> Self {
        self.api = api;
        self
    }

    pub fn api(&self) -> InboundApi {
        self.api
    }

    pub fn request_id(&self) -> &str {
        &self.request_id
    }
}

/// The parts of the gateway an outcome is recorded into.
#[derive(Clone)]
pub(crate) struct Recorder {
    pub(crate) limiter: std::sync::Arc<Limiter>,
    pub(crate) usage: UsageSink,
    pub(crate) metrics: std::sync::Arc<crate::metrics::GatewayMetrics>,
}

/// What is known about a request so far, for its usage record.
pub(crate) struct Outcome {
    pub(crate) context: RequestContext,
    pub(crate) model_requested: String,
    pub(crate) stream: bool,
    pub(crate) admission: Option<Admission>,
    /// What routing did: upstream calls made (retries and fallbacks included), the channel that served.
    pub(crate) attempts: gaia_providers::router::Attempts,
    /// When the request ended and how long it took, fixed before a deferred token count (else: now).
    pub(crate) ended: Option<(DateTime<Utc>, u32)>,
}

/// The status code and error code a request is recorded with.
fn status_of(result: Result<(), &GaiaError>) -> (u16, Option<String>) {
    match result {
        Ok(()) => (200, None),
        // 499 ("client closed request"), as reverse proxies log it: not a failure of ours or the
        // provider's, and distinct from every status a client can receive.
        Err(e) if e.code() == "client_disconnected" => (499, Some(e.code().to_owned())),
        Err(e) => (e.status(), Some(e.code().to_owned())),
    }
}

/// The request's GenAI attributes on its trace span (OpenTelemetry semantic conventions).
fn trace(
    span: &tracing::Span,
    record: &NewUsageRecord,
    attempts: &gaia_providers::router::Attempts,
) {
    if span.is_disabled() {
        return;
    }
    let operation = if record.api == InboundApi::Embeddings {
        "embeddings"
    } else {
        "chat"
    };
    span.record("gen_ai.operation.name", operation);
    span.record("gen_ai.request.model", record.model_requested.as_str());
    span.record("gaia.request_id", record.request_id.as_str());
    // Signed: OpenTelemetry integers are i64 (an unsigned value would be exported as text).
    span.record("gaia.attempts", i64::from(attempts.count));
    if let Some(p) = &record.provider {
        span.record("gen_ai.system", p.as_str());
        span.record("gen_ai.provider.name", p.as_str());
    }
    if let Some(m) = &record.model_served {
        span.record("gen_ai.response.model", m.as_str());
    }
    if let Some(c) = &attempts.channel {
        span.record("gaia.channel", c.name.as_str());
    }
    let signed = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    span.record("gen_ai.usage.input_tokens", signed(record.prompt_tokens));
    span.record(
        "gen_ai.usage.output_tokens",
        signed(record.completion_tokens),
    );
    if let Some(code) = &record.error_code {
        span.record("error.type", code.as_str());
        if record.status_code >= 500 {
            span.record("otel.status_code", "ERROR");
        }
    }
}

pub(crate) fn elapsed_ms(since: Instant) -> u32 {
    u32::try_from(since.elapsed().as_millis()).unwrap_or(u32::MAX)
}

impl Outcome {
    pub(crate) fn new(context: RequestContext, model_requested: String, stream: bool) -> Self {
        Self {
            context,
            model_requested,
            stream,
            admission: None,
            attempts: gaia_providers::router::Attempts::default(),
            ended: None,
        }
    }

    /// Queues the request's usage record (consuming the outcome: a request is recorded exactly once).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn record(
        mut self,
        recorder: &Recorder,
        target: Option<&Target>,
        result: Result<(), &GaiaError>,
        usage: Option<Usage>,
        estimated: Option<Usage>,
        upstream_ms: Option<u32>,
        ttft_ms: Option<u32>,
    ) {
        let is_estimate = usage.is_none() && estimated.is_some();
        let usage = usage.or(estimated).unwrap_or_default();
        let cost_nanos = target.map_or(0, |t| t.model.cost_nanos(&usage));
        let (status_code, error_code) = status_of(result);
        let (now, total_latency_ms) = self
            .ended
            .unwrap_or_else(|| (Utc::now(), elapsed_ms(self.context.started)));
        self.charge(recorder, &usage, cost_nanos, now);
        let context = self.context;
        let record = NewUsageRecord {
            request_id: context.request_id.clone(),
            created_at: now,
            api_key_id: context.key.as_ref().map(|k| k.id.to_string()),
            organization_id: context.key.map(|k| k.organization_id.into_string()),
            model_requested: self.model_requested,
            model_served: target.map(|t| t.model.id.clone()),
            provider: target.map(|t| t.provider.name().to_owned()),
            stream: self.stream,
            status_code,
            error_code,
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            cached_tokens: usage.cached_tokens,
            cache_creation_tokens: usage.cache_creation_tokens,
            reasoning_tokens: usage.reasoning_tokens,
            api: context.api,
            total_tokens: usage.total_tokens,
            cost_nanos,
            // An answer without the provider's usage (a cut stream, a client that left) was counted
            // with a tokenizer; it is marked so statistics can tell.
            estimated: is_estimate,
            upstream_latency_ms: upstream_ms,
            ttft_ms,
            total_latency_ms,
            attempts: Some(self.attempts.count),
            unpriced: target.is_some_and(|t| !t.model.priced),
        };
        recorder.metrics.observe(&record, &self.attempts);
        trace(&context.span, &record, &self.attempts);
        let _recording =
            tracing::info_span!(target: "gaia_trace", parent: &context.span, "gaia.record")
                .entered();
        recorder.usage.record(record);
    }

    /// Queues the record of a request that failed with `error` (after `target`, when one was tried).
    pub(crate) fn record_failure(
        self,
        recorder: &Recorder,
        target: Option<&Target>,
        error: &GaiaError,
    ) {
        self.record(recorder, target, Err(error), None, None, None, None);
    }

    /// Adds the request's tokens and cost to its key's and organization's limit counters (none for the
    /// bootstrap key).
    fn charge(&mut self, recorder: &Recorder, usage: &Usage, cost_nanos: i64, now: DateTime<Utc>) {
        let Some(key) = &self.context.key else {
            return;
        };
        let admission = self.admission.take().unwrap_or_else(|| Admission {
            key_id: key.id.clone(),
            organization_id: key.organization_id.clone(),
        });
        recorder.limiter.add_usage(
            &admission,
            i64::try_from(usage.total_tokens).unwrap_or(i64::MAX),
            cost_nanos,
            now,
        );
    }

    /// [`record`](Self::record), counting the tokens first when the provider reported no usage
    /// (`to_count`: the request and the text it produced). The tokenizer runs on the blocking pool, in
    /// the background: neither the answer nor the request thread waits for it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn record_counting(
        mut self,
        recorder: &Recorder,
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
                recorder,
                target.as_ref(),
                result,
                usage,
                None,
                upstream_ms,
                ttft_ms,
            );
            return;
        };
        self.ended = Some((Utc::now(), elapsed_ms(self.context.started)));
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // No runtime (the process is shutting down): count here rather than lose the record.
            let estimate = Usage::new(
                gaia_stats::estimate::prompt_tokens(&request),
                gaia_stats::estimate::text_tokens(&completion),
            );
            self.record(
                recorder,
                target.as_ref(),
                result,
                None,
                Some(estimate),
                upstream_ms,
                ttft_ms,
            );
            return;
        };
        let recorder = recorder.clone();
        runtime.spawn(async move {
            let estimate = gaia_stats::estimate::usage_off_thread(request, completion).await;
            let result = error.as_ref().map_or(Ok(()), Err);
            self.record(
                &recorder,
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

#[cfg(test)]
mod tests {
    use gaia_core::ErrorKind;

    use super::*;

    #[test]
    fn a_request_is_recorded_with_its_status_and_error_code() {
        assert_eq!(status_of(Ok(())), (200, None));
        let upstream = GaiaError::upstream("down");
        assert_eq!(
            status_of(Err(&upstream)),
            (upstream.status(), Some(upstream.code().to_owned()))
        );
        let gone =
            GaiaError::new(ErrorKind::InvalidRequest, "gone").with_code("client_disconnected");
        assert_eq!(
            status_of(Err(&gone)),
            (499, Some("client_disconnected".to_owned()))
        );
    }
}
