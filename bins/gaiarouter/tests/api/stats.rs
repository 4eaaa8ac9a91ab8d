//! Statistics end to end: real chat requests through wiremock upstreams are recorded by the usage sink,
//! rolled up, and read back through `/v1/stats`, `/v1/organizations/{id}/stats`, `/v1/api-keys/{id}/stats`
//! and `/v1/requests` (JSON and CSV), with the tenancy scoping rules.

use std::time::{Duration, Instant};

use chrono::{Days, Utc};
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::client::ok_json;
use crate::helpers::{TestApp, assert_error_envelope, spawn_app, spawn_app_with_upstream};

// ---------------------------------------------------------------- helpers

fn sse(events: &[String]) -> ResponseTemplate {
    let body: String = events.iter().map(|e| format!("{e}\n\n")).collect();
    ResponseTemplate::new(200)
        .insert_header("content-type", "text/event-stream")
        .set_body_raw(body, "text/event-stream")
}

/// OpenAI: 12 + 4 tokens per plain answer; streams report 5 + 2; a request whose message is "fail"
/// gets an upstream 400.
async fn mount_openai(upstream: &MockServer) {
    let chunk = |extra: Value| {
        let mut c = json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": null}]});
        if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
            c.extend(extra.clone());
        }
        format!("data: {c}")
    };
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_partial_json(
            json!({"messages": [{"role": "user", "content": "fail"}]}),
        ))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error": {"message": "messages too long", "type": "invalid_request_error"}}),
        ))
        .with_priority(1)
        .mount(upstream)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_partial_json(json!({"stream": true})))
        .respond_with(sse(&[
            chunk(json!({})),
            chunk(json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})),
            chunk(json!({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}})),
            "data: [DONE]".to_owned(),
        ]))
        .with_priority(2)
        .mount(upstream)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "chatcmpl-up", "object": "chat.completion", "created": 1764200000, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16}})))
        .mount(upstream)
        .await;
}

/// Anthropic: 20 + 7 tokens per plain answer; streams report 25 + 18.
async fn mount_anthropic(upstream: &MockServer) {
    let events: Vec<String> = [
        r#"event: message_start
data: {"type":"message_start","message":{"id":"msg_s","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"usage":{"input_tokens":25,"output_tokens":1}}}"#,
        r#"event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        r#"event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
        r#"event: content_block_stop
data: {"type":"content_block_stop","index":0}"#,
        r#"event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":18}}"#,
        r#"event: message_stop
data: {"type":"message_stop"}"#,
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(body_partial_json(json!({"stream": true})))
        .respond_with(sse(&events))
        .with_priority(1)
        .mount(upstream)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": "Hello"}], "stop_reason": "end_turn",
            "usage": {"input_tokens": 20, "output_tokens": 7}})))
        .mount(upstream)
        .await;
}

fn ask(model: &str, content: &str, stream: bool) -> Value {
    json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": content}]})
}

