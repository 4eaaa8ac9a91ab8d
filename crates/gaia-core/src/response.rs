//! The canonical (non-streaming) chat response.

use serde::{Deserialize, Serialize};

use crate::request::{Message, Role, ToolCall};
use crate::usage::Usage;

/// A complete chat completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    pub id: String,
    /// Unix seconds.
    pub created: i64,
    /// The model that answered, as the provider named it (the HTTP edge decides what clients see).
    pub model: String,
    pub choices: Vec<Choice>,
    /// `None` when the provider reported no usage.
    pub usage: Option<Usage>,
}

/// One generated alternative.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub index: u32,
    /// Always an assistant message; its text is a single part (or none when it only calls tools).
    pub message: Message,
    pub finish_reason: Option<FinishReason>,
    /// The stop sequence that ended the choice, where the provider names it (Anthropic).
    #[serde(default)]
    pub stop_sequence: Option<String>,
}

impl Choice {
    /// An assistant choice with optional text and tool calls.
    pub fn assistant(
        index: u32,
        text: String,
        tool_calls: Vec<ToolCall>,
        finish_reason: Option<FinishReason>,
    ) -> Self {
        let content = if text.is_empty() {
            Vec::new()
        } else {
            vec![crate::request::ContentPart::Text(text)]
        };
        Self {
            index,
            message: Message {
                role: Role::Assistant,
                content,
                name: None,
                tool_calls,
                tool_call_id: None,
                tool_error: false,
            },
            finish_reason,
            stop_sequence: None,
        }
    }

    /// The reasoning parts ([`ContentPart::Thinking`], [`ContentPart::RedactedThinking`]) of the answer.
    pub fn reasoning_parts(&self) -> impl Iterator<Item = &crate::request::ContentPart> {
        self.message.content.iter().filter(|part| {
            matches!(
                part,
                crate::request::ContentPart::Thinking { .. }
                    | crate::request::ContentPart::RedactedThinking { .. }
            )
        })
    }

    /// The reasoning text of the answer, joined; empty when there is none.
    pub fn reasoning_text(&self) -> String {
        let mut out = String::new();
        for part in &self.message.content {
            if let crate::request::ContentPart::Thinking { text, .. } = part {
                out.push_str(text);
            }
        }
        out
    }
}

/// Why generation stopped.
///
/// Closed on purpose: clients only understand OpenAI's four values, so every provider reason is mapped onto
/// one of them in its adapter. The rule the adapters follow: a length cap is [`Length`](Self::Length); any
/// safety, policy, recitation or blocklist stop is [`ContentFilter`](Self::ContentFilter); a turn that ends
/// with tool calls is [`ToolCalls`](Self::ToolCalls); everything else — natural ends, stop sequences, and
/// reasons we do not know yet — is [`Stop`](Self::Stop), because the output that was produced is complete
/// as far as we can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    Stop,
    Length,
    ToolCalls,
    ContentFilter,
}

impl FinishReason {
    /// OpenAI's spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::ContentFilter => "content_filter",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::ContentPart;

    #[test]
    fn assistant_choices_without_text_have_no_content_parts() {
        let call = ToolCall {
            id: "call_1".into(),
            name: "f".into(),
            arguments: "{}".into(),
        };
        let choice = Choice::assistant(0, String::new(), vec![call], Some(FinishReason::ToolCalls));
        assert!(choice.message.content.is_empty());
        assert_eq!(choice.message.role, Role::Assistant);

        let text = Choice::assistant(1, "hi".into(), Vec::new(), None);
        assert_eq!(text.message.content, vec![ContentPart::Text("hi".into())]);
    }

    #[test]
    fn finish_reasons_use_openai_spelling() {
        assert_eq!(FinishReason::ToolCalls.as_str(), "tool_calls");
        assert_eq!(
            serde_json::to_value(FinishReason::ContentFilter).unwrap(),
            "content_filter"
        );
    }
}
