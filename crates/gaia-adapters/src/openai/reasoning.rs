//! Reasoning blocks in the Chat Completions dialect: OpenRouter's `reasoning_details`.
//!
//! Chat Completions has no reasoning field of its own, and the common `reasoning_content` (DeepSeek) /
//! `reasoning` (OpenRouter) strings carry only text. OpenRouter's `reasoning_details` array is the de-facto
//! way to carry what a stateless conversation must send back — signatures and encrypted reasoning:
//!
//! - `{"type":"reasoning.text","text":…,"signature":…,"format":…,"index":N}`: reasoning text, signed or not;
//! - `{"type":"reasoning.summary","summary":…,"format":…,"index":N}`: a summary, read as unsigned text;
//! - `{"type":"reasoning.encrypted","data":…,"format":…,"index":N}`: encrypted (redacted) reasoning.
//!
//! Entries sharing an `index` belong to one block (a streamed block arrives as several entries), so
//! consecutive text entries with the same index are merged when read. Unknown types are skipped.
//!
//! Streams the gateway writes keep the text in `delta.reasoning_content` only; their `reasoning_details`
//! deltas carry just a block's `signature` (which closes it) or its encrypted `data`, with the block's
//! `index`. A client rebuilds the blocks by index: the text streamed since the previous block closed,
//! then the signature.

use std::collections::BTreeMap;

use gaia_core::{ContentPart, StreamEvent};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

/// One `reasoning_details` entry as read, before entries of one block are merged.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Detail {
    /// `reasoning.text` or `reasoning.summary`; the text may be empty (an entry that only signs).
    Text {
        text: String,
        signature: Option<String>,
        index: Option<u64>,
    },
    /// `reasoning.encrypted`.
    Encrypted(String),
}

/// The reasoning parts of `details`, in order: consecutive text entries with the same `index` are one
/// block (texts joined, the signature kept); blocks with nothing in them are dropped.
pub(super) fn into_parts(details: impl IntoIterator<Item = Detail>) -> Vec<ContentPart> {
    let mut parts = Vec::new();
    // The index of the text block `parts` ends with.
    let mut open: Option<u64> = None;
    for detail in details {
        match detail {
            Detail::Text {
                text,
                signature,
                index,
            } => {
                if let Some(ContentPart::Thinking {
                    text: joined,
                    signature: kept,
                }) = parts
                    .last_mut()
                    .filter(|_| index.is_some() && index == open)
                {
                    joined.push_str(&text);
                    if kept.is_none() {
                        *kept = signature;
                    }
                    continue;
                }
                open = index;
                parts.push(ContentPart::Thinking { text, signature });
            }
            Detail::Encrypted(data) => {
                open = None;
                parts.push(ContentPart::RedactedThinking { data });
            }
        }
    }
    parts.retain(|part| match part {
        ContentPart::Thinking { text, signature } => !text.is_empty() || signature.is_some(),
        ContentPart::RedactedThinking { data } => !data.is_empty(),
        _ => true,
    });
    parts
}

/// A message's reasoning parts from its `reasoning_details` and its reasoning string (`text`).
///
/// Where the details carry text, the string is the same text again (OpenRouter sends both) and is not
/// used. Where they only sign or encrypt (a streamed answer whose details a client sent back as received),
/// the string is the text of the one signed block, or with several blocks a block of its own before them.
pub(super) fn message_parts(details: Vec<Detail>, text: Option<String>) -> Vec<ContentPart> {
    let mut parts = into_parts(details);
    let Some(text) = text.filter(|text| !text.is_empty()) else {
        return parts;
    };
    let has_text = parts
        .iter()
        .any(|part| matches!(part, ContentPart::Thinking { text, .. } if !text.is_empty()));
    if has_text {
        return parts;
    }
    let mut blocks = parts.iter_mut().filter_map(|part| match part {
        ContentPart::Thinking { text, .. } => Some(text),
        _ => None,
    });
    match (blocks.next(), blocks.next()) {
        (Some(only), None) => *only = text,
        _ => parts.insert(0, thinking(text)),
    }
    parts
}

fn thinking(text: String) -> ContentPart {
    ContentPart::Thinking {
        text,
        signature: None,
    }
}

/// A `reasoning_details` entry from an upstream, read leniently: an entry that is not an object, has no
/// known `type` or lacks its payload is skipped; an empty signature is none.
pub(super) fn wire_detail(value: Value) -> Option<Detail> {
    let Value::Object(mut obj) = value else {
        return None;
    };
    let index = obj.get("index").and_then(Value::as_u64);
    let kind = string(&mut obj, "type")?;
    match kind.as_str() {
        "reasoning.text" => Some(Detail::Text {
            text: string(&mut obj, "text").unwrap_or_default(),
            signature: string(&mut obj, "signature").filter(|s| !s.is_empty()),
            index,
        }),
        "reasoning.summary" => Some(Detail::Text {
            text: string(&mut obj, "summary")?,
            signature: None,
            index,
        }),
        "reasoning.encrypted" => string(&mut obj, "data")
            .filter(|data| !data.is_empty())
            .map(Detail::Encrypted),
        _ => None,
    }
}

