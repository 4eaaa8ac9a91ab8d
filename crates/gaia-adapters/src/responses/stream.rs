//! Canonical stream events → the Responses API's typed events, each `event: <type>\ndata: <json>\n\n`
//! with a `sequence_number` counting from 0.
//!
//! The sequence: `response.created` and `response.in_progress` (the response, `in_progress`, no output);
//! per output item `response.output_item.added`, its events, `response.output_item.done` with the whole
//! item — a message's `response.content_part.added`, `response.output_text.delta`s,
//! `response.output_text.done`, `response.content_part.done`; a reasoning item's
//! `response.reasoning_summary_part.added`, `response.reasoning_summary_text.delta`s, `.done`,
//! `response.reasoning_summary_part.done` (a redacted block is added and done at once); a function call's
//! `response.function_call_arguments.delta`s and `.done` —; then `response.completed` or
//! `response.incomplete` with the whole response and its usage. A failure is an `error` event, then
//! `response.failed` (what OpenAI sends), and nothing after.
//!
//! Items never overlap, as in OpenAI's own streams. Canonical events can interleave (OpenAI may send
//! fragments of parallel tool calls in turn), so — as in the Messages encoder — the first tool call
//! streams live and any call that starts while it is open is buffered and written whole after it.

use std::borrow::Cow;
use std::fmt::Write as _;

use gaia_core::{FinishReason, GaiaError, StreamEvent, Usage};
use serde::Serialize;

use super::Echo;
use super::output::{
    Item, ItemView, Outcome, ResponseView, Status, SummaryPart, TextPart, item_id,
};
use crate::codec::{ResponseMeta, StreamEncoder};
use crate::util::push_json_str;

/// The kind of the item open on the wire (always the last of `output`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Reasoning,
    Message,
    /// The canonical index of the tool call streaming live.
    Call(u32),
}

/// A tool call that started while another was open: written whole once that one closes.
#[derive(Debug)]
struct Pending {
    index: u32,
    call_id: String,
    name: String,
    arguments: String,
}

/// One per client response; choice 0 only (a response has one output list).
#[derive(Debug)]
pub struct ResponsesStreamEncoder {
    meta: ResponseMeta,
    echo: Echo,
    sequence: u64,
    started: bool,
    /// Every item announced so far, in output order; the last one is open when `open` is set.
    output: Vec<Item<'static>>,
    open: Option<Open>,
    /// The id and output index of the open (or last closed) item.
    open_id: String,
    open_index: usize,
    pending: Vec<Pending>,
    finish: Option<FinishReason>,
    usage: Option<Usage>,
    ended: bool,
    /// The final response, kept when the stream ends cleanly.
    last: Option<serde_json::Value>,
}

impl ResponsesStreamEncoder {
    /// `meta`: the response id (`resp_…`), creation time and the model name the client sees; `echo`: the
    /// request fields the response repeats ([`ResponsesRequest::echo`](super::ResponsesRequest::echo)).
    pub fn new(meta: ResponseMeta, echo: Echo) -> Self {
        Self {
            meta,
            echo,
            sequence: 0,
            started: false,
            output: Vec::new(),
            open: None,
            open_id: String::new(),
            open_index: 0,
            pending: Vec::new(),
            finish: None,
            usage: None,
            ended: false,
            last: None,
        }
    }

    /// Writes `event: <kind>` and the start of its data, up to and including its `sequence_number`.
    fn begin(&mut self, out: &mut String, kind: &str) {
        let _ = write!(
            out,
            "event: {kind}\ndata: {{\"type\":\"{kind}\",\"sequence_number\":{}",
            self.sequence
        );
        self.sequence += 1;
    }

    fn end(out: &mut String) {
        out.push_str("}\n\n");
    }

    /// `,"key":<value as JSON>`.
    fn field(out: &mut String, key: &str, value: &impl Serialize) {
        let _ = write!(out, ",\"{key}\":");
        match serde_json::to_string(value) {
            Ok(json) => out.push_str(&json),
            Err(_) => out.push_str("null"),
        }
    }

