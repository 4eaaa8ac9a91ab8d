//! The gateway end to end: client speaks OpenAI to GaiaRouter, GaiaRouter speaks each provider's own wire
//! format to a wiremock upstream. The recorded upstream requests prove the conversions; the client-side
//! answers prove the conversions back.

use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::helpers::{assert_error_envelope, spawn_app_with_upstream};
use crate::helpers::{chunks, sse_data};

fn sse(events: &[&str]) -> ResponseTemplate {
    let body: String = events.iter().map(|e| format!("{e}\n\n")).collect();
    ResponseTemplate::new(200)
        .insert_header("content-type", "text/event-stream")
        .set_body_raw(body, "text/event-stream")
}

fn streamed_text(chunks: &[Value]) -> String {
    chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect()
}

fn upstream_body(req: &Request) -> Value {
    serde_json::from_slice(&req.body).unwrap()
}

fn weather_tool() -> Value {
    json!([{"type": "function", "function": {"name": "get_weather", "description": "Current weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": false}}}])
}

// ---------------------------------------------------------------- OpenAI

#[tokio::test]
async fn openai_requests_pass_through_with_unknown_fields_and_answers_come_back_unchanged() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", "Bearer sk-openai-test"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "chatcmpl-up", "object": "chat.completion", "created": 1764200000, "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello from OpenAI", "refusal": null},
                "logprobs": null, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16,
                "prompt_tokens_details": {"cached_tokens": 2}}
        })))
        .expect(1)
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let res = app
        .chat(&json!({"model": "openai/gpt-4o-mini", "messages": [
            {"role": "developer", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
            "temperature": 0.2, "seed": 7, "logprobs": false, "metadata": {"team": "a"}}))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-gaia-provider"], "openai");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "openai/gpt-4o-mini");
    assert!(body["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Hello from OpenAI"
    );
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["usage"]["prompt_tokens"], 12);
    assert_eq!(body["usage"]["total_tokens"], 16);

    let sent = upstream_body(&upstream.received_requests().await.unwrap()[0]);
    assert_eq!(sent["model"], "gpt-4o-mini");
    assert_eq!(sent["messages"][0]["role"], "developer");
    assert_eq!(sent["temperature"], 0.2);
    assert_eq!(sent["seed"], 7);
    // Unknown fields are passed through to OpenAI-format providers.
    assert_eq!(sent["logprobs"], false);
    assert_eq!(sent["metadata"]["team"], "a");
}

#[tokio::test]
async fn openai_streams_are_forwarded_and_usage_is_stripped_when_the_client_did_not_ask() {
    let upstream = MockServer::start().await;
    let chunk = |delta: Value, finish: Value| {
        format!(
            "data: {}",
            json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        )
    };
    let usage = format!(
        "data: {}",
        json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini", "choices": [],
            "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}})
    );
    let events = [
        chunk(json!({"role": "assistant", "content": ""}), Value::Null),
        chunk(json!({"content": "Hel"}), Value::Null),
        chunk(json!({"content": "lo"}), Value::Null),
        chunk(json!({}), json!("stop")),
        usage,
        "data: [DONE]".to_owned(),
    ];
    let refs: Vec<&str> = events.iter().map(String::as_str).collect();
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_partial_json(
            json!({"stream": true, "stream_options": {"include_usage": true}}),
        ))
        .respond_with(sse(&refs))
        .expect(2)
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;

    // Without include_usage: no usage chunk reaches the client, though GaiaRouter asked upstream for it.
    let res = app
        .chat(&json!({"model": "gpt-4o-mini", "stream": true, "messages": [{"role": "user", "content": "Hi"}]}))
        .await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let text = res.text().await.unwrap();
    assert_eq!(sse_data(&text).last().map(String::as_str), Some("[DONE]"));
    let cs = chunks(&text);
    assert_eq!(streamed_text(&cs), "Hello");
    assert!(cs.iter().all(|c| c["usage"].is_null()), "{text}");
    assert!(
        cs.iter()
            .any(|c| c["choices"][0]["finish_reason"] == "stop")
    );
    let ids: std::collections::HashSet<_> = cs
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1, "every chunk carries the same id");

    // With include_usage: a final usage chunk with empty choices, before [DONE].
    let res = app
        .chat(&json!({"model": "openai/gpt-4o-mini", "stream": true, "stream_options": {"include_usage": true},
            "messages": [{"role": "user", "content": "Hi"}]}))
        .await;
    let cs = chunks(&res.text().await.unwrap());
    let last = cs.last().unwrap();
    assert_eq!(last["choices"], json!([]));
    assert_eq!(last["usage"]["total_tokens"], 7);
}

