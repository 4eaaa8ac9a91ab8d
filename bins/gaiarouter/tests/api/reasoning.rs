//! Reasoning through the Chat Completions API, to every provider (specs/messages.md, M-14 – M-16): a
//! `reasoning_effort` turns the provider's reasoning on, the reasoning comes back as `reasoning_content`
//! with its signature in `reasoning_details`, and a stateless client that sends the assistant turn back
//! as it received it continues a tool call — which `mock-upstream`, like Anthropic and Gemini, refuses
//! when a thinking signature or a `thoughtSignature` did not come back.

use serde_json::{Value, json};

use crate::helpers::{MockUpstream, chunks};
use crate::scenarios::{PROVIDERS, spawn_every_provider};

const QUESTION: &str = "weather in paris";

fn tools() -> Value {
    json!([{"type": "function", "function": {"name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}])
}

/// The assistant message a streaming client accumulates from the chunks: text, tool calls,
/// `reasoning_content`, and the `reasoning_details` entries as they arrived.
fn accumulate(body: &str) -> (Value, Value) {
    let mut reasoning = String::new();
    let mut details = Vec::new();
    let mut calls: Vec<Value> = Vec::new();
    let mut usage = Value::Null;
    for chunk in chunks(body) {
        if !chunk["usage"].is_null() {
            usage = chunk["usage"].clone();
        }
        let Some(delta) = chunk["choices"].get(0).map(|c| &c["delta"]) else {
            continue;
        };
        reasoning.push_str(delta["reasoning_content"].as_str().unwrap_or_default());
        details.extend(
            delta["reasoning_details"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        );
        for call in delta["tool_calls"].as_array().into_iter().flatten() {
            let index = call["index"].as_u64().unwrap() as usize;
            if calls.len() <= index {
                calls.push(json!({"id": call["id"], "type": "function",
                                  "function": {"name": call["function"]["name"], "arguments": ""}}));
            }
            let arguments = format!(
                "{}{}",
                calls[index]["function"]["arguments"].as_str().unwrap(),
                call["function"]["arguments"].as_str().unwrap_or_default()
            );
            calls[index]["function"]["arguments"] = json!(arguments);
        }
    }
    let message = json!({"role": "assistant", "content": null, "tool_calls": calls,
                         "reasoning_content": reasoning, "reasoning_details": details});
    (message, usage)
}

#[tokio::test]
async fn reasoning_and_its_signatures_survive_a_tool_call_through_chat_completions() {
    let mock = MockUpstream::start(&[]);
    let app = spawn_every_provider(&mock).await;
    let mut failures = Vec::new();
    for (model, provider) in PROVIDERS {
        for stream in [false, true] {
            let first = json!({"model": model, "reasoning_effort": "low", "tools": tools(),
                "stream": stream, "stream_options": if stream { json!({"include_usage": true}) } else { Value::Null },
                "messages": [{"role": "user", "content": QUESTION}]});
            let res = app.admin().chat(&first).await;
            assert_eq!(res.status(), 200, "{model}");
            let text = res.text().await.unwrap();
            let (assistant, usage) = if stream {
                accumulate(&text)
            } else {
                let body: Value = serde_json::from_str(&text).unwrap();
                (body["choices"][0]["message"].clone(), body["usage"].clone())
            };
            let reasoning = assistant["reasoning_content"].as_str().unwrap_or_default();
            if reasoning != format!("thinking about: {QUESTION}") {
                failures.push(format!("{model} stream={stream}: reasoning {assistant}"));
                continue;
            }
            if *provider == "anthropic" {
                // Anthropic's signature reaches the client in reasoning_details.
                let signed = assistant["reasoning_details"]
                    .as_array()
                    .is_some_and(|d| d.iter().any(|e| e["signature"].is_string()));
                assert!(signed, "{model} stream={stream}: {assistant}");
            }
            // Reasoning tokens: reported apart by OpenAI-format servers and Gemini (the five words); Anthropic
            // counts thinking inside its output and reports none apart.
            let reasoning_tokens = usage["completion_tokens_details"]["reasoning_tokens"].clone();
            let want = if *provider == "anthropic" { 0 } else { 5 };
            assert_eq!(reasoning_tokens, want, "{model} stream={stream}: {usage}");

            // The next turn: the assistant message back as received, and the tool's result.
            let call_id = assistant["tool_calls"][0]["id"].clone();
            let second = json!({"model": model, "reasoning_effort": "low", "tools": tools(),
                "messages": [
                    {"role": "user", "content": QUESTION},
                    assistant,
                    {"role": "tool", "tool_call_id": call_id, "content": "sunny"}]});
            let res = app.admin().chat(&second).await;
            let status = res.status();
            let body: Value = res.json().await.unwrap();
            if status != 200 {
                failures.push(format!(
                    "{model} stream={stream}: second turn {status} {body}"
                ));
                continue;
            }
            assert_eq!(
                body["choices"][0]["message"]["content"],
                format!("echo: {QUESTION}"),
                "{model} stream={stream}"
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_tool_turn_without_its_signature_is_refused_by_the_provider_as_it_would_be() {
    // The control for the test above: the same second turn with the reasoning stripped fails on the
    // providers that check signatures, so their success above is the signatures' doing.
    let mock = MockUpstream::start(&[]);
    let app = spawn_every_provider(&mock).await;
    for model in ["anthropic/claude-sonnet-4-5", "google/gemini-2.5-flash"] {
        let first = json!({"model": model, "reasoning_effort": "low", "tools": tools(),
            "messages": [{"role": "user", "content": QUESTION}]});
        let body: Value = app.admin().chat(&first).await.json().await.unwrap();
        let mut assistant = body["choices"][0]["message"].clone();
        let map = assistant.as_object_mut().unwrap();
        map.remove("reasoning_details");
        map.remove("reasoning_content");
        // Gemini's signature rides in the call id: a client that rewrote the id loses it.
        let call_id = if model.starts_with("google") {
            json!("call_rewritten")
        } else {
            assistant["tool_calls"][0]["id"].clone()
        };
        assistant["tool_calls"][0]["id"] = call_id.clone();
        let second = json!({"model": model, "reasoning_effort": "low", "tools": tools(),
            "messages": [
                {"role": "user", "content": QUESTION},
                assistant,
                {"role": "tool", "tool_call_id": call_id, "content": "sunny"}]});
        let res = app.admin().chat(&second).await;
        assert_eq!(res.status(), 400, "{model}: {}", res.text().await.unwrap());
    }
}
