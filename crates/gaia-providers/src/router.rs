//! Routing a request over its targets: bounded retries with backoff for transient failures, then the next
//! target (fallback). A target that cannot serve at all — its provider refused GaiaRouter's credential
//! (401/403) or does not know the model (404) — is left at once for the next, without a retry. A failure
//! caused by the request itself (400) stops the route. Only failures *before any byte reached the client*
//! are retried — for streams that means the connection failed, the status was an error, or the very first
//! event was an error.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use gaia_adapters::ResponseMeta;
use gaia_core::{
    ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, ErrorKind, GaiaError,
    StreamEvent,
};

use crate::channel::{self, Channel, ChannelSource};
use crate::health::{RecentError, RefusedCredential};
use crate::provider::EventStream;
use crate::registry::Target;
use crate::timing;
use crate::upstream_error::{AfterFailure, after_failure};

/// How hard to try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Extra attempts on the same target after a transient failure.
    pub max_retries: u32,
    /// First backoff; doubles per attempt.
    pub backoff: Duration,
    /// A `retry-after` longer than this moves on to the next target instead of waiting.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 1,
            backoff: Duration::from_millis(200),
            max_wait: Duration::from_secs(2),
        }
    }
}

/// What happened, for usage records, metrics and logs.
#[derive(Debug, Clone, Default)]
pub struct Attempts {
    /// Upstream calls made, retries and fallbacks included.
    pub count: u32,
    /// The channel of the last call: the one that served, on success.
    pub channel: Option<Arc<Channel>>,
    /// Calls made on a target after its first (on another channel, or again after a backoff).
    pub retries: u32,
    /// Times the route left a target for the next one (the alias fallback chain).
    pub fallbacks: u32,
    /// Each failed call: its channel and what kind of failure ([`failure_kind`]). Empty (no allocation)
    /// when the first call succeeded.
    pub failures: Vec<(Arc<Channel>, &'static str)>,
}

/// Every value [`failure_kind`] gives, so metrics can start each at zero.
pub const FAILURE_KINDS: [&str; 9] = [
    "timeout",
    "connect",
    "rate_limited",
    "auth",
    "not_found",
    "bad_request",
    "server_error",
    "busy",
    "other",
];

/// A failure as metrics count it: `timeout`, `connect`, `rate_limited`, `auth`, `not_found`,
/// `bad_request`, `server_error`, `busy` or `other` (one of [`FAILURE_KINDS`]).
pub fn failure_kind(err: &GaiaError) -> &'static str {
    match err.code() {
        "upstream_timeout" => "timeout",
        "upstream_unreachable" | "upstream_connection_lost" => "connect",
        "upstream_rate_limited" => "rate_limited",
        "upstream_auth_error" => "auth",
        "model_not_found" => "not_found",
        "upstream_invalid_request" => "bad_request",
        "upstream_error" => "server_error",
        "upstream_busy" => "busy",
        _ => "other",
    }
}

/// A route that served nothing: the error to answer with, the last target tried (`None` when there was
/// none) and the attempts made.
#[derive(Debug, Clone)]
pub struct RouteFailure {
    pub error: GaiaError,
    pub target: Option<Target>,
    pub attempts: Attempts,
}

fn max_tokens_default(target: &Target) -> u32 {
    target
        .model
        .max_completion_tokens
        .and_then(|m| u32::try_from(m).ok())
        .unwrap_or(target.provider.config().default_max_tokens)
}

/// The failure recorded on a channel's circuit (what the admin API lists as a recent error).
fn recent(err: &GaiaError) -> RecentError {
    RecentError {
        at: chrono::Utc::now(),
        code: err.code().to_owned(),
        message: err.message.clone(),
    }
}

fn no_channel(target: &Target) -> GaiaError {
    GaiaError::new(
        ErrorKind::Unavailable,
        format!(
            "every channel of provider '{}' for '{}' is failing or disabled; retry shortly",
            target.provider.name(),
            target.model.id
        ),
    )
    .with_code("channels_unavailable")
    .with_retry_after(1)
}

