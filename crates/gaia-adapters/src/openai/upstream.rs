//! The OpenAI(-compatible) upstream request body, serialised straight from the borrowed [`ChatRequest`].
//!
//! A `serde_json::Value` tree would copy every message's text and allocate a map node per field before being
//! written out; these views write the same document with no copy of the caller's data, which matters for
//! long prompts. [`super::build_request`] still returns a `Value` (through `serde_json::to_value`) for
//! callers that want one.

use gaia_core::{
    CacheControl, ChatRequest, ContentPart, Message, Reasoning, ResponseFormat, Role, Tool,
    ToolCall, ToolChoice,
};
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::{Flavor, reasoning};
use crate::util::SeqOf;

/// The whole body. Canonical fields first; then the client's unknown (`extra`) fields, except any a
/// canonical field already wrote (canonical fields win) and, for a non-streaming request, `stream` and
/// `stream_options`.
pub(super) struct Body<'a> {
    pub(super) request: &'a ChatRequest,
    pub(super) model: &'a str,
    pub(super) flavor: Flavor,
}

/// Field names a canonical value can take; at most one `extra` entry is skipped per name written.
const CANONICAL: [&str; 20] = [
    "model",
    "messages",
    "temperature",
    "top_p",
    "max_completion_tokens",
    "max_tokens",
    "stop",
    "n",
    "presence_penalty",
    "frequency_penalty",
    "seed",
    "user",
    "response_format",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "stream",
    "top_k",
    "reasoning_effort",
    "reasoning",
];

impl Serialize for Body<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let r = self.request;
        // Which canonical names were written, as a bit per `CANONICAL` index (`stream_options` goes with
        // `stream`).
        let mut written: u32 = 0;
        let mut map = serializer.serialize_map(None)?;
        put(&mut map, &mut written, "model", &self.model)?;
        // Earlier turns' reasoning goes back only to OpenRouter, as `reasoning_details`: it needs the
        // signatures and encrypted blocks to continue Anthropic's and Gemini's reasoning across tool calls.
        // OpenAI's Chat Completions has no input field for reasoning and compatible servers do not agree on
        // one (some reject unknown message fields), so for them it is dropped.
        let reasoning_format =
            (self.flavor == Flavor::OpenRouter).then(|| reasoning::openrouter_format(self.model));
        put(
            &mut map,
            &mut written,
            "messages",
            &SeqOf(&r.messages, |message| OutMessage {
                message,
                flavor: self.flavor,
                reasoning_format,
            }),
        )?;
        self.put_parameters(&mut map, &mut written)?;
        if !r.tools.is_empty() {
            put(&mut map, &mut written, "tools", &SeqOf(&r.tools, out_tool))?;
            if let Some(choice) = &r.tool_choice {
                put(&mut map, &mut written, "tool_choice", &Choice(choice))?;
            }
            // OpenAI rejects `parallel_tool_calls` without tools.
            if let Some(parallel) = r.parallel_tool_calls {
                put(&mut map, &mut written, "parallel_tool_calls", &parallel)?;
            }
        }
        if r.stream {
            put(&mut map, &mut written, "stream", &true)?;
            put(&mut map, &mut written, "stream_options", &IncludeUsage)?;
        }
        put_extra(&mut map, &r.extra, written)?;
        map.end()
    }
}

impl Body<'_> {
    /// The sampling and output parameters the request sets, `max_tokens` under the flavor's name.
    fn put_parameters<M: SerializeMap>(
        &self,
        map: &mut M,
        written: &mut u32,
    ) -> Result<(), M::Error> {
        let r = self.request;
        if let Some(t) = r.temperature {
            put(map, written, "temperature", &t)?;
        }
        if let Some(p) = r.top_p {
            put(map, written, "top_p", &p)?;
        }
        if let Some(max) = r.max_tokens {
            let key = match self.flavor {
                Flavor::OpenAi | Flavor::OpenRouter => "max_completion_tokens",
                Flavor::Compatible => "max_tokens",
            };
            put(map, written, key, &max)?;
        }
        if !r.stop.is_empty() {
            put(map, written, "stop", &r.stop)?;
        }
        if let Some(n) = r.n {
            put(map, written, "n", &n)?;
        }
        if let Some(p) = r.presence_penalty {
            put(map, written, "presence_penalty", &p)?;
        }
        if let Some(p) = r.frequency_penalty {
            put(map, written, "frequency_penalty", &p)?;
        }
        if let Some(seed) = r.seed {
            put(map, written, "seed", &seed)?;
        }
        if let Some(user) = &r.user {
            put(map, written, "user", user)?;
        }
        if let Some(format) = &r.response_format {
            put(map, written, "response_format", &Format(format))?;
        }
        // OpenAI has no top-k; OpenRouter and the common compatible servers (vLLM, Ollama) take it.
        if let Some(k) = r.top_k.filter(|_| self.flavor != Flavor::OpenAi) {
            put(map, written, "top_k", &k)?;
        }
        if let Some(reasoning) = r.reasoning {
            self.put_reasoning(map, written, reasoning)?;
        }
        Ok(())
    }

    /// The reasoning setting: OpenRouter's `reasoning` object (a budget stays a budget), elsewhere
    /// `reasoning_effort` (specs/messages.md, M-14); "off" is `none`, which OpenAI's newer models take.
    fn put_reasoning<M: SerializeMap>(
        &self,
        map: &mut M,
        written: &mut u32,
        reasoning: Reasoning,
    ) -> Result<(), M::Error> {
        if self.flavor == Flavor::OpenRouter {
            let mut object = serde_json::Map::new();
            match reasoning {
                Reasoning::Off => object.insert("enabled".into(), false.into()),
                Reasoning::Effort(effort) => object.insert("effort".into(), effort.as_str().into()),
                Reasoning::Budget(budget) => object.insert("max_tokens".into(), budget.into()),
            };
            return put(map, written, "reasoning", &object);
        }
        let effort = reasoning.effort().map_or("none", |effort| effort.as_str());
        put(map, written, "reasoning_effort", effort)
    }
}

