//! The OpenAI Responses API (`POST /v1/responses`) against every provider kind: the same conversations
//! sent plain and streamed must come back as the same `response` — the typed event stream folded the way
//! the SDKs fold it — with the mock's exact token counts, each request recorded as a `responses` request;
//! reasoning items sent back as received continue a tool call on providers that check signatures.

use serde_json::{Value, json};

use crate::client::ok_json;
use crate::helpers::{MockUpstream, TestApp, assert_error_envelope};
use crate::scenarios::{PROVIDERS, spawn_every_provider};

/// The events of a Responses stream as (name, data), checking names, `type`s and that `sequence_number`
/// counts from 0 without gaps.
fn events(body: &str) -> Vec<(String, Value)> {
    let events: Vec<(String, Value)> = body
        .split("\n\n")
        .filter(|frame| !frame.trim().is_empty() && !frame.starts_with(':'))
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
        .collect();
    for (i, (_, data)) in events.iter().enumerate() {
        assert_eq!(data["sequence_number"], i, "{body}");
    }
    events
}

/// The final response of a stream (`response.completed` or `.incomplete`), checking that every output
/// item announced was completed, in order, and that the deltas join to the final text and arguments.
fn fold(body: &str) -> Result<Value, String> {
    let events = events(body);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"response.created"), "{body}");
    assert_eq!(names.get(1), Some(&"response.in_progress"), "{body}");
    let mut text: Vec<String> = Vec::new();
    let mut arguments: Vec<String> = Vec::new();
    let mut done: Vec<Value> = Vec::new();
    for (name, data) in &events {
        let index = data["output_index"].as_u64().unwrap_or(0) as usize;
        if text.len() <= index {
            text.resize(index + 1, String::new());
            arguments.resize(index + 1, String::new());
        }
        match name.as_str() {
            "response.output_text.delta" => text[index].push_str(data["delta"].as_str().unwrap()),
            "response.function_call_arguments.delta" => {
                arguments[index].push_str(data["delta"].as_str().unwrap())
            }
            "response.output_item.done" => {
                assert_eq!(index, done.len(), "items complete in order: {body}");
                done.push(data["item"].clone());
            }
            "response.failed" | "error" => return Err(data.to_string()),
            _ => {}
        }
    }
    let (last, final_event) = events.last().unwrap();
    assert!(
        last == "response.completed" || last == "response.incomplete",
        "{body}"
    );
    let response = final_event["response"].clone();
    assert_eq!(response["output"], Value::Array(done.clone()), "{body}");
    for (i, item) in done.iter().enumerate() {
        match item["type"].as_str() {
            Some("message") => assert_eq!(item["content"][0]["text"], text[i], "{body}"),
            Some("function_call") => assert_eq!(item["arguments"], arguments[i], "{body}"),
            _ => {}
        }
    }
    Ok(response)
}

/// What a response says, without its ids and times: (output item types with their text, call or
/// summary; status; usage).
fn gist(response: &Value) -> Value {
    let output: Vec<Value> = response["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| match item["type"].as_str().unwrap() {
            "message" => json!({"message": item["content"][0]["text"]}),
            "function_call" => json!({"call": item["name"],
                "arguments": serde_json::from_str::<Value>(item["arguments"].as_str().unwrap()).unwrap()}),
            "reasoning" => json!({"reasoning": item["summary"][0]["text"]}),
            other => json!({"unexpected": other}),
        })
        .collect();
    json!({"output": output, "status": response["status"],
           "input_tokens": response["usage"]["input_tokens"],
           "output_tokens": response["usage"]["output_tokens"]})
}

