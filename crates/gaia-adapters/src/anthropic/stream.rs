//! Anthropic streaming: `message_start` … `message_stop` events to [`StreamEvent`]s.

use std::collections::HashMap;

use gaia_core::{GaiaError, StreamEvent};

use super::wire::{Block, BlockDelta, BlockDeltaEvent, MessageDeltaBody, StreamWire, WireUsage};
use super::{DIALECT, STRUCTURED_OUTPUT_TOOL, UsageCounts, answer_finish_reason, error_kind};
use crate::codec::{ResponseMeta, StreamDecoder};
use crate::sse::SseEvent;
use crate::util::malformed;

/// Decodes an Anthropic Messages stream.
///
/// Anthropic numbers content blocks across the whole message (text, thinking and tool-use blocks share one
/// sequence); OpenAI numbers tool calls on their own. The decoder therefore maps each `tool_use` block
/// index to a tool-call index of its own, in order of appearance. Usage arrives in two halves — input
/// counts in `message_start`, output (and possibly updated input) counts in `message_delta` — and is
/// emitted once combined. Only `message_stop` ends the stream cleanly.
///
/// The forced tool of a JSON schema ([`STRUCTURED_OUTPUT_TOOL`]) is the answer, not a call: its
/// `input_json_delta` fragments become text deltas and its `tool_use` stop reason `stop`.
#[derive(Debug)]
pub struct AnthropicStreamDecoder {
    meta: ResponseMeta,
    started: bool,
    done: bool,
    usage: UsageCounts,
    /// Block index → (tool-call index, whether any argument text arrived).
    tool_blocks: HashMap<u32, (u32, bool)>,
    next_tool_index: u32,
    /// Block index → whether any text arrived, for blocks of the forced JSON-schema tool.
    structured_blocks: HashMap<u32, bool>,
}

impl AnthropicStreamDecoder {
    /// `meta.created` supplies the time Anthropic does not send; id and model come from `message_start`.
    pub fn new(meta: ResponseMeta) -> Self {
        Self {
            meta,
            started: false,
            done: false,
            usage: UsageCounts::default(),
            tool_blocks: HashMap::new(),
            next_tool_index: 0,
            structured_blocks: HashMap::new(),
        }
    }

    fn start(&mut self, id: Option<String>, model: Option<String>, out: &mut Vec<StreamEvent>) {
        if !self.started {
            self.started = true;
            out.push(StreamEvent::Start {
                id: id.unwrap_or_else(|| self.meta.id.clone()),
                model: model.unwrap_or_else(|| self.meta.model.clone()),
                created: self.meta.created,
            });
        }
    }

    fn decode_wire(&mut self, event: StreamWire, out: &mut Vec<StreamEvent>) {
        if !matches!(
            event,
            StreamWire::MessageStart { .. } | StreamWire::Ping | StreamWire::Error { .. }
        ) {
            self.start(None, None, out);
        }
        match event {
            StreamWire::MessageStart { message } => {
                if let Some(usage) = &message.usage {
                    self.usage.update(usage);
                }
                self.start(message.id, message.model, out);
            }
            StreamWire::ContentBlockStart {
                index,
                content_block,
            } => self.block_start(index, content_block, out),
            StreamWire::ContentBlockDelta { index, delta } => self.block_delta(index, delta, out),
            StreamWire::ContentBlockStop { index } => self.block_stop(index, out),
            StreamWire::MessageDelta { delta, usage } => self.message_delta(delta, usage, out),
            StreamWire::MessageStop => {
                self.done = true;
                out.push(StreamEvent::Done);
            }
            StreamWire::Error { error } => {
                let kind = error_kind(error.kind.as_deref().unwrap_or_default());
                let message = error
                    .message
                    .unwrap_or_else(|| "the Anthropic stream reported an error".into());
                self.done = true;
                out.push(StreamEvent::Error(GaiaError::new(kind, message)));
            }
            StreamWire::Ping | StreamWire::Other => {}
        }
    }

    /// A new content block: its first text, or (a `tool_use` block) a tool call of its own index.
    fn block_start(&mut self, index: u32, block: Block, out: &mut Vec<StreamEvent>) {
        match block {
            Block::Text { text } => push_text(out, text),
            Block::Thinking { thinking, .. } => push_reasoning(out, thinking),
            Block::RedactedThinking { data } => {
                out.push(StreamEvent::RedactedReasoning { choice: 0, data });
            }
            Block::ToolUse { name, .. } if name == STRUCTURED_OUTPUT_TOOL => {
                self.structured_blocks.insert(index, false);
            }
            Block::ToolUse { id, name, .. } => {
                let tool_index = self.next_tool_index;
                self.next_tool_index += 1;
                self.tool_blocks.insert(index, (tool_index, false));
                out.push(StreamEvent::ToolCallStart {
                    choice: 0,
                    index: tool_index,
                    id,
                    name,
                });
            }
            Block::Other => {}
        }
    }

