//! The canonical streaming event.
//!
//! Every provider stream is decoded into this small vocabulary and every client stream is encoded from it,
//! so N dialects need N decoders and N encoders rather than N² converters. The events are deliberately
//! *incremental* (deltas, not snapshots) because that is what all dialects stream, and they carry explicit
//! choice and tool-call indexes so an encoder never has to guess which call a fragment belongs to.
//!
//! Order contract decoders follow: one `Start` first; then deltas, where a tool call's `ToolCallStart`
//! precedes its `ToolCallArgsDelta`s; a `Finish` per choice; `Usage` (cumulative — a later one replaces an
//! earlier one); and finally `Done`, or an `Error` instead when the stream fails part-way.

use crate::error::GaiaError;
use crate::response::FinishReason;
use crate::usage::Usage;

/// One step of a streamed chat completion.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The response has begun. `created` is Unix seconds.
    Start {
        id: String,
        model: String,
        created: i64,
    },
    /// Visible text for choice `choice`.
    TextDelta { choice: u32, text: String },
    /// Reasoning/thinking text (Anthropic thinking, Gemini thought summaries, `reasoning_content` of
    /// OpenAI-compatible servers). Kept apart from text so it is never mixed into the answer.
    ReasoningDelta { choice: u32, text: String },
    /// The signature closing the reasoning streamed so far (Anthropic `signature_delta`): the reasoning
    /// block it belongs to is complete.
    ReasoningSignature { choice: u32, signature: String },
    /// A block of encrypted reasoning (Anthropic `redacted_thinking`), whole.
    RedactedReasoning { choice: u32, data: String },
    /// A new tool call `index` (0-based within the choice) with its id and function name.
    ToolCallStart {
        choice: u32,
        index: u32,
        id: String,
        name: String,
    },
    /// A fragment of the JSON arguments of tool call `index`; fragments concatenate to the full text.
    ToolCallArgsDelta {
        choice: u32,
        index: u32,
        arguments: String,
    },
    /// The stop sequence that ended choice `choice`, where the provider names it; just before its `Finish`.
    StopSequence { choice: u32, sequence: String },
    /// Choice `choice` is complete.
    Finish { choice: u32, reason: FinishReason },
    /// Token usage so far; cumulative, so the last one is the total.
    Usage(Usage),
    /// The stream failed; nothing follows. Upstream errors arrive with their kind already mapped.
    Error(GaiaError),
    /// The stream ended cleanly; nothing follows.
    Done,
}

impl StreamEvent {
    /// Whether nothing may follow this event.
    pub const fn is_terminal(&self) -> bool {
        matches!(self, StreamEvent::Done | StreamEvent::Error(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_done_and_error_end_a_stream() {
        assert!(StreamEvent::Done.is_terminal());
        assert!(StreamEvent::Error(GaiaError::upstream("boom")).is_terminal());
        assert!(
            !StreamEvent::TextDelta {
                choice: 0,
                text: "x".into()
            }
            .is_terminal()
        );
        assert!(!StreamEvent::Usage(Usage::new(1, 1)).is_terminal());
    }
}
