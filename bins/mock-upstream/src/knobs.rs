//! Latency and fault knobs, the `POST` route every endpoint is served through ([`endpoint`]), and delivering
//! a built body under them. Defaults come from the command line; the request headers `x-mock-ttfb-ms`,
//! `x-mock-chunk-ms`, `x-mock-chunks` and `x-mock-fault` override them per request.

use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data};
use actix_web::{HttpRequest, HttpResponse};
use futures_util::stream;

/// Defaults for every request (from the command line).
#[derive(Debug, Clone, Copy)]
pub struct Defaults {
    pub ttfb_ms: u64,
    pub chunk_ms: u64,
    pub chunks: usize,
    pub fault: Option<Fault>,
}

/// Size of a `huge` answer's padding: 50 MiB.
pub const HUGE_BYTES: usize = 50 * BLOCK_BYTES;
const BLOCK_BYTES: usize = 1024 * 1024;

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
    /// Send part of the body, then abort the connection with a TCP RST (SO_LINGER 0).
    ResetMidBody,
    /// A 50 MiB answer: one huge content string (JSON), or one 50 MiB line half-way through a stream.
    Huge,
}

/// The names `x-mock-fault` and `--fault` accept.
pub const FAULT_NAMES: &str =
    "status-429, status-500, status-503, hang, cut-stream, malformed, reset-mid-body, huge";

impl Fault {
    /// A fault by name; `none` is no fault (to override a `--fault` default per request).
    pub fn parse(name: &str) -> Result<Option<Self>, String> {
        Ok(Some(match name {
            "none" => return Ok(None),
            "status-429" => Fault::Status(429),
            "status-500" => Fault::Status(500),
            "status-503" => Fault::Status(503),
            "hang" => Fault::Hang,
            "cut-stream" => Fault::CutStream,
            "malformed" => Fault::Malformed,
            "reset-mid-body" => Fault::ResetMidBody,
            "huge" => Fault::Huge,
            other => return Err(format!("unknown fault '{other}' ({FAULT_NAMES}, none)")),
        }))
    }
}

/// A duplicate of a connection's socket, taken when it is accepted (see `main.rs`), so a request can
/// set socket options on its own connection: `reset-mid-body` needs SO_LINGER 0.
#[derive(Debug)]
pub struct ConnSocket(pub OwnedFd);

impl ConnSocket {
    /// Takes the duplicate from a freshly accepted connection (`&dyn Any` as actix passes it).
    pub fn of(conn: &dyn std::any::Any) -> Option<Self> {
        let stream = conn.downcast_ref::<actix_web::rt::net::TcpStream>()?;
        stream.as_fd().try_clone_to_owned().ok().map(ConnSocket)
    }

    /// Makes the connection's close an abort: the peer gets an RST instead of a FIN.
    fn abort_on_close(&self) -> std::io::Result<()> {
        let dup = std::net::TcpStream::from(self.0.try_clone()?);
        // Closing this second duplicate leaves the connection open; the option stays on the socket.
        tokio::net::TcpSocket::from_std_stream(dup).set_zero_linger()
    }
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
        let fault = match req.headers().get("x-mock-fault") {
            None => defaults.fault,
            Some(v) => {
                Fault::parse(v.to_str().unwrap_or("")).map_err(|e| format!("x-mock-fault: {e}"))?
            }
        };
        if fault == Some(Fault::ResetMidBody) {
            // Armed now, effective when the cut body drops the connection. Without the socket (never
            // expected) the cut still happens, as a FIN.
            let _ = req
                .conn_data::<ConnSocket>()
                .map(ConnSocket::abort_on_close);
        }
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
            Some(Fault::CutStream | Fault::ResetMidBody) => {
                let body = Bytes::from(body);
                let half = body.slice(..body.len() / 2);
                ok("application/json").streaming(feed(vec![half], Duration::ZERO, Some(1)))
            }
            Some(Fault::Huge) => ok("application/json").streaming(feed(
                huge_json(Bytes::from(body)),
                Duration::ZERO,
                None,
            )),
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
            Some(Fault::CutStream | Fault::ResetMidBody) => Some(ends.len() / 2),
            _ => None,
        };
        let huge = self.fault == Some(Fault::Huge);
        let body = Bytes::from(buf);
        if cut.is_none() && !huge && self.chunk.is_zero() {
            return ok(content_type).body(body);
        }
        let half = ends.len() / 2;
        let mut start = 0;
        let mut parts = Vec::with_capacity(ends.len());
        for (i, end) in ends.into_iter().enumerate() {
            if huge && i == half {
                parts.extend(huge_line(content_type));
            }
            parts.push(body.slice(start..end));
            start = end;
        }
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

    /// The SSE events' `data` payloads, parsed (for tests).
    #[cfg(test)]
    pub fn data(&self) -> Vec<serde_json::Value> {
        String::from_utf8_lossy(&self.buf)
            .lines()
            .filter_map(|line| line.strip_prefix("data: "))
            .filter_map(|data| serde_json::from_str(data).ok())
            .collect()
    }
}

