//! A Messages API request body → [`ChatRequest`], validated (specs/messages.md, M-3 and M-4).
//!
//! Parsed from a `serde_json::Value`, like the OpenAI parser, so every refusal names its field the way
//! Anthropic does (`messages.1.content.0.source.media_type`). Anthropic-only top-level fields the
//! canonical request cannot hold (`service_tier`, `container`, …) and server tools go to
//! [`ChatRequest::anthropic`] (M-3b), not to [`ChatRequest::extra`], which has OpenAI's meaning; the handler
//! adds the raw body there too, which Anthropic upstreams are sent (M-3c).

use gaia_core::{
    AnthropicExtras, CacheControl, ChatRequest, ContentPart, GaiaError, Message, Reasoning, Role,
    Tool, ToolCall, ToolChoice,
};
use serde_json::{Map, Value};

use crate::fields::{
    body_object, expect_array, expect_object, missing, opt_bool_at, opt_f64, opt_string_at,
    opt_u32, required_string, take, type_error,
};
use crate::util::{invalid, is_http_url, parse_cache_control};

/// The smallest thinking budget Anthropic accepts.
const MIN_THINKING_BUDGET: u32 = 1_024;

/// Parses a `POST /v1/messages` body.
pub fn parse_request(body: &[u8]) -> Result<ChatRequest, GaiaError> {
    parse(body, true)
}

/// Parses a `POST /v1/messages/count_tokens` body: the same fields, `max_tokens` not required.
pub fn parse_count_tokens_request(body: &[u8]) -> Result<ChatRequest, GaiaError> {
    parse(body, false)
}

fn parse(body: &[u8], require_max_tokens: bool) -> Result<ChatRequest, GaiaError> {
    let mut obj = body_object(body)?;
    let model = match take(&mut obj, "model") {
        Some(Value::String(model)) if !model.trim().is_empty() => model,
        Some(Value::String(_)) | None => return Err(missing("model")),
        Some(other) => return Err(type_error("model", "a string", &other)),
    };
    let max_tokens = opt_u32(&mut obj, "max_tokens", 1)?;
    if require_max_tokens && max_tokens.is_none() {
        return Err(missing("max_tokens"));
    }
    let mut messages = match take(&mut obj, "system") {
        Some(system) => vec![parse_system(system)?],
        None => Vec::new(),
    };
    parse_messages(take(&mut obj, "messages"), &mut messages)?;
    let (tools, server_tools) = match take(&mut obj, "tools") {
        Some(value) => parse_tools(value)?,
        None => (Vec::new(), Vec::new()),
    };
    let (tool_choice, parallel_tool_calls) = match take(&mut obj, "tool_choice") {
        Some(value) => parse_tool_choice(value, &tools, &server_tools)?,
        None => (None, None),
    };
    let reasoning = match take(&mut obj, "thinking") {
        Some(value) => parse_thinking(value, max_tokens)?,
        None => None,
    };
    let mut request = ChatRequest {
        model,
        messages,
        temperature: opt_f64(&mut obj, "temperature", 0.0, 1.0)?,
        top_p: opt_f64(&mut obj, "top_p", 0.0, 1.0)?,
        top_k: opt_u32(&mut obj, "top_k", 0)?,
        reasoning,
        max_tokens,
        stop: parse_stop_sequences(take(&mut obj, "stop_sequences"))?,
        user: parse_metadata(take(&mut obj, "metadata"))?,
        tools,
        tool_choice,
        parallel_tool_calls,
        stream: opt_bool_at(&mut obj, "stream", "stream")?.unwrap_or(false),
        // The Messages API always reports usage in its stream.
        include_usage: true,
        ..ChatRequest::default()
    };
    // What is left is Anthropic's alone: kept for Anthropic upstreams (M-3b).
    request.anthropic = AnthropicExtras {
        beta: None,
        version: None,
        fields: obj,
        server_tools,
        raw: None,
    };
    Ok(request)
}

