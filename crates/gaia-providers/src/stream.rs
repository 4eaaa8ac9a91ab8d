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
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};
use gaia_adapters::{SseParser, StreamDecoder};
use gaia_core::{GaiaError, StreamEvent};

use crate::IdleTimer;
use crate::provider::EventStream;
use crate::upstream_error;

struct State {
    provider: String,
    /// The provider key, scrubbed from messages that quote upstream data.
    api_key: Option<String>,
    parser: SseParser,
    decoder: Box<dyn StreamDecoder + Send>,
    pending: VecDeque<StreamEvent>,
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
    Box::pin(Decoded {
        state: State {
            provider,
            api_key,
            parser: SseParser::with_max_event_bytes(max_event_bytes),
            decoder,
            pending: VecDeque::new(),
            finished: false,
        },
        body: Some(body),
        idle: IdleTimer::new(idle),
    })
}

/// The decoded stream.
struct Decoded {
    state: State,
    /// `None` once the stream has ended (dropped, or left to [`drain`]).
    body: Option<BoxStream<'static, reqwest::Result<Bytes>>>,
    idle: IdleTimer,
}

impl Stream for Decoded {
    type Item = StreamEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<StreamEvent>> {
        let this = &mut *self;
        loop {
            if let Some(event) = this.state.pending.pop_front() {
                if this.state.finished && this.state.pending.is_empty() {
                    // The terminal event: a finished stream keeps its connection (drained), a failed one
                    // closes it (dropped).
                    if let (StreamEvent::Done, Some(body)) = (&event, this.body.take()) {
                        drain(body);
                    }
                }
                return Poll::Ready(Some(event));
            }
            let Some(body) = this.body.as_mut() else {
                return Poll::Ready(None);
            };
            if this.state.finished {
                this.body = None;
                return Poll::Ready(None);
            }
            match body.poll_next_unpin(cx) {
                Poll::Ready(None) => this.state.on_end(),
                Poll::Ready(Some(Err(e))) => {
                    let err = upstream_error::from_transport(&this.state.provider, &e);
                    this.state.fail(err);
                }
                Poll::Ready(Some(Ok(bytes))) => {
                    this.idle.touch();
                    this.state.on_bytes(&bytes);
                }
                Poll::Pending => {
                    if !this.idle.poll_idle(cx) {
                        return Poll::Pending;
                    }
                    let message = format!(
                        "{} stopped sending for {} s",
                        this.state.provider,
                        this.idle.period().as_secs()
                    );
                    this.state.fail(
                        GaiaError::new(gaia_core::ErrorKind::UpstreamTimeout, message)
                            .with_code("upstream_timeout"),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant as StdInstant;

    use gaia_adapters::ResponseMeta;
    use gaia_adapters::openai::OpenAiStreamDecoder;
    use tokio::sync::mpsc;

    use super::*;

    /// A body fed chunk by chunk from the test; it ends when the sender is dropped.
    fn body_from(rx: mpsc::Receiver<Bytes>) -> BoxStream<'static, reqwest::Result<Bytes>> {
        futures_util::stream::unfold(rx, |mut rx| async move {
            let bytes = rx.recv().await?;
            Some((Ok(bytes), rx))
        })
        .boxed()
    }

    fn chunk(text: &str) -> Bytes {
        Bytes::from(format!(
            "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{text}\"}}}}]}}\n\n"
        ))
    }

    fn stream_of(rx: mpsc::Receiver<Bytes>, idle: Duration) -> EventStream {
        let decoder = OpenAiStreamDecoder::new(ResponseMeta::new("id", "m", 0));
        decode_stream(
            "mock".to_owned(),
            None,
            body_from(rx),
            Box::new(decoder),
            idle,
            1 << 20,
        )
    }

    #[tokio::test]
    async fn the_idle_timeout_counts_from_the_last_chunk_not_from_the_start() {
        let idle = Duration::from_millis(1000);
        let (tx, rx) = mpsc::channel(8);
        let mut events = stream_of(rx, idle);
        let feeder = tokio::spawn(async move {
            // Five chunks 400 ms apart: two seconds in all, twice the idle timeout, never idle for it.
            for n in 0..5 {
                tokio::time::sleep(Duration::from_millis(400)).await;
                tx.send(chunk(&format!("t{n}"))).await.ok();
            }
            // Then silence, with the connection open.
            tokio::time::sleep(Duration::from_secs(30)).await;
            drop(tx);
        });
        let started = StdInstant::now();
        let mut texts = Vec::new();
        let mut last_text_at = started;
        let error = loop {
            match events.next().await {
                Some(StreamEvent::TextDelta { text, .. }) => {
                    texts.push(text);
                    last_text_at = StdInstant::now();
                }
                Some(StreamEvent::Error(e)) => break e,
                Some(_) => {}
                None => panic!("the stream ended without its timeout error"),
            }
        };
        assert_eq!(texts, ["t0", "t1", "t2", "t3", "t4"]);
        assert_eq!(error.code(), "upstream_timeout");
        let silent = last_text_at.elapsed();
        assert!(
            silent >= idle && silent < idle * 3,
            "timed out after {silent:?} of silence"
        );
        assert!(events.next().await.is_none(), "the error is the last event");
        feeder.abort();
    }
}
