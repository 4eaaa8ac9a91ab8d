//! The canonical chat request: what a client asked for, independent of any provider's wire format.
//!
//! Inbound adapters build it (validating as they go), routing and limits read it, outbound adapters turn it
//! into each provider's body. It is deliberately close to OpenAI's Chat Completions request because that is
//! the dialect most clients speak, but every field has one meaning here: `max_tokens` is the output budget
//! whatever the client called it, `stop` is always a list, and content is always a list of parts.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A chat completion request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The model id as the client wrote it (`provider/model` or an alias); routing resolves it.
    pub model: String,
    /// The conversation, oldest first. Never empty once validated.
    pub messages: Vec<Message>,
    /// Sampling temperature, validated to OpenAI's `[0, 2]`; adapters map it to narrower ranges.
    pub temperature: Option<f64>,
    /// Nucleus sampling, `[0, 1]`.
    pub top_p: Option<f64>,
    /// Sample only from the `k` likeliest tokens (Anthropic, Gemini); OpenAI-format providers have none.
    pub top_k: Option<u32>,
    /// How much the model should reason before answering, when the client said (see [`Reasoning`]).
    pub reasoning: Option<Reasoning>,
    /// The output token budget (OpenAI's `max_tokens` and `max_completion_tokens` folded together).
    pub max_tokens: Option<u32>,
    /// Stop sequences; empty when none.
    pub stop: Vec<String>,
    /// How many choices to generate.
    pub n: Option<u32>,
    pub presence_penalty: Option<f64>,
    pub frequency_penalty: Option<f64>,
    pub seed: Option<i64>,
    /// The end user's id, for the provider's abuse monitoring.
    pub user: Option<String>,
    pub response_format: Option<ResponseFormat>,
    /// Functions the model may call; empty when none.
    pub tools: Vec<Tool>,
    pub tool_choice: Option<ToolChoice>,
    pub parallel_tool_calls: Option<bool>,
    /// Whether the client wants server-sent events.
    pub stream: bool,
    /// Whether a streaming client asked for the final usage chunk (`stream_options.include_usage`).
    /// The gateway always asks upstream for usage; this only decides what the client sees.
    pub include_usage: bool,
    /// Top-level fields we do not model (`logprobs`, `reasoning_effort`, `metadata`, …), kept verbatim so
    /// OpenAI-format providers still receive them. Other dialects ignore them: their meaning is OpenAI's.
    pub extra: Map<String, Value>,
    /// What a Messages API client sent that only Anthropic understands, for Anthropic upstreams.
    #[serde(default)]
    pub anthropic: AnthropicExtras,
}

/// The parts of an Anthropic Messages request the canonical model does not hold, passed on to Anthropic
/// upstreams as they came (specs/messages.md, M-3b) so that a request to Claude loses nothing. Other
/// dialects ignore the fields and the beta header; they cannot run server tools, so a request carrying
/// any is refused when it reaches one of them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AnthropicExtras {
    /// The `anthropic-beta` header (comma-separated feature names).
    pub beta: Option<String>,
    /// The `anthropic-version` header the client sent, when it sent one.
    pub version: Option<String>,
    /// Top-level fields not modelled (`service_tier`, `context_management`, `container`, `mcp_servers`, …).
    pub fields: Map<String, Value>,
    /// Server tools (`web_search_20250305`, `code_execution_…`, …), each as the client wrote it.
    pub server_tools: Vec<Value>,
    /// The Messages body as the client sent it: an Anthropic upstream is sent this, with only the model,
    /// `max_tokens`, `thinking` and `stream` set by the gateway, so nothing the client wrote is lost —
    /// not even a field inside a block that GaiaRouter does not model (M-3c). Shared, not copied.
    #[serde(skip)]
    pub raw: Option<RawBody>,
}

/// A request body as it arrived, shared by reference count (the HTTP layer's own buffer: no copy).
#[derive(Clone)]
pub struct RawBody(std::sync::Arc<dyn AsRef<[u8]> + Send + Sync>);

impl RawBody {
    pub fn new(bytes: impl AsRef<[u8]> + Send + Sync + 'static) -> Self {
        Self(std::sync::Arc::new(bytes))
    }

    pub fn as_bytes(&self) -> &[u8] {
        (*self.0).as_ref()
    }
}

impl std::fmt::Debug for RawBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RawBody({} bytes)", self.as_bytes().len())
    }
}

