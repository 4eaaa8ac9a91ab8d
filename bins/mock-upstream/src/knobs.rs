//! Latency and fault knobs, and delivering a built body under them. Defaults come from the command line;
//! the request headers `x-mock-ttfb-ms`, `x-mock-chunk-ms`, `x-mock-chunks` and `x-mock-fault` override
//! them per request.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use futures_util::stream;

/// Defaults for every request (from the command line).
#[derive(Debug, Clone, Copy)]
pub struct Defaults {
    pub ttfb_ms: u64,
    pub chunk_ms: u64,
    pub chunks: usize,
}

/// A failure to inject (`x-mock-fault`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The provider's error body with this status (`status-429` adds `retry-after: 1`).
    Status(u16),
    /// Never answer.
    Hang,
    /// Send part of the body, then drop the connection.
    CutStream,
    /// A 200 whose body (or first stream event) is not valid JSON.
    Malformed,
}

/// The knobs of one request.
#[derive(Debug, Clone, Copy)]
pub struct Knobs {
    pub ttfb: Duration,
    pub chunk: Duration,
    /// Force this many text chunks in a stream (0: one per word).
    pub chunks: usize,
    pub fault: Option<Fault>,
}

impl Knobs {
    /// Reads the overrides; a malformed one is the caller's mistake, to answer with [`rejected`].
    pub fn from_request(req: &HttpRequest, defaults: &Defaults) -> Result<Self, String> {
        let number = |name: &str, default: u64| -> Result<u64, String> {
            match req.headers().get(name) {
                None => Ok(default),
                Some(v) => v
                    .to_str()
                    .ok()
                    .and_then(|s| s.trim().parse().ok())
                    .ok_or_else(|| format!("{name} must be a whole number")),
            }
        };
        let fault = match req
            .headers()
            .get("x-mock-fault")
            .map(|v| v.to_str().unwrap_or(""))
        {
            None => None,
            Some("status-429") => Some(Fault::Status(429)),
            Some("status-500") => Some(Fault::Status(500)),
            Some("status-503") => Some(Fault::Status(503)),
            Some("hang") => Some(Fault::Hang),
            Some("cut-stream") => Some(Fault::CutStream),
            Some("malformed") => Some(Fault::Malformed),
            Some(other) => {
                return Err(format!(
                    "unknown x-mock-fault '{other}' (status-429, status-500, status-503, hang, cut-stream, malformed)"
                ));
            }
        };
        Ok(Self {
            ttfb: Duration::from_millis(number("x-mock-ttfb-ms", defaults.ttfb_ms)?),
            chunk: Duration::from_millis(number("x-mock-chunk-ms", defaults.chunk_ms)?),
            chunks: usize::try_from(number("x-mock-chunks", defaults.chunks as u64)?)
                .unwrap_or(usize::MAX),
            fault,
        })
    }

    /// What every handler does first: wait out the first-byte delay and, for `hang`, wait forever.
    pub async fn before_first_byte(&self) {
        if !self.ttfb.is_zero() {
            tokio::time::sleep(self.ttfb).await;
        }
        if self.fault == Some(Fault::Hang) {
            std::future::pending::<()>().await;
        }
    }

    /// The injected error status, if any (`x-mock-fault: status-…`).
    pub fn error_status(&self) -> Option<StatusCode> {
        match self.fault {
            Some(Fault::Status(code)) => StatusCode::from_u16(code).ok(),
            _ => None,
        }
    }

