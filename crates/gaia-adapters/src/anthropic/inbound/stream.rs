//! Canonical stream events → the Messages API event stream (specs/messages.md, M-7).
//!
//! The sequence a client sees is Anthropic's: `message_start`; per content block `content_block_start`,
//! its deltas (`text_delta`, `thinking_delta` then `signature_delta`, `input_json_delta`) and
//! `content_block_stop`; `message_delta` with the stop reason and the cumulative usage; `message_stop`.
//! A failure after the first byte is an `error` event, which ends the stream.
//!
//! Blocks never overlap, as in Anthropic's own streams. Canonical events can interleave (OpenAI may send
//! fragments of several parallel tool calls in turn), so the first tool call streams live and any call
//! that starts while it is open is buffered whole and written after it — every call's arguments arrive
//! complete and in order, at the cost of the later calls arriving at the end of the turn.

use std::fmt::Write as _;

use gaia_core::{FinishReason, GaiaError, StreamEvent, Usage};

use super::error::error_envelope;
use super::response::{WireUsage, stop_reason};
use crate::codec::StreamEncoder;
use crate::util::push_json_str;

/// The block open on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Text,
    Thinking,
    /// The canonical index of the tool call streaming live.
    Tool(u32),
}

/// A tool call that started while another was open: written whole once that one closes.
#[derive(Debug)]
struct Pending {
    index: u32,
    id: String,
    name: String,
    arguments: String,
}

/// One per client response; choice 0 only (a Messages API request has one choice).
#[derive(Debug)]
pub struct AnthropicStreamEncoder {
    id: String,
    model: String,
    /// `message_start` is written with the first content (or ping, or the end), so that it carries the
    /// input tokens a provider reports at the start of its stream (Anthropic does).
    started: bool,
    open: Option<Open>,
    /// The wire index the next block gets.
    next_block: u32,
    /// Tool calls that started while another was open, in order, waiting for the end of the turn.
    pending: Vec<Pending>,
    finish: Option<FinishReason>,
    stop_sequence: Option<String>,
    usage: Option<Usage>,
    ended: bool,
}

impl AnthropicStreamEncoder {
    /// `id` is the message id (`msg_…`), `model` the model name the client sees.
    pub fn new(id: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            model: model.into(),
            started: false,
            open: None,
            next_block: 0,
            pending: Vec::new(),
            finish: None,
            stop_sequence: None,
            usage: None,
            ended: false,
        }
    }

    /// A `ping` event, for a silent upstream (after `message_start`, as Anthropic sends it).
    pub fn ping(&mut self, out: &mut String) {
        if self.ended {
            return;
        }
        self.ensure_started(out);
        out.push_str("event: ping\ndata: {\"type\":\"ping\"}\n\n");
    }

    fn frame_start(out: &mut String, event: &str) {
        out.push_str("event: ");
        out.push_str(event);
        out.push_str("\ndata: {\"type\":\"");
        out.push_str(event);
        out.push('"');
    }

    fn ensure_started(&mut self, out: &mut String) {
        if self.started {
            return;
        }
        self.started = true;
        Self::frame_start(out, "message_start");
        out.push_str(",\"message\":{\"id\":");
        push_json_str(out, &self.id);
        out.push_str(",\"type\":\"message\",\"role\":\"assistant\",\"model\":");
        push_json_str(out, &self.model);
        out.push_str(",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":");
        let mut usage = self.usage.as_ref().map(WireUsage::from).unwrap_or_default();
        // What was written so far is not known at the start; the final count comes in `message_delta`.
        usage.output_tokens = 0;
        push_usage(out, &usage);
        out.push_str("}}\n\n");
    }

    /// Opens a block of `kind` unless one of that kind is open, closing any other first.
    fn open_block(&mut self, out: &mut String, kind: Open, content_block: &str) {
        if self.open == Some(kind) {
            return;
        }
        self.close_block(out);
        Self::frame_start(out, "content_block_start");
        let _ = write!(out, ",\"index\":{},\"content_block\":", self.next_block);
        out.push_str(content_block);
        out.push_str("}\n\n");
        self.open = Some(kind);
    }

    fn close_block(&mut self, out: &mut String) {
        if self.open.take().is_none() {
            return;
        }
        Self::frame_start(out, "content_block_stop");
        let _ = write!(out, ",\"index\":{}}}\n\n", self.next_block);
        self.next_block += 1;
    }

    /// A `content_block_delta` of the open block: `{"type":"<kind>","<field>":"<text>"}`.
    fn delta(&self, out: &mut String, kind: &str, field: &str, text: &str) {
        Self::frame_start(out, "content_block_delta");
        let _ = write!(
            out,
            ",\"index\":{},\"delta\":{{\"type\":\"{kind}\",\"{field}\":",
            self.next_block
        );
        push_json_str(out, text);
        out.push_str("}}\n\n");
    }

    fn text(&mut self, out: &mut String, text: &str) {
        if text.is_empty() {
            return;
        }
        self.open_block(out, Open::Text, "{\"type\":\"text\",\"text\":\"\"}");
        self.delta(out, "text_delta", "text", text);
    }

    fn thinking(&mut self, out: &mut String, text: &str) {
        self.open_block(
            out,
            Open::Thinking,
            "{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}",
        );
        if !text.is_empty() {
            self.delta(out, "thinking_delta", "thinking", text);
        }
    }

    /// The signature ends its thinking block.
    fn signature(&mut self, out: &mut String, signature: &str) {
        self.thinking(out, "");
        self.delta(out, "signature_delta", "signature", signature);
        self.close_block(out);
    }

    fn redacted(&mut self, out: &mut String, data: &str) {
        self.close_block(out);
        let mut block = String::with_capacity(data.len() + 40);
        block.push_str("{\"type\":\"redacted_thinking\",\"data\":");
        push_json_str(&mut block, data);
        block.push('}');
        // A fresh kind each time: two redacted blocks in a row are two blocks.
        self.open_block(out, Open::Thinking, &block);
        self.close_block(out);
    }

    fn tool_block(&mut self, out: &mut String, index: u32, id: &str, name: &str) {
        let mut block = String::with_capacity(id.len() + name.len() + 60);
        block.push_str("{\"type\":\"tool_use\",\"id\":");
        push_json_str(&mut block, id);
        block.push_str(",\"name\":");
        push_json_str(&mut block, name);
        block.push_str(",\"input\":{}}");
        self.open_block(out, Open::Tool(index), &block);
    }

    fn tool_start(&mut self, out: &mut String, index: u32, id: &str, name: &str) {
        if matches!(self.open, Some(Open::Tool(_))) || !self.pending.is_empty() {
            self.pending.push(Pending {
                index,
                id: id.to_owned(),
                name: name.to_owned(),
                arguments: String::new(),
            });
        } else {
            self.tool_block(out, index, id, name);
        }
    }

    fn tool_args(&mut self, out: &mut String, index: u32, arguments: &str) {
        if self.open == Some(Open::Tool(index)) {
            if !arguments.is_empty() {
                self.delta(out, "input_json_delta", "partial_json", arguments);
            }
        } else if let Some(p) = self.pending.iter_mut().find(|p| p.index == index) {
            p.arguments.push_str(arguments);
        }
    }

    /// Closes the open block and writes the buffered tool calls, each whole.
    fn flush(&mut self, out: &mut String) {
        self.close_block(out);
        for p in std::mem::take(&mut self.pending) {
            self.tool_block(out, p.index, &p.id, &p.name);
            if !p.arguments.is_empty() {
                self.delta(out, "input_json_delta", "partial_json", &p.arguments);
            }
            self.close_block(out);
        }
    }

    fn error(&mut self, out: &mut String, error: &GaiaError) {
        out.push_str("event: error\ndata: ");
        out.push_str(&error_envelope(error, None).to_string());
        out.push_str("\n\n");
        self.ended = true;
    }

    fn done(&mut self, out: &mut String) {
        self.ensure_started(out);
        self.flush(out);
        let reason = self.finish;
        Self::frame_start(out, "message_delta");
        out.push_str(",\"delta\":{\"stop_reason\":\"");
        out.push_str(stop_reason(reason, self.stop_sequence.as_deref()));
        out.push_str("\",\"stop_sequence\":");
        match &self.stop_sequence {
            Some(sequence) => push_json_str(out, sequence),
            None => out.push_str("null"),
        }
        out.push_str("},\"usage\":");
        push_usage(
            out,
            &self.usage.as_ref().map(WireUsage::from).unwrap_or_default(),
        );
        out.push_str("}\n\n");
        Self::frame_start(out, "message_stop");
        out.push_str("}\n\n");
        self.ended = true;
    }
}