// ---------------------------------------------------------------- Anthropic

#[tokio::test]
async fn anthropic_gets_its_own_format_and_answers_in_openai_shape() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(header("x-api-key", "sk-ant-test"))
        .and(header("anthropic-version", "2023-06-01"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}}],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 30, "output_tokens": 12, "cache_read_input_tokens": 10, "cache_creation_input_tokens": 0}
        })))
        .expect(1)
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let res = app
        .chat(
            &json!({"model": "anthropic/claude-sonnet-4-5", "max_tokens": 300, "stop": "END",
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Weather?"},
                {"role": "user", "content": "In Paris."}],
            "tools": weather_tool(), "tool_choice": "required"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let message = &body["choices"][0]["message"];
    assert_eq!(message["content"], "Let me check.");
    assert_eq!(message["tool_calls"][0]["id"], "toolu_01");
    assert_eq!(message["tool_calls"][0]["type"], "function");
    assert_eq!(message["tool_calls"][0]["function"]["name"], "get_weather");
    let args: Value = serde_json::from_str(
        message["tool_calls"][0]["function"]["arguments"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(args, json!({"city": "Paris"}));
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(body["usage"]["prompt_tokens"], 40, "input + cache reads");
    assert_eq!(body["usage"]["completion_tokens"], 12);

    let sent = upstream_body(&upstream.received_requests().await.unwrap()[0]);
    assert_eq!(sent["model"], "claude-sonnet-4-5");
    assert_eq!(sent["max_tokens"], 300);
    assert_eq!(sent["stop_sequences"], json!(["END"]));
    // System moved to the top level; consecutive user turns merged into one.
    let system = sent["system"].to_string();
    assert!(system.contains("You are terse."), "{sent}");
    let messages = sent["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{sent}");
    assert_eq!(messages[0]["role"], "user");
    assert!(messages[0]["content"].to_string().contains("In Paris."));
    assert_eq!(sent["tools"][0]["name"], "get_weather");
    assert_eq!(
        sent["tools"][0]["input_schema"]["required"],
        json!(["city"])
    );
    assert_eq!(sent["tool_choice"]["type"], "any");
}

#[tokio::test]
async fn anthropic_tool_results_and_default_max_tokens_are_converted() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "msg_02", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
            "content": [{"type": "text", "text": "It is sunny."}], "stop_reason": "end_turn",
            "usage": {"input_tokens": 50, "output_tokens": 5}})))
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let res = app
        .chat(&json!({"model": "claude-haiku-4-5", "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "toolu_9", "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "toolu_9", "content": "sunny, 21°C"}],
            "tools": weather_tool()}))
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], "It is sunny.");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    let sent = upstream_body(&upstream.received_requests().await.unwrap()[0]);
    // No client budget: the model's default from the registry (claude-haiku-4-5: 64000).
    assert_eq!(sent["max_tokens"], 64000);
    let messages = sent["messages"].as_array().unwrap();
    assert_eq!(messages[1]["role"], "assistant");
    assert_eq!(messages[1]["content"][0]["type"], "tool_use");
    assert_eq!(messages[1]["content"][0]["input"], json!({"city": "Paris"}));
    assert_eq!(messages[2]["role"], "user");
    assert_eq!(messages[2]["content"][0]["type"], "tool_result");
    assert_eq!(messages[2]["content"][0]["tool_use_id"], "toolu_9");
}

