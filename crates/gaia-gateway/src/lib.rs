//! # gaia-gateway
//!
//! The life of an inference request, whatever dialect it came in (OpenAI Chat Completions today; the
//! Anthropic Messages and OpenAI Responses APIs next): resolve the model from the registry snapshot,
//! drop targets that cannot serve the caller (output limit, unpriced under a cost limit), admit the
//! request against the caller's limits, route it over its targets with retries and fallbacks, and record
//! its usage exactly once — served, refused, failed or abandoned. A handler decodes its dialect into a
//! canonical [`gaia_core::ChatRequest`], calls [`Pipeline::serve`], and encodes the canonical answer or
//! event stream back; it holds no rule of its own.
//!
//! It also owns the model registry's life ([`models::Models`]): what admins change is validated, stored
//! and applied to the snapshot the pipeline reads.
//!
//! Depends on gaia-providers (routing), gaia-orgs (limits, the caller), gaia-stats (the usage sink and
//! token estimates) and gaia-store (the usage record's shape) — never on actix. Errors are
//! [`gaia_core::GaiaError`]s.

pub mod channels;
pub mod conversations;
pub mod metrics;
pub mod models;
mod outcome;
mod pipeline;
mod stream;

pub use outcome::RequestContext;
pub use pipeline::{Pipeline, Served, TokenCount};
pub use stream::{RecordedStream, StreamItem};
