//! A streamed answer that records its own usage: when it ends, or when it is dropped early (the client went
//! away — which also drops, and so cancels, the upstream request).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use gaia_core::{ChatRequest, GaiaError, StreamEvent, Usage};
use gaia_providers::{EventStream, IdleTimer, Target};

use crate::outcome::{Outcome, Recorder, elapsed_ms};

/// One item of a recorded stream: a canonical event for the dialect's encoder, or a sign that the
/// provider has been silent for the keep-alive interval (the encoder writes its keep-alive, e.g. an SSE
/// comment: it keeps proxies from timing the connection out, and a write to a departed client fails,
/// which is how its disconnect — and the cancellation of the upstream request — is noticed).
#[derive(Debug, Clone, PartialEq)]
pub enum StreamItem {
    Event(StreamEvent),
    KeepAlive,
}

/// The events of a streamed answer, recording the request's usage exactly once.
pub struct RecordedStream {
    events: EventStream,
    recorder: Recorder,
    outcome: Option<Outcome>,
    target: Target,
    upstream_ms: Option<u32>,
    first_token: Option<u32>,
    usage: Option<Usage>,
    error: Option<GaiaError>,
    done: bool,
    /// Text streamed so far, for a tokenizer count if the provider never reports usage.
    output: String,
    request: ChatRequest,
    /// Quiet since the last event or keep-alive.
    keepalive: IdleTimer,
}

impl RecordedStream {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        events: EventStream,
        recorder: Recorder,
        outcome: Outcome,
        target: Target,
        upstream_ms: u32,
        request: ChatRequest,
        keepalive_every: Duration,
    ) -> Self {
        Self {
            events,
            recorder,
            outcome: Some(outcome),
            target,
            upstream_ms: Some(upstream_ms),
            first_token: None,
            usage: None,
            error: None,
            done: false,
            output: String::new(),
            request,
            keepalive: IdleTimer::new(keepalive_every),
        }
    }

    /// The target serving the stream.
    pub fn target(&self) -> &Target {
        &self.target
    }

    fn finish(&mut self, client_gone: bool) {
        let Some(outcome) = self.outcome.take() else {
            return;
        };
        let error = match (&self.error, client_gone) {
            (Some(e), _) => Some(e.clone()),
            (None, true) => Some(
                GaiaError::new(
                    gaia_core::ErrorKind::InvalidRequest,
                    "the client closed the connection",
                )
                .with_code("client_disconnected"),
            ),
            (None, false) => None,
        };
        let to_count = self.usage.is_none().then(|| {
            (
                std::mem::take(&mut self.request),
                std::mem::take(&mut self.output),
            )
        });
        outcome.record_counting(
            &self.recorder,
            Some(self.target.clone()),
            error,
            self.usage,
            to_count,
            self.upstream_ms,
            self.first_token,
        );
    }

    fn note(&mut self, event: &StreamEvent) {
        match event {
            StreamEvent::TextDelta { .. }
            | StreamEvent::ToolCallStart { .. }
            | StreamEvent::ReasoningDelta { .. }
                if self.first_token.is_none() =>
            {
                self.first_token = self.outcome.as_ref().map(|o| elapsed_ms(o.context.started));
            }
            StreamEvent::Usage(u) => self.usage = Some(*u),
            _ => {}
        }
        match event {
            StreamEvent::TextDelta { text, .. } | StreamEvent::ReasoningDelta { text, .. } => {
                self.output.push_str(text)
            }
            StreamEvent::ToolCallArgsDelta { arguments, .. } => self.output.push_str(arguments),
            StreamEvent::Error(e) => self.error = Some(e.clone()),
            _ => {}
        }
    }
}

impl Stream for RecordedStream {
    type Item = StreamItem;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<StreamItem>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        match this.events.poll_next_unpin(cx) {
            Poll::Pending => {
                if this.keepalive.poll_idle(cx) {
                    return Poll::Ready(Some(StreamItem::KeepAlive));
                }
                Poll::Pending
            }
            Poll::Ready(None) => {
                this.done = true;
                this.finish(false);
                Poll::Ready(None)
            }
            Poll::Ready(Some(event)) => {
                this.keepalive.touch();
                this.note(&event);
                if event.is_terminal() {
                    this.done = true;
                    this.finish(false);
                }
                Poll::Ready(Some(StreamItem::Event(event)))
            }
        }
    }
}

impl Drop for RecordedStream {
    fn drop(&mut self) {
        // Dropped before its end: the client disconnected.
        self.finish(true);
    }
}