/// Runs `call` over the targets with the policy; returns the first success and the target that served.
///
/// Per target, its channels in [`channel::order`]: a transient failure moves to the next channel at once
/// (and counts against the channel's circuit); once every channel was tried, the policy's retries go round
/// again after a backoff. A refused credential disables the channel; a model the channel does not know
/// moves to the next one. Then the next target.
async fn route<'a, T, F, Fut>(
    targets: &'a [Target],
    policy: RetryPolicy,
    mut call: F,
) -> Result<(T, Target, Attempts), RouteFailure>
where
    F: FnMut(&'a Target, Arc<Channel>) -> Fut,
    Fut: std::future::Future<Output = Result<T, GaiaError>>,
{
    let mut attempts = Attempts::default();
    let mut last: Option<(GaiaError, &'a Target)> = None;
    'targets: for (n, target) in targets.iter().enumerate() {
        if n > 0 {
            attempts.fallbacks += 1;
        }
        let upstream = &target.model.upstream_name;
        let mut order = channel::order(&target.channels, upstream, Instant::now());
        // Every channel is failing: fall back to the next target if there is one, else try them anyway.
        let panic = order.is_empty() && n + 1 == targets.len();
        if panic {
            order = channel::order_ignoring_circuits(&target.channels, upstream);
        }
        if order.is_empty() {
            tracing::warn!(provider = target.provider.name(), model = %target.model.id, "no channel can serve; trying the next target");
            last = Some((no_channel(target), target));
            continue;
        }
        let budget = order.len() + policy.max_retries as usize;
        let mut tried = 0usize;
        let mut i = 0usize;
        while tried < budget && !order.is_empty() {
            let slot = i % order.len();
            let ch = order[slot].clone();
            if i >= order.len() && slot == 0 {
                // Every channel had its turn: back off before going round again.
                let round = (i / order.len()) as u32;
                let wait = match last.as_ref().and_then(|(e, _)| e.retry_after) {
                    Some(secs) => Duration::from_secs(secs),
                    None => policy.backoff.saturating_mul(1 << (round - 1).min(6)),
                };
                if wait > policy.max_wait {
                    continue 'targets;
                }
                // Waiting out the provider's failure: its time, not the gateway's.
                timing::waited(tokio::time::sleep(wait)).await;
            }
            i += 1;
            if !panic && !channel::claim(&ch, Instant::now()) {
                order.remove(slot);
                i = slot;
                continue;
            }
            if tried > 0 {
                attempts.retries += 1;
            }
            tried += 1;
            attempts.count += 1;
            attempts.channel = Some(ch.clone());
            let span = crate::trace::attempt_span(
                match target.model.kind {
                    gaia_core::ModelKind::Embedding => "embeddings",
                    gaia_core::ModelKind::Chat => "chat",
                },
                target.provider.name(),
                ch.upstream_name(upstream),
                &ch.name,
            );
            let outcome =
                tracing::Instrument::instrument(call(target, ch.clone()), span.clone()).await;
            if let Err(e) = &outcome {
                crate::trace::failed(&span, e.code());
            }
            let err = match outcome {
                Ok(value) => {
                    ch.circuit.succeeded(Instant::now());
                    return Ok((value, target.clone(), attempts));
                }
                Err(err) => err,
            };
            if err.code() != "client_disconnected" {
                attempts.failures.push((ch.clone(), failure_kind(&err)));
            }
            match after_failure(&err) {
                AfterFailure::Stop => {
                    return Err(RouteFailure {
                        error: err,
                        target: Some(target.clone()),
                        attempts,
                    });
                }
                AfterFailure::NextTarget => {
                    if err.code() == "upstream_auth_error" {
                        ch.circuit.refused_credential(
                            Instant::now(),
                            "the provider refused this channel's credential (401/403)",
                            recent(&err),
                            match ch.source {
                                ChannelSource::Database => RefusedCredential::Stored {
                                    sealed_key: ch.sealed_key.as_deref(),
                                },
                                ChannelSource::Config => RefusedCredential::Configured,
                            },
                        );
                    }
                    tracing::warn!(provider = target.provider.name(), channel = %ch.name, model = %target.model.id, code = err.code(), error = %err.message, "channel cannot serve; trying the next one");
                    last = Some((err, target));
                    order.remove(slot);
                    i = slot;
                }
                AfterFailure::Retry => {
                    // A channel at its own connection cap is busy, not sick.
                    if err.code() != "upstream_busy" {
                        ch.circuit.failed(Instant::now(), recent(&err));
                    }
                    tracing::info!(provider = target.provider.name(), channel = %ch.name, model = %target.model.id, attempt = tried, error = %err.message, "transient upstream failure");
                    last = Some((err, target));
                }
            }
        }
    }
    Err(match last {
        Some((error, target)) => RouteFailure {
            error,
            target: Some(target.clone()),
            attempts,
        },
        None => RouteFailure {
            error: GaiaError::not_found("no target for the model").with_code("model_not_found"),
            target: None,
            attempts,
        },
    })
}

/// A non-streaming completion over the targets.
pub async fn chat<'a>(
    targets: &'a [Target],
    request: &'a ChatRequest,
    meta: &ResponseMeta,
    policy: RetryPolicy,
) -> Result<(ChatResponse, Target, Attempts), RouteFailure> {
    route(targets, policy, |t: &'a Target, ch: Arc<Channel>| {
        let meta = ResponseMeta::new(meta.id.clone(), t.model.upstream_name.clone(), meta.created);
        async move {
            ch.endpoint
                .chat(
                    request,
                    ch.upstream_name(&t.model.upstream_name),
                    max_tokens_default(t),
                    &meta,
                )
                .await
        }
    })
    .await
}

/// Embeddings over the targets (never streamed).
pub async fn embed<'a>(
    targets: &'a [Target],
    request: &'a EmbeddingRequest,
    policy: RetryPolicy,
) -> Result<(EmbeddingResponse, Target, Attempts), RouteFailure> {
    route(
        targets,
        policy,
        |t: &'a Target, ch: Arc<Channel>| async move {
            ch.endpoint
                .embed(request, ch.upstream_name(&t.model.upstream_name))
                .await
        },
    )
    .await
}

/// A streaming completion over the targets. The returned stream starts with the first event received.
pub async fn chat_stream<'a>(
    targets: &'a [Target],
    request: &'a ChatRequest,
    meta: &ResponseMeta,
    policy: RetryPolicy,
) -> Result<(EventStream, Target, Attempts), RouteFailure> {
    route(targets, policy, |t: &'a Target, ch: Arc<Channel>| {
        let meta = ResponseMeta::new(meta.id.clone(), t.model.upstream_name.clone(), meta.created);
        async move {
            let mut stream = ch
                .endpoint
                .chat_stream(
                    request,
                    ch.upstream_name(&t.model.upstream_name),
                    max_tokens_default(t),
                    meta,
                )
                .await?;
            // Peek the first event: an immediate error is still "before any byte" and may fall back.
            match timing::waited(stream.next()).await {
                Some(StreamEvent::Error(e)) => Err(e),
                Some(first) => Ok(futures_util::stream::once(async move { first })
                    .chain(stream)
                    .boxed()),
                None => Err(GaiaError::upstream(format!(
                    "{}: empty stream",
                    t.provider.name()
                ))),
            }
        }
    })
    .await
}
