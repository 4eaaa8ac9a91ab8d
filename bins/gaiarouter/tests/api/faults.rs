//! Upstream faults through the real server over HTTP, for each provider dialect whose code path differs
//! (OpenAI, Anthropic, Gemini): a connection reset mid-body, answers that are not the dialect's JSON,
//! 50 MB answers, and a stream delivered one byte per write. The upstream is a raw TCP server speaking
//! each provider's wire format, so it can misbehave as an HTTP mock cannot (RSTs, one-byte writes,
//! bodies that never end). Every case checks the client-visible outcome, the usage record, and that the
//! server keeps serving.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;

use crate::helpers::{TestApp, assert_error_envelope, spawn_app_with_upstream, sse_data};

// ---------------------------------------------------------------- the raw upstream

/// The request as the upstream saw it.
struct Request {
    path: String,
    body: String,
}

/// What the upstream does with one request, in order.
enum Step {
    /// Write these bytes.
    Write(Vec<u8>),
    /// Write this body, shared between requests, as HTTP chunks of at most 1 MiB.
    WriteChunked(Arc<Vec<u8>>),
    /// Write this body, shared between requests, as it is (after a `content-length` head).
    WriteRaw(Arc<Vec<u8>>),
    /// Write this body as HTTP chunks of one byte each, one write per chunk (TCP_NODELAY).
    WriteBytewise(Vec<u8>),
    /// Wait until the test says go on.
    Wait(Arc<Notify>),
    /// Abort the connection with a TCP RST (SO_LINGER 0, then close).
    Reset,
}

type Script = dyn Fn(&Request) -> Vec<Step> + Send + Sync;

struct RawUpstream {
    url: String,
    /// Requests received (every attempt, retries included).
    requests: Arc<AtomicUsize>,
}

impl RawUpstream {
    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Starts a raw HTTP/1.1 upstream: per connection it reads one request and plays the steps `script`
/// returns for it, then closes (every answer says `connection: close`, so nothing is pooled).
async fn raw_upstream(
    script: impl Fn(&Request) -> Vec<Step> + Send + Sync + 'static,
) -> RawUpstream {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let script: Arc<Script> = Arc::new(script);
    let counter = requests.clone();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            let script = script.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                let _ = serve_connection(sock, &*script, &counter).await;
            });
        }
    });
    RawUpstream { url, requests }
}

async fn serve_connection(
    mut sock: TcpStream,
    script: &Script,
    counter: &AtomicUsize,
) -> std::io::Result<()> {
    sock.set_nodelay(true)?;
    let Some(request) = read_request(&mut sock).await? else {
        return Ok(());
    };
    counter.fetch_add(1, Ordering::SeqCst);
    for step in script(&request) {
        match step {
            Step::Write(bytes) => sock.write_all(&bytes).await?,
            Step::WriteRaw(body) => sock.write_all(&body).await?,
            Step::WriteChunked(body) => {
                for piece in body.chunks(1 << 20) {
                    sock.write_all(&chunk(piece)).await?;
                }
            }
            Step::WriteBytewise(body) => {
                for byte in body {
                    let mut frame = b"1\r\n".to_vec();
                    frame.push(byte);
                    frame.extend_from_slice(b"\r\n");
                    sock.write_all(&frame).await?;
                    sock.flush().await?;
                }
                sock.write_all(b"0\r\n\r\n").await?;
            }
            Step::Wait(go) => go.notified().await,
            Step::Reset => {
                sock.set_zero_linger()?;
                drop(sock);
                return Ok(());
            }
        }
    }
    sock.shutdown().await
}

/// Reads the request head and its `content-length` body; `None` if the peer left first.
async fn read_request(sock: &mut TcpStream) -> std::io::Result<Option<Request>> {
    let mut seen = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = sock.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        seen.extend_from_slice(&buf[..n]);
        let Some(head_end) = seen.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&seen[..head_end]).to_string();
        let len: usize = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse().unwrap())
            })
            .unwrap_or(0);
        if seen.len() >= head_end + 4 + len {
            let path = head.split(' ').nth(1).unwrap_or_default().to_owned();
            let body = String::from_utf8_lossy(&seen[head_end + 4..head_end + 4 + len]).into();
            return Ok(Some(Request { path, body }));
        }
    }
}

/// A `200` head; a body length makes it `content-length`, none makes it chunked.
fn head(content_type: &str, length: Option<usize>) -> Vec<u8> {
    let framing = match length {
        Some(n) => format!("content-length: {n}"),
        None => "transfer-encoding: chunked".to_owned(),
    };
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\nconnection: close\r\n{framing}\r\n\r\n"
    )
    .into_bytes()
}

/// One HTTP chunk.
fn chunk(bytes: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", bytes.len()).into_bytes();
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
    out
}

const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// A whole `application/json` answer.
fn json_answer(body: &[u8]) -> Vec<Step> {
    json_answer_as("application/json", body)
}

fn json_answer_as(content_type: &str, body: &[u8]) -> Vec<Step> {
    let mut bytes = head(content_type, Some(body.len()));
    bytes.extend_from_slice(body);
    vec![Step::Write(bytes)]
}

