//! Bad input always gets a precise 4xx in the OpenAI envelope — never a 500, a panic or a hang — and
//! nothing is sent upstream.

use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{TestApp, assert_error_envelope, spawn_app_with_upstream};

async fn post_raw(app: &TestApp, body: Vec<u8>, content_type: &str) -> reqwest::Response {
    app.client
        .post(app.url("/v1/chat/completions"))
        .bearer_auth(app.key())
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn silent_upstream() -> MockServer {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&upstream)
        .await;
    upstream
}

#[tokio::test]
async fn malformed_bodies_get_400_with_the_parsers_reason() {
    let upstream = silent_upstream().await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", b"{\"model\": \"openai/gpt-4o\", \"messages\": [".to_vec()),
        ("not an object", b"[1, 2, 3]".to_vec()),
        ("empty", Vec::new()),
        ("invalid utf-8", b"{\"model\": \"\xff\xfe\", \"messages\": []}".to_vec()),
        ("deeply nested", format!("{{\"model\": \"openai/gpt-4o\", \"messages\": {deep}}}").into_bytes()),
        ("nul bytes", b"{\"model\": \"openai/gpt-4o\0\", \"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}".to_vec()),
    ];
    for (name, body) in cases {
        let res = post_raw(&app, body, "application/json").await;
        let status = res.status().as_u16();
        assert!((400..500).contains(&status), "{name}: {status}");
        assert_error_envelope(res, status).await;
    }
}

