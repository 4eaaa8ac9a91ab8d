//! What every dialect module provides, so that adding a dialect means adding one module.
//!
//! A dialect module exposes plain functions for the non-streaming directions (`build_request`,
//! `parse_response`, and for client-facing dialects `parse_request` / `encode_response`) and implements
//! [`StreamDecoder`] (provider SSE → [`StreamEvent`]s) and, for client-facing dialects, [`StreamEncoder`]
//! ([`StreamEvent`]s → the dialect's SSE frames). The traits let the provider and HTTP layers drive any
//! dialect's stream with the same loop.

use gaia_core::{GaiaError, StreamEvent};

use crate::sse::SseEvent;

/// What a response needs but some dialects do not send: Anthropic has no `created`, Gemini has neither an
/// id nor (always) a model name. The caller supplies them (the gateway's request id, its clock and the
/// upstream model it asked for); a dialect that carries a value itself uses its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseMeta {
    pub id: String,
    pub model: String,
    /// Unix seconds.
    pub created: i64,
}

impl ResponseMeta {
    pub fn new(id: impl Into<String>, model: impl Into<String>, created: i64) -> Self {
        Self {
            id: id.into(),
            model: model.into(),
            created,
        }
    }
}

/// A stateful provider-stream decoder: one per upstream response.
///
/// The driving loop is: parse bytes with [`SseParser`](crate::sse::SseParser), call [`decode`] per event
/// and forward what it returns; when the upstream body ends, call [`finish`]. Principle: a stream only
/// ends cleanly on the dialect's explicit end signal; anything else is an error the client must see.
///
/// [`decode`]: StreamDecoder::decode
/// [`finish`]: StreamDecoder::finish
pub trait StreamDecoder {
    /// Decodes one SSE event into zero or more canonical events.
    ///
    /// An `Err` means the upstream sent something unusable (bad JSON); an error the *provider* reported
    /// in-stream comes back as `Ok` with a [`StreamEvent::Error`] and ends the stream.
    fn decode(&mut self, event: &SseEvent) -> Result<Vec<StreamEvent>, GaiaError>;

    /// Called when the upstream body ended: returns the closing events (e.g. `Usage` and `Done` for
    /// dialects whose end is the end of the body), or an error when the stream was cut short.
    fn finish(&mut self) -> Result<Vec<StreamEvent>, GaiaError>;

    /// Whether the stream reached its end (clean or an in-stream error), so a closing body is not a
    /// truncation. For dialects that end with the body (Gemini) this turns true once every choice has
    /// finished; [`finish`](StreamDecoder::finish) then still emits the closing `Usage` and `Done`.
    fn is_finished(&self) -> bool;
}

/// A stateful client-stream encoder: one per client response.
pub trait StreamEncoder {
    /// Appends the frames for `event` to `out` (possibly nothing). Events after a terminal event are
    /// ignored, so a terminator is written exactly once.
    fn encode(&mut self, event: &StreamEvent, out: &mut String);
}
