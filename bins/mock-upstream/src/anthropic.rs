//! Anthropic `POST /v1/messages`: headers `x-api-key` and `anthropic-version`, a message object, or the
//! event stream message_start → content_block_start → ping → content_block_delta… → content_block_stop →
//! message_delta → message_stop.
//!
//! With extended thinking on (`thinking.type: "enabled"`), the answer starts with a signed `thinking` block
//! (block 0 of a stream), and the history must replay thinking as Anthropic requires: an assistant message
//! with `tool_use` starts with a `thinking` / `redacted_thinking` block, and every `thinking` block keeps
//! its signature.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{Value, json};

use crate::conversation::{
    Conversation, Reply, TOOL_ARGUMENT_PIECES, TOOL_ARGUMENTS, as_slice, count_words, json_object,
    signature, text_pieces,
};
use crate::knobs::{self, Frames, Knobs, Outcome};
use crate::next_id;

/// `POST /v1/messages`.
pub fn messages(req: &HttpRequest, body: &[u8], knobs: Knobs) -> Outcome {
    check_headers(req)?;
    if let Some(status) = knobs.error_status() {
        return Err(injected_error(status).into());
    }
    let request = json_object(body).ok_or_else(|| {
        invalid_request("There was an issue with your request body: invalid JSON")
    })?;
    let model = validate(&request)?;
    let conversation = Conversation::from_anthropic(&request);
    if conversation.reasoning.is_some() {
        check_thinking_history(&request).map_err(|message| invalid_request(&message))?;
    }
    let id = next_id();
    Ok(if request["stream"] == true {
        knobs.stream(
            stream(&conversation, model, id, knobs.chunks),
            "text/event-stream",
        )
    } else {
        knobs.json(message(&conversation, model, id))
    })
}

/// `POST /v1/messages/count_tokens`: `{"input_tokens": n}`, the prompt tokens a message would have. Like
/// Anthropic, it refuses the fields that only shape generation (`max_tokens`, `stream`, sampling).
pub fn count_tokens(req: &HttpRequest, body: &[u8], knobs: Knobs) -> Outcome {
    check_headers(req)?;
    if let Some(status) = knobs.error_status() {
        return Err(injected_error(status).into());
    }
    let request = json_object(body).ok_or_else(|| {
        invalid_request("There was an issue with your request body: invalid JSON")
    })?;
    if !request["model"].is_string() {
        return Err(invalid_request("model: Field required").into());
    }
    for field in [
        "max_tokens",
        "stream",
        "temperature",
        "top_p",
        "top_k",
        "stop_sequences",
        "metadata",
    ] {
        if request.get(field).is_some() {
            return Err(
                invalid_request(&format!("{field}: Extra inputs are not permitted")).into(),
            );
        }
    }
    if request["messages"].as_array().is_none_or(Vec::is_empty) {
        return Err(invalid_request("messages: at least one message is required").into());
    }
    let input_tokens = Conversation::from_anthropic(&request).prompt_tokens;
    Ok(knobs.json(
        serde_json::json!({ "input_tokens": input_tokens })
            .to_string()
            .into_bytes(),
    ))
}

/// A key in `x-api-key` and a version in `anthropic-version`, both required.
fn check_headers(req: &HttpRequest) -> Result<(), Box<HttpResponse>> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if header("x-api-key").is_none_or(str::is_empty) {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "invalid x-api-key",
        )
        .into());
    }
    if header("anthropic-version").is_none_or(str::is_empty) {
        return Err(invalid_request("anthropic-version: header is required").into());
    }
    Ok(())
}

/// The required fields of a request; its model.
fn validate(request: &Value) -> Result<&str, Box<HttpResponse>> {
    let model = request["model"]
        .as_str()
        .ok_or_else(|| invalid_request("model: Field required"))?;
    if !request["max_tokens"].is_u64() {
        return Err(invalid_request("max_tokens: Field required").into());
    }
    if request["messages"].as_array().is_none_or(Vec::is_empty) {
        return Err(invalid_request("messages: at least one message is required").into());
    }
    Ok(model)
}

