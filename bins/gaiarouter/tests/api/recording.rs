//! Every inference request leaves one usage record — successes, failures, cut streams and clients that
//! walk away (whose upstream request is cancelled).

use std::time::Duration;

use gaia_store::usage::{StoredUsageRecord, UsageRecordFilter};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{TestApp, spawn_app_with_upstream};

/// Waits (bounded) until the app has written `n` usage records, and returns them newest first.
pub async fn records(app: &TestApp, n: u64) -> Vec<StoredUsageRecord> {
    let store = gaia_store::Store::connect(&app.database_url, &Default::default())
        .await
        .unwrap();
    let started = std::time::Instant::now();
    loop {
        let page = store
            .list_usage_records(&UsageRecordFilter::default(), 1, 1000)
            .await
            .unwrap();
        if page.total >= n {
            return page.items;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "only {} of {n} records were written",
            page.total
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_successful_request_records_tokens_cost_provider_and_latency() {
    let upstream = crate::tenancy::ok_upstream().await; // 10 + 5 tokens of gpt-4o-mini
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    assert_eq!(
        app.chat(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]}))
            .await
            .status(),
        200
    );
    let r = &records(&app, 1).await[0].record;
    assert_eq!(r.model_requested, "gpt-4o-mini");
    assert_eq!(r.model_served.as_deref(), Some("openai/gpt-4o-mini"));
    assert_eq!(r.provider.as_deref(), Some("openai"));
    assert_eq!(
        (r.prompt_tokens, r.completion_tokens, r.total_tokens),
        (10, 5, 15)
    );
    assert_eq!(
        r.cost_nanos,
        10 * 150 + 5 * 600,
        "exact nano-dollars at $0.15/$0.60 per M"
    );
    assert_eq!(r.status_code, 200);
    assert!(!r.estimated && !r.stream);
    assert!(r.upstream_latency_ms.is_some());
}

#[tokio::test]
async fn failures_are_recorded_with_their_status_and_code() {
    let upstream = MockServer::start().await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let res = app
        .chat(&json!({"model": "openai/nope", "messages": [{"role": "user", "content": "x"}]}))
        .await;
    assert_eq!(res.status(), 404);
    let res = app
        .chat(&json!({"model": "openai/gpt-4o", "messages": "not a list"}))
        .await;
    assert_eq!(res.status(), 400);
    let recs = records(&app, 2).await;
    let codes: Vec<(u16, Option<&str>)> = recs
        .iter()
        .map(|r| (r.record.status_code, r.record.error_code.as_deref()))
        .collect();
    assert!(codes.contains(&(404, Some("model_not_found"))), "{codes:?}");
    assert!(
        recs.iter()
            .any(|r| r.record.status_code == 400 && r.record.model_requested == "openai/gpt-4o")
    );
}

#[tokio::test]
async fn a_stream_cut_without_usage_is_recorded_as_an_estimate() {
    let upstream = MockServer::start().await;
    let body = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[]}}\n\n\
        event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n\
        event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"The quick brown fox jumps over the lazy dog\"}}\n\n";
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "text/event-stream"))
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let res = app
        .chat(&json!({"model": "anthropic/claude-sonnet-4-5", "stream": true, "messages": [{"role": "user", "content": "Tell me about foxes"}]}))
        .await;
    let _ = res.text().await.unwrap();
    let r = &records(&app, 1).await[0].record;
    assert!(r.stream && r.estimated, "{r:?}");
    assert_eq!(r.status_code, 502);
    assert_eq!(
        r.completion_tokens, 9,
        "the nine words are nine o200k tokens"
    );
    assert!(r.prompt_tokens >= 5);
    assert!(r.cost_nanos > 0);
}

/// An upstream that sends the first SSE event, then waits; it reports when the gateway hangs up.
pub async fn hanging_upstream() -> (String, tokio::sync::oneshot::Receiver<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 65536];
        let mut seen = Vec::new();
        // Read the request head and body (Content-Length).
        loop {
            let n = sock.read(&mut buf).await.unwrap();
            seen.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&seen);
            if let Some(head_end) = text.find("\r\n\r\n") {
                let len: usize = text[..head_end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if seen.len() >= head_end + 4 + len {
                    break;
                }
            }
        }
        let first = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Once upon a time\"},\"finish_reason\":null}]}\n\n";
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
        sock.write_all(head.as_bytes()).await.unwrap();
        sock.write_all(format!("{:x}\r\n{first}\r\n", first.len()).as_bytes())
            .await
            .unwrap();
        // Hold the stream open until the gateway closes the connection.
        let _ = tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                match sock.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        })
        .await;
        let _ = tx.send(());
    });
    (format!("http://{addr}"), rx)
}

