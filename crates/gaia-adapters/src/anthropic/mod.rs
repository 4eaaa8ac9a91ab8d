//! The Anthropic Messages API dialect. Outbound (to Anthropic): [`encode_request`] (or [`build_request`]
//! for a `Value`), [`parse_response`], [`AnthropicStreamDecoder`] and [`parse_error`]. Inbound (clients
//! calling `POST /v1/messages`): the [`inbound`] module.
//!
//! Where the canonical (OpenAI-shaped) request asks for something Anthropic cannot express, the choice
//! made here, and why:
//! - system and developer messages, wherever they appear, become the top-level `system` (joined by blank
//!   lines): Anthropic has no instruction turns inside the conversation;
//! - consecutive messages of the same role are merged, and tool results travel as `tool_result` blocks at
//!   the front of a user turn, because Anthropic requires alternating turns with results first;
//! - `temperature` is clamped to Anthropic's `[0, 1]` rather than scaled: 0.7 means the same thing to
//!   both, and OpenAI's hotter values have no Anthropic equivalent beyond 1;
//! - `top_p` is only sent when `temperature` is not, since newer Claude models reject both together;
//! - `n > 1` is a 422 (Anthropic generates one choice); `presence_penalty`, `frequency_penalty`, `seed`,
//!   message `name`, image `detail`, tool `strict` and `extra` have no equivalent and are dropped;
//! - `response_format` json_schema becomes a forced tool (Anthropic's native structured outputs need a beta
//!   header the provider layer would have to manage; tool use is generally available and schema-guided):
//!   one tool, [`STRUCTURED_OUTPUT_TOOL`], whose `input_schema` is the schema, with `tool_choice`
//!   `{"type":"tool","name":…}`; its `tool_use` comes back as the answer's *text* — the input as compact
//!   JSON in [`parse_response`], the `input_json_delta` fragments as text deltas in a stream — and the
//!   `tool_use` stop reason as `stop`. The name is fixed (not the schema's) so an answer is recognised
//!   without the request; it is reserved: a client tool of that name would be read back as text. The
//!   schema's name and description go into the tool's description; `strict` is dropped as for tools.
//!   The instruction below is used instead when a forced tool cannot be: the client declared tools of
//!   its own (they must stay callable, and Anthropic forces one tool or none), extended thinking is on
//!   (Anthropic refuses a forced tool with thinking), or the schema is missing or not an object schema
//!   (`input_schema` must be `"type": "object"`);
//! - `response_format` json_object (Anthropic has no schema-less JSON mode) becomes an instruction appended
//!   to `system`, the schema included for a json_schema that could not be forced;
//! - tool-call ids are made Anthropic-safe (`[A-Za-z0-9_-]`) the same way in `tool_use` and `tool_result`,
//!   so a conversation started on another provider still pairs up.

pub mod inbound;
mod stream;
mod upstream;
mod wire;

#[cfg(test)]
mod tests;

use gaia_core::{
    ChatRequest, ChatResponse, Choice, ContentPart, ErrorKind, FinishReason, GaiaError,
    ImageSource, Message, Reasoning, ResponseFormat, Role, ToolCall, ToolChoice, Usage,
};
use std::borrow::Cow;

use serde_json::{Value, json};

use crate::codec::ResponseMeta;
use crate::util::{call_arguments, invalid, malformed, text_of};
use upstream::{Block, Kind, System, ToolResultContent, Turn};

pub use stream::AnthropicStreamDecoder;

const DIALECT: &str = "Anthropic";
/// Anthropic's upper bound for `temperature`.
const MAX_TEMPERATURE: f64 = 1.0;

/// The Messages API body for `upstream_model`; `default_max_tokens` is used when the client set no
/// budget, because Anthropic requires `max_tokens`. The same document as [`encode_request`], as a `Value`.
pub fn build_request(
    request: &ChatRequest,
    upstream_model: &str,
    default_max_tokens: u32,
) -> Result<Value, GaiaError> {
    let body = body(request, upstream_model, default_max_tokens)?;
    // Cannot fail: every key is a string and every value serialisable.
    Ok(serde_json::to_value(&body).unwrap_or(Value::Null))
}

