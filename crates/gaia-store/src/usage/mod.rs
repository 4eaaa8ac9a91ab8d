//! Usage records (one row per inference request, written in batches by gaia-stats) and their daily
//! rollup `usage_daily` (day × organization × key × model × provider), maintained in the same
//! transaction as the raw inserts so the two can never disagree. Statistics read the rollup; the request
//! log reads the raw rows.
//!
//! - `writer`: a batch's raw rows and its rollup upserts, in one transaction;
//! - `rollup`: the rollup's keys, columns and the query pieces its readers share;
//! - `daily`: statistics' reads of the rollup;
//! - `request_log`: the raw rows, filtered and paged, with totals counted from the rollup where exact;
//! - `retention`: deleting old raw rows and the mark that tells the request log which days they left.

mod daily;
mod request_log;
mod retention;
mod rollup;
mod writer;

#[cfg(test)]
mod tests;

use chrono::{DateTime, NaiveDate, Utc};
use gaia_core::InboundApi;

pub use rollup::{daily_key, day_key, rollup};

/// One inference request's outcome, as recorded. Cost is in nano-dollars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUsageRecord {
    pub request_id: String,
    pub created_at: DateTime<Utc>,
    pub api_key_id: Option<String>,
    pub organization_id: Option<String>,
    pub model_requested: String,
    pub model_served: Option<String>,
    pub provider: Option<String>,
    pub stream: bool,
    pub status_code: u16,
    pub error_code: Option<String>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cached_tokens: u64,
    pub total_tokens: u64,
    pub cost_nanos: i64,
    pub estimated: bool,
    pub upstream_latency_ms: Option<u32>,
    pub ttft_ms: Option<u32>,
    pub total_latency_ms: u32,
    /// Upstream calls made, retries and fallbacks included (0: refused before any); `None` on records
    /// written before attempts were recorded.
    pub attempts: Option<u32>,
    /// Served by a model without a known price: its cost (0) is not a real cost.
    pub unpriced: bool,
    /// The API the request came in through; stored as its wire name (`chat.completions`, `messages`, …).
    ///
    /// The enum rather than a `String`: a record can only name an API that exists (a misspelt name would
    /// be a row the `api` filter never finds and a rollup of its own), the request path allocates nothing
    /// for it (the record is built per request; the enum is `Copy`), and readers match on it instead of
    /// comparing text. The price is on reading: a stored name this version does not know — only a newer
    /// version or a hand edit writes one; migrations are forward-only — is reported as
    /// [`StoreError::Corrupt`](crate::StoreError::Corrupt), as an unknown organization status is, rather
    /// than shown as some other API. Records from before the column read as `chat.completions` (the
    /// column's default), the only inbound API there was.
    pub api: InboundApi,
    /// Part of `prompt_tokens` written to a prompt cache (Anthropic `cache_creation_input_tokens`).
    pub cache_creation_tokens: u64,
    /// Part of `completion_tokens` spent on hidden reasoning (OpenAI `reasoning_tokens`, Gemini
    /// `thoughtsTokenCount`).
    pub reasoning_tokens: u64,
}

/// A usage record as stored, with its row id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredUsageRecord {
    pub id: i64,
    pub record: NewUsageRecord,
}

/// The dimensions of one rollup row. `''` stands for "none" (no key, no provider) so the primary key
/// can be an upsert's conflict target.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DailyKey {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    pub organization_id: String,
    pub api_key_id: String,
    /// As served; the requested model when nothing was served.
    pub model: String,
    pub provider: String,
}

/// Additive counters of a set of requests. Cost in nano-dollars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UsageTotals {
    pub requests: i64,
    /// Requests answered with a status >= 400.
    pub errors: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cached_tokens: i64,
    pub total_tokens: i64,
    pub cost_nanos: i64,
    pub total_latency_ms_sum: i64,
    /// Requests served by a model without a known price (their cost is not counted).
    pub unpriced_requests: i64,
    pub cache_creation_tokens: i64,
    pub reasoning_tokens: i64,
}

