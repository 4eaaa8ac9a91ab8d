//! The OpenAI Chat Completions dialect: both the gateway's inbound API and the outbound format of OpenAI
//! and every OpenAI-compatible provider (OpenRouter, DeepSeek, Groq, vLLM, …).
//!
//! - inbound: [`parse_request`] (validated) and [`encode_response`] / [`OpenAiStreamEncoder`];
//! - outbound: [`build_request`] (OpenAI itself) or [`build_compatible_request`] (third-party servers),
//!   then [`parse_response`] / [`OpenAiStreamDecoder`], and [`parse_error`] for error bodies.

mod out;
mod request;
mod stream;
mod wire;

#[cfg(test)]
mod tests;

use gaia_core::{
    ChatRequest, ChatResponse, Choice, ContentPart, FinishReason, GaiaError, Message,
    ResponseFormat, Role, ToolCall, ToolChoice, Usage,
};
use serde_json::{Map, Value, json};

use crate::codec::ResponseMeta;
use crate::util::malformed;

pub use request::parse_request;
pub use stream::{OpenAiStreamDecoder, OpenAiStreamEncoder};

const DIALECT: &str = "OpenAI";

/// The request body for OpenAI itself.
///
/// Sends `max_completion_tokens` (OpenAI's reasoning models reject the deprecated `max_tokens`) and keeps
/// the `developer` role. `extra` fields are passed through; canonical fields win over them. Streaming
/// requests always ask for usage (`stream_options.include_usage`): the gateway meters every request,
/// whatever the client asked for.
pub fn build_request(request: &ChatRequest, upstream_model: &str) -> Value {
    build(request, upstream_model, Flavor::OpenAi)
}

/// The request body for third-party OpenAI-compatible servers.
///
/// Same as [`build_request`] but with the widely supported `max_tokens` and `developer` messages sent as
/// `system`, because many compatible servers know neither `max_completion_tokens` nor `developer`.
pub fn build_compatible_request(request: &ChatRequest, upstream_model: &str) -> Value {
    build(request, upstream_model, Flavor::Compatible)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    OpenAi,
    Compatible,
}

fn build(request: &ChatRequest, upstream_model: &str, flavor: Flavor) -> Value {
    let mut body: Map<String, Value> = request.extra.clone();
    body.insert("model".into(), upstream_model.into());
    body.insert(
        "messages".into(),
        request
            .messages
            .iter()
            .map(|message| encode_message(message, flavor))
            .collect(),
    );
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            body.insert(key.to_owned(), value);
        }
    };
    put("temperature", request.temperature.map(Value::from));
    put("top_p", request.top_p.map(Value::from));
    let max_tokens_key = match flavor {
        Flavor::OpenAi => "max_completion_tokens",
        Flavor::Compatible => "max_tokens",
    };
    put(max_tokens_key, request.max_tokens.map(Value::from));
    put(
        "stop",
        (!request.stop.is_empty()).then(|| Value::from(request.stop.clone())),
    );
    put("n", request.n.map(Value::from));
    put(
        "presence_penalty",
        request.presence_penalty.map(Value::from),
    );
    put(
        "frequency_penalty",
        request.frequency_penalty.map(Value::from),
    );
    put("seed", request.seed.map(Value::from));
    put("user", request.user.clone().map(Value::from));
    put(
        "response_format",
        request.response_format.as_ref().map(encode_response_format),
    );
    if !request.tools.is_empty() {
        put(
            "tools",
            Some(request.tools.iter().map(encode_tool).collect()),
        );
        put(
            "tool_choice",
            request.tool_choice.as_ref().map(encode_tool_choice),
        );
        // OpenAI rejects `parallel_tool_calls` without tools.
        put(
            "parallel_tool_calls",
            request.parallel_tool_calls.map(Value::from),
        );
    }
    if request.stream {
        put("stream", Some(Value::Bool(true)));
        put("stream_options", Some(json!({ "include_usage": true })));
    } else {
        body.remove("stream");
        body.remove("stream_options");
    }
    Value::Object(body)
}