/// The fields of a Messages body that Anthropic's `POST /v1/messages/count_tokens` takes.
const COUNTED_FIELDS: [&str; 6] = [
    "model",
    "messages",
    "system",
    "tools",
    "tool_choice",
    "thinking",
];

/// The body of `POST /v1/messages/count_tokens` for `request`: the message body without the fields that
/// only shape generation (`max_tokens`, sampling, stop sequences, `stream`), which that endpoint refuses.
pub fn encode_count_tokens_request(
    request: &ChatRequest,
    upstream_model: &str,
) -> Result<Vec<u8>, GaiaError> {
    // A budget Anthropic accepts, so `thinking` is kept (it changes the count); not sent.
    let mut body = build_request(request, upstream_model, u32::MAX)?;
    if let Value::Object(map) = &mut body {
        map.retain(|key, _| COUNTED_FIELDS.contains(&key.as_str()));
    }
    serde_json::to_vec(&body)
        .map_err(|e| GaiaError::internal("could not encode the count request").with_source(e))
}

/// The `input_tokens` of a `count_tokens` answer.
pub fn parse_count_tokens(body: &[u8]) -> Option<u64> {
    serde_json::from_slice::<Value>(body)
        .ok()?
        .get("input_tokens")?
        .as_u64()
}

/// [`build_request`] written straight to bytes: message text and inline images are not copied.
pub fn encode_request(
    request: &ChatRequest,
    upstream_model: &str,
    default_max_tokens: u32,
) -> Result<Vec<u8>, GaiaError> {
    if let Some(raw) = &request.anthropic.raw
        && let Ok(Value::Object(client_body)) = serde_json::from_slice::<Value>(raw.as_bytes())
    {
        return forward(client_body, request, upstream_model, default_max_tokens);
    }
    let body = body(request, upstream_model, default_max_tokens)?;
    serde_json::to_vec(&body)
        .map_err(|e| GaiaError::internal(format!("serialising the upstream body: {e}")))
}

/// A Messages client's own body, for Anthropic (M-3c): the fewest changes — the upstream model's name,
/// `max_tokens` (lowered to the model's limit where the gateway did), `thinking` (its budget kept below
/// `max_tokens`, or left out when it cannot be) and `stream` (as the provider call needs) — and every
/// other byte of meaning as the client wrote it, fields GaiaRouter does not model included.
fn forward(
    mut body: serde_json::Map<String, Value>,
    request: &ChatRequest,
    upstream_model: &str,
    default_max_tokens: u32,
) -> Result<Vec<u8>, GaiaError> {
    let max_tokens = request.max_tokens.unwrap_or(default_max_tokens);
    body.insert("model".to_owned(), Value::String(upstream_model.to_owned()));
    body.insert("max_tokens".to_owned(), Value::from(max_tokens));
    match thinking(request, max_tokens) {
        Some(Some(budget)) => {
            if let Some(Value::Object(thinking)) = body.get_mut("thinking") {
                thinking.insert("budget_tokens".to_owned(), Value::from(budget));
            }
        }
        Some(None) => {}
        None => {
            body.remove("thinking");
        }
    }
    if request.stream {
        body.insert("stream".to_owned(), Value::Bool(true));
    } else {
        body.remove("stream");
    }
    serde_json::to_vec(&body)
        .map_err(|e| GaiaError::internal(format!("serialising the upstream body: {e}")))
}

