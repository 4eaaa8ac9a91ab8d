//! The Anthropic Messages API (`POST /v1/messages`, `POST /v1/messages/count_tokens`) against every
//! provider kind: the same conversations sent plain and streamed must come back as the same message —
//! Anthropic's event stream folded the way the SDKs fold it — with the mock's exact token counts, each
//! request recorded as a `messages` request; errors in Anthropic's envelope; an Anthropic upstream given
//! the client's thinking blocks, signatures and cache breakpoints untouched.

use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::client::ok_json;
use crate::helpers::{MockUpstream, TestApp, spawn_app, spawn_app_with_upstream};
use crate::scenarios::{PROVIDERS, spawn_every_provider};

// ---------------------------------------------------------------- reading the Messages API

/// The events of an Anthropic stream as (name, data), checking each `data.type` names its event.
fn events(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter(|frame| !frame.trim().is_empty())
        .map(|frame| {
            let name = frame
                .lines()
                .find_map(|l| l.strip_prefix("event: "))
                .unwrap_or_else(|| panic!("a frame without an event name: {frame:?}"));
            let data = frame
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .unwrap_or_else(|| panic!("a frame without data: {frame:?}"));
            let data: Value = serde_json::from_str(data).unwrap();
            assert_eq!(data["type"], name, "{frame}");
            (name.to_owned(), data)
        })
        .collect()
}

/// Folds a stream into the message it describes, as the Anthropic SDKs do, checking Anthropic's order:
/// `message_start` first, blocks opened, filled and closed one at a time with consecutive indexes, one
/// `message_delta`, `message_stop` last. An `error` event is returned as `Err`.
fn fold(body: &str) -> Result<Value, String> {
    let events = events(body);
    let mut iter = events.into_iter().filter(|(name, _)| name != "ping");
    let (first, start) = iter.next().ok_or("an empty stream")?;
    if first == "error" {
        return Err(start.to_string());
    }
    assert_eq!(first, "message_start", "{body}");
    let mut message = start["message"].clone();
    assert_eq!(message["content"], json!([]), "{body}");
    let mut open: Option<(usize, String)> = None;
    let mut delta_seen = false;
    let mut stopped = false;
    for (name, data) in iter {
        assert!(!stopped, "an event after message_stop: {body}");
        match name.as_str() {
            "content_block_start" => {
                assert!(open.is_none(), "blocks overlap: {body}");
                let index = message["content"].as_array().unwrap().len();
                assert_eq!(data["index"], index, "{body}");
                message["content"]
                    .as_array_mut()
                    .unwrap()
                    .push(data["content_block"].clone());
                open = Some((index, String::new()));
            }
            "content_block_delta" => {
                let (index, json_text) = open.as_mut().expect("a delta outside a block");
                assert_eq!(data["index"], *index, "{body}");
                let block = &mut message["content"][*index];
                let delta = &data["delta"];
                let append = |block: &mut Value, field: &str, piece: &Value| {
                    let text = format!(
                        "{}{}",
                        block[field].as_str().unwrap_or_default(),
                        piece.as_str().unwrap()
                    );
                    block[field] = json!(text);
                };
                match delta["type"].as_str().unwrap() {
                    "text_delta" => append(block, "text", &delta["text"]),
                    "thinking_delta" => append(block, "thinking", &delta["thinking"]),
                    "signature_delta" => block["signature"] = delta["signature"].clone(),
                    "input_json_delta" => {
                        json_text.push_str(delta["partial_json"].as_str().unwrap())
                    }
                    other => panic!("unknown delta {other}: {body}"),
                }
            }
            "content_block_stop" => {
                let (index, json_text) = open.take().expect("a stop outside a block");
                assert_eq!(data["index"], index, "{body}");
                if message["content"][index]["type"] == "tool_use" && !json_text.is_empty() {
                    message["content"][index]["input"] = serde_json::from_str(&json_text)
                        .unwrap_or_else(|e| panic!("tool input {json_text:?}: {e}"));
                }
            }
            "message_delta" => {
                assert!(open.is_none() && !delta_seen, "{body}");
                delta_seen = true;
                message["stop_reason"] = data["delta"]["stop_reason"].clone();
                message["stop_sequence"] = data["delta"]["stop_sequence"].clone();
                for (k, v) in data["usage"].as_object().unwrap() {
                    message["usage"][k] = v.clone();
                }
            }
            "message_stop" => {
                assert!(delta_seen, "message_stop without message_delta: {body}");
                stopped = true;
            }
            "error" => return Err(data.to_string()),
            other => panic!("unknown event {other}: {body}"),
        }
    }
    assert!(stopped, "the stream did not end with message_stop: {body}");
    Ok(message)
}

