//! Token counting by the provider itself (Anthropic's `count_tokens`, Gemini's `countTokens`), behind the
//! Messages API's `count_tokens` route (the pipeline falls back to GaiaRouter's tokenizer without it).

use gaia_core::{ChatRequest, GaiaError};

use super::{MAX_ERROR_BODY_BYTES, Provider, read_limited};
use crate::upstream_error;

impl Provider {
    /// The provider's own count of `request`'s input tokens, where it offers one (Anthropic's
    /// `count_tokens`, Gemini's `countTokens`); `Ok(None)` for providers without such an endpoint. One
    /// call, no retry, within the first-byte timeout.
    pub async fn count_tokens(
        &self,
        request: &ChatRequest,
        upstream_model: &str,
    ) -> Result<Option<u64>, GaiaError> {
        let Some(count) = self
            .dialect
            .count_request(&self.base, request, upstream_model)
        else {
            return Ok(None);
        };
        let (url, body) = count?;
        let mut builder = self.client()?.post(url).body(body);
        for (name, value) in self.dialect.request_headers(request) {
            builder = builder.header(name, value);
        }
        let read = async {
            let response = builder
                .send()
                .await
                .map_err(|e| upstream_error::from_transport(&self.config.name, &e))?;
            if !response.status().is_success() {
                return Err(self.refusal(response).await);
            }
            read_limited(response, MAX_ERROR_BODY_BYTES)
                .await
                .map_err(|_| {
                    GaiaError::upstream(format!(
                        "{}: the token count was unreadable",
                        self.config.name
                    ))
                })
        };
        let body = tokio::time::timeout(self.timeouts.first_byte, read)
            .await
            .map_err(|_| upstream_error::timeout(&self.config.name))??;
        self.dialect.parse_count(&body).map(Some).ok_or_else(|| {
            GaiaError::upstream(format!(
                "{}: the token count answer has no count",
                self.config.name
            ))
        })
    }
}