/// A whole event stream, one HTTP chunk per frame.
fn sse_answer(frames: &[String]) -> Vec<Step> {
    let mut bytes = head("text/event-stream", None);
    for frame in frames {
        bytes.extend(chunk(frame.as_bytes()));
    }
    bytes.extend_from_slice(LAST_CHUNK);
    vec![Step::Write(bytes)]
}

// ---------------------------------------------------------------- the three dialects

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    OpenAi,
    Anthropic,
    Gemini,
}

const DIALECTS: [Dialect; 3] = [Dialect::OpenAi, Dialect::Anthropic, Dialect::Gemini];

impl Dialect {
    /// Which dialect an upstream request speaks, from its path.
    fn of(path: &str) -> Self {
        if path.starts_with("/v1/chat/completions") {
            Dialect::OpenAi
        } else if path.starts_with("/v1/messages") {
            Dialect::Anthropic
        } else if path.starts_with("/v1beta/models/") {
            Dialect::Gemini
        } else {
            panic!("unexpected upstream path {path}")
        }
    }

    fn model(self) -> &'static str {
        match self {
            Dialect::OpenAi => "openai/gpt-4o",
            Dialect::Anthropic => "anthropic/claude-sonnet-4-5",
            Dialect::Gemini => "google/gemini-2.5-flash",
        }
    }

    fn provider(self) -> &'static str {
        match self {
            Dialect::OpenAi => "openai",
            Dialect::Anthropic => "anthropic",
            Dialect::Gemini => "google",
        }
    }

    /// A complete non-streaming answer whose text is `n` times `filler` (an ASCII byte or a
    /// two-byte character), spliced in rather than serialised: quick even at 50 MB.
    fn answer_filled(self, filler: char, n: usize) -> Vec<u8> {
        let marker = "\u{1}FILL\u{1}";
        let template = self.answer(marker);
        let escaped = serde_json::to_string(marker).unwrap();
        let escaped = escaped.trim_matches('"').as_bytes();
        let at = template
            .windows(escaped.len())
            .position(|w| w == escaped)
            .unwrap();
        let fill = filler.to_string().repeat(n);
        [
            &template[..at],
            fill.as_bytes(),
            &template[at + escaped.len()..],
        ]
        .concat()
    }

    /// A complete non-streaming answer with `text`.
    fn answer(self, text: &str) -> Vec<u8> {
        let v = match self {
            Dialect::OpenAi => json!({
                "id": "chatcmpl-raw", "object": "chat.completion", "created": 1, "model": "gpt-4o",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}),
            Dialect::Anthropic => json!({
                "id": "msg_raw", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
                "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
                "usage": {"input_tokens": 3, "output_tokens": 2}}),
            Dialect::Gemini => json!({
                "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 2, "totalTokenCount": 5},
                "modelVersion": "gemini-2.5-flash"}),
        };
        serde_json::to_vec(&v).unwrap()
    }

    /// The SSE frames opening a stream and carrying `pieces` of text (no end yet).
    fn stream_start(self, pieces: &[&str]) -> Vec<String> {
        let mut frames = Vec::new();
        match self {
            Dialect::OpenAi => {
                for (i, piece) in pieces.iter().enumerate() {
                    let delta = if i == 0 {
                        json!({"role": "assistant", "content": piece})
                    } else {
                        json!({"content": piece})
                    };
                    frames.push(format!(
                        "data: {}\n\n",
                        json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
                            "choices": [{"index": 0, "delta": delta, "finish_reason": null}]})
                    ));
                }
            }
            Dialect::Anthropic => {
                frames.push(format!(
                    "event: message_start\ndata: {}\n\n",
                    json!({"type": "message_start", "message": {"id": "msg_raw", "type": "message", "role": "assistant",
                        "model": "claude-sonnet-4-5", "content": [], "usage": {"input_tokens": 3, "output_tokens": 1}}})
                ));
                frames.push(format!(
                    "event: content_block_start\ndata: {}\n\n",
                    json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
                ));
                for piece in pieces {
                    frames.push(format!(
                        "event: content_block_delta\ndata: {}\n\n",
                        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}})
                    ));
                }
            }
            Dialect::Gemini => {
                for piece in pieces {
                    frames.push(format!(
                        "data: {}\r\n\r\n",
                        json!({"candidates": [{"content": {"role": "model", "parts": [{"text": piece}]}, "index": 0}],
                            "modelVersion": "gemini-2.5-flash"})
                    ));
                }
            }
        }
        frames
    }

    /// The frames that end a stream cleanly, with usage.
    fn stream_end(self) -> Vec<String> {
        match self {
            Dialect::OpenAi => vec![
                format!(
                    "data: {}\n\n",
                    json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
                        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                ),
                format!(
                    "data: {}\n\n",
                    json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o", "choices": [],
                        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}})
                ),
                "data: [DONE]\n\n".to_owned(),
            ],
            Dialect::Anthropic => vec![
                format!(
                    "event: content_block_stop\ndata: {}\n\n",
                    json!({"type": "content_block_stop", "index": 0})
                ),
                format!(
                    "event: message_delta\ndata: {}\n\n",
                    json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}})
                ),
                format!(
                    "event: message_stop\ndata: {}\n\n",
                    json!({"type": "message_stop"})
                ),
            ],
            Dialect::Gemini => vec![format!(
                "data: {}\r\n\r\n",
                json!({"candidates": [{"content": {"role": "model", "parts": [{"text": ""}]}, "finishReason": "STOP", "index": 0}],
                    "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 2, "totalTokenCount": 5},
                    "modelVersion": "gemini-2.5-flash"})
            )],
        }
    }

    /// A complete stream of `pieces`.
    fn stream(self, pieces: &[&str]) -> Vec<String> {
        let mut frames = self.stream_start(pieces);
        frames.extend(self.stream_end());
        frames
    }
}