#[tokio::test]
async fn every_field_with_the_wrong_type_or_range_is_refused_precisely() {
    let upstream = silent_upstream().await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let base = || json!({"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "x"}]});
    let cases: Vec<(&str, Value)> = vec![
        ("model", json!(42)),
        ("messages", json!("hello")),
        ("messages", json!([])),
        ("messages", json!([{"role": "wizard", "content": "x"}])),
        ("messages", json!([{"role": "user"}])),
        ("messages", json!([{"role": "user", "content": 5}])),
        (
            "messages",
            json!([{"role": "user", "content": [{"type": "video", "url": "x"}]}]),
        ),
        ("messages", json!([{"role": "tool", "content": "x"}])),
        ("temperature", json!(7)),
        ("temperature", json!("hot")),
        ("top_p", json!(-1)),
        ("max_tokens", json!(-5)),
        ("max_tokens", json!(1_000_000_000_000i64)),
        ("max_tokens", json!("many")),
        ("n", json!(0)),
        ("stop", json!(17)),
        ("stream", json!("yes")),
        ("tools", json!("get_weather")),
        (
            "tool_choice",
            json!({"type": "function", "function": {"name": "undeclared"}}),
        ),
        ("response_format", json!({"type": "yaml"})),
        ("presence_penalty", json!(9)),
        ("seed", json!("abc")),
    ];
    for (field, value) in cases {
        let mut body = base();
        body[field] = value.clone();
        let res = app.chat(&body).await;
        let status = res.status().as_u16();
        assert_eq!(status, 400, "{field} = {value}");
        let error = assert_error_envelope(res, 400).await;
        let text = error.to_string();
        assert!(
            text.contains(field)
                || error["param"]
                    .as_str()
                    .is_some_and(|p| p.starts_with(field)),
            "{field}: {error}"
        );
    }
}

#[tokio::test]
async fn max_tokens_beyond_the_models_limit_is_refused_before_going_upstream() {
    let upstream = silent_upstream().await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    // gpt-4o-mini: 16,384 completion tokens in the catalog.
    let res = app
        .chat(&json!({"model": "openai/gpt-4o-mini", "max_tokens": 100_000, "messages": [{"role": "user", "content": "x"}]}))
        .await;
    let error = assert_error_envelope(res, 422).await;
    assert_eq!(error["param"], "max_tokens");
    assert!(
        error["message"].as_str().unwrap().contains("16384"),
        "{error}"
    );
}

#[tokio::test]
async fn a_huge_messages_array_is_handled_without_failure() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "x", "object": "chat.completion", "created": 1, "model": "gpt-4o",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]})))
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let messages: Vec<Value> = (0..20_000)
        .map(|i| json!({"role": if i % 2 == 0 { "user" } else { "assistant" }, "content": "hi"}))
        .collect();
    let res = app
        .chat(&json!({"model": "openai/gpt-4o", "messages": messages}))
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn header_tricks_are_refused_with_401() {
    let upstream = silent_upstream().await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let body = json!({"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "x"}]});
    let key = app.key().to_owned();
    let tricks = [
        format!("Basic {key}"),
        format!("Bearer  {key}x"),
        format!("Bearer {key}, Bearer {key}"),
        "Bearer ".to_owned(),
        format!("Token {key}"),
    ];
    for auth in tricks {
        let res = app
            .client
            .post(app.url("/v1/chat/completions"))
            .header("authorization", auth.clone())
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_error_envelope(res, 401).await;
    }
    // Non-UTF-8 header bytes.
    let res = app
        .client
        .post(app.url("/v1/chat/completions"))
        .header(
            "authorization",
            reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap(),
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_error_envelope(res, 401).await;
}

#[tokio::test]
async fn management_endpoints_refuse_bad_json_and_wrong_types_with_400() {
    let upstream = silent_upstream().await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    for (path, body) in [
        ("/v1/organizations", "{\"name\": "),
        ("/v1/organizations", "{\"name\": [1]}"),
        ("/v1/api-keys", "{\"organization_id\": 7}"),
        ("/v1/admin/login", "nope"),
    ] {
        let res = app
            .client
            .post(app.url(path))
            .bearer_auth(app.key())
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_error_envelope(res, 400).await;
    }
    let res = app
        .client
        .get(app.url("/v1/organizations?page=abc"))
        .bearer_auth(app.key())
        .send()
        .await
        .unwrap();
    assert_error_envelope(res, 400).await;
    let res = app
        .client
        .get(app.url("/v1/organizations?page=0"))
        .bearer_auth(app.key())
        .send()
        .await
        .unwrap();
    assert_error_envelope(res, 400).await;
}

#[tokio::test]
async fn unknown_roles_are_refused_naming_the_messages_role() {
    let upstream = silent_upstream().await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    for role in [
        json!("wizard"),
        json!(""),
        json!("User"),
        json!("user "),
        json!(7),
        json!(null),
    ] {
        let res = app
            .chat(&json!({"model": "openai/gpt-4o", "messages": [
                {"role": "system", "content": "be brief"},
                {"role": role, "content": "x"}]}))
            .await;
        let error = assert_error_envelope(res, 400).await;
        assert_eq!(error["param"], "messages[1].role", "{role}: {error}");
        assert_eq!(error["type"], "invalid_request_error", "{role}: {error}");
    }
}

/// Empty content is accepted, as OpenAI's API accepts it (`""` and `[]` alike): it is the caller's
/// conversation, and refusing what the provider accepts would break clients that replay empty turns. Where
/// a provider refuses empty text (Anthropic), the empty parts are left out of what is sent.
#[tokio::test]
async fn empty_content_is_accepted_like_openai_and_never_sent_where_a_provider_refuses_it() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(wiremock::matchers::path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "x", "object": "chat.completion", "created": 1, "model": "gpt-4o",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]})))
        .mount(&upstream)
        .await;
    Mock::given(method("POST"))
        .and(wiremock::matchers::path("/v1/messages"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn",
            "usage": {"input_tokens": 3, "output_tokens": 1}})))
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let messages = json!([
        {"role": "user", "content": ""},
        {"role": "assistant", "content": []},
        {"role": "user", "content": [{"type": "text", "text": ""}, {"type": "text", "text": "hello"}]},
    ]);
    for model in ["openai/gpt-4o", "anthropic/claude-sonnet-4-5"] {
        let res = app
            .chat(&json!({"model": model, "messages": messages}))
            .await;
        assert_eq!(res.status(), 200, "{model}: {}", res.text().await.unwrap());
    }
    let sent: Vec<(String, Value)> = upstream
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| (r.url.path().to_owned(), r.body_json().unwrap()))
        .collect();
    assert_eq!(sent.len(), 2);
    // OpenAI gets the conversation as it came, empty turns included.
    let openai = &sent
        .iter()
        .find(|(p, _)| p == "/v1/chat/completions")
        .unwrap()
        .1;
    assert_eq!(openai["messages"].as_array().unwrap().len(), 3, "{openai}");
    assert_eq!(openai["messages"][0]["content"], "", "{openai}");
    // Anthropic refuses empty text blocks and empty turns: none is sent, the text is.
    let anthropic = &sent.iter().find(|(p, _)| p == "/v1/messages").unwrap().1;
    let texts: Vec<&str> = anthropic["messages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["content"].as_array().unwrap())
        .map(|b| b["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["hello"], "{anthropic}");
}