impl PartialEq for RawBody {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl AnthropicExtras {
    /// The `type` of the first server tool, if there is one.
    pub fn first_server_tool(&self) -> Option<&str> {
        self.server_tools
            .first()
            .map(|tool| tool.get("type").and_then(Value::as_str).unwrap_or("?"))
    }
}

impl ChatRequest {
    /// A request with only a model and messages; everything else at its default.
    pub fn new(model: impl Into<String>, messages: Vec<Message>) -> Self {
        Self {
            model: model.into(),
            messages,
            ..Self::default()
        }
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    /// OpenAI's newer name for system instructions; other dialects treat it as `System`.
    Developer,
    User,
    Assistant,
    /// The result of a tool call, answering the assistant's call with the same `tool_call_id`.
    Tool,
}

impl Role {
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::Developer => "developer",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }

    /// Whether the message carries instructions rather than conversation (system or developer).
    pub const fn is_instruction(self) -> bool {
        matches!(self, Role::System | Role::Developer)
    }
}

/// One message of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    /// The content as parts; empty for an assistant message that only calls tools.
    pub content: Vec<ContentPart>,
    /// Optional participant name (OpenAI `name`).
    pub name: Option<String>,
    /// Calls the assistant made; only on assistant messages.
    pub tool_calls: Vec<ToolCall>,
    /// Which call a tool message answers; only on tool messages.
    pub tool_call_id: Option<String>,
    /// A tool message reporting that the call failed (Anthropic `is_error`); dialects without the flag
    /// prefix the text with `Error: `.
    pub tool_error: bool,
}

impl Message {
    /// A message holding one text part.
    pub fn text(role: Role, text: impl Into<String>) -> Self {
        Self {
            role,
            content: vec![ContentPart::Text(text.into())],
            name: None,
            tool_calls: Vec::new(),
            tool_call_id: None,
            tool_error: false,
        }
    }

    pub fn system(text: impl Into<String>) -> Self {
        Self::text(Role::System, text)
    }

    pub fn user(text: impl Into<String>) -> Self {
        Self::text(Role::User, text)
    }

    pub fn assistant(text: impl Into<String>) -> Self {
        Self::text(Role::Assistant, text)
    }

    /// A tool result answering the call `tool_call_id`.
    pub fn tool(tool_call_id: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            tool_call_id: Some(tool_call_id.into()),
            ..Self::text(Role::Tool, text)
        }
    }

    /// All text parts concatenated (images skipped). Dialects whose field is a single string use this.
    pub fn text_content(&self) -> String {
        let mut out = String::new();
        for part in &self.content {
            if let ContentPart::Text(text) = part {
                out.push_str(text);
            }
        }
        out
    }

    /// Whether any part is an image.
    pub fn has_images(&self) -> bool {
        self.content
            .iter()
            .any(|part| matches!(part, ContentPart::Image { .. }))
    }

    /// The cache breakpoint that ends this message's content, if its last part is one.
    pub fn trailing_cache_control(&self) -> Option<&CacheControl> {
        match self.content.last() {
            Some(ContentPart::CacheBreakpoint(control)) => Some(control),
            _ => None,
        }
    }
}

/// A piece of message content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentPart {
    Text(String),
    /// An image by URL: `https://…` or a base64 `data:` URL (see [`parse_data_url`]).
    Image {
        url: String,
        /// OpenAI's `low` / `high` / `auto`; other dialects ignore it.
        detail: Option<String>,
    },
    /// A document (a PDF) by URL: `https://…` or a base64 `data:` URL.
    Document {
        url: String,
        /// A title or file name, where the client gave one.
        name: Option<String>,
    },
    /// The model's reasoning from an assistant turn, sent back so the provider can continue it.
    /// `signature` is the provider's opaque proof (Anthropic `signature`), passed on byte for byte.
    Thinking {
        text: String,
        signature: Option<String>,
    },
    /// Reasoning the provider returned encrypted (Anthropic `redacted_thinking`), passed on untouched.
    RedactedThinking {
        data: String,
    },
    /// A prompt-cache breakpoint: the prompt up to and including the part before it may be cached
    /// (Anthropic `cache_control`). A marker rather than a field so every other part stays as it is;
    /// dialects without explicit caching skip it.
    CacheBreakpoint(CacheControl),
}

