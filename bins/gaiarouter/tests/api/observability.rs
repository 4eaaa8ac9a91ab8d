//! What an operator sees of the requests served (specs/scale.md S-20…): `/metrics` counts every answered
//! request by API, provider, model, channel and status class, its tokens and cost, each failed upstream
//! call by kind, retries and fallbacks, and each channel's circuit — and agrees with the usage records.

use std::collections::HashMap;

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// `GET /metrics` as a map of `name{labels}` → value.
async fn scrape(app: &crate::helpers::TestApp) -> HashMap<String, f64> {
    let res = app.get_authed("/metrics").await;
    assert_eq!(res.status(), 200);
    res.text()
        .await
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (name, value) = l.rsplit_once(' ').unwrap();
            (name.to_owned(), value.parse().unwrap())
        })
        .collect()
}

fn get(m: &HashMap<String, f64>, series: &str) -> f64 {
    *m.get(series).unwrap_or_else(|| {
        panic!(
            "no {series} in {:#?}",
            m.keys()
                .filter(|k| k.starts_with("gaia_"))
                .collect::<Vec<_>>()
        )
    })
}

#[tokio::test]
async fn metrics_count_requests_tokens_cost_failures_retries_and_fallbacks() {
    let (failing, ok) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(503).set_body_string("overloaded"))
        .mount(&failing)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "x", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15,
                      "prompt_tokens_details": {"cached_tokens": 4}}})))
        .mount(&ok)
        .await;
    // `default` (priority 0) is always tried first and always fails; `backup` (priority -1) serves `m`
    // only. The circuit stays closed (100 calls needed), so every request fails over the same way.
    let toml = format!(
        r#"
[upstream]
max_retries = 0
[upstream.circuit]
min_requests = 100

[[providers]]
name = "pool"
base_url = "{failing}/v1"
api_key = "sk-pool-default-key"
[[providers.models]]
name = "m"
input_price = 1
output_price = 2
[[providers.models]]
name = "x"

[[channels]]
provider = "pool"
name = "backup"
base_url = "{ok}/v1"
api_key = "sk-pool-backup-key"
priority = -1
models = ["m"]

[[aliases]]
name = "fb"
targets = ["pool/x", "pool/m"]
"#,
        failing = failing.uri(),
        ok = ok.uri()
    );
    let app = crate::gateway::spawn_with_config_file(&failing.uri(), &toml).await;
    let ask =
        |model: &str| json!({"model": model, "messages": [{"role": "user", "content": "hi"}]});
    for _ in 0..4 {
        assert_eq!(app.chat(&ask("pool/m")).await.status(), 200);
    }
    // `x` fails on its only channel; the alias falls back to `m`, which fails over to `backup`.
    assert_eq!(app.chat(&ask("fb")).await.status(), 200);
    // Refused before routing: no provider, model or channel.
    assert_eq!(app.chat(&ask("pool/unknown")).await.status(), 404);

    let m = scrape(&app).await;
    let served = r#"gaia_requests_total{api="chat.completions",channel="backup",model="pool/m",provider="pool",status="2xx"}"#;
    assert_eq!(get(&m, served), 5.0);
    assert_eq!(
        get(
            &m,
            r#"gaia_requests_total{api="chat.completions",channel="none",model="none",provider="none",status="4xx"}"#
        ),
        1.0
    );
    // Five requests of 10 prompt tokens (4 of them cached) and 5 completion tokens.
    for (class, n) in [("input", 30.0), ("cached_input", 20.0), ("output", 25.0)] {
        assert_eq!(
            get(
                &m,
                &format!(r#"gaia_tokens_total{{class="{class}",model="pool/m",provider="pool"}}"#)
            ),
            n,
            "{class}"
        );
    }
    // Cached tokens are billed at the input price for an OpenAI-compatible provider with no cache price:
    // 5 × (10 × $1 + 5 × $2) / 1M.
    let cost = get(&m, r#"gaia_cost_usd_total{model="pool/m",provider="pool"}"#);
    assert!((cost - 0.0001).abs() < 1e-12, "{cost}");
    // Every request failed once on `default` for `m`, and the alias request once more for `x`.
    assert_eq!(
        get(
            &m,
            r#"gaia_upstream_errors_total{channel="default",kind="server_error",provider="pool"}"#
        ),
        6.0
    );
    assert_eq!(
        get(&m, r#"gaia_upstream_retries_total{api="chat.completions"}"#),
        5.0
    );
    assert_eq!(
        get(&m, r#"gaia_fallbacks_total{api="chat.completions"}"#),
        1.0
    );
    assert_eq!(
        get(
            &m,
            r#"gaia_request_duration_seconds_count{api="chat.completions",provider="pool"}"#
        ),
        5.0
    );
    assert_eq!(
        get(
            &m,
            r#"gaia_channel_state{provider="pool",channel="default",state="closed"}"#
        ),
        1.0
    );
    assert_eq!(
        get(
            &m,
            r#"gaia_channel_state{provider="pool",channel="backup",state="open"}"#
        ),
        0.0
    );
    // No key, user or organization id is ever a label.
    let text = app.get_authed("/metrics").await.text().await.unwrap();
    assert!(!text.contains(app.key()) && !text.contains("sk-pool"));
    assert!(!text.contains("organization_id") && !text.contains("key_id"));
}
