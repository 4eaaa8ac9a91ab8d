//! OpenAI streaming: `chat.completion.chunk` frames to and from [`StreamEvent`]s.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashSet};
use std::fmt::Write as _;

use gaia_core::{GaiaError, StreamEvent, Usage};

use super::out::OutUsage;
use super::reasoning::{self, BlockCounter};
use super::{DIALECT, convert_usage, finish_reason, wire};
use crate::codec::{ResponseMeta, StreamDecoder, StreamEncoder};
use crate::sse::SseEvent;
use crate::util::{malformed, push_json_str};

/// Decodes an OpenAI(-compatible) stream.
///
/// OpenAI states tool calls by index: the first fragment of a call carries its id and name, later ones
/// only argument text. The decoder remembers which `(choice, index)` calls it has announced, so each call
/// gets exactly one `ToolCallStart`, even from servers that repeat the id on every fragment.
///
/// The stream ends at `data: [DONE]`. A server that closes the body after every choice has a
/// `finish_reason` but without `[DONE]` is accepted too (several compatible servers do that); a body that
/// ends before that is an error.
#[derive(Debug)]
pub struct OpenAiStreamDecoder {
    meta: ResponseMeta,
    started: bool,
    done: bool,
    announced_calls: HashSet<(u32, u32)>,
    open_choices: BTreeSet<u32>,
    finished_choices: BTreeSet<u32>,
}

impl OpenAiStreamDecoder {
    /// `meta` fills the id, model and created time if the chunks lack them.
    pub fn new(meta: ResponseMeta) -> Self {
        Self {
            meta,
            started: false,
            done: false,
            announced_calls: HashSet::new(),
            open_choices: BTreeSet::new(),
            finished_choices: BTreeSet::new(),
        }
    }

    fn all_choices_finished(&self) -> bool {
        !self.open_choices.is_empty() && self.open_choices.is_subset(&self.finished_choices)
    }

    fn decode_chunk(&mut self, chunk: wire::Chunk, out: &mut Vec<StreamEvent>) {
        if let Some(error) = chunk.error {
            let message = error_message(&error);
            out.push(StreamEvent::Error(GaiaError::upstream(message)));
            self.done = true;
            return;
        }
        if !self.started {
            self.started = true;
            out.push(StreamEvent::Start {
                id: chunk
                    .id
                    .map_or_else(|| self.meta.id.clone(), Cow::into_owned),
                model: chunk
                    .model
                    .map_or_else(|| self.meta.model.clone(), Cow::into_owned),
                created: chunk.created.unwrap_or(self.meta.created),
            });
        }
        for choice_chunk in chunk.choices {
            self.decode_choice(choice_chunk, out);
        }
        if let Some(usage) = chunk.usage {
            out.push(StreamEvent::Usage(convert_usage(&usage)));
        }
    }

    /// One choice's delta: reasoning, text (a refusal is text too), tool-call fragments, its finish.
    fn decode_choice(&mut self, choice_chunk: wire::ChunkChoice, out: &mut Vec<StreamEvent>) {
        let choice = choice_chunk.index;
        self.open_choices.insert(choice);
        let delta = choice_chunk.delta;
        let reasoning = delta.reasoning_content.or(delta.reasoning);
        let reasoning = reasoning.filter(|text| !text.is_empty());
        let text_sent = reasoning.is_some();
        if let Some(text) = reasoning {
            out.push(StreamEvent::ReasoningDelta { choice, text });
        }
        reasoning::push_detail_events(choice, delta.reasoning_details, text_sent, out);
        for text in [delta.content, delta.refusal].into_iter().flatten() {
            if !text.is_empty() {
                out.push(StreamEvent::TextDelta { choice, text });
            }
        }
        for (position, call) in (0u32..).zip(delta.tool_calls) {
            self.decode_tool_call(choice, call.index.unwrap_or(position), call, out);
        }
        if let Some(reason) = choice_chunk.finish_reason {
            self.finished_choices.insert(choice);
            out.push(StreamEvent::Finish {
                choice,
                reason: finish_reason(&reason),
            });
        }
    }

