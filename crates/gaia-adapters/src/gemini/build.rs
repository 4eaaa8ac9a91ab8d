//! Outbound: a [`ChatRequest`] → the `generateContent` body ([`upstream::Body`]).

use std::borrow::Cow;
use std::collections::HashMap;

use gaia_core::{
    ChatRequest, ContentPart, GaiaError, ImageSource, Message, Reasoning, ResponseFormat, Role,
    Tool, ToolChoice,
};
use serde_json::{Map, Value, json};

use super::upstream::{self, Content, Part};
use super::{SIGNATURE_SEPARATOR, schema};
use crate::util::{call_arguments, invalid, text_of};

/// The body for `request`: the conversation as Gemini turns, the tools, the generation parameters.
pub(super) fn body(request: &ChatRequest) -> Result<upstream::Body<'_>, GaiaError> {
    let (system, contents) = turns(&request.messages)?;
    let (tools, tool_config) = if request.tools.is_empty() {
        (None, None)
    } else {
        let declarations: Vec<Value> = request.tools.iter().map(function_declaration).collect();
        (
            Some(json!([{ "functionDeclarations": declarations }])),
            request.tool_choice.as_ref().map(tool_config),
        )
    };
    Ok(upstream::Body {
        contents,
        system,
        generation_config: generation_config(request),
        tools,
        tool_config,
    })
}

/// The system instruction's parts and the conversation's turns (same-role messages merged).
fn turns(messages: &[Message]) -> Result<(Vec<Part<'_>>, Vec<Content<'_>>), GaiaError> {
    let mut system: Vec<Part<'_>> = Vec::new();
    let mut contents: Vec<Content<'_>> = Vec::new();
    // Gemini answers a call by function name: the names of the calls so far, by our id.
    let mut call_names: HashMap<&str, &str> = HashMap::new();
    for (i, message) in messages.iter().enumerate() {
        match message.role {
            // One part per block, so separate blocks stay separate.
            Role::System | Role::Developer => {
                system.extend(message.content.iter().filter_map(|part| match part {
                    ContentPart::Text(text) if !text.is_empty() => {
                        Some(Part::Text(Cow::Borrowed(text.as_str())))
                    }
                    _ => None,
                }))
            }
            Role::User => push_content(&mut contents, "user", user_parts(message, i)?),
            Role::Assistant => {
                for call in &message.tool_calls {
                    call_names.insert(&call.id, &call.name);
                }
                push_content(&mut contents, "model", model_parts(message, i)?);
            }
            Role::Tool => {
                let part = function_response(message, i, &call_names)?;
                push_content(&mut contents, "user", vec![part]);
            }
        }
    }
    // Well-formed, yet nothing Gemini can take (only system text, or every message empty): 422 before any
    // call, as the provider would refuse it.
    if contents.is_empty() {
        return Err(GaiaError::unprocessable(
            "Gemini needs at least one user or model message with content; every message is empty or a system message",
        )
        .with_param("messages"));
    }
    Ok((system, contents))
}

fn unprocessable(param: String, message: String) -> GaiaError {
    GaiaError::unprocessable(message).with_param(param)
}

/// A tool message as the `functionResponse` to the earlier call its `tool_call_id` names.
fn function_response<'a>(
    message: &'a Message,
    i: usize,
    call_names: &HashMap<&str, &'a str>,
) -> Result<Part<'a>, GaiaError> {
    let id = message.tool_call_id.as_deref().unwrap_or_default();
    // Well-formed, but answering no call of the conversation (Gemini answers calls by name): 422.
    let name = call_names.get(id).ok_or_else(|| {
        unprocessable(
            format!("messages[{i}].tool_call_id"),
            format!(
                "tool_call_id '{id}' does not match a tool call of an earlier assistant message"
            ),
        )
    })?;
    Ok(Part::FunctionResponse {
        name,
        response: tool_response(message),
    })
}

/// A tool as a `functionDeclaration`; a function without parameters sends none.
fn function_declaration(tool: &Tool) -> Value {
    let mut declaration = Map::new();
    declaration.insert("name".into(), tool.name.clone().into());
    if let Some(description) = &tool.description {
        declaration.insert("description".into(), description.clone().into());
    }
    let parameters = tool
        .parameters
        .as_ref()
        .map(schema::to_gemini_schema)
        .filter(|schema| schema.get("properties").is_some());
    if let Some(parameters) = parameters {
        declaration.insert("parameters".into(), parameters);
    }
    Value::Object(declaration)
}

/// `tool_choice` as the `toolConfig`.
fn tool_config(choice: &ToolChoice) -> Value {
    let config = match choice {
        ToolChoice::Auto => json!({ "mode": "AUTO" }),
        ToolChoice::None => json!({ "mode": "NONE" }),
        ToolChoice::Required => json!({ "mode": "ANY" }),
        ToolChoice::Function(name) => {
            json!({ "mode": "ANY", "allowedFunctionNames": [name] })
        }
    };
    json!({ "functionCallingConfig": config })
}