/// The answer of a healthy upstream, in the request's dialect, streaming or not.
fn healthy(request: &Request) -> Vec<Step> {
    let dialect = Dialect::of(&request.path);
    if request.path.contains("stream") || request.body.contains("\"stream\":true") {
        sse_answer(&dialect.stream(&["all ", "good"]))
    } else {
        json_answer(&dialect.answer("all good"))
    }
}

/// The marker the tests put in a prompt to get a healthy answer from a faulty upstream.
const HEALTH_CHECK: &str = "are you still there?";

// ---------------------------------------------------------------- client side

/// A client per request: after a long answer the server may close the idle connection just as a pooled
/// client sends the next request on it (a keep-alive race any HTTP client must expect, not a fault of
/// the server's); fresh connections keep these tests about the faults.
fn fresh_client() -> reqwest::Client {
    crate::helpers::http_client()
}

/// `POST /v1/chat/completions` with the admin key, on a fresh connection.
async fn chat(app: &TestApp, body: &Value) -> reqwest::Response {
    fresh_client()
        .post(app.url("/v1/chat/completions"))
        .bearer_auth(app.key())
        .json(body)
        .send()
        .await
        .unwrap()
}

fn chat_body(dialect: Dialect, prompt: &str, stream: bool) -> Value {
    json!({"model": dialect.model(), "stream": stream, "messages": [{"role": "user", "content": prompt}]})
}

