//! OpenAI's response and stream-chunk shapes, as far as we read them.
//!
//! Lenient on purpose: OpenAI-compatible servers (OpenRouter, DeepSeek, vLLM, Ollama…) omit fields or send
//! `null` where OpenAI sends values, so everything optional is `Option` or defaults.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::Value;

use crate::util::nullable;

/// A `chat.completion` body.
pub(super) type Completion<'a> = Envelope<'a, CompletionChoice>;

/// One `chat.completion.chunk` (or an in-stream `{"error":…}`).
pub(super) type Chunk<'a> = Envelope<'a, ChunkChoice>;

/// What a completion and a stream chunk share; they differ in their choices (`message` or `delta`).
/// Only the stream decoder reads `error`. The id and model are borrowed from the body where they can be:
/// a stream repeats them on every chunk, and only the first chunk's are used.
#[derive(Debug, Deserialize)]
#[serde(bound(deserialize = "'de: 'a, C: Deserialize<'de>"))]
pub(super) struct Envelope<'a, C> {
    #[serde(default, borrow)]
    pub id: Option<Cow<'a, str>>,
    #[serde(default)]
    pub created: Option<i64>,
    #[serde(default, borrow)]
    pub model: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "nullable")]
    pub choices: Vec<C>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
    #[serde(default)]
    pub error: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub(super) struct CompletionChoice {
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(default, deserialize_with = "nullable")]
    pub message: CompletionMessage,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct CompletionMessage {
    /// A string, `null`, or (some compatible servers) an array of text parts.
    #[serde(default)]
    pub content: Option<Value>,
    #[serde(default)]
    pub refusal: Option<String>,
    /// DeepSeek and several compatible servers.
    #[serde(default)]
    pub reasoning_content: Option<String>,
    /// OpenRouter.
    #[serde(default)]
    pub reasoning: Option<String>,
    /// OpenRouter's reasoning blocks, read entry by entry (`reasoning::wire_detail`).
    #[serde(default, deserialize_with = "nullable")]
    pub reasoning_details: Vec<Value>,
    #[serde(default, deserialize_with = "nullable")]
    pub tool_calls: Vec<WireToolCall>,
}

#[derive(Debug, Deserialize)]
pub(super) struct WireToolCall {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub function: WireFunction,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct WireFunction {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub arguments: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct WireUsage {
    #[serde(default)]
    pub prompt_tokens: Option<u64>,
    #[serde(default)]
    pub completion_tokens: Option<u64>,
    #[serde(default)]
    pub total_tokens: Option<u64>,
    #[serde(default)]
    pub prompt_tokens_details: Option<PromptDetails>,
    #[serde(default)]
    pub completion_tokens_details: Option<CompletionDetails>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct PromptDetails {
    #[serde(default)]
    pub cached_tokens: Option<u64>,
    /// Tokens written to a prompt cache, as OpenRouter reports them for providers that bill writes.
    #[serde(default)]
    pub cache_write_tokens: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct CompletionDetails {
    #[serde(default)]
    pub reasoning_tokens: Option<u64>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ChunkChoice {
    #[serde(default)]
    pub index: u32,
    #[serde(default, deserialize_with = "nullable")]
    pub delta: Delta,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct Delta {
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub refusal: Option<String>,
    /// DeepSeek and several compatible servers.
    #[serde(default)]
    pub reasoning_content: Option<String>,
    /// OpenRouter.
    #[serde(default)]
    pub reasoning: Option<String>,
    /// OpenRouter's reasoning blocks, in pieces: text, then a signature, or encrypted data.
    #[serde(default, deserialize_with = "nullable")]
    pub reasoning_details: Vec<Value>,
    #[serde(default, deserialize_with = "nullable")]
    pub tool_calls: Vec<ToolCallDelta>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ToolCallDelta {
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub function: WireFunction,
}
