//! Embeddings through the pipeline (specs/embeddings.md): the same steps as a chat request — resolve,
//! filter the targets, admit, route, record once — without a stream, plus the input count a provider that
//! reports none leaves to the gateway.

use std::time::Instant;

use gaia_core::{EmbeddingInput, EmbeddingRequest, EmbeddingResponse, GaiaError, ModelKind, Usage};
use gaia_providers::{Target, router};

use super::{Pipeline, priced_for};
use crate::outcome::{Outcome, RequestContext, elapsed_ms};

impl Pipeline {
    /// Serves an embeddings request (specs/embeddings.md): an embedding model resolved, the targets that
    /// can embed this input at this length kept, the caller's limits admitted, the route over the targets,
    /// and the usage recorded once. A provider that reports no usage (Gemini) has the input counted here —
    /// texts with the tokenizer (the record marked estimated), token arrays exactly — so the client's
    /// `usage` and the record agree. Returns the vectors, their usage, and the target that answered.
    pub async fn embed(
        &self,
        context: RequestContext,
        request: EmbeddingRequest,
    ) -> Result<(EmbeddingResponse, Target), GaiaError> {
        let mut outcome = Outcome::new(context, request.model.clone(), false);
        let started = Instant::now();
        let routed = match self.embedding_targets(&mut outcome, &request).await {
            Ok(targets) => router::embed(&targets, &request, self.retry)
                .await
                .map_err(|mut f| {
                    outcome.attempts = std::mem::take(&mut f.attempts);
                    (f.target, f.error)
                }),
            Err(e) => Err((None, e)),
        };
        let (mut response, target, attempts) = match routed {
            Ok(served) => served,
            Err((target, error)) => {
                outcome.record_failure(&self.recorder, target.as_ref(), &error);
                return Err(error);
            }
        };
        outcome.attempts = attempts;
        let upstream_ms = elapsed_ms(started);
        let (usage, estimated) = if response.usage.is_empty() {
            let counted = match &request.input {
                EmbeddingInput::Tokens(arrays) => {
                    (arrays.iter().map(Vec::len).sum::<usize>() as u64, false)
                }
                EmbeddingInput::Texts(texts) => (
                    gaia_stats::estimate::texts_off_thread(texts.clone()).await,
                    true,
                ),
            };
            (Usage::new(counted.0, 0), counted.1)
        } else {
            // Embeddings produce no tokens: whatever a provider puts beside the input is not billed.
            (Usage::new(response.usage.prompt_tokens, 0), false)
        };
        response.usage = usage;
        let (reported, counted) = if estimated {
            (None, Some(usage))
        } else {
            (Some(usage), None)
        };
        outcome.record(
            &self.recorder,
            Some(&target),
            Ok(()),
            reported,
            counted,
            Some(upstream_ms),
            None,
        );
        Ok((response, target))
    }

    /// The targets of an embeddings request that can serve it and this caller, once admitted: the model
    /// must be an embedding model (400 `model_kind_mismatch`); a target whose provider cannot embed the
    /// input (token arrays on Gemini) or whose model is shorter than `dimensions` is skipped, and when none
    /// is left the request is a 422 naming the field.
    async fn embedding_targets(
        &self,
        outcome: &mut Outcome,
        request: &EmbeddingRequest,
    ) -> Result<Vec<Target>, GaiaError> {
        let targets = self
            .registry
            .load()
            .resolve_kind(&request.model, ModelKind::Embedding)?;
        let first = targets.first().cloned();
        let targets: Vec<Target> = targets
            .into_iter()
            .filter(|t| t.provider.embeds(&request.input))
            .collect();
        if let (true, Some(first)) = (targets.is_empty(), &first) {
            return Err(GaiaError::unprocessable(format!(
                "the model '{}' embeds text only ({} takes no token ids); send `input` as a string or an \
                 array of strings",
                first.model.id,
                first.provider.name()
            ))
            .with_param("input")
            .with_code("token_input_unsupported"));
        }
        let targets = within_dimensions(targets, request.dimensions)?;
        let targets = priced_for(targets, outcome.context.key.as_ref().map(|k| &k.limits))?;
        self.admit(outcome).await?;
        Ok(targets)
    }
}

/// Drops targets whose model's vectors are shorter than `dimensions` (providers only shorten them);
/// refuses (422 `dimensions_too_large`) when none is left.
fn within_dimensions(
    targets: Vec<Target>,
    dimensions: Option<u32>,
) -> Result<Vec<Target>, GaiaError> {
    let Some(asked) = dimensions.map(i64::from) else {
        return Ok(targets);
    };
    let native = |t: &Target| t.model.dimensions.filter(|d| *d > 0);
    let first = targets
        .iter()
        .find_map(|t| native(t).map(|d| (t.model.id.clone(), d)));
    let fitting: Vec<Target> = targets
        .into_iter()
        .filter(|t| native(t).is_none_or(|d| asked <= d))
        .collect();
    match (fitting.is_empty(), first) {
        (true, Some((id, native))) => Err(GaiaError::unprocessable(format!(
            "dimensions is {asked}, but the vectors of '{id}' have {native} dimensions; a provider can only shorten them"
        ))
        .with_param("dimensions")
        .with_code("dimensions_too_large")),
        _ => Ok(fitting),
    }
}