    /// A tool-call fragment: announced the first time its `(choice, index)` is seen, then its arguments.
    fn decode_tool_call(
        &mut self,
        choice: u32,
        index: u32,
        call: wire::ToolCallDelta,
        out: &mut Vec<StreamEvent>,
    ) {
        if self.announced_calls.insert((choice, index)) {
            out.push(StreamEvent::ToolCallStart {
                choice,
                index,
                id: call.id.unwrap_or_else(|| format!("call_{choice}_{index}")),
                name: call.function.name.unwrap_or_default(),
            });
        }
        let arguments = call.function.arguments.filter(|a| !a.is_empty());
        if let Some(arguments) = arguments {
            out.push(StreamEvent::ToolCallArgsDelta {
                choice,
                index,
                arguments,
            });
        }
    }
}

/// The message of an in-stream `{"error":…}`: an object's `message`, or the error itself as a string.
fn error_message(error: &serde_json::Value) -> &str {
    error
        .get("message")
        .and_then(|m| m.as_str())
        .or_else(|| error.as_str())
        .unwrap_or("the upstream stream reported an error")
}

impl StreamDecoder for OpenAiStreamDecoder {
    fn decode(&mut self, event: &SseEvent) -> Result<Vec<StreamEvent>, GaiaError> {
        let mut out = Vec::new();
        if self.done {
            return Ok(out);
        }
        let data = event.data.trim();
        if data == "[DONE]" {
            self.done = true;
            out.push(StreamEvent::Done);
            return Ok(out);
        }
        if data.is_empty() {
            return Ok(out);
        }
        let chunk: wire::Chunk =
            serde_json::from_str(data).map_err(|err| malformed(DIALECT, "stream chunk", err))?;
        self.decode_chunk(chunk, &mut out);
        Ok(out)
    }

    fn finish(&mut self) -> Result<Vec<StreamEvent>, GaiaError> {
        if self.done {
            return Ok(Vec::new());
        }
        if self.all_choices_finished() {
            self.done = true;
            return Ok(vec![StreamEvent::Done]);
        }
        Err(GaiaError::upstream(
            "the OpenAI stream ended before it was complete",
        ))
    }

    fn is_finished(&self) -> bool {
        self.done || self.all_choices_finished()
    }
}

/// Encodes [`StreamEvent`]s as OpenAI `chat.completion.chunk` SSE frames for a client.
///
/// Every chunk carries the same id, created time and model (the id and time of the `Start` event unless
/// fixed with [`with_id`](Self::with_id); the model given here, i.e. what the client asked for). The first
/// chunk of each choice carries `delta.role: "assistant"`. `Usage` events are remembered and, if the client
/// asked for `include_usage`, sent as the final `choices: []` chunk right before `data: [DONE]`, where
/// OpenAI puts it. An `Error` event becomes a `data: {"error":…}` frame and ends the stream without
/// `[DONE]`, as OpenAI does.
///
/// The common id/created/model prefix is rendered once; each frame is then appended straight into the
/// caller's buffer, so a delta costs one escape pass over its text and no intermediate JSON values.
///
/// Reasoning text streams as `delta.reasoning_content`, as DeepSeek sends it. A reasoning block's signature
/// and encrypted reasoning go in `delta.reasoning_details` (OpenRouter's field), without the text again:
/// `[{"type":"reasoning.text","signature":…,"index":N}]` closes block N, and
/// `[{"type":"reasoning.encrypted","data":…,"index":N}]` is block N, N counting a choice's blocks from 0.
/// A client rebuilds block N from the `reasoning_content` text since block N-1 and its signature.
#[derive(Debug)]
pub struct OpenAiStreamEncoder {
    model: String,
    include_usage: bool,
    fixed_id: Option<(String, i64)>,
    /// `data: {"id":…,"object":"chat.completion.chunk","created":…,"model":…,` — ready to append to.
    prefix: String,
    role_sent: Vec<u32>,
    reasoning_blocks: BlockCounter,
    usage: Option<Usage>,
    ended: bool,
}

