//! The transport to upstreams: HTTP/2 without TLS (h2c, `http_version = "2"`) carries many streams on one
//! connection per worker thread, and `max_connections` caps the HTTP/1.1 connections in use. Against the
//! real `bins/mock-upstream` process (HTTP/1.1 and h2c on one port); connections are counted from the
//! kernel's table of TCP sockets, not from the gateway's own bookkeeping.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::json;

use crate::gateway::spawn_with_config_file;
use crate::helpers::{MockUpstream, TestApp, assert_error_envelope, sse_data};

/// Established TCP connections to `port` on 127.0.0.1 (the client ends: remote port = `port`).
fn connections_to(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // rem_address is "0100007F:PORT" in hex; st 01 is ESTABLISHED.
            fields.len() > 3
                && fields[3] == "01"
                && fields[2]
                    .rsplit(':')
                    .next()
                    .and_then(|p| u16::from_str_radix(p, 16).ok())
                    == Some(port)
        })
        .count()
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().parse().unwrap()
}

async fn stream_once(app: &TestApp) -> (u16, String) {
    let res = app
        .chat(&json!({"model": "openai/gpt-4o-mini", "stream": true,
            "messages": [{"role": "user", "content": "Say hello to the streams"}]}))
        .await;
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

/// Runs `n` streams at once while sampling the connections to the mock; returns the answers and the
/// largest number of connections seen.
async fn concurrent_streams(
    app: &TestApp,
    mock_port: u16,
    n: usize,
) -> (Vec<(u16, String)>, usize) {
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = done.clone();
    let sampler = tokio::spawn(async move {
        let mut peak = 0;
        while !flag.load(std::sync::atomic::Ordering::Relaxed) {
            peak = peak.max(connections_to(mock_port));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        peak
    });
    let answers = join_all((0..n).map(|_| stream_once(app))).await;
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    (answers, sampler.await.unwrap())
}

fn assert_whole_stream((status, body): &(u16, String)) {
    assert_eq!(*status, 200, "{body}");
    let data = sse_data(body);
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"), "{body}");
    // The mock's five text chunks all arrived (plus the role and finish chunks).
    assert!(data.len() >= 6, "{body}");
}

#[tokio::test]
async fn many_streams_share_one_http2_connection_per_worker_and_http1_needs_one_each() {
    // Five chunks 100 ms apart: every stream is open for half a second, all at the same time.
    let mock = MockUpstream::start(&["--chunks", "5", "--chunk-ms", "100"]);
    let port = port_of(&mock.url);
    let workers = std::thread::available_parallelism().map_or(2, usize::from);

    let h2 = spawn_with_config_file(&mock.url, "[upstream]\nhttp_version = \"2\"\n").await;
    let (answers, peak) = concurrent_streams(&h2, port, 40).await;
    answers.iter().for_each(assert_whole_stream);
    assert!(
        (1..=workers).contains(&peak),
        "40 streams over h2c used {peak} connections; at most one per worker thread ({workers}) was expected"
    );

    // The same over HTTP/1.1: a connection per open stream — what the count above would have shown
    // without HTTP/2.
    let h1 = spawn_with_config_file(&mock.url, "[upstream]\nhttp_version = \"1.1\"\n").await;
    let (answers, peak) = concurrent_streams(&h1, port, 40).await;
    answers.iter().for_each(assert_whole_stream);
    assert!(
        peak >= 30,
        "40 streams over HTTP/1.1 used only {peak} connections"
    );
}

#[tokio::test]
async fn max_connections_caps_http1_connections_and_requests_over_it_wait_for_one() {
    // Each stream takes about 400 ms; six of them through three connections take two rounds.
    let mock = MockUpstream::start(&["--chunks", "4", "--chunk-ms", "100"]);
    let port = port_of(&mock.url);
    let app = spawn_with_config_file(
        &mock.url,
        "[upstream]\nhttp_version = \"1.1\"\nmax_connections = 3\nconnect_timeout_secs = 5\n",
    )
    .await;
    let started = Instant::now();
    let (answers, peak) = concurrent_streams(&app, port, 6).await;
    answers.iter().for_each(assert_whole_stream);
    // At most three requests are in flight at once; a connection that just finished may still be on its
    // way back to the pool when the next request starts, so a fourth can open for a moment — never one
    // per stream — and the pool keeps no more than three.
    assert!(
        peak < 6,
        "{peak} connections for six streams with max_connections = 3"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let kept = connections_to(port);
    assert!(
        kept <= 3,
        "{kept} connections kept with max_connections = 3"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(700),
        "six 400 ms streams through three connections cannot all end in one round ({:?})",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_request_that_finds_no_free_connection_within_the_connect_timeout_gets_503_upstream_busy()
{
    // One connection allowed, and a stream holding it for 3 s.
    let mock = MockUpstream::start(&["--chunks", "10", "--chunk-ms", "300"]);
    let app = spawn_with_config_file(
        &mock.url,
        "[upstream]\nhttp_version = \"1.1\"\nmax_connections = 1\nconnect_timeout_secs = 1\nmax_retries = 0\n",
    )
    .await;
    let holder = tokio::spawn({
        let client = app.client.clone();
        let url = app.url("/v1/chat/completions");
        let key = app.key().to_owned();
        async move {
            client
                .post(url)
                .bearer_auth(key)
                .json(&json!({"model": "openai/gpt-4o-mini", "stream": true,
                    "messages": [{"role": "user", "content": "hold the line"}]}))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let res = app
        .chat(&json!({"model": "openai/gpt-4o-mini",
            "messages": [{"role": "user", "content": "x"}]}))
        .await;
    assert_eq!(
        res.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let error = assert_error_envelope(res, 503).await;
    assert_eq!(error["code"], "upstream_busy", "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("max_connections"),
        "{error}"
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(3),
        "waited {waited:?} for a connection; the connect timeout is 1 s"
    );
    // The stream holding the connection was not disturbed, and once it ended the next request is served.
    assert_eq!(
        sse_data(&holder.await.unwrap()).last().map(String::as_str),
        Some("[DONE]")
    );
    let res = app
        .chat(&json!({"model": "openai/gpt-4o-mini",
            "messages": [{"role": "user", "content": "x"}]}))
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_cap_of_zero_connections_stops_the_start_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("gaiarouter.toml");
    std::fs::write(&cfg, "[upstream]\nmax_connections = 0\n").unwrap();
    let mut settings = gaiarouter::configuration::Settings::for_tests(
        &crate::helpers::test_database_url(dir.path()).await,
    )
    .unwrap();
    settings.config_file = Some(cfg);
    let err = gaiarouter::startup::Application::build(settings)
        .await
        .err()
        .expect("a zero cap is refused");
    let message = err.to_string();
    assert!(
        message.contains("max_connections must be at least 1"),
        "{message}"
    );
    let bad_version =
        gaia_providers::config::FileConfig::parse("[upstream]\nhttp_version = \"3\"\n")
            .expect_err("HTTP/3 is not offered");
    assert!(
        bad_version.message.contains("http_version"),
        "{}",
        bad_version.message
    );
}