/// `system`: a string or a list of text blocks (each may carry `cache_control`).
fn parse_system(value: Value) -> Result<Message, GaiaError> {
    let content = match value {
        Value::String(text) => vec![ContentPart::Text(text)],
        Value::Array(blocks) => {
            let mut parts = Vec::with_capacity(blocks.len());
            for (j, block) in blocks.into_iter().enumerate() {
                let path = format!("system.{j}");
                let mut block = expect_object(block, &path)?;
                let cache = take_cache_control(&mut block, &path)?;
                let kind = required_string(&mut block, "type", &format!("{path}.type"))?;
                if kind != "text" {
                    return Err(invalid(
                        format!("{path}.type"),
                        format!("system blocks must be text blocks, not '{kind}'"),
                    ));
                }
                parts.push(ContentPart::Text(required_string(
                    &mut block,
                    "text",
                    &format!("{path}.text"),
                )?));
                parts.extend(cache.map(ContentPart::CacheBreakpoint));
            }
            parts
        }
        other => {
            return Err(type_error(
                "system",
                "a string or a list of text blocks",
                &other,
            ));
        }
    };
    Ok(Message {
        content,
        ..Message::system("")
    })
}

/// `messages`, appended to `out`. A user turn's `tool_result` blocks become tool messages (the canonical
/// form), the rest of the turn a user message, in their order.
fn parse_messages(value: Option<Value>, out: &mut Vec<Message>) -> Result<(), GaiaError> {
    let items = expect_array(value.ok_or_else(|| missing("messages"))?, "messages")?;
    if items.is_empty() {
        return Err(invalid(
            "messages",
            "`messages` must contain at least one message",
        ));
    }
    for (i, item) in items.into_iter().enumerate() {
        let path = format!("messages.{i}");
        let mut obj = expect_object(item, &path)?;
        let role = required_string(&mut obj, "role", &format!("{path}.role"))?;
        let content = match take(&mut obj, "content") {
            Some(Value::String(text)) => {
                let role = parse_role(&role, &path)?;
                out.push(Message::text(role, text));
                continue;
            }
            Some(Value::Array(blocks)) => blocks,
            Some(other) => {
                return Err(type_error(
                    &format!("{path}.content"),
                    "a string or a list of content blocks",
                    &other,
                ));
            }
            None => return Err(missing(format!("{path}.content"))),
        };
        match parse_role(&role, &path)? {
            Role::Assistant => out.push(assistant_message(content, &path)?),
            _ => user_messages(content, &path, out)?,
        }
    }
    Ok(())
}

fn parse_role(role: &str, path: &str) -> Result<Role, GaiaError> {
    match role {
        "user" => Ok(Role::User),
        "assistant" => Ok(Role::Assistant),
        other => Err(invalid(
            format!("{path}.role"),
            format!("role must be 'user' or 'assistant', not '{other}'"),
        )),
    }
}

/// One content block, its type and `cache_control` taken out.
struct RawBlock {
    kind: String,
    fields: Map<String, Value>,
    cache: Option<CacheControl>,
    path: String,
}

fn raw_block(value: Value, path: String) -> Result<RawBlock, GaiaError> {
    let mut fields = expect_object(value, &path)?;
    let cache = take_cache_control(&mut fields, &path)?;
    let kind = required_string(&mut fields, "type", &format!("{path}.type"))?;
    Ok(RawBlock {
        kind,
        fields,
        cache,
        path,
    })
}

fn take_cache_control(
    obj: &mut Map<String, Value>,
    path: &str,
) -> Result<Option<CacheControl>, GaiaError> {
    take(obj, "cache_control")
        .map(|value| parse_cache_control(value, &format!("{path}.cache_control")))
        .transpose()
}

fn user_messages(blocks: Vec<Value>, path: &str, out: &mut Vec<Message>) -> Result<(), GaiaError> {
    let mut pending: Vec<ContentPart> = Vec::new();
    for (j, block) in blocks.into_iter().enumerate() {
        let mut block = raw_block(block, format!("{path}.content.{j}"))?;
        if block.kind == "tool_result" {
            if !pending.is_empty() {
                out.push(user_message(std::mem::take(&mut pending)));
            }
            out.push(tool_result(&mut block)?);
            continue;
        }
        pending.push(media_or_text(&mut block)?);
        pending.extend(block.cache.map(ContentPart::CacheBreakpoint));
    }
    if !pending.is_empty() {
        out.push(user_message(pending));
    }
    Ok(())
}