fn weather_tool() -> Value {
    json!([{"type": "function", "name": "get_weather", "description": "Current weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}])
}

async fn create(app: &TestApp, body: &Value) -> (u16, String, String) {
    let res = app
        .client
        .post(app.url("/v1/responses"))
        .bearer_auth(app.key())
        .json(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let provider = res
        .headers()
        .get("x-gaia-provider")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, provider, res.text().await.unwrap())
}

#[tokio::test]
async fn every_provider_answers_the_responses_api_alike_plain_and_streamed() {
    let mock = MockUpstream::start(&[]);
    let app = spawn_every_provider(&mock).await;
    let cases = [
        (
            json!({"input": "hello there gateway", "instructions": "be brief"}),
            json!({"output": [{"message": "echo: hello there gateway"}], "status": "completed",
                   "input_tokens": 2 + 3 + 3, "output_tokens": 4}),
        ),
        (
            json!({"input": [{"role": "user", "content": "weather in paris"}], "tools": weather_tool()}),
            json!({"output": [{"call": "get_weather", "arguments": {"city": "Paris"}}], "status": "completed",
                   "input_tokens": 3 + 3, "output_tokens": 1}),
        ),
        (
            json!({"tools": weather_tool(), "input": [
                {"role": "user", "content": [{"type": "input_text", "text": "weather in paris"}]},
                {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
                {"type": "function_call_output", "call_id": "call_1", "output": "sunny and warm"}]}),
            json!({"output": [{"message": "echo: weather in paris"}], "status": "completed",
                   "input_tokens": 3 + 3 + 3, "output_tokens": 4}),
        ),
    ];
    let mut failures = Vec::new();
    let mut sent = 0;
    for (model, provider) in PROVIDERS {
        for (body, want) in &cases {
            for stream in [false, true] {
                sent += 1;
                let mut body = body.clone();
                body["model"] = json!(model);
                body["stream"] = json!(stream);
                let (status, served_by, text) = create(&app, &body).await;
                if status != 200 || served_by != *provider {
                    failures.push(format!(
                        "{model} stream={stream}: {status} {served_by} {text}"
                    ));
                    continue;
                }
                let response = if stream {
                    match fold(&text) {
                        Ok(r) => r,
                        Err(e) => {
                            failures.push(format!("{model} stream={stream}: {e}"));
                            continue;
                        }
                    }
                } else {
                    serde_json::from_str(&text).unwrap()
                };
                assert_eq!(response["object"], "response", "{text}");
                assert!(
                    response["id"].as_str().unwrap().starts_with("resp_"),
                    "{text}"
                );
                assert_eq!(response["model"], *model, "{text}");
                if gist(&response) != *want {
                    failures.push(format!(
                        "{model} stream={stream}:\n got {}\nwant {want}",
                        gist(&response)
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let log = ok_json(app.admin().request_log("api=responses&limit=100").await).await;
        if log["pagination"]["total"] == sent {
            assert!(
                log["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|r| r["api"] == "responses")
            );
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{log}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Reasoning items sent back as received carry Anthropic's signature and Gemini's thought signature to
/// the next turn: the mocks, like the providers, refuse a tool turn without them.
#[tokio::test]
async fn reasoning_items_sent_back_continue_a_tool_call_on_every_provider() {
    let mock = MockUpstream::start(&[]);
    let app = spawn_every_provider(&mock).await;
    for (model, _) in PROVIDERS {
        for stream in [false, true] {
            let first = json!({"model": model, "stream": stream, "reasoning": {"effort": "low"},
                               "tools": weather_tool(), "input": "weather in paris"});
            let (status, _, text) = create(&app, &first).await;
            assert_eq!(status, 200, "{model}: {text}");
            let response = if stream {
                fold(&text).unwrap()
            } else {
                serde_json::from_str(&text).unwrap()
            };
            let output = response["output"].as_array().unwrap().clone();
            assert_eq!(output[0]["type"], "reasoning", "{model}: {response}");
            assert_eq!(
                output[0]["summary"][0]["text"], "thinking about: weather in paris",
                "{model}"
            );
            let call = output
                .iter()
                .find(|i| i["type"] == "function_call")
                .unwrap();
            let mut input = vec![json!({"role": "user", "content": "weather in paris"})];
            input.extend(output.iter().cloned());
            input.push(json!({"type": "function_call_output", "call_id": call["call_id"], "output": "sunny"}));
            let second = json!({"model": model, "reasoning": {"effort": "low"}, "tools": weather_tool(),
                                "input": input});
            let (status, _, text) = create(&app, &second).await;
            assert_eq!(status, 200, "{model} stream={stream}: second turn {text}");
            let answer: Value = serde_json::from_str(&text).unwrap();
            let message = answer["output"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["type"] == "message")
                .unwrap()
                .clone();
            assert_eq!(
                message["content"][0]["text"], "echo: weather in paris",
                "{model}"
            );
        }
    }
}

#[tokio::test]
async fn bad_requests_get_precise_400s_in_the_openai_envelope() {
    let mock = MockUpstream::start(&[]);
    let app = spawn_every_provider(&mock).await;
    let cases = [
        (
            json!({"model": "openai/gpt-4o-mini", "input": "hi", "tools": [{"type": "web_search"}]}),
            "tools",
            Some("builtin_tool_unsupported"),
        ),
        (
            json!({"model": "openai/gpt-4o-mini", "input": [{"role": "user", "content": [{"type": "input_image", "file_id": "file-1"}]}]}),
            "input[0].content[0].file_id",
            None,
        ),
        (
            json!({"model": "openai/gpt-4o-mini", "input": "hi", "reasoning": {"effort": "enormous"}}),
            "reasoning.effort",
            None,
        ),
    ];
    for (body, param, code) in cases {
        let (status, _, text) = create(&app, &body).await;
        assert_eq!(status, 400, "{body}: {text}");
        let error: Value = serde_json::from_str::<Value>(&text).unwrap()["error"].clone();
        assert_eq!(error["param"], param, "{text}");
        if let Some(code) = code {
            assert_eq!(error["code"], code, "{text}");
        }
    }
    let res = app
        .client
        .post(app.url("/v1/responses"))
        .json(&json!({"model": "openai/gpt-4o-mini", "input": "hi"}))
        .send()
        .await
        .unwrap();
    assert_error_envelope(res, 401).await;
}

async fn call(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// `store: true` keeps a response for its organization: it can be read back, its input listed, continued
/// with `previous_response_id` (the stored turns go before the new input) and deleted; another
/// organization, or a response not stored, answers 404.
#[tokio::test]
async fn stored_responses_are_read_continued_listed_and_deleted_within_their_organization() {
    use reqwest::Method;
    let mock = MockUpstream::start(&[]);
    let app = spawn_every_provider(&mock).await;
    let org = app.create_org("keeper", json!({})).await;
    let (_, key) = app.create_key(org["id"].as_str().unwrap(), json!({})).await;
    let other = app.create_org("stranger", json!({})).await;
    let (_, stranger) = app
        .create_key(other["id"].as_str().unwrap(), json!({}))
        .await;

    let (status, first) = call(
        &app,
        &key,
        Method::POST,
        "/v1/responses",
        Some(json!({
        "model": "anthropic/claude-sonnet-4-5", "store": true, "instructions": "be brief",
        "input": "my name is ada"})),
    )
    .await;
    assert_eq!(status, 200, "{first}");
    let id = first["id"].as_str().unwrap().to_owned();
    assert_eq!(first["store"], true);

    let (status, read) = call(
        &app,
        &key,
        Method::GET,
        &format!("/v1/responses/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(read, first, "the response as it was answered");
    let (status, _) = call(
        &app,
        &stranger,
        Method::GET,
        &format!("/v1/responses/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 404, "another organization's response");

    let (status, items) = call(
        &app,
        &key,
        Method::GET,
        &format!("/v1/responses/{id}/input_items"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{items}");
    assert_eq!(items["object"], "list");
    assert_eq!(items["data"][0]["role"], "user");
    assert_eq!(items["data"][0]["content"][0]["text"], "my name is ada");
    assert_eq!(items["has_more"], false);

    // The continuation reads the stored turns: the mock counts every word it was sent.
    let (status, second) = call(
        &app,
        &key,
        Method::POST,
        "/v1/responses",
        Some(json!({
        "model": "anthropic/claude-sonnet-4-5", "store": true, "previous_response_id": id,
        "input": "what is my name"})),
    )
    .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(
        second["output"][0]["content"][0]["text"],
        "echo: what is my name"
    );
    // "my name is ada" + "echo: my name is ada" + "what is my name" + 3 (instructions are not carried).
    assert_eq!(second["usage"]["input_tokens"], 4 + 5 + 4 + 3, "{second}");
    assert_eq!(second["previous_response_id"], id.as_str());
    let (status, _) = call(
        &app,
        &stranger,
        Method::POST,
        "/v1/responses",
        Some(json!({
        "model": "anthropic/claude-sonnet-4-5", "previous_response_id": id, "input": "hi"})),
    )
    .await;
    assert_eq!(status, 404, "another organization cannot continue it");

    // A streamed response is kept too, once it has ended.
    let res = app
        .client
        .post(app.url("/v1/responses"))
        .bearer_auth(&key)
        .json(&json!({"model": "google/gemini-2.5-flash", "store": true, "stream": true, "input": "hello"}))
        .send()
        .await
        .unwrap();
    let streamed = fold(&res.text().await.unwrap()).unwrap();
    let streamed_id = streamed["id"].as_str().unwrap().to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (status, read) = call(
            &app,
            &key,
            Method::GET,
            &format!("/v1/responses/{streamed_id}"),
            None,
        )
        .await;
        if status == 200 {
            assert_eq!(read, streamed);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the streamed response was not stored"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // Not stored without `store: true`; an unknown id to continue is a 404 naming the field.
    let (_, plain) = call(
        &app,
        &key,
        Method::POST,
        "/v1/responses",
        Some(json!({
        "model": "openai/gpt-4o-mini", "input": "hi"})),
    )
    .await;
    let plain_id = plain["id"].as_str().unwrap();
    let (status, _) = call(
        &app,
        &key,
        Method::GET,
        &format!("/v1/responses/{plain_id}"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, error) = call(
        &app,
        &key,
        Method::POST,
        "/v1/responses",
        Some(json!({
        "model": "openai/gpt-4o-mini", "previous_response_id": "resp_nope", "input": "hi"})),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(error["error"]["param"], "previous_response_id");

    let (status, deleted) = call(
        &app,
        &stranger,
        Method::DELETE,
        &format!("/v1/responses/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 404, "{deleted}");
    let (status, deleted) = call(
        &app,
        &key,
        Method::DELETE,
        &format!("/v1/responses/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        deleted,
        json!({"id": id, "object": "response.deleted", "deleted": true})
    );
    let (status, _) = call(
        &app,
        &key,
        Method::GET,
        &format!("/v1/responses/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 404);
}