    fn block_delta(&mut self, index: u32, delta: BlockDelta, out: &mut Vec<StreamEvent>) {
        match delta {
            BlockDelta::TextDelta { text } => push_text(out, text),
            BlockDelta::ThinkingDelta { thinking } => push_reasoning(out, thinking),
            BlockDelta::SignatureDelta { signature } => {
                out.push(StreamEvent::ReasoningSignature {
                    choice: 0,
                    signature,
                });
            }
            BlockDelta::InputJsonDelta { partial_json } => {
                if let Some(has_text) = self.structured_blocks.get_mut(&index) {
                    if !partial_json.is_empty() {
                        *has_text = true;
                        push_text(out, partial_json);
                    }
                    return;
                }
                let block = self.tool_blocks.get_mut(&index);
                if let Some((tool_index, has_args)) = block.filter(|_| !partial_json.is_empty()) {
                    *has_args = true;
                    out.push(StreamEvent::ToolCallArgsDelta {
                        choice: 0,
                        index: *tool_index,
                        arguments: partial_json,
                    });
                }
            }
            BlockDelta::Other => {}
        }
    }

    fn block_stop(&self, index: u32, out: &mut Vec<StreamEvent>) {
        // The answer of a forced tool that streamed no input is still a JSON object.
        if self.structured_blocks.get(&index) == Some(&false) {
            push_text(out, "{}".into());
        }
        // A call without parameters streams no argument text; clients still expect valid JSON.
        if let Some((tool_index, false)) = self.tool_blocks.get(&index).copied() {
            out.push(StreamEvent::ToolCallArgsDelta {
                choice: 0,
                index: tool_index,
                arguments: "{}".into(),
            });
        }
    }

    /// The stop reason and the output half of the usage, emitted combined with the input half.
    fn message_delta(
        &mut self,
        delta: MessageDeltaBody,
        usage: Option<WireUsage>,
        out: &mut Vec<StreamEvent>,
    ) {
        if let Some(usage) = &usage {
            self.usage.update(usage);
        }
        if let Some(sequence) = delta.stop_sequence {
            out.push(StreamEvent::StopSequence {
                choice: 0,
                sequence,
            });
        }
        if let Some(reason) = delta.stop_reason {
            out.push(StreamEvent::Finish {
                choice: 0,
                reason: answer_finish_reason(
                    &reason,
                    !self.structured_blocks.is_empty() && self.tool_blocks.is_empty(),
                ),
            });
        }
        out.push(StreamEvent::Usage(self.usage.to_usage()));
    }
}

fn push_text(out: &mut Vec<StreamEvent>, text: String) {
    if !text.is_empty() {
        out.push(StreamEvent::TextDelta { choice: 0, text });
    }
}

fn push_reasoning(out: &mut Vec<StreamEvent>, text: String) {
    if !text.is_empty() {
        out.push(StreamEvent::ReasoningDelta { choice: 0, text });
    }
}

/// A `content_block_delta` event (named so by its SSE `event:` line, as Anthropic sends every event) read
/// through [`BlockDeltaEvent`]; `None` — read it through [`StreamWire`] — for any other event, or one whose
/// data is not exactly that shape.
fn block_delta_fast(event: &SseEvent) -> Option<StreamWire> {
    if event.event.as_deref() != Some("content_block_delta") {
        return None;
    }
    let fast: BlockDeltaEvent = serde_json::from_str(&event.data).ok()?;
    (fast.kind == "content_block_delta").then(|| StreamWire::ContentBlockDelta {
        index: fast.index,
        delta: fast.delta.into_delta(),
    })
}

impl StreamDecoder for AnthropicStreamDecoder {
    fn decode(&mut self, event: &SseEvent) -> Result<Vec<StreamEvent>, GaiaError> {
        let mut out = Vec::new();
        if self.done || event.data.trim().is_empty() {
            return Ok(out);
        }
        if let Some(wire) = block_delta_fast(event) {
            self.decode_wire(wire, &mut out);
            return Ok(out);
        }
        let wire: StreamWire = serde_json::from_str(&event.data)
            .map_err(|err| malformed(DIALECT, "stream event", err))?;
        self.decode_wire(wire, &mut out);
        Ok(out)
    }

    fn finish(&mut self) -> Result<Vec<StreamEvent>, GaiaError> {
        if self.done {
            Ok(Vec::new())
        } else {
            Err(GaiaError::upstream(
                "the Anthropic stream ended before message_stop",
            ))
        }
    }

    fn is_finished(&self) -> bool {
        self.done
    }
}