fn user_message(content: Vec<ContentPart>) -> Message {
    Message {
        content,
        ..Message::user("")
    }
}

/// A `text`, `image` or `document` block.
fn media_or_text(block: &mut RawBlock) -> Result<ContentPart, GaiaError> {
    let path = &block.path;
    match block.kind.as_str() {
        "text" => Ok(ContentPart::Text(required_string(
            &mut block.fields,
            "text",
            &format!("{path}.text"),
        )?)),
        "image" => Ok(ContentPart::Image {
            url: source_url(&mut block.fields, path, "image/")?,
            detail: None,
        }),
        "document" => document(block),
        other => Err(unsupported_block(path, other)),
    }
}

fn unsupported_block(path: &str, kind: &str) -> GaiaError {
    invalid(
        format!("{path}.type"),
        format!("content block type '{kind}' is not supported here"),
    )
}

/// A document: a base64 PDF or a link become a document part; a plain-text source becomes text.
fn document(block: &mut RawBlock) -> Result<ContentPart, GaiaError> {
    let path = block.path.clone();
    let name = opt_string_at(&mut block.fields, "title", &format!("{path}.title"))?;
    let source_path = format!("{path}.source");
    let Some(source) = block.fields.get("source") else {
        return Err(missing(source_path));
    };
    if source.get("type").and_then(Value::as_str) == Some("text") {
        let data = source.get("data").and_then(Value::as_str).ok_or_else(|| {
            invalid(
                format!("{source_path}.data"),
                "a text source needs its `data`",
            )
        })?;
        return Ok(ContentPart::Text(data.to_owned()));
    }
    Ok(ContentPart::Document {
        url: source_url(&mut block.fields, &path, "application/pdf")?,
        name,
    })
}

/// A `source` (`base64` with `media_type` and `data`, or `url`) as a URL: `data:` or the link.
fn source_url(
    fields: &mut Map<String, Value>,
    path: &str,
    media_prefix: &str,
) -> Result<String, GaiaError> {
    let source_path = format!("{path}.source");
    let mut source = match take(fields, "source") {
        Some(value) => expect_object(value, &source_path)?,
        None => return Err(missing(source_path)),
    };
    let kind = required_string(&mut source, "type", &format!("{source_path}.type"))?;
    match kind.as_str() {
        "base64" => {
            let media_path = format!("{source_path}.media_type");
            let media = required_string(&mut source, "media_type", &media_path)?;
            if !media.starts_with(media_prefix) || media.contains([';', ',']) {
                return Err(invalid(
                    media_path,
                    format!("`media_type` must be {media_prefix}…, not '{media}'"),
                ));
            }
            let data_path = format!("{source_path}.data");
            let data = required_string(&mut source, "data", &data_path)?;
            // No bytes is no image: every provider would refuse the empty data URL.
            if data.is_empty() {
                return Err(invalid(data_path, "`data` must not be empty"));
            }
            Ok(format!("data:{media};base64,{data}"))
        }
        "url" => {
            let url_path = format!("{source_path}.url");
            let url = required_string(&mut source, "url", &url_path)?;
            if !is_http_url(&url) {
                return Err(invalid(url_path, "the source URL must be an http(s) URL"));
            }
            Ok(url)
        }
        other => Err(invalid(
            format!("{source_path}.type"),
            format!("source type '{other}' is not supported; use 'base64' or 'url'"),
        )),
    }
}

