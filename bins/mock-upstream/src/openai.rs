//! OpenAI `POST /v1/chat/completions` and OpenRouter `POST /api/v1/chat/completions` (the same dialect with
//! OpenRouter's ids, `provider` field, `native_finish_reason` and `: OPENROUTER PROCESSING` comments), plus
//! OpenRouter's public `GET /api/v1/models`.

use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{Value, json};

use crate::conversation::{
    Conversation, Reply, TOOL_ARGUMENT_PIECES, TOOL_ARGUMENTS, count_words, json_object,
    text_pieces,
};
use crate::knobs::{self, Frames, Knobs, Outcome};
use crate::{next_id, unix_now};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    OpenAi,
    OpenRouter,
}

/// `POST /v1/chat/completions`.
pub fn openai_chat(req: &HttpRequest, body: &[u8], knobs: Knobs) -> Outcome {
    chat(Flavor::OpenAi, req, body, knobs)
}

/// `POST /api/v1/chat/completions`.
pub fn openrouter_chat(req: &HttpRequest, body: &[u8], knobs: Knobs) -> Outcome {
    chat(Flavor::OpenRouter, req, body, knobs)
}

/// `GET /api/v1/models`: public, like OpenRouter's (no key needed). The body is built once at start-up.
pub async fn openrouter_models(list: web::Data<Bytes>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(list.get_ref().clone())
}

/// `POST /v1/embeddings` (see [`crate::embeddings`]).
pub fn openai_embeddings(req: &HttpRequest, body: &[u8], knobs: Knobs) -> Outcome {
    embeddings(Flavor::OpenAi, req, body, knobs)
}

/// `POST /api/v1/embeddings`.
pub fn openrouter_embeddings(req: &HttpRequest, body: &[u8], knobs: Knobs) -> Outcome {
    embeddings(Flavor::OpenRouter, req, body, knobs)
}

fn embeddings(flavor: Flavor, req: &HttpRequest, body: &[u8], knobs: Knobs) -> Outcome {
    if !has_bearer_key(req) {
        return Err(missing_key(flavor).into());
    }
    if let Some(status) = knobs.error_status() {
        return Err(injected_error(flavor, status).into());
    }
    let request = json_object(body).ok_or_else(|| {
        invalid_request(
            flavor,
            "We could not parse the JSON body of your request.",
            None,
        )
    })?;
    let answer = crate::embeddings::openai_answer(&request)
        .map_err(|message| invalid_request(flavor, &message, None))?;
    Ok(knobs.json(serde_json::to_vec(&answer).unwrap_or_default()))
}

fn chat(flavor: Flavor, req: &HttpRequest, body: &[u8], knobs: Knobs) -> Outcome {
    if !has_bearer_key(req) {
        return Err(missing_key(flavor).into());
    }
    if let Some(status) = knobs.error_status() {
        return Err(injected_error(flavor, status).into());
    }
    let request = json_object(body).ok_or_else(|| {
        let message = "We could not parse the JSON body of your request.";
        invalid_request(flavor, message, None)
    })?;
    let model = validate(flavor, &request)?;
    let conversation = Conversation::from_openai(&request);
    let answer = Answer::new(flavor, model);
    Ok(if request["stream"] == true {
        let include_usage = request["stream_options"]["include_usage"] == true
            || (flavor == Flavor::OpenRouter && request["usage"]["include"] == true);
        knobs.stream(
            answer.stream(&conversation, include_usage, knobs.chunks),
            "text/event-stream",
        )
    } else {
        knobs.json(answer.completion(&conversation))
    })
}

/// The required fields of a request; its model.
fn validate(flavor: Flavor, request: &Value) -> Result<&str, Box<HttpResponse>> {
    let model = request["model"]
        .as_str()
        .ok_or_else(|| invalid_request(flavor, "you must provide a model parameter", None))?;
    if request["messages"].as_array().is_none_or(Vec::is_empty) {
        let message = "Invalid 'messages': empty array. Expected an array with minimum length 1.";
        return Err(invalid_request(flavor, message, Some("empty_array")).into());
    }
    Ok(model)
}

