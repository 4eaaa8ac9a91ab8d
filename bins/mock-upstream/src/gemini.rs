//! Gemini `POST /v1beta/models/{model}:generateContent` and `:streamGenerateContent` (`?alt=sse` for
//! server-sent events, framed with CRLF like Google's; without it, a JSON array of the same chunks). The
//! key comes in `x-goog-api-key` or the `key` query parameter.
//!
//! With `generationConfig.thinkingConfig.includeThoughts`, the answer starts with a thought part (its own
//! chunks in a stream), its function call or text part carries a `thoughtSignature`, and every function
//! call the request replays in a `model` turn must carry the signature it came with.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{Value, json};

use crate::conversation::{
    Conversation, Reply, TOOL_ARGUMENTS, as_slice, count_words, either, json_object, signature,
    text_pieces,
};
use crate::knobs::{self, Frames, Knobs, Outcome};
use crate::next_id;

/// `POST /v1beta/models/{model}:{method}`.
pub fn generate(req: &HttpRequest, body: &[u8], knobs: Knobs) -> Outcome {
    if let Some(model) = req
        .match_info()
        .get("target")
        .and_then(|target| target.strip_suffix(":countTokens"))
    {
        return count_tokens(req, model, body, knobs);
    }
    if let Some(model) = req
        .match_info()
        .get("target")
        .and_then(|target| target.strip_suffix(":batchEmbedContents"))
    {
        return batch_embed(req, model, body, knobs);
    }
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
    if conversation.reasoning.is_some() {
        check_thought_signatures(&request)
            .map_err(|message| error(StatusCode::BAD_REQUEST, &message))?;
    }
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

/// `{model}:countTokens` with a `generateContentRequest` naming `models/{model}`: `{"totalTokens": n}`, the
/// prompt tokens the request would have.
fn count_tokens(req: &HttpRequest, model: &str, body: &[u8], knobs: Knobs) -> Outcome {
    if !has_key(req) {
        let message = "Request is missing required authentication credential. Expected an API key in x-goog-api-key.";
        return Err(error(StatusCode::UNAUTHORIZED, message).into());
    }
    if let Some(status) = knobs.error_status() {
        return Err(injected_error(status).into());
    }
    let request = json_object(body)
        .ok_or_else(|| error(StatusCode::BAD_REQUEST, "Invalid JSON payload received."))?;
    let inner = &request["generateContentRequest"];
    if inner["model"] != format!("models/{model}") {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "* CountTokensRequest.generate_content_request.model: must name the model of the URL (mock)\n",
        )
        .into());
    }
    if inner["contents"].as_array().is_none_or(Vec::is_empty) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "* GenerateContentRequest.contents: contents is not specified\n",
        )
        .into());
    }
    let total = Conversation::from_gemini(inner).prompt_tokens;
    Ok(knobs.json(
        serde_json::json!({ "totalTokens": total })
            .to_string()
            .into_bytes(),
    ))
}

/// `{model}:batchEmbedContents`: one vector per request, no usage (see [`crate::embeddings`]).
fn batch_embed(req: &HttpRequest, model: &str, body: &[u8], knobs: Knobs) -> Outcome {
    if !has_key(req) {
        let message = "Request is missing required authentication credential. Expected an API key in x-goog-api-key.";
        return Err(error(StatusCode::UNAUTHORIZED, message).into());
    }
    if let Some(status) = knobs.error_status() {
        return Err(injected_error(status).into());
    }
    let request = json_object(body)
        .ok_or_else(|| error(StatusCode::BAD_REQUEST, "Invalid JSON payload received."))?;
    let answer = crate::embeddings::gemini_answer(model, &request)
        .map_err(|message| error(StatusCode::BAD_REQUEST, &message))?;
    Ok(knobs.json(serde_json::to_vec(&answer).unwrap_or_default()))
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

/// With thoughts on: every function call replayed in a `model` turn carries the signature of its name and
/// arguments; else the message of the 400.
fn check_thought_signatures(request: &Value) -> Result<(), String> {
    let model_turns = as_slice(&request["contents"])
        .iter()
        .enumerate()
        .filter(|(_, c)| c["role"] == "model");
    for (i, content) in model_turns {
        for (j, part) in as_slice(&content["parts"]).iter().enumerate() {
            let call = either(part, "functionCall", "function_call");
            if call.is_null() {
                continue;
            }
            let name = call["name"].as_str().unwrap_or("");
            let args = serde_json::to_string(&call["args"]).unwrap_or_default();
            let problem = match either(part, "thoughtSignature", "thought_signature").as_str() {
                None => "is missing its thought signature (thought_signature)",
                Some(s) if s != signature(&format!("{name}{args}")) => {
                    "has an invalid thought signature"
                }
                Some(_) => continue,
            };
            return Err(format!(
                "Function call `{name}` in contents[{i}].parts[{j}] {problem}. With thinking on, \
                 function calls must be sent back with the thought signature they came with (mock)."
            ));
        }
    }
    Ok(())
}

struct Answer<'a> {
    model: &'a str,
    response_id: String,
}