/// A `tool_result` block as a tool message: string or block content, `is_error`.
fn tool_result(block: &mut RawBlock) -> Result<Message, GaiaError> {
    let path = block.path.clone();
    let id = required_string(
        &mut block.fields,
        "tool_use_id",
        &format!("{path}.tool_use_id"),
    )?;
    let is_error = opt_bool_at(&mut block.fields, "is_error", &format!("{path}.is_error"))?;
    let mut content = match take(&mut block.fields, "content") {
        None => Vec::new(),
        Some(Value::String(text)) => vec![ContentPart::Text(text)],
        Some(Value::Array(inner)) => {
            let mut parts = Vec::with_capacity(inner.len());
            for (k, item) in inner.into_iter().enumerate() {
                let mut inner = raw_block(item, format!("{path}.content.{k}"))?;
                parts.push(media_or_text(&mut inner)?);
                parts.extend(inner.cache.map(ContentPart::CacheBreakpoint));
            }
            parts
        }
        Some(other) => {
            return Err(type_error(
                &format!("{path}.content"),
                "a string or a list of content blocks",
                &other,
            ));
        }
    };
    content.extend(block.cache.take().map(ContentPart::CacheBreakpoint));
    Ok(Message {
        content,
        tool_error: is_error.unwrap_or(false),
        ..Message::tool(id, "")
    })
}

/// An assistant turn: reasoning, text and tool calls; a cache breakpoint on a tool call ends the turn.
fn assistant_message(blocks: Vec<Value>, path: &str) -> Result<Message, GaiaError> {
    let mut content = Vec::with_capacity(blocks.len());
    let mut tool_calls = Vec::new();
    let mut trailing_cache = None;
    for (j, block) in blocks.into_iter().enumerate() {
        let mut block = raw_block(block, format!("{path}.content.{j}"))?;
        let p = block.path.clone();
        let part = match block.kind.as_str() {
            "text" => ContentPart::Text(required_string(
                &mut block.fields,
                "text",
                &format!("{p}.text"),
            )?),
            "thinking" => ContentPart::Thinking {
                text: required_string(&mut block.fields, "thinking", &format!("{p}.thinking"))?,
                // A block that came from a provider without signatures is sent back with an empty one.
                signature: opt_string_at(
                    &mut block.fields,
                    "signature",
                    &format!("{p}.signature"),
                )?
                .filter(|s| !s.is_empty()),
            },
            "redacted_thinking" => ContentPart::RedactedThinking {
                data: required_string(&mut block.fields, "data", &format!("{p}.data"))?,
            },
            "tool_use" => {
                tool_calls.push(tool_use(&mut block)?);
                trailing_cache = block.cache.take().or(trailing_cache);
                continue;
            }
            other => return Err(unsupported_block(&p, other)),
        };
        content.push(part);
        content.extend(block.cache.map(ContentPart::CacheBreakpoint));
    }
    content.extend(trailing_cache.map(ContentPart::CacheBreakpoint));
    Ok(Message {
        content,
        tool_calls,
        ..Message::assistant("")
    })
}

fn tool_use(block: &mut RawBlock) -> Result<ToolCall, GaiaError> {
    let p = &block.path;
    let id = required_string(&mut block.fields, "id", &format!("{p}.id"))?;
    let name = required_string(&mut block.fields, "name", &format!("{p}.name"))?;
    let arguments = match take(&mut block.fields, "input") {
        Some(input @ Value::Object(_)) => input.to_string(),
        None => "{}".to_owned(),
        Some(other) => return Err(type_error(&format!("{p}.input"), "an object", &other)),
    };
    Ok(ToolCall {
        id,
        name,
        arguments,
    })
}

/// `tools`: custom tools (`name`, `description`, `input_schema`), and apart, as they came, Anthropic's
/// server tools (a `type` such as `web_search_20250305`), which only Anthropic runs.
fn parse_tools(value: Value) -> Result<(Vec<Tool>, Vec<Value>), GaiaError> {
    let items = expect_array(value, "tools")?;
    let mut tools = Vec::with_capacity(items.len());
    let mut server_tools = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let path = format!("tools.{i}");
        let kind = match item.get("type") {
            None | Some(Value::Null) => None,
            Some(Value::String(kind)) => Some(kind.as_str()),
            Some(other) => return Err(type_error(&format!("{path}.type"), "a string", other)),
        };
        if kind.is_some_and(|kind| kind != "custom") {
            server_tools.push(item);
            continue;
        }
        let mut obj = expect_object(item, &path)?;
        obj.remove("type");
        let cache_control = take_cache_control(&mut obj, &path)?;
        let name = required_string(&mut obj, "name", &format!("{path}.name"))?;
        let valid = !name.is_empty()
            && name.len() <= 128
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(invalid(
                format!("{path}.name"),
                "tool names are 1 to 128 characters of letters, digits, '_' and '-'",
            ));
        }
        let schema_path = format!("{path}.input_schema");
        let parameters = match take(&mut obj, "input_schema") {
            Some(schema @ Value::Object(_)) => schema,
            Some(other) => return Err(type_error(&schema_path, "an object", &other)),
            None => return Err(missing(schema_path)),
        };
        tools.push(Tool {
            name,
            description: opt_string_at(&mut obj, "description", &format!("{path}.description"))?,
            parameters: Some(parameters),
            strict: None,
            cache_control,
        });
    }
    Ok((tools, server_tools))
}

