//! Channels managed through the admin API (specs/scale.md S-13…): so far the sealing of their upstream
//! credentials at rest; the manager (create, edit, test, health) builds on it.

pub mod sealed;