impl Answer<'_> {
    fn whole(&self, conversation: &Conversation) -> Value {
        let mut parts: Vec<Value> = thought(conversation).into_iter().collect();
        parts.push(answer_part(conversation, None));
        let usage = usage(
            conversation.prompt_tokens,
            conversation.completion_tokens(),
            conversation.reasoning_tokens(),
        );
        self.chunk(parts, Some(usage))
    }

    /// The streamed chunks: the thought's (one per word), then the answer's; the last carries
    /// `finishReason` and `usageMetadata`.
    fn chunks(&self, conversation: &Conversation, forced_chunks: usize) -> Vec<Value> {
        let mut chunks: Vec<Value> = match &conversation.reasoning {
            Some(reasoning) => text_pieces(reasoning, 0)
                .iter()
                .map(|piece| self.chunk(vec![json!({"text": piece, "thought": true})], None))
                .collect(),
            None => Vec::new(),
        };
        let thoughts = conversation.reasoning_tokens();
        match &conversation.reply {
            Reply::Text(text) => {
                let pieces = text_pieces(text, forced_chunks);
                let completion: u64 = pieces.iter().map(|p| count_words(p)).sum();
                let last = pieces.len().saturating_sub(1);
                let signed = pieces.concat();
                chunks.extend(pieces.iter().enumerate().map(|(i, piece)| {
                    if i < last {
                        return self.chunk(vec![json!({"text": piece})], None);
                    }
                    let part = answer_part(conversation, Some((piece, &signed)));
                    let usage = usage(conversation.prompt_tokens, completion, thoughts);
                    self.chunk(vec![part], Some(usage))
                }));
            }
            Reply::ToolCall(_) => {
                let usage = usage(
                    conversation.prompt_tokens,
                    count_words(TOOL_ARGUMENTS),
                    thoughts,
                );
                chunks.push(self.chunk(vec![answer_part(conversation, None)], Some(usage)));
            }
        }
        chunks
    }

    /// One `GenerateContentResponse`; with `usage`, it is the final one (`finishReason: STOP`).
    fn chunk(&self, parts: Vec<Value>, usage: Option<Value>) -> Value {
        let mut candidate = json!({"content": {"parts": parts, "role": "model"}, "index": 0});
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

/// The thought part, when thoughts were asked for.
fn thought(conversation: &Conversation) -> Option<Value> {
    let reasoning = conversation.reasoning.as_deref()?;
    Some(json!({"text": reasoning, "thought": true}))
}

/// The answer's part: its text (`piece`, or the whole text) or its function call; with thoughts on, with
/// the `thoughtSignature` of the whole text (`signed`, or the whole text), or of the call.
fn answer_part(conversation: &Conversation, text: Option<(&str, &str)>) -> Value {
    let (mut part, signed) = match &conversation.reply {
        Reply::Text(whole) => {
            let (piece, signed) = text.unwrap_or((whole, whole));
            (json!({"text": piece}), signed.to_owned())
        }
        Reply::ToolCall(name) => (function_call(name), format!("{name}{TOOL_ARGUMENTS}")),
    };
    if conversation.reasoning.is_some() {
        part["thoughtSignature"] = json!(signature(&signed));
    }
    part
}

fn function_call(name: &str) -> Value {
    let args: Value = serde_json::from_str(TOOL_ARGUMENTS).unwrap_or(Value::Null);
    json!({"functionCall": {"name": name, "args": args}})
}

/// Usage; `thoughtsTokenCount` only with thoughts.
fn usage(prompt: u64, completion: u64, thoughts: u64) -> Value {
    let mut usage = json!({"promptTokenCount": prompt, "candidatesTokenCount": completion,
        "totalTokenCount": prompt + completion + thoughts,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}]});
    if thoughts > 0 {
        usage["thoughtsTokenCount"] = json!(thoughts);
    }
    usage
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const CALL_SIGNATURE: &str = "mocksig-bd987c961591f9d2";

    fn conversation(thoughts: bool, tools: bool) -> Conversation {
        let mut body = json!({"contents": [{"role": "user", "parts": [{"text": "hi there"}]}],
            "generationConfig": {"thinkingConfig": {"includeThoughts": thoughts}}});
        if tools {
            body["tools"] = json!([{"functionDeclarations": [{"name": "get_weather"}]}]);
        }
        Conversation::from_gemini(&body)
    }

    fn answer() -> Answer<'static> {
        Answer {
            model: "m",
            response_id: "r".into(),
        }
    }

    fn parts(chunk: &Value) -> &Value {
        &chunk["candidates"][0]["content"]["parts"]
    }

    #[test]
    fn a_thought_part_comes_first_and_the_answer_is_signed() {
        let whole = answer().whole(&conversation(true, false));
        assert_eq!(
            parts(&whole),
            &json!([{"text": "thinking about: hi there", "thought": true},
                {"text": "echo: hi there", "thoughtSignature": signature("echo: hi there")}])
        );
        assert_eq!(
            whole["usageMetadata"],
            json!({"promptTokenCount": 5, "candidatesTokenCount": 3, "thoughtsTokenCount": 4,
                "totalTokenCount": 12, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 5}]})
        );
        let call = answer().whole(&conversation(true, true));
        assert_eq!(
            parts(&call)[1],
            json!({"functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
                "thoughtSignature": CALL_SIGNATURE})
        );
        assert_eq!(call["usageMetadata"]["totalTokenCount"], 5 + 1 + 4);
        let plain = answer().whole(&conversation(false, true));
        assert_eq!(
            parts(&plain),
            &json!([{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}])
        );
        assert!(plain["usageMetadata"].get("thoughtsTokenCount").is_none());
    }

    #[test]
    fn streamed_thoughts_come_in_their_own_chunks_first() {
        let chunks = answer().chunks(&conversation(true, false), 0);
        assert_eq!(chunks.len(), 4 + 3);
        let thought: String = chunks[..4]
            .iter()
            .map(|c| {
                assert_eq!(parts(c)[0]["thought"], true);
                assert!(c.get("usageMetadata").is_none());
                parts(c)[0]["text"].as_str().unwrap()
            })
            .collect();
        assert_eq!(thought, "thinking about: hi there");
        assert!(
            chunks[4..]
                .iter()
                .all(|c| parts(c)[0].get("thought").is_none())
        );
        let last = &chunks[6];
        assert_eq!(
            parts(last),
            &json!([{"text": " there", "thoughtSignature": signature("echo: hi there")}])
        );
        assert_eq!(last["usageMetadata"]["thoughtsTokenCount"], 4);
        assert_eq!(last["usageMetadata"]["totalTokenCount"], 12);

        let chunks = answer().chunks(&conversation(true, true), 0);
        assert_eq!(chunks.len(), 4 + 1);
        assert_eq!(parts(&chunks[4])[0]["thoughtSignature"], CALL_SIGNATURE);

        let plain = answer().chunks(&conversation(false, false), 0);
        assert_eq!(plain.len(), 3);
        assert_eq!(parts(&plain[2]), &json!([{"text": " there"}]));
    }

    #[test]
    fn a_response_schema_is_answered_with_json_text_whole_and_streamed() {
        let body = json!({"contents": [{"role": "user", "parts": [{"text": "Weather in Paris?"}]}],
            "generationConfig": {"responseMimeType": "application/json",
                "responseSchema": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}}}});
        let asked = Conversation::from_gemini(&body);
        let whole = answer().whole(&asked);
        assert_eq!(parts(&whole), &json!([{"text": TOOL_ARGUMENTS}]));
        assert_eq!(whole["candidates"][0]["finishReason"], "STOP");
        assert_eq!(whole["usageMetadata"]["candidatesTokenCount"], 1);
        let chunks = answer().chunks(&asked, 0);
        let text: String = chunks
            .iter()
            .filter_map(|c| parts(c)[0]["text"].as_str())
            .collect();
        assert_eq!(text, TOOL_ARGUMENTS);
        assert_eq!(
            chunks.last().unwrap()["candidates"][0]["finishReason"],
            "STOP"
        );
    }

    fn replay(call_part: Value, role: &str) -> Value {
        json!({"contents": [
            {"role": "user", "parts": [{"text": "Weather?"}]},
            {"role": role, "parts": [{"text": "thinking", "thought": true}, call_part]},
            {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"sky": "sunny"}}}]}]})
    }

    #[test]
    fn replayed_function_calls_must_keep_their_thought_signature() {
        let call = json!({"name": "get_weather", "args": {"city": "Paris"}});
        let signed = json!({"functionCall": call, "thoughtSignature": CALL_SIGNATURE});
        let snake = json!({"function_call": call, "thought_signature": CALL_SIGNATURE});
        for ok in [signed, snake] {
            assert_eq!(check_thought_signatures(&replay(ok, "model")), Ok(()));
        }
        let unsigned = json!({"functionCall": call});
        assert_eq!(
            check_thought_signatures(&replay(unsigned.clone(), "user")),
            Ok(()),
            "only model turns are checked"
        );
        let other_args = json!({"functionCall": {"name": "get_weather", "args": {"city": "Rome"}},
            "thoughtSignature": CALL_SIGNATURE});
        for (part, problem) in [
            (unsigned, "is missing its thought signature"),
            (other_args, "has an invalid thought signature"),
        ] {
            let err = check_thought_signatures(&replay(part, "model")).unwrap_err();
            assert!(
                err.starts_with("Function call `get_weather` in contents[1].parts[1] ")
                    && err.contains(problem),
                "{err}"
            );
        }
    }
}