fn push_content<'a>(contents: &mut Vec<Content<'a>>, role: &'static str, parts: Vec<Part<'a>>) {
    if parts.is_empty() {
        return;
    }
    match contents.last_mut() {
        Some(last) if last.role == role => last.parts.extend(parts),
        _ => contents.push(Content { role, parts }),
    }
}

fn user_parts(message: &Message, i: usize) -> Result<Vec<Part<'_>>, GaiaError> {
    let mut parts = Vec::with_capacity(message.content.len());
    for (j, part) in message.content.iter().enumerate() {
        match (part, part.image_source()) {
            // Gemini has no explicit cache markers (its caching is implicit) and takes no reasoning
            // of other providers back; its own signatures travel in tool-call ids.
            (
                ContentPart::CacheBreakpoint(_)
                | ContentPart::Thinking { .. }
                | ContentPart::RedactedThinking { .. },
                _,
            ) => {}
            (ContentPart::Text(text), _) if text.is_empty() => {}
            (ContentPart::Text(text), _) => parts.push(Part::Text(Cow::Borrowed(text))),
            (_, Some(ImageSource::Data(data))) => parts.push(Part::InlineData {
                mime: data.mime,
                data: data.data,
            }),
            (_, Some(ImageSource::Url(url)))
                if !url
                    .get(..5)
                    .is_some_and(|s| s.eq_ignore_ascii_case("data:")) =>
            {
                parts.push(Part::FileData {
                    mime: guess_mime(url),
                    uri: url,
                });
            }
            _ => {
                return Err(invalid(
                    format!("messages[{i}].content[{j}].image_url.url"),
                    "data URLs must be base64-encoded (data:<mime>;base64,<data>)",
                ));
            }
        }
    }
    Ok(parts)
}

fn model_parts(message: &Message, i: usize) -> Result<Vec<Part<'_>>, GaiaError> {
    let mut parts = Vec::with_capacity(1 + message.tool_calls.len());
    let text = text_of(message);
    if !text.is_empty() {
        parts.push(Part::Text(text));
    }
    for (k, call) in message.tool_calls.iter().enumerate() {
        let args = call_arguments(call, i, k)?;
        parts.push(Part::FunctionCall {
            name: &call.name,
            args,
            signature: call
                .id
                .split_once(SIGNATURE_SEPARATOR)
                .map(|(_, signature)| signature),
        });
    }
    Ok(parts)
}

fn tool_response(message: &Message) -> Value {
    let text = text_of(message);
    if message.tool_error {
        return json!({ "error": text.as_ref() });
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(object @ Value::Object(_)) => object,
        Ok(other) => json!({ "output": other }),
        Err(_) => json!({ "output": text.as_ref() }),
    }
}

/// The MIME type Gemini needs for a linked file, from the URL's extension.
pub(super) fn guess_mime(url: &str) -> &'static str {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let extension = path
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "png" => "image/png",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "heic" => "image/heic",
        "heif" => "image/heif",
        "pdf" => "application/pdf",
        _ => "image/jpeg",
    }
}

fn generation_config(request: &ChatRequest) -> Map<String, Value> {
    let mut config = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            config.insert(key.to_owned(), value);
        }
    };
    put("temperature", request.temperature.map(Value::from));
    put("topP", request.top_p.map(Value::from));
    put("topK", request.top_k.map(Value::from));
    put("thinkingConfig", request.reasoning.map(thinking_config));
    put("maxOutputTokens", request.max_tokens.map(Value::from));
    put(
        "stopSequences",
        (!request.stop.is_empty()).then(|| request.stop.clone().into()),
    );
    put("candidateCount", request.n.map(Value::from));
    put("presencePenalty", request.presence_penalty.map(Value::from));
    put(
        "frequencyPenalty",
        request.frequency_penalty.map(Value::from),
    );
    put(
        "seed",
        request.seed.map(|seed| Value::from(fold_seed(seed))),
    );
    match &request.response_format {
        Some(ResponseFormat::JsonObject) => {
            put("responseMimeType", Some("application/json".into()));
        }
        Some(ResponseFormat::JsonSchema { schema, .. }) => {
            put("responseMimeType", Some("application/json".into()));
            put(
                "responseSchema",
                schema.as_ref().map(schema::to_gemini_schema),
            );
        }
        Some(ResponseFormat::Text) | None => {}
    }
    config
}

/// `thinkingConfig` for a reasoning setting (specs/messages.md, M-14): the budget, with the thought
/// summaries asked for so they reach the client; off is a budget of 0.
fn thinking_config(reasoning: Reasoning) -> Value {
    match reasoning.budget() {
        Some(budget) => json!({ "thinkingBudget": budget, "includeThoughts": true }),
        None => json!({ "thinkingBudget": 0 }),
    }
}

/// Gemini's seed is an int32; larger seeds keep their low 31 bits (deterministic, always valid).
pub(super) fn fold_seed(seed: i64) -> i32 {
    i32::try_from(seed).unwrap_or_else(|_| i32::try_from(seed & 0x7fff_ffff).unwrap_or_default())
}