    /// A successful JSON answer, cut or broken when asked to.
    pub fn json(&self, body: Vec<u8>) -> HttpResponse {
        match self.fault {
            Some(Fault::Malformed) => {
                ok("application/json").body(r#"{"id": "mock", "choices": [{"#)
            }
            Some(Fault::CutStream) => {
                let body = Bytes::from(body);
                let half = body.slice(..body.len() / 2);
                ok("application/json").streaming(feed(vec![half], Duration::ZERO, Some(1)))
            }
            _ => ok("application/json").body(body),
        }
    }

    /// A successful event stream, paced by `chunk`, cut or broken when asked to. `content_type` is
    /// `text/event-stream` or, for Gemini's non-SSE streams, `application/json`.
    pub fn stream(&self, frames: Frames, content_type: &'static str) -> HttpResponse {
        let Frames { buf, ends } = frames;
        let cut = match self.fault {
            Some(Fault::Malformed) => {
                return ok(content_type).body("data: {\"id\": \"mock\", \"choices\": [{\n\n");
            }
            Some(Fault::CutStream) => Some(ends.len() / 2),
            _ => None,
        };
        let body = Bytes::from(buf);
        if cut.is_none() && self.chunk.is_zero() {
            return ok(content_type).body(body);
        }
        let mut start = 0;
        let parts = ends
            .into_iter()
            .map(|end| {
                let part = body.slice(start..end);
                start = end;
                part
            })
            .collect();
        ok(content_type).streaming(feed(parts, self.chunk, cut))
    }
}

/// One body built as consecutive frames (SSE events, or JSON-array elements), without a copy per frame.
#[derive(Debug, Default)]
pub struct Frames {
    buf: Vec<u8>,
    ends: Vec<usize>,
}

impl Frames {
    /// `[event: NAME\n]data: JSON` followed by `terminator` (a blank line: `\n\n` or `\r\n\r\n`).
    pub fn event(&mut self, event: Option<&str>, data: &serde_json::Value, terminator: &str) {
        if let Some(name) = event {
            self.buf.extend_from_slice(b"event: ");
            self.buf.extend_from_slice(name.as_bytes());
            self.buf.push(b'\n');
        }
        self.buf.extend_from_slice(b"data: ");
        self.json(data);
        self.raw(terminator);
    }

    /// Appends `raw` and closes the frame.
    pub fn raw(&mut self, raw: &str) {
        self.buf.extend_from_slice(raw.as_bytes());
        self.ends.push(self.buf.len());
    }

    /// Appends a JSON value without closing the frame.
    pub fn json(&mut self, value: &serde_json::Value) {
        // Writing a `Value` into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.buf, value);
    }
}

/// The plain-text 400 for a malformed knob header.
pub fn rejected(message: String) -> HttpResponse {
    HttpResponse::BadRequest()
        .content_type("text/plain; charset=utf-8")
        .body(message)
}

fn ok(content_type: &'static str) -> actix_web::HttpResponseBuilder {
    let mut builder = HttpResponse::Ok();
    builder.content_type(content_type);
    if content_type == "text/event-stream" {
        builder.insert_header(("cache-control", "no-cache"));
    }
    builder
}

/// Sends `parts` with `delay` between them; with `cut = Some(n)`, drops the connection after `n` parts.
fn feed(
    parts: Vec<Bytes>,
    delay: Duration,
    cut: Option<usize>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + 'static {
    struct Feed {
        parts: std::vec::IntoIter<Bytes>,
        delay: Duration,
        sent: usize,
        cut: Option<usize>,
        done: bool,
    }
    let state = Feed {
        parts: parts.into_iter(),
        delay,
        sent: 0,
        cut,
        done: false,
    };
    stream::unfold(state, |mut feed| async move {
        if feed.done {
            return None;
        }
        if feed.sent > 0 && !feed.delay.is_zero() {
            tokio::time::sleep(feed.delay).await;
        }
        if feed.cut == Some(feed.sent) {
            // Let the server flush what was sent, so the client sees a stream cut mid-way rather
            // than no answer at all.
            tokio::task::yield_now().await;
            feed.done = true;
            return Some((Err(std::io::Error::other("x-mock-fault: cut-stream")), feed));
        }
        let part = feed.parts.next()?;
        feed.sent += 1;
        Some((Ok(part), feed))
    })
}
