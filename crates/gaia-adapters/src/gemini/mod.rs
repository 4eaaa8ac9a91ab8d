//! The Gemini `generateContent` / `streamGenerateContent?alt=sse` dialect (outbound only):
//! [`encode_request`] (or [`build_request`] for a `Value`), [`parse_response`], [`GeminiStreamDecoder`] and
//! [`parse_error`]; for embeddings, [`encode_embeddings_request`] / [`parse_embeddings_response`]
//! (`batchEmbedContents`, text only).
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

mod build;
mod embeddings;
mod schema;
mod stream;
mod upstream;
mod wire;

#[cfg(test)]
mod tests;

use gaia_core::{
    ChatRequest, ChatResponse, Choice, ContentPart, FinishReason, GaiaError, ToolCall, Usage,
};
use serde_json::{Value, json};

use crate::codec::ResponseMeta;
use crate::util::malformed;

// What the tests reach through `use super::*` since the body builder moved to `build`.
#[cfg(test)]
use build::{fold_seed, guess_mime};
#[cfg(test)]
use gaia_core::Role;

pub use embeddings::{encode_embeddings_request, parse_embeddings_response};
pub use stream::GeminiStreamDecoder;

const DIALECT: &str = "Gemini";
/// Separates our call id from the Gemini thought signature carried inside it.
const SIGNATURE_SEPARATOR: &str = "__thought__";

/// The `generateContent` body (the model is part of the URL, not the body); the same document as
/// [`encode_request`], as a `Value`.
pub fn build_request(request: &ChatRequest) -> Result<Value, GaiaError> {
    let body = build::body(request)?;
    // Cannot fail: every key is a string and every value serialisable.
    Ok(serde_json::to_value(&body).unwrap_or(Value::Null))
}

/// [`build_request`] written straight to bytes: message text and inline images are not copied.
pub fn encode_request(request: &ChatRequest) -> Result<Vec<u8>, GaiaError> {
    let body = build::body(request)?;
    serde_json::to_vec(&body)
        .map_err(|e| GaiaError::internal(format!("serialising the upstream body: {e}")))
}

/// The body of `models/{model}:countTokens` for `request`: the whole `generateContent` request (tools
/// and system instruction count too), named with its model as that endpoint requires.
pub fn encode_count_tokens_request(
    request: &ChatRequest,
    upstream_model: &str,
) -> Result<Vec<u8>, GaiaError> {
    let mut inner = build_request(request)?;
    if let Value::Object(map) = &mut inner {
        map.insert(
            "model".to_owned(),
            Value::String(format!("models/{upstream_model}")),
        );
    }
    serde_json::to_vec(&json!({ "generateContentRequest": inner }))
        .map_err(|e| GaiaError::internal("could not encode the count request").with_source(e))
}

/// The `totalTokens` of a `countTokens` answer.
pub fn parse_count_tokens(body: &[u8]) -> Option<u64> {
    serde_json::from_slice::<Value>(body)
        .ok()?
        .get("totalTokens")?
        .as_u64()
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
            let mut thoughts = String::new();
            let mut tool_calls = Vec::new();
            for part in candidate.content.unwrap_or_default().parts {
                if let Some(call) = part.function_call {
                    tool_calls.push(ToolCall {
                        id: call_id(call_counter, part.thought_signature.as_deref()),
                        name: call.name,
                        arguments: call.args.unwrap_or_else(|| json!({})).to_string(),
                    });
                    call_counter += 1;
                } else if let Some(part_text) = part.text {
                    // Thought summaries are reasoning, kept apart from the answer.
                    if part.thought == Some(true) {
                        thoughts.push_str(&part_text);
                    } else {
                        text.push_str(&part_text);
                    }
                }
            }
            let finish = candidate
                .finish_reason
                .as_deref()
                .map(|reason| finish_reason(reason, !tool_calls.is_empty()));
            let mut choice = Choice::assistant(
                candidate.index.unwrap_or(position),
                text,
                tool_calls,
                finish,
            );
            if !thoughts.is_empty() {
                choice.message.content.insert(
                    0,
                    ContentPart::Thinking {
                        text: thoughts,
                        signature: None,
                    },
                );
            }
            choice
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
