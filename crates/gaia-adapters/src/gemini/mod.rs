//! The Gemini `generateContent` / `streamGenerateContent?alt=sse` dialect (outbound only):
//! [`encode_request`] (or [`build_request`] for a `Value`), [`parse_response`], [`GeminiStreamDecoder`] and
//! [`parse_error`].
//!
//! Choices made where the dialects differ, and why:
//! - the model goes in the URL, so the body has none; system and developer messages become
//!   `systemInstruction`; consecutive same-role turns are merged (`user` / `model`);
//! - Gemini function calls have no ids: we mint `call_<n>` (unique within a response) and, to answer a tool
//!   message, find the function name by looking the id up in the earlier assistant turns. Gemini 3 also
//!   returns a `thoughtSignature` that must come back with the call; it rides inside the id we mint
//!   (`call_<n>__thought__<signature>`) so the round trip through a stateless client keeps it;
//! - tool results become `functionResponse.response`: a JSON object as is, anything else wrapped as
//!   `{"output": …}` (Gemini wants an object);
//! - tool parameter and response schemas are translated to Gemini's schema subset (see `schema`), and a
//!   function without parameters sends none (Gemini rejects an empty object schema);
//! - linked images become `fileData` with a MIME type guessed from the file extension (JPEG when unknown);
//! - `seed` outside Gemini's 32-bit range is folded into it; `user`, message `name`, image `detail`,
//!   `parallel_tool_calls` and `extra` have no equivalent and are dropped.

mod schema;
mod stream;
mod upstream;
mod wire;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::HashMap;

use gaia_core::{
    ChatRequest, ChatResponse, Choice, ContentPart, FinishReason, GaiaError, ImageSource, Message,
    ResponseFormat, Role, ToolCall, ToolChoice, Usage,
};
use serde_json::{Map, Value, json};

use crate::codec::ResponseMeta;
use crate::util::{invalid, malformed};
use upstream::{Content, Part};

pub use stream::GeminiStreamDecoder;

const DIALECT: &str = "Gemini";
/// Separates our call id from the Gemini thought signature carried inside it.
const SIGNATURE_SEPARATOR: &str = "__thought__";

/// The `generateContent` body (the model is part of the URL, not the body); the same document as
/// [`encode_request`], as a `Value`.
pub fn build_request(request: &ChatRequest) -> Result<Value, GaiaError> {
    let body = body(request)?;
    // Cannot fail: every key is a string and every value serialisable.
    Ok(serde_json::to_value(&body).unwrap_or(Value::Null))
}

/// [`build_request`] written straight to bytes: message text and inline images are not copied.
pub fn encode_request(request: &ChatRequest) -> Result<Vec<u8>, GaiaError> {
    let body = body(request)?;
    serde_json::to_vec(&body)
        .map_err(|e| GaiaError::internal(format!("serialising the upstream body: {e}")))
}