fn body<'a>(
    request: &'a ChatRequest,
    upstream_model: &'a str,
    default_max_tokens: u32,
) -> Result<upstream::Body<'a>, GaiaError> {
    // A rule of this provider, which no schema states: 422.
    if request.n.is_some_and(|n| n > 1) {
        return Err(GaiaError::unprocessable(
            "Anthropic models return one choice per request; `n` must be 1",
        )
        .with_param("n"));
    }
    let mut system: Vec<Block<'a>> = Vec::new();
    let mut turns: Vec<Turn<'a>> = Vec::new();
    for (i, message) in request.messages.iter().enumerate() {
        match message.role {
            Role::System | Role::Developer => system.extend(content_blocks(message, i)?),
            Role::User => push_turn(&mut turns, "user", content_blocks(message, i)?),
            Role::Assistant => push_turn(&mut turns, "assistant", assistant_blocks(message, i)?),
            Role::Tool => push_turn(&mut turns, "user", vec![tool_result_block(message, i)?]),
        }
    }
    // Well-formed, yet nothing Anthropic can take: only system text, or every message empty (empty
    // messages are dropped). A rule of this provider that no schema states: 422, before any call.
    if turns.is_empty() {
        return Err(GaiaError::unprocessable(
            "Anthropic needs at least one user or assistant message with content; every message is empty or a system message",
        )
        .with_param("messages"));
    }
    let max_tokens = request.max_tokens.unwrap_or(default_max_tokens);
    let thinking = thinking(request, max_tokens);
    let thinking_on = matches!(thinking, Some(Some(_)));
    let structured = structured_tool(request, thinking_on);
    if structured.is_none()
        && let Some(note) = request.response_format.as_ref().and_then(json_instruction)
    {
        system.push(Kind::Text(Cow::Owned(note)).into());
    }
    for turn in &mut turns {
        // Anthropic wants tool results before anything else in a user turn; keep the rest in order.
        turn.blocks.sort_by_key(|block| !block.is_tool_result());
    }
    let tool_choice = if structured.is_some() {
        // One call of the one tool: the answer.
        Some(json!({
            "type": "tool",
            "name": STRUCTURED_OUTPUT_TOOL,
            "disable_parallel_tool_use": true,
        }))
    } else if request.tools.is_empty() && request.anthropic.server_tools.is_empty() {
        None
    } else {
        tool_choice(request)
    };
    Ok(upstream::Body {
        model: upstream_model,
        max_tokens,
        turns,
        system: system_prompt(system),
        // Extended thinking takes neither a temperature nor top-k (Anthropic refuses them).
        temperature: request
            .temperature
            .filter(|_| !thinking_on)
            .map(|t| t.clamp(0.0, MAX_TEMPERATURE)),
        top_p: request.top_p,
        top_k: request.top_k.filter(|_| !thinking_on),
        thinking,
        stop: &request.stop,
        user: request.user.as_deref(),
        tools: &request.tools,
        structured,
        tool_choice,
        stream: request.stream,
        extras: &request.anthropic,
    })
}

/// The smallest thinking budget Anthropic accepts.
const MIN_THINKING_BUDGET: u32 = 1_024;

/// `thinking` for the request's reasoning setting (specs/messages.md, M-14): the budget kept below
/// `max_tokens` as Anthropic requires; a budget that cannot fit (`max_tokens` ≤ 1,024) leaves the choice
/// to the model rather than failing the request.
fn thinking(request: &ChatRequest, max_tokens: u32) -> Option<Option<u32>> {
    match request.reasoning? {
        Reasoning::Off => Some(None),
        reasoning => {
            let budget = reasoning.budget()?.max(MIN_THINKING_BUDGET);
            let budget = budget.min(max_tokens.saturating_sub(1));
            (budget >= MIN_THINKING_BUDGET).then_some(Some(budget))
        }
    }
}

/// One string when no system block carries a cache breakpoint (the common case), else the blocks.
fn system_prompt(mut blocks: Vec<Block<'_>>) -> System<'_> {
    if blocks.iter().any(|block| block.cache.is_some()) {
        return System::Blocks(blocks);
    }
    let texts: Vec<Cow<'_, str>> = blocks
        .drain(..)
        .filter_map(|block| match block.kind {
            Kind::Text(text) => Some(text),
            _ => None,
        })
        .collect();
    match texts.len() {
        0 => System::None,
        1 => texts.into_iter().next().map_or(System::None, System::Text),
        _ => System::Text(Cow::Owned(texts.join("\n\n"))),
    }
}

fn push_turn<'a>(turns: &mut Vec<Turn<'a>>, role: &'static str, blocks: Vec<Block<'a>>) {
    if blocks.is_empty() {
        // Anthropic rejects empty turns; an empty message carries nothing anyway.
        return;
    }
    match turns.last_mut() {
        Some(last) if last.role == role => last.blocks.extend(blocks),
        _ => turns.push(Turn { role, blocks }),
    }
}

