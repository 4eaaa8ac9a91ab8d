//! OpenAI, OpenRouter and every OpenAI-compatible server (vLLM, Ollama, DeepSeek, …).

use gaia_adapters::{ResponseMeta, StreamDecoder, openai};
use gaia_core::{
    ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, GaiaError, ProviderKind,
};

use super::Dialect;
use crate::config::ProviderConfig;

pub(super) struct OpenAi;

impl Dialect for OpenAi {
    fn auth_header(&self, key: &str) -> (&'static str, String) {
        ("authorization", format!("Bearer {key}"))
    }

    fn url(
        &self,
        _config: &ProviderConfig,
        base: &str,
        _upstream_model: &str,
        _stream: bool,
    ) -> String {
        format!("{base}/chat/completions")
    }

    fn embeddings_request(
        &self,
        _config: &ProviderConfig,
        base: &str,
        request: &EmbeddingRequest,
        upstream_model: &str,
    ) -> Option<Result<(String, Vec<u8>), GaiaError>> {
        Some(Ok((
            format!("{base}/embeddings"),
            openai::encode_embeddings_request(request, upstream_model),
        )))
    }

    fn embeds(&self) -> bool {
        true
    }

    fn parse_embeddings(
        &self,
        body: &[u8],
        _inputs: usize,
    ) -> Result<EmbeddingResponse, GaiaError> {
        openai::parse_embeddings_response(body)
    }

    fn embeds_tokens(&self) -> bool {
        true
    }

    fn encode(
        &self,
        config: &ProviderConfig,
        request: &ChatRequest,
        upstream_model: &str,
        _max_tokens_default: u32,
    ) -> Result<Vec<u8>, GaiaError> {
        // OpenRouter speaks OpenAI's newest dialect; other OpenAI-kind servers may be older copies of it.
        let flavor = match config.kind {
            ProviderKind::OpenRouter => openai::Flavor::OpenRouter,
            _ if config.openai_compatible => openai::Flavor::Compatible,
            _ => openai::Flavor::OpenAi,
        };
        openai::encode_request(request, upstream_model, flavor)
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
