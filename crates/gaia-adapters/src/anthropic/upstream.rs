//! The Messages API request body, assembled from borrowed parts of the canonical request and serialised
//! straight to bytes: message text and inline image data are written from the caller's request, never
//! copied into a `serde_json::Value` tree first (an image can be megabytes of base64).

use std::borrow::Cow;

use gaia_core::{ImageSource, Tool};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use crate::util::SeqOf;

/// The whole body; built (and validated) by [`super::body`].
pub(super) struct Body<'a> {
    pub(super) model: &'a str,
    pub(super) max_tokens: u32,
    pub(super) turns: Vec<Turn<'a>>,
    pub(super) system: Option<Cow<'a, str>>,
    pub(super) temperature: Option<f64>,
    pub(super) top_p: Option<f64>,
    pub(super) stop: &'a [String],
    pub(super) user: Option<&'a str>,
    pub(super) tools: &'a [Tool],
    pub(super) tool_choice: Option<Value>,
    pub(super) stream: bool,
}

impl Serialize for Body<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("model", self.model)?;
        map.serialize_entry("max_tokens", &self.max_tokens)?;
        map.serialize_entry("messages", &self.turns)?;
        if let Some(system) = &self.system {
            map.serialize_entry("system", system)?;
        }
        if let Some(temperature) = self.temperature {
            map.serialize_entry("temperature", &temperature)?;
        } else if let Some(top_p) = self.top_p {
            map.serialize_entry("top_p", &top_p)?;
        }
        if !self.stop.is_empty() {
            map.serialize_entry("stop_sequences", self.stop)?;
        }
        if let Some(user) = self.user {
            map.serialize_entry("metadata", &Metadata { user_id: user })?;
        }
        if !self.tools.is_empty() {
            map.serialize_entry("tools", &SeqOf(self.tools, OutTool))?;
            if let Some(choice) = &self.tool_choice {
                map.serialize_entry("tool_choice", choice)?;
            }
        }
        if self.stream {
            map.serialize_entry("stream", &true)?;
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

/// A content block.
pub(super) enum Block<'a> {
    Text(Cow<'a, str>),
    /// A base64 `data:` image or a link (validated by the builder).
    Image(ImageSource<'a>),
    ToolUse {
        id: String,
        name: &'a str,
        input: Value,
    },
    ToolResult {
        tool_use_id: String,
        /// Omitted when empty.
        content: Cow<'a, str>,
    },
}

impl Block<'_> {
    pub(super) fn is_tool_result(&self) -> bool {
        matches!(self, Block::ToolResult { .. })
    }
}

impl Serialize for Block<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match self {
            Block::Text(text) => {
                map.serialize_entry("type", "text")?;
                map.serialize_entry("text", text)?;
            }
            Block::Image(source) => {
                map.serialize_entry("type", "image")?;
                map.serialize_entry("source", &Source(*source))?;
            }
            Block::ToolUse { id, name, input } => {
                map.serialize_entry("type", "tool_use")?;
                map.serialize_entry("id", id)?;
                map.serialize_entry("name", name)?;
                map.serialize_entry("input", input)?;
            }
            Block::ToolResult {
                tool_use_id,
                content,
            } => {
                map.serialize_entry("type", "tool_result")?;
                map.serialize_entry("tool_use_id", tool_use_id)?;
                if !content.is_empty() {
                    map.serialize_entry("content", content)?;
                }
            }
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
