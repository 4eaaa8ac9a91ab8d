//! # gaia-orgs
//!
//! Tenancy services over gaia-store: API key generation and verification ([`keys`]), bootstrap of the first
//! admin credentials ([`bootstrap`]), and (with the tenancy issue) organizations, permissions and limits.
//!
//! Depends on gaia-core and gaia-store only — never on actix or reqwest. Errors are
//! [`gaia_core::GaiaError`]s so the HTTP edge maps them with one `match`.

pub mod auth;
pub mod bootstrap;
pub mod grants;
pub mod hashing;
pub mod keys;
pub mod limits;
pub mod tenants;
pub mod tokens;
pub mod users;
pub mod validation;
