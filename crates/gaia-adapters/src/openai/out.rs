//! The `chat.completion` body the gateway answers with, as borrowed, typed documents.
//!
//! Serialized directly (no `serde_json::Value` tree on the way) in OpenAI's own field order; `null`
//! fields OpenAI always sends (`refusal`, `logprobs`) are unit values.

use std::borrow::Cow;

use gaia_core::{ChatResponse, ContentPart, FinishReason, Message, ToolCall, Usage};
use serde::Serialize;

use super::reasoning::{DetailView, detail_views};

#[derive(Serialize)]
pub(super) struct Completion<'a> {
    id: &'a str,
    object: &'static str,
    created: i64,
    model: &'a str,
    choices: Vec<Choice<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<OutUsage>,
}

impl<'a> Completion<'a> {
    pub(super) fn new(response: &'a ChatResponse, model: &'a str, id: &'a str) -> Self {
        Completion {
            id,
            object: "chat.completion",
            created: response.created,
            model,
            choices: response
                .choices
                .iter()
                .map(|choice| Choice {
                    index: choice.index,
                    message: AssistantMessage::new(&choice.message),
                    logprobs: (),
                    finish_reason: choice.finish_reason.map(FinishReason::as_str),
                })
                .collect(),
            usage: response.usage.as_ref().map(OutUsage::from),
        }
    }
}

#[derive(Serialize)]
struct Choice<'a> {
    index: u32,
    message: AssistantMessage<'a>,
    logprobs: (),
    finish_reason: Option<&'static str>,
}

#[derive(Serialize)]
struct AssistantMessage<'a> {
    role: &'static str,
    /// `null` for a turn that only calls tools.
    content: Option<Cow<'a, str>>,
    /// The model's reasoning text, as DeepSeek sends it; absent when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_content: Option<String>,
    /// The reasoning blocks with their signatures and encrypted reasoning, as OpenRouter sends them, for the
    /// client to send back on its next turn; absent when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    reasoning_details: Vec<DetailView<'a>>,
    refusal: (),
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<OutToolCall<'a>>,
}

impl<'a> AssistantMessage<'a> {
    fn new(message: &'a Message) -> Self {
        // The usual single text part is borrowed; anything else is joined.
        let text = match message.content.as_slice() {
            [ContentPart::Text(text)] => Cow::Borrowed(text.as_str()),
            _ => Cow::Owned(message.text_content()),
        };
        let content = (!text.is_empty() || message.tool_calls.is_empty()).then_some(text);
        let reasoning: String = message
            .content
            .iter()
            .filter_map(|part| match part {
                ContentPart::Thinking { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        AssistantMessage {
            role: "assistant",
            content,
            reasoning_content: (!reasoning.is_empty()).then_some(reasoning),
            // The provider's own format is not kept with the parts.
            reasoning_details: detail_views(&message.content, "unknown"),
            refusal: (),
            tool_calls: message.tool_calls.iter().map(OutToolCall::from).collect(),
        }
    }
}

#[derive(Serialize)]
struct OutToolCall<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: OutFunction<'a>,
}

#[derive(Serialize)]
struct OutFunction<'a> {
    name: &'a str,
    arguments: &'a str,
}

impl<'a> From<&'a ToolCall> for OutToolCall<'a> {
    fn from(call: &'a ToolCall) -> Self {
        OutToolCall {
            id: &call.id,
            kind: "function",
            function: OutFunction {
                name: &call.name,
                arguments: &call.arguments,
            },
        }
    }
}

#[derive(Serialize)]
pub(super) struct OutUsage {
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
    prompt_tokens_details: CachedTokens,
    completion_tokens_details: ReasoningTokens,
}

#[derive(Serialize)]
struct CachedTokens {
    cached_tokens: u64,
    /// Tokens written to a prompt cache (Anthropic's cache writes), under OpenRouter's name; only when
    /// there were some, so answers without them keep OpenAI's exact shape.
    #[serde(skip_serializing_if = "is_zero")]
    cache_write_tokens: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Serialize)]
struct ReasoningTokens {
    reasoning_tokens: u64,
}

impl From<&Usage> for OutUsage {
    fn from(usage: &Usage) -> Self {
        OutUsage {
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            total_tokens: usage.total_tokens,
            prompt_tokens_details: CachedTokens {
                cached_tokens: usage.cached_tokens,
                cache_write_tokens: usage.cache_creation_tokens,
            },
            completion_tokens_details: ReasoningTokens {
                reasoning_tokens: usage.reasoning_tokens,
            },
        }
    }
}
