//! Gemini `POST /v1beta/models/{model}:generateContent` and `:streamGenerateContent` (`?alt=sse` for
//! server-sent events, framed with CRLF like Google's; without it, a JSON array of the same chunks). The
//! key comes in `x-goog-api-key` or the `key` query parameter.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{Value, json};

use crate::conversation::{
    Conversation, Reply, TOOL_ARGUMENTS, count_words, json_object, text_pieces,
};
use crate::knobs::{self, Frames, Knobs, Outcome};
use crate::next_id;

/// `POST /v1beta/models/{model}:{method}`.
pub fn generate(req: &HttpRequest, body: &[u8], knobs: Knobs) -> Outcome {
    let (model, streaming) = model_and_method(req)?;
    if !has_key(req) {
        let message = "Request is missing required authentication credential. Expected an API key in x-goog-api-key.";
        return Err(error(StatusCode::UNAUTHORIZED, message).into());
    }
    if let Some(status) = knobs.error_status() {
        return Err(injected_error(status).into());
    }
    let request = json_object(body)
        .ok_or_else(|| error(StatusCode::BAD_REQUEST, "Invalid JSON payload received."))?;
    if request["contents"].as_array().is_none_or(Vec::is_empty) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "* GenerateContentRequest.contents: contents is not specified\n",
        )
        .into());
    }
    let conversation = Conversation::from_gemini(&request);
    let answer = Answer {
        model,
        response_id: format!("mock{:012}", next_id()),
    };
    if !streaming {
        return Ok(knobs.json(serde_json::to_vec(&answer.whole(&conversation)).unwrap_or_default()));
    }
    let chunks = answer.chunks(&conversation, knobs.chunks);
    let sse = query_params(req).any(|p| p == "alt=sse");
    Ok(stream(&knobs, &chunks, sse))
}

/// `{model}:generateContent` or `{model}:streamGenerateContent` (streaming); another method is a 404.
fn model_and_method(req: &HttpRequest) -> Result<(&str, bool), Box<HttpResponse>> {
    let target = req.match_info().get("target").unwrap_or("");
    let (model, method) = target.rsplit_once(':').unwrap_or((target, ""));
    match method {
        "generateContent" => Ok((model, false)),
        "streamGenerateContent" => Ok((model, true)),
        _ => Err(error(
            StatusCode::NOT_FOUND,
            &format!("Method '{method}' is not supported (mock)."),
        )
        .into()),
    }
}

/// A non-empty key in `x-goog-api-key` or the `key` query parameter.
fn has_key(req: &HttpRequest) -> bool {
    let query_key =
        query_params(req).any(|p| p.strip_prefix("key=").is_some_and(|k| !k.is_empty()));
    let header_key = req
        .headers()
        .get("x-goog-api-key")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|k| !k.trim().is_empty());
    header_key || query_key
}

fn query_params(req: &HttpRequest) -> std::str::Split<'_, char> {
    req.query_string().split('&')
}

/// The chunks as server-sent events (CRLF-framed), or as the elements of one JSON array.
fn stream(knobs: &Knobs, chunks: &[Value], sse: bool) -> HttpResponse {
    let mut frames = Frames::default();
    if sse {
        for chunk in chunks {
            frames.event(None, chunk, "\r\n\r\n");
        }
        knobs.stream(frames, "text/event-stream")
    } else {
        for (i, chunk) in chunks.iter().enumerate() {
            frames.raw(if i == 0 { "[" } else { ",\r\n" });
            frames.json(chunk);
        }
        frames.raw("]");
        knobs.stream(frames, "application/json")
    }
}

struct Answer<'a> {
    model: &'a str,
    response_id: String,
}

impl Answer<'_> {
    fn whole(&self, conversation: &Conversation) -> Value {
        let part = match &conversation.reply {
            Reply::Text(text) => json!({"text": text}),
            Reply::ToolCall(name) => function_call(name),
        };
        self.chunk(
            part,
            Some(usage(
                conversation.prompt_tokens,
                conversation.completion_tokens(),
            )),
        )
    }

    /// The streamed chunks; the last carries `finishReason` and `usageMetadata`.
    fn chunks(&self, conversation: &Conversation, forced_chunks: usize) -> Vec<Value> {
        match &conversation.reply {
            Reply::Text(text) => {
                let pieces = text_pieces(text, forced_chunks);
                let completion: u64 = pieces.iter().map(|p| count_words(p)).sum();
                let last = pieces.len().saturating_sub(1);
                pieces
                    .iter()
                    .enumerate()
                    .map(|(i, piece)| {
                        let usage =
                            (i == last).then(|| usage(conversation.prompt_tokens, completion));
                        self.chunk(json!({"text": piece}), usage)
                    })
                    .collect()
            }
            Reply::ToolCall(name) => {
                let usage = usage(conversation.prompt_tokens, count_words(TOOL_ARGUMENTS));
                vec![self.chunk(function_call(name), Some(usage))]
            }
        }
    }

    /// One `GenerateContentResponse`; with `usage`, it is the final one (`finishReason: STOP`).
    fn chunk(&self, part: Value, usage: Option<Value>) -> Value {
        let mut candidate = json!({"content": {"parts": [part], "role": "model"}, "index": 0});
        let mut chunk =
            json!({"candidates": [], "modelVersion": self.model, "responseId": self.response_id});
        if let Some(usage) = usage {
            candidate["finishReason"] = json!("STOP");
            chunk["usageMetadata"] = usage;
        }
        chunk["candidates"] = json!([candidate]);
        chunk
    }
}

fn function_call(name: &str) -> Value {
    let args: Value = serde_json::from_str(TOOL_ARGUMENTS).unwrap_or(Value::Null);
    json!({"functionCall": {"name": name, "args": args}})
}

fn usage(prompt: u64, completion: u64) -> Value {
    json!({"promptTokenCount": prompt, "candidatesTokenCount": completion, "totalTokenCount": prompt + completion,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}]})
}

fn injected_error(status: StatusCode) -> HttpResponse {
    knobs::with_retry_after(match status.as_u16() {
        429 => error(
            status,
            "Resource has been exhausted (e.g. check quota). (mock)",
        ),
        503 => error(
            status,
            "The model is overloaded. Please try again later. (mock)",
        ),
        _ => error(status, "An internal error has occurred. (mock)"),
    })
}

/// Google's error envelope: `{"error": {"code", "message", "status"}}`.
fn error(status: StatusCode, message: &str) -> HttpResponse {
    let code = match status.as_u16() {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        _ => "INTERNAL",
    };
    HttpResponse::build(status)
        .json(json!({"error": {"code": status.as_u16(), "message": message, "status": code}}))
}