/// A message's content as blocks: text (empty text dropped, Anthropic rejects it), images, documents
/// and signed reasoning, each cache breakpoint set on the block before it.
fn content_blocks(message: &Message, i: usize) -> Result<Vec<Block<'_>>, GaiaError> {
    let mut blocks: Vec<Block<'_>> = Vec::with_capacity(message.content.len());
    for (j, part) in message.content.iter().enumerate() {
        let kind = match part {
            ContentPart::Text(text) if text.is_empty() => continue,
            ContentPart::Text(text) => Kind::Text(Cow::Borrowed(text)),
            ContentPart::Image { .. } => Kind::Image(media_source(part, i, j, "image_url.url")?),
            ContentPart::Document { .. } => Kind::Document(media_source(part, i, j, "file")?),
            // Only Anthropic's own signed reasoning can go back to it; other providers' is dropped.
            ContentPart::Thinking {
                text,
                signature: Some(signature),
            } if message.role == Role::Assistant => Kind::Thinking { text, signature },
            ContentPart::RedactedThinking { data } if message.role == Role::Assistant => {
                Kind::RedactedThinking(data)
            }
            ContentPart::Thinking { .. } | ContentPart::RedactedThinking { .. } => continue,
            ContentPart::CacheBreakpoint(control) => {
                if let Some(last) = blocks.last_mut() {
                    last.cache = Some(control);
                }
                continue;
            }
        };
        blocks.push(kind.into());
    }
    Ok(blocks)
}

fn media_source<'a>(
    part: &'a ContentPart,
    i: usize,
    j: usize,
    field: &str,
) -> Result<ImageSource<'a>, GaiaError> {
    match part.image_source() {
        Some(source @ ImageSource::Data(_)) => Ok(source),
        Some(ImageSource::Url(url))
            if !url
                .get(..5)
                .is_some_and(|s| s.eq_ignore_ascii_case("data:")) =>
        {
            Ok(ImageSource::Url(url))
        }
        _ => Err(invalid(
            format!("messages[{i}].content[{j}].{field}"),
            "data URLs must be base64-encoded (data:<mime>;base64,<data>)",
        )),
    }
}

/// An assistant turn: its reasoning, text and the rest in order, then its tool calls. A breakpoint
/// ending the content applies to the turn's last block, a tool call included.
fn assistant_blocks(message: &Message, i: usize) -> Result<Vec<Block<'_>>, GaiaError> {
    let mut blocks = content_blocks(message, i)?;
    let trailing = message.trailing_cache_control();
    if trailing.is_some()
        && !message.tool_calls.is_empty()
        && let Some(last) = blocks.last_mut()
    {
        last.cache = None;
    }
    for (k, call) in message.tool_calls.iter().enumerate() {
        let input = call_arguments(call, i, k)?;
        blocks.push(
            Kind::ToolUse {
                id: safe_id(&call.id),
                name: &call.name,
                input,
            }
            .into(),
        );
    }
    if let (Some(control), false) = (trailing, message.tool_calls.is_empty())
        && let Some(last) = blocks.last_mut()
    {
        last.cache = Some(control);
    }
    Ok(blocks)
}

fn tool_result_block(message: &Message, i: usize) -> Result<Block<'_>, GaiaError> {
    // Blocks when there is more than one text (or any image), so each stays its own block.
    let texts = message
        .content
        .iter()
        .filter(|part| matches!(part, ContentPart::Text(_)))
        .count();
    let content = if message.has_images() || texts > 1 {
        ToolResultContent::Blocks(content_blocks(message, i)?)
    } else {
        ToolResultContent::Text(text_of(message))
    };
    Ok(Block {
        kind: Kind::ToolResult {
            tool_use_id: safe_id(message.tool_call_id.as_deref().unwrap_or_default()),
            content,
            is_error: message.tool_error,
        },
        cache: message.trailing_cache_control(),
    })
}