struct Answer<'a> {
    flavor: Flavor,
    id: String,
    created: u64,
    model: &'a str,
}

impl<'a> Answer<'a> {
    fn new(flavor: Flavor, model: &'a str) -> Self {
        Self {
            flavor,
            id: match flavor {
                Flavor::OpenAi => format!("chatcmpl-mock{:012}", next_id()),
                Flavor::OpenRouter => format!("gen-mock{:012}", next_id()),
            },
            created: unix_now(),
            model,
        }
    }

    fn completion(&self, conversation: &Conversation) -> Vec<u8> {
        let (mut message, finish) = match &conversation.reply {
            Reply::Text(text) => (
                json!({"role": "assistant", "content": text, "refusal": null, "annotations": []}),
                "stop",
            ),
            Reply::ToolCall(name) => (
                json!({"role": "assistant", "content": null, "refusal": null, "annotations": [],
                    "tool_calls": [{"id": tool_call_id(&self.id), "type": "function",
                        "function": {"name": name, "arguments": TOOL_ARGUMENTS}}]}),
                "tool_calls",
            ),
        };
        if let Some(reasoning) = &conversation.reasoning {
            message["reasoning_content"] = json!(reasoning);
        }
        let mut choice =
            json!({"index": 0, "message": message, "logprobs": null, "finish_reason": finish});
        let usage = self.usage(
            conversation.prompt_tokens,
            conversation.completion_tokens(),
            conversation.reasoning_tokens(),
        );
        let mut body = json!({
            "id": self.id, "object": "chat.completion", "created": self.created, "model": self.model,
            "choices": [], "usage": usage,
        });
        self.decorate(&mut body, &mut choice, finish);
        body["choices"] = json!([choice]);
        serde_json::to_vec(&body).unwrap_or_default()
    }

    fn stream(
        &self,
        conversation: &Conversation,
        include_usage: bool,
        forced_chunks: usize,
    ) -> Frames {
        let mut frames = Frames::default();
        if self.flavor == Flavor::OpenRouter {
            frames.raw(": OPENROUTER PROCESSING\n\n");
        }
        if let Some(reasoning) = &conversation.reasoning {
            // DeepSeek-style `reasoning_content` deltas, one per word, before the answer's chunks.
            for (i, piece) in text_pieces(reasoning, 0).iter().enumerate() {
                let delta = if i == 0 {
                    json!({"role": "assistant", "reasoning_content": piece})
                } else {
                    json!({"reasoning_content": piece})
                };
                self.chunk(&mut frames, delta, None, include_usage);
            }
        }
        let answer_tokens = match &conversation.reply {
            Reply::Text(text) => self.stream_text(&mut frames, text, include_usage, forced_chunks),
            Reply::ToolCall(name) => self.stream_tool_call(&mut frames, name, include_usage),
        };
        if include_usage {
            let mut usage = self.base_chunk();
            usage["choices"] = json!([]);
            usage["usage"] = self.usage(
                conversation.prompt_tokens,
                answer_tokens,
                conversation.reasoning_tokens(),
            );
            frames.event(None, &usage, "\n\n");
        }
        frames.raw("data: [DONE]\n\n");
        frames
    }

    /// The chunks of a text answer; its completion tokens.
    fn stream_text(
        &self,
        frames: &mut Frames,
        text: &str,
        include_usage: bool,
        forced_chunks: usize,
    ) -> u64 {
        let pieces = text_pieces(text, forced_chunks);
        let first = json!({"role": "assistant", "content": "", "refusal": null});
        self.chunk(frames, first, None, include_usage);
        for piece in &pieces {
            self.chunk(frames, json!({"content": piece}), None, include_usage);
        }
        self.chunk(frames, json!({}), Some("stop"), include_usage);
        pieces.iter().map(|p| count_words(p)).sum()
    }