/// With thinking on: the history's thinking as Anthropic checks it, else the message of the 400.
fn check_thinking_history(request: &Value) -> Result<(), String> {
    for (i, message) in as_slice(&request["messages"]).iter().enumerate() {
        let blocks = as_slice(&message["content"]);
        let first = blocks.first().map_or(&Value::Null, |b| &b["type"]);
        let starts_with_thinking = first == "thinking" || first == "redacted_thinking";
        if message["role"] == "assistant"
            && !starts_with_thinking
            && blocks.iter().any(|b| b["type"] == "tool_use")
        {
            let found = first.as_str().unwrap_or("nothing");
            return Err(format!(
                "messages.{i}.content.0: missing thinking block before tool_use: expected `thinking` or \
                 `redacted_thinking`, but found `{found}`. When `thinking` is enabled, an assistant message \
                 with `tool_use` must start with a thinking block (mock)"
            ));
        }
        for (j, block) in blocks.iter().enumerate() {
            if block["type"] == "thinking" && !signed(block) {
                return Err(format!(
                    "messages.{i}.content.{j}: Invalid `signature` in `thinking` block (mock)"
                ));
            }
        }
    }
    Ok(())
}

/// A `thinking` block whose `signature` is the mock's signature of its text.
fn signed(block: &Value) -> bool {
    let text = block["thinking"].as_str().unwrap_or("");
    block["signature"]
        .as_str()
        .is_some_and(|s| s == signature(text))
}