fn encode_message(message: &Message, flavor: Flavor) -> Value {
    let role = match (message.role, flavor) {
        (Role::Developer, Flavor::Compatible) => "system",
        (role, _) => role.as_str(),
    };
    let mut out = Map::new();
    out.insert("role".into(), role.into());
    let content = encode_content(&message.content);
    let content = match content {
        // An assistant turn that only calls tools has `null` content.
        Value::String(text) if text.is_empty() && !message.tool_calls.is_empty() => Value::Null,
        other => other,
    };
    out.insert("content".into(), content);
    if let Some(name) = &message.name {
        out.insert("name".into(), name.clone().into());
    }
    if !message.tool_calls.is_empty() {
        out.insert(
            "tool_calls".into(),
            message.tool_calls.iter().map(encode_tool_call).collect(),
        );
    }
    if let Some(id) = &message.tool_call_id {
        out.insert("tool_call_id".into(), id.clone().into());
    }
    Value::Object(out)
}

/// A single text part (or none) as a plain string, the form every compatible server accepts; anything
/// richer as an array of parts.
fn encode_content(parts: &[ContentPart]) -> Value {
    match parts {
        [] => Value::String(String::new()),
        [ContentPart::Text(text)] => Value::String(text.clone()),
        parts => parts
            .iter()
            .map(|part| match part {
                ContentPart::Text(text) => json!({ "type": "text", "text": text }),
                ContentPart::Image { url, detail } => {
                    let mut image = json!({ "url": url });
                    if let Some(detail) = detail {
                        image["detail"] = detail.clone().into();
                    }
                    json!({ "type": "image_url", "image_url": image })
                }
            })
            .collect(),
    }
}

fn encode_tool_call(call: &ToolCall) -> Value {
    json!({
        "id": call.id,
        "type": "function",
        "function": { "name": call.name, "arguments": call.arguments },
    })
}

fn encode_tool(tool: &gaia_core::Tool) -> Value {
    let mut function = Map::new();
    function.insert("name".into(), tool.name.clone().into());
    if let Some(description) = &tool.description {
        function.insert("description".into(), description.clone().into());
    }
    if let Some(parameters) = &tool.parameters {
        function.insert("parameters".into(), parameters.clone());
    }
    if let Some(strict) = tool.strict {
        function.insert("strict".into(), strict.into());
    }
    json!({ "type": "function", "function": function })
}

fn encode_tool_choice(choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::Auto => "auto".into(),
        ToolChoice::None => "none".into(),
        ToolChoice::Required => "required".into(),
        ToolChoice::Function(name) => json!({ "type": "function", "function": { "name": name } }),
    }
}

fn encode_response_format(format: &ResponseFormat) -> Value {
    match format {
        ResponseFormat::Text => json!({ "type": "text" }),
        ResponseFormat::JsonObject => json!({ "type": "json_object" }),
        ResponseFormat::JsonSchema {
            name,
            description,
            schema,
            strict,
        } => {
            let mut spec = Map::new();
            spec.insert("name".into(), name.clone().into());
            if let Some(description) = description {
                spec.insert("description".into(), description.clone().into());
            }
            if let Some(schema) = schema {
                spec.insert("schema".into(), schema.clone());
            }
            if let Some(strict) = strict {
                spec.insert("strict".into(), (*strict).into());
            }
            json!({ "type": "json_schema", "json_schema": spec })
        }
    }
}