    /// The chunks of a tool call answer; its completion tokens.
    fn stream_tool_call(&self, frames: &mut Frames, name: &str, include_usage: bool) -> u64 {
        let call = json!([{"index": 0, "id": tool_call_id(&self.id), "type": "function",
            "function": {"name": name, "arguments": ""}}]);
        let first =
            json!({"role": "assistant", "content": null, "refusal": null, "tool_calls": call});
        self.chunk(frames, first, None, include_usage);
        for piece in TOOL_ARGUMENT_PIECES {
            let delta = json!({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]});
            self.chunk(frames, delta, None, include_usage);
        }
        self.chunk(frames, json!({}), Some("tool_calls"), include_usage);
        count_words(TOOL_ARGUMENTS)
    }

    fn chunk(&self, frames: &mut Frames, delta: Value, finish: Option<&str>, include_usage: bool) {
        let mut chunk = self.base_chunk();
        let mut choice =
            json!({"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish});
        if let Some(finish) = finish {
            self.decorate(&mut chunk, &mut choice, finish);
        }
        chunk["choices"] = json!([choice]);
        if include_usage {
            // OpenAI sends `"usage": null` on every chunk but the last when usage was asked for.
            chunk["usage"] = Value::Null;
        }
        frames.event(None, &chunk, "\n\n");
    }

    fn base_chunk(&self) -> Value {
        let mut chunk = json!({"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model});
        match self.flavor {
            Flavor::OpenAi => {
                chunk["service_tier"] = json!("default");
                chunk["system_fingerprint"] = json!("fp_mock");
            }
            Flavor::OpenRouter => chunk["provider"] = json!("Mock"),
        }
        chunk
    }

    /// The flavour-specific fields of a body and its choice.
    fn decorate(&self, body: &mut Value, choice: &mut Value, finish: &str) {
        match self.flavor {
            Flavor::OpenAi => {
                body["service_tier"] = json!("default");
                body["system_fingerprint"] = json!("fp_mock");
            }
            Flavor::OpenRouter => {
                body["provider"] = json!("Mock");
                choice["native_finish_reason"] = json!(finish);
            }
        }
    }

    /// Usage; completion tokens = `answer` + `reasoning`, with `reasoning` in `completion_tokens_details`.
    fn usage(&self, prompt: u64, answer: u64, reasoning: u64) -> Value {
        let completion = answer + reasoning;
        let mut usage = json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion});
        match self.flavor {
            Flavor::OpenAi => {
                usage["prompt_tokens_details"] = json!({"cached_tokens": 0, "audio_tokens": 0});
                usage["completion_tokens_details"] = json!({"reasoning_tokens": reasoning, "audio_tokens": 0,
                    "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0});
            }
            Flavor::OpenRouter => {
                usage["prompt_tokens_details"] = json!({"cached_tokens": 0});
                usage["completion_tokens_details"] = json!({"reasoning_tokens": reasoning});
            }
        }
        usage
    }
}

fn tool_call_id(response_id: &str) -> String {
    let digits = response_id.trim_start_matches(|c: char| !c.is_ascii_digit());
    format!("call_mock{digits}")
}

/// `Authorization: Bearer <non-empty key>`.
fn has_bearer_key(req: &HttpRequest) -> bool {
    req.headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, key) = v.split_at_checked(7)?;
            scheme.eq_ignore_ascii_case("bearer ").then(|| key.trim())
        })
        .is_some_and(|key| !key.is_empty())
}

/// The 401 for a missing key.
fn missing_key(flavor: Flavor) -> HttpResponse {
    match flavor {
        Flavor::OpenAi => error(
            flavor,
            StatusCode::UNAUTHORIZED,
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            "invalid_request_error",
            Some("invalid_api_key"),
        ),
        Flavor::OpenRouter => error(
            flavor,
            StatusCode::UNAUTHORIZED,
            "No auth credentials found",
            "",
            None,
        ),
    }
}

fn injected_error(flavor: Flavor, status: StatusCode) -> HttpResponse {
    let (message, kind, code) = match status.as_u16() {
        429 => (
            "Rate limit reached for requests (mock). Please try again in 1s.",
            "requests",
            Some("rate_limit_exceeded"),
        ),
        503 => (
            "The server is overloaded or not ready yet (mock).",
            "server_error",
            None,
        ),
        _ => (
            "The server had an error while processing your request. Sorry about that! (mock)",
            "server_error",
            None,
        ),
    };
    knobs::with_retry_after(error(flavor, status, message, kind, code))
}