    /// `,"item_id":…,"output_index":…` of the open item.
    fn locate(&self, out: &mut String) {
        out.push_str(",\"item_id\":");
        push_json_str(out, &self.open_id);
        let _ = write!(out, ",\"output_index\":{}", self.open_index);
    }

    /// A frame carrying the whole response.
    fn response_frame(&mut self, out: &mut String, kind: &str, outcome: Outcome<'_>) {
        self.begin(out, kind);
        let last_status = match outcome {
            Outcome::Failed(_) if self.open.is_some() => Status::Incomplete,
            _ => outcome.item_status(true),
        };
        let view = ResponseView {
            meta: &self.meta,
            echo: &self.echo,
            outcome,
            output: &self.output,
            last_status,
            usage: self
                .usage
                .as_ref()
                .filter(|_| !matches!(outcome, Outcome::InProgress)),
        };
        Self::field(out, "response", &view);
        Self::end(out);
    }

    fn ensure_started(&mut self, out: &mut String) {
        if self.started {
            return;
        }
        self.started = true;
        self.response_frame(out, "response.created", Outcome::InProgress);
        self.response_frame(out, "response.in_progress", Outcome::InProgress);
    }

    /// Announces `item` as the next output item (closing the open one first) and opens it as `open`.
    fn add(&mut self, out: &mut String, item: Item<'static>, open: Open) {
        self.close(out, Status::Completed);
        self.open_index = self.output.len();
        self.open_id = item_id(&self.meta.id, &item, self.open_index);
        self.output.push(item);
        self.open = Some(open);
        self.item_frame(out, "response.output_item.added", Status::InProgress);
    }

    /// `response.output_item.added` / `.done` with the open item as it stands.
    fn item_frame(&mut self, out: &mut String, kind: &str, status: Status) {
        self.begin(out, kind);
        let _ = write!(out, ",\"output_index\":{}", self.open_index);
        if let Some(item) = self.output.last() {
            let view = ItemView {
                item,
                id: &self.open_id,
                status,
            };
            Self::field(out, "item", &view);
        }
        Self::end(out);
    }

    /// Closes the open item, if any, with its done events; `status` is its final status.
    fn close(&mut self, out: &mut String, status: Status) {
        if self.open.take().is_none() {
            return;
        }
        // Taken out while its frames are written (they borrow the encoder), then put back.
        let Some(item) = self.output.pop() else {
            return;
        };
        match &item {
            Item::Message { texts } => {
                let text = texts.concat();
                self.text_frame(out, "response.output_text.done", "text", &text);
                self.part_added_or_done(out, "response.content_part.done", &TextPart(&text));
            }
            Item::Reasoning {
                summary: Some(text),
                ..
            } => {
                self.summary_text_frame(out, "response.reasoning_summary_text.done", "text", text);
                let part = SummaryPart(text);
                self.part_added_or_done(out, "response.reasoning_summary_part.done", &part);
            }
            Item::Reasoning { summary: None, .. } => {}
            Item::Call {
                name, arguments, ..
            } => {
                self.begin(out, "response.function_call_arguments.done");
                self.locate(out);
                Self::str_field(out, "name", name);
                Self::str_field(out, "arguments", arguments);
                Self::end(out);
            }
        }
        self.output.push(item);
        self.item_frame(out, "response.output_item.done", status);
    }

    /// Opens a frame about part 0 of the open item: `item_id`, `output_index` and `<index_key>: 0`
    /// (`content_index` for a message, `summary_index` for a reasoning item).
    fn part_frame(&mut self, out: &mut String, kind: &str, index_key: &str) {
        self.begin(out, kind);
        self.locate(out);
        let _ = write!(out, ",\"{index_key}\":0");
    }

    /// `,"<key>":"<text>"`, escaped straight into `out` (deltas are the hot path).
    fn str_field(out: &mut String, key: &str, text: &str) {
        let _ = write!(out, ",\"{key}\":");
        push_json_str(out, text);
    }