#[tokio::test]
async fn a_client_that_disconnects_cancels_the_upstream_request_and_is_recorded() {
    let (upstream, closed) = hanging_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = gaiarouter::configuration::Settings::for_tests(
        &crate::helpers::test_database_url(dir.path()).await,
    )
    .unwrap();
    crate::helpers::point_providers_at(&mut settings, &upstream);
    settings.sse_keepalive_secs = 1;
    let app = crate::helpers::spawn_with(settings, dir).await;
    let mut res = app
        .client
        .post(app.url("/v1/chat/completions"))
        .bearer_auth(app.key())
        .json(&json!({"model": "openai/gpt-4o", "stream": true, "messages": [{"role": "user", "content": "a story"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // Read until the first token arrives, then walk away.
    let mut got = String::new();
    while !got.contains("Once upon a time") {
        let chunk = res.chunk().await.unwrap().unwrap();
        got.push_str(&String::from_utf8_lossy(&chunk));
    }
    drop(res);
    tokio::time::timeout(Duration::from_secs(10), closed)
        .await
        .expect("the upstream connection was not closed after the client left")
        .unwrap();
    let r = &records(&app, 1).await[0].record;
    assert_eq!(r.error_code.as_deref(), Some("client_disconnected"));
    assert!(r.estimated);
    assert_eq!(r.completion_tokens, 4, "'Once upon a time'");
    assert!(r.ttft_ms.is_some());
}

#[tokio::test]
async fn a_stream_that_stalls_half_way_ends_with_an_error_event_after_the_idle_timeout() {
    let (upstream, _closed) = hanging_upstream().await;
    let app = crate::gateway::spawn_with_config_file(
        &upstream,
        "[upstream]\nstream_idle_timeout_secs = 1\nmax_retries = 0\n",
    )
    .await;
    let started = std::time::Instant::now();
    let res = app
        .chat(&json!({"model": "openai/gpt-4o", "stream": true, "messages": [{"role": "user", "content": "a story"}]}))
        .await;
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    assert!(body.contains("Once upon a time"), "{body}");
    assert!(
        body.contains("\"error\""),
        "the client must see the stall as an error: {body}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    let r = &records(&app, 1).await[0].record;
    assert_eq!(r.error_code.as_deref(), Some("upstream_timeout"));
    // The server keeps serving meanwhile.
    assert_eq!(app.get("/health").await.status(), 200);
}

/// The defect: `{"model": "openai/gpt-4o-mini\u0000x"}` was refused with 400, but its usage record kept the
/// NUL; PostgreSQL refused the batch, the writer retried it forever and every later record queued behind
/// it — after six good requests the statistics still showed none. Now such text (NUL, other control
/// characters, 4-byte UTF-8, too long) is stored escaped and cut, and everything is counted, on every
/// backend (the API suite runs on SQLite, PostgreSQL and MySQL).
#[tokio::test]
async fn a_model_name_with_nul_is_refused_recorded_escaped_and_every_later_request_is_counted() {
    let upstream = crate::tenancy::ok_upstream().await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let long = format!("openai/{}", "🚀".repeat(300));
    for bad in [
        "openai/gpt-4o-mini\u{0}x",
        "openai/gpt-4o-mini\u{1}\u{7f}\n",
        "openai/🚀",
        &long,
    ] {
        let status = app
            .chat(&json!({"model": bad, "messages": [{"role": "user", "content": "x"}]}))
            .await
            .status();
        assert!(status == 400 || status == 404, "{bad:?}: {status}");
    }
    for _ in 0..6 {
        let res = app
            .chat(&json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]}))
            .await;
        assert_eq!(res.status(), 200);
    }
    let recs = records(&app, 10).await;
    let asked: Vec<&str> = recs
        .iter()
        .map(|r| r.record.model_requested.as_str())
        .collect();
    assert!(asked.contains(&"openai/gpt-4o-mini\\u{0}x"), "{asked:?}");
    assert!(
        asked.contains(&"openai/gpt-4o-mini\\u{1}\\u{7f}\\u{a}"),
        "{asked:?}"
    );
    assert!(asked.contains(&"openai/🚀"), "{asked:?}");
    let cut = asked.iter().find(|m| m.starts_with("openai/🚀🚀")).unwrap();
    assert_eq!(cut.chars().count(), 256);
    // The statistics (read from the rollup written in the same transactions) count all ten.
    let stats: serde_json::Value = app.get_authed("/v1/stats").await.json().await.unwrap();
    assert_eq!(stats["summary"]["total_requests"], 10, "{stats}");
    let metrics = app.get_authed("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("gaia_usage_records_rejected_total 0"),
        "{metrics}"
    );
}
