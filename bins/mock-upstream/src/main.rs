//! `mock-upstream`: a fast, deterministic stand-in for the OpenAI, Anthropic, Gemini and OpenRouter APIs,
//! speaking each one's own wire format. It answers `"echo: " + <last user message>` (or a call to the first
//! declared tool), with usage a test can predict, and has latency and fault knobs for benchmarks and
//! failure tests. See README.md. It depends on none of our crates: it is what GaiaRouter is measured
//! against, so it must not share its code or its bugs.
//!
//! It logs nothing per request: it is the baseline of the performance benchmark.

mod anthropic;
mod conversation;
mod gemini;
mod knobs;
mod openai;

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::{App, HttpResponse, HttpServer, web};
use clap::Parser;

use crate::knobs::Defaults;

/// A mock of the OpenAI, Anthropic, Gemini and OpenRouter APIs for tests and benchmarks.
///
/// Per-request overrides: headers x-mock-ttfb-ms, x-mock-chunk-ms, x-mock-chunks, and
/// x-mock-fault: status-429 | status-500 | status-503 | hang | cut-stream | malformed.
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
    let addr = listener.local_addr()?;
    let defaults = web::Data::new(Defaults {
        ttfb_ms: cli.ttfb_ms,
        chunk_ms: cli.chunk_ms,
        chunks: cli.chunks,
    });
    let models = web::Data::new(openai::openrouter_model_list());
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(defaults.clone())
            .app_data(models.clone())
            .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
            .route("/v1/chat/completions", web::post().to(openai::openai_chat))
            .route(
                "/api/v1/chat/completions",
                web::post().to(openai::openrouter_chat),
            )
            .route("/api/v1/models", web::get().to(openai::openrouter_models))
            .route("/v1/messages", web::post().to(anthropic::messages))
            .route("/v1beta/models/{target}", web::post().to(gemini::generate))
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
    // A hung request (x-mock-fault: hang) must not hold up a stop.
    .shutdown_timeout(1)
    .listen(listener)?;
    if let Some(workers) = cli.workers {
        server = server.workers(workers.max(1));
    }
    let server = server.run();
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "mock-upstream listening on http://{addr}")?;
    stdout.flush()?;
    drop(stdout);
    server.await
}