/// `tool_choice` and its `disable_parallel_tool_use` (→ `parallel_tool_calls: false`).
fn parse_tool_choice(
    value: Value,
    tools: &[Tool],
    server_tools: &[Value],
) -> Result<(Option<ToolChoice>, Option<bool>), GaiaError> {
    let mut obj = expect_object(value, "tool_choice")?;
    let kind = required_string(&mut obj, "type", "tool_choice.type")?;
    let disable_parallel = opt_bool_at(
        &mut obj,
        "disable_parallel_tool_use",
        "tool_choice.disable_parallel_tool_use",
    )?;
    let choice = match kind.as_str() {
        "auto" => ToolChoice::Auto,
        "any" => ToolChoice::Required,
        "none" => ToolChoice::None,
        "tool" => {
            let name = required_string(&mut obj, "name", "tool_choice.name")?;
            let declared = tools.iter().any(|tool| tool.name == name)
                || server_tools
                    .iter()
                    .any(|tool| tool.get("name").and_then(Value::as_str) == Some(name.as_str()));
            // Well-formed, but naming a tool the request does not declare: a rule no schema states (422).
            if !declared {
                return Err(GaiaError::unprocessable(format!(
                    "tool_choice names '{name}', which is not in `tools`"
                ))
                .with_param("tool_choice.name"));
            }
            ToolChoice::Function(name)
        }
        other => {
            return Err(invalid(
                "tool_choice.type",
                format!("tool_choice type must be 'auto', 'any', 'tool' or 'none', not '{other}'"),
            ));
        }
    };
    Ok((Some(choice), disable_parallel.filter(|d| *d).map(|_| false)))
}

/// `thinking`: `enabled` with a `budget_tokens` of at least 1,024 and below `max_tokens`, or `disabled`.
fn parse_thinking(value: Value, max_tokens: Option<u32>) -> Result<Option<Reasoning>, GaiaError> {
    let mut obj = expect_object(value, "thinking")?;
    let kind = required_string(&mut obj, "type", "thinking.type")?;
    match kind.as_str() {
        "disabled" => Ok(Some(Reasoning::Off)),
        "enabled" => {
            let budget = opt_u32(&mut obj, "budget_tokens", MIN_THINKING_BUDGET)
                .map_err(|e| e.with_param("thinking.budget_tokens"))?
                .ok_or_else(|| missing("thinking.budget_tokens"))?;
            // A relation between two fields, which no schema states: 422, as for the model's limits.
            if max_tokens.is_some_and(|max| budget >= max) {
                return Err(GaiaError::unprocessable(
                    "`max_tokens` must be greater than `thinking.budget_tokens`",
                )
                .with_param("thinking.budget_tokens"));
            }
            Ok(Some(Reasoning::Budget(budget)))
        }
        other => Err(invalid(
            "thinking.type",
            format!("thinking type must be 'enabled' or 'disabled', not '{other}'"),
        )),
    }
}

fn parse_stop_sequences(value: Option<Value>) -> Result<Vec<String>, GaiaError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    expect_array(value, "stop_sequences")?
        .into_iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::String(stop) => Ok(stop),
            other => Err(type_error(
                &format!("stop_sequences.{i}"),
                "a string",
                &other,
            )),
        })
        .collect()
}

/// `metadata.user_id`, the end user's id.
fn parse_metadata(value: Option<Value>) -> Result<Option<String>, GaiaError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let mut obj = expect_object(value, "metadata")?;
    opt_string_at(&mut obj, "user_id", "metadata.user_id")
}