/// The message with tool-use ids (the provider's own) checked and blanked.
fn without_ids(mut message: Value) -> Value {
    for block in message["content"].as_array_mut().into_iter().flatten() {
        if block["type"] == "tool_use" {
            assert!(
                block["id"].as_str().is_some_and(|id| !id.is_empty()),
                "{block}"
            );
            block["id"] = json!("*");
        }
    }
    message
}

/// Asserts Anthropic's error envelope with `status` and `error.type`, and returns `error.message`.
async fn anthropic_error(res: reqwest::Response, status: u16, kind: &str) -> String {
    assert_eq!(res.status().as_u16(), status, "{:?}", res.headers());
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let request_id = res
        .headers()
        .get("request-id")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(body["error"]["type"], kind, "{body}");
    assert!(
        body.get("code").is_none() && body["error"].get("code").is_none(),
        "{body}"
    );
    if let Some(id) = request_id {
        assert_eq!(body["request_id"], id.as_str(), "{body}");
    }
    let message = body["error"]["message"].as_str().unwrap().to_owned();
    assert!(!message.is_empty(), "{body}");
    message
}

/// Polls the request log (admin) until `query` matches `total` records, and returns the page.
async fn request_log(app: &TestApp, query: &str, total: usize) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let log = ok_json(app.admin().request_log(query).await).await;
        if log["pagination"]["total"] == total || std::time::Instant::now() > deadline {
            assert_eq!(log["pagination"]["total"], total, "{query}: {log}");
            return log;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

// ---------------------------------------------------------------- every provider

fn weather_tool() -> Value {
    json!({"name": "get_weather", "description": "Current weather",
           "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}})
}

struct Case {
    name: &'static str,
    /// The body without `model` and `stream`.
    body: Value,
    content: Value,
    stop_reason: &'static str,
    /// The mock's rules: words of every text (system and tool results included) + 3 …
    input_tokens: u64,
    /// … and words of the answer (of the arguments, for a call).
    output_tokens: u64,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "a system prompt in cached blocks",
            body: json!({"max_tokens": 100,
                "system": [{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}],
                "messages": [{"role": "user", "content": "hello there gateway"}]}),
            content: json!([{"type": "text", "text": "echo: hello there gateway"}]),
            stop_reason: "end_turn",
            input_tokens: 2 + 3 + 3,
            output_tokens: 4,
        },
        Case {
            name: "a declared tool is called",
            body: json!({"max_tokens": 100, "tools": [weather_tool()],
                "messages": [{"role": "user", "content": [{"type": "text", "text": "weather in paris"}]}]}),
            content: json!([{"type": "tool_use", "id": "*", "name": "get_weather", "input": {"city": "Paris"}}]),
            stop_reason: "tool_use",
            input_tokens: 3 + 3,
            output_tokens: 1,
        },
        Case {
            name: "a tool result is answered",
            body: json!({"max_tokens": 100, "tools": [weather_tool()],
                "messages": [
                    {"role": "user", "content": "weather in paris"},
                    {"role": "assistant", "content": [
                        {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}}]},
                    {"role": "user", "content": [
                        {"type": "tool_result", "tool_use_id": "toolu_01", "content": "sunny and warm"}]}]}),
            content: json!([{"type": "text", "text": "echo: weather in paris"}]),
            stop_reason: "end_turn",
            input_tokens: 3 + 3 + 3,
            output_tokens: 4,
        },
        Case {
            name: "tools switched off",
            body: json!({"max_tokens": 100, "tools": [weather_tool()], "tool_choice": {"type": "none"},
                "messages": [{"role": "user", "content": "hello"}]}),
            content: json!([{"type": "text", "text": "echo: hello"}]),
            stop_reason: "end_turn",
            input_tokens: 1 + 3,
            output_tokens: 2,
        },
    ]
}

