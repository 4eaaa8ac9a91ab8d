//! The Messages API request body, assembled from borrowed parts of the canonical request and serialised
//! straight to bytes: message text and inline image data are written from the caller's request, never
//! copied into a `serde_json::Value` tree first (an image can be megabytes of base64).

use std::borrow::Cow;

use gaia_core::{AnthropicExtras, CacheControl, ImageSource, Tool};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use crate::util::CacheControlWire;

/// The whole body; built (and validated) by [`super::body`].
pub(super) struct Body<'a> {
    pub(super) model: &'a str,
    pub(super) max_tokens: u32,
    pub(super) turns: Vec<Turn<'a>>,
    pub(super) system: System<'a>,
    pub(super) temperature: Option<f64>,
    pub(super) top_p: Option<f64>,
    pub(super) top_k: Option<u32>,
    /// `thinking`: a budget to enable, `Some(None)` to disable, `None` to leave to the model.
    pub(super) thinking: Option<Option<u32>>,
    pub(super) stop: &'a [String],
    pub(super) user: Option<&'a str>,
    pub(super) tools: &'a [Tool],
    /// The forced tool of a JSON schema, sent as the only tool (there are no others then).
    pub(super) structured: Option<StructuredTool<'a>>,
    pub(super) tool_choice: Option<Value>,
    pub(super) stream: bool,
    /// What a Messages API client sent that only Anthropic understands: server tools (after the custom
    /// ones) and top-level fields, written as they came.
    pub(super) extras: &'a AnthropicExtras,
}

impl Serialize for Body<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("model", self.model)?;
        map.serialize_entry("max_tokens", &self.max_tokens)?;
        map.serialize_entry("messages", &self.turns)?;
        match &self.system {
            System::None => {}
            System::Text(text) => map.serialize_entry("system", text)?,
            System::Blocks(blocks) => map.serialize_entry("system", blocks)?,
        }
        if let Some(temperature) = self.temperature {
            map.serialize_entry("temperature", &temperature)?;
        } else if let Some(top_p) = self.top_p {
            map.serialize_entry("top_p", &top_p)?;
        }
        if let Some(top_k) = self.top_k {
            map.serialize_entry("top_k", &top_k)?;
        }
        match self.thinking {
            Some(Some(budget)) => map.serialize_entry("thinking", &Thinking::Enabled(budget))?,
            Some(None) => map.serialize_entry("thinking", &Thinking::Disabled)?,
            None => {}
        }
        if !self.stop.is_empty() {
            map.serialize_entry("stop_sequences", self.stop)?;
        }
        if let Some(user) = self.user {
            map.serialize_entry("metadata", &Metadata { user_id: user })?;
        }
        let server_tools = &self.extras.server_tools;
        let has_tools = if let Some(tool) = &self.structured {
            map.serialize_entry("tools", std::slice::from_ref(tool))?;
            true
        } else if !self.tools.is_empty() || !server_tools.is_empty() {
            map.serialize_entry("tools", &AllTools(self.tools, server_tools))?;
            true
        } else {
            false
        };
        if has_tools && let Some(choice) = &self.tool_choice {
            map.serialize_entry("tool_choice", choice)?;
        }
        if self.stream {
            map.serialize_entry("stream", &true)?;
        }
        // Only fields the canonical request does not model are here, so none repeats a key above.
        for (key, value) in &self.extras.fields {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// The system prompt: one string, or text blocks when some carry a cache breakpoint.
pub(super) enum System<'a> {
    None,
    Text(Cow<'a, str>),
    Blocks(Vec<Block<'a>>),
}

enum Thinking {
    Enabled(u32),
    Disabled,
}

impl Serialize for Thinking {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match self {
            Thinking::Enabled(budget) => {
                map.serialize_entry("type", "enabled")?;
                map.serialize_entry("budget_tokens", budget)?;
            }
            Thinking::Disabled => map.serialize_entry("type", "disabled")?,
        }
        map.end()
    }
}

#[derive(serde::Serialize)]
struct Metadata<'a> {
    user_id: &'a str,
}

/// One conversation turn: consecutive messages of a role merged, tool results first.
pub(super) struct Turn<'a> {
    pub(super) role: &'static str,
    pub(super) blocks: Vec<Block<'a>>,
}

impl Serialize for Turn<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("role", self.role)?;
        map.serialize_entry("content", &self.blocks)?;
        map.end()
    }
}

/// A content block, with the cache breakpoint that follows it.
pub(super) struct Block<'a> {
    pub(super) kind: Kind<'a>,
    pub(super) cache: Option<&'a CacheControl>,
}

