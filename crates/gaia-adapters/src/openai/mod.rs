//! The OpenAI Chat Completions dialect: both the gateway's inbound API and the outbound format of OpenAI
//! and every OpenAI-compatible provider (OpenRouter, DeepSeek, Groq, vLLM, …).
//!
//! - inbound: [`parse_request`] (validated) and [`encode_response`] / [`OpenAiStreamEncoder`];
//! - outbound: [`encode_request`] writes the body for OpenAI itself or a third-party server straight to bytes
//!   ([`build_request`] / [`build_compatible_request`] give the same document as a `Value`), then
//!   [`parse_response`] / [`OpenAiStreamDecoder`], and [`parse_error`] for error bodies;
//! - embeddings, outbound: [`encode_embeddings_request`] and [`parse_embeddings_response`] (OpenAI,
//!   OpenRouter and compatible servers alike).
//!
//! Reasoning travels as text in `reasoning_content` (or OpenRouter's `reasoning`) and, with its signatures
//! and encrypted blocks, as OpenRouter's `reasoning_details` (see `reasoning.rs`), both ways.

mod embeddings;
mod out;
mod reasoning;
mod request;
mod stream;
mod upstream;
mod wire;

#[cfg(test)]
mod tests;

use std::borrow::Cow;

use gaia_core::{ChatRequest, ChatResponse, Choice, FinishReason, GaiaError, ToolCall, Usage};
use serde_json::Value;

use crate::codec::ResponseMeta;
use crate::util::malformed;

pub use embeddings::{encode_embeddings_request, parse_embeddings_response};
pub use request::parse_request;
pub use stream::{OpenAiStreamDecoder, OpenAiStreamEncoder};

const DIALECT: &str = "OpenAI";

/// The request body for OpenAI itself.
///
/// Sends `max_completion_tokens` (OpenAI's reasoning models reject the deprecated `max_tokens`) and keeps
/// the `developer` role. `extra` fields are passed through; canonical fields win over them. Streaming
/// requests always ask for usage (`stream_options.include_usage`): the gateway meters every request,
/// whatever the client asked for.
pub fn build_request(request: &ChatRequest, upstream_model: &str) -> Value {
    build(request, upstream_model, Flavor::OpenAi)
}

/// The request body for third-party OpenAI-compatible servers.
///
/// Same as [`build_request`] but with the widely supported `max_tokens` and `developer` messages sent as
/// `system`, because many compatible servers know neither `max_completion_tokens` nor `developer`.
pub fn build_compatible_request(request: &ChatRequest, upstream_model: &str) -> Value {
    build(request, upstream_model, Flavor::Compatible)
}

/// Which OpenAI-format server a body is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// OpenAI itself.
    OpenAi,
    /// A third-party server (vLLM, Ollama, DeepSeek, …): `max_tokens`, `developer` sent as `system`.
    Compatible,
    /// OpenRouter: OpenAI's fields plus its `reasoning` object, `top_k` and content-part `cache_control`.
    OpenRouter,
}

fn build(request: &ChatRequest, upstream_model: &str, flavor: Flavor) -> Value {
    // Cannot fail: every key is a string and every value serialisable.
    serde_json::to_value(upstream::Body {
        request,
        model: upstream_model,
        flavor,
    })
    .unwrap_or(Value::Null)
}

/// The request body for OpenAI ([`build_request`]) or, with `compatible`, a third-party server
/// ([`build_compatible_request`]), written straight to bytes: the prompt is not copied on the way.
pub fn encode_request(
    request: &ChatRequest,
    upstream_model: &str,
    flavor: Flavor,
) -> Result<Vec<u8>, GaiaError> {
    serde_json::to_vec(&upstream::Body {
        request,
        model: upstream_model,
        flavor,
    })
    .map_err(|e| GaiaError::internal(format!("serialising the upstream body: {e}")))
}

/// Parses an OpenAI(-compatible) `chat.completion` body. `meta` fills what a compatible server omitted.
pub fn parse_response(body: &[u8], meta: &ResponseMeta) -> Result<ChatResponse, GaiaError> {
    let completion: wire::Completion =
        serde_json::from_slice(body).map_err(|err| malformed(DIALECT, "response", err))?;
    let choices = completion
        .choices
        .into_iter()
        .zip(0u32..)
        .map(|(choice, position)| convert_choice(choice, position))
        .collect();
    Ok(ChatResponse {
        id: completion
            .id
            .map_or_else(|| meta.id.clone(), Cow::into_owned),
        created: completion.created.unwrap_or(meta.created),
        model: completion
            .model
            .map_or_else(|| meta.model.clone(), Cow::into_owned),
        choices,
        usage: completion.usage.map(|usage| convert_usage(&usage)),
    })
}

