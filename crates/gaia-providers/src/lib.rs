//! # gaia-providers
//!
//! The upstream side of the gateway. A [`Provider`] is an instance of a wire dialect
//! ([`gaia_core::ProviderKind`]) with a name, a base URL and credentials; it owns one pooled reqwest client
//! and turns a canonical [`gaia_core::ChatRequest`] into an HTTP call, delegating every format conversion
//! to gaia-adapters. [`registry::Registry`] is the in-memory snapshot of models, aliases and providers the
//! hot path reads (no database round-trip per request); [`router`] resolves a model id to targets and
//! tries them with bounded retries and fallbacks. [`catalog`] is the built-in model list.
//!
//! Depends on gaia-core and gaia-adapters; never on actix or sea-orm. Errors are [`gaia_core::GaiaError`]s
//! whose kind already encodes the client-visible status (upstream 401/403 → 502, 429 → 429, 5xx → 502,
//! timeouts → 504).

pub mod catalog;
pub mod channel;
pub mod config;
mod dialect;
pub mod health;
pub mod idle;
pub mod openrouter;
mod provider;
pub mod registry;
pub mod router;
mod stream;
pub mod timing;
pub mod trace;
mod upstream_error;

pub use channel::{Channel, ChannelSource};
pub use config::{FileConfig, ProviderConfig, Timeouts};
pub use idle::IdleTimer;
pub use provider::{EventStream, Provider};
pub use registry::{Registry, Target};