fn body(request: &ChatRequest) -> Result<upstream::Body<'_>, GaiaError> {
    let mut system: Vec<Part<'_>> = Vec::new();
    let mut contents: Vec<Content<'_>> = Vec::new();
    let mut call_names: HashMap<&str, &str> = HashMap::new();
    for (i, message) in request.messages.iter().enumerate() {
        match message.role {
            Role::System | Role::Developer => {
                let text = text_of(message);
                if !text.is_empty() {
                    system.push(Part::Text(text));
                }
            }
            Role::User => push_content(&mut contents, "user", user_parts(message, i)?),
            Role::Assistant => {
                for call in &message.tool_calls {
                    call_names.insert(&call.id, &call.name);
                }
                push_content(&mut contents, "model", model_parts(message, i)?);
            }
            Role::Tool => {
                let id = message.tool_call_id.as_deref().unwrap_or_default();
                let name = call_names.get(id).ok_or_else(|| {
                    invalid(
                        format!("messages[{i}].tool_call_id"),
                        format!("tool_call_id '{id}' does not match a tool call of an earlier assistant message"),
                    )
                })?;
                let part = Part::FunctionResponse {
                    name,
                    response: tool_response(message),
                };
                push_content(&mut contents, "user", vec![part]);
            }
        }
    }

    let mut tools = None;
    let mut tool_config = None;
    if !request.tools.is_empty() {
        let declarations: Vec<Value> = request
            .tools
            .iter()
            .map(|tool| {
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
            })
            .collect();
        tools = Some(json!([{ "functionDeclarations": declarations }]));
        if let Some(choice) = &request.tool_choice {
            let config = match choice {
                ToolChoice::Auto => json!({ "mode": "AUTO" }),
                ToolChoice::None => json!({ "mode": "NONE" }),
                ToolChoice::Required => json!({ "mode": "ANY" }),
                ToolChoice::Function(name) => {
                    json!({ "mode": "ANY", "allowedFunctionNames": [name] })
                }
            };
            tool_config = Some(json!({ "functionCallingConfig": config }));
        }
    }
    Ok(upstream::Body {
        contents,
        system,
        generation_config: generation_config(request),
        tools,
        tool_config,
    })
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

/// A message's text: borrowed when it is one text part (the usual case), else its text parts joined.
fn text_of(message: &Message) -> Cow<'_, str> {
    match message.content.as_slice() {
        [ContentPart::Text(text)] => Cow::Borrowed(text),
        _ => Cow::Owned(message.text_content()),
    }
}