async fn send(
    app: &TestApp,
    model: &str,
    provider: &str,
    case: &Case,
    stream: bool,
) -> Result<Value, String> {
    let mut body = case.body.clone();
    body["model"] = json!(model);
    body["stream"] = json!(stream);
    let res = app.admin().messages(&body).await;
    let status = res.status();
    let served_by = res
        .headers()
        .get("x-gaia-provider")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = res.text().await.unwrap();
    if status != 200 {
        return Err(format!("status {status}: {text}"));
    }
    if served_by.as_deref() != Some(provider) {
        return Err(format!("x-gaia-provider was {served_by:?}"));
    }
    let message = if stream {
        fold(&text)?
    } else {
        serde_json::from_str(&text).unwrap()
    };
    Ok(without_ids(message))
}

#[tokio::test]
async fn every_provider_answers_the_messages_api_alike_plain_and_streamed() {
    let mock = MockUpstream::start(&[]);
    let app = spawn_every_provider(&mock).await;
    let mut failures = Vec::new();
    let mut sent = 0;
    for (model, provider) in PROVIDERS {
        for case in cases() {
            for stream in [false, true] {
                sent += 1;
                let got = match send(&app, model, provider, &case, stream).await {
                    Ok(got) => got,
                    Err(e) => {
                        failures.push(format!("{model} / {} / stream={stream}: {e}", case.name));
                        continue;
                    }
                };
                let id = got["id"].as_str().unwrap_or_default();
                let want = json!({
                    "id": id, "type": "message", "role": "assistant", "model": model,
                    "content": case.content, "stop_reason": case.stop_reason, "stop_sequence": null,
                    "usage": {"input_tokens": case.input_tokens, "output_tokens": case.output_tokens,
                              "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
                });
                if !id.starts_with("msg_") || got != want {
                    failures.push(format!(
                        "{model} / {} / stream={stream}:\n got {got}\nwant {want}",
                        case.name
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Every one is recorded as a Messages API request, with its provider and the provider's tokens.
    let log = request_log(&app, "api=messages&limit=100", sent).await;
    for record in log["data"].as_array().unwrap() {
        assert_eq!(record["api"], "messages", "{record}");
        assert_eq!(record["status_code"], 200, "{record}");
        assert_eq!(record["estimated"], false, "{record}");
        let (_, provider) = PROVIDERS
            .iter()
            .find(|(model, _)| record["model"] == *model)
            .unwrap();
        assert_eq!(record["provider"], *provider, "{record}");
    }
    request_log(&app, "api=chat.completions", 0).await;
}

// ---------------------------------------------------------------- errors and limits

#[tokio::test]
async fn errors_on_the_messages_api_use_anthropics_envelope_and_are_recorded() {
    let app = spawn_app().await;
    let body = json!({"model": "anthropic/claude-sonnet-4-5", "max_tokens": 10,
                      "messages": [{"role": "user", "content": "hi"}]});

    anthropic_error(
        app.anonymous().messages(&body).await,
        401,
        "authentication_error",
    )
    .await;
    anthropic_error(
        app.with("gaia-not-a-key").messages(&body).await,
        401,
        "authentication_error",
    )
    .await;
    anthropic_error(
        app.anonymous().count_tokens(&body).await,
        401,
        "authentication_error",
    )
    .await;

    let mut no_budget = body.clone();
    no_budget.as_object_mut().unwrap().remove("max_tokens");
    let message = anthropic_error(
        app.admin().messages(&no_budget).await,
        400,
        "invalid_request_error",
    )
    .await;
    assert!(message.starts_with("max_tokens: "), "{message}");

    let mut bad_block = body.clone();
    bad_block["messages"] = json!([{"role": "user", "content": [
        {"type": "image", "source": {"type": "base64", "media_type": "text/html", "data": "x"}}]}]);
    let message = anthropic_error(
        app.admin().messages(&bad_block).await,
        400,
        "invalid_request_error",
    )
    .await;
    assert!(
        message.starts_with("messages.0.content.0.source.media_type: "),
        "{message}"
    );

    let mut unknown = body.clone();
    unknown["model"] = json!("nobody/no-such-model");
    let message =
        anthropic_error(app.admin().messages(&unknown).await, 404, "not_found_error").await;
    assert!(message.contains("[model_not_found]"), "{message}");

    let res = app
        .client
        .post(app.url("/v1/messages"))
        .header("x-api-key", app.key())
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    anthropic_error(res, 400, "invalid_request_error").await;

    // A wrong method gets the same envelope (actix answers it, the middleware dresses it).
    let res = app.get("/v1/messages").await;
    assert_eq!(res.status(), 405);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(body["error"]["type"], "invalid_request_error", "{body}");

    // The refusals that got past authentication are recorded as Messages API requests.
    let log = request_log(&app, "api=messages", 4).await;
    let statuses: Vec<u64> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status_code"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [400, 404, 400, 400], "{log}");
}

#[tokio::test]
async fn a_key_over_its_rate_limit_gets_a_429_rate_limit_error() {
    let mock = MockUpstream::start(&[]);
    let app = spawn_every_provider(&mock).await;
    let org = app.create_org("limited", json!({})).await;
    let (_, secret) = app
        .create_key(org["id"].as_str().unwrap(), json!({"rate_limit_rpm": 1}))
        .await;
    let body = json!({"model": "openai/gpt-4o-mini", "max_tokens": 10,
                      "messages": [{"role": "user", "content": "hi"}]});
    assert_eq!(app.with(&secret).messages(&body).await.status(), 200);
    let res = app.with(&secret).messages(&body).await;
    assert!(
        res.headers().get("retry-after").is_some(),
        "{:?}",
        res.headers()
    );
    anthropic_error(res, 429, "rate_limit_error").await;
}

#[tokio::test]
async fn a_server_tool_is_refused_by_providers_that_cannot_run_it() {
    let mock = MockUpstream::start(&[]);
    let app = spawn_every_provider(&mock).await;
    for model in ["openai/gpt-4o-mini", "google/gemini-2.5-flash"] {
        let body = json!({"model": model, "max_tokens": 10,
            "tools": [{"type": "web_search_20250305", "name": "web_search"}],
            "messages": [{"role": "user", "content": "news?"}]});
        let message = anthropic_error(
            app.admin().messages(&body).await,
            422,
            "invalid_request_error",
        )
        .await;
        assert!(message.starts_with("tools: "), "{message}");
        assert!(message.contains("web_search_20250305"), "{message}");
        assert!(message.ends_with("[server_tool_unsupported]"), "{message}");
    }
}

// ---------------------------------------------------------------- count_tokens

#[tokio::test]
async fn count_tokens_estimates_without_a_provider_or_a_record() {
    // Providers configured (a model of an unconfigured one is refused as on /v1/messages) but pointing at
    // a port nothing listens on: Anthropic's count cannot be had, so GaiaRouter's tokenizer answers.
    let app = spawn_app_with_upstream("http://127.0.0.1:9").await;
    let short = json!({"model": "anthropic/claude-sonnet-4-5",
                       "messages": [{"role": "user", "content": "hello there"}]});
    let res = app.admin().count_tokens(&short).await;
    let estimate = res.headers().get("x-gaia-token-count").cloned();
    let small = ok_json(res).await;
    assert_eq!(estimate.unwrap(), "estimate");
    let small = small["input_tokens"].as_u64().unwrap();
    assert!(small > 2, "{small}");

    let mut longer = short.clone();
    longer["system"] = json!("You are a careful assistant who answers in full sentences.");
    longer["tools"] = json!([weather_tool()]);
    let big: Value = ok_json(app.admin().count_tokens(&longer).await).await;
    assert!(big["input_tokens"].as_u64().unwrap() > small + 10, "{big}");

    let mut unknown = short.clone();
    unknown["model"] = json!("nobody/no-such-model");
    anthropic_error(
        app.admin().count_tokens(&unknown).await,
        404,
        "not_found_error",
    )
    .await;
    let message = anthropic_error(
        app.admin()
            .count_tokens(&json!({"model": "anthropic/claude-sonnet-4-5"}))
            .await,
        400,
        "invalid_request_error",
    )
    .await;
    assert!(message.starts_with("messages"), "{message}");

    // Counting calls no provider and is not a request: nothing is recorded (records of refused
    // requests are written within a few hundred milliseconds; none comes).
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    request_log(&app, "", 0).await;
}

#[tokio::test]
async fn count_tokens_asks_anthropic_and_gemini_and_estimates_for_the_others() {
    let mock = MockUpstream::start(&[]);
    let app = spawn_every_provider(&mock).await;
    let body = |model: &str| {
        json!({"model": model, "system": "be brief", "max_tokens": 1000, "stream": true,
               "temperature": 0.5, "tools": [weather_tool()],
               "messages": [{"role": "user", "content": "hello there gateway"}]})
    };
    // The mock counts words + 3, as it does for a message; the fields a count refuses (max_tokens,
    // stream, temperature) are not sent to it.
    for model in ["anthropic/claude-sonnet-4-5", "google/gemini-2.5-flash"] {
        let res = app.admin().count_tokens(&body(model)).await;
        let source = res.headers().get("x-gaia-token-count").cloned();
        let count = ok_json(res).await;
        assert_eq!(source.unwrap(), "provider", "{model}");
        assert_eq!(count, json!({"input_tokens": 2 + 3 + 3}), "{model}");
    }
    let res = app.admin().count_tokens(&body("openai/gpt-4o-mini")).await;
    assert_eq!(res.headers()["x-gaia-token-count"], "estimate");
    assert!(ok_json(res).await["input_tokens"].as_u64().unwrap() > 5);
}

// ---------------------------------------------------------------- an Anthropic upstream

fn sse(events: &[Value]) -> String {
    events
        .iter()
        .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap()))
        .collect()
}

#[tokio::test]
async fn an_anthropic_upstream_gets_thinking_signatures_and_cache_breakpoints_untouched() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(header("anthropic-beta", "interleaved-thinking-2025-05-14"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "msg_up", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [
                {"type": "thinking", "thinking": "The tool failed; answer anyway.", "signature": "EuYBCkQYAiJA+/new=="},
                {"type": "text", "text": "It is probably sunny."}],
            "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": 10, "output_tokens": 20,
                      "cache_read_input_tokens": 100, "cache_creation_input_tokens": 50}
        })))
        .expect(1)
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let thinking = json!({"type": "thinking", "thinking": "I should call the tool.", "signature": "EqQBCgIYAhIM+/sig=="});
    let redacted = json!({"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"});
    let res = app
        .client
        .post(app.url("/v1/messages"))
        .header("x-api-key", app.key())
        // A version GaiaRouter does not know goes on as it came (Anthropic decides).
        .header("anthropic-version", "2099-01-01")
        .header("anthropic-beta", "interleaved-thinking-2025-05-14")
        .json(&json!({
            "model": "anthropic/claude-sonnet-4-5", "max_tokens": 4096,
            "thinking": {"type": "enabled", "budget_tokens": 2048},
            "system": [{"type": "text", "text": "You are terse."},
                       {"type": "text", "text": "Long project rules.", "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
            "tools": [{"name": "get_weather", "description": "Weather", "input_schema": {"type": "object"},
                       "cache_control": {"type": "ephemeral"}},
                      {"type": "web_search_20250305", "name": "web_search", "max_uses": 2}],
            "service_tier": "auto",
            "stop_sequences": ["END"], "metadata": {"user_id": "u-42"},
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?", "cache_control": {"type": "ephemeral"}},
                    {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "Paris is in France."},
                     "title": "Atlas", "context": "geography", "citations": {"enabled": true}}]},
                {"role": "assistant", "content": [thinking, redacted,
                    {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "is_error": true,
                    "content": [{"type": "text", "text": "service down"}]}]}
            ]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let message: Value = res.json().await.unwrap();
    assert_eq!(
        message["content"],
        json!([
            {"type": "thinking", "thinking": "The tool failed; answer anyway.", "signature": "EuYBCkQYAiJA+/new=="},
            {"type": "text", "text": "It is probably sunny."}])
    );
    assert_eq!(
        message["usage"],
        json!({"input_tokens": 10, "output_tokens": 20,
               "cache_creation_input_tokens": 50, "cache_read_input_tokens": 100})
    );

    let received = &upstream.received_requests().await.unwrap()[0];
    let versions: Vec<_> = received
        .headers
        .get_all("anthropic-version")
        .iter()
        .collect();
    assert_eq!(versions, ["2099-01-01"], "the client's version, once");
    let sent: Value = received.body_json().unwrap();
    assert_eq!(
        sent["thinking"],
        json!({"type": "enabled", "budget_tokens": 2048})
    );
    assert_eq!(
        sent["system"][1]["cache_control"],
        json!({"type": "ephemeral", "ttl": "1h"}),
        "{sent}"
    );
    assert_eq!(
        sent["tools"][0]["cache_control"],
        json!({"type": "ephemeral"}),
        "{sent}"
    );
    assert_eq!(
        sent["messages"][0]["content"][0]["cache_control"],
        json!({"type": "ephemeral"}),
        "{sent}"
    );
    let assistant = &sent["messages"][1]["content"];
    assert_eq!(assistant[0], thinking, "signatures byte for byte: {sent}");
    assert_eq!(assistant[1], redacted, "{sent}");
    assert_eq!(assistant[2]["type"], "tool_use", "{sent}");
    let result = &sent["messages"][2]["content"][0];
    assert_eq!(result["type"], "tool_result", "{sent}");
    assert_eq!(result["is_error"], true, "{sent}");
    assert_eq!(sent["stop_sequences"], json!(["END"]));
    // What only Anthropic understands goes through as it came: server tools, unknown fields.
    assert_eq!(
        sent["tools"][1],
        json!({"type": "web_search_20250305", "name": "web_search", "max_uses": 2})
    );
    assert_eq!(sent["service_tier"], "auto");
    // Even a block GaiaRouter reads differently (a text document) and fields it does not model inside a
    // block (citations, context) reach Anthropic as the client wrote them.
    assert_eq!(
        sent["messages"][0]["content"][1],
        json!({"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "Paris is in France."},
               "title": "Atlas", "context": "geography", "citations": {"enabled": true}})
    );
    assert_eq!(sent["model"], "claude-sonnet-4-5");
    assert_eq!(sent["max_tokens"], 4096);
    assert!(sent.get("stream").is_none(), "{sent}");
    assert_eq!(sent["metadata"]["user_id"], "u-42");

    // Cache reads and writes are recorded apart, and priced as Anthropic bills them: $3 / M input,
    // $0.30 cache reads, $3.75 cache writes, $15 output.
    let log = request_log(&app, "api=messages", 1).await;
    let record = &log["data"][0];
    assert_eq!(record["prompt_tokens"], 160, "{record}");
    assert_eq!(record["cached_tokens"], 100, "{record}");
    assert_eq!(record["cache_creation_tokens"], 50, "{record}");
    let cost = record["cost"].as_f64().unwrap();
    let want = (10.0 * 3.0 + 100.0 * 0.30 + 50.0 * 3.75 + 20.0 * 15.0) / 1e6;
    assert!((cost - want).abs() < 1e-12, "{cost} vs {want}");
}

#[tokio::test]
async fn streamed_thinking_keeps_its_signature_and_a_failure_mid_stream_is_an_error_event() {
    let upstream = MockServer::start().await;
    let start = json!({"type": "message_start", "message": {"id": "msg_up", "type": "message", "role": "assistant",
        "model": "claude-sonnet-4-5", "content": [], "stop_reason": null, "stop_sequence": null,
        "usage": {"input_tokens": 12, "output_tokens": 1, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}}});
    let thinking = sse(&[
        start.clone(),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "Let me "}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "think."}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "EqQBCgIYAhIM+/sig=="}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Done."}}),
        json!({"type": "content_block_stop", "index": 1}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 30}}),
        json!({"type": "message_stop"}),
    ]);
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(wiremock::matchers::body_partial_json(
            json!({"metadata": {"user_id": "thinking"}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_raw(thinking, "text/event-stream"))
        .mount(&upstream)
        .await;
    let failing = sse(&[
        start,
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "partial"}}),
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
    ]);
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(wiremock::matchers::body_partial_json(
            json!({"metadata": {"user_id": "failing"}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_raw(failing, "text/event-stream"))
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let body = |user: &str| {
        json!({"model": "anthropic/claude-sonnet-4-5", "max_tokens": 4096, "stream": true,
               "thinking": {"type": "enabled", "budget_tokens": 1024}, "metadata": {"user_id": user},
               "messages": [{"role": "user", "content": "think"}]})
    };

    let text = app
        .admin()
        .messages(&body("thinking"))
        .await
        .text()
        .await
        .unwrap();
    let message = fold(&text).unwrap();
    assert_eq!(
        message["content"],
        json!([{"type": "thinking", "thinking": "Let me think.", "signature": "EqQBCgIYAhIM+/sig=="},
               {"type": "text", "text": "Done."}])
    );
    assert_eq!(message["usage"]["input_tokens"], 12, "{text}");
    assert_eq!(message["usage"]["output_tokens"], 30, "{text}");
    assert_eq!(message["stop_reason"], "end_turn");

    let text = app
        .admin()
        .messages(&body("failing"))
        .await
        .text()
        .await
        .unwrap();
    let events = events(&text);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "error"
        ],
        "{text}"
    );
    assert_eq!(events[2].1["delta"]["text"], "partial");
    assert_eq!(events[3].1["error"]["type"], "overloaded_error", "{text}");
}