async fn create_org(app: &TestApp, name: &str) -> String {
    app.create_org(name, json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A key of `org_id`: `(id, secret)`.
async fn create_key(app: &TestApp, org_id: &str, permissions: &[&str]) -> (String, String) {
    app.create_key(
        org_id,
        json!({"name": "stats-test", "permissions": permissions}),
    )
    .await
}

/// Sends a chat request as `key` and reads the whole answer (streams included), returning the status.
async fn chat_as(app: &TestApp, key: &str, body: &Value) -> u16 {
    let res = app
        .client
        .post(app.url("/v1/chat/completions"))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    res.bytes().await.unwrap();
    status
}

/// Waits until the request log holds `n` records (the sink writes in the background).
async fn wait_for_records(app: &TestApp, n: u64) {
    let start = Instant::now();
    loop {
        let body = ok_json(app.admin().request_log("limit=1").await).await;
        let total = body["pagination"]["total"].as_u64().unwrap();
        if total == n {
            return;
        }
        assert!(total < n, "more records than requests: {total} > {n}");
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "only {total} of {n} requests were recorded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The catalog price of `model_id` in nano-dollars per million tokens: (input, output).
async fn prices(app: &TestApp, model_id: &str) -> (i64, i64) {
    let body = ok_json(
        app.admin()
            .list_admin_models(&format!("search={model_id}&limit=100"))
            .await,
    )
    .await;
    let model = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == model_id)
        .unwrap_or_else(|| panic!("{model_id} is not in the registry"))
        .clone();
    let nanos = |usd: &Value| (usd.as_f64().unwrap() * 1e9).round() as i64;
    (
        nanos(&model["input_price_per_mtok"]),
        nanos(&model["output_price_per_mtok"]),
    )
}

/// `ModelInfo::cost_nanos`: tokens × price / 10⁶, rounded once.
fn cost_nanos((input, output): (i64, i64), prompt: i64, completion: i64) -> i64 {
    (prompt * input + completion * output + 500_000) / 1_000_000
}

fn assert_cost(actual: &Value, nanos: i64) {
    let actual = actual.as_f64().unwrap();
    let expected = nanos as f64 / 1e9;
    assert!(
        (actual - expected).abs() < 1e-12,
        "cost {actual} != {expected}"
    );
}

fn today() -> String {
    Utc::now().date_naive().to_string()
}

// ---------------------------------------------------------------- totals

#[tokio::test]
async fn statistics_match_exactly_after_known_requests_across_two_keys_two_models_and_two_providers()
 {
    let upstream = MockServer::start().await;
    mount_openai(&upstream).await;
    mount_anthropic(&upstream).await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let org = create_org(&app, "acme").await;
    let (key1, secret1) = create_key(&app, &org, &["read", "write"]).await;
    let (key2, secret2) = create_key(&app, &org, &["read"]).await;

    let (gpt, claude) = ("openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5");
    for _ in 0..2 {
        assert_eq!(chat_as(&app, &secret1, &ask(gpt, "Hi", false)).await, 200);
        assert_eq!(
            chat_as(&app, &secret2, &ask(claude, "Hi", false)).await,
            200
        );
    }
    assert_eq!(chat_as(&app, &secret1, &ask(gpt, "Hi", true)).await, 200);
    assert_eq!(chat_as(&app, &secret2, &ask(claude, "Hi", true)).await, 200);
    assert_eq!(chat_as(&app, &secret1, &ask(gpt, "fail", false)).await, 400);
    wait_for_records(&app, 7).await;

    let gpt_cost =
        2 * cost_nanos(prices(&app, gpt).await, 12, 4) + cost_nanos(prices(&app, gpt).await, 5, 2);
    let claude_price = prices(&app, claude).await;
    let claude_cost = 2 * cost_nanos(claude_price, 20, 7) + cost_nanos(claude_price, 25, 18);

    let k1 = ok_json(app.with(&secret1).key_stats(&key1, "").await).await;
    assert_eq!(k1["key_id"], key1.as_str());
    let s = &k1["summary"];
    assert_eq!(
        (
            &s["total_requests"],
            &s["total_prompt_tokens"],
            &s["total_completion_tokens"],
            &s["total_tokens"],
            &s["errors"]
        ),
        (&json!(4), &json!(29), &json!(10), &json!(39), &json!(1))
    );
    assert_cost(&s["total_cost"], gpt_cost);
    assert_eq!(k1["by_provider"].as_array().unwrap().len(), 1);
    assert_eq!(k1["by_provider"][0]["provider"], "openai");
    assert_eq!(k1["by_provider"][0]["requests"], 4);

    let k2 = ok_json(app.with(&secret2).key_stats(&key2, "").await).await;
    let s = &k2["summary"];
    assert_eq!(
        (
            &s["total_requests"],
            &s["total_prompt_tokens"],
            &s["total_completion_tokens"],
            &s["total_tokens"],
            &s["errors"]
        ),
        (&json!(3), &json!(65), &json!(32), &json!(97), &json!(0))
    );
    assert_cost(&s["total_cost"], claude_cost);

    let o = ok_json(
        app.with(&secret2)
            .organization_stats(&org, "group_by=provider")
            .await,
    )
    .await;
    assert_eq!(o["organization_id"], org.as_str());
    assert_eq!(o["summary"]["total_requests"], 7);
    assert_eq!(o["summary"]["total_tokens"], 136);
    assert_eq!(o["summary"]["errors"], 1);
    assert_cost(&o["summary"]["total_cost"], gpt_cost + claude_cost);
    let providers: Vec<(String, i64)> = o["by_provider"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["provider"].as_str().unwrap().to_owned(),
                g["requests"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        providers,
        [("openai".to_owned(), 4), ("anthropic".to_owned(), 3)]
    );
    let models = o["by_model"].as_array().unwrap();
    assert_eq!(models.len(), 2, "{models:?}");
    assert!(
        models[0]["model"].as_str().unwrap().contains("gpt-4o-mini"),
        "{models:?}"
    );
    assert!(
        models[1]["model"]
            .as_str()
            .unwrap()
            .contains("claude-sonnet-4-5"),
        "{models:?}"
    );
    assert_eq!(models[1]["total_tokens"], 97);
    let by_date = o["by_date"].as_array().unwrap();
    assert_eq!(by_date.len(), 30);
    assert_eq!(by_date[29]["date"], today());
    assert_eq!(by_date[29]["requests"], 7);
    assert!(by_date[..29].iter().all(|d| d["requests"] == 0));

    let global = ok_json(app.admin().global_stats("").await).await;
    assert_eq!(global["summary"]["total_requests"], 7);
    assert!(global["summary"]["total_keys"].as_u64().unwrap() >= 3);
    assert!(global["summary"]["active_keys"].as_u64().unwrap() >= 3);
    assert!(global.get("organization_id").is_none() && global.get("key_id").is_none());

    let errors = ok_json(
        app.with(&secret1)
            .request_log(&format!("key_id={key1}&status=error"))
            .await,
    )
    .await;
    assert_eq!(errors["pagination"]["total"], 1);
    assert_eq!(errors["data"][0]["status_code"], 400);
    let streams: Vec<Value> =
        ok_json(app.admin().request_log("provider=anthropic").await).await["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["stream"] == true)
            .cloned()
            .collect();
    assert_eq!(streams.len(), 1);
    assert_eq!(streams[0]["prompt_tokens"], 25);
    assert_eq!(streams[0]["completion_tokens"], 18);
}

#[tokio::test]
async fn a_burst_of_concurrent_requests_is_recorded_completely() {
    let upstream = MockServer::start().await;
    mount_openai(&upstream).await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let org = create_org(&app, "burst").await;
    let (key, secret) = create_key(&app, &org, &["read"]).await;
    let body = ask("openai/gpt-4o-mini", "Hi", false);
    let statuses =
        futures_util::future::join_all((0..40).map(|_| chat_as(&app, &secret, &body))).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    wait_for_records(&app, 40).await;
    let stats = ok_json(app.with(&secret).key_stats(&key, "").await).await;
    assert_eq!(stats["summary"]["total_requests"], 40);
    assert_eq!(stats["summary"]["total_tokens"], 40 * 16);
}

// ---------------------------------------------------------------- scoping

#[tokio::test]
async fn a_key_sees_its_own_organization_and_keys_but_nothing_of_another_organization() {
    let app = spawn_app().await;
    let mine = create_org(&app, "mine").await;
    let theirs = create_org(&app, "theirs").await;
    let (my_other_key, _) = create_key(&app, &mine, &["read"]).await;
    let (_, my_secret) = create_key(&app, &mine, &["read"]).await;
    let (their_key, _) = create_key(&app, &theirs, &["read", "write"]).await;

    let own = app.with(&my_secret).organization_stats(&mine, "").await;
    assert_eq!(own.status(), 200);
    let sibling = app.with(&my_secret).key_stats(&my_other_key, "").await;
    assert_eq!(sibling.status(), 200);

    for path in [
        format!("/v1/organizations/{theirs}/stats"),
        format!("/v1/api-keys/{their_key}/stats"),
        format!("/v1/requests?organization_id={theirs}"),
        format!("/v1/requests?key_id={their_key}"),
        "/v1/organizations/no-such-org/stats".to_owned(),
    ] {
        let res = app
            .with(&my_secret)
            .send(reqwest::Method::GET, &path, None)
            .await;
        let error = assert_error_envelope(res, 404).await;
        assert!(
            !error["message"].as_str().unwrap().contains(&theirs),
            "{path}: {error}"
        );
    }
    let global = app.with(&my_secret).global_stats("").await;
    assert_error_envelope(global, 403).await;
    // An admin reading a missing organization or key gets a plain 404.
    assert_error_envelope(app.get_authed("/v1/api-keys/missing/stats").await, 404).await;
    // Without credentials: 401.
    assert_error_envelope(app.get("/v1/stats").await, 401).await;
}

// ---------------------------------------------------------------- parameters

#[tokio::test]
async fn invalid_dates_unknown_groupings_and_formats_are_400s_and_reversed_dates_422s() {
    let app = spawn_app().await;
    let res = app
        .get_authed("/v1/stats?start_date=2026-11-05&end_date=2026-11-01")
        .await;
    let error = assert_error_envelope(res, 422).await;
    assert_eq!(error["param"], "start_date");
    let res = app
        .get_authed("/v1/requests?start_date=2026-11-05T10:00:00Z&end_date=2026-11-05T09:00:00Z")
        .await;
    assert_error_envelope(res, 422).await;
    for (query, param) in [
        ("start_date=yesterday", "start_date"),
        ("end_date=2026-02-30", "end_date"),
        ("group_by=hour", "group_by"),
        ("format=xml", "format"),
    ] {
        let res = app.get_authed(&format!("/v1/stats?{query}")).await;
        let error = assert_error_envelope(res, 400).await;
        assert_eq!(error["param"], param, "{query}: {error}");
    }
    // One page bound for JSON and CSV: 1–10,000 rows.
    assert_eq!(app.get_authed("/v1/requests?limit=101").await.status(), 200);
    for query in [
        "status=maybe",
        "limit=10001",
        "limit=0",
        "format=csv&limit=10001",
    ] {
        let res = app.get_authed(&format!("/v1/requests?{query}")).await;
        assert_error_envelope(res, 400).await;
    }
}

#[tokio::test]
async fn by_default_statistics_cover_the_last_30_days_with_every_day_present() {
    let app = spawn_app().await;
    let body = ok_json(app.admin().global_stats("").await).await;
    let end = Utc::now().date_naive();
    let start = end.checked_sub_days(Days::new(29)).unwrap();
    assert_eq!(
        body["period"],
        json!({"start": start.to_string(), "end": end.to_string()})
    );
    assert_eq!(body["group_by"], "day");
    let by_date = body["by_date"].as_array().unwrap();
    assert_eq!(by_date.len(), 30);
    assert_eq!(by_date[0]["date"], start.to_string());
    assert!(
        by_date
            .iter()
            .all(|d| d["requests"] == 0 && d["cost"] == 0.0)
    );
    assert_eq!(body["summary"]["total_requests"], 0);
    assert_eq!(body["summary"]["total_cost"], 0.0);
    assert!(body["summary"]["active_keys"].as_u64().unwrap() >= 1);
    assert_eq!(body["by_model"], json!([]));
}

#[tokio::test]
async fn weeks_are_labelled_by_their_monday_and_months_by_year_and_month() {
    let app = spawn_app().await;
    let weeks = ok_json(
        app.admin()
            .global_stats("start_date=2026-11-01&end_date=2026-11-30&group_by=week")
            .await,
    )
    .await;
    let labels: Vec<&str> = weeks["by_date"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["date"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "2026-10-26",
            "2026-11-02",
            "2026-11-09",
            "2026-11-16",
            "2026-11-23",
            "2026-11-30"
        ]
    );
    let months = ok_json(
        app.admin()
            .global_stats("start_date=2026-01-15T08:00:00Z&end_date=2026-03-01&group_by=month")
            .await,
    )
    .await;
    assert_eq!(
        months["period"],
        json!({"start": "2026-01-15", "end": "2026-03-01"})
    );
    let labels: Vec<&str> = months["by_date"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["date"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["2026-01", "2026-02", "2026-03"]);
}

// ---------------------------------------------------------------- CSV

#[tokio::test]
async fn statistics_and_the_request_log_export_as_csv() {
    let upstream = MockServer::start().await;
    mount_openai(&upstream).await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let org = create_org(&app, "csv").await;
    let (_, secret) = create_key(&app, &org, &["read"]).await;
    for _ in 0..2 {
        assert_eq!(
            chat_as(&app, &secret, &ask("openai/gpt-4o-mini", "Hi", false)).await,
            200
        );
    }
    wait_for_records(&app, 2).await;

    let res = app
        .with(&secret)
        .organization_stats(&org, "format=csv&group_by=day")
        .await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = res.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "date,requests,prompt_tokens,completion_tokens,total_tokens,cost,errors,avg_latency_ms,unpriced_requests,\
         cached_tokens,cache_creation_tokens,reasoning_tokens"
    );
    assert_eq!(lines.len(), 31);
    assert!(
        lines[30].starts_with(&format!("{},2,24,8,32,", today())),
        "{}",
        lines[30]
    );

    let res = app.with(&secret).request_log("format=csv").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-total-count"], "2");
    let text = res.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("id,request_id,created_at,api_key_id,organization_id,model,"));
    assert!(lines[1].contains(",openai/gpt-4o-mini,"), "{}", lines[1]);
    assert!(
        lines[0].ends_with(",unpriced,api,cache_creation_tokens,reasoning_tokens"),
        "{}",
        lines[0]
    );
    assert!(lines[1].ends_with(",chat.completions,0,0"), "{}", lines[1]);

    // The log names the inbound API and filters by it; an unknown API is a 400 naming `api`.
    let page: Value = app
        .with(&secret)
        .request_log("api=chat.completions")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["pagination"]["total"], 2);
    assert_eq!(page["data"][0]["api"], "chat.completions");
    assert_eq!(page["data"][0]["cache_creation_tokens"], 0);
    assert_eq!(page["data"][0]["reasoning_tokens"], 0);
    let page: Value = app
        .with(&secret)
        .request_log("api=messages")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["pagination"]["total"], 0);
    let res = app.with(&secret).request_log("api=chat").await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["param"], "api");
}

// ---------------------------------------------------------------- docs

#[tokio::test]
async fn the_statistics_endpoints_are_documented() {
    let app = spawn_app().await;
    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();
    for (path, op) in [
        ("/v1/stats", "get"),
        ("/v1/organizations/{org_id}/stats", "get"),
        ("/v1/api-keys/{key_id}/stats", "get"),
        ("/v1/requests", "get"),
    ] {
        let tags = &doc["paths"][path][op]["tags"];
        assert_eq!(tags, &json!(["statistics"]), "{path}");
    }
    assert!(doc["components"]["schemas"]["StatsResponse"].is_object());
}
