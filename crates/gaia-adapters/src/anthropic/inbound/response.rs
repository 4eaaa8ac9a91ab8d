//! A [`ChatResponse`] → the Messages API `message` object.

use gaia_core::{ChatResponse, Choice, ContentPart, FinishReason, GaiaError, Usage};
use serde::Serialize;
use serde_json::Value;

/// Anthropic's `stop_reason` for a finished choice: a stop that names its stop sequence is
/// `stop_sequence`, a content filter is `refusal`.
pub fn stop_reason(reason: Option<FinishReason>, stop_sequence: Option<&str>) -> &'static str {
    match reason {
        Some(FinishReason::Length) => "max_tokens",
        Some(FinishReason::ToolCalls) => "tool_use",
        Some(FinishReason::ContentFilter) => "refusal",
        Some(FinishReason::Stop) | None if stop_sequence.is_some() => "stop_sequence",
        Some(FinishReason::Stop) | None => "end_turn",
    }
}

/// The Messages API usage object. Anthropic's `input_tokens` excludes what was read from or written to
/// the cache, so the canonical `prompt_tokens` (everything read) is split back into its three classes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct WireUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
}

impl From<&Usage> for WireUsage {
    fn from(u: &Usage) -> Self {
        Self {
            input_tokens: u
                .prompt_tokens
                .saturating_sub(u.cached_tokens)
                .saturating_sub(u.cache_creation_tokens),
            output_tokens: u.completion_tokens,
            cache_creation_input_tokens: u.cache_creation_tokens,
            cache_read_input_tokens: u.cached_tokens,
        }
    }
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum OutBlock<'a> {
    Text {
        text: &'a str,
    },
    Thinking {
        thinking: &'a str,
        /// Empty when the provider gave none (reasoning from an OpenAI-compatible server or Gemini).
        signature: &'a str,
    },
    RedactedThinking {
        data: &'a str,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: Value,
    },
}

#[derive(Serialize)]
struct OutMessage<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    role: &'static str,
    model: &'a str,
    content: Vec<OutBlock<'a>>,
    stop_reason: &'static str,
    stop_sequence: Option<&'a str>,
    usage: WireUsage,
}

/// Arguments as the `input` object Anthropic requires. Empty arguments are `{}`; arguments that are not
/// a JSON object (a call cut off by `max_tokens`) are kept as text under `"arguments"` rather than
/// lost, and `stop_reason` says why.
pub(crate) fn tool_input(arguments: &str) -> Value {
    if arguments.trim().is_empty() {
        return Value::Object(serde_json::Map::new());
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(object @ Value::Object(_)) => object,
        _ => {
            let mut map = serde_json::Map::new();
            map.insert("arguments".to_owned(), Value::String(arguments.to_owned()));
            Value::Object(map)
        }
    }
}

/// The blocks of a choice: its reasoning and text parts in the order the provider gave them, then its
/// tool calls.
fn blocks(choice: &Choice) -> Vec<OutBlock<'_>> {
    let message = &choice.message;
    let mut out = Vec::with_capacity(message.content.len() + message.tool_calls.len());
    for part in &message.content {
        match part {
            ContentPart::Text(text) if !text.is_empty() => out.push(OutBlock::Text { text }),
            ContentPart::Thinking { text, signature } => out.push(OutBlock::Thinking {
                thinking: text,
                signature: signature.as_deref().unwrap_or_default(),
            }),
            ContentPart::RedactedThinking { data } => out.push(OutBlock::RedactedThinking { data }),
            _ => {}
        }
    }
    for call in &message.tool_calls {
        out.push(OutBlock::ToolUse {
            id: &call.id,
            name: &call.name,
            input: tool_input(&call.arguments),
        });
    }
    out
}

/// The `message` object for `response` (its first choice: the Messages API has one), named `model` and
/// identified by `id` (`msg_…`).
pub fn encode_response(
    response: &ChatResponse,
    model: &str,
    id: &str,
) -> Result<Vec<u8>, GaiaError> {
    let choice = response.choices.first();
    let stop_sequence = choice.and_then(|c| c.stop_sequence.as_deref());
    let message = OutMessage {
        id,
        kind: "message",
        role: "assistant",
        model,
        content: choice.map(blocks).unwrap_or_default(),
        stop_reason: stop_reason(choice.and_then(|c| c.finish_reason), stop_sequence),
        stop_sequence,
        usage: response
            .usage
            .as_ref()
            .map(WireUsage::from)
            .unwrap_or_default(),
    };
    serde_json::to_vec(&message)
        .map_err(|e| GaiaError::internal("could not encode the message").with_source(e))
}