// ---------------------------------------------------------------- a Claude Code conversation

/// Words of every text the mock counts: system blocks, text blocks and string contents, tool results.
fn words_of(request: &Value) -> u64 {
    fn text_words(content: &Value) -> u64 {
        match content {
            Value::String(text) => text.split_whitespace().count() as u64,
            Value::Array(blocks) => blocks
                .iter()
                .map(|block| match block["type"].as_str() {
                    Some("text") => text_words(&block["text"]),
                    Some("tool_result") => text_words(&block["content"]),
                    _ => 0,
                })
                .sum(),
            _ => 0,
        }
    }
    let messages: u64 = request["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| text_words(&m["content"]))
        .sum();
    text_words(&request["system"]) + messages
}

/// A turn of a Claude Code session as it sends it — cached system blocks, nine tools with JSON-schema
/// inputs, earlier turns with a parallel tool call and their results, a system reminder, a stream with
/// a 32,000-token ceiling — replayed to every provider's mock.
#[tokio::test]
async fn a_claude_code_turn_replays_through_every_provider() {
    let mock = MockUpstream::start(&[]);
    let app = spawn_every_provider(&mock).await;
    let recorded: Value =
        serde_json::from_str(include_str!("fixtures/claude_code_turn.json")).unwrap();
    let input_tokens = words_of(&recorded) + 3;
    for (model, provider) in PROVIDERS {
        let mut body = recorded.clone();
        body["model"] = json!(model);
        let res = app.admin().messages(&body).await;
        let status = res.status();
        let served_by = res.headers().get("x-gaia-provider").cloned();
        let text = res.text().await.unwrap();
        assert_eq!(status, 200, "{model}: {text}");
        assert_eq!(served_by.unwrap(), *provider);
        let message = without_ids(fold(&text).unwrap_or_else(|e| panic!("{model}: {e}")));
        // The mocks answer by their dialect's rule: Anthropic and Gemini see a last user turn holding
        // tool results and answer the text; OpenAI-format servers see the text as the last message
        // (tool results are messages of their own there) and call the first tool.
        let (content, stop_reason, output_tokens) = if matches!(*provider, "anthropic" | "google") {
            (
                json!([{"type": "text", "text": "echo: please go ahead and fix it"}]),
                "end_turn",
                7,
            )
        } else {
            (
                json!([{"type": "tool_use", "id": "*", "name": "Task", "input": {"city": "Paris"}}]),
                "tool_use",
                1,
            )
        };
        assert_eq!(message["content"], content, "{model}: {text}");
        assert_eq!(message["stop_reason"], stop_reason, "{model}");
        assert_eq!(
            message["usage"],
            json!({"input_tokens": input_tokens, "output_tokens": output_tokens,
                   "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}),
            "{model}: every text reached the provider, none twice"
        );
    }
    request_log(&app, "api=messages&status=success", PROVIDERS.len()).await;
}

// ---------------------------------------------------------------- parallel tool calls

fn openai_chunk(delta: Value, finish: Option<&str>) -> Value {
    json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
}

/// Each provider streams two tool calls of one turn in its own way — OpenAI with the fragments of the two
/// calls interleaved, Gemini as two whole calls in one chunk, Anthropic as two blocks — and each arrives on
/// `/v1/messages` as two complete `tool_use` blocks, in order.
#[tokio::test]
async fn parallel_tool_calls_from_every_dialect_arrive_complete_and_in_order() {
    let upstream = MockServer::start().await;
    let call = |index: u32, id: Option<&str>, name: Option<&str>, args: &str| {
        let mut tool = json!({"index": index, "function": {"arguments": args}});
        if let (Some(id), Some(name)) = (id, name) {
            tool["id"] = json!(id);
            tool["type"] = json!("function");
            tool["function"]["name"] = json!(name);
        }
        json!({"tool_calls": [tool]})
    };
    let openai: String = [
        openai_chunk(json!({"role": "assistant", "content": null}), None),
        openai_chunk(call(0, Some("call_a"), Some("get_weather"), ""), None),
        openai_chunk(call(0, None, None, "{\"city\":"), None),
        openai_chunk(call(1, Some("call_b"), Some("get_time"), ""), None),
        openai_chunk(call(1, None, None, "{\"tz\":\"CET\"}"), None),
        openai_chunk(call(0, None, None, "\"Paris\"}"), None),
        openai_chunk(json!({}), Some("tool_calls")),
        json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
               "choices": [], "usage": {"prompt_tokens": 20, "completion_tokens": 9, "total_tokens": 29}}),
    ]
    .iter()
    .map(|c| format!("data: {c}\n\n"))
    .collect::<String>()
        + "data: [DONE]\n\n";
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(openai, "text/event-stream"))
        .mount(&upstream)
        .await;
    let gemini = format!(
        "data: {}\n\n",
        json!({"candidates": [{"index": 0, "finishReason": "STOP", "content": {"role": "model", "parts": [
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
            {"functionCall": {"name": "get_time", "args": {"tz": "CET"}}}]}}],
            "usageMetadata": {"promptTokenCount": 20, "candidatesTokenCount": 9, "totalTokenCount": 29}})
    );
    Mock::given(method("POST"))
        .and(path(
            "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_raw(gemini, "text/event-stream"))
        .mount(&upstream)
        .await;
    let anthropic = sse(&[
        json!({"type": "message_start", "message": {"id": "msg_up", "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-5", "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 20, "output_tokens": 1}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "toolu_a", "name": "get_weather", "input": {}}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": "{\"city\":"}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": "\"Paris\"}"}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "toolu_b", "name": "get_time", "input": {}}}),
        json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\"tz\":\"CET\"}"}}),
        json!({"type": "content_block_stop", "index": 1}),
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 9}}),
        json!({"type": "message_stop"}),
    ]);
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(anthropic, "text/event-stream"))
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let tools = json!([
        {"name": "get_weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}},
        {"name": "get_time", "input_schema": {"type": "object", "properties": {"tz": {"type": "string"}}}}]);
    for model in [
        "openai/gpt-4o-mini",
        "google/gemini-2.5-flash",
        "anthropic/claude-sonnet-4-5",
    ] {
        let body = json!({"model": model, "max_tokens": 100, "stream": true, "tools": tools,
                          "messages": [{"role": "user", "content": "weather and time in Paris"}]});
        let text = app.admin().messages(&body).await.text().await.unwrap();
        let message = without_ids(fold(&text).unwrap_or_else(|e| panic!("{model}: {e}")));
        assert_eq!(
            message["content"],
            json!([{"type": "tool_use", "id": "*", "name": "get_weather", "input": {"city": "Paris"}},
                   {"type": "tool_use", "id": "*", "name": "get_time", "input": {"tz": "CET"}}]),
            "{model}: {text}"
        );
        assert_eq!(message["stop_reason"], "tool_use", "{model}");
        assert_eq!(message["usage"]["input_tokens"], 20, "{model}");
        assert_eq!(message["usage"]["output_tokens"], 9, "{model}");
    }
}

