//! `mock-upstream`: a fast, deterministic stand-in for the OpenAI, Anthropic, Gemini and OpenRouter APIs,
//! speaking each one's own wire format. It answers `"echo: " + <last user message>` (or a call to the first
//! declared tool), with usage a test can predict, signed reasoning when a request asks for it (and the
//! providers' checks of replayed signatures), and latency and fault knobs for benchmarks and failure
//! tests. See README.md. It depends on none of our crates: it is what GaiaRouter is measured against, so it
//! must not share its code or its bugs.
//!
//! It logs nothing per request: it is the baseline of the performance benchmark.

mod anthropic;
mod conversation;
mod embeddings;
mod gemini;
mod knobs;
mod openai;

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::{App, HttpResponse, HttpServer, web};
use clap::Parser;

use crate::knobs::{ConnSocket, Defaults, Fault, endpoint};

/// A mock of the OpenAI, Anthropic, Gemini and OpenRouter APIs for tests and benchmarks.
///
/// Per-request overrides: headers x-mock-ttfb-ms, x-mock-chunk-ms, x-mock-chunks, and
/// x-mock-fault: status-429 | status-500 | status-503 | hang | cut-stream | malformed | reset-mid-body |
/// huge | none.
#[derive(Debug, Parser)]
#[command(name = "mock-upstream", version, about)]
struct Cli {
    /// Address to listen on (port 0 picks a free one; the first stdout line tells which).
    #[arg(long, default_value = "127.0.0.1:9100")]
    bind: SocketAddr,
    /// Delay before the first byte of every answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    ttfb_ms: u64,
    /// Delay between stream chunks, in milliseconds.
    #[arg(long, default_value_t = 0)]
    chunk_ms: u64,
    /// Force this many text chunks per stream, repeating the answer's words (0: one chunk per word).
    #[arg(long, default_value_t = 0)]
    chunks: usize,
    /// HTTP worker threads (default: one per CPU core).
    #[arg(long)]
    workers: Option<usize>,
    /// Inject this fault into every answer (x-mock-fault overrides it, `none` turns it off): status-429,
    /// status-500, status-503, hang, cut-stream, malformed, reset-mid-body, huge.
    #[arg(long, value_parser = parse_fault)]
    fault: Option<Fault>,
}

fn parse_fault(name: &str) -> Result<Fault, String> {
    Fault::parse(name)?.ok_or_else(|| "use no --fault for no fault".to_owned())
}

