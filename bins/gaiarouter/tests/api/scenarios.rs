//! One table of conversations run against every provider kind — OpenAI, Anthropic, Gemini, OpenRouter and
//! an OpenAI-compatible server from the config file — each answered by `bins/mock-upstream` in that
//! provider's own wire format. Every scenario is sent plain and streamed, on one kept-alive client, and
//! must come back the same: the same text or tool call, the same finish reason, the same token counts
//! (the mock's counting rules are in `bins/mock-upstream/src/conversation.rs`), every request recorded.
//!
//! Adding a provider kind adds a row to [`PROVIDERS`]; adding a behaviour adds a row to [`scenarios`].

use serde_json::{Value, json};

use crate::client::ok_json;
use crate::gateway::spawn_with_config_file;
use crate::helpers::{MockUpstream, TestApp, chunks, sse_data};

/// (model id as clients send it, provider name GaiaRouter reports in `x-gaia-provider`).
pub const PROVIDERS: &[(&str, &str)] = &[
    ("openai/gpt-4o-mini", "openai"),
    ("anthropic/claude-sonnet-4-5", "anthropic"),
    ("google/gemini-2.5-flash", "google"),
    ("openrouter/meta-llama/llama-3.1-8b-instruct", "openrouter"),
    ("compat/local-model", "compat"),
];

/// What a scenario must answer, whatever the provider.
#[derive(Debug, Clone, PartialEq)]
enum Answer {
    Text(String),
    /// A call of this tool with these JSON arguments.
    ToolCall(String, Value),
}

struct Scenario {
    name: &'static str,
    /// The request body without `model` and `stream`.
    body: Value,
    answer: Answer,
    prompt_tokens: u64,
    completion_tokens: u64,
}