impl UsageTotals {
    /// Adds one request.
    pub fn add_record(&mut self, r: &NewUsageRecord) {
        self.add(&UsageTotals {
            requests: 1,
            errors: i64::from(r.status_code >= 400),
            prompt_tokens: clamp_i64(r.prompt_tokens),
            completion_tokens: clamp_i64(r.completion_tokens),
            cached_tokens: clamp_i64(r.cached_tokens),
            total_tokens: clamp_i64(r.total_tokens),
            cost_nanos: r.cost_nanos,
            total_latency_ms_sum: i64::from(r.total_latency_ms),
            unpriced_requests: i64::from(r.unpriced),
            cache_creation_tokens: clamp_i64(r.cache_creation_tokens),
            reasoning_tokens: clamp_i64(r.reasoning_tokens),
        });
    }

    pub fn add(&mut self, o: &UsageTotals) {
        self.requests = self.requests.saturating_add(o.requests);
        self.errors = self.errors.saturating_add(o.errors);
        self.prompt_tokens = self.prompt_tokens.saturating_add(o.prompt_tokens);
        self.completion_tokens = self.completion_tokens.saturating_add(o.completion_tokens);
        self.cached_tokens = self.cached_tokens.saturating_add(o.cached_tokens);
        self.total_tokens = self.total_tokens.saturating_add(o.total_tokens);
        self.cost_nanos = self.cost_nanos.saturating_add(o.cost_nanos);
        self.total_latency_ms_sum = self
            .total_latency_ms_sum
            .saturating_add(o.total_latency_ms_sum);
        self.unpriced_requests = self.unpriced_requests.saturating_add(o.unpriced_requests);
        self.cache_creation_tokens = self
            .cache_creation_tokens
            .saturating_add(o.cache_creation_tokens);
        self.reasoning_tokens = self.reasoning_tokens.saturating_add(o.reasoning_tokens);
    }
}

/// One rollup row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyUsageRow {
    pub key: DailyKey,
    pub totals: UsageTotals,
}

/// Which rows of the rollup a query covers: an inclusive day range, optionally one organization or key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyFilter {
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub organization_id: Option<String>,
    pub api_key_id: Option<String>,
}

/// The dimension a rollup query groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DailyDimension {
    Day,
    Model,
    Provider,
}

/// Totals of one day × model × provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakdownRow {
    pub day: String,
    pub model: String,
    pub provider: String,
    pub totals: UsageTotals,
}

/// Usage of one organization and key (either may be `''`) over a day range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerUsage {
    pub organization_id: String,
    pub api_key_id: String,
    pub totals: UsageTotals,
}

/// Which records a request-log query returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsageRecordFilter {
    pub api_key_id: Option<String>,
    pub organization_id: Option<String>,
    /// Matches the model as served or as requested.
    pub model: Option<String>,
    pub provider: Option<String>,
    /// The inbound API the requests came in through.
    pub api: Option<InboundApi>,
    pub status: Option<StatusFilter>,
    /// Inclusive.
    pub start: Option<DateTime<Utc>>,
    /// Exclusive.
    pub end_before: Option<DateTime<Utc>>,
}

/// A request-log status filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// Status < 400.
    Success,
    /// Status >= 400.
    Error,
    Code(u16),
}

fn clamp_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn clamp_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

fn unclamp_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn unclamp_u32(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

// Column widths of `usage_records` / `usage_daily`. Values are made storable before writing (control
// characters escaped, cut to fit: `text::storable`), so a record's content never makes the database refuse
// it; the writer still isolates any row it refuses (`gaia-stats` sink), so one row never blocks the rest.
const ID_CHARS: usize = 36;
const REQUEST_ID_CHARS: usize = 64;
const MODEL_CHARS: usize = 256;
const PROVIDER_CHARS: usize = 64;
const ERROR_CODE_CHARS: usize = 64;

fn fit(s: &str, max_chars: usize) -> String {
    crate::text::storable_owned(s, max_chars)
}

fn fit_opt(s: &Option<String>, max_chars: usize) -> Option<String> {
    s.as_deref().map(|s| fit(s, max_chars))
}