/// Anthropic's `cache_control` (`{"type":"ephemeral","ttl":"5m"|"1h"}`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CacheControl {
    /// `5m` or `1h`; `None` for the provider's default.
    pub ttl: Option<String>,
}

/// How much a reasoning model should think: one scale for every dialect (specs/messages.md, M-14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reasoning {
    /// No reasoning, where the model allows turning it off.
    Off,
    /// An effort level (OpenAI `reasoning_effort`).
    Effort(ReasoningEffort),
    /// A token budget (Anthropic `thinking.budget_tokens`, Gemini `thinkingBudget`).
    Budget(u32),
}

/// OpenAI's reasoning effort levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasoningEffort {
    Minimal,
    Low,
    Medium,
    High,
}

impl ReasoningEffort {
    /// The levels with their budgets, smallest first.
    const BUDGETS: [(ReasoningEffort, u32); 4] = [
        (ReasoningEffort::Minimal, 1_024),
        (ReasoningEffort::Low, 2_048),
        (ReasoningEffort::Medium, 8_192),
        (ReasoningEffort::High, 24_576),
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ReasoningEffort::Minimal => "minimal",
            ReasoningEffort::Low => "low",
            ReasoningEffort::Medium => "medium",
            ReasoningEffort::High => "high",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::BUDGETS
            .iter()
            .map(|(effort, _)| *effort)
            .find(|effort| effort.as_str() == s)
    }

    /// The thinking budget this effort stands for.
    pub fn budget(self) -> u32 {
        Self::BUDGETS
            .iter()
            .find(|(effort, _)| *effort == self)
            .map_or(1_024, |(_, budget)| *budget)
    }

    /// The largest effort whose budget is at most `budget` (`Minimal` below every budget).
    pub fn for_budget(budget: u32) -> Self {
        Self::BUDGETS
            .iter()
            .rev()
            .find(|(_, b)| *b <= budget)
            .map_or(ReasoningEffort::Minimal, |(effort, _)| *effort)
    }
}

impl Reasoning {
    /// The effort level, whichever way the client said it; `None` when reasoning is off.
    pub fn effort(self) -> Option<ReasoningEffort> {
        match self {
            Reasoning::Off => None,
            Reasoning::Effort(effort) => Some(effort),
            Reasoning::Budget(budget) => Some(ReasoningEffort::for_budget(budget)),
        }
    }

    /// The token budget, whichever way the client said it; `None` when reasoning is off.
    pub fn budget(self) -> Option<u32> {
        match self {
            Reasoning::Off => None,
            Reasoning::Effort(effort) => Some(effort.budget()),
            Reasoning::Budget(budget) => Some(budget),
        }
    }
}

impl ContentPart {
    /// Where an image's or a document's bytes come from, or `None` for other parts.
    pub fn image_source(&self) -> Option<ImageSource<'_>> {
        match self {
            ContentPart::Image { url, .. } | ContentPart::Document { url, .. } => {
                Some(match parse_data_url(url) {
                    Some(data) => ImageSource::Data(data),
                    None => ImageSource::Url(url),
                })
            }
            _ => None,
        }
    }
}

/// An image's origin, as the dialects that distinguish inline bytes from links need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageSource<'a> {
    /// Inline base64 bytes from a `data:` URL.
    Data(DataUrl<'a>),
    /// Anything else: a link the provider fetches (or a malformed `data:` URL the provider will reject).
    Url(&'a str),
}

/// The parts of a base64 `data:` URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataUrl<'a> {
    /// The media type as the client wrote it, e.g. `image/png`.
    pub mime: &'a str,
    /// The base64 payload, untouched.
    pub data: &'a str,
}

/// Parses `data:<mime>[;param…];base64,<data>`.
///
/// Returns `None` for anything that is not a base64 data URL with a non-empty media type and payload:
/// providers that take inline images all want base64, so a percent-encoded data URL is not usable.
pub fn parse_data_url(url: &str) -> Option<DataUrl<'_>> {
    if !url.get(..5)?.eq_ignore_ascii_case("data:") {
        return None;
    }
    let rest = url.get(5..)?;
    let (meta, data) = rest.split_once(',')?;
    let mut params = meta.split(';');
    let mime = params.next()?.trim();
    let is_base64 = params.any(|p| p.trim().eq_ignore_ascii_case("base64"));
    if mime.is_empty() || data.is_empty() || !is_base64 || !mime.contains('/') {
        return None;
    }
    Some(DataUrl { mime, data })
}

