//! Google's Gemini API (`generateContent`, `streamGenerateContent`).

use gaia_adapters::{ResponseMeta, StreamDecoder, gemini};
use gaia_core::{ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, GaiaError};

use super::Dialect;
use crate::config::ProviderConfig;

pub(super) struct Gemini;

impl Dialect for Gemini {
    fn auth_header(&self, key: &str) -> (&'static str, String) {
        ("x-goog-api-key", key.to_owned())
    }

    /// The model and the method are in the path.
    fn url(
        &self,
        _config: &ProviderConfig,
        base: &str,
        upstream_model: &str,
        stream: bool,
    ) -> String {
        let method = if stream {
            "streamGenerateContent?alt=sse"
        } else {
            "generateContent"
        };
        format!("{base}/v1beta/models/{upstream_model}:{method}")
    }

    fn count_request(
        &self,
        base: &str,
        request: &ChatRequest,
        upstream_model: &str,
    ) -> Option<Result<(String, Vec<u8>), GaiaError>> {
        Some(
            gemini::encode_count_tokens_request(request, upstream_model).map(|body| {
                (
                    format!("{base}/v1beta/models/{upstream_model}:countTokens"),
                    body,
                )
            }),
        )
    }

    fn parse_count(&self, body: &[u8]) -> Option<u64> {
        gemini::parse_count_tokens(body)
    }

    fn embeddings_request(
        &self,
        _config: &ProviderConfig,
        base: &str,
        request: &EmbeddingRequest,
        upstream_model: &str,
    ) -> Option<Result<(String, Vec<u8>), GaiaError>> {
        Some(
            gemini::encode_embeddings_request(request, upstream_model).map(|body| {
                (
                    format!("{base}/v1beta/models/{upstream_model}:batchEmbedContents"),
                    body,
                )
            }),
        )
    }

    fn embeds(&self) -> bool {
        true
    }

    fn parse_embeddings(&self, body: &[u8], inputs: usize) -> Result<EmbeddingResponse, GaiaError> {
        gemini::parse_embeddings_response(body, inputs)
    }

    /// `batchEmbedContents` takes at most 100 requests.
    fn max_embedding_batch(&self) -> usize {
        100
    }

    fn url_varies(&self) -> bool {
        true
    }

    fn encode(
        &self,
        _config: &ProviderConfig,
        request: &ChatRequest,
        _upstream_model: &str,
        _max_tokens_default: u32,
    ) -> Result<Vec<u8>, GaiaError> {
        gemini::encode_request(request)
    }

    fn parse_response(&self, body: &[u8], meta: &ResponseMeta) -> Result<ChatResponse, GaiaError> {
        gemini::parse_response(body, meta)
    }

    fn stream_decoder(&self, meta: ResponseMeta) -> Box<dyn StreamDecoder + Send> {
        Box::new(gemini::GeminiStreamDecoder::new(meta))
    }

    fn error_message(&self, body: &[u8]) -> Option<String> {
        gemini::parse_error(body)
    }
}