/// Anthropic tool ids must match `^[a-zA-Z0-9_-]+$`; other providers' ids may not.
fn safe_id(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The tool a JSON schema is asked for through (see the module doc). Reserved: a `tool_use` of this name
/// in an answer is the answer's text.
pub const STRUCTURED_OUTPUT_TOOL: &str = "gaia_structured_output";

/// The forced tool for a `json_schema` response format, when one can be used: an object schema, no tools
/// of the client's own, no extended thinking. `None` leaves the format to [`json_instruction`].
fn structured_tool(
    request: &ChatRequest,
    thinking_on: bool,
) -> Option<upstream::StructuredTool<'_>> {
    let Some(ResponseFormat::JsonSchema {
        name,
        description,
        schema: Some(schema),
        ..
    }) = &request.response_format
    else {
        return None;
    };
    let object_schema = schema.get("type").and_then(Value::as_str) == Some("object");
    let client_tools = !request.tools.is_empty() || !request.anthropic.server_tools.is_empty();
    if !object_schema || client_tools || thinking_on {
        return None;
    }
    let mut about = format!(
        "Give your whole answer by calling this tool: its input is the answer, a JSON object \
         conforming to the schema named \"{name}\"."
    );
    if let Some(description) = description.as_deref().filter(|d| !d.is_empty()) {
        about.push(' ');
        about.push_str(description);
    }
    Some(upstream::StructuredTool {
        name: STRUCTURED_OUTPUT_TOOL,
        description: about,
        schema,
    })
}

fn json_instruction(format: &ResponseFormat) -> Option<String> {
    const ONLY: &str = "Do not write anything before or after the JSON.";
    match format {
        ResponseFormat::Text => None,
        ResponseFormat::JsonObject => {
            Some(format!("Respond with a single valid JSON object. {ONLY}"))
        }
        ResponseFormat::JsonSchema { name, schema, .. } => Some(match schema {
            Some(schema) => format!(
                "Respond with a single valid JSON object that conforms to the JSON schema named \
                 \"{name}\": {schema} {ONLY}"
            ),
            None => format!("Respond with a single valid JSON object. {ONLY}"),
        }),
    }
}

fn tool_choice(request: &ChatRequest) -> Option<Value> {
    let sequential = request.parallel_tool_calls == Some(false);
    let mut choice = match request.tool_choice.as_ref() {
        // `none` takes no further options.
        Some(ToolChoice::None) => return Some(json!({ "type": "none" })),
        Some(ToolChoice::Auto) => json!({ "type": "auto" }),
        Some(ToolChoice::Required) => json!({ "type": "any" }),
        Some(ToolChoice::Function(name)) => json!({ "type": "tool", "name": name }),
        None if sequential => json!({ "type": "auto" }),
        None => return None,
    };
    if sequential {
        choice["disable_parallel_tool_use"] = true.into();
    }
    Some(choice)
}

/// Parses a Messages API response. `meta.created` supplies the time Anthropic does not send.
pub fn parse_response(body: &[u8], meta: &ResponseMeta) -> Result<ChatResponse, GaiaError> {
    if let Some(message) = parse_error(body) {
        return Err(GaiaError::upstream(message));
    }
    let response: wire::MessageResponse =
        serde_json::from_slice(body).map_err(|err| malformed(DIALECT, "response", err))?;
    let mut text = String::new();
    let mut reasoning = Vec::new();
    let mut tool_calls = Vec::new();
    let mut structured = false;
    for block in response.content {
        match block {
            wire::Block::Text { text: part } => text.push_str(&part),
            // The forced tool of a JSON schema: its input is the answer.
            wire::Block::ToolUse { name, input, .. } if name == STRUCTURED_OUTPUT_TOOL => {
                structured = true;
                match input {
                    Value::Null => text.push_str("{}"),
                    input => text.push_str(&input.to_string()),
                }
            }
            wire::Block::ToolUse { id, name, input } => tool_calls.push(ToolCall {
                id,
                name,
                arguments: input.to_string(),
            }),
            wire::Block::Thinking {
                thinking,
                signature,
            } => reasoning.push(ContentPart::Thinking {
                text: thinking,
                signature,
            }),
            wire::Block::RedactedThinking { data } => {
                reasoning.push(ContentPart::RedactedThinking { data });
            }
            wire::Block::Other => {}
        }
    }
    let finish = response
        .stop_reason
        .as_deref()
        .map(|reason| answer_finish_reason(reason, structured && tool_calls.is_empty()));
    let mut choice = Choice::assistant(0, text, tool_calls, finish);
    // Reasoning comes first, as Anthropic wants it back on the next turn.
    choice.message.content.splice(0..0, reasoning);
    choice.stop_sequence = response.stop_sequence;
    Ok(ChatResponse {
        id: response.id.unwrap_or_else(|| meta.id.clone()),
        created: meta.created,
        model: response.model.unwrap_or_else(|| meta.model.clone()),
        choices: vec![choice],
        usage: response.usage.as_ref().map(|usage| {
            let mut counts = UsageCounts::default();
            counts.update(usage);
            counts.to_usage()
        }),
    })
}