/// `count` blocks of 1 MiB of `byte`, sharing one allocation.
fn blocks(byte: u8, count: usize) -> impl Iterator<Item = Bytes> {
    let block = Bytes::from(vec![byte; BLOCK_BYTES]);
    std::iter::repeat_n(block, count)
}

/// A JSON answer grown by [`HUGE_BYTES`]: `x`s appended to the answer text (right after `"echo: `), or,
/// when there is no text (a tool call), whitespace after the opening brace. Still valid, same shape.
fn huge_json(body: Bytes) -> Vec<Bytes> {
    let (at, byte) = match body.windows(7).position(|w| w == b"\"echo: ") {
        Some(pos) => (pos + 7, b'x'),
        None => (usize::from(!body.is_empty()), b' '),
    };
    let mut parts = vec![body.slice(..at)];
    parts.extend(blocks(byte, HUGE_BYTES / BLOCK_BYTES));
    parts.push(body.slice(at..));
    parts
}

/// One line of [`HUGE_BYTES`] that every reader of the format must skip: an SSE comment, or whitespace
/// between the elements of Gemini's JSON-array stream.
fn huge_line(content_type: &str) -> Vec<Bytes> {
    let sse = content_type == "text/event-stream";
    let mut parts = Vec::new();
    if sse {
        parts.push(Bytes::from_static(b": "));
    }
    parts.extend(blocks(
        if sse { b'x' } else { b' ' },
        HUGE_BYTES / BLOCK_BYTES,
    ));
    if sse {
        parts.push(Bytes::from_static(b"\n\n"));
    }
    parts
}

/// What an endpoint answers: `Ok`, its answer; `Err`, an error response to send as it is (boxed, as an
/// `HttpResponse` is large).
pub type Outcome = Result<HttpResponse, Box<HttpResponse>>;

/// The `POST` route of an endpoint: reads the knobs (a malformed one is answered with [`rejected`] at
/// once), waits out the first-byte delay (forever for `hang`), then answers with `respond`.
pub fn endpoint<F>(respond: F) -> actix_web::Route
where
    F: Fn(&HttpRequest, &[u8], Knobs) -> Outcome + Clone + 'static,
{
    actix_web::web::post().to(
        move |req: HttpRequest, body: Bytes, defaults: Data<Defaults>| {
            let respond = respond.clone();
            async move {
                let knobs = match Knobs::from_request(&req, &defaults) {
                    Ok(k) => k,
                    Err(message) => return rejected(message),
                };
                knobs.before_first_byte().await;
                respond(&req, &body, knobs).unwrap_or_else(|response| *response)
            }
        },
    )
}

/// An injected error response as the providers send it: a 429 says `retry-after: 1`.
pub fn with_retry_after(mut response: HttpResponse) -> HttpResponse {
    if response.status() == StatusCode::TOO_MANY_REQUESTS {
        response.headers_mut().insert(
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::HeaderValue::from_static("1"),
        );
    }
    response
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
        // The body ends right after its last part, as a provider's does (no pause before the end).
        let next = feed.parts.next();
        if next.is_none() && feed.cut != Some(feed.sent) {
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
        let part = next?;
        feed.sent += 1;
        Some((Ok(part), feed))
    })
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::RETRY_AFTER;

    use super::*;

    #[test]
    fn only_a_429_gets_a_retry_after() {
        let limited = with_retry_after(HttpResponse::TooManyRequests().finish());
        assert_eq!(
            limited.headers().get(RETRY_AFTER).map(|v| v.as_bytes()),
            Some(&b"1"[..])
        );
        for status in [
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::SERVICE_UNAVAILABLE,
        ] {
            let response = with_retry_after(HttpResponse::build(status).finish());
            assert!(response.headers().get(RETRY_AFTER).is_none(), "{status}");
        }
    }
}
