//! The model registry through the admin API: listing, toggling, registering, OpenRouter sync, aliases
//! with fallbacks — and that each change takes effect on the gateway at once.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{TestApp, assert_error_envelope, spawn_app_with_upstream};

impl TestApp {
    async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .request(method, self.url(path))
            .bearer_auth(self.key());
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    }
}

fn openai_answer(text: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "x", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}))
}

#[tokio::test]
async fn admins_page_and_filter_the_registry() {
    let upstream = MockServer::start().await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let res = app
        .admin(
            reqwest::Method::GET,
            "/v1/admin/models?provider=anthropic&limit=2&page=1",
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
    assert!(
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["provider"] == "anthropic")
    );
    let p = &page["pagination"];
    assert_eq!(
        (p["page"].as_u64(), p["limit"].as_u64()),
        (Some(1), Some(2))
    );
    assert!(p["total"].as_u64().unwrap() >= 4);
    assert_eq!(
        p["pages"].as_u64().unwrap(),
        p["total"].as_u64().unwrap().div_ceil(2)
    );
    let res = app
        .admin(reqwest::Method::GET, "/v1/admin/models?limit=1000", None)
        .await;
    assert_eq!(assert_error_envelope(res, 400).await["param"], "limit");
    let res = app
        .admin(reqwest::Method::GET, "/v1/admin/models?enabled=maybe", None)
        .await;
    assert_error_envelope(res, 400).await;
}

#[tokio::test]
async fn a_disabled_model_is_refused_and_listed_again_once_enabled() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(openai_answer("ok"))
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let chat = json!({"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "x"}]});
    assert_eq!(app.chat(&chat).await.status(), 200);

    let res = app
        .admin(
            reqwest::Method::PATCH,
            "/v1/admin/models/openai/gpt-4o",
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["enabled"], false);
    assert_eq!(
        assert_error_envelope(app.chat(&chat).await, 404).await["code"],
        "model_not_found"
    );
    let models: Value = app.get_authed("/v1/models").await.json().await.unwrap();
    assert!(
        !models["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == "openai/gpt-4o")
    );

    let res = app
        .admin(
            reqwest::Method::POST,
            "/v1/admin/models/bulk",
            Some(json!({"ids": ["openai/gpt-4o", "nope/x"], "enabled": true})),
        )
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["updated"], 1);
    assert_eq!(app.chat(&chat).await.status(), 200);
    let res = app
        .admin(
            reqwest::Method::PATCH,
            "/v1/admin/models/openai/unknown",
            Some(json!({"enabled": false})),
        )
        .await;
    assert_error_envelope(res, 404).await;
}

#[tokio::test]
async fn a_manually_registered_model_can_be_called() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(openai_answer("fine-tuned"))
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let res = app
        .admin(reqwest::Method::POST, "/v1/admin/models", Some(json!({"id": "openai/ft:gpt-4o-mini:acme", "input_price_per_mtok": 0.3, "output_price_per_mtok": 1.2})))
        .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["source"], "manual");
    assert_eq!(created["input_price_per_mtok"], 0.3);
    let res = app.chat(&json!({"model": "openai/ft:gpt-4o-mini:acme", "messages": [{"role": "user", "content": "x"}]})).await;
    assert_eq!(res.status(), 200);
    let sent: Value =
        serde_json::from_slice(&upstream.received_requests().await.unwrap()[0].body).unwrap();
    assert_eq!(sent["model"], "ft:gpt-4o-mini:acme");
    let again = app
        .admin(
            reqwest::Method::POST,
            "/v1/admin/models",
            Some(json!({"id": "openai/ft:gpt-4o-mini:acme"})),
        )
        .await;
    assert_error_envelope(again, 409).await;
    let bad = app
        .admin(
            reqwest::Method::POST,
            "/v1/admin/models",
            Some(json!({"id": "nowhere/x"})),
        )
        .await;
    assert_error_envelope(bad, 400).await;
    let bad = app
        .admin(
            reqwest::Method::POST,
            "/v1/admin/models",
            Some(json!({"id": "openai/y", "input_price_per_mtok": -1})),
        )
        .await;
    assert_error_envelope(bad, 400).await;
}