/// What a content block holds.
pub(super) enum Kind<'a> {
    Text(Cow<'a, str>),
    /// A base64 `data:` image or a link (validated by the builder).
    Image(ImageSource<'a>),
    /// A PDF: base64 `data:` or a link.
    Document(ImageSource<'a>),
    /// Reasoning from an earlier turn with its signature, byte for byte.
    Thinking {
        text: &'a str,
        signature: &'a str,
    },
    RedactedThinking(&'a str),
    ToolUse {
        id: String,
        name: &'a str,
        input: Value,
    },
    ToolResult {
        tool_use_id: String,
        /// Omitted when empty; blocks when the result holds images.
        content: ToolResultContent<'a>,
        is_error: bool,
    },
}

/// A tool result's content: text, or blocks (text and images).
pub(super) enum ToolResultContent<'a> {
    Text(Cow<'a, str>),
    Blocks(Vec<Block<'a>>),
}

impl<'a> From<Kind<'a>> for Block<'a> {
    fn from(kind: Kind<'a>) -> Self {
        Block { kind, cache: None }
    }
}

impl Block<'_> {
    pub(super) fn is_tool_result(&self) -> bool {
        matches!(self.kind, Kind::ToolResult { .. })
    }
}

impl Serialize for Block<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match &self.kind {
            Kind::Text(text) => {
                map.serialize_entry("type", "text")?;
                map.serialize_entry("text", text)?;
            }
            Kind::Image(source) => {
                map.serialize_entry("type", "image")?;
                map.serialize_entry("source", &Source(*source))?;
            }
            Kind::Document(source) => {
                map.serialize_entry("type", "document")?;
                map.serialize_entry("source", &Source(*source))?;
            }
            Kind::Thinking { text, signature } => {
                map.serialize_entry("type", "thinking")?;
                map.serialize_entry("thinking", text)?;
                map.serialize_entry("signature", signature)?;
            }
            Kind::RedactedThinking(data) => {
                map.serialize_entry("type", "redacted_thinking")?;
                map.serialize_entry("data", data)?;
            }
            Kind::ToolUse { id, name, input } => {
                map.serialize_entry("type", "tool_use")?;
                map.serialize_entry("id", id)?;
                map.serialize_entry("name", name)?;
                map.serialize_entry("input", input)?;
            }
            Kind::ToolResult {
                tool_use_id,
                content,
                is_error,
            } => {
                map.serialize_entry("type", "tool_result")?;
                map.serialize_entry("tool_use_id", tool_use_id)?;
                match content {
                    ToolResultContent::Text(text) if text.is_empty() => {}
                    ToolResultContent::Text(text) => map.serialize_entry("content", text)?,
                    ToolResultContent::Blocks(blocks) => map.serialize_entry("content", blocks)?,
                }
                if *is_error {
                    map.serialize_entry("is_error", &true)?;
                }
            }
        }
        if let Some(control) = self.cache {
            map.serialize_entry("cache_control", &CacheControlWire(control))?;
        }
        map.end()
    }
}

struct Source<'a>(ImageSource<'a>);

impl Serialize for Source<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match self.0 {
            ImageSource::Data(data) => {
                map.serialize_entry("type", "base64")?;
                map.serialize_entry("media_type", data.mime)?;
                map.serialize_entry("data", data.data)?;
            }
            ImageSource::Url(url) => {
                map.serialize_entry("type", "url")?;
                map.serialize_entry("url", url)?;
            }
        }
        map.end()
    }
}

/// The custom tools, then the server tools as the client wrote them.
struct AllTools<'a>(&'a [Tool], &'a [Value]);

impl Serialize for AllTools<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.0.len() + self.1.len()))?;
        for tool in self.0 {
            seq.serialize_element(&OutTool(tool))?;
        }
        for tool in self.1 {
            seq.serialize_element(tool)?;
        }
        seq.end()
    }
}

/// The tool a JSON schema is forced through: `input_schema` is the client's schema as written.
pub(super) struct StructuredTool<'a> {
    pub(super) name: &'static str,
    pub(super) description: String,
    pub(super) schema: &'a Value,
}

impl Serialize for StructuredTool<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("name", self.name)?;
        map.serialize_entry("description", &self.description)?;
        map.serialize_entry("input_schema", self.schema)?;
        map.end()
    }
}

struct OutTool<'a>(&'a Tool);

impl Serialize for OutTool<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let tool = self.0;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("name", &tool.name)?;
        if let Some(description) = &tool.description {
            map.serialize_entry("description", description)?;
        }
        match &tool.parameters {
            Some(schema) => map.serialize_entry("input_schema", schema)?,
            // A function without parameters: an object with none.
            None => map.serialize_entry("input_schema", &EmptyObjectSchema)?,
        }
        if let Some(control) = &tool.cache_control {
            map.serialize_entry("cache_control", &CacheControlWire(control))?;
        }
        map.end()
    }
}

/// `{"type": "object", "properties": {}}`.
struct EmptyObjectSchema;

impl Serialize for EmptyObjectSchema {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("type", "object")?;
        map.serialize_entry("properties", &serde_json::Map::new())?;
        map.end()
    }
}
