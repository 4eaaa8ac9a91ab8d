//! What an operator sees of the requests served (specs/scale.md S-19, S-20): `/metrics` counts every answered
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

/// The metric families the Grafana dashboard (docs/deployment/grafana) queries, histogram suffixes removed.
pub(crate) fn dashboard_families() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/deployment/grafana/gaiarouter-dashboard.json"
    );
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut exprs = Vec::new();
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    if k == "expr" {
                        if let Some(e) = v.as_str() {
                            out.push(e.to_owned());
                        }
                    } else {
                        walk(v, out);
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    walk(&dashboard, &mut exprs);
    let mut families: Vec<String> = exprs
        .iter()
        .flat_map(|e| {
            e.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| w.starts_with("gaia_"))
                .map(|w| {
                    ["_bucket", "_sum", "_count"]
                        .iter()
                        .find_map(|s| w.strip_suffix(s))
                        .unwrap_or(w)
                        .to_owned()
                })
                .collect::<Vec<_>>()
        })
        .collect();
    families.sort();
    families.dedup();
    assert!(families.len() > 20, "{families:?}");
    families
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
    // A streamed answer, for the time to first token.
    let sse = [
        r#"data: {"id":"s","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"hi"},"finish_reason":null}]}"#,
        r#"data: {"id":"s","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}"#,
        "data: [DONE]",
    ]
    .join("\n\n")
        + "\n\n";
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(wiremock::matchers::body_partial_json(
            json!({"stream": true}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_raw(sse, "text/event-stream"))
        .with_priority(1)
        .mount(&ok)
        .await;
    let mut stream = ask("pool/m");
    stream["stream"] = json!(true);
    let res = app.chat(&stream).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("[DONE]"));
    let m = scrape(&app).await;
    assert_eq!(
        get(
            &m,
            r#"gaia_time_to_first_token_seconds_count{api="chat.completions",provider="pool"}"#
        ),
        1.0
    );
    // Every family the Grafana dashboard queries is exported (those of Redis: by the `cluster::` tests).
    let text = app.get_authed("/metrics").await.text().await.unwrap();
    for family in dashboard_families() {
        if family.starts_with("gaia_redis_") || family.starts_with("gaia_cluster_") {
            continue;
        }
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "the dashboard queries {family}, which /metrics does not export"
        );
    }

    // Without a trace exporter, nothing is added to upstream requests.
    for r in ok.received_requests().await.unwrap() {
        assert!(!r.headers.contains_key("traceparent"));
    }
    // No key, user or organization id is ever a label.
    let text = app.get_authed("/metrics").await.text().await.unwrap();
    assert!(!text.contains(app.key()) && !text.contains("sk-pool"));
    assert!(!text.contains("organization_id") && !text.contains("key_id"));
}

// ---------------------------------------------------------------- OTLP traces

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;

/// Every span the receiver got so far.
async fn received_spans(receiver: &MockServer) -> Vec<Span> {
    let mut spans = Vec::new();
    for r in receiver.received_requests().await.unwrap_or_default() {
        assert_eq!(r.url.path(), "/v1/traces");
        assert_eq!(r.headers["content-type"], "application/x-protobuf");
        let export = ExportTraceServiceRequest::decode(r.body.as_slice()).unwrap();
        for rs in export.resource_spans {
            let service = rs
                .resource
                .as_ref()
                .and_then(|r| r.attributes.iter().find(|a| a.key == "service.name"))
                .and_then(|a| a.value.as_ref()?.value.clone());
            assert_eq!(service, Some(AnyValue::StringValue("gaiarouter".into())));
            for ss in rs.scope_spans {
                spans.extend(ss.spans);
            }
        }
    }
    spans
}

fn attr(span: &Span, key: &str) -> Option<AnyValue> {
    span.attributes
        .iter()
        .find(|a| a.key == key)
        .and_then(|a| a.value.as_ref()?.value.clone())
}

fn text(v: &str) -> Option<AnyValue> {
    Some(AnyValue::StringValue(v.to_owned()))
}