/// One choice of a `chat.completion`: reasoning parts first, then the text (or refusal) and tool calls.
fn convert_choice(choice: wire::CompletionChoice, position: u32) -> Choice {
    let message = choice.message;
    // OpenRouter sends the text both as `reasoning` and in `reasoning_details`: it is read once.
    let reasoning = reasoning::message_parts(
        message
            .reasoning_details
            .into_iter()
            .filter_map(reasoning::wire_detail)
            .collect(),
        message.reasoning_content.or(message.reasoning),
    );
    let mut text = message
        .content
        .as_ref()
        .map(content_text)
        .unwrap_or_default();
    if text.is_empty() {
        // A refusal is what the user gets to read instead of an answer.
        text = message.refusal.unwrap_or_default();
    }
    let tool_calls = message
        .tool_calls
        .into_iter()
        .zip(0u32..)
        .map(|(call, k)| ToolCall {
            id: call.id.unwrap_or_else(|| format!("call_{position}_{k}")),
            name: call.function.name.unwrap_or_default(),
            arguments: call.function.arguments.unwrap_or_default(),
        })
        .collect();
    let mut answer = Choice::assistant(
        choice.index.unwrap_or(position),
        text,
        tool_calls,
        choice.finish_reason.as_deref().map(finish_reason),
    );
    answer.message.content.splice(0..0, reasoning);
    answer
}

/// Text of a message `content`: a string, or the text parts of an array.
fn content_text(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|part| part.get("text").and_then(Value::as_str))
            .collect(),
        _ => String::new(),
    }
}

/// OpenAI's finish reasons; the legacy `function_call` is a tool call, unknown ones are `Stop`.
pub(crate) fn finish_reason(reason: &str) -> FinishReason {
    match reason {
        "length" => FinishReason::Length,
        "tool_calls" | "function_call" => FinishReason::ToolCalls,
        "content_filter" => FinishReason::ContentFilter,
        _ => FinishReason::Stop,
    }
}

fn convert_usage(usage: &wire::WireUsage) -> Usage {
    let prompt = usage.prompt_tokens.unwrap_or(0);
    let completion = usage.completion_tokens.unwrap_or(0);
    Usage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: usage
            .total_tokens
            .unwrap_or_else(|| prompt.saturating_add(completion)),
        cached_tokens: usage
            .prompt_tokens_details
            .as_ref()
            .and_then(|details| details.cached_tokens)
            .unwrap_or(0),
        cache_creation_tokens: usage
            .prompt_tokens_details
            .as_ref()
            .and_then(|details| details.cache_write_tokens)
            .unwrap_or(0),
        reasoning_tokens: usage
            .completion_tokens_details
            .as_ref()
            .and_then(|details| details.reasoning_tokens)
            .unwrap_or(0),
    }
}

/// The client-facing `chat.completion` body, with `model` as the client should see it, as a JSON value.
///
/// The same document as [`encode_response_bytes`] (which the gateway sends); this form is for callers that
/// want to inspect or amend it.
pub fn encode_response(response: &ChatResponse, model: &str) -> Value {
    serde_json::to_value(out::Completion::new(response, model, &response.id)).unwrap_or(Value::Null)
}

/// The client-facing `chat.completion` body, serialized: `id` and `model` as the client should see them.
///
/// Written straight from the canonical response, with no intermediate JSON tree and no copy of the text.
pub fn encode_response_bytes(
    response: &ChatResponse,
    model: &str,
    id: &str,
) -> Result<Vec<u8>, GaiaError> {
    serde_json::to_vec(&out::Completion::new(response, model, id))
        .map_err(|err| GaiaError::internal(format!("encoding the response: {err}")))
}

/// The human-readable message of an OpenAI(-compatible) error body: `{"error":{"message":…}}`, or the
/// `{"error":"…"}` / `{"message":…}` shapes some compatible servers use.
pub fn parse_error(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let message = match value.get("error") {
        Some(Value::String(message)) => Some(message.as_str()),
        Some(error) => error.get("message").and_then(Value::as_str),
        None => value.get("message").and_then(Value::as_str),
    }?;
    Some(message.to_owned())
}
