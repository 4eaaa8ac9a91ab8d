//! Channels declared in `GAIA_CONFIG` (specs/scale.md S-13 to S-15): a provider reached through two
//! endpoints; one starts failing, its circuit opens and requests are routed around it within the window;
//! it recovers, and after its cooldown it serves again by itself.

use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "x", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}))
}

async fn hits(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

#[tokio::test]
async fn a_failing_channel_is_routed_around_and_comes_back_by_itself() {
    let (a, b) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(503).set_body_string("overloaded"))
        .mount(&a)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ok())
        .mount(&b)
        .await;
    let toml = format!(
        r#"
[upstream]
max_retries = 0
[upstream.circuit]
window_secs = 30
min_requests = 2
failure_ratio = 0.5
cooldown_secs = 1

[[providers]]
name = "pool"
base_url = "{a}/v1"
api_key = "sk-a"
[[providers.models]]
name = "m"
input_price = 1
output_price = 1

[[channels]]
provider = "pool"
name = "b"
base_url = "{b}/v1"
api_key = "sk-b"
"#,
        a = a.uri(),
        b = b.uri()
    );
    let app = crate::gateway::spawn_with_config_file(&a.uri(), &toml).await;
    let body = json!({"model": "pool/m", "messages": [{"role": "user", "content": "hi"}]});

    // Every request is answered: a failure on `default` moves to `b` at once (no retry budget needed).
    for i in 0..30 {
        let res = app.chat(&body).await;
        assert_eq!(
            res.status(),
            200,
            "request {i}: {}",
            res.text().await.unwrap()
        );
    }
    // Two failures opened `default`'s circuit; from then on it was not tried (1:1 weights would have sent
    // it about fifteen of thirty).
    let failed = hits(&a).await;
    assert!(
        (2..=3).contains(&failed),
        "{failed} requests reached the failing channel"
    );
    assert_eq!(hits(&b).await, 30);

    // It recovers; after its cooldown one probe goes through and closes the circuit.
    a.reset().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ok())
        .mount(&a)
        .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for _ in 0..40 {
        assert_eq!(app.chat(&body).await.status(), 200);
    }
    let back = hits(&a).await;
    assert!(
        back >= 8,
        "only {back} of 40 requests went to the recovered channel"
    );
}

#[tokio::test]
async fn channels_serve_only_their_models_under_their_own_names() {
    let (a, b) = (MockServer::start().await, MockServer::start().await);
    for s in [&a, &b] {
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(ok())
            .mount(s)
            .await;
    }
    let toml = format!(
        r#"
[[providers]]
name = "pool"
base_url = "{a}/v1"
api_key = "sk-a"
[[providers.models]]
name = "m"
[[providers.models]]
name = "n"

[[channels]]
provider = "pool"
name = "deployment"
base_url = "{b}/v1"
api_key = "sk-b"
priority = 5
models = ["n"]
model_map = {{ "n" = "n-deployment-7" }}
"#,
        a = a.uri(),
        b = b.uri()
    );
    let app = crate::gateway::spawn_with_config_file(&a.uri(), &toml).await;
    for model in ["pool/m", "pool/n", "pool/m", "pool/n"] {
        let body = json!({"model": model, "messages": [{"role": "user", "content": "hi"}]});
        assert_eq!(app.chat(&body).await.status(), 200);
    }
    // `n` went to the higher-priority channel that serves it, under its mapped name; `m` to `default`.
    let on_b = b.received_requests().await.unwrap();
    assert_eq!(on_b.len(), 2);
    for r in &on_b {
        let sent: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(sent["model"], "n-deployment-7");
        assert_eq!(r.headers["authorization"], "Bearer sk-b");
    }
    assert_eq!(hits(&a).await, 2);
}