    /// `response.output_text.delta` / `.done`: text events carry (empty) `logprobs`.
    fn text_frame(&mut self, out: &mut String, kind: &str, key: &str, text: &str) {
        self.part_frame(out, kind, "content_index");
        Self::str_field(out, key, text);
        out.push_str(",\"logprobs\":[]");
        Self::end(out);
    }

    /// `response.reasoning_summary_text.delta` / `.done`.
    fn summary_text_frame(&mut self, out: &mut String, kind: &str, key: &str, text: &str) {
        self.part_frame(out, kind, "summary_index");
        Self::str_field(out, key, text);
        Self::end(out);
    }

    /// `response.content_part.*` / `response.reasoning_summary_part.*` with their `part`.
    fn part_added_or_done(&mut self, out: &mut String, kind: &str, part: &impl Serialize) {
        let index_key = if kind.starts_with("response.content_part") {
            "content_index"
        } else {
            "summary_index"
        };
        self.part_frame(out, kind, index_key);
        Self::field(out, "part", part);
        Self::end(out);
    }

    fn text(&mut self, out: &mut String, delta: &str) {
        if delta.is_empty() {
            return;
        }
        if self.open != Some(Open::Message) {
            // Announced without content, as OpenAI does; the part follows.
            self.add(out, Item::Message { texts: Vec::new() }, Open::Message);
            if let Some(Item::Message { texts }) = self.output.last_mut() {
                texts.push(Cow::Owned(String::new()));
            }
            self.part_added_or_done(out, "response.content_part.added", &TextPart(""));
        }
        if let Some(Item::Message { texts }) = self.output.last_mut()
            && let Some(text) = texts.last_mut()
        {
            text.to_mut().push_str(delta);
        }
        self.text_frame(out, "response.output_text.delta", "delta", delta);
    }

    /// Opens a reasoning item with its one summary part, unless one is open.
    fn open_reasoning(&mut self, out: &mut String) {
        if self.open == Some(Open::Reasoning) {
            return;
        }
        let item = Item::Reasoning {
            summary: None,
            encrypted: None,
        };
        self.add(out, item, Open::Reasoning);
        if let Some(Item::Reasoning { summary, .. }) = self.output.last_mut() {
            *summary = Some(Cow::Owned(String::new()));
        }
        let part = SummaryPart("");
        self.part_added_or_done(out, "response.reasoning_summary_part.added", &part);
    }

    fn reasoning(&mut self, out: &mut String, delta: &str) {
        self.open_reasoning(out);
        if delta.is_empty() {
            return;
        }
        if let Some(Item::Reasoning {
            summary: Some(text),
            ..
        }) = self.output.last_mut()
        {
            text.to_mut().push_str(delta);
        }
        self.summary_text_frame(out, "response.reasoning_summary_text.delta", "delta", delta);
    }

    /// The signature closes its reasoning item, as its `encrypted_content`.
    fn signature(&mut self, out: &mut String, signature: &str) {
        self.open_reasoning(out);
        if let Some(Item::Reasoning { encrypted, .. }) = self.output.last_mut() {
            *encrypted = Some(Cow::Owned(signature.to_owned()));
        }
        self.close(out, Status::Completed);
    }

    /// A redacted block: a reasoning item without summary, added and done at once.
    fn redacted(&mut self, out: &mut String, data: &str) {
        let item = Item::Reasoning {
            summary: None,
            encrypted: Some(Cow::Owned(data.to_owned())),
        };
        self.add(out, item, Open::Reasoning);
        self.close(out, Status::Completed);
    }