impl OpenAiStreamEncoder {
    /// `model` is the model name the client sees; `include_usage` is the client's
    /// `stream_options.include_usage`.
    pub fn new(model: impl Into<String>, include_usage: bool) -> Self {
        Self {
            model: model.into(),
            include_usage,
            fixed_id: None,
            prefix: String::new(),
            role_sent: Vec::new(),
            reasoning_blocks: BlockCounter::default(),
            usage: None,
            ended: false,
        }
    }

    /// Uses this id and created time instead of the upstream's (e.g. a gateway-assigned request id).
    pub fn with_id(mut self, id: impl Into<String>, created: i64) -> Self {
        self.fixed_id = Some((id.into(), created));
        self
    }

    /// Writes the terminator (the usage chunk if wanted, then `[DONE]`) unless the stream already ended.
    pub fn finish(&mut self, out: &mut String) {
        self.encode(&StreamEvent::Done, out);
    }

    fn set_prefix(&mut self, id: &str, created: i64) {
        let (id, created) = match &self.fixed_id {
            Some((id, created)) => (id.as_str(), *created),
            None => (id, created),
        };
        let mut prefix = String::with_capacity(96 + id.len() + self.model.len());
        prefix.push_str("data: {\"id\":");
        push_json_str(&mut prefix, id);
        let _ = write!(
            prefix,
            ",\"object\":\"chat.completion.chunk\",\"created\":{created},\"model\":"
        );
        push_json_str(&mut prefix, &self.model);
        prefix.push(',');
        self.prefix = prefix;
    }

    fn ensure_prefix(&mut self) {
        if self.prefix.is_empty() {
            self.set_prefix("", 0);
        }
    }

    /// Opens a one-choice chunk up to the inside of `delta`, adding the role on the choice's first chunk,
    /// and leaves `out` ready for the delta's field (a comma already written when the role precedes it).
    fn open_delta(&mut self, out: &mut String, choice: u32) {
        self.open_empty_delta(out, choice);
        if !out.ends_with('{') {
            out.push(',');
        }
    }

    /// Like [`open_delta`](Self::open_delta) for a delta that may stay empty (the finish chunk).
    fn open_empty_delta(&mut self, out: &mut String, choice: u32) {
        self.ensure_prefix();
        out.push_str(&self.prefix);
        out.push_str("\"choices\":[{\"index\":");
        out.push_str(itoa::Buffer::new().format(choice));
        out.push_str(",\"delta\":{");
        if !self.role_sent.contains(&choice) {
            self.role_sent.push(choice);
            out.push_str("\"role\":\"assistant\"");
        }
    }

    /// Closes what [`open_delta`](Self::open_delta) opened, with a `finish_reason`.
    fn close_delta(&self, out: &mut String, finish_reason: Option<&str>) {
        out.push_str("},\"logprobs\":null,\"finish_reason\":");
        match finish_reason {
            Some(reason) => {
                out.push('"');
                out.push_str(reason);
                out.push('"');
            }
            None => out.push_str("null"),
        }
        out.push_str("}]");
        if self.include_usage {
            out.push_str(",\"usage\":null");
        }
        out.push_str("}\n\n");
    }

    fn write_usage_chunk(&mut self, out: &mut String, usage: &Usage) {
        self.ensure_prefix();
        out.push_str(&self.prefix);
        out.push_str("\"choices\":[],\"usage\":");
        // The same usage object as a non-streaming answer's (`out::OutUsage`); once per stream.
        match serde_json::to_string(&OutUsage::from(usage)) {
            Ok(json) => out.push_str(&json),
            Err(_) => out.push_str("null"),
        }
        out.push_str("}\n\n");
    }

    /// A one-field delta chunk: `"{field}":"{text}"` (`content` or `reasoning_content`).
    fn write_text(&mut self, out: &mut String, choice: u32, field: &str, text: &str) {
        self.open_delta(out, choice);
        out.push('"');
        out.push_str(field);
        out.push_str("\":");
        push_json_str(out, text);
        self.close_delta(out, None);
    }

