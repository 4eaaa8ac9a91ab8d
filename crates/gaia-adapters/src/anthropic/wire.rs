//! Anthropic Messages API response and stream-event shapes, as far as we read them.
//!
//! Unknown block, delta and event types deserialize to `Other` and are skipped: Anthropic's versioning
//! policy allows adding new ones at any time.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::Value;

use crate::util::nullable;

#[derive(Debug, Deserialize)]
pub(super) struct MessageResponse {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub content: Vec<Block>,
    #[serde(default)]
    pub stop_reason: Option<String>,
    #[serde(default)]
    pub stop_sequence: Option<String>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum Block {
    Text {
        #[serde(default)]
        text: String,
    },
    ToolUse {
        #[serde(default)]
        id: String,
        #[serde(default)]
        name: String,
        #[serde(default)]
        input: Value,
    },
    Thinking {
        #[serde(default)]
        thinking: String,
        #[serde(default)]
        signature: Option<String>,
    },
    RedactedThinking {
        #[serde(default)]
        data: String,
    },
    #[serde(other)]
    Other,
}

/// Token counts; in `message_delta` they are cumulative and any of them may be absent.
#[derive(Debug, Default, Deserialize)]
pub(super) struct WireUsage {
    #[serde(default)]
    pub input_tokens: Option<u64>,
    #[serde(default)]
    pub output_tokens: Option<u64>,
    #[serde(default)]
    pub cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    pub cache_read_input_tokens: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum StreamWire {
    MessageStart {
        message: StartMessage,
    },
    ContentBlockStart {
        index: u32,
        content_block: Block,
    },
    ContentBlockDelta {
        index: u32,
        delta: BlockDelta,
    },
    ContentBlockStop {
        index: u32,
    },
    MessageDelta {
        #[serde(default)]
        delta: MessageDeltaBody,
        #[serde(default)]
        usage: Option<WireUsage>,
    },
    MessageStop,
    Ping,
    Error {
        #[serde(default)]
        error: ErrorBody,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
pub(super) struct StartMessage {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum BlockDelta {
    TextDelta {
        #[serde(default)]
        text: String,
    },
    InputJsonDelta {
        #[serde(default)]
        partial_json: String,
    },
    ThinkingDelta {
        #[serde(default)]
        thinking: String,
    },
    SignatureDelta {
        #[serde(default)]
        signature: String,
    },
    #[serde(other)]
    Other,
}

/// A `content_block_delta` event read straight into its fields — the one event a stream repeats, read
/// without the intermediate tree serde builds for an internally tagged enum such as [`StreamWire`] and
/// [`BlockDelta`] (about half of their cost per event). `type` is kept so the caller can check it; anything
/// this shape does not read the same way as [`StreamWire`] (a wrong type, a field of the wrong type) fails
/// here and is read again through [`StreamWire`], which decides.
#[derive(Debug, Deserialize)]
pub(super) struct BlockDeltaEvent<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    pub index: u32,
    #[serde(borrow)]
    pub delta: FlatBlockDelta<'a>,
}

/// Every [`BlockDelta`] variant's fields side by side, told apart by `type`.
#[derive(Debug, Deserialize)]
pub(super) struct FlatBlockDelta<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub partial_json: String,
    #[serde(default)]
    pub thinking: String,
    #[serde(default)]
    pub signature: String,
}

impl FlatBlockDelta<'_> {
    /// The variant its `type` names, as [`BlockDelta`]'s own deserializer would have made it.
    pub fn into_delta(self) -> BlockDelta {
        match self.kind.as_ref() {
            "text_delta" => BlockDelta::TextDelta { text: self.text },
            "input_json_delta" => BlockDelta::InputJsonDelta {
                partial_json: self.partial_json,
            },
            "thinking_delta" => BlockDelta::ThinkingDelta {
                thinking: self.thinking,
            },
            "signature_delta" => BlockDelta::SignatureDelta {
                signature: self.signature,
            },
            _ => BlockDelta::Other,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct MessageDeltaBody {
    #[serde(default)]
    pub stop_reason: Option<String>,
    #[serde(default)]
    pub stop_sequence: Option<String>,
}

/// `{"type":"error","error":{"type":…,"message":…}}`, in error bodies and in-stream `error` events.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ErrorBody {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ErrorEnvelope {
    #[serde(default)]
    pub error: Option<ErrorBody>,
}