    fn call_item(call_id: &str, name: &str, arguments: &str) -> Item<'static> {
        Item::Call {
            call_id: Cow::Owned(call_id.to_owned()),
            name: Cow::Owned(name.to_owned()),
            arguments: Cow::Owned(arguments.to_owned()),
        }
    }

    fn tool_start(&mut self, out: &mut String, index: u32, call_id: &str, name: &str) {
        if matches!(self.open, Some(Open::Call(_))) || !self.pending.is_empty() {
            self.pending.push(Pending {
                index,
                call_id: call_id.to_owned(),
                name: name.to_owned(),
                arguments: String::new(),
            });
        } else {
            self.add(out, Self::call_item(call_id, name, ""), Open::Call(index));
        }
    }

    fn tool_args(&mut self, out: &mut String, index: u32, delta: &str) {
        if self.open == Some(Open::Call(index)) {
            if delta.is_empty() {
                return;
            }
            if let Some(Item::Call { arguments, .. }) = self.output.last_mut() {
                arguments.to_mut().push_str(delta);
            }
            self.begin(out, "response.function_call_arguments.delta");
            self.locate(out);
            Self::str_field(out, "delta", delta);
            Self::end(out);
        } else if let Some(p) = self.pending.iter_mut().find(|p| p.index == index) {
            p.arguments.push_str(delta);
        }
    }

    /// Closes the open item and writes the buffered calls, each whole. The last item written takes the
    /// response's final item status.
    fn flush(&mut self, out: &mut String) {
        let outcome = Outcome::Finished(self.finish);
        let pending = std::mem::take(&mut self.pending);
        self.close(out, outcome.item_status(pending.is_empty()));
        let count = pending.len();
        for (k, p) in pending.into_iter().enumerate() {
            let item = Self::call_item(&p.call_id, &p.name, "");
            self.add(out, item, Open::Call(p.index));
            self.tool_args(out, p.index, &p.arguments);
            self.close(out, outcome.item_status(k + 1 == count));
        }
    }

    fn error(&mut self, out: &mut String, error: &GaiaError) {
        self.ensure_started(out);
        self.begin(out, "error");
        Self::str_field(out, "code", error.code());
        Self::str_field(out, "message", error.public_message());
        Self::field(out, "param", &error.param);
        Self::end(out);
        self.response_frame(out, "response.failed", Outcome::Failed(error));
        self.ended = true;
    }

    fn done(&mut self, out: &mut String) {
        self.ensure_started(out);
        self.flush(out);
        let outcome = Outcome::Finished(self.finish);
        let kind = if outcome.incomplete_reason().is_some() {
            "response.incomplete"
        } else {
            "response.completed"
        };
        self.response_frame(out, kind, outcome);
        self.ended = true;
        // The whole response as sent, for `store: true`.
        self.last = serde_json::to_value(ResponseView {
            meta: &self.meta,
            echo: &self.echo,
            outcome,
            output: &self.output,
            last_status: outcome.item_status(true),
            usage: self.usage.as_ref(),
        })
        .ok();
    }

    /// The final response (as in `response.completed` / `.incomplete`) once the stream ended cleanly,
    /// taken once: what `store: true` keeps.
    pub fn take_final_response(&mut self) -> Option<serde_json::Value> {
        self.last.take()
    }
}

impl StreamEncoder for ResponsesStreamEncoder {
    fn encode(&mut self, event: &StreamEvent, out: &mut String) {
        if self.ended {
            return;
        }
        match event {
            StreamEvent::Start { .. } => self.ensure_started(out),
            StreamEvent::Usage(usage) => self.usage = Some(*usage),
            StreamEvent::Error(error) => self.error(out, error),
            StreamEvent::Done => self.done(out),
            // A response has one output list.
            StreamEvent::TextDelta { choice, .. }
            | StreamEvent::ReasoningDelta { choice, .. }
            | StreamEvent::ReasoningSignature { choice, .. }
            | StreamEvent::RedactedReasoning { choice, .. }
            | StreamEvent::ToolCallStart { choice, .. }
            | StreamEvent::ToolCallArgsDelta { choice, .. }
            | StreamEvent::StopSequence { choice, .. }
            | StreamEvent::Finish { choice, .. }
                if *choice != 0 => {}
            // The Responses API does not report which stop sequence matched.
            StreamEvent::StopSequence { .. } => {}
            StreamEvent::Finish { reason, .. } => {
                self.ensure_started(out);
                self.finish = Some(*reason);
                self.flush(out);
            }
            StreamEvent::TextDelta { text, .. } => {
                self.ensure_started(out);
                self.text(out, text);
            }
            StreamEvent::ReasoningDelta { text, .. } => {
                self.ensure_started(out);
                self.reasoning(out, text);
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