/// Anthropic's stop reasons (unknown ones are `Stop`).
fn finish_reason(reason: &str) -> FinishReason {
    match reason {
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "refusal" => FinishReason::ContentFilter,
        // end_turn, stop_sequence, pause_turn and anything new.
        _ => FinishReason::Stop,
    }
}

/// [`finish_reason`], except that a `tool_use` stop whose only tool use was the forced tool of a JSON
/// schema (`structured_only`) is the end of a text answer: `stop`.
fn answer_finish_reason(reason: &str, structured_only: bool) -> FinishReason {
    match finish_reason(reason) {
        FinishReason::ToolCalls if structured_only => FinishReason::Stop,
        other => other,
    }
}

/// Anthropic's separate counters, kept apart until the end because `message_delta` may update any of
/// them (all cumulative).
#[derive(Debug, Default, Clone, Copy)]
struct UsageCounts {
    input: u64,
    output: u64,
    cache_read: u64,
    cache_creation: u64,
}

impl UsageCounts {
    fn update(&mut self, usage: &wire::WireUsage) {
        self.input = usage.input_tokens.unwrap_or(self.input);
        self.output = usage.output_tokens.unwrap_or(self.output);
        self.cache_read = usage.cache_read_input_tokens.unwrap_or(self.cache_read);
        self.cache_creation = usage
            .cache_creation_input_tokens
            .unwrap_or(self.cache_creation);
    }

    /// Anthropic's `input_tokens` excludes cache reads and writes; the canonical prompt count includes both.
    fn to_usage(self) -> Usage {
        let prompt = self
            .input
            .saturating_add(self.cache_read)
            .saturating_add(self.cache_creation);
        Usage {
            cached_tokens: self.cache_read,
            cache_creation_tokens: self.cache_creation,
            ..Usage::new(prompt, self.output)
        }
    }
}

/// The message of an Anthropic error body (`{"type":"error","error":{"type":…,"message":…}}`), prefixed
/// with the error type when there is one.
pub fn parse_error(body: &[u8]) -> Option<String> {
    let envelope: wire::ErrorEnvelope = serde_json::from_slice(body).ok()?;
    let error = envelope.error?;
    let message = error.message?;
    Some(match error.kind {
        Some(kind) => format!("{kind}: {message}"),
        None => message,
    })
}

/// The error kind for an Anthropic error `type`, for errors that arrive inside a stream (HTTP errors are
/// classified by status in the provider layer).
pub fn error_kind(error_type: &str) -> ErrorKind {
    match error_type {
        "invalid_request_error" => ErrorKind::InvalidRequest,
        "request_too_large" => ErrorKind::PayloadTooLarge,
        "rate_limit_error" => ErrorKind::RateLimited,
        "overloaded_error" => ErrorKind::Unavailable,
        "timeout_error" => ErrorKind::UpstreamTimeout,
        // api_error, and errors about *our* credentials or account, which are not the client's fault.
        _ => ErrorKind::Upstream,
    }
}