/// Largest request body accepted.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A process-unique number for response ids.
pub(crate) fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match actix_web::rt::System::new().block_on(serve(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("mock-upstream: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(cli: Cli) -> std::io::Result<()> {
    let listener = TcpListener::bind(cli.bind).map_err(|e| {
        std::io::Error::new(e.kind(), format!("cannot listen on {}: {e}", cli.bind))
    })?;
    // A deeper backlog than std's 128, for benchmark bursts of thousands of connections.
    socket2::SockRef::from(&listener).listen(4096)?;
    let addr = listener.local_addr()?;
    let defaults = Defaults {
        ttfb_ms: cli.ttfb_ms,
        chunk_ms: cli.chunk_ms,
        chunks: cli.chunks,
        fault: cli.fault,
    };
    let server = server(listener, defaults, cli.workers)?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "mock-upstream listening on http://{addr}")?;
    stdout.flush()?;
    drop(stdout);
    server.await
}

/// The server on `listener`, started (it runs once awaited or spawned).
fn server(
    listener: TcpListener,
    defaults: Defaults,
    workers: Option<usize>,
) -> std::io::Result<actix_web::dev::Server> {
    let defaults = web::Data::new(defaults);
    let models = web::Data::new(openai::openrouter_model_list());
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(defaults.clone())
            .app_data(models.clone())
            .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
            .route("/v1/chat/completions", endpoint(openai::openai_chat))
            .route(
                "/api/v1/chat/completions",
                endpoint(openai::openrouter_chat),
            )
            .route("/api/v1/models", web::get().to(openai::openrouter_models))
            .route("/v1/embeddings", endpoint(openai::openai_embeddings))
            .route(
                "/api/v1/embeddings",
                endpoint(openai::openrouter_embeddings),
            )
            .route("/v1/messages", endpoint(anthropic::messages))
            .route(
                "/v1/messages/count_tokens",
                endpoint(anthropic::count_tokens),
            )
            .route("/v1beta/models/{target}", endpoint(gemini::generate))
            .route(
                "/health",
                web::get().to(|| async { HttpResponse::Ok().body("ok") }),
            )
            .default_service(web::to(|| async {
                HttpResponse::NotFound().json(
                    serde_json::json!({"error": {"message": "no such endpoint on mock-upstream"}}),
                )
            }))
    })
    // Every connection keeps a duplicate of its socket, for `reset-mid-body` (one more descriptor per
    // connection; the socket closes when both are closed, which actix does together).
    .on_connect(|conn, extensions| {
        if let Some(socket) = ConnSocket::of(conn) {
            extensions.insert(socket);
        }
    })
    // A hung request (x-mock-fault: hang) must not hold up a stop.
    .shutdown_timeout(1)
    // HTTP/1.1, and HTTP/2 without TLS for a client that starts with the HTTP/2 preface (h2c with prior
    // knowledge, as GaiaRouter's `http_version = "2"`), on the same port.
    .listen_auto_h2c(listener)?;
    if let Some(workers) = workers {
        server = server.workers(workers.max(1));
    }
    Ok(server.run())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::io::{ErrorKind, Read, Write};
    use std::net::TcpStream;

    use super::*;

    /// Starts the mock on a free port in its own thread; returns its address.
    fn start(fault: Option<Fault>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let defaults = Defaults {
            ttfb_ms: 0,
            chunk_ms: 0,
            chunks: 0,
            fault,
        };
        std::thread::spawn(move || {
            actix_web::rt::System::new()
                .block_on(async move { server(listener, defaults, Some(1)).unwrap().await })
        });
        addr
    }

    /// Sends one request and reads until the server closes: what came, and how it ended.
    fn exchange(
        addr: SocketAddr,
        path: &str,
        headers: &str,
        body: &str,
    ) -> (Vec<u8>, std::io::Result<()>) {
        let mut sock = TcpStream::connect(addr).unwrap();
        sock.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        write!(
            sock,
            "POST {path} HTTP/1.1\r\nhost: mock\r\nconnection: close\r\ncontent-type: application/json\r\n{headers}content-length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut got = Vec::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            match sock.read(&mut buf) {
                Ok(0) => return (got, Ok(())),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => return (got, Err(e)),
            }
        }
    }

    /// The body of a chunked response.
    fn dechunk(response: &[u8]) -> Vec<u8> {
        let head_end = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let mut rest = &response[head_end..];
        let mut body = Vec::new();
        loop {
            let line_end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let size =
                usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).unwrap(), 16).unwrap();
            if size == 0 {
                return body;
            }
            let data = &rest[line_end + 2..];
            body.extend_from_slice(&data[..size]);
            rest = &data[size + 2..];
        }
    }

    const OPENAI: &str = r#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi there"}]}"#;
    const ANTHROPIC_STREAM: &str = r#"{"model":"claude-sonnet-4-5","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"hi there"}]}"#;
    const OPENAI_AUTH: &str = "authorization: Bearer sk-test\r\n";
    const ANTHROPIC_AUTH: &str = "x-api-key: sk-test\r\nanthropic-version: 2023-06-01\r\n";

    #[test]
    fn faults_are_parsed_by_name_and_unknown_names_list_the_known_ones() {
        assert_eq!(
            Fault::parse("reset-mid-body"),
            Ok(Some(Fault::ResetMidBody))
        );
        assert_eq!(Fault::parse("huge"), Ok(Some(Fault::Huge)));
        assert_eq!(Fault::parse("status-503"), Ok(Some(Fault::Status(503))));
        assert_eq!(Fault::parse("none"), Ok(None));
        let err = Fault::parse("gremlins").unwrap_err();
        assert!(
            err.contains("reset-mid-body") && err.contains("huge"),
            "{err}"
        );
        assert!(Cli::try_parse_from(["mock-upstream", "--fault", "huge"]).is_ok());
        assert!(Cli::try_parse_from(["mock-upstream", "--fault", "gremlins"]).is_err());
    }

    #[test]
    fn reset_mid_body_sends_part_of_the_answer_then_an_rst() {
        let addr = start(None);
        for (path, headers, body) in [
            ("/v1/chat/completions", OPENAI_AUTH, OPENAI),
            ("/v1/messages", ANTHROPIC_AUTH, ANTHROPIC_STREAM),
        ] {
            let headers = format!("{headers}x-mock-fault: reset-mid-body\r\n");
            let (got, end) = exchange(addr, path, &headers, body);
            let text = String::from_utf8_lossy(&got);
            assert!(text.starts_with("HTTP/1.1 200 OK"), "{text}");
            assert!(
                !text.ends_with("0\r\n\r\n"),
                "the body must be incomplete: {text}"
            );
            assert!(text.contains("\r\n\r\n") && text.len() > text.find("\r\n\r\n").unwrap() + 4);
            assert_eq!(
                end.map_err(|e| e.kind()),
                Err(ErrorKind::ConnectionReset),
                "{path}: an RST, not a FIN"
            );
        }
        // The same cut without the reset ends with a FIN, and a normal answer is unaffected by the
        // socket duplicate every connection keeps.
        let headers = format!("{OPENAI_AUTH}x-mock-fault: cut-stream\r\n");
        let (_, end) = exchange(addr, "/v1/chat/completions", &headers, OPENAI);
        assert!(end.is_ok(), "{end:?}");
        let (got, end) = exchange(addr, "/v1/chat/completions", OPENAI_AUTH, OPENAI);
        assert!(end.is_ok());
        let body: serde_json::Value = serde_json::from_slice(
            &got[got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4..],
        )
        .unwrap();
        assert_eq!(body["choices"][0]["message"]["content"], "echo: hi there");
    }

    #[test]
    fn huge_answers_are_50_mib_and_still_well_formed() {
        // A --fault default applies to every request; `x-mock-fault: none` turns it off.
        let addr = start(Some(Fault::Huge));
        let (got, end) = exchange(addr, "/v1/chat/completions", OPENAI_AUTH, OPENAI);
        assert!(end.is_ok());
        let body: serde_json::Value = serde_json::from_slice(&dechunk(&got)).unwrap();
        let content = body["choices"][0]["message"]["content"].as_str().unwrap();
        assert!(content.starts_with("echo: xxx") && content.ends_with("hi there"));
        assert_eq!(content.len(), "echo: hi there".len() + knobs::HUGE_BYTES);

        let (got, _) = exchange(addr, "/v1/messages", ANTHROPIC_AUTH, ANTHROPIC_STREAM);
        let stream = String::from_utf8(dechunk(&got)).unwrap();
        let longest = stream.lines().map(str::len).max().unwrap();
        assert_eq!(longest, 2 + knobs::HUGE_BYTES, "one 50 MiB comment line");
        assert!(
            stream
                .trim_end()
                .ends_with(r#"data: {"type":"message_stop"}"#),
            "the stream still ends"
        );

        let headers = format!("{OPENAI_AUTH}x-mock-fault: none\r\n");
        let (got, _) = exchange(addr, "/v1/chat/completions", &headers, OPENAI);
        assert!(got.len() < 10_000);
    }

    /// A JSON exchange: the status and the parsed body.
    fn post(
        addr: SocketAddr,
        path: &str,
        headers: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let (got, _) = exchange(addr, path, headers, &body.to_string());
        let status = String::from_utf8_lossy(&got[9..12]).parse().unwrap();
        let head_end = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        (status, serde_json::from_slice(&got[head_end..]).unwrap())
    }

    #[test]
    fn anthropic_thinking_round_trips_and_a_broken_replay_is_a_400() {
        let addr = start(None);
        let tools =
            serde_json::json!([{"name": "get_weather", "input_schema": {"type": "object"}}]);
        let ask = serde_json::json!({"role": "user", "content": "Weather?"});
        let mut request = serde_json::json!({"model": "claude-sonnet-4-5", "max_tokens": 2000,
            "thinking": {"type": "enabled", "budget_tokens": 1024}, "tools": tools, "messages": [ask]});
        let (status, answer) = post(addr, "/v1/messages", ANTHROPIC_AUTH, &request);
        assert_eq!(status, 200);
        let mut content = answer["content"].clone();
        assert_eq!(content[0]["type"], "thinking");
        assert_eq!(content[1]["type"], "tool_use");
        let result = serde_json::json!({"role": "user", "content": [{"type": "tool_result",
            "tool_use_id": content[1]["id"], "content": "sunny"}]});
        request["messages"] =
            serde_json::json!([ask, {"role": "assistant", "content": content}, result]);
        let (status, answer) = post(addr, "/v1/messages", ANTHROPIC_AUTH, &request);
        assert_eq!(
            (status, &answer["content"][1]["text"]),
            (200, &"echo: Weather?".into())
        );

        content[0]["thinking"] = "edited thoughts".into();
        request["messages"][1]["content"] = content.clone();
        let (status, error) = post(addr, "/v1/messages", ANTHROPIC_AUTH, &request);
        assert_eq!((status, &error["type"]), (400, &"error".into()));
        assert_eq!(error["error"]["type"], "invalid_request_error");
        let message = error["error"]["message"].as_str().unwrap();
        assert!(message.starts_with("messages.1.content.0: "), "{message}");
        // Without thinking, thinking blocks in the history are ignored.
        request.as_object_mut().unwrap().remove("thinking");
        let (status, answer) = post(addr, "/v1/messages", ANTHROPIC_AUTH, &request);
        assert_eq!(
            (status, answer["content"].as_array().unwrap().len()),
            (200, 1)
        );
    }

    #[test]
    fn gemini_thought_signatures_round_trip_and_a_missing_one_is_a_400() {
        let addr = start(None);
        let path = "/v1beta/models/gemini-2.5-flash:generateContent";
        let key = "x-goog-api-key: k\r\n";
        let ask = serde_json::json!({"role": "user", "parts": [{"text": "Weather?"}]});
        let mut request = serde_json::json!({"contents": [ask],
            "tools": [{"functionDeclarations": [{"name": "get_weather"}]}],
            "generationConfig": {"thinkingConfig": {"includeThoughts": true}}});
        let (status, answer) = post(addr, path, key, &request);
        assert_eq!(status, 200);
        let mut turn = answer["candidates"][0]["content"].clone();
        assert_eq!(turn["parts"][0]["thought"], true);
        let result = serde_json::json!({"role": "user", "parts": [{"functionResponse":
            {"name": "get_weather", "response": {"sky": "sunny"}}}]});
        request["contents"] = serde_json::json!([ask, turn, result]);
        let (status, answer) = post(addr, path, key, &request);
        let text = &answer["candidates"][0]["content"]["parts"][1]["text"];
        assert_eq!((status, text), (200, &"echo: Weather?".into()));

        turn["parts"][1]
            .as_object_mut()
            .unwrap()
            .remove("thoughtSignature");
        request["contents"][1] = turn;
        let (status, error) = post(addr, path, key, &request);
        assert_eq!((status, &error["error"]["code"]), (400, &400.into()));
        assert_eq!(error["error"]["status"], "INVALID_ARGUMENT");
        let message = error["error"]["message"].as_str().unwrap();
        assert!(message.contains("thought signature"), "{message}");
        request["generationConfig"] = serde_json::json!({});
        assert_eq!(post(addr, path, key, &request).0, 200);
    }
}