#[tokio::test]
async fn each_request_is_a_trace_joined_to_the_callers_and_passed_on_upstream() {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/traces"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let upstream = crate::tenancy::ok_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let env = vec![
        (
            "DATABASE_URL",
            format!("sqlite://{}/gaia.db?mode=rwc", dir.path().display()),
        ),
        ("GAIA_ADMIN_KEY", crate::crash::ADMIN.to_owned()),
        (
            "GAIA_JWT_SECRET",
            "otlp-test-jwt-secret-0123456789abcdefgh".to_owned(),
        ),
        ("OPENAI_API_KEY", "sk-openai-test".to_owned()),
        ("OPENAI_BASE_URL", format!("{}/v1", upstream.uri())),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.uri()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100".to_owned()),
    ];
    let gw = crate::crash::Gateway::start(dir.path(), &env);
    // A key with a limit, so admission has work to do.
    let org = crate::crash::call(
        &gw,
        crate::crash::ADMIN,
        reqwest::Method::POST,
        "/v1/organizations",
        Some(json!({"name": "traced", "rate_limit_rpm": 100})),
    )
    .await;
    let key = crate::crash::call(
        &gw,
        crate::crash::ADMIN,
        reqwest::Method::POST,
        "/v1/api-keys",
        Some(json!({"organization_id": org["id"], "permissions": ["read", "write"]})),
    )
    .await;
    let key = key["key"].as_str().unwrap();

    let caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let res = gw
        .client
        .post(format!("{}/v1/chat/completions", gw.base))
        .bearer_auth(key)
        .header("traceparent", format!("00-{caller_trace}-{caller_span}-01"))
        .json(&json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // The upstream call carried the trace on, under a span of its own.
    let sent = upstream.received_requests().await.unwrap();
    let upstream_parent = sent[0].headers["traceparent"].to_str().unwrap().to_owned();
    let parts: Vec<&str> = upstream_parent.split('-').collect();
    assert_eq!(
        (parts[0], parts[1]),
        ("00", caller_trace),
        "{upstream_parent}"
    );
    assert_ne!(parts[2], caller_span);

    // The spans arrive at the receiver (batched, within a second or so).
    let mut spans = Vec::new();
    for _ in 0..100 {
        spans = received_spans(&receiver).await;
        if spans.len() >= 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let find = |name: &str| {
        spans.iter().find(|s| s.name == name).unwrap_or_else(|| {
            panic!(
                "no span {name} in {:?}",
                spans.iter().map(|s| &s.name).collect::<Vec<_>>()
            )
        })
    };
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let server = find("POST /v1/chat/completions");
    assert_eq!(hex(&server.trace_id), caller_trace);
    assert_eq!(
        hex(&server.parent_span_id),
        caller_span,
        "the caller's span is the parent"
    );
    assert_eq!(server.kind, 2, "SERVER");
    assert_eq!(attr(server, "gen_ai.operation.name"), text("chat"));
    assert_eq!(attr(server, "gen_ai.system"), text("openai"));
    assert_eq!(
        attr(server, "gen_ai.request.model"),
        text("openai/gpt-4o-mini")
    );
    assert_eq!(
        attr(server, "gen_ai.response.model"),
        text("openai/gpt-4o-mini")
    );
    assert_eq!(
        attr(server, "gen_ai.usage.input_tokens"),
        Some(AnyValue::IntValue(10))
    );
    assert_eq!(
        attr(server, "gen_ai.usage.output_tokens"),
        Some(AnyValue::IntValue(5))
    );
    assert_eq!(
        attr(server, "http.response.status_code"),
        Some(AnyValue::IntValue(200))
    );
    assert_eq!(attr(server, "gaia.channel"), text("default"));

    let attempt = find("chat gpt-4o-mini");
    assert_eq!(attempt.kind, 3, "CLIENT");
    assert_eq!(attempt.parent_span_id, server.span_id);
    assert_eq!(
        hex(&attempt.span_id),
        parts[2],
        "the upstream's parent is the attempt span"
    );
    assert_eq!(attr(attempt, "gen_ai.request.model"), text("gpt-4o-mini"));
    assert_eq!(attr(attempt, "gen_ai.system"), text("openai"));
    for child in ["gaia.admission", "gaia.record"] {
        assert_eq!(find(child).parent_span_id, server.span_id, "{child}");
        assert_eq!(find(child).trace_id, server.trace_id);
    }
    // No credential in any attribute.
    let all = format!("{spans:?}");
    assert!(!all.contains(key) && !all.contains("sk-openai-test"));
}