/// The client's unknown fields, except any a canonical field already wrote (`written`) and the client's
/// own stream flags (the gateway decides those).
fn put_extra<M: SerializeMap>(
    map: &mut M,
    extra: &serde_json::Map<String, serde_json::Value>,
    written: u32,
) -> Result<(), M::Error> {
    for (key, value) in extra {
        let canonical = CANONICAL
            .iter()
            .position(|k| *k == key)
            .is_some_and(|i| written & (1 << i) != 0);
        // Not streaming: the client's own stream flags are dropped too (the gateway decides).
        let stream_flag = key == "stream" || key == "stream_options";
        if canonical || stream_flag {
            continue;
        }
        map.serialize_entry(key, value)?;
    }
    Ok(())
}

/// Writes a canonical field and notes its name in `written`.
fn put<M: SerializeMap, T: Serialize + ?Sized>(
    map: &mut M,
    written: &mut u32,
    key: &'static str,
    value: &T,
) -> Result<(), M::Error> {
    if let Some(i) = CANONICAL.iter().position(|k| *k == key) {
        *written |= 1 << i;
    }
    map.serialize_entry(key, value)
}

/// `{"include_usage": true}`: the gateway meters every stream, whatever the client asked for.
struct IncludeUsage;

impl Serialize for IncludeUsage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("include_usage", &true)?;
        map.end()
    }
}

struct OutMessage<'a> {
    message: &'a Message,
    flavor: Flavor,
    /// The `format` of the `reasoning_details` an assistant turn carries; `None`: reasoning is dropped.
    reasoning_format: Option<&'static str>,
}

impl Serialize for OutMessage<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let m = self.message;
        let role = match (m.role, self.flavor) {
            (Role::Developer, Flavor::Compatible) => "system",
            (role, _) => role.as_str(),
        };
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("role", role)?;
        let parts = visible_parts(m, self.flavor);
        match parts.as_slice() {
            // An assistant turn that only calls tools has `null` content.
            [] if !m.tool_calls.is_empty() => map.serialize_entry("content", &())?,
            [(ContentPart::Text(text), None)] if text.is_empty() && !m.tool_calls.is_empty() => {
                map.serialize_entry("content", &())?;
            }
            // A failed tool call's result, marked for the model (OpenAI has no error flag).
            _ if m.tool_error => {
                map.serialize_entry("content", &format!("Error: {}", crate::util::text_of(m)))?;
            }
            // A single text part (or none) as a plain string, the form every compatible server accepts.
            [] => map.serialize_entry("content", "")?,
            [(ContentPart::Text(text), None)] => map.serialize_entry("content", text)?,
            // Richer content: an array of typed parts.
            parts => map.serialize_entry("content", &SeqOf(parts, part_view))?,
        }
        if let Some(name) = &m.name {
            map.serialize_entry("name", name)?;
        }
        if !m.tool_calls.is_empty() {
            map.serialize_entry("tool_calls", &SeqOf(&m.tool_calls, out_tool_call))?;
        }
        if let Some(id) = &m.tool_call_id {
            map.serialize_entry("tool_call_id", id)?;
        }
        if let Some(format) = self.reasoning_format.filter(|_| m.role == Role::Assistant) {
            let details = reasoning::detail_views(&m.content, format);
            if !details.is_empty() {
                map.serialize_entry("reasoning_details", &details)?;
            }
        }
        map.end()
    }
}

/// The parts a message shows an OpenAI-format server, each with the cache breakpoint that follows it
/// where the flavor passes breakpoints on (OpenRouter, as the content part's `cache_control`). Reasoning
/// is not content: it goes as OpenRouter's `reasoning_details`, or not at all.
fn visible_parts(message: &Message, flavor: Flavor) -> Vec<(&ContentPart, Option<&CacheControl>)> {
    let mut parts: Vec<(&ContentPart, Option<&CacheControl>)> =
        Vec::with_capacity(message.content.len());
    for part in &message.content {
        match part {
            ContentPart::Text(_) | ContentPart::Image { .. } | ContentPart::Document { .. } => {
                parts.push((part, None));
            }
            ContentPart::CacheBreakpoint(control) if flavor == Flavor::OpenRouter => {
                if let Some(last) = parts.last_mut() {
                    last.1 = Some(control);
                }
            }
            ContentPart::CacheBreakpoint(_)
            | ContentPart::Thinking { .. }
            | ContentPart::RedactedThinking { .. } => {}
        }
    }
    parts
}