/// Parses an OpenAI(-compatible) `chat.completion` body. `meta` fills what a compatible server omitted.
pub fn parse_response(body: &[u8], meta: &ResponseMeta) -> Result<ChatResponse, GaiaError> {
    let completion: wire::Completion =
        serde_json::from_slice(body).map_err(|err| malformed(DIALECT, "response", err))?;
    let choices = completion
        .choices
        .into_iter()
        .zip(0u32..)
        .map(|(choice, position)| {
            let message = choice.message;
            let mut text = message
                .content
                .as_ref()
                .map(content_text)
                .unwrap_or_default();
            if text.is_empty() {
                // A refusal is what the user gets to read instead of an answer.
                text = message.refusal.unwrap_or_default();
            }
            let tool_calls = message
                .tool_calls
                .into_iter()
                .zip(0u32..)
                .map(|(call, k)| ToolCall {
                    id: call.id.unwrap_or_else(|| format!("call_{position}_{k}")),
                    name: call.function.name.unwrap_or_default(),
                    arguments: call.function.arguments.unwrap_or_default(),
                })
                .collect();
            Choice::assistant(
                choice.index.unwrap_or(position),
                text,
                tool_calls,
                choice.finish_reason.as_deref().map(finish_reason),
            )
        })
        .collect();
    Ok(ChatResponse {
        id: completion.id.unwrap_or_else(|| meta.id.clone()),
        created: completion.created.unwrap_or(meta.created),
        model: completion.model.unwrap_or_else(|| meta.model.clone()),
        choices,
        usage: completion.usage.map(|usage| convert_usage(&usage)),
    })
}

/// Text of a message `content`: a string, or the text parts of an array.
fn content_text(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|part| part.get("text").and_then(Value::as_str))
            .collect(),
        _ => String::new(),
    }
}

/// OpenAI's finish reasons; the legacy `function_call` is a tool call, unknown ones are `Stop`.
pub(crate) fn finish_reason(reason: &str) -> FinishReason {
    match reason {
        "length" => FinishReason::Length,
        "tool_calls" | "function_call" => FinishReason::ToolCalls,
        "content_filter" => FinishReason::ContentFilter,
        _ => FinishReason::Stop,
    }
}

fn convert_usage(usage: &wire::WireUsage) -> Usage {
    let prompt = usage.prompt_tokens.unwrap_or(0);
    let completion = usage.completion_tokens.unwrap_or(0);
    Usage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: usage
            .total_tokens
            .unwrap_or_else(|| prompt.saturating_add(completion)),
        cached_tokens: usage
            .prompt_tokens_details
            .as_ref()
            .and_then(|details| details.cached_tokens)
            .unwrap_or(0),
        cache_creation_tokens: 0,
        reasoning_tokens: usage
            .completion_tokens_details
            .as_ref()
            .and_then(|details| details.reasoning_tokens)
            .unwrap_or(0),
    }
}

/// The client-facing `chat.completion` body, with `model` as the client should see it, as a JSON value.
///
/// The same document as [`encode_response_bytes`] (which the gateway sends); this form is for callers that
/// want to inspect or amend it.
pub fn encode_response(response: &ChatResponse, model: &str) -> Value {
    serde_json::to_value(out::Completion::new(response, model, &response.id)).unwrap_or(Value::Null)
}

/// The client-facing `chat.completion` body, serialized: `id` and `model` as the client should see them.
///
/// Written straight from the canonical response, with no intermediate JSON tree and no copy of the text.
pub fn encode_response_bytes(
    response: &ChatResponse,
    model: &str,
    id: &str,
) -> Result<Vec<u8>, GaiaError> {
    serde_json::to_vec(&out::Completion::new(response, model, id))
        .map_err(|err| GaiaError::internal(format!("encoding the response: {err}")))
}

/// The human-readable message of an OpenAI(-compatible) error body: `{"error":{"message":…}}`, or the
/// `{"error":"…"}` / `{"message":…}` shapes some compatible servers use.
pub fn parse_error(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let message = match value.get("error") {
        Some(Value::String(message)) => Some(message.as_str()),
        Some(error) => error.get("message").and_then(Value::as_str),
        None => value.get("message").and_then(Value::as_str),
    }?;
    Some(message.to_owned())
}
