//! The request path needs no database: once a key is cached and its limit blocks are claimed, serving
//! inference requests runs no database statement (`gaia_db_statements_total{path="request"}` on
//! `GET /metrics` stays put) while the usage writer and the limit claims work in the background. And the
//! time GaiaRouter itself adds is published apart from the provider's (`gaia_request_overhead_seconds`).

use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{TestApp, spawn_app_with_upstream};
use crate::tenancy::{chat_as, ok_upstream};

/// `GET /metrics` with the admin key, as a map of `name{labels}` → value.
async fn metrics(app: &TestApp) -> std::collections::HashMap<String, f64> {
    let res = app.get_authed("/metrics").await;
    assert_eq!(res.status(), 200);
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    let text = res.text().await.unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (name, value) = l.rsplit_once(' ').unwrap();
            (name.to_owned(), value.parse().unwrap())
        })
        .collect()
}

#[tokio::test]
async fn serving_requests_with_a_cached_key_runs_no_database_statement() {
    let upstream = ok_upstream().await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    // Every kind of limit on both the organization and the key, so every check runs.
    let limits = json!({"monthly_requests_limit": 1_000_000, "monthly_tokens_limit": 1_000_000_000i64,
        "monthly_cost_limit": 1000.0, "rate_limit_rpm": 1_000_000});
    let org = app.create_org("hot-path", limits.clone()).await;
    let (_, key) = app.create_key(org["id"].as_str().unwrap(), limits).await;

    // The first request claims the first blocks of request slots (the one time it waits for the database).
    assert_eq!(chat_as(&app, &key).await.status(), 200);
    let before = metrics(&app).await;

    // 300 requests over 4 connections: several blocks' worth, so blocks are claimed ahead meanwhile.
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (client, url, key) = (
            app.client.clone(),
            app.url("/v1/chat/completions"),
            key.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for _ in 0..75 {
                let res = client
                    .post(&url)
                    .bearer_auth(&key)
                    .json(&json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 200);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    for path in ["/v1/models", "/v1/models/openai/gpt-4o-mini"] {
        let res = app
            .client
            .get(app.url(path))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
    }

    // Wait until the background writer has written all 301 records (it is the database's main user).
    let mut after = metrics(&app).await;
    for _ in 0..200 {
        if after["gaia_usage_records_written_total"] >= 301.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        after = metrics(&app).await;
    }
    assert_eq!(after["gaia_usage_records_written_total"], 301.0);
    assert_eq!(after["gaia_usage_records_dropped_total"], 0.0);
    let request = "gaia_db_statements_total{path=\"request\"}";
    let other = "gaia_db_statements_total{path=\"other\"}";
    assert_eq!(
        after[request], before[request],
        "statements ran on the request path"
    );
    // The counter does count: the writer's statements (and the blocks claimed ahead) ran meanwhile.
    assert!(after[other] > before[other], "{before:?} → {after:?}");
}

#[tokio::test]
async fn metrics_need_the_admin_permission() {
    let upstream = ok_upstream().await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let org = app.create_org("metrics", json!({})).await;
    let (_, key) = app
        .create_key(
            org["id"].as_str().unwrap(),
            json!({"permissions": ["read", "write"]}),
        )
        .await;
    let res = app.get("/metrics").await;
    crate::helpers::assert_error_envelope(res, 401).await;
    let res = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    crate::helpers::assert_error_envelope(res, 403).await;
}

#[tokio::test]
async fn the_overhead_histogram_counts_answered_requests_without_the_providers_time() {
    // A provider that takes 300 ms per answer, streaming or not.
    const DELAY: Duration = Duration::from_millis(300);
    let upstream = MockServer::start().await;
    let stream_body = concat!(
        "data: {\"id\":\"s\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",",
        "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}]}\n\n",
        "data: [DONE]\n\n"
    );
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(wiremock::matchers::body_partial_json(
            json!({"stream": true}),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(stream_body, "text/event-stream")
                .set_delay(DELAY),
        )
        .mount(&upstream)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({
                    "id": "x", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}))
                .set_delay(DELAY),
        )
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let org = app.create_org("overhead", json!({})).await;
    let (_, key) = app.create_key(org["id"].as_str().unwrap(), json!({})).await;
    let count = "gaia_request_overhead_seconds_count";
    let sum = "gaia_request_overhead_seconds_sum";
    let before = metrics(&app).await;
    assert_eq!(before[count], 0.0, "{before:?}");

    let chat = |body: serde_json::Value| {
        app.client
            .post(app.url("/v1/chat/completions"))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };
    for _ in 0..3 {
        assert_eq!(chat(json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]})).await.unwrap().status(), 200);
    }
    let res = chat(json!({"model": "openai/gpt-4o-mini", "stream": true, "messages": [{"role": "user", "content": "hello"}]}))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("[DONE]"));
    // Refused before any provider is asked: not counted.
    let res = chat(json!({"model": "openai/no-such-model", "messages": [{"role": "user", "content": "hello"}]}))
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = chat(json!({"model": "openai/gpt-4o-mini", "messages": []}))
        .await
        .unwrap();
    assert_eq!(res.status(), 400);

    let after = metrics(&app).await;
    assert_eq!(after[count], 4.0, "three answers and one stream: {after:?}");
    assert_eq!(
        after["gaia_request_overhead_seconds_bucket{le=\"+Inf\"}"],
        4.0
    );
    // Buckets are cumulative.
    let mut buckets: Vec<(f64, f64)> = after
        .iter()
        .filter(|(name, _)| name.starts_with("gaia_request_overhead_seconds_bucket{le=\"0"))
        .map(|(name, value)| (name.split('"').nth(1).unwrap().parse().unwrap(), *value))
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(buckets.len(), 20);
    assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1), "{buckets:?}");
    // The provider's 300 ms per request are not the gateway's: with them the sum would be at least 1.2 s.
    let provider_time = 4.0 * DELAY.as_secs_f64();
    assert!(
        after[sum] < provider_time / 2.0,
        "overhead sum {} s includes the provider's time",
        after[sum]
    );
}

