//! Anthropic's Messages API.

use gaia_adapters::{ResponseMeta, StreamDecoder, anthropic};
use gaia_core::{ChatRequest, ChatResponse, GaiaError};

use super::Dialect;
use crate::config::ProviderConfig;

/// The API version every request names.
const ANTHROPIC_VERSION: &str = "2023-06-01";

pub(super) struct Anthropic;

impl Dialect for Anthropic {
    fn auth_header(&self, key: &str) -> (&'static str, String) {
        ("x-api-key", key.to_owned())
    }

    fn fixed_headers(&self) -> &'static [(&'static str, &'static str)] {
        &[("anthropic-version", ANTHROPIC_VERSION)]
    }

    /// A Messages API caller's `anthropic-beta` features (so beta-gated fields it sends work) and its
    /// `anthropic-version`, in place of ours, as it came.
    fn request_headers(&self, request: &ChatRequest) -> Vec<(&'static str, String)> {
        let extras = &request.anthropic;
        let beta = extras.beta.as_ref().map(|b| ("anthropic-beta", b.clone()));
        let version = extras
            .version
            .as_ref()
            .map(|v| ("anthropic-version", v.clone()));
        beta.into_iter().chain(version).collect()
    }

    fn count_request(
        &self,
        base: &str,
        request: &ChatRequest,
        upstream_model: &str,
    ) -> Option<Result<(String, Vec<u8>), GaiaError>> {
        Some(
            anthropic::encode_count_tokens_request(request, upstream_model)
                .map(|body| (format!("{base}/v1/messages/count_tokens"), body)),
        )
    }

    fn parse_count(&self, body: &[u8]) -> Option<u64> {
        anthropic::parse_count_tokens(body)
    }

    fn url(
        &self,
        _config: &ProviderConfig,
        base: &str,
        _upstream_model: &str,
        _stream: bool,
    ) -> String {
        format!("{base}/v1/messages")
    }

    fn encode(
        &self,
        _config: &ProviderConfig,
        request: &ChatRequest,
        upstream_model: &str,
        max_tokens_default: u32,
    ) -> Result<Vec<u8>, GaiaError> {
        // Anthropic requires `max_tokens`: the model's limit when the client gave none.
        anthropic::encode_request(request, upstream_model, max_tokens_default)
    }

    fn parse_response(&self, body: &[u8], meta: &ResponseMeta) -> Result<ChatResponse, GaiaError> {
        anthropic::parse_response(body, meta)
    }

    fn stream_decoder(&self, meta: ResponseMeta) -> Box<dyn StreamDecoder + Send> {
        Box::new(anthropic::AnthropicStreamDecoder::new(meta))
    }

    fn error_message(&self, body: &[u8]) -> Option<String> {
        anthropic::parse_error(body)
    }
}
