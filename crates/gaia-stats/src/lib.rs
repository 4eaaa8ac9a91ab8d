//! # gaia-stats
//!
//! Statistics over the usage records of inference requests:
//!
//! - [`UsageSink`]: the request path's only contact with usage storage. `record` never blocks — it puts the
//!   record on a bounded queue (drops past the bound are counted and logged, never silent) — and a
//!   background writer inserts batches with [`gaia_store::Store::insert_usage_records`], which also
//!   maintains the daily rollup in the same transaction. Failed writes are retried with backoff, so a
//!   database outage loses nothing until the queue is full. [`UsageSink::shutdown`] writes what is queued.
//! - [`StatsService`]: statistics answered from the rollup (summary, by date/week/month, by model, by
//!   provider), the request log over the raw records, and month-to-date usage per organization and key.
//! - [`retention`]: periodic deletion of old raw records and stored responses (the rollup is kept).
//! - [`csv`]: CSV renderings of a statistics report and of the request log.
//!
//! Depends on gaia-core and gaia-store only — never on actix. Errors are [`gaia_core::GaiaError`]s
//! (a [`gaia_store::StoreError`] converts into one).

pub mod csv;
pub mod estimate;
pub mod query;
pub mod retention;
pub mod service;
pub mod sink;

pub use query::{GroupBy, Period, Scope, TimeRange};
pub use service::{Group, MonthUsage, StatsQuery, StatsReport, StatsService, UsageCounts};
pub use sink::{SinkConfig, SinkCounters, UsageObserver, UsageSink};

pub use gaia_store::usage::{
    NewUsageRecord, StatusFilter, StoredUsageRecord, UsageRecordFilter, UsageTotals,
};

/// Nano-dollars (the stored unit) as US dollars, for JSON: the one conversion, `gaia_core::money`.
pub use gaia_core::money::usd;
