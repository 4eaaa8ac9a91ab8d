//! Routing a request over its targets: bounded retries with backoff for transient failures, then the next
//! target (fallback). A target that cannot serve at all — its provider refused GaiaRouter's credential
//! (401/403) or does not know the model (404) — is left at once for the next, without a retry. A failure
//! caused by the request itself (400) stops the route. Only failures *before any byte reached the client*
//! are retried — for streams that means the connection failed, the status was an error, or the very first
//! event was an error.

use std::time::Duration;

use futures_util::StreamExt;
use gaia_adapters::ResponseMeta;
use gaia_core::{
    ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, GaiaError, StreamEvent,
};

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

/// What happened, for usage records and logs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Attempts {
    /// Upstream calls made, retries and fallbacks included.
    pub count: u32,
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

/// Runs `call` over the targets with the policy; returns the first success and the target that served.
async fn route<'a, T, F, Fut>(
    targets: &'a [Target],
    policy: RetryPolicy,
    mut call: F,
) -> Result<(T, Target, Attempts), RouteFailure>
where
    F: FnMut(&'a Target) -> Fut,
    Fut: std::future::Future<Output = Result<T, GaiaError>>,
{
    let mut attempts = Attempts::default();
    let mut last: Option<(GaiaError, &'a Target)> = None;
    'targets: for target in targets {
        for attempt in 0..=policy.max_retries {
            attempts.count += 1;
            let err = match call(target).await {
                Ok(value) => return Ok((value, target.clone(), attempts)),
                Err(err) => err,
            };
            match after_failure(&err) {
                AfterFailure::Stop => {
                    return Err(RouteFailure {
                        error: err,
                        target: Some(target.clone()),
                        attempts,
                    });
                }
                AfterFailure::NextTarget => {
                    tracing::warn!(provider = target.provider.name(), model = %target.model.id, code = err.code(), error = %err.message, "target cannot serve; trying the next one");
                    last = Some((err, target));
                    continue 'targets;
                }
                AfterFailure::Retry => {
                    tracing::info!(provider = target.provider.name(), model = %target.model.id, attempt, error = %err.message, "transient upstream failure");
                    let wait = match err.retry_after {
                        Some(secs) => Duration::from_secs(secs),
                        None => policy.backoff.saturating_mul(1 << attempt.min(6)),
                    };
                    last = Some((err, target));
                    if attempt == policy.max_retries || wait > policy.max_wait {
                        continue 'targets;
                    }
                    // Waiting out the provider's failure: its time, not the gateway's.
                    timing::waited(tokio::time::sleep(wait)).await;
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
    route(targets, policy, |t: &'a Target| {
        let meta = ResponseMeta::new(meta.id.clone(), t.model.upstream_name.clone(), meta.created);
        async move {
            t.provider
                .chat(
                    request,
                    &t.model.upstream_name,
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
    route(targets, policy, |t: &'a Target| async move {
        t.provider.embed(request, &t.model.upstream_name).await
    })
    .await
}

/// A streaming completion over the targets. The returned stream starts with the first event received.
pub async fn chat_stream<'a>(
    targets: &'a [Target],
    request: &'a ChatRequest,
    meta: &ResponseMeta,
    policy: RetryPolicy,
) -> Result<(EventStream, Target, Attempts), RouteFailure> {
    route(targets, policy, |t: &'a Target| {
        let meta = ResponseMeta::new(meta.id.clone(), t.model.upstream_name.clone(), meta.created);
        async move {
            let mut stream = t
                .provider
                .chat_stream(request, &t.model.upstream_name, max_tokens_default(t), meta)
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