/// The concatenated `delta.content` of a client stream.
fn streamed_text(body: &str) -> String {
    sse_data(body)
        .iter()
        .filter(|d| *d != "[DONE]")
        .filter_map(|d| {
            let v: Value = serde_json::from_str(d).unwrap();
            v["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

/// Asserts a client stream ended with exactly one error frame (and no `[DONE]`); returns its `error`.
fn single_error_frame(body: &str) -> Value {
    let data = sse_data(body);
    let errors: Vec<Value> = data
        .iter()
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str::<Value>(d).unwrap())
        .filter(|v| v.get("error").is_some())
        .collect();
    assert_eq!(errors.len(), 1, "one error frame expected: {body}");
    assert!(
        !data.iter().any(|d| d == "[DONE]"),
        "a failed stream must not end with [DONE]: {body}"
    );
    let last: Value = serde_json::from_str(data.last().unwrap()).unwrap();
    assert!(
        last.get("error").is_some(),
        "the error frame is last: {body}"
    );
    let error = last["error"].clone();
    assert_eq!(error["type"], "api_error", "{error}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    error
}

/// The request log as `GET /v1/requests` shows it, once it holds `n` records (newest first).
/// The stream's one error frame carries `code` and a message naming the dialect's provider.
fn assert_error_frame(body: &str, dialect: Dialect, code: &str) {
    let error = single_error_frame(body);
    assert_eq!(error["code"], code, "{dialect:?}: {error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with(dialect.provider()),
        "{error}"
    );
}

/// The last `n` requests are all recorded as 502 with `code` (and streaming or not, when `stream` says).
async fn assert_recorded_failures(app: &TestApp, n: usize, code: &str, stream: Option<bool>) {
    let log = request_log(app, n).await;
    assert!(
        log.iter().all(|r| r["status_code"] == 502
            && r["error_code"] == code
            && stream.is_none_or(|s| r["stream"] == s)),
        "{log:?}"
    );
}

async fn request_log(app: &TestApp, n: usize) -> Vec<Value> {
    let started = std::time::Instant::now();
    loop {
        let body: Value = fresh_client()
            .get(app.url("/v1/requests?limit=100"))
            .bearer_auth(app.key())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let data = body["data"].as_array().unwrap().clone();
        if data.len() >= n {
            return data;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "only {} of {n} requests were recorded",
            data.len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// `/health` answers and every dialect still serves a normal request, streaming and not.
async fn assert_still_serving(app: &TestApp) {
    let health = fresh_client().get(app.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    for dialect in DIALECTS {
        let res = chat(app, &chat_body(dialect, HEALTH_CHECK, false)).await;
        assert_eq!(res.status(), 200, "{dialect:?} after the fault");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["choices"][0]["message"]["content"], "all good");
        let res = chat(app, &chat_body(dialect, HEALTH_CHECK, true)).await;
        assert_eq!(res.status(), 200);
        assert_eq!(
            streamed_text(&res.text().await.unwrap()),
            "all good",
            "{dialect:?}"
        );
    }
}

// ---------------------------------------------------------------- connection reset mid-body

#[tokio::test]
async fn a_connection_reset_mid_body_gets_502_upstream_connection_lost_and_is_retried_once() {
    let upstream = raw_upstream(|request| {
        if request.body.contains(HEALTH_CHECK) {
            return healthy(request);
        }
        // The status, the headers and half of the JSON, then an RST.
        let body = Dialect::of(&request.path).answer("a complete answer that never fully arrives");
        let mut bytes = head("application/json", Some(body.len()));
        bytes.extend_from_slice(&body[..body.len() / 2]);
        vec![Step::Write(bytes), Step::Reset]
    })
    .await;
    let app = spawn_app_with_upstream(&upstream.url).await;
    for dialect in DIALECTS {
        let before = upstream.requests();
        let res = chat(&app, &chat_body(dialect, "tell me", false)).await;
        let error = assert_error_envelope(res, 502).await;
        assert_eq!(
            error["code"], "upstream_connection_lost",
            "{dialect:?}: {error}"
        );
        assert_eq!(error["type"], "api_error");
        let message = error["message"].as_str().unwrap();
        assert!(message.starts_with(dialect.provider()), "{message}");
        assert!(message.to_lowercase().contains("reset"), "{message}");
        assert!(!message.contains("127.0.0.1"), "no upstream URL: {message}");
        // A broken connection is transient: retried once on the same target (max_retries = 1).
        assert_eq!(upstream.requests() - before, 2, "{dialect:?}");
    }
    let log = request_log(&app, 3).await;
    for dialect in DIALECTS {
        let r = log
            .iter()
            .find(|r| r["model"] == dialect.model())
            .unwrap_or_else(|| panic!("no record for {dialect:?}: {log:?}"));
        assert_eq!(
            (&r["status_code"], &r["error_code"], &r["stream"]),
            (
                &json!(502),
                &json!("upstream_connection_lost"),
                &json!(false)
            ),
            "{r}"
        );
        assert_eq!(r["provider"], dialect.provider());
    }
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn a_stream_reset_mid_body_forwards_what_came_then_one_error_event_and_is_recorded() {
    let go = Arc::new(Notify::new());
    let go_upstream = go.clone();
    let upstream = raw_upstream(move |request| {
        if request.body.contains(HEALTH_CHECK) {
            return healthy(request);
        }
        let dialect = Dialect::of(&request.path);
        let mut bytes = head("text/event-stream", None);
        for frame in dialect.stream_start(&["Once upon ", "a time"]) {
            bytes.extend(chunk(frame.as_bytes()));
        }
        // Reset only once the client has seen the text, so the RST cannot overtake it.
        vec![
            Step::Write(bytes),
            Step::Wait(go_upstream.clone()),
            Step::Reset,
        ]
    })
    .await;
    let app = spawn_app_with_upstream(&upstream.url).await;
    for dialect in DIALECTS {
        let mut res = chat(&app, &chat_body(dialect, "a story", true)).await;
        assert_eq!(res.status(), 200);
        let mut body = String::new();
        while !streamed_text(body.rsplit_once("\n\n").map_or("", |(done, _)| done))
            .contains("Once upon a time")
        {
            let chunk = res.chunk().await.unwrap().expect("the stream ended early");
            body.push_str(&String::from_utf8_lossy(&chunk));
        }
        go.notify_one();
        while let Some(chunk) = res.chunk().await.unwrap() {
            body.push_str(&String::from_utf8_lossy(&chunk));
        }
        assert_eq!(streamed_text(&body), "Once upon a time", "{dialect:?}");
        assert_error_frame(&body, dialect, "upstream_connection_lost");
    }
    // Once a byte reached the client nothing is retried.
    assert_eq!(upstream.requests(), 3);
    let log = request_log(&app, 3).await;
    for dialect in DIALECTS {
        let r = log.iter().find(|r| r["model"] == dialect.model()).unwrap();
        assert_eq!(
            (&r["status_code"], &r["error_code"], &r["stream"]),
            (
                &json!(502),
                &json!("upstream_connection_lost"),
                &json!(true)
            ),
            "{r}"
        );
        // No usage came: the record carries the tokenizer's count of what was streamed.
        assert_eq!(r["estimated"], true, "{r}");
        assert!(r["completion_tokens"].as_u64().unwrap() > 0, "{r}");
    }
    assert_still_serving(&app).await;
}

// ---------------------------------------------------------------- answers that are not the dialect's JSON

#[tokio::test]
async fn a_200_that_is_not_the_dialects_json_gets_502_upstream_bad_response_naming_the_provider() {
    // (dialect, content type, body, code, a piece of the message)
    let cases: Vec<(Dialect, &str, &str, &str, &str)> = vec![
        (
            Dialect::OpenAi,
            "application/json",
            "this is not JSON",
            "upstream_bad_response",
            "cannot read",
        ),
        (
            Dialect::OpenAi,
            "application/json",
            r#"{"id":"x","choices":[{"index":0,"message":{"content":"hal"#,
            "upstream_bad_response",
            "cannot read",
        ),
        (
            Dialect::OpenAi,
            "application/json",
            r#"{"id":"x","object":"chat.completion","created":1}"#,
            "upstream_bad_response",
            "no choices",
        ),
        (
            Dialect::OpenAi,
            "application/json",
            r#"[1, 2, 3]"#,
            "upstream_bad_response",
            "cannot read",
        ),
        // serde quotes the offending value; the provider key in it is scrubbed.
        (
            Dialect::OpenAi,
            "application/json",
            r#"{"choices":"Bearer sk-openai-test"}"#,
            "upstream_bad_response",
            "<redacted>",
        ),
        (
            Dialect::OpenAi,
            "text/html; charset=utf-8",
            "<html><body><h1>502 Bad Gateway</h1></body></html>",
            "upstream_bad_response",
            "'text/html; charset=utf-8' instead of JSON",
        ),
        (
            Dialect::Anthropic,
            "application/json",
            r#"{"type":"message","content":5}"#,
            "upstream_bad_response",
            "cannot read",
        ),
        (
            Dialect::Anthropic,
            "application/json",
            r#"{"type":"message","content":[{"type":"text","text":null}]}"#,
            "upstream_bad_response",
            "cannot read",
        ),
        // A provider error in a 200 keeps the provider's message.
        (
            Dialect::Anthropic,
            "application/json",
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            "upstream_error",
            "Overloaded",
        ),
        (
            Dialect::Gemini,
            "application/json",
            r#"{"candidates":[]}"#,
            "upstream_bad_response",
            "no choices",
        ),
        (
            Dialect::Gemini,
            "application/json",
            "",
            "upstream_bad_response",
            "cannot read",
        ),
        (
            Dialect::Gemini,
            "text/html",
            "<!doctype html><title>Sign in to the Wi-Fi</title>",
            "upstream_bad_response",
            "'text/html' instead of JSON",
        ),
    ];
    let bodies: Vec<(String, String)> = cases
        .iter()
        .map(|(_, ct, body, _, _)| (ct.to_string(), body.to_string()))
        .collect();
    let upstream = raw_upstream(move |request| {
        if request.body.contains(HEALTH_CHECK) {
            return healthy(request);
        }
        // The prompt says which case to play: "case <n>".
        let n: usize = request
            .body
            .split("case ")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        let (ct, body) = &bodies[n];
        json_answer_as(ct, body.as_bytes())
    })
    .await;
    let app = spawn_app_with_upstream(&upstream.url).await;
    for (n, (dialect, _, body, code, fragment)) in cases.iter().enumerate() {
        let res = chat(&app, &chat_body(*dialect, &format!("case {n}"), false)).await;
        let error = assert_error_envelope(res, 502).await;
        let message = error["message"].as_str().unwrap();
        assert_eq!(error["code"], *code, "case {n} ({body}): {error}");
        assert_eq!(error["type"], "api_error");
        assert!(
            message.starts_with(dialect.provider()),
            "case {n}: the message names the provider: {message}"
        );
        assert!(message.contains(fragment), "case {n}: {message}");
        assert!(!message.contains("sk-openai-test"), "case {n}: {message}");
        assert!(
            !message.contains("<h1>") && !message.contains("Wi-Fi"),
            "no page echoed: {message}"
        );
    }
    let log = request_log(&app, cases.len()).await;
    let mut codes: Vec<String> = log
        .iter()
        .map(|r| {
            assert_eq!(r["status_code"], 502, "{r}");
            r["error_code"].as_str().unwrap().to_owned()
        })
        .collect();
    codes.sort();
    let mut expected: Vec<String> = cases.iter().map(|c| c.3.to_owned()).collect();
    expected.sort();
    assert_eq!(codes, expected);
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn an_answer_with_null_content_is_an_empty_answer_not_an_error() {
    let upstream = raw_upstream(|_| {
        json_answer(
            br#"{"id":"x","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":null},"finish_reason":"stop"}]}"#,
        )
    })
    .await;
    let app = spawn_app_with_upstream(&upstream.url).await;
    let res = app
        .chat(&chat_body(Dialect::OpenAi, "say nothing", false))
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert!(
        body["choices"][0]["message"]["content"]
            .as_str()
            .is_none_or(str::is_empty),
        "{body}"
    );
}

#[tokio::test]
async fn an_unreadable_event_mid_stream_ends_the_stream_with_one_error_event() {
    let upstream = raw_upstream(|request| {
        if request.body.contains(HEALTH_CHECK) {
            return healthy(request);
        }
        let dialect = Dialect::of(&request.path);
        let mut frames = dialect.stream_start(&["first ", "second"]);
        let garbage = match dialect {
            Dialect::Gemini => "data: {\"candidates\": [{\"content\": \r\n\r\n",
            _ => "data: {\"choices\": [{\"delta\": \n\n",
        };
        frames.push(garbage.to_owned());
        // What follows the broken event must not reach the client as if nothing happened.
        frames.extend(dialect.stream(&["after the hole"]));
        sse_answer(&frames)
    })
    .await;
    let app = spawn_app_with_upstream(&upstream.url).await;
    for dialect in DIALECTS {
        let res = chat(&app, &chat_body(dialect, "a story", true)).await;
        assert_eq!(res.status(), 200);
        let body = res.text().await.unwrap();
        assert_eq!(streamed_text(&body), "first second", "{dialect:?}: {body}");
        assert_error_frame(&body, dialect, "upstream_bad_response");
    }
    assert_recorded_failures(&app, 3, "upstream_bad_response", Some(true)).await;
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn a_stream_request_answered_with_an_html_page_gets_502_before_the_stream_starts() {
    let upstream = raw_upstream(|request| {
        if request.body.contains(HEALTH_CHECK) {
            return healthy(request);
        }
        json_answer_as(
            "text/html",
            b"<html><body>Service temporarily unavailable</body></html>",
        )
    })
    .await;
    let app = spawn_app_with_upstream(&upstream.url).await;
    for dialect in DIALECTS {
        let res = chat(&app, &chat_body(dialect, "a story", true)).await;
        let error = assert_error_envelope(res, 502).await;
        assert_eq!(error["code"], "upstream_bad_response", "{error}");
        let message = error["message"].as_str().unwrap();
        assert!(message.starts_with(dialect.provider()), "{message}");
        assert!(
            message.contains("'text/html' instead of an event stream"),
            "{message}"
        );
    }
    assert_recorded_failures(&app, 3, "upstream_bad_response", None).await;
    assert_still_serving(&app).await;
}

// ---------------------------------------------------------------- one byte per write

#[tokio::test]
async fn a_stream_written_one_byte_per_write_arrives_with_its_multi_byte_characters_intact() {
    const PIECES: [&str; 4] = ["Café é", "漢字 ", "🙂🙂", " fin"];
    let upstream = raw_upstream(|request| {
        let dialect = Dialect::of(&request.path);
        let body: Vec<u8> = dialect.stream(&PIECES).concat().into_bytes();
        // Every byte its own HTTP chunk and its own write: each multi-byte character, each `\r\n`
        // and each blank line is split across reads.
        vec![
            Step::Write(head("text/event-stream", None)),
            Step::WriteBytewise(body),
        ]
    })
    .await;
    let app = spawn_app_with_upstream(&upstream.url).await;
    for dialect in DIALECTS {
        let res = chat(&app, &chat_body(dialect, "in pieces", true)).await;
        assert_eq!(res.status(), 200);
        let body = res.text().await.unwrap();
        assert_eq!(streamed_text(&body), PIECES.concat(), "{dialect:?}: {body}");
        assert_eq!(sse_data(&body).last().map(String::as_str), Some("[DONE]"));
    }
    let log = request_log(&app, 3).await;
    assert!(
        log.iter().all(|r| r["status_code"] == 200
            && r["completion_tokens"] == 2
            && r["estimated"] == false),
        "{log:?}"
    );
}

// ---------------------------------------------------------------- 50 MB answers

/// 50 MB: over the default `max_response_bytes` (32 MiB).
const HUGE: usize = 50_000_000;

#[tokio::test]
async fn a_50_mb_answer_gets_502_upstream_response_too_large_and_the_server_stays_healthy() {
    // One huge content string, in each dialect; OpenAI declares its length, the others are chunked
    // (so the bound is enforced both from the header and by counting while reading).
    let bodies: Vec<Arc<Vec<u8>>> = DIALECTS
        .iter()
        .map(|d| Arc::new(d.answer_filled('x', HUGE)))
        .collect();
    let upstream = raw_upstream(move |request| {
        if request.body.contains(HEALTH_CHECK) {
            return healthy(request);
        }
        match Dialect::of(&request.path) {
            Dialect::OpenAi => vec![
                Step::Write(head("application/json", Some(bodies[0].len()))),
                Step::WriteRaw(bodies[0].clone()),
            ],
            dialect => {
                let body = bodies[if dialect == Dialect::Anthropic { 1 } else { 2 }].clone();
                vec![
                    Step::Write(head("application/json", None)),
                    Step::WriteChunked(body),
                    Step::Write(LAST_CHUNK.to_vec()),
                ]
            }
        }
    })
    .await;
    let app = spawn_app_with_upstream(&upstream.url).await;
    for dialect in DIALECTS {
        let res = chat(&app, &chat_body(dialect, "a lot", false)).await;
        let error = assert_error_envelope(res, 502).await;
        assert_eq!(error["code"], "upstream_response_too_large", "{error}");
        assert_eq!(
            error["message"],
            format!(
                "{} sent a response larger than 32 MiB (upstream.max_response_bytes)",
                dialect.provider()
            )
        );
    }
    assert_recorded_failures(&app, 3, "upstream_response_too_large", None).await;
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn a_20_mb_answer_under_the_bound_passes_intact() {
    // The bound is the same code for every dialect (the 50 MB test shows it for each); one is enough
    // here, where every byte is parsed and re-encoded (debug builds are slow at that).
    const LARGE: usize = 20_000_000;
    let body = Arc::new(Dialect::OpenAi.answer_filled('é', LARGE / 2));
    let upstream = raw_upstream(move |_| {
        vec![
            Step::Write(head("application/json", None)),
            Step::WriteChunked(body.clone()),
            Step::Write(LAST_CHUNK.to_vec()),
        ]
    })
    .await;
    let app = spawn_app_with_upstream(&upstream.url).await;
    let res = chat(&app, &chat_body(Dialect::OpenAi, "a lot", false)).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let content = body["choices"][0]["message"]["content"].as_str().unwrap();
    assert_eq!(content.len(), LARGE, "the byte length round-trips");
    assert!(content.chars().all(|c| c == 'é'));
    let log = request_log(&app, 1).await;
    assert_eq!(log[0]["status_code"], 200, "{}", log[0]);
}

#[tokio::test]
async fn a_50_mb_stream_of_many_events_passes_through_intact() {
    // Streams are bounded per event, not in total: 3,200 events of 16 KB each.
    const PIECE: usize = 16_000;
    const EVENTS: usize = 3_200;
    let piece = "y".repeat(PIECE);
    let frames = Dialect::OpenAi.stream_start(&["", &piece]);
    let mut body = frames[0].clone().into_bytes();
    for _ in 0..EVENTS {
        body.extend_from_slice(frames[1].as_bytes());
    }
    body.extend(Dialect::OpenAi.stream_end().concat().into_bytes());
    let body = Arc::new(body);
    assert!(body.len() > HUGE);
    let upstream = raw_upstream(move |_| {
        vec![
            Step::Write(head("text/event-stream", None)),
            Step::WriteChunked(body.clone()),
            Step::Write(LAST_CHUNK.to_vec()),
        ]
    })
    .await;
    let app = spawn_app_with_upstream(&upstream.url).await;
    let res = chat(&app, &chat_body(Dialect::OpenAi, "a long story", true)).await;
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    let text = streamed_text(&body);
    assert_eq!(text.len(), PIECE * EVENTS);
    assert!(text.bytes().all(|b| b == b'y'));
    assert_eq!(sse_data(&body).last().map(String::as_str), Some("[DONE]"));
    let log = request_log(&app, 1).await;
    assert_eq!(log[0]["status_code"], 200, "{}", log[0]);
}

#[tokio::test]
async fn a_single_50_mb_stream_event_ends_the_stream_with_upstream_event_too_large() {
    let line = {
        let mut line = br#"data: {"choices":[{"index":0,"delta":{"content":""#.to_vec();
        line.resize(HUGE, b'z');
        Arc::new(line)
    };
    let upstream = raw_upstream(move |request| {
        if request.body.contains(HEALTH_CHECK) {
            return healthy(request);
        }
        let dialect = Dialect::of(&request.path);
        let mut opening = head("text/event-stream", None);
        for frame in dialect.stream_start(&["before ", "the flood"]) {
            opening.extend(chunk(frame.as_bytes()));
        }
        // One line that never ends within the bound (the rest of the stream would follow it).
        vec![Step::Write(opening), Step::WriteChunked(line.clone())]
    })
    .await;
    let app = spawn_app_with_upstream(&upstream.url).await;
    for dialect in DIALECTS {
        let res = chat(&app, &chat_body(dialect, "a flood", true)).await;
        assert_eq!(res.status(), 200);
        let body = res.text().await.unwrap();
        assert_eq!(streamed_text(&body), "before the flood", "{dialect:?}");
        assert_error_frame(&body, dialect, "upstream_event_too_large");
    }
    assert_recorded_failures(&app, 3, "upstream_event_too_large", Some(true)).await;
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn the_size_bound_is_set_by_max_response_bytes_in_the_config_file() {
    let answer = Arc::new(Dialect::OpenAi.answer_filled('x', 2_000_000));
    let upstream = raw_upstream(move |request| {
        if request.body.contains("\"stream\":true") {
            let mut opening = head("text/event-stream", None);
            opening.extend(chunk(
                Dialect::OpenAi.stream_start(&["small"])[0].as_bytes(),
            ));
            let big = Dialect::OpenAi.stream_start(&[&"x".repeat(2_000_000)]);
            vec![
                Step::Write(opening),
                Step::WriteChunked(Arc::new(big[0].clone().into_bytes())),
            ]
        } else {
            vec![
                Step::Write(head("application/json", None)),
                Step::WriteChunked(answer.clone()),
                Step::Write(LAST_CHUNK.to_vec()),
            ]
        }
    })
    .await;
    let app = crate::gateway::spawn_with_config_file(
        &upstream.url,
        "[upstream]\nmax_response_bytes = 1048576\n",
    )
    .await;
    let res = chat(&app, &chat_body(Dialect::OpenAi, "2 MB please", false)).await;
    let error = assert_error_envelope(res, 502).await;
    assert_eq!(error["code"], "upstream_response_too_large");
    assert_eq!(
        error["message"],
        "openai sent a response larger than 1 MiB (upstream.max_response_bytes)"
    );
    let res = chat(&app, &chat_body(Dialect::OpenAi, "2 MB please", true)).await;
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    assert_eq!(streamed_text(&body), "small");
    assert_eq!(
        single_error_frame(&body)["code"],
        "upstream_event_too_large"
    );
}

#[tokio::test]
async fn an_upstream_error_page_that_prints_the_provider_key_back_is_redacted() {
    let upstream = raw_upstream(|_| {
        let page = b"<html><body>Bad gateway. Your request: POST /v1/chat/completions, Authorization: Bearer sk-openai-test</body></html>";
        let mut bytes = format!(
            "HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/html\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
            page.len()
        )
        .into_bytes();
        bytes.extend_from_slice(page);
        vec![Step::Write(bytes)]
    })
    .await;
    let app = spawn_app_with_upstream(&upstream.url).await;
    let res = chat(&app, &chat_body(Dialect::OpenAi, "x", false)).await;
    let error = assert_error_envelope(res, 502).await;
    assert_eq!(error["code"], "upstream_error");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("Bearer <redacted>"), "{message}");
    assert!(!message.contains("sk-openai-test"), "{message}");
}

// ---------------------------------------------------------------- connection reuse after a stream

/// A keep-alive upstream: every connection serves request after request, each a healthy stream in the
/// request's dialect; the body's own end follows the dialect's end signal 50 ms later, as it may over a
/// real network. Counts the connections it accepted.
async fn keep_alive_stream_upstream() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                sock.set_nodelay(true)?;
                while let Some(request) = read_request(&mut sock).await? {
                    let frames = Dialect::of(&request.path).stream(&["all ", "good"]);
                    let mut bytes = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
                    for frame in &frames {
                        bytes.extend(chunk(frame.as_bytes()));
                    }
                    sock.write_all(&bytes).await?;
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    sock.write_all(LAST_CHUNK).await?;
                }
                Ok::<_, std::io::Error>(())
            });
        }
    });
    (url, accepted)
}

/// A stream ends at its dialect's end signal (`[DONE]`, `message_stop`), before the HTTP body's own end.
/// The rest of the body is read, so the upstream connection goes back to the pool and the next stream
/// reuses it instead of opening a new connection (a new TLS handshake with a real provider; under a burst
/// of streams the replacements ran the process out of descriptors).
#[tokio::test]
async fn a_finished_stream_leaves_its_upstream_connection_for_the_next_one() {
    for dialect in [Dialect::OpenAi, Dialect::Anthropic] {
        let (url, accepted) = keep_alive_stream_upstream().await;
        let app = spawn_app_with_upstream(&url).await;
        // One client connection, so every request reaches the same worker and its upstream pool.
        let client = crate::helpers::http_client();
        const STREAMS: usize = 4;
        for _ in 0..STREAMS {
            let res = client
                .post(app.url("/v1/chat/completions"))
                .bearer_auth(app.key())
                .json(&chat_body(dialect, "hello", true))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            let body = res.text().await.unwrap();
            assert_eq!(streamed_text(&body), "all good", "{dialect:?}: {body}");
            assert_eq!(sse_data(&body).last().map(String::as_str), Some("[DONE]"));
            // Past the body's end (50 ms after the end signal): the connection is back in the pool.
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
        // Without the rest of the body read, every stream closed its connection: one per stream. A
        // machine stalled past the pause above could let one request overtake the drain: allowed once.
        let connections = accepted.load(Ordering::SeqCst);
        assert!(
            connections <= 2,
            "{dialect:?}: {connections} upstream connections for {STREAMS} streams"
        );
    }
}

// ---------------------------------------------------------------- streams on a kept-alive client connection

/// A keep-alive upstream that answers every request with a whole 23-event stream in one write, the body's
/// end included: a provider whose answer is ready at once.
async fn instant_stream_upstream() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                sock.set_nodelay(true)?;
                while let Some(request) = read_request(&mut sock).await? {
                    let pieces: Vec<String> = (0..20).map(|i| format!("w{i} ")).collect();
                    let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
                    let frames = Dialect::of(&request.path).stream(&pieces);
                    let mut bytes = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
                    for frame in &frames {
                        bytes.extend(chunk(frame.as_bytes()));
                    }
                    bytes.extend_from_slice(LAST_CHUNK);
                    sock.write_all(&bytes).await?;
                }
                Ok::<_, std::io::Error>(())
            });
        }
    });
    url
}