#[tokio::test]
async fn openrouter_sync_imports_models_with_prices() {
    let upstream = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/models"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
            {"id": "mistralai/mistral-small", "name": "Mistral Small", "context_length": 32000,
             "pricing": {"prompt": "0.0000002", "completion": "0.0000006"},
             "architecture": {"input_modalities": ["text"]}, "top_provider": {"max_completion_tokens": 8192},
             "supported_parameters": ["tools"]},
            {"id": "meta-llama/llama-3.1-8b-instruct", "name": "Llama", "context_length": 131072,
             "pricing": {"prompt": "0.00000002", "completion": "0.00000003"}}]})))
        .expect(1)
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let res = app
        .admin(reqwest::Method::POST, "/v1/admin/models/sync", None)
        .await;
    assert_eq!(res.status(), 200);
    let result: Value = res.json().await.unwrap();
    assert_eq!(result["total"], 2);
    // Mistral is new; Llama was in the built-in catalog and is refreshed from OpenRouter's list.
    assert_eq!(result["inserted"], 1);
    assert_eq!(result["updated"], 1);
    let models: Value = app
        .get_authed("/v1/models/openrouter/mistralai/mistral-small")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(models["input_price_per_mtok"], 0.2);
    assert_eq!(models["context_length"], 32000);
}

#[tokio::test]
async fn an_alias_falls_back_to_its_next_target_when_the_first_fails() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(ResponseTemplate::new(529).set_body_json(json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})))
        .expect(2) // first try + one retry
        .mount(&upstream)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(openai_answer("from the fallback"))
        .expect(1)
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let res = app
        .admin(
            reqwest::Method::PUT,
            "/v1/admin/aliases/smart",
            Some(json!({"targets": ["anthropic/claude-sonnet-4-5", "openai/gpt-4o"]})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .chat(&json!({"model": "smart", "messages": [{"role": "user", "content": "x"}]}))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-gaia-provider"], "openai");
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "from the fallback"
    );
    assert_eq!(body["model"], "openai/gpt-4o");

    let aliases: Value = app
        .admin(reqwest::Method::GET, "/v1/admin/aliases", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(aliases[0]["alias"], "smart");
    let bad = app
        .admin(
            reqwest::Method::PUT,
            "/v1/admin/aliases/x",
            Some(json!({"targets": ["openai/not-registered"]})),
        )
        .await;
    assert_error_envelope(bad, 400).await;
    assert_eq!(
        app.admin(reqwest::Method::DELETE, "/v1/admin/aliases/smart", None)
            .await
            .status(),
        200
    );
    let gone = app
        .chat(&json!({"model": "smart", "messages": [{"role": "user", "content": "x"}]}))
        .await;
    assert_error_envelope(gone, 404).await;
}

#[tokio::test]
async fn a_client_error_is_not_retried_or_failed_over() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"type": "error", "error": {"type": "invalid_request_error", "message": "prompt is too long"}})))
        .expect(1)
        .mount(&upstream)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(openai_answer("no"))
        .expect(0)
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    app.admin(
        reqwest::Method::PUT,
        "/v1/admin/aliases/smart",
        Some(json!({"targets": ["anthropic/claude-sonnet-4-5", "openai/gpt-4o"]})),
    )
    .await;
    let res = app
        .chat(&json!({"model": "smart", "messages": [{"role": "user", "content": "x"}]}))
        .await;
    let error = assert_error_envelope(res, 400).await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("prompt is too long")
    );
}

#[tokio::test]
async fn registry_administration_needs_the_admin_permission() {
    let upstream = MockServer::start().await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let res = app
        .client
        .get(app.url("/v1/admin/models"))
        .send()
        .await
        .unwrap();
    assert_error_envelope(res, 401).await;
}

/// One bad entry in an upstream's model list never stops the others: a display name with NUL, control
/// characters, emoji and 400 characters is stored escaped and cut; an id with a NUL (which would be sent
/// upstream as is) is skipped; the good entry is imported — on every backend.
#[tokio::test]
async fn an_openrouter_list_with_hostile_entries_imports_the_rest() {
    let upstream = MockServer::start().await;
    let long_name = format!("Bad\u{0}\u{1b}[31m 🚀 {}", "n".repeat(400));
    Mock::given(method("GET"))
        .and(path("/api/v1/models"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
            {"id": "acme/good", "name": "Good", "pricing": {"prompt": "0.000001", "completion": "0.000002"}},
            {"id": "acme/odd-name", "name": long_name, "pricing": {"prompt": "0.000001", "completion": "0.000002"}},
            {"id": "acme/bad\u{0}id", "name": "Bad id", "pricing": {"prompt": "0.000001", "completion": "0.000002"}}]})))
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let res = app
        .admin(reqwest::Method::POST, "/v1/admin/models/sync", None)
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let good = app.get_authed("/v1/models/openrouter/acme/good").await;
    assert_eq!(good.status(), 200);
    let odd: Value = app
        .get_authed("/v1/admin/models?search=odd-name")
        .await
        .json()
        .await
        .unwrap();
    let name = odd["data"][0]["display_name"].as_str().unwrap().to_owned();
    assert!(name.starts_with("Bad\\u{0}\\u{1b}[31m 🚀 nnn"), "{name}");
    assert_eq!(name.chars().count(), 256);
    let all: Value = app
        .get_authed("/v1/admin/models?search=acme/bad")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["pagination"]["total"], 0, "{all}");
}
