//! # gaia-adapters
//!
//! Pure conversions between GaiaRouter's canonical chat model ([`gaia_core`]) and each provider's wire
//! format: one module per dialect ([`openai`], [`anthropic`], [`gemini`], and [`responses`] for clients of
//! OpenAI's Responses API), each with its private serde
//! wire types, request/response conversion both ways where the gateway needs them, and a stateful stream
//! decoder (provider SSE → [`StreamEvent`](gaia_core::StreamEvent)) — plus an encoder for the dialects
//! clients speak. Hub and spoke: every dialect converts to and from the canonical model, never to another
//! dialect. [`sse`] frames byte streams into events for all of them. Embeddings follow the same pattern
//! without streams: [`embeddings`] is the client-facing OpenAI side, and each dialect module converts
//! the canonical [`EmbeddingRequest`](gaia_core::EmbeddingRequest) to its own body and back.
//!
//! Rules: no I/O (no HTTP, no clock, no randomness — ids and timestamps the dialect lacks come in through
//! [`ResponseMeta`]); depends only on `gaia-core`, `serde` and `serde_json`. Every failure is a
//! [`GaiaError`](gaia_core::GaiaError): bad client input is `InvalidRequest` (400) with `param` set,
//! an unreadable upstream body is `Upstream` (502). See `README.md` for how to add a dialect.

pub mod anthropic;
mod codec;
pub mod embeddings;
mod fields;
pub mod gemini;
pub mod openai;
pub mod responses;
pub mod sse;
#[cfg(test)]
mod test_support;
mod util;

pub use codec::{ResponseMeta, StreamDecoder, StreamEncoder};
pub use sse::{SseEvent, SseParser};
