//! Enforcing limits before a request goes upstream.
//!
//! - **Monthly requests** (key and organization): admission slots are claimed from the shared
//!   `quota_reservations` row in blocks with one conditional UPDATE, then spent from memory. Blocks shrink
//!   as the limit nears (down to one slot), so across any number of instances the number of admitted
//!   requests never exceeds the limit; slots claimed but unused are returned at shutdown (until then
//!   they only make the limit bite early, never late).
//! - **Monthly tokens and cost**: month-to-date totals = the rollup (reloaded every few seconds) plus
//!   what this instance served since; a request is refused once a total has reached its limit. A
//!   request's tokens are only known after it ran, so in-flight requests can pass a token/cost limit by
//!   at most their own usage (bounded by `max_tokens`).
//! - **Requests per minute**: a GCRA bucket per key and per organization. With a [`Cluster`] (Redis,
//!   `GAIA_REDIS_URL`) the buckets are shared by every instance, checked and charged in one round trip;
//!   without one they are in this instance's memory (N instances behind a round-robin balancer then
//!   admit up to N times the rate; see docs/api/limits.md).
//!
//! Months are calendar months in UTC; `now` is passed in, so tests control the clock.

mod counters;
mod per_scope;
mod rate;
mod slots;
mod totals;

#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Datelike, TimeZone, Utc};
use gaia_cluster::Cluster;
use gaia_core::{ApiKeyId, ErrorKind, GaiaError, OrganizationId};
use gaia_store::Store;
use tokio::sync::Notify;

use crate::auth::AppliedLimits;
use counters::Counters;
pub use counters::LimiterStats;
use per_scope::PerScope;
use rate::Gcra;
use slots::Allowance;
use totals::Totals;

/// Which kind of owner a limit belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Key,
    Organization,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Scope::Key => "key",
            Scope::Organization => "org",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Scope::Key => "API key",
            Scope::Organization => "organization",
        }
    }
}

/// `YYYY-MM` of `now`.
pub fn period(now: DateTime<Utc>) -> String {
    format!("{:04}-{:02}", now.year(), now.month())
}

/// The calendar month of `now` as one number (cheaper to compare than [`period`] on every request).
fn month_of(now: DateTime<Utc>) -> i32 {
    now.year() * 12 + now.month0() as i32
}

/// The first instant of the next month.
pub fn next_reset(now: DateTime<Utc>) -> DateTime<Utc> {
    let (y, m) = if now.month() == 12 {
        (now.year() + 1, 1)
    } else {
        (now.year(), now.month() + 1)
    };
    Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0)
        .single()
        .unwrap_or(now)
}

/// `YYYY-MM-01` of `now`.
pub fn month_start_day(now: DateTime<Utc>) -> String {
    format!("{:04}-{:02}-01", now.year(), now.month())
}

/// The limiter shared by every request of an instance.
pub struct Limiter {
    store: Store,
    default_rpm: Option<u32>,
    totals: Mutex<Totals>,
    allowances: Mutex<PerScope<Allowance>>,
    /// Signalled whenever a claim finishes, for requests waiting for slots.
    claimed: Notify,
    buckets: Mutex<PerScope<Gcra>>,
    /// Shared per-minute buckets (Redis); `None`: this instance's own.
    cluster: Option<Arc<Cluster>>,
    counters: Counters,
}

/// What was admitted, to be reported back when the request finishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    pub key_id: ApiKeyId,
    pub organization_id: OrganizationId,
}

fn quota_error(scope: Scope, what: &str, limit: String, now: DateTime<Utc>) -> GaiaError {
    let reset = next_reset(now);
    let secs = (reset - now).num_seconds().max(1) as u64;
    GaiaError::new(
        ErrorKind::QuotaExceeded,
        format!(
            "the monthly {what} limit of {limit} for this {} is reached; it resets at {}",
            scope.noun(),
            reset.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ),
    )
    .with_code("organization_limit_error")
    .with_retry_after(secs)
}

impl Limiter {
    pub fn new(store: Store, default_rpm: Option<u32>) -> Self {
        Self {
            store,
            default_rpm,
            totals: Mutex::new(Totals::default()),
            allowances: Mutex::new(PerScope::default()),
            claimed: Notify::new(),
            buckets: Mutex::new(PerScope::default()),
            cluster: None,
            counters: Counters::default(),
        }
    }

    /// Shares the per-minute limits with every instance of the cluster.
    pub fn with_cluster(mut self, cluster: Arc<Cluster>) -> Self {
        self.cluster = Some(cluster);
        self
    }

    /// Refusals and fallbacks since the start, for `/metrics`.
    pub fn stats(&self) -> LimiterStats {
        self.counters.snapshot()
    }

    /// Checks every limit of a key and its organization; on success the request counts against them.
    pub async fn admit(
        self: &Arc<Self>,
        key_id: &ApiKeyId,
        organization_id: &OrganizationId,
        limits: &AppliedLimits,
        now: DateTime<Utc>,
    ) -> Result<Admission, GaiaError> {
        let (key_id, organization_id) = (key_id.as_str(), organization_id.as_str());
        let scopes = [
            (Scope::Key, key_id, &limits.key),
            (Scope::Organization, organization_id, &limits.organization),
        ];
        for (scope, id, l) in scopes {
            self.check_totals(scope, id, l, now)
                .inspect_err(|_| self.counters.refused(scope, "quota"))?;
        }
        let key_rpm = limits
            .key
            .rate_limit_rpm
            .and_then(|r| u32::try_from(r).ok())
            .or(self.default_rpm);
        let org_rpm = limits
            .organization
            .rate_limit_rpm
            .and_then(|r| u32::try_from(r).ok());
        self.check_rates((key_id, key_rpm), (organization_id, org_rpm), now)
            .await?;
        let mut taken: Option<(Scope, &str)> = None;
        for (scope, id, l) in scopes {
            if let Some(limit) = l.monthly_requests {
                if !self.take_slot(scope, id, limit, now).await? {
                    if let Some((s, i)) = taken {
                        self.give_back(s, i);
                    }
                    self.counters.refused(scope, "quota");
                    return Err(quota_error(scope, "request", limit.to_string(), now));
                }
                taken = Some((scope, id));
            }
        }
        Ok(Admission {
            key_id: key_id.into(),
            organization_id: organization_id.into(),
        })
    }
}