fn weather_tool() -> Value {
    json!([{"type": "function", "function": {"name": "get_weather", "description": "Current weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}])
}

/// The mock's rules: prompt tokens = words of every message + 3; completion tokens = words of the answer
/// (of the arguments, for a tool call); the answer is "echo: " + the last user text, or a call of the
/// first tool when the user spoke last and tools are not switched off.
fn scenarios() -> Vec<Scenario> {
    let paris = json!({"city": "Paris"});
    vec![
        Scenario {
            name: "one user message",
            body: json!({"messages": [{"role": "user", "content": "hello there gateway"}]}),
            answer: Answer::Text("echo: hello there gateway".into()),
            prompt_tokens: 3 + 3,
            completion_tokens: 4,
        },
        Scenario {
            name: "a system prompt and earlier turns",
            body: json!({"messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "first question"},
                {"role": "assistant", "content": "first answer"},
                {"role": "user", "content": "second question here"}]}),
            answer: Answer::Text("echo: second question here".into()),
            prompt_tokens: 2 + 2 + 2 + 3 + 3,
            completion_tokens: 4,
        },
        Scenario {
            name: "content as text parts",
            body: json!({"messages": [{"role": "user", "content": [
                {"type": "text", "text": "part one"}, {"type": "text", "text": "part two"}]}]}),
            answer: Answer::Text("echo: part one part two".into()),
            prompt_tokens: 4 + 3,
            completion_tokens: 5,
        },
        Scenario {
            name: "a declared tool is called",
            body: json!({"tools": weather_tool(), "max_tokens": 64,
                "messages": [{"role": "user", "content": "weather in Paris"}]}),
            answer: Answer::ToolCall("get_weather".into(), paris),
            prompt_tokens: 3 + 3,
            completion_tokens: 1,
        },
        Scenario {
            name: "a tool result is answered",
            body: json!({"tools": weather_tool(), "messages": [
                {"role": "user", "content": "weather in Paris"},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
                    "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "sunny and warm"}]}),
            answer: Answer::Text("echo: weather in Paris".into()),
            prompt_tokens: 3 + 3 + 3,
            completion_tokens: 4,
        },
        Scenario {
            name: "tool_choice none answers in text",
            body: json!({"tools": weather_tool(), "tool_choice": "none",
                "messages": [{"role": "user", "content": "weather in Paris"}]}),
            answer: Answer::Text("echo: weather in Paris".into()),
            prompt_tokens: 3 + 3,
            completion_tokens: 4,
        },
    ]
}

/// What came back, reduced to what every provider must agree on.
#[derive(Debug, PartialEq)]
struct Got {
    answer: Answer,
    finish_reason: String,
    prompt_tokens: u64,
    completion_tokens: u64,
}

fn answer_of(text: String, tool: Option<(String, String)>) -> Answer {
    match tool {
        Some((name, arguments)) => Answer::ToolCall(
            name,
            serde_json::from_str(&arguments).unwrap_or(Value::String(arguments)),
        ),
        None => Answer::Text(text),
    }
}

fn read_plain(model: &str, body: &Value) -> Result<Got, String> {
    let choice = &body["choices"][0];
    if body["object"] != "chat.completion" || body["model"] != model {
        return Err(format!("object/model: {body}"));
    }
    let message = &choice["message"];
    let tool = message["tool_calls"].as_array().and_then(|calls| {
        let call = calls.first()?;
        call["id"].as_str().filter(|id| !id.is_empty())?;
        Some((
            call["function"]["name"].as_str()?.to_owned(),
            call["function"]["arguments"].as_str()?.to_owned(),
        ))
    });
    Ok(Got {
        answer: answer_of(
            message["content"].as_str().unwrap_or_default().to_owned(),
            tool,
        ),
        finish_reason: choice["finish_reason"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        prompt_tokens: body["usage"]["prompt_tokens"].as_u64().unwrap_or_default(),
        completion_tokens: body["usage"]["completion_tokens"]
            .as_u64()
            .unwrap_or_default(),
    })
}

fn read_stream(model: &str, text: &str) -> Result<Got, String> {
    if sse_data(text).last().map(String::as_str) != Some("[DONE]") {
        return Err(format!("the stream does not end with [DONE]: {text}"));
    }
    let mut content = String::new();
    let mut tool: Option<(String, String)> = None;
    let mut finish_reason = String::new();
    let mut usage = Value::Null;
    for chunk in chunks(text) {
        if chunk["object"] != "chat.completion.chunk" || chunk["model"] != model {
            return Err(format!("object/model: {chunk}"));
        }
        if !chunk["usage"].is_null() {
            usage = chunk["usage"].clone();
        }
        let Some(choice) = chunk["choices"].get(0) else {
            continue;
        };
        let delta = &choice["delta"];
        content.push_str(delta["content"].as_str().unwrap_or_default());
        for call in delta["tool_calls"].as_array().into_iter().flatten() {
            let entry = tool.get_or_insert_with(Default::default);
            if let Some(name) = call["function"]["name"].as_str() {
                if call["id"].as_str().is_none_or(str::is_empty) {
                    return Err(format!("a tool call starts without an id: {chunk}"));
                }
                entry.0.push_str(name);
            }
            entry
                .1
                .push_str(call["function"]["arguments"].as_str().unwrap_or_default());
        }
        if let Some(reason) = choice["finish_reason"].as_str() {
            finish_reason = reason.to_owned();
        }
    }
    Ok(Got {
        answer: answer_of(content, tool),
        finish_reason,
        prompt_tokens: usage["prompt_tokens"].as_u64().unwrap_or_default(),
        completion_tokens: usage["completion_tokens"].as_u64().unwrap_or_default(),
    })
}

async fn run(
    app: &TestApp,
    model: &str,
    provider: &str,
    s: &Scenario,
    stream: bool,
) -> Result<Got, String> {
    let mut body = s.body.clone();
    body["model"] = json!(model);
    if stream {
        body["stream"] = json!(true);
        body["stream_options"] = json!({"include_usage": true});
    }
    let res = app.admin().chat(&body).await;
    let status = res.status();
    let served_by = res
        .headers()
        .get("x-gaia-provider")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = res.text().await.map_err(|e| e.to_string())?;
    if status != 200 {
        return Err(format!("status {status}: {text}"));
    }
    if served_by != provider {
        return Err(format!("x-gaia-provider was {served_by:?}"));
    }
    if stream {
        read_stream(model, &text)
    } else {
        read_plain(
            model,
            &serde_json::from_str(&text).map_err(|e| e.to_string())?,
        )
    }
}

/// An app whose built-in providers point at `mock`, plus the OpenAI-compatible provider `compat` of
/// [`PROVIDERS`] declared in a config file.
pub async fn spawn_every_provider(mock: &MockUpstream) -> TestApp {
    let toml = format!(
        r#"
        [[providers]]
        name = "compat"
        kind = "openai"
        base_url = "{}/v1"
        api_key = "sk-compat"
        [[providers.models]]
        name = "local-model"
        input_price = 1.0
        output_price = 2.0
        "#,
        mock.url
    );
    spawn_with_config_file(&mock.url, &toml).await
}

#[tokio::test]
async fn every_provider_answers_every_scenario_alike_plain_and_streamed() {
    let mock = MockUpstream::start(&[]);
    let app = spawn_every_provider(&mock).await;
    let mut failures = Vec::new();
    let mut sent = 0;
    for (model, provider) in PROVIDERS {
        for s in scenarios() {
            for stream in [false, true] {
                sent += 1;
                let expected = Got {
                    answer: s.answer.clone(),
                    finish_reason: match s.answer {
                        Answer::Text(_) => "stop",
                        Answer::ToolCall(..) => "tool_calls",
                    }
                    .to_owned(),
                    prompt_tokens: s.prompt_tokens,
                    completion_tokens: s.completion_tokens,
                };
                match run(&app, model, provider, &s, stream).await {
                    Ok(got) if got == expected => {}
                    Ok(got) => failures.push(format!(
                        "{model} / {} / stream={stream}: got {got:?}, want {expected:?}",
                        s.name
                    )),
                    Err(e) => failures.push(format!("{model} / {} / stream={stream}: {e}", s.name)),
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Every one of them is in the request log, with its provider, the provider's tokens and a cost.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let log = loop {
        let log = ok_json(app.admin().request_log("limit=100").await).await;
        if log["pagination"]["total"] == sent || std::time::Instant::now() > deadline {
            break log;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(log["pagination"]["total"], sent, "{log}");
    for (model, provider) in PROVIDERS {
        let records: Vec<&Value> = log["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["model"] == *model)
            .collect();
        assert_eq!(records.len(), scenarios().len() * 2, "{model}: {log}");
        for r in records {
            assert_eq!(r["provider"], *provider, "{r}");
            assert_eq!(r["status_code"], 200, "{r}");
            assert_eq!(r["error_code"], Value::Null, "{r}");
            // The provider's own counts, not an estimate, and a price for each.
            assert_eq!(r["estimated"], false, "{r}");
            assert!(r["total_tokens"].as_u64().unwrap_or_default() > 0, "{r}");
            assert!(r["cost"].as_f64().unwrap_or_default() > 0.0, "{r}");
        }
    }
}
