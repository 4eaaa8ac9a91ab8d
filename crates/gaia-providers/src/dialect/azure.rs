//! Azure OpenAI: OpenAI's formats, reached per deployment — `{endpoint}/openai/deployments/{deployment}/…`
//! with the `api-version` query parameter — and authenticated with the `api-key` header. The model's
//! upstream name (or a channel's model map) is the deployment name.

use gaia_adapters::{ResponseMeta, StreamDecoder, openai};
use gaia_core::{ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, GaiaError};

use super::Dialect;
use crate::config::ProviderConfig;

/// The `api-version` used when none is configured: the latest generally available one.
pub(crate) const DEFAULT_API_VERSION: &str = "2024-10-21";

pub(super) struct Azure;

/// A deployment name as one path segment (percent-encoded beyond letters, digits, `-`, `_`, `.`).
fn segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn endpoint(config: &ProviderConfig, base: &str, deployment: &str, operation: &str) -> String {
    let version = config
        .api_version
        .as_deref()
        .filter(|v| !v.is_empty())
        .unwrap_or(DEFAULT_API_VERSION);
    let base = base.trim_end_matches("/openai");
    format!(
        "{base}/openai/deployments/{}/{operation}?api-version={}",
        segment(deployment),
        segment(version)
    )
}

impl Dialect for Azure {
    fn auth_header(&self, key: &str) -> (&'static str, String) {
        ("api-key", key.to_owned())
    }

    fn url(
        &self,
        config: &ProviderConfig,
        base: &str,
        upstream_model: &str,
        _stream: bool,
    ) -> String {
        endpoint(config, base, upstream_model, "chat/completions")
    }

    fn url_varies(&self) -> bool {
        true
    }

    fn embeddings_request(
        &self,
        config: &ProviderConfig,
        base: &str,
        request: &EmbeddingRequest,
        upstream_model: &str,
    ) -> Option<Result<(String, Vec<u8>), GaiaError>> {
        Some(Ok((
            endpoint(config, base, upstream_model, "embeddings"),
            openai::encode_embeddings_request(request, upstream_model),
        )))
    }

    fn embeds(&self) -> bool {
        true
    }

    fn embeds_tokens(&self) -> bool {
        true
    }

    fn parse_embeddings(
        &self,
        body: &[u8],
        _inputs: usize,
    ) -> Result<EmbeddingResponse, GaiaError> {
        openai::parse_embeddings_response(body)
    }

    fn encode(
        &self,
        _config: &ProviderConfig,
        request: &ChatRequest,
        upstream_model: &str,
        _max_tokens_default: u32,
    ) -> Result<Vec<u8>, GaiaError> {
        // Azure serves OpenAI's own models with OpenAI's current request format; the deployment in the
        // URL picks the model (the body's `model` is ignored).
        openai::encode_request(request, upstream_model, openai::Flavor::OpenAi)
    }

    fn parse_response(&self, body: &[u8], meta: &ResponseMeta) -> Result<ChatResponse, GaiaError> {
        openai::parse_response(body, meta)
    }

    fn stream_decoder(&self, meta: ResponseMeta) -> Box<dyn StreamDecoder + Send> {
        Box::new(openai::OpenAiStreamDecoder::new(meta))
    }

    fn error_message(&self, body: &[u8]) -> Option<String> {
        openai::parse_error(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gaia_core::ProviderKind;

    #[test]
    fn deployments_are_addressed_by_url_with_the_api_version() {
        let mut c = ProviderConfig::new(
            "azure",
            ProviderKind::Azure,
            "https://res.openai.azure.com",
            Some("k".into()),
        );
        assert_eq!(
            Azure.url(&c, "https://res.openai.azure.com", "gpt-4o prod", true),
            "https://res.openai.azure.com/openai/deployments/gpt-4o%20prod/chat/completions?api-version=2024-10-21"
        );
        c.api_version = Some("2025-01-01-preview".into());
        assert_eq!(
            Azure.url(&c, "https://res.openai.azure.com/openai", "d", false),
            "https://res.openai.azure.com/openai/deployments/d/chat/completions?api-version=2025-01-01-preview"
        );
        assert_eq!(Azure.auth_header("secret"), ("api-key", "secret".into()));
    }
}
