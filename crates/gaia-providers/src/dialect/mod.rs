//! What differs between provider kinds — URL, credential header, request and response formats, stream
//! decoder, error bodies — one module per kind behind one trait. [`dialect`] is the one place that maps a
//! [`ProviderKind`] to its module: adding a kind is a module here and an arm there (the compiler points at
//! the arm once the kind exists in `gaia-core`); the rest of the provider code — client, timeouts, retries,
//! error mapping — is shared.
//!
//! Conversion itself lives in `gaia-adapters`; a dialect here only picks the adapter functions and knows
//! the HTTP details.

mod anthropic;
mod azure;
mod gemini;
mod openai;

use gaia_adapters::{ResponseMeta, StreamDecoder};
use gaia_core::{
    ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, GaiaError, ProviderKind,
};

use crate::config::ProviderConfig;

/// One provider kind's wire details.
pub(crate) trait Dialect: Sync {
    /// The header carrying the API key, and its value.
    fn auth_header(&self, key: &str) -> (&'static str, String);

    /// Headers every request of this kind carries besides the credential.
    fn fixed_headers(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    /// Headers this request adds (from what the client asked of this dialect), besides the fixed ones;
    /// one of the same name replaces the fixed one.
    fn request_headers(&self, _request: &ChatRequest) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    /// The provider's own token-count endpoint for a request and its body, where it has one.
    fn count_request(
        &self,
        _base: &str,
        _request: &ChatRequest,
        _upstream_model: &str,
    ) -> Option<Result<(String, Vec<u8>), GaiaError>> {
        None
    }

    /// The input tokens in the answer of [`count_request`](Self::count_request)'s endpoint.
    fn parse_count(&self, _body: &[u8]) -> Option<u64> {
        None
    }

    /// The embeddings endpoint and body for `request` (specs/embeddings.md), where this kind has an
    /// embeddings API (`None`: Anthropic has none).
    fn embeddings_request(
        &self,
        _config: &ProviderConfig,
        _base: &str,
        _request: &EmbeddingRequest,
        _upstream_model: &str,
    ) -> Option<Result<(String, Vec<u8>), GaiaError>> {
        None
    }

    /// The vectors in an embeddings answer to a request of `inputs` inputs.
    fn parse_embeddings(
        &self,
        _body: &[u8],
        _inputs: usize,
    ) -> Result<EmbeddingResponse, GaiaError> {
        Err(GaiaError::internal(
            "this provider kind has no embeddings API",
        ))
    }

    /// The most inputs one embeddings call may carry; a longer request is split into several calls.
    fn max_embedding_batch(&self) -> usize {
        usize::MAX
    }

    /// Whether the kind has an embeddings API ([`embeddings_request`](Self::embeddings_request) gives a
    /// call).
    fn embeds(&self) -> bool {
        false
    }

    /// Whether the kind embeds token arrays (else text only).
    fn embeds_tokens(&self) -> bool {
        false
    }

    /// The endpoint for a request; `base` has no trailing slash.
    fn url(
        &self,
        config: &ProviderConfig,
        base: &str,
        upstream_model: &str,
        stream: bool,
    ) -> String;

    /// Whether [`url`](Self::url) depends on the model or on streaming (else it is built once).
    fn url_varies(&self) -> bool {
        false
    }

    /// The request body, written straight to bytes.
    fn encode(
        &self,
        config: &ProviderConfig,
        request: &ChatRequest,
        upstream_model: &str,
        max_tokens_default: u32,
    ) -> Result<Vec<u8>, GaiaError>;

    /// A complete (non-streaming) answer.
    fn parse_response(&self, body: &[u8], meta: &ResponseMeta) -> Result<ChatResponse, GaiaError>;

    /// The decoder of a streamed answer.
    fn stream_decoder(&self, meta: ResponseMeta) -> Box<dyn StreamDecoder + Send>;

    /// The provider's own message in an error body, if it has one this dialect understands.
    fn error_message(&self, body: &[u8]) -> Option<String>;
}

/// The dialect of a provider kind: the one `match` on the kind in this crate.
pub(crate) fn dialect(kind: ProviderKind) -> &'static dyn Dialect {
    match kind {
        ProviderKind::OpenAi | ProviderKind::OpenRouter => &openai::OpenAi,
        ProviderKind::Anthropic => &anthropic::Anthropic,
        ProviderKind::Gemini => &gemini::Gemini,
        ProviderKind::Azure => &azure::Azure,
    }
}
