//! The request's life: resolve, filter the targets, admit, route, record.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use chrono::Utc;
use gaia_adapters::ResponseMeta;
use gaia_core::{ChatRequest, ChatResponse, GaiaError, InboundApi, ModelKind};
use gaia_orgs::auth::AppliedLimits;
use gaia_orgs::limits::Limiter;
use gaia_providers::router::{self, RetryPolicy, RouteFailure};
use gaia_providers::{Registry, Target};
use gaia_stats::UsageSink;

mod embed;

use crate::outcome::{Outcome, Recorder, RequestContext, elapsed_ms};
use crate::stream::RecordedStream;

/// The pipeline every inference API shares. Cheap to clone.
#[derive(Clone)]
pub struct Pipeline {
    registry: Arc<ArcSwap<Registry>>,
    recorder: Recorder,
    retry: RetryPolicy,
    keepalive: Duration,
}

/// A request's input tokens, and who counted them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenCount {
    pub input_tokens: u64,
    /// The provider's own count; else GaiaRouter's tokenizer estimate.
    pub counted_by_provider: bool,
}

/// What the pipeline produced for a request.
pub enum Served {
    /// A complete answer; its usage is recorded (or being counted, when the provider reported none).
    Complete {
        response: ChatResponse,
        /// The target that answered.
        target: Target,
    },
    /// A streamed answer, starting with the provider's first event; it records its usage when it ends
    /// or is dropped.
    Stream(Box<RecordedStream>),
}

impl Pipeline {
    /// `keepalive`: how long the provider may be silent mid-stream before a [`crate::StreamItem::KeepAlive`].
    pub fn new(
        registry: Arc<ArcSwap<Registry>>,
        limiter: Arc<Limiter>,
        usage: UsageSink,
        retry: RetryPolicy,
        keepalive: Duration,
    ) -> Self {
        Self {
            registry,
            recorder: Recorder {
                limiter,
                usage,
                metrics: Arc::default(),
            },
            retry,
            keepalive,
        }
    }

    /// What the pipeline counts, for `/metrics`.
    pub fn metrics(&self) -> &crate::metrics::GatewayMetrics {
        &self.recorder.metrics
    }

    /// Records a request that was refused before it could be decoded (the body was not the dialect's),
    /// with the model it named if that could be read.
    pub fn refuse_undecodable(&self, context: RequestContext, model: String, error: &GaiaError) {
        Outcome::new(context, model, false).record_failure(&self.recorder, None, error);
    }

