//! The `generateContent` request body, assembled from borrowed parts of the canonical request and
//! serialised straight to bytes: message text and inline image data are written from the caller's request,
//! never copied into a `serde_json::Value` tree first. The small derived objects (generation config, tool
//! declarations with translated schemas) stay `Value`s.

use std::borrow::Cow;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

/// The whole body; built (and validated) by [`super::body`].
pub(super) struct Body<'a> {
    pub(super) contents: Vec<Content<'a>>,
    pub(super) system: Vec<Part<'a>>,
    pub(super) generation_config: Map<String, Value>,
    pub(super) tools: Option<Value>,
    pub(super) tool_config: Option<Value>,
}

impl Serialize for Body<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("contents", &self.contents)?;
        if !self.system.is_empty() {
            map.serialize_entry("systemInstruction", &Parts(&self.system))?;
        }
        if !self.generation_config.is_empty() {
            map.serialize_entry("generationConfig", &self.generation_config)?;
        }
        if let Some(tools) = &self.tools {
            map.serialize_entry("tools", tools)?;
        }
        if let Some(config) = &self.tool_config {
            map.serialize_entry("toolConfig", config)?;
        }
        map.end()
    }
}

/// `{"parts": [...]}`.
struct Parts<'p, 'a>(&'p [Part<'a>]);

impl Serialize for Parts<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("parts", self.0)?;
        map.end()
    }
}

/// One turn: consecutive messages of a role (`user` / `model`) merged.
pub(super) struct Content<'a> {
    pub(super) role: &'static str,
    pub(super) parts: Vec<Part<'a>>,
}

impl Serialize for Content<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("role", self.role)?;
        map.serialize_entry("parts", &self.parts)?;
        map.end()
    }
}

/// A part of a turn.
pub(super) enum Part<'a> {
    Text(Cow<'a, str>),
    InlineData {
        mime: &'a str,
        data: &'a str,
    },
    FileData {
        mime: &'static str,
        uri: &'a str,
    },
    FunctionCall {
        name: &'a str,
        args: Value,
        /// Gemini 3's thought signature, carried back inside our call id.
        signature: Option<&'a str>,
    },
    FunctionResponse {
        name: &'a str,
        response: Value,
    },
}

#[derive(serde::Serialize)]
struct Blob<'a> {
    #[serde(rename = "mimeType")]
    mime: &'a str,
    data: &'a str,
}

#[derive(serde::Serialize)]
struct File<'a> {
    #[serde(rename = "mimeType")]
    mime: &'a str,
    #[serde(rename = "fileUri")]
    uri: &'a str,
}

#[derive(serde::Serialize)]
struct Call<'a> {
    name: &'a str,
    args: &'a Value,
}

#[derive(serde::Serialize)]
struct Response<'a> {
    name: &'a str,
    response: &'a Value,
}

impl Serialize for Part<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match self {
            Part::Text(text) => map.serialize_entry("text", text)?,
            Part::InlineData { mime, data } => {
                map.serialize_entry("inlineData", &Blob { mime, data })?;
            }
            Part::FileData { mime, uri } => map.serialize_entry("fileData", &File { mime, uri })?,
            Part::FunctionCall {
                name,
                args,
                signature,
            } => {
                map.serialize_entry("functionCall", &Call { name, args })?;
                if let Some(signature) = signature {
                    map.serialize_entry("thoughtSignature", signature)?;
                }
            }
            Part::FunctionResponse { name, response } => {
                map.serialize_entry("functionResponse", &Response { name, response })?;
            }
        }
        map.end()
    }
}