/// A 400 `invalid_request_error`.
fn invalid_request(flavor: Flavor, message: &str, code: Option<&str>) -> HttpResponse {
    error(
        flavor,
        StatusCode::BAD_REQUEST,
        message,
        "invalid_request_error",
        code,
    )
}

/// OpenAI: `{"error": {message, type, param, code}}`; OpenRouter: `{"error": {code: <status>, message}}`.
fn error(
    flavor: Flavor,
    status: StatusCode,
    message: &str,
    kind: &str,
    code: Option<&str>,
) -> HttpResponse {
    let body = match flavor {
        Flavor::OpenAi => {
            json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
        }
        Flavor::OpenRouter => json!({"error": {"code": status.as_u16(), "message": message}}),
    };
    HttpResponse::build(status).json(body)
}

/// OpenRouter's model list (a few real entries, prices in USD per token as decimal strings).
pub fn openrouter_model_list() -> Bytes {
    let model = |id: &str,
                 name: &str,
                 context: u64,
                 prompt: &str,
                 completion: &str,
                 inputs: &[&str],
                 max_out: Option<u64>| {
        json!({
            "id": id, "canonical_slug": id, "name": name, "created": 1_721_260_800, "description": format!("{name} (mock)"),
            "context_length": context,
            "architecture": {"modality": "text->text", "input_modalities": inputs, "output_modalities": ["text"],
                "tokenizer": "Other", "instruct_type": null},
            "pricing": {"prompt": prompt, "completion": completion, "request": "0", "image": "0",
                "web_search": "0", "internal_reasoning": "0"},
            "top_provider": {"context_length": context, "max_completion_tokens": max_out, "is_moderated": false},
            "per_request_limits": null,
            "supported_parameters": ["max_tokens", "temperature", "top_p", "stop", "seed", "tools", "tool_choice",
                "response_format", "structured_outputs"],
        })
    };
    let list = json!({"data": [
        model("meta-llama/llama-3.1-8b-instruct", "Meta: Llama 3.1 8B Instruct", 131_072, "0.00000002", "0.00000003", &["text"], Some(16_384)),
        model("openai/gpt-4o-mini", "OpenAI: GPT-4o-mini", 128_000, "0.00000015", "0.0000006", &["text", "image", "file"], Some(16_384)),
        model("anthropic/claude-sonnet-4.5", "Anthropic: Claude Sonnet 4.5", 1_000_000, "0.000003", "0.000015", &["text", "image", "file"], Some(64_000)),
        model("google/gemini-2.5-flash", "Google: Gemini 2.5 Flash", 1_048_576, "0.0000003", "0.0000025", &["text", "image", "file", "audio", "video"], Some(65_535)),
        model("openrouter/auto", "Auto Router", 2_000_000, "-1", "-1", &["text", "image"], None),
    ]});
    Bytes::from(serde_json::to_vec(&list).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn conversation(extra: Value, tools: bool) -> Conversation {
        let mut body = json!({"messages": [{"role": "user", "content": "hi there"}]});
        if tools {
            body["tools"] = json!([{"type": "function", "function": {"name": "get_weather"}}]);
        }
        if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
            b.extend(e);
        }
        Conversation::from_openai(&body)
    }

    fn completion(flavor: Flavor, conversation: &Conversation) -> Value {
        serde_json::from_slice(&Answer::new(flavor, "m").completion(conversation)).unwrap()
    }

    #[test]
    fn reasoning_comes_as_reasoning_content_and_counts_in_completion_tokens() {
        let on = conversation(json!({"reasoning_effort": "low"}), false);
        let body = completion(Flavor::OpenAi, &on);
        let message = &body["choices"][0]["message"];
        assert_eq!(message["reasoning_content"], "thinking about: hi there");
        assert_eq!(message["content"], "echo: hi there");
        let usage = &body["usage"];
        assert_eq!(usage["completion_tokens"], 3 + 4);
        assert_eq!(usage["total_tokens"], 5 + 7);
        assert_eq!(usage["completion_tokens_details"]["reasoning_tokens"], 4);

        let call = conversation(json!({"reasoning": {"effort": "high"}}), true);
        let body = completion(Flavor::OpenRouter, &call);
        let message = &body["choices"][0]["message"];
        assert_eq!(message["reasoning_content"], "thinking about: hi there");
        assert_eq!(
            message["tool_calls"][0]["function"]["arguments"],
            TOOL_ARGUMENTS
        );
        assert_eq!(
            body["usage"],
            json!({"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10,
                "prompt_tokens_details": {"cached_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 4}})
        );
    }

    #[test]
    fn without_reasoning_there_is_no_reasoning_content() {
        let off = conversation(json!({"reasoning_effort": "none"}), false);
        let body = completion(Flavor::OpenAi, &off);
        assert!(
            body["choices"][0]["message"]
                .get("reasoning_content")
                .is_none()
        );
        assert_eq!(body["usage"]["completion_tokens"], 3);
        assert_eq!(
            body["usage"]["completion_tokens_details"]["reasoning_tokens"],
            0
        );
        let chunks = Answer::new(Flavor::OpenAi, "m")
            .stream(&off, true, 0)
            .data();
        assert!(
            chunks
                .iter()
                .all(|c| c["choices"][0]["delta"].get("reasoning_content").is_none())
        );
        assert_eq!(chunks[0]["choices"][0]["delta"]["content"], "");
    }

    #[test]
    fn a_json_schema_is_answered_with_json_text_plain_and_streamed() {
        let format = json!({"response_format": {"type": "json_schema",
            "json_schema": {"name": "Weather", "schema": {"type": "object"}}}});
        let asked = conversation(format, false);
        for flavor in [Flavor::OpenAi, Flavor::OpenRouter] {
            let body = completion(flavor, &asked);
            let choice = &body["choices"][0];
            assert_eq!(choice["message"]["content"], TOOL_ARGUMENTS);
            assert_eq!(choice["finish_reason"], "stop");
            assert_eq!(body["usage"]["completion_tokens"], 1);

            let chunks = Answer::new(flavor, "m").stream(&asked, true, 0).data();
            let text: String = chunks
                .iter()
                .filter_map(|c| c["choices"].get(0))
                .filter_map(|choice| choice["delta"]["content"].as_str())
                .collect();
            assert_eq!(text, TOOL_ARGUMENTS);
            let finishes: Vec<&Value> = chunks
                .iter()
                .filter_map(|c| c["choices"].get(0))
                .map(|choice| &choice["finish_reason"])
                .filter(|f| !f.is_null())
                .collect();
            assert_eq!(finishes, [&json!("stop")]);
            assert_eq!(chunks.last().unwrap()["usage"]["completion_tokens"], 1);
        }
    }

    #[test]
    fn streamed_reasoning_comes_first() {
        for (flavor, tools) in [(Flavor::OpenAi, false), (Flavor::OpenRouter, true)] {
            let on = conversation(json!({"reasoning": {}}), tools);
            let chunks = Answer::new(flavor, "m").stream(&on, true, 0).data();
            let deltas: Vec<&Value> = chunks
                .iter()
                .filter_map(|c| c["choices"].get(0).map(|ch| &ch["delta"]))
                .collect();
            let reasoning: Vec<&str> = deltas
                .iter()
                .map_while(|d| d["reasoning_content"].as_str())
                .collect();
            assert_eq!(reasoning, ["thinking", " about:", " hi", " there"]);
            assert_eq!(deltas[0]["role"], "assistant");
            assert!(
                deltas[reasoning.len()..]
                    .iter()
                    .all(|d| d.get("reasoning_content").is_none())
            );
            let answer_tokens = if tools { 1 } else { 3 };
            let usage = &chunks.last().unwrap()["usage"];
            assert_eq!(usage["completion_tokens"], answer_tokens + 4);
            assert_eq!(usage["completion_tokens_details"]["reasoning_tokens"], 4);
        }
    }
}