#[tokio::test]
async fn anthropic_streams_become_openai_chunks_with_tool_call_deltas() {
    let upstream = MockServer::start().await;
    let events = [
        r#"event: message_start
data: {"type":"message_start","message":{"id":"msg_s","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"usage":{"input_tokens":25,"output_tokens":1}}}"#,
        r#"event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        r#"event: ping
data: {"type":"ping"}"#,
        r#"event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Checking"}}"#,
        r#"event: content_block_stop
data: {"type":"content_block_stop","index":0}"#,
        r#"event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_s","name":"get_weather","input":{}}}"#,
        r#"event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}}"#,
        r#"event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}}"#,
        r#"event: content_block_stop
data: {"type":"content_block_stop","index":1}"#,
        r#"event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":18}}"#,
        r#"event: message_stop
data: {"type":"message_stop"}"#,
    ];
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(body_partial_json(json!({"stream": true})))
        .respond_with(sse(&events))
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let res = app
        .chat(&json!({"model": "anthropic/claude-sonnet-4-5", "stream": true, "stream_options": {"include_usage": true},
            "messages": [{"role": "user", "content": "Weather in Paris?"}], "tools": weather_tool()}))
        .await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert_eq!(sse_data(&text).last().map(String::as_str), Some("[DONE]"));
    let cs = chunks(&text);
    assert_eq!(streamed_text(&cs), "Checking");
    let tool_deltas: Vec<&Value> = cs
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0))
        .collect();
    assert_eq!(tool_deltas[0]["id"], "toolu_s");
    assert_eq!(tool_deltas[0]["function"]["name"], "get_weather");
    let args: String = tool_deltas
        .iter()
        .filter_map(|d| d["function"]["arguments"].as_str())
        .collect();
    assert_eq!(args, r#"{"city":"Paris"}"#);
    assert!(
        cs.iter()
            .any(|c| c["choices"][0]["finish_reason"] == "tool_calls")
    );
    let usage = &cs.last().unwrap()["usage"];
    assert_eq!(
        (
            usage["prompt_tokens"].as_u64(),
            usage["completion_tokens"].as_u64()
        ),
        (Some(25), Some(18))
    );
}

#[tokio::test]
async fn an_anthropic_stream_cut_before_message_stop_ends_with_an_error_event() {
    let upstream = MockServer::start().await;
    let events = [
        r#"event: message_start
data: {"type":"message_start","message":{"id":"msg_c","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"usage":{"input_tokens":3,"output_tokens":1}}}"#,
        r#"event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        r#"event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"partial"}}"#,
    ];
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(sse(&events))
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let res = app
        .chat(&json!({"model": "anthropic/claude-sonnet-4-5", "stream": true, "messages": [{"role": "user", "content": "x"}]}))
        .await;
    let text = res.text().await.unwrap();
    let data = sse_data(&text);
    assert!(data.iter().any(|d| d.contains("partial")));
    let last: Value =
        serde_json::from_str(data.iter().rev().find(|d| *d != "[DONE]").unwrap()).unwrap();
    assert!(
        last["error"]["message"].as_str().is_some(),
        "the client must see the failure: {text}"
    );
}

// ---------------------------------------------------------------- Gemini

#[tokio::test]
async fn gemini_gets_contents_system_instruction_and_generation_config() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1beta/models/gemini-2.5-flash:generateContent"))
        .and(header("x-goog-api-key", "gemini-test-key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "candidates": [{"content": {"role": "model", "parts": [{"text": "Bonjour"}]}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 8, "candidatesTokenCount": 3, "totalTokenCount": 11},
            "modelVersion": "gemini-2.5-flash"})))
        .expect(1)
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let res = app
        .chat(&json!({"model": "google/gemini-2.5-flash", "temperature": 0.5, "top_p": 0.9, "max_tokens": 100, "stop": ["\n\n"],
            "response_format": {"type": "json_object"},
            "messages": [{"role": "system", "content": "Answer in French."}, {"role": "user", "content": "Hello"},
                {"role": "assistant", "content": "Salut"}, {"role": "user", "content": "Again"}],
            "tools": weather_tool()}))
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], "Bonjour");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["usage"]["total_tokens"], 11);

    let sent = upstream_body(&upstream.received_requests().await.unwrap()[0]);
    assert_eq!(
        sent["systemInstruction"]["parts"][0]["text"],
        "Answer in French."
    );
    let roles: Vec<&str> = sent["contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "model", "user"]);
    let config = &sent["generationConfig"];
    assert_eq!(config["temperature"], 0.5);
    assert_eq!(config["topP"], 0.9);
    assert_eq!(config["maxOutputTokens"], 100);
    assert_eq!(config["stopSequences"], json!(["\n\n"]));
    assert_eq!(config["responseMimeType"], "application/json");
    let decl = &sent["tools"][0]["functionDeclarations"][0];
    assert_eq!(decl["name"], "get_weather");
    assert!(
        decl["parameters"].get("additionalProperties").is_none(),
        "Gemini rejects additionalProperties: {decl}"
    );
}