/// Password hashing (argon2id, ~20 ms of CPU each) once ran on the request threads: with one worker, a
/// burst of sign-ins stalled every request that worker serves, each waiting behind whole hashes. Now
/// hashing runs on the blocking pool (bounded), so a chat request sent during a storm of 40 sign-ins is
/// answered within four times what one sign-in alone takes (its hash included): measured here, 1–2.5×
/// with the fix and 8–25× without (the chat waited behind the hashes queued before it). The yardstick is
/// measured in the same test, so a slow machine slows both sides; a round may be repeated twice.
#[tokio::test]
async fn a_chat_request_is_answered_while_a_storm_of_sign_ins_is_being_hashed() {
    let upstream = ok_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = gaiarouter::configuration::Settings::for_tests(
        &crate::helpers::test_database_url(dir.path()).await,
    )
    .unwrap();
    crate::helpers::point_providers_at(&mut settings, &upstream.uri());
    settings.workers = Some(1);
    settings.admin_username = Some("root".into());
    settings.admin_password = Some(gaiarouter::configuration::Secret::new("root-password"));
    let app = std::sync::Arc::new(crate::helpers::spawn_with(settings, dir).await);
    let sign_in = |app: std::sync::Arc<TestApp>| async move {
        let res = crate::helpers::http_client()
            .post(app.url("/v1/admin/login"))
            .json(&json!({"username": "root", "password": "root-password"}))
            .send()
            .await
            .unwrap();
        res.status().as_u16()
    };
    let chat = || async {
        let started = std::time::Instant::now();
        let res = crate::helpers::http_client()
            .post(app.url("/v1/chat/completions"))
            .bearer_auth(app.key())
            .json(&json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        started.elapsed()
    };
    // Warm: the key cache, the upstream connection, the dummy hash.
    chat().await;
    let mut rounds = Vec::new();
    for _ in 0..3 {
        // The yardstick: one sign-in alone, the fastest of three.
        let mut alone = Duration::MAX;
        for _ in 0..3 {
            let started = std::time::Instant::now();
            assert_eq!(sign_in(app.clone()).await, 200);
            alone = alone.min(started.elapsed());
        }
        let storm: Vec<_> = (0..40)
            .map(|_| tokio::spawn(sign_in(app.clone())))
            .collect();
        // Let the sign-ins reach the server first.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let during = chat().await;
        for s in storm {
            assert_eq!(s.await.unwrap(), 200);
        }
        if during < alone * 4 {
            return;
        }
        rounds.push((during, alone));
    }
    panic!(
        "a chat request during a storm of sign-ins took four sign-ins' time or more (during, one alone): {rounds:?}"
    );
}

/// A flood of well-formed but made-up keys costs at most a few database lookups a second: each is
/// refused with 401 as before, and `/metrics` shows how (`gaia_auth_unknown_keys_total`). Before, every
/// one was a database query.
#[tokio::test]
async fn a_flood_of_made_up_keys_is_refused_from_memory_and_counted() {
    let upstream = ok_upstream().await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let before = metrics(&app).await;
    let lookups_before = before["gaia_db_statements_total{path=\"request\"}"];
    for i in 0..300 {
        let key = format!("gaia_{:0>12}_{}", i % 150, "x".repeat(40));
        assert_eq!(chat_as(&app, &key).await.status(), 401);
    }
    let after = metrics(&app).await;
    let memory = after["gaia_auth_unknown_keys_total{answered=\"memory\"}"];
    let database = after["gaia_auth_unknown_keys_total{answered=\"database\"}"];
    assert_eq!(memory + database, 300.0);
    // 150 distinct keys, each repeated: the repeats are remembered, the rest bounded by the budget.
    assert!(
        memory >= 150.0,
        "{memory} from memory, {database} from the database"
    );
    let statements = after["gaia_db_statements_total{path=\"request\"}"] - lookups_before;
    assert!(
        statements <= database + 1.0,
        "{statements} statements on the request path for {database} lookups"
    );
}
