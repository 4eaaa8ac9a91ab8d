//! Drives one upstream byte stream through the SSE parser and a dialect's decoder, yielding canonical
//! events. Guarantees: exactly one terminal event (`Done` or `Error`), an `Error` when the upstream goes
//! silent longer than the idle timeout, breaks the connection, or ends without its dialect's end signal.
//!
//! An event the decoder cannot read (invalid JSON, the wrong shape) ends the stream with an
//! `upstream_bad_response` error rather than being skipped: it may have carried text or a tool-call
//! fragment, and an answer with a silent hole in it is worse than one the client knows is incomplete.
//! One event larger than the size bound ends it with `upstream_event_too_large`; the stream as a whole
//! is not bounded.
//! Dropping the stream drops the upstream response, which closes the connection (client disconnects
//! cancel the upstream request); a stream that ended normally has the rest of its body read in the
//! background instead, so its connection is reused (see [`drain`]).

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use gaia_adapters::{SseParser, StreamDecoder};
use gaia_core::{GaiaError, StreamEvent};

use crate::provider::EventStream;
use crate::upstream_error;

struct State {
    provider: String,
    /// The provider key, scrubbed from messages that quote upstream data.
    api_key: Option<String>,
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    parser: SseParser,
    decoder: Box<dyn StreamDecoder + Send>,
    pending: VecDeque<StreamEvent>,
    idle: Duration,
    finished: bool,
}

impl State {
    fn push_events(&mut self, events: Vec<StreamEvent>) {
        for event in events {
            if self.finished {
                break;
            }
            if event.is_terminal() {
                self.finished = true;
            }
            self.pending.push_back(event);
        }
    }

    fn fail(&mut self, err: GaiaError) {
        if !self.finished {
            self.finished = true;
            self.pending.push_back(StreamEvent::Error(err));
        }
    }

    /// An event the decoder rejected: the upstream sent something unusable.
    fn unreadable(&self, err: GaiaError) -> GaiaError {
        let err = GaiaError::upstream(format!(
            "{} sent a stream event GaiaRouter cannot read: {}",
            self.provider,
            upstream_error::clip(upstream_error::without_dialect_prefix(&err.message), 200)
        ))
        .with_code(
            err.code
                .unwrap_or_else(|| "upstream_bad_response".to_owned()),
        );
        upstream_error::redact(err, self.api_key.as_deref())
    }

    /// The parser refused the bytes (an event over the size bound).
    fn parse_failure(&self, err: GaiaError) -> GaiaError {
        GaiaError {
            message: format!("{}: {}", self.provider, err.message),
            ..err
        }
    }

    fn decode(&mut self, event: &gaia_adapters::SseEvent) {
        match self.decoder.decode(event) {
            Ok(out) => self.push_events(out),
            Err(e) => {
                let err = self.unreadable(e);
                self.fail(err);
            }
        }
    }

    fn on_bytes(&mut self, bytes: &[u8]) {
        match self.parser.push(bytes) {
            Ok(events) => {
                for event in events {
                    self.decode(&event);
                    if self.finished {
                        return;
                    }
                }
            }
            Err(e) => {
                let err = self.parse_failure(e);
                self.fail(err);
            }
        }
    }

    fn on_end(&mut self) {
        match self.parser.finish() {
            Ok(Some(event)) => self.decode(&event),
            Ok(None) => {}
            Err(e) => {
                let err = self.parse_failure(e);
                self.fail(err);
            }
        }
        if !self.finished {
            match self.decoder.finish() {
                Ok(out) => self.push_events(out),
                Err(e) => self.fail(e),
            }
        }
        // A decoder that returned nothing terminal still must not leave the client hanging.
        if !self.finished {
            self.fail(GaiaError::upstream(format!(
                "{}: the stream ended without finishing",
                self.provider
            )));
        }
    }
}

/// Most a finished stream's leftover body is read to keep its connection.
const DRAIN_MAX_BYTES: usize = 64 * 1024;
/// Longest a finished stream's leftover body is waited for.
const DRAIN_MAX_WAIT: Duration = Duration::from_secs(2);

/// Reads what is left of a stream that ended normally (the dialect's end signal came before the body's
/// own end: OpenAI's `[DONE]`, Anthropic's `message_stop`), in the background, so hyper sees the body end
/// and returns the connection to the pool. Dropping the body instead closes the connection, and the next
/// stream pays a new TCP and TLS handshake; under a burst of streams those replacement connections were
/// also what ran a process out of descriptors. Bounded in bytes and time: an upstream that keeps sending
/// after its end signal just has its connection closed. The client's answer is already complete.
fn drain(mut body: BoxStream<'static, reqwest::Result<Bytes>>) {
    tokio::spawn(async move {
        let _ = tokio::time::timeout(DRAIN_MAX_WAIT, async move {
            let mut read = 0usize;
            while let Some(Ok(bytes)) = body.next().await {
                read += bytes.len();
                if read > DRAIN_MAX_BYTES {
                    break;
                }
            }
        })
        .await;
    });
}

pub(crate) fn decode_stream(
    provider: String,
    api_key: Option<String>,
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    decoder: Box<dyn StreamDecoder + Send>,
    idle: Duration,
    max_event_bytes: usize,
) -> EventStream {
    let state = State {
        provider,
        api_key,
        body,
        parser: SseParser::with_max_event_bytes(max_event_bytes),
        decoder,
        pending: VecDeque::new(),
        idle,
        finished: false,
    };
    stream::unfold(Some(state), |state| async move {
        let mut st = state?;
        loop {
            if let Some(event) = st.pending.pop_front() {
                // `None` as the next state ends the stream right after this terminal event.
                if st.finished && st.pending.is_empty() {
                    if matches!(event, StreamEvent::Done) {
                        drain(st.body);
                    }
                    return Some((event, None));
                }
                return Some((event, Some(st)));
            }
            if st.finished {
                return None;
            }
            match tokio::time::timeout(st.idle, st.body.next()).await {
                Err(_) => {
                    let provider = st.provider.clone();
                    st.fail(
                        GaiaError::new(
                            gaia_core::ErrorKind::UpstreamTimeout,
                            format!("{provider} stopped sending for {} s", st.idle.as_secs()),
                        )
                        .with_code("upstream_timeout"),
                    );
                }
                Ok(None) => st.on_end(),
                Ok(Some(Err(e))) => {
                    let err = upstream_error::from_transport(&st.provider, &e);
                    st.fail(err);
                }
                Ok(Some(Ok(bytes))) => st.on_bytes(&bytes),
            }
        }
    })
    .boxed()
}