/// An OpenAI stream that ends without `[DONE]` and a Gemini stream that reports an error part-way both
/// end the Messages stream with an `error` event after what was already sent, and no `message_stop`.
#[tokio::test]
async fn a_failure_mid_stream_from_openai_or_gemini_is_an_error_event() {
    let upstream = MockServer::start().await;
    let openai = format!(
        "data: {}\n\n",
        openai_chunk(json!({"role": "assistant", "content": "partial"}), None)
    );
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(openai, "text/event-stream"))
        .mount(&upstream)
        .await;
    let gemini = format!(
        "data: {}\n\ndata: {}\n\n",
        json!({"candidates": [{"index": 0, "content": {"role": "model", "parts": [{"text": "partial"}]}}]}),
        json!({"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}})
    );
    Mock::given(method("POST"))
        .and(path(
            "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_raw(gemini, "text/event-stream"))
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    for model in ["openai/gpt-4o-mini", "google/gemini-2.5-flash"] {
        let body = json!({"model": model, "max_tokens": 100, "stream": true,
                          "messages": [{"role": "user", "content": "hi"}]});
        let text = app.admin().messages(&body).await.text().await.unwrap();
        let events = events(&text);
        let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "message_start",
                "content_block_start",
                "content_block_delta",
                "error"
            ],
            "{model}: {text}"
        );
        assert_eq!(events[2].1["delta"]["text"], "partial", "{model}");
        // A cut connection and Gemini's in-stream error are both the provider failing (502).
        assert_eq!(events[3].1["error"]["type"], "api_error", "{model}: {text}");
    }
    // Both are recorded as failures, with the tokens counted so far.
    let log = request_log(&app, "api=messages&status=error", 2).await;
    for record in log["data"].as_array().unwrap() {
        assert_eq!(record["estimated"], true, "{record}");
    }
}
