//! Anthropic `POST /v1/messages`: headers `x-api-key` and `anthropic-version`, a message object, or the
//! event stream message_start → content_block_start → ping → content_block_delta… → content_block_stop →
//! message_delta → message_stop.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{Value, json};

use crate::conversation::{
    Conversation, Reply, TOOL_ARGUMENT_PIECES, TOOL_ARGUMENTS, count_words, json_object,
    text_pieces,
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

fn message(conversation: &Conversation, model: &str, id: u64) -> Vec<u8> {
    let (content, stop_reason) = match &conversation.reply {
        Reply::Text(text) => (json!([{"type": "text", "text": text}]), "end_turn"),
        Reply::ToolCall(name) => (
            json!([{"type": "tool_use", "id": format!("toolu_mock{id:012}"), "name": name, "input": tool_input()}]),
            "tool_use",
        ),
    };
    let body = json!({
        "id": format!("msg_mock{id:012}"), "type": "message", "role": "assistant", "model": model,
        "content": content, "stop_reason": stop_reason, "stop_sequence": null,
        "usage": {"input_tokens": conversation.prompt_tokens, "output_tokens": conversation.completion_tokens(),
            "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "service_tier": "standard"},
    });
    serde_json::to_vec(&body).unwrap_or_default()
}

fn stream(conversation: &Conversation, model: &str, id: u64, forced_chunks: usize) -> Frames {
    let mut frames = Frames::default();
    let mut event = |name: &str, data: Value| frames.event(Some(name), &data, "\n\n");
    event(
        "message_start",
        json!({"type": "message_start", "message": {
        "id": format!("msg_mock{id:012}"), "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": null, "stop_sequence": null,
        "usage": {"input_tokens": conversation.prompt_tokens, "output_tokens": 1,
            "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "service_tier": "standard"}}}),
    );
    let (stop_reason, output_tokens) = match &conversation.reply {
        Reply::Text(text) => {
            event(
                "content_block_start",
                json!({"type": "content_block_start", "index": 0,
                "content_block": {"type": "text", "text": ""}}),
            );
            event("ping", json!({"type": "ping"}));
            let pieces = text_pieces(text, forced_chunks);
            for piece in &pieces {
                event(
                    "content_block_delta",
                    json!({"type": "content_block_delta", "index": 0,
                    "delta": {"type": "text_delta", "text": piece}}),
                );
            }
            ("end_turn", pieces.iter().map(|p| count_words(p)).sum())
        }
        Reply::ToolCall(name) => {
            event(
                "content_block_start",
                json!({"type": "content_block_start", "index": 0,
                "content_block": {"type": "tool_use", "id": format!("toolu_mock{id:012}"), "name": name, "input": {}}}),
            );
            event("ping", json!({"type": "ping"}));
            for piece in TOOL_ARGUMENT_PIECES {
                event(
                    "content_block_delta",
                    json!({"type": "content_block_delta", "index": 0,
                    "delta": {"type": "input_json_delta", "partial_json": piece}}),
                );
            }
            ("tool_use", count_words(TOOL_ARGUMENTS))
        }
    };
    event(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 0}),
    );
    event(
        "message_delta",
        json!({"type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": null}, "usage": {"output_tokens": output_tokens}}),
    );
    event("message_stop", json!({"type": "message_stop"}));
    frames
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