#[tokio::test]
async fn gemini_streams_and_function_calls_are_converted() {
    let upstream = MockServer::start().await;
    let events = [
        r#"data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Looking"}]},"index":0}],"modelVersion":"gemini-2.5-flash"}"#,
        r#"data: {"candidates":[{"content":{"role":"model","parts":[{"text":" it up"}]},"index":0}]}"#,
        r#"data: {"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Oslo"}}}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":6,"totalTokenCount":15}}"#,
    ];
    Mock::given(method("POST"))
        .and(path(
            "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
        ))
        .respond_with(sse(&events))
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let res = app
        .chat(&json!({"model": "gemini-2.5-flash", "stream": true, "stream_options": {"include_usage": true},
            "messages": [{"role": "user", "content": "Weather in Oslo?"}], "tools": weather_tool()}))
        .await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    let cs = chunks(&text);
    assert_eq!(streamed_text(&cs), "Looking it up");
    let call = cs
        .iter()
        .find_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0))
        .unwrap();
    assert_eq!(call["function"]["name"], "get_weather");
    assert!(
        cs.iter()
            .any(|c| c["choices"][0]["finish_reason"] == "tool_calls")
    );
    assert_eq!(cs.last().unwrap()["usage"]["total_tokens"], 15);
    let sent = &upstream.received_requests().await.unwrap()[0];
    assert_eq!(sent.url.query(), Some("alt=sse"));
}

// ---------------------------------------------------------------- OpenRouter