fn push_usage(out: &mut String, usage: &WireUsage) {
    let _ = write!(
        out,
        "{{\"input_tokens\":{},\"output_tokens\":{},\"cache_creation_input_tokens\":{},\"cache_read_input_tokens\":{}}}",
        usage.input_tokens,
        usage.output_tokens,
        usage.cache_creation_input_tokens,
        usage.cache_read_input_tokens
    );
}

impl StreamEncoder for AnthropicStreamEncoder {
    fn encode(&mut self, event: &StreamEvent, out: &mut String) {
        if self.ended {
            return;
        }
        match event {
            // `message_start` waits for the first content, the usage a provider sends up front, or a
            // ping.
            StreamEvent::Start { .. } => {}
            StreamEvent::Usage(usage) => self.usage = Some(*usage),
            StreamEvent::Error(error) => self.error(out, error),
            StreamEvent::Done => self.done(out),
            // The Messages API has one choice.
            StreamEvent::TextDelta { choice, .. }
            | StreamEvent::ReasoningDelta { choice, .. }
            | StreamEvent::ReasoningSignature { choice, .. }
            | StreamEvent::RedactedReasoning { choice, .. }
            | StreamEvent::ToolCallStart { choice, .. }
            | StreamEvent::ToolCallArgsDelta { choice, .. }
            | StreamEvent::StopSequence { choice, .. }
            | StreamEvent::Finish { choice, .. }
                if *choice != 0 => {}
            StreamEvent::StopSequence { sequence, .. } => {
                self.stop_sequence = Some(sequence.clone())
            }
            StreamEvent::Finish { reason, .. } => {
                self.ensure_started(out);
                self.flush(out);
                self.finish = Some(*reason);
            }
            StreamEvent::TextDelta { text, .. } => {
                self.ensure_started(out);
                self.text(out, text);
            }
            StreamEvent::ReasoningDelta { text, .. } => {
                self.ensure_started(out);
                self.thinking(out, text);
            }
            StreamEvent::ReasoningSignature { signature, .. } => {
                self.ensure_started(out);
                self.signature(out, signature);
            }
            StreamEvent::RedactedReasoning { data, .. } => {
                self.ensure_started(out);
                self.redacted(out, data);
            }
            StreamEvent::ToolCallStart {
                index, id, name, ..
            } => {
                self.ensure_started(out);
                self.tool_start(out, *index, id, name);
            }
            StreamEvent::ToolCallArgsDelta {
                index, arguments, ..
            } => {
                self.ensure_started(out);
                self.tool_args(out, *index, arguments);
            }
        }
    }
}
