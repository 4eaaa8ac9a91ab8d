//! Embeddings calls (specs/embeddings.md): which inputs a provider can embed, and the call itself, split
//! into batches where the provider takes fewer inputs per call than the request holds.

use gaia_core::{EmbeddingInput, EmbeddingRequest, EmbeddingResponse, GaiaError};

use super::{Provider, content_type};
use crate::upstream_error;

impl Provider {
    /// Whether this provider's API has embeddings at all (Anthropic's has none).
    pub fn has_embeddings(&self) -> bool {
        self.dialect.embeds()
    }

    /// Whether this provider can embed `input`: it has an embeddings API, and takes token arrays if the
    /// input is token arrays.
    pub fn embeds(&self, input: &EmbeddingInput) -> bool {
        self.has_embeddings()
            && (matches!(input, EmbeddingInput::Texts(_)) || self.dialect.embeds_tokens())
    }

    /// One vector per input of `request`, in input order (specs/embeddings.md). A request longer than the
    /// provider takes in one call (Gemini: 100 inputs) is sent in consecutive calls whose vectors and usage
    /// are joined; any call failing fails the request. An answer with a vector count other than its input
    /// count is a 502.
    pub async fn embed(
        &self,
        request: &EmbeddingRequest,
        upstream_model: &str,
    ) -> Result<EmbeddingResponse, GaiaError> {
        self.require_configured()?;
        let batch = self.dialect.max_embedding_batch().max(1);
        if request.input.len() <= batch {
            return self.embed_batch(request, upstream_model).await;
        }
        let EmbeddingInput::Texts(texts) = &request.input else {
            // Only text-only providers have a batch limit; token arrays never reach them.
            return self.embed_batch(request, upstream_model).await;
        };
        let mut joined = EmbeddingResponse {
            model: String::new(),
            vectors: Vec::with_capacity(texts.len()),
            usage: gaia_core::Usage::default(),
        };
        for chunk in texts.chunks(batch) {
            let part = EmbeddingRequest {
                model: request.model.clone(),
                input: EmbeddingInput::Texts(chunk.to_vec()),
                dimensions: request.dimensions,
                encoding: request.encoding,
                user: request.user.clone(),
            };
            let answer = self.embed_batch(&part, upstream_model).await?;
            if joined.model.is_empty() {
                joined.model = answer.model;
            }
            joined.vectors.extend(answer.vectors);
            joined.usage.accumulate(&answer.usage);
        }
        Ok(joined)
    }

    /// One embeddings call.
    async fn embed_batch(
        &self,
        request: &EmbeddingRequest,
        upstream_model: &str,
    ) -> Result<EmbeddingResponse, GaiaError> {
        let Some(call) =
            self.dialect
                .embeddings_request(&self.config, &self.base, request, upstream_model)
        else {
            return Err(GaiaError::invalid_request(format!(
                "the provider '{}' has no embeddings API",
                self.config.name
            ))
            .with_param("model")
            .with_code("embeddings_unsupported"));
        };
        let (url, body) = call?;
        let answer = self.exchange(self.client()?.post(url).body(body)).await?;
        let content_type = content_type(&answer.response);
        let body = self.read_body(answer.response).await?;
        drop(answer.slot);
        let inputs = request.input.len();
        let unusable = |detail: &str| {
            let err = upstream_error::bad_response(
                &self.config.name,
                self.config.kind,
                content_type.as_deref(),
                &body,
                detail,
            );
            tracing::warn!(provider = %self.config.name, code = err.code(), "unusable embeddings answer");
            self.redact(err)
        };
        match self.dialect.parse_embeddings(&body, inputs) {
            Err(e) if e.status() == 502 => Err(unusable(&e.message)),
            Err(e) => Err(self.redact(e)),
            Ok(answer) if answer.vectors.len() != inputs => Err(unusable(&format!(
                "{} embeddings for {inputs} inputs",
                answer.vectors.len()
            ))),
            Ok(answer) => Ok(answer),
        }
    }
}