struct Part<'a>(&'a ContentPart, Option<&'a CacheControl>);

fn part_view<'a>(entry: &'a (&'a ContentPart, Option<&'a CacheControl>)) -> Part<'a> {
    Part(entry.0, entry.1)
}

impl Serialize for Part<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match self.0 {
            ContentPart::Image { url, detail } => {
                map.serialize_entry("type", "image_url")?;
                map.serialize_entry(
                    "image_url",
                    &ImageUrl {
                        url,
                        detail: detail.as_deref(),
                    },
                )?;
            }
            ContentPart::Document { url, name } => {
                map.serialize_entry("type", "file")?;
                map.serialize_entry(
                    "file",
                    &FileData {
                        url,
                        name: name.as_deref(),
                    },
                )?;
            }
            ContentPart::Text(text) => {
                map.serialize_entry("type", "text")?;
                map.serialize_entry("text", text)?;
            }
            // Filtered out by `visible_parts`; written as empty text should one slip through.
            _ => {
                map.serialize_entry("type", "text")?;
                map.serialize_entry("text", "")?;
            }
        }
        if let Some(control) = self.1 {
            map.serialize_entry("cache_control", &crate::util::CacheControlWire(control))?;
        }
        map.end()
    }
}

/// A document as OpenAI's `file` part: inline bytes as `file_data` (a data URL), a link as `file_url`.
struct FileData<'a> {
    url: &'a str,
    name: Option<&'a str>,
}

impl Serialize for FileData<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if gaia_core::parse_data_url(self.url).is_some() {
            map.serialize_entry("file_data", self.url)?;
        } else {
            map.serialize_entry("file_url", self.url)?;
        }
        map.serialize_entry("filename", self.name.unwrap_or("document.pdf"))?;
        map.end()
    }
}

#[derive(serde::Serialize)]
struct ImageUrl<'a> {
    url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
}

fn out_tool_call(call: &ToolCall) -> OutToolCall<'_> {
    OutToolCall {
        id: &call.id,
        kind: "function",
        function: CalledFunction {
            name: &call.name,
            arguments: &call.arguments,
        },
    }
}

#[derive(serde::Serialize)]
struct OutToolCall<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: CalledFunction<'a>,
}

#[derive(serde::Serialize)]
struct CalledFunction<'a> {
    name: &'a str,
    arguments: &'a str,
}

fn out_tool(tool: &Tool) -> OutTool<'_> {
    OutTool {
        kind: "function",
        function: NamedSchema {
            name: &tool.name,
            description: tool.description.as_deref(),
            schema_key: "parameters",
            schema: tool.parameters.as_ref(),
            strict: tool.strict,
        },
    }
}

#[derive(serde::Serialize)]
struct OutTool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: NamedSchema<'a>,
}

/// A named JSON Schema: a tool's `function` (schema under `parameters`) or a response format's
/// `json_schema` (under `schema`). Absent options are left out.
struct NamedSchema<'a> {
    name: &'a str,
    description: Option<&'a str>,
    schema_key: &'static str,
    schema: Option<&'a serde_json::Value>,
    strict: Option<bool>,
}

impl Serialize for NamedSchema<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("name", self.name)?;
        if let Some(description) = self.description {
            map.serialize_entry("description", description)?;
        }
        if let Some(schema) = self.schema {
            map.serialize_entry(self.schema_key, schema)?;
        }
        if let Some(strict) = self.strict {
            map.serialize_entry("strict", &strict)?;
        }
        map.end()
    }
}

struct Choice<'a>(&'a ToolChoice);

impl Serialize for Choice<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            ToolChoice::Auto => serializer.serialize_str("auto"),
            ToolChoice::None => serializer.serialize_str("none"),
            ToolChoice::Required => serializer.serialize_str("required"),
            ToolChoice::Function(name) => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("type", "function")?;
                map.serialize_entry("function", &Named { name })?;
                map.end()
            }
        }
    }
}

#[derive(serde::Serialize)]
struct Named<'a> {
    name: &'a str,
}

struct Format<'a>(&'a ResponseFormat);

impl Serialize for Format<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        match self.0 {
            ResponseFormat::Text => map.serialize_entry("type", "text")?,
            ResponseFormat::JsonObject => map.serialize_entry("type", "json_object")?,
            ResponseFormat::JsonSchema {
                name,
                description,
                schema,
                strict,
            } => {
                map.serialize_entry("type", "json_schema")?;
                map.serialize_entry(
                    "json_schema",
                    &NamedSchema {
                        name,
                        description: description.as_deref(),
                        schema_key: "schema",
                        schema: schema.as_ref(),
                        strict: *strict,
                    },
                )?;
            }
        }
        map.end()
    }
}