fn string(obj: &mut Map<String, Value>, key: &str) -> Option<String> {
    match obj.remove(key) {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

/// The events of one stream delta's `reasoning_details`: text (only when the delta had no
/// `reasoning`/`reasoning_content` text, which OpenRouter sends alongside the same text), signatures and
/// encrypted blocks, in order.
pub(super) fn push_detail_events(
    choice: u32,
    details: Vec<Value>,
    text_sent: bool,
    out: &mut Vec<StreamEvent>,
) {
    for detail in details.into_iter().filter_map(wire_detail) {
        match detail {
            Detail::Text {
                text, signature, ..
            } => {
                if !text_sent && !text.is_empty() {
                    out.push(StreamEvent::ReasoningDelta { choice, text });
                }
                if let Some(signature) = signature {
                    out.push(StreamEvent::ReasoningSignature { choice, signature });
                }
            }
            Detail::Encrypted(data) => out.push(StreamEvent::RedactedReasoning { choice, data }),
        }
    }
}

/// The `format` of reasoning sent back to OpenRouter model `model` (`vendor/name`): the format its vendor's
/// reasoning comes in. The canonical parts do not remember the format they arrived in, and the signature of
/// one vendor only validates with that vendor anyway.
pub(super) fn openrouter_format(model: &str) -> &'static str {
    match model.split_once('/').map(|(vendor, _)| vendor) {
        Some("anthropic") => ANTHROPIC_FORMAT,
        Some("google") => "google-gemini-v1",
        Some("openai") => "openai-responses-v1",
        Some("x-ai") => "xai-responses-v1",
        _ => "unknown",
    }
}

const ANTHROPIC_FORMAT: &str = "anthropic-claude-v1";

/// A message's reasoning parts as `reasoning_details` entries, `index` 0.. in order.
///
/// Unsigned text is left out for Anthropic's format: Anthropic rejects a thinking block without a valid
/// signature, and unsigned reasoning (from another provider) is nothing it can continue.
pub(super) fn detail_views<'a>(content: &'a [ContentPart], format: &'a str) -> Vec<DetailView<'a>> {
    let signed_only = format == ANTHROPIC_FORMAT;
    content
        .iter()
        .filter_map(|part| match part {
            ContentPart::Thinking {
                signature: None, ..
            } if signed_only => None,
            ContentPart::Thinking { text, signature } => Some(Payload::Text {
                text,
                signature: signature.as_deref(),
            }),
            ContentPart::RedactedThinking { data } => Some(Payload::Encrypted(data)),
            _ => None,
        })
        .zip(0usize..)
        .map(|(payload, index)| DetailView {
            payload,
            format,
            index,
        })
        .collect()
}

/// One reasoning part as a `reasoning_details` entry.
pub(super) struct DetailView<'a> {
    payload: Payload<'a>,
    format: &'a str,
    index: usize,
}

enum Payload<'a> {
    Text {
        text: &'a str,
        signature: Option<&'a str>,
    },
    Encrypted(&'a str),
}

impl Serialize for DetailView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match self.payload {
            Payload::Text { text, signature } => {
                map.serialize_entry("type", "reasoning.text")?;
                map.serialize_entry("text", text)?;
                if let Some(signature) = signature {
                    map.serialize_entry("signature", signature)?;
                }
            }
            Payload::Encrypted(data) => {
                map.serialize_entry("type", "reasoning.encrypted")?;
                map.serialize_entry("data", data)?;
            }
        }
        map.serialize_entry("format", self.format)?;
        map.serialize_entry("index", &self.index)?;
        map.end()
    }
}

/// Per choice of a stream the gateway writes, the index of the next reasoning block.
///
/// A block ends at its signature or where an encrypted block follows it; each encrypted block is a block
/// too. So the indexes match those of the same answer's `reasoning_details` when not streamed.
#[derive(Debug, Default)]
pub(super) struct BlockCounter {
    choices: BTreeMap<u32, Blocks>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Blocks {
    closed: u32,
    /// Reasoning text was streamed since the last block closed.
    open: bool,
}

impl BlockCounter {
    /// Reasoning text went out for `choice`: its current block is open.
    pub(super) fn text(&mut self, choice: u32) {
        self.choices.entry(choice).or_default().open = true;
    }

    /// The index of the block a signature closes.
    pub(super) fn signature(&mut self, choice: u32) -> u32 {
        self.choices.entry(choice).or_default().close()
    }

    /// The index of an encrypted block, which first ends the open text block, if any.
    pub(super) fn encrypted(&mut self, choice: u32) -> u32 {
        let blocks = self.choices.entry(choice).or_default();
        if blocks.open {
            blocks.close();
        }
        blocks.close()
    }
}

impl Blocks {
    fn close(&mut self) -> u32 {
        let index = self.closed;
        self.closed = index.saturating_add(1);
        self.open = false;
        index
    }
}