fn message(conversation: &Conversation, model: &str, id: u64) -> Vec<u8> {
    let (answer, stop_reason) = match &conversation.reply {
        Reply::Text(text) => (json!({"type": "text", "text": text}), "end_turn"),
        Reply::ToolCall(name) => (
            json!({"type": "tool_use", "id": format!("toolu_mock{id:012}"), "name": name, "input": tool_input()}),
            "tool_use",
        ),
    };
    let content = match &conversation.reasoning {
        Some(reasoning) => json!([
            {"type": "thinking", "thinking": reasoning, "signature": signature(reasoning)},
            answer
        ]),
        None => json!([answer]),
    };
    let output_tokens = conversation.completion_tokens() + conversation.reasoning_tokens();
    let body = json!({
        "id": format!("msg_mock{id:012}"), "type": "message", "role": "assistant", "model": model,
        "content": content, "stop_reason": stop_reason, "stop_sequence": null,
        "usage": {"input_tokens": conversation.prompt_tokens, "output_tokens": output_tokens,
            "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "service_tier": "standard"},
    });
    serde_json::to_vec(&body).unwrap_or_default()
}

fn stream(conversation: &Conversation, model: &str, id: u64, forced_chunks: usize) -> Frames {
    let mut frames = Frames::default();
    frames.event(
        Some("message_start"),
        &json!({"type": "message_start", "message": {
        "id": format!("msg_mock{id:012}"), "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": null, "stop_sequence": null,
        "usage": {"input_tokens": conversation.prompt_tokens, "output_tokens": 1,
            "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "service_tier": "standard"}}}),
        "\n\n",
    );
    let mut index = 0;
    if let Some(reasoning) = &conversation.reasoning {
        let mut deltas: Vec<Value> = text_pieces(reasoning, 0)
            .iter()
            .map(|piece| json!({"type": "thinking_delta", "thinking": piece}))
            .collect();
        deltas.push(json!({"type": "signature_delta", "signature": signature(reasoning)}));
        let start = json!({"type": "thinking", "thinking": "", "signature": ""});
        content_block(&mut frames, index, start, deltas);
        index += 1;
    }
    let (stop_reason, answer_tokens) = match &conversation.reply {
        Reply::Text(text) => {
            let pieces = text_pieces(text, forced_chunks);
            let deltas = pieces
                .iter()
                .map(|piece| json!({"type": "text_delta", "text": piece}));
            let start = json!({"type": "text", "text": ""});
            content_block(&mut frames, index, start, deltas);
            ("end_turn", pieces.iter().map(|p| count_words(p)).sum())
        }
        Reply::ToolCall(name) => {
            let deltas = TOOL_ARGUMENT_PIECES
                .map(|piece| json!({"type": "input_json_delta", "partial_json": piece}));
            let start = json!({"type": "tool_use", "id": format!("toolu_mock{id:012}"), "name": name, "input": {}});
            content_block(&mut frames, index, start, deltas);
            ("tool_use", count_words(TOOL_ARGUMENTS))
        }
    };
    let output_tokens = answer_tokens + conversation.reasoning_tokens();
    let mut event = |name: &str, data: Value| frames.event(Some(name), &data, "\n\n");
    event(
        "message_delta",
        json!({"type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": null}, "usage": {"output_tokens": output_tokens}}),
    );
    event("message_stop", json!({"type": "message_stop"}));
    frames
}

/// One streamed content block: `content_block_start` (then a `ping` after the first block's start, as
/// Anthropic sends it), a `content_block_delta` per delta, `content_block_stop`.
fn content_block(
    frames: &mut Frames,
    index: u64,
    start: Value,
    deltas: impl IntoIterator<Item = Value>,
) {
    let mut event = |name: &str, data: Value| frames.event(Some(name), &data, "\n\n");
    event(
        "content_block_start",
        json!({"type": "content_block_start", "index": index, "content_block": start}),
    );
    if index == 0 {
        event("ping", json!({"type": "ping"}));
    }
    for delta in deltas {
        event(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": index, "delta": delta}),
        );
    }
    event(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": index}),
    );
}

fn tool_input() -> Value {
    serde_json::from_str(TOOL_ARGUMENTS).unwrap_or(Value::Null)
}

fn injected_error(status: StatusCode) -> HttpResponse {
    knobs::with_retry_after(match status.as_u16() {
        429 => error(
            status,
            "rate_limit_error",
            "Number of request tokens has exceeded your rate limit (mock).",
        ),
        503 => error(status, "overloaded_error", "Overloaded (mock)"),
        _ => error(status, "api_error", "Internal server error (mock)"),
    })
}

/// A 400 `invalid_request_error`.
fn invalid_request(message: &str) -> HttpResponse {
    error(StatusCode::BAD_REQUEST, "invalid_request_error", message)
}

/// `{"type": "error", "error": {"type": …, "message": …}}`.
fn error(status: StatusCode, kind: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status)
        .json(json!({"type": "error", "error": {"type": kind, "message": message}}))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const THINKING: &str = "thinking about: hi there";

    fn conversation(thinking: bool, tools: bool) -> Conversation {
        let mut body = json!({"messages": [{"role": "user", "content": "hi there"}]});
        if thinking {
            body["thinking"] = json!({"type": "enabled", "budget_tokens": 1024});
        }
        if tools {
            body["tools"] = json!([{"name": "get_weather", "input_schema": {"type": "object"}}]);
        }
        Conversation::from_anthropic(&body)
    }

    #[test]
    fn thinking_comes_first_signed_and_counts_in_output_tokens() {
        let body: Value =
            serde_json::from_slice(&message(&conversation(true, false), "m", 7)).unwrap();
        assert_eq!(
            body["content"],
            json!([{"type": "thinking", "thinking": THINKING, "signature": signature(THINKING)},
                {"type": "text", "text": "echo: hi there"}])
        );
        assert_eq!(body["usage"]["output_tokens"], 3 + 4);
        let body: Value =
            serde_json::from_slice(&message(&conversation(true, true), "m", 7)).unwrap();
        assert_eq!(body["content"][0]["signature"], "mocksig-e9796a7e291bc4db");
        assert_eq!(body["content"][1]["type"], "tool_use");
        assert_eq!(body["usage"]["output_tokens"], 1 + 4);
        let body: Value =
            serde_json::from_slice(&message(&conversation(false, false), "m", 7)).unwrap();
        assert_eq!(
            body["content"],
            json!([{"type": "text", "text": "echo: hi there"}])
        );
        assert_eq!(body["usage"]["output_tokens"], 3);
    }

    /// `(event type, block index)` of each event.
    fn outline(events: &[Value]) -> Vec<(String, i64)> {
        events
            .iter()
            .map(|e| {
                let kind = e["type"].as_str().unwrap_or("").to_owned();
                (kind, e["index"].as_i64().unwrap_or(-1))
            })
            .collect()
    }

    #[test]
    fn a_streamed_thinking_block_comes_at_index_0() {
        let events = stream(&conversation(true, true), "m", 7, 0).data();
        let names: Vec<(String, i64)> = [
            ("message_start", -1),
            ("content_block_start", 0),
            ("ping", -1),
        ]
        .into_iter()
        .chain([("content_block_delta", 0); 5])
        .chain([
            ("content_block_stop", 0),
            ("content_block_start", 1),
            ("content_block_delta", 1),
            ("content_block_delta", 1),
            ("content_block_stop", 1),
            ("message_delta", -1),
            ("message_stop", -1),
        ])
        .map(|(k, i)| (k.to_owned(), i))
        .collect();
        assert_eq!(outline(&events), names);
        assert_eq!(
            events[1]["content_block"],
            json!({"type": "thinking", "thinking": "", "signature": ""})
        );
        let thinking: String = events[3..7]
            .iter()
            .map(|e| e["delta"]["thinking"].as_str().unwrap())
            .collect();
        assert_eq!(thinking, THINKING);
        assert_eq!(
            events[7]["delta"],
            json!({"type": "signature_delta", "signature": signature(THINKING)})
        );
        assert_eq!(events[9]["content_block"]["type"], "tool_use");
        assert_eq!(events[13]["usage"]["output_tokens"], 1 + 4);
    }

    #[test]
    fn a_stream_without_thinking_has_one_block() {
        let events = stream(&conversation(false, false), "m", 7, 0).data();
        let outline = outline(&events);
        assert!(outline.iter().all(|(_, index)| *index <= 0), "{outline:?}");
        assert_eq!(events[1]["content_block"]["type"], "text");
        assert_eq!(events[2]["type"], "ping");
        assert_eq!(events[7]["usage"]["output_tokens"], 3);
    }

    fn history(assistant: Value) -> Value {
        json!({"messages": [
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "content": assistant},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "sunny"}]}]})
    }

    #[test]
    fn thinking_history_must_start_tool_use_turns_and_keep_its_signature() {
        let tool_use = json!({"type": "tool_use", "id": "t1", "name": "get_weather", "input": {}});
        let signed =
            json!({"type": "thinking", "thinking": THINKING, "signature": signature(THINKING)});
        let redacted = json!({"type": "redacted_thinking", "data": "opaque"});
        let text = json!({"type": "text", "text": "Let me check."});
        for ok in [
            json!([signed, tool_use]),
            json!([redacted, tool_use]),
            json!([text]),
            json!("plain text"),
        ] {
            assert_eq!(check_thinking_history(&history(ok.clone())), Ok(()), "{ok}");
        }
        let err = check_thinking_history(&history(json!([text, tool_use]))).unwrap_err();
        assert!(
            err.starts_with("messages.1.content.0: missing thinking block before tool_use"),
            "{err}"
        );
        let forged = json!({"type": "thinking", "thinking": "other thoughts", "signature": signature(THINKING)});
        let unsigned = json!({"type": "thinking", "thinking": THINKING});
        for (blocks, at) in [
            (json!([forged, tool_use]), "messages.1.content.0: "),
            (json!([unsigned, tool_use]), "messages.1.content.0: "),
            (json!([signed, text, forged]), "messages.1.content.2: "),
        ] {
            let err = check_thinking_history(&history(blocks)).unwrap_err();
            assert!(
                err.starts_with(at) && err.contains("Invalid `signature`"),
                "{err}"
            );
        }
    }
}