#[tokio::test]
async fn openrouter_models_with_slashes_route_with_attribution_headers() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/chat/completions"))
        .and(header("authorization", "Bearer sk-or-test"))
        .and(header("http-referer", "https://example.test/app"))
        .and(header("x-title", "GaiaRouter tests"))
        .and(body_partial_json(json!({"model": "meta-llama/llama-3.1-8b-instruct"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "gen-1", "object": "chat.completion", "created": 1, "model": "meta-llama/llama-3.1-8b-instruct",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Llama says hi"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6}})))
        .expect(1)
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let res = app
        .chat(&json!({"model": "openrouter/meta-llama/llama-3.1-8b-instruct", "messages": [{"role": "user", "content": "hi"}]}))
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], "Llama says hi");
    assert_eq!(body["model"], "openrouter/meta-llama/llama-3.1-8b-instruct");
}

// ---------------------------------------------------------------- errors and models

#[tokio::test]
async fn upstream_errors_map_to_the_documented_statuses() {
    let upstream = MockServer::start().await;
    let cases: [(u16, Value, u16); 4] = [
        (
            400,
            json!({"error": {"message": "messages too long", "type": "invalid_request_error"}}),
            400,
        ),
        (
            401,
            json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}),
            502,
        ),
        (503, json!({"error": {"message": "overloaded"}}), 502),
        (
            429,
            json!({"error": {"message": "slow down", "type": "rate_limit_error"}}),
            429,
        ),
    ];
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    for (upstream_status, body, expected) in cases {
        upstream.reset().await;
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(
                ResponseTemplate::new(upstream_status)
                    .set_body_json(body)
                    .insert_header("retry-after", "30"),
            )
            .mount(&upstream)
            .await;
        let res = app
            .chat(
                &json!({"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "x"}]}),
            )
            .await;
        let retry_after = res
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        let error = assert_error_envelope(res, expected).await;
        if upstream_status == 400 {
            assert!(
                error["message"]
                    .as_str()
                    .unwrap()
                    .contains("messages too long")
            );
        }
        if upstream_status == 401 {
            assert!(
                !error["message"]
                    .as_str()
                    .unwrap()
                    .contains("sk-openai-test"),
                "the provider key must not leak"
            );
        }
        if upstream_status == 429 {
            assert_eq!(retry_after.as_deref(), Some("30"));
        }
    }
}

#[tokio::test]
async fn requests_without_a_valid_key_are_refused_before_anything_goes_upstream() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let body = json!({"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "x"}]});
    let res = app
        .client
        .post(app.url("/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_error_envelope(res, 401).await["code"],
        "missing_api_key"
    );
    let res = app
        .client
        .post(app.url("/v1/chat/completions"))
        .bearer_auth("gaia_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_error_envelope(res, 401).await["code"],
        "invalid_api_key"
    );
}

#[tokio::test]
async fn bad_requests_get_precise_400s_and_unknown_models_404() {
    let upstream = MockServer::start().await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let res = app
        .client
        .post(app.url("/v1/chat/completions"))
        .bearer_auth(app.key())
        .header("content-type", "application/json")
        .body("{\"model\": \"x\", \"messages\": [")
        .send()
        .await
        .unwrap();
    let error = assert_error_envelope(res, 400).await;
    assert!(
        error["message"].as_str().unwrap().contains("JSON"),
        "{error}"
    );

    let res = app
        .chat(&json!({"model": "openai/gpt-4o", "messages": []}))
        .await;
    assert_error_envelope(res, 400).await;
    let res = app
        .chat(&json!({"model": "openai/gpt-4o", "messages": [{"role": "wizard", "content": "x"}]}))
        .await;
    assert_error_envelope(res, 400).await;
    let res = app.chat(&json!({"model": "openai/no-such-model", "messages": [{"role": "user", "content": "x"}]})).await;
    assert_eq!(
        assert_error_envelope(res, 404).await["code"],
        "model_not_found"
    );
    // A rule of one provider, which no schema states: 422.
    let res = app.chat(&json!({"model": "anthropic/claude-sonnet-4-5", "n": 2, "messages": [{"role": "user", "content": "x"}]})).await;
    assert_error_envelope(res, 422).await;
}

#[tokio::test]
async fn bodies_over_the_limit_get_413() {
    let upstream = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = gaiarouter::configuration::Settings::for_tests(
        &crate::helpers::test_database_url(dir.path()).await,
    )
    .unwrap();
    crate::helpers::point_providers_at(&mut settings, &upstream.uri());
    settings.max_body_bytes = 4096;
    let app = crate::helpers::spawn_with(settings, dir).await;
    let big = "x".repeat(10_000);
    let res = app
        .chat(&json!({"model": "openai/gpt-4o", "messages": [{"role": "user", "content": big}]}))
        .await;
    assert_error_envelope(res, 413).await;
}

#[tokio::test]
async fn models_lists_enabled_models_of_configured_providers_only() {
    let upstream = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = gaiarouter::configuration::Settings::for_tests(
        &crate::helpers::test_database_url(dir.path()).await,
    )
    .unwrap();
    crate::helpers::point_providers_at(&mut settings, &upstream.uri());
    settings.anthropic.api_key = None;
    let app = crate::helpers::spawn_with(settings, dir).await;
    let res = app.get_authed("/v1/models").await;
    assert_eq!(res.status(), 200);
    let list: Value = res.json().await.unwrap();
    assert_eq!(list["object"], "list");
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"openai/gpt-4o-mini"));
    assert!(ids.contains(&"google/gemini-2.5-flash"));
    assert!(ids.contains(&"openrouter/meta-llama/llama-3.1-8b-instruct"));
    assert!(
        !ids.iter().any(|id| id.starts_with("anthropic/")),
        "unconfigured provider listed: {ids:?}"
    );
    assert!(list["data"][0]["object"] == "model" && list["data"][0]["owned_by"].is_string());

    let res = app
        .get_authed("/v1/models/openrouter/meta-llama/llama-3.1-8b-instruct")
        .await;
    assert_eq!(res.status(), 200);
    let one: Value = res.json().await.unwrap();
    assert_eq!(one["id"], "openrouter/meta-llama/llama-3.1-8b-instruct");
    let res = app
        .get_authed("/v1/models/anthropic/claude-sonnet-4-5")
        .await;
    assert_error_envelope(res, 404).await;
    let res = app.chat(&json!({"model": "anthropic/claude-sonnet-4-5", "messages": [{"role": "user", "content": "x"}]})).await;
    assert_eq!(
        assert_error_envelope(res, 400).await["code"],
        "provider_not_configured"
    );
    let res = app.client.get(app.url("/v1/models")).send().await.unwrap();
    assert_error_envelope(res, 401).await;
}

// ---------------------------------------------------------------- config file, timeouts

pub async fn spawn_with_config_file(upstream: &str, toml: &str) -> crate::helpers::TestApp {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("gaiarouter.toml");
    std::fs::write(&cfg, toml).unwrap();
    let mut settings = gaiarouter::configuration::Settings::for_tests(
        &crate::helpers::test_database_url(dir.path()).await,
    )
    .unwrap();
    crate::helpers::point_providers_at(&mut settings, upstream);
    settings.config_file = Some(cfg);
    crate::helpers::spawn_with(settings, dir).await
}

#[tokio::test]
async fn providers_declared_in_the_config_file_are_addressed_by_name() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/compat/v1/chat/completions"))
        .and(header("authorization", "Bearer sk-deepseek"))
        .and(header("x-team", "research"))
        .and(body_partial_json(json!({"model": "deepseek-chat", "max_tokens": 50})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "d1", "object": "chat.completion", "created": 1, "model": "deepseek-chat",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "from deepseek"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4}})))
        .expect(1)
        .mount(&upstream)
        .await;
    let toml = format!(
        r#"
        [[providers]]
        name = "deepseek"
        kind = "openai"
        base_url = "{}/compat/v1"
        api_key = "sk-deepseek"
        headers = {{ "X-Team" = "research" }}
        [[providers.models]]
        name = "deepseek-chat"
        input_price = 0.27
        output_price = 1.10

        [[aliases]]
        name = "cheap"
        targets = ["deepseek/deepseek-chat"]
        "#,
        upstream.uri()
    );
    let app = spawn_with_config_file(&upstream.uri(), &toml).await;
    let res = app
        .chat(&json!({"model": "cheap", "max_tokens": 50, "messages": [{"role": "developer", "content": "d"}, {"role": "user", "content": "hi"}]}))
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], "from deepseek");
    assert_eq!(body["model"], "deepseek/deepseek-chat");
    let sent = upstream_body(&upstream.received_requests().await.unwrap()[0]);
    // Third-party OpenAI-compatible servers get `system`, not `developer`.
    assert_eq!(sent["messages"][0]["role"], "system");
    let models: Value = app
        .get_authed("/v1/models/deepseek/deepseek-chat")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(models["input_price_per_mtok"], 0.27);
}

