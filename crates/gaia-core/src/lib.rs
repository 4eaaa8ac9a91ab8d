//! # gaia-core
//!
//! The canonical domain model every other GaiaRouter crate speaks: the chat request, response and stream
//! event that each provider adapter converts to and from, the embeddings request and response, token
//! usage, model ids, and the one error type whose [`ErrorKind`] decides the HTTP status.
//!
//! Rules: no I/O, no actix, reqwest or sea-orm here — only `serde`, `serde_json`, `chrono` (types) and `thiserror`. Anything that talks to
//! the network or a database belongs in a crate above this one.

pub mod api;
pub mod embedding;
pub mod error;
pub mod ids;
pub mod model;
pub mod money;
pub mod registry;
pub mod request;
pub mod response;
pub mod stream;
pub mod tenancy;
pub mod usage;

pub use api::InboundApi;
pub use embedding::{EmbeddingEncoding, EmbeddingInput, EmbeddingRequest, EmbeddingResponse};
pub use error::{ErrorKind, GaiaError, GaiaResult};
pub use ids::{ApiKeyId, OrganizationId, UserId};
pub use model::{ModelRef, ProviderKind};
pub use money::Nanos;
pub use registry::{CacheRatios, ModelInfo, ModelKind, TokenPrices};
pub use request::*;
pub use response::*;
pub use stream::*;
pub use tenancy::{
    ApiKey, Limits, LimitsChange, Organization, Permission, Permissions, Status, UserRole,
};
pub use usage::*;