    /// The input tokens `request` would use on its model's first target, for
    /// `POST /v1/messages/count_tokens`: the model must resolve (404 / 400 otherwise). Counted by the
    /// provider where it offers a count (Anthropic, Gemini), else — or when that call fails — estimated
    /// with GaiaRouter's tokenizer (`o200k_base` over the messages, tools and per-message framing) on the
    /// bounded blocking pool. Nothing is recorded and no limit is charged.
    pub async fn count_tokens(&self, request: ChatRequest) -> Result<TokenCount, GaiaError> {
        let targets = self
            .registry
            .load()
            .resolve_kind(&request.model, ModelKind::Chat)?;
        if let Some(target) = targets.first() {
            match target
                .provider
                .count_tokens(&request, &target.model.upstream_name)
                .await
            {
                Ok(Some(input_tokens)) => {
                    return Ok(TokenCount {
                        input_tokens,
                        counted_by_provider: true,
                    });
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(
                    provider = target.provider.name(),
                    error = %e.message,
                    "the provider's token count failed; estimating"
                ),
            }
        }
        let input_tokens = gaia_stats::estimate::usage_off_thread(request, String::new())
            .await
            .prompt_tokens;
        Ok(TokenCount {
            input_tokens,
            counted_by_provider: false,
        })
    }

    /// Serves `request`: the model resolved (memory), targets that cannot serve the caller dropped, the
    /// caller's limits admitted (memory; the database only when a request-limit block runs out), the
    /// route over the targets, and the usage recorded — here for a refusal or a complete answer, by the
    /// stream for a streamed one. `meta` carries the answer's id and creation time in the caller's
    /// dialect.
    pub async fn serve(
        &self,
        context: RequestContext,
        request: ChatRequest,
        meta: ResponseMeta,
    ) -> Result<Served, GaiaError> {
        let mut outcome = Outcome::new(context, request.model.clone(), request.stream);
        match self.route(&mut outcome, request, meta).await {
            Ok(Routed::Complete {
                response,
                target,
                to_count,
                upstream_ms,
            }) => {
                outcome.record_counting(
                    &self.recorder,
                    Some(target.clone()),
                    None,
                    response.usage,
                    to_count,
                    Some(upstream_ms),
                    None,
                );
                Ok(Served::Complete { response, target })
            }
            Ok(Routed::Stream {
                events,
                target,
                request,
                upstream_ms,
            }) => Ok(Served::Stream(Box::new(RecordedStream::new(
                events,
                self.recorder.clone(),
                outcome,
                target,
                upstream_ms,
                request,
                self.keepalive,
            )))),
            Err((target, error)) => {
                outcome.record_failure(&self.recorder, target.as_ref(), &error);
                Err(error)
            }
        }
    }

    async fn route(
        &self,
        outcome: &mut Outcome,
        mut request: ChatRequest,
        meta: ResponseMeta,
    ) -> Result<Routed, (Option<Target>, GaiaError)> {
        let targets = self
            .admitted_targets(outcome, &mut request)
            .await
            .map_err(|e| (None, e))?;
        let upstream_started = Instant::now();
        // A failed route still tells which target it tried last and how often.
        let failed = |outcome: &mut Outcome, mut f: RouteFailure| {
            outcome.attempts = std::mem::take(&mut f.attempts);
            (f.target, f.error)
        };
        if request.stream {
            let (events, target, attempts) =
                router::chat_stream(&targets, &request, &meta, self.retry)
                    .await
                    .map_err(|f| failed(outcome, f))?;
            outcome.attempts = attempts;
            return Ok(Routed::Stream {
                events,
                target,
                request,
                upstream_ms: elapsed_ms(upstream_started),
            });
        }
        let (response, target, attempts) = router::chat(&targets, &request, &meta, self.retry)
            .await
            .map_err(|f| failed(outcome, f))?;
        outcome.attempts = attempts;
        let upstream_ms = elapsed_ms(upstream_started);
        // A provider that reported no usage: counted with the tokenizer (in the background) and marked
        // estimated.
        let to_count = response.usage.is_none().then(|| {
            let completion = completion_text(&response);
            (request, completion)
        });
        Ok(Routed::Complete {
            response,
            target,
            to_count,
            upstream_ms,
        })
    }

    /// The targets of the requested model that can serve this caller, once the caller's limits admitted
    /// the request (the admission is kept in `outcome`, for the usage record).
    async fn admitted_targets(
        &self,
        outcome: &mut Outcome,
        request: &mut ChatRequest,
    ) -> Result<Vec<Target>, GaiaError> {
        let targets = self
            .registry
            .load()
            .resolve_kind(&request.model, ModelKind::Chat)?;
        if outcome.context.api == InboundApi::Messages {
            lower_to_output_limit(&targets, &mut request.max_tokens);
        }
        let targets = within_output_limit(targets, request.max_tokens)?;
        let targets = priced_for(targets, outcome.context.key.as_ref().map(|k| &k.limits))?;
        self.admit(outcome).await?;
        Ok(targets)
    }

    /// Charges the request against its key's and organization's limits (none for the bootstrap key); the
    /// admission is kept in `outcome` for the usage record.
    async fn admit(&self, outcome: &mut Outcome) -> Result<(), GaiaError> {
        if let Some(key) = &outcome.context.key {
            let span = tracing::info_span!(target: "gaia_trace", parent: &outcome.context.span, "gaia.admission");
            let admission = tracing::Instrument::instrument(
                self.recorder
                    .limiter
                    .admit(&key.id, &key.organization_id, &key.limits, Utc::now()),
                span,
            )
            .await?;
            outcome.admission = Some(admission);
        }
        Ok(())
    }
}

/// The text an answer produced (its choices' text and tool-call arguments), for counting its tokens.
fn completion_text(response: &ChatResponse) -> String {
    let mut text = String::new();
    for choice in &response.choices {
        text.push_str(&choice.message.text_content());
        for call in &choice.message.tool_calls {
            text.push_str(&call.arguments);
        }
    }
    text
}

/// What routing produced, before it is recorded.
enum Routed {
    Complete {
        response: ChatResponse,
        target: Target,
        to_count: Option<(ChatRequest, String)>,
        upstream_ms: u32,
    },
    Stream {
        events: gaia_providers::EventStream,
        target: Target,
        request: ChatRequest,
        upstream_ms: u32,
    },
}

/// The Messages API requires `max_tokens`, so its clients send a ceiling (Claude Code asks 32,000 of
/// every model) rather than a deliberate ask: above what every target can produce, it is lowered to the
/// largest limit among them instead of refused, and the answer stops at `max_tokens` as it would have.
fn lower_to_output_limit(targets: &[Target], max_tokens: &mut Option<u32>) {
    let Some(asked) = *max_tokens else {
        return;
    };
    let limits: Option<Vec<i64>> = targets
        .iter()
        .map(|t| t.model.max_completion_tokens.filter(|m| *m > 0))
        .collect();
    // A target without a known limit takes the request as it is.
    let Some(largest) = limits.and_then(|l| l.into_iter().max()) else {
        return;
    };
    if i64::from(asked) > largest {
        *max_tokens = u32::try_from(largest).ok().or(*max_tokens);
    }
}

/// Drops targets whose model cannot produce `max_tokens`; refuses (422) when none is left, rather than
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
    limits: Option<&AppliedLimits>,
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

#[cfg(test)]
mod tests {
    use gaia_core::{Choice, ToolCall};

    use super::*;

    #[test]
    fn the_completion_text_is_every_choice_text_and_tool_call_arguments() {
        let call = ToolCall {
            id: "call_0".into(),
            name: "f".into(),
            arguments: r#"{"a":1}"#.into(),
        };
        let response = ChatResponse {
            id: "id".into(),
            created: 0,
            model: "m".into(),
            choices: vec![
                Choice::assistant(0, "hello ".into(), vec![call], None),
                Choice::assistant(1, "world".into(), Vec::new(), None),
            ],
            usage: None,
        };
        assert_eq!(completion_text(&response), r#"hello {"a":1}world"#);
    }
}