/// Ten streams in a row on one kept-alive client connection each end as soon as the upstream's stream
/// does. The accepted sockets once lacked TCP_NODELAY: from the second stream on, the last frames waited
/// for the client's delayed ACK, 40 ms or more per stream where the whole stream takes a few. The bound
/// (30 ms, far above the few milliseconds a stream takes even in a debug build) sits below that stall;
/// a busy machine may slow one round, so a round may be repeated twice, while the stall slows every
/// round.
#[tokio::test]
async fn ten_streams_on_one_kept_alive_connection_each_end_without_waiting_for_the_client() {
    let url = instant_stream_upstream().await;
    let app = spawn_app_with_upstream(&url).await;
    // One connection, kept alive between the requests, as the official SDKs do.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .http1_only()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap();
    let bound = std::time::Duration::from_millis(30);
    let mut rounds = Vec::new();
    for _round in 0..3 {
        let mut times = Vec::new();
        for _ in 0..10 {
            let started = std::time::Instant::now();
            let res = client
                .post(app.url("/v1/chat/completions"))
                .bearer_auth(app.key())
                .json(&chat_body(Dialect::OpenAi, "hello", true))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            let body = res.text().await.unwrap();
            times.push(started.elapsed());
            assert_eq!(sse_data(&body).last().map(String::as_str), Some("[DONE]"));
            assert!(streamed_text(&body).starts_with("w0 w1 "), "{body}");
        }
        if times.iter().all(|t| *t < bound) {
            return;
        }
        rounds.push(times);
    }
    panic!("a stream on a kept-alive connection took {bound:?} or more in every round: {rounds:?}");
}
