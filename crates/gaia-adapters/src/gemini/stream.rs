//! Gemini streaming (`streamGenerateContent?alt=sse`): each event's data is a whole
//! `GenerateContentResponse` chunk.

use std::collections::{BTreeMap, BTreeSet};

use gaia_core::{FinishReason, GaiaError, StreamEvent, Usage};

use super::{DIALECT, call_id, convert_usage, error_message, finish_reason, wire};
use crate::codec::{ResponseMeta, StreamDecoder};
use crate::sse::SseEvent;
use crate::util::malformed;

/// Decodes a Gemini stream.
///
/// Gemini has no start event, no ids and no end event: the decoder emits `Start` (with the id from
/// `meta`) on the first chunk, mints tool-call ids as the non-streaming parser does, and emits `Finish`
/// when a candidate reports a `finishReason`. Every chunk may repeat `usageMetadata` with running totals,
/// so the decoder only remembers the latest and reports it at the end. The end is the end of the body:
/// [`finish`](StreamDecoder::finish) closes the stream cleanly only if every candidate has finished.
#[derive(Debug)]
pub struct GeminiStreamDecoder {
    meta: ResponseMeta,
    started: bool,
    done: bool,
    usage: Option<Usage>,
    /// Per candidate: how many tool calls it has made so far.
    tool_calls: BTreeMap<u32, u32>,
    finished: BTreeSet<u32>,
    call_counter: u32,
}

impl GeminiStreamDecoder {
    /// `meta` supplies the id and created time Gemini does not send (and the model if the chunks lack
    /// `modelVersion`).
    pub fn new(meta: ResponseMeta) -> Self {
        Self {
            meta,
            started: false,
            done: false,
            usage: None,
            tool_calls: BTreeMap::new(),
            finished: BTreeSet::new(),
            call_counter: 0,
        }
    }

    fn all_finished(&self) -> bool {
        !self.finished.is_empty() && self.tool_calls.keys().all(|c| self.finished.contains(c))
    }

    fn decode_chunk(&mut self, chunk: wire::GenerateContentResponse, out: &mut Vec<StreamEvent>) {
        if let Some(error) = chunk.error {
            self.done = true;
            out.push(StreamEvent::Error(GaiaError::upstream(error_message(
                error,
            ))));
            return;
        }
        if !self.started {
            self.started = true;
            out.push(StreamEvent::Start {
                id: self.meta.id.clone(),
                model: chunk
                    .model_version
                    .unwrap_or_else(|| self.meta.model.clone()),
                created: self.meta.created,
            });
        }
        if let Some(usage) = &chunk.usage_metadata {
            self.usage = Some(convert_usage(usage));
        }
        let prompt_blocked = chunk
            .prompt_feedback
            .is_some_and(|feedback| feedback.block_reason.is_some());
        if chunk.candidates.is_empty() && prompt_blocked {
            // A refused prompt gets no candidate: choice 0 ends, filtered.
            self.tool_calls.entry(0).or_insert(0);
            if self.finished.insert(0) {
                out.push(StreamEvent::Finish {
                    choice: 0,
                    reason: FinishReason::ContentFilter,
                });
            }
        }
        for (position, candidate) in (0u32..).zip(chunk.candidates) {
            self.decode_candidate(candidate.index.unwrap_or(position), candidate, out);
        }
    }

    /// One candidate's parts (text, thoughts, whole function calls) and its finish.
    fn decode_candidate(
        &mut self,
        choice: u32,
        candidate: wire::Candidate,
        out: &mut Vec<StreamEvent>,
    ) {
        let mut calls = *self.tool_calls.entry(choice).or_insert(0);
        for part in candidate.content.unwrap_or_default().parts {
            if let Some(call) = part.function_call {
                self.push_call(choice, calls, call, part.thought_signature.as_deref(), out);
                calls += 1;
            } else if let Some(text) = part.text.filter(|text| !text.is_empty()) {
                out.push(if part.thought == Some(true) {
                    StreamEvent::ReasoningDelta { choice, text }
                } else {
                    StreamEvent::TextDelta { choice, text }
                });
            }
        }
        self.tool_calls.insert(choice, calls);
        match candidate.finish_reason {
            Some(reason) if self.finished.insert(choice) => out.push(StreamEvent::Finish {
                choice,
                reason: finish_reason(&reason, calls > 0),
            }),
            _ => {}
        }
    }

    /// Gemini streams each call whole: announce it and send all arguments at once.
    fn push_call(
        &mut self,
        choice: u32,
        index: u32,
        call: wire::FunctionCall,
        signature: Option<&str>,
        out: &mut Vec<StreamEvent>,
    ) {
        out.push(StreamEvent::ToolCallStart {
            choice,
            index,
            id: call_id(self.call_counter, signature),
            name: call.name,
        });
        out.push(StreamEvent::ToolCallArgsDelta {
            choice,
            index,
            arguments: call
                .args
                .unwrap_or_else(|| serde_json::json!({}))
                .to_string(),
        });
        self.call_counter += 1;
    }
}

impl StreamDecoder for GeminiStreamDecoder {
    fn decode(&mut self, event: &SseEvent) -> Result<Vec<StreamEvent>, GaiaError> {
        let mut out = Vec::new();
        if self.done || event.data.trim().is_empty() {
            return Ok(out);
        }
        let chunk: wire::GenerateContentResponse = serde_json::from_str(&event.data)
            .map_err(|err| malformed(DIALECT, "stream chunk", err))?;
        self.decode_chunk(chunk, &mut out);
        Ok(out)
    }

    fn finish(&mut self) -> Result<Vec<StreamEvent>, GaiaError> {
        if self.done {
            return Ok(Vec::new());
        }
        if !self.all_finished() {
            return Err(GaiaError::upstream(
                "the Gemini stream ended before a finishReason",
            ));
        }
        self.done = true;
        let mut out = Vec::with_capacity(2);
        if let Some(usage) = self.usage {
            out.push(StreamEvent::Usage(usage));
        }
        out.push(StreamEvent::Done);
        Ok(out)
    }

    fn is_finished(&self) -> bool {
        self.done || self.all_finished()
    }
}