#[tokio::test]
async fn an_upstream_that_does_not_answer_in_time_gets_504() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(5)))
        .mount(&upstream)
        .await;
    let app = spawn_with_config_file(
        &upstream.uri(),
        "[upstream]\ntimeout_secs = 1\nmax_retries = 0\n",
    )
    .await;
    let started = std::time::Instant::now();
    let res = app
        .chat(&json!({"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "x"}]}))
        .await;
    assert_eq!(
        assert_error_envelope(res, 504).await["code"],
        "upstream_timeout"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "the timeout must cut the wait"
    );
    // The server stays healthy meanwhile.
    assert_eq!(app.get("/health").await.status(), 200);
}

#[tokio::test]
async fn an_unreachable_provider_gets_502() {
    // A port nobody listens on: bound and held for the whole test (so no
    // other test's server can take it once freed) but never listening, so a
    // connection to it is refused.
    let reserved = tokio::net::TcpSocket::new_v4().unwrap();
    reserved.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = reserved.local_addr().unwrap().port();
    let app = spawn_app_with_upstream(&format!("http://127.0.0.1:{port}")).await;
    let res = app
        .chat(&json!({"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "x"}]}))
        .await;
    let error = assert_error_envelope(res, 502).await;
    assert_eq!(error["code"], "upstream_unreachable");
    // The system's reason is given, and no URL.
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with("could not connect to openai: ") && message.contains("refused"),
        "{message}"
    );
    assert!(!message.contains("127.0.0.1"), "{message}");
}

#[tokio::test]
async fn a_transient_failure_is_retried_on_the_same_provider() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .expect(1)
        .mount(&upstream)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "r", "object": "chat.completion", "created": 1, "model": "gpt-4o",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "second time lucky"}, "finish_reason": "stop"}]})))
        .expect(1)
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let res = app
        .chat(&json!({"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "x"}]}))
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "second time lucky"
    );
}

#[tokio::test]
async fn images_reach_anthropic_and_gemini_in_their_formats() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST")).and(path("/v1/messages")).respond_with(ResponseTemplate::new(200).set_body_json(json!({
        "id": "m", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": "a cat"}], "stop_reason": "end_turn", "usage": {"input_tokens": 1, "output_tokens": 2}}))).mount(&upstream).await;
    Mock::given(method("POST")).and(path("/v1beta/models/gemini-2.5-flash:generateContent")).respond_with(ResponseTemplate::new(200).set_body_json(json!({
        "candidates": [{"content": {"role": "model", "parts": [{"text": "a cat"}]}, "finishReason": "STOP"}]}))).mount(&upstream).await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let content = json!([{"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]);
    for model in ["anthropic/claude-sonnet-4-5", "google/gemini-2.5-flash"] {
        let res = app
            .chat(&json!({"model": model, "messages": [{"role": "user", "content": content}]}))
            .await;
        assert_eq!(res.status(), 200, "{model}");
    }
    let reqs = upstream.received_requests().await.unwrap();
    let anthropic = upstream_body(&reqs[0]);
    let block = &anthropic["messages"][0]["content"][1];
    assert_eq!(block["type"], "image");
    assert_eq!(block["source"]["type"], "base64");
    assert_eq!(block["source"]["media_type"], "image/png");
    assert_eq!(block["source"]["data"], "iVBORw0KGgo=");
    let gemini = upstream_body(&reqs[1]);
    let part = &gemini["contents"][0]["parts"][1];
    assert_eq!(part["inlineData"]["mimeType"], "image/png");
    assert_eq!(part["inlineData"]["data"], "iVBORw0KGgo=");
}