fn user_parts(message: &Message, i: usize) -> Result<Vec<Part<'_>>, GaiaError> {
    let mut parts = Vec::with_capacity(message.content.len());
    for (j, part) in message.content.iter().enumerate() {
        match (part, part.image_source()) {
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
        let args = parse_arguments(&call.arguments).ok_or_else(|| {
            invalid(
                format!("messages[{i}].tool_calls[{k}].function.arguments"),
                format!(
                    "the arguments of tool call '{}' must be a JSON object",
                    call.id
                ),
            )
        })?;
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

fn parse_arguments(arguments: &str) -> Option<Value> {
    if arguments.trim().is_empty() {
        return Some(json!({}));
    }
    serde_json::from_str::<Value>(arguments)
        .ok()
        .filter(Value::is_object)
}

fn tool_response(message: &Message) -> Value {
    let text = message.text_content();
    match serde_json::from_str::<Value>(&text) {
        Ok(object @ Value::Object(_)) => object,
        Ok(other) => json!({ "output": other }),
        Err(_) => json!({ "output": text }),
    }
}

/// The MIME type Gemini needs for a linked file, from the URL's extension.
fn guess_mime(url: &str) -> &'static str {
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

/// Gemini's seed is an int32; larger seeds keep their low 31 bits (deterministic, always valid).
fn fold_seed(seed: i64) -> i32 {
    i32::try_from(seed).unwrap_or_else(|_| i32::try_from(seed & 0x7fff_ffff).unwrap_or_default())
}

/// Parses a `generateContent` response. Gemini sends no id and no creation time: `meta` supplies them
/// (and the model when the response lacks `modelVersion`).
pub fn parse_response(body: &[u8], meta: &ResponseMeta) -> Result<ChatResponse, GaiaError> {
    let response: wire::GenerateContentResponse =
        serde_json::from_slice(body).map_err(|err| malformed(DIALECT, "response", err))?;
    if let Some(error) = response.error {
        return Err(GaiaError::upstream(error_message(error)));
    }
    let mut call_counter = 0u32;
    let mut choices: Vec<Choice> = response
        .candidates
        .into_iter()
        .zip(0u32..)
        .map(|(candidate, position)| {
            let mut text = String::new();
            let mut tool_calls = Vec::new();
            for part in candidate.content.unwrap_or_default().parts {
                if let Some(call) = part.function_call {
                    tool_calls.push(ToolCall {
                        id: call_id(call_counter, part.thought_signature.as_deref()),
                        name: call.name,
                        arguments: call.args.unwrap_or_else(|| json!({})).to_string(),
                    });
                    call_counter += 1;
                } else if let Some(part_text) = part.text.filter(|_| part.thought != Some(true)) {
                    text.push_str(&part_text);
                }
            }
            let finish = candidate
                .finish_reason
                .as_deref()
                .map(|reason| finish_reason(reason, !tool_calls.is_empty()));
            Choice::assistant(
                candidate.index.unwrap_or(position),
                text,
                tool_calls,
                finish,
            )
        })
        .collect();
    let prompt_blocked = response
        .prompt_feedback
        .is_some_and(|feedback| feedback.block_reason.is_some());
    if choices.is_empty() && prompt_blocked {
        // The prompt itself was blocked: no candidates, only the reason.
        choices.push(Choice::assistant(
            0,
            String::new(),
            Vec::new(),
            Some(FinishReason::ContentFilter),
        ));
    }
    Ok(ChatResponse {
        id: meta.id.clone(),
        created: meta.created,
        model: response.model_version.unwrap_or_else(|| meta.model.clone()),
        choices,
        usage: response.usage_metadata.as_ref().map(convert_usage),
    })
}

/// Our id for the `n`-th function call of a response, carrying Gemini's thought signature if any.
fn call_id(n: u32, signature: Option<&str>) -> String {
    match signature {
        Some(signature) if !signature.is_empty() => {
            format!("call_{n}{SIGNATURE_SEPARATOR}{signature}")
        }
        _ => format!("call_{n}"),
    }
}

/// Gemini's finish reasons. `STOP` after function calls is `tool_calls` (Gemini has no separate reason);
/// every safety, policy, recitation or blocklist reason is `content_filter`; `LANGUAGE`, `OTHER`,
/// `MALFORMED_FUNCTION_CALL` and unknown reasons are `stop`.
fn finish_reason(reason: &str, has_tool_calls: bool) -> FinishReason {
    let filtered = matches!(
        reason,
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII"
    ) || reason.contains("SAFETY")
        || reason.contains("PROHIBITED")
        || reason.contains("BLOCKLIST");
    if reason == "MAX_TOKENS" {
        FinishReason::Length
    } else if filtered {
        FinishReason::ContentFilter
    } else if has_tool_calls {
        FinishReason::ToolCalls
    } else {
        FinishReason::Stop
    }
}

/// Gemini counts tool-use prompts and thoughts separately; canonical usage folds them into prompt and
/// completion, with thoughts also reported as reasoning tokens.
fn convert_usage(usage: &wire::UsageMetadata) -> Usage {
    let prompt = usage
        .prompt_token_count
        .unwrap_or(0)
        .saturating_add(usage.tool_use_prompt_token_count.unwrap_or(0));
    let thoughts = usage.thoughts_token_count.unwrap_or(0);
    let completion = usage
        .candidates_token_count
        .unwrap_or(0)
        .saturating_add(thoughts);
    Usage {
        total_tokens: usage
            .total_token_count
            .unwrap_or_else(|| prompt.saturating_add(completion)),
        cached_tokens: usage.cached_content_token_count.unwrap_or(0),
        reasoning_tokens: thoughts,
        ..Usage::new(prompt, completion)
    }
}

fn error_message(error: wire::ErrorBody) -> String {
    let message = error
        .message
        .unwrap_or_else(|| "Gemini reported an error".into());
    match error.status {
        Some(status) => format!("{status}: {message}"),
        None => message,
    }
}

/// The message of a Gemini error body (`{"error":{"code","message","status"}}`, possibly wrapped in an
/// array as the non-SSE streaming endpoint sends it), prefixed with the status when there is one.
pub fn parse_error(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let value = match value {
        Value::Array(mut items) if !items.is_empty() => items.swap_remove(0),
        other => other,
    };
    let envelope: wire::ErrorEnvelope = serde_json::from_value(value).ok()?;
    let error = envelope.error?;
    error.message.as_ref()?;
    Some(error_message(error))
}