/// A tool call the assistant made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    /// The function's name.
    pub name: String,
    /// The arguments as a JSON text, exactly as the model produced them (OpenAI keeps them a string
    /// because models can emit invalid JSON; adapters that need an object parse it and reject bad JSON).
    pub arguments: String,
}

/// A function the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub description: Option<String>,
    /// JSON Schema of the arguments object; `None` for a function without parameters.
    pub parameters: Option<Value>,
    /// OpenAI structured-outputs strictness; other dialects ignore it.
    pub strict: Option<bool>,
    /// A prompt-cache breakpoint after this tool's definition (Anthropic); other dialects ignore it.
    #[serde(default)]
    pub cache_control: Option<CacheControl>,
}

/// Whether and which tool the model must call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolChoice {
    /// The model decides.
    Auto,
    /// The model must not call tools.
    None,
    /// The model must call at least one tool.
    Required,
    /// The model must call this function.
    Function(String),
}

/// The output format the client asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseFormat {
    Text,
    /// Any valid JSON object.
    JsonObject,
    /// JSON conforming to a schema.
    JsonSchema {
        name: String,
        description: Option<String>,
        /// The JSON Schema; `None` when the client sent none (then it is just "some JSON").
        schema: Option<Value>,
        strict: Option<bool>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_data_urls_split_into_media_type_and_payload() {
        let parsed = parse_data_url("data:image/png;base64,iVBORw0KGgo=").unwrap();
        assert_eq!(parsed.mime, "image/png");
        assert_eq!(parsed.data, "iVBORw0KGgo=");

        let with_params = parse_data_url("DATA:image/jpeg;charset=x;base64,/9j/").unwrap();
        assert_eq!(with_params.mime, "image/jpeg");
        assert_eq!(with_params.data, "/9j/");
    }

    #[test]
    fn non_base64_or_incomplete_data_urls_are_not_parsed() {
        for url in [
            "https://example.com/cat.png",
            "data:image/png,rawbytes",
            "data:;base64,AAAA",
            "data:image/png;base64,",
            "data:png;base64,AAAA",
            "data:",
            "dat",
            "",
        ] {
            assert_eq!(parse_data_url(url), None, "{url}");
        }
    }

    #[test]
    fn image_parts_report_whether_they_are_inline_or_linked() {
        let inline = ContentPart::Image {
            url: "data:image/webp;base64,UklGR".into(),
            detail: None,
        };
        let linked = ContentPart::Image {
            url: "https://example.com/a.jpg".into(),
            detail: Some("low".into()),
        };
        assert_eq!(
            inline.image_source(),
            Some(ImageSource::Data(DataUrl {
                mime: "image/webp",
                data: "UklGR"
            }))
        );
        assert_eq!(
            linked.image_source(),
            Some(ImageSource::Url("https://example.com/a.jpg"))
        );
        assert_eq!(ContentPart::Text("x".into()).image_source(), None);
    }

    #[test]
    fn text_content_concatenates_text_parts_and_skips_images() {
        let message = Message {
            content: vec![
                ContentPart::Text("a".into()),
                ContentPart::Image {
                    url: "https://x/y.png".into(),
                    detail: None,
                },
                ContentPart::Text("b".into()),
            ],
            ..Message::user("")
        };
        assert_eq!(message.text_content(), "ab");
        assert!(message.has_images());
        assert!(!Message::user("hi").has_images());
    }

    #[test]
    fn tool_messages_carry_the_call_id_they_answer() {
        let message = Message::tool("call_1", "42");
        assert_eq!(message.role, Role::Tool);
        assert_eq!(message.tool_call_id.as_deref(), Some("call_1"));
        assert_eq!(message.text_content(), "42");
    }

    #[test]
    fn instruction_roles_are_system_and_developer() {
        assert!(Role::System.is_instruction());
        assert!(Role::Developer.is_instruction());
        assert!(!Role::User.is_instruction());
        assert_eq!(Role::Developer.as_str(), "developer");
    }

    #[test]
    fn requests_round_trip_through_serde() {
        let mut request = ChatRequest::new("openai/gpt-4o-mini", vec![Message::user("hi")]);
        request.tool_choice = Some(ToolChoice::Function("f".into()));
        request.response_format = Some(ResponseFormat::JsonObject);
        let json = serde_json::to_string(&request).unwrap();
        let back: ChatRequest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, request);
    }
}