    /// A one-entry `reasoning_details` delta: `{"type":kind,"{key}":"{value}","index":index}`.
    fn write_detail(&mut self, out: &mut String, choice: u32, entry: [&str; 3], index: u32) {
        let [kind, key, value] = entry;
        self.open_delta(out, choice);
        out.push_str("\"reasoning_details\":[{\"type\":\"");
        out.push_str(kind);
        out.push_str("\",\"");
        out.push_str(key);
        out.push_str("\":");
        push_json_str(out, value);
        let _ = write!(out, ",\"index\":{index}}}]");
        self.close_delta(out, None);
    }

    fn write_tool_call_start(
        &mut self,
        out: &mut String,
        choice: u32,
        index: u32,
        id: &str,
        name: &str,
    ) {
        self.open_delta(out, choice);
        let _ = write!(out, "\"tool_calls\":[{{\"index\":{index},\"id\":");
        push_json_str(out, id);
        out.push_str(",\"type\":\"function\",\"function\":{\"name\":");
        push_json_str(out, name);
        out.push_str(",\"arguments\":\"\"}}]");
        self.close_delta(out, None);
    }

    fn write_tool_args(&mut self, out: &mut String, choice: u32, index: u32, arguments: &str) {
        self.open_delta(out, choice);
        let _ = write!(
            out,
            "\"tool_calls\":[{{\"index\":{index},\"function\":{{\"arguments\":"
        );
        push_json_str(out, arguments);
        out.push_str("}}]");
        self.close_delta(out, None);
    }

    /// `data: {"error":…}`, which ends the stream without `[DONE]`.
    fn write_error(&mut self, out: &mut String, error: &GaiaError) {
        out.push_str("data: ");
        out.push_str(&error.to_envelope().to_string());
        out.push_str("\n\n");
        self.ended = true;
    }

    /// The usage chunk (if the client asked for it), then `[DONE]`.
    fn write_done(&mut self, out: &mut String) {
        if let Some(usage) = self.usage.filter(|_| self.include_usage) {
            self.write_usage_chunk(out, &usage);
        }
        out.push_str("data: [DONE]\n\n");
        self.ended = true;
    }
}

impl StreamEncoder for OpenAiStreamEncoder {
    fn encode(&mut self, event: &StreamEvent, out: &mut String) {
        if self.ended {
            return;
        }
        match event {
            StreamEvent::Start { id, created, .. } => {
                self.set_prefix(id, *created);
                if !self.role_sent.contains(&0) {
                    // An immediate first chunk, so the client sees the response begin.
                    self.write_text(out, 0, "content", "");
                }
            }
            StreamEvent::TextDelta { choice, text } => {
                self.write_text(out, *choice, "content", text)
            }
            // The field DeepSeek and most compatible servers use; OpenAI clients ignore it.
            StreamEvent::ReasoningDelta { choice, text } => {
                if !text.is_empty() {
                    self.reasoning_blocks.text(*choice);
                }
                self.write_text(out, *choice, "reasoning_content", text);
            }
            StreamEvent::ReasoningSignature { choice, signature } => {
                let index = self.reasoning_blocks.signature(*choice);
                let entry = ["reasoning.text", "signature", signature];
                self.write_detail(out, *choice, entry, index);
            }
            StreamEvent::RedactedReasoning { choice, data } => {
                let index = self.reasoning_blocks.encrypted(*choice);
                self.write_detail(out, *choice, ["reasoning.encrypted", "data", data], index);
            }
            StreamEvent::ToolCallStart {
                choice,
                index,
                id,
                name,
            } => self.write_tool_call_start(out, *choice, *index, id, name),
            StreamEvent::ToolCallArgsDelta {
                choice,
                index,
                arguments,
            } => self.write_tool_args(out, *choice, *index, arguments),
            StreamEvent::Finish { choice, reason } => {
                self.open_empty_delta(out, *choice);
                self.close_delta(out, Some(reason.as_str()));
            }
            StreamEvent::Usage(usage) => self.usage = Some(*usage),
            StreamEvent::Error(error) => self.write_error(out, error),
            StreamEvent::Done => self.write_done(out),
            // Chat Completions has no field for the matched stop sequence.
            StreamEvent::StopSequence { .. } => {}
        }
    }
}
