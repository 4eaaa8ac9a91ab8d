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
//! - **Requests per minute**: a GCRA bucket per key and per organization, in this instance's memory (with
//!   N instances behind a round-robin balancer, each enforces the rate; see docs/api/limits.md).
//!
//! Months are calendar months in UTC; `now` is passed in, so tests control the clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use chrono::{DateTime, Datelike, TimeZone, Utc};
use gaia_core::{ErrorKind, GaiaError, Limits};
use gaia_store::Store;
use gaia_store::quota::{MonthTotals, MonthUsage};

use crate::auth::AppliedLimits;

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

#[derive(Debug, Default)]
struct Allowance {
    period: String,
    unused: i64,
    /// The last `admitted` count seen in the database (sizes the next block).
    seen_admitted: i64,
}

#[derive(Debug, Clone, Copy)]
struct Gcra {
    /// Theoretical arrival time, in microseconds since the epoch.
    tat_ms: i64,
}

#[derive(Debug, Default)]
struct Totals {
    period: String,
    db: MonthUsage,
    /// Served by this instance and not yet known to be in the rollup.
    pending: HashMap<(Scope, String), MonthTotals>,
}

/// The limiter shared by every request of an instance.
pub struct Limiter {
    store: Store,
    default_rpm: Option<u32>,
    totals: Mutex<Totals>,
    allowances: Mutex<HashMap<(Scope, String), Allowance>>,
    claim_lock: tokio::sync::Mutex<()>,
    buckets: Mutex<HashMap<(Scope, String), Gcra>>,
    snapshot_period: ArcSwap<String>,
}

/// What was admitted, to be reported back when the request finishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    pub key_id: String,
    pub organization_id: String,
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
            allowances: Mutex::new(HashMap::new()),
            claim_lock: tokio::sync::Mutex::new(()),
            buckets: Mutex::new(HashMap::new()),
            snapshot_period: ArcSwap::from_pointee(String::new()),
        }
    }

    /// Reloads month-to-date totals from the rollup. Call periodically.
    pub async fn refresh(&self, now: DateTime<Utc>) -> Result<(), GaiaError> {
        let usage = self.store.month_usage(&month_start_day(now)).await?;
        let p = period(now);
        if let Ok(mut t) = self.totals.lock() {
            if t.period != p {
                t.pending.clear();
            }
            t.period = p.clone();
            t.db = usage;
        }
        self.snapshot_period.store(Arc::new(p));
        Ok(())
    }

    /// Month-to-date totals for a scope (the rollup plus what this instance served since).
    pub fn month_totals(&self, scope: Scope, id: &str, now: DateTime<Utc>) -> MonthTotals {
        let Ok(t) = self.totals.lock() else {
            return MonthTotals::default();
        };
        if t.period != period(now) {
            return t
                .pending
                .get(&(scope, id.to_owned()))
                .copied()
                .unwrap_or_default();
        }
        let db = match scope {
            Scope::Key => t.db.by_key.get(id),
            Scope::Organization => t.db.by_org.get(id),
        }
        .copied()
        .unwrap_or_default();
        let pending = t
            .pending
            .get(&(scope, id.to_owned()))
            .copied()
            .unwrap_or_default();
        MonthTotals {
            requests: db.requests + pending.requests,
            tokens: db.tokens + pending.tokens,
            cost_nanos: db.cost_nanos + pending.cost_nanos,
        }
    }

    /// Adds a finished request's usage (called when the request completes).
    pub fn add_usage(
        &self,
        admission: &Admission,
        tokens: i64,
        cost_nanos: i64,
        now: DateTime<Utc>,
    ) {
        self.adjust(admission, 1, tokens, cost_nanos, now);
    }

    /// Moves usage that has now reached the rollup from "pending" into the database totals (called by the
    /// usage writer after each batch), so the month-to-date total never dips between two reloads. Until
    /// the next reload replaces the totals it may briefly count a batch twice — erring towards refusing.
    pub fn confirm_usage(
        &self,
        admission: &Admission,
        tokens: i64,
        cost_nanos: i64,
        now: DateTime<Utc>,
    ) {
        self.adjust(admission, -1, -tokens, -cost_nanos, now);
        let Ok(mut t) = self.totals.lock() else {
            return;
        };
        if t.period != period(now) {
            return;
        }
        let db = &mut t.db;
        for (map, id) in [
            (&mut db.by_key, &admission.key_id),
            (&mut db.by_org, &admission.organization_id),
        ] {
            let e = map.entry(id.clone()).or_default();
            e.requests += 1;
            e.tokens += tokens;
            e.cost_nanos += cost_nanos;
        }
    }

    fn adjust(
        &self,
        a: &Admission,
        requests: i64,
        tokens: i64,
        cost_nanos: i64,
        now: DateTime<Utc>,
    ) {
        let Ok(mut t) = self.totals.lock() else {
            return;
        };
        if t.period.is_empty() {
            t.period = period(now);
        }
        if t.period != period(now) {
            return;
        }
        for key in [
            (Scope::Key, a.key_id.clone()),
            (Scope::Organization, a.organization_id.clone()),
        ] {
            let e = t.pending.entry(key).or_default();
            e.requests += requests;
            e.tokens += tokens;
            e.cost_nanos += cost_nanos;
        }
    }

    fn check_totals(
        &self,
        scope: Scope,
        id: &str,
        limits: &Limits,
        now: DateTime<Utc>,
    ) -> Result<(), GaiaError> {
        if limits.monthly_tokens.is_none() && limits.monthly_cost_nanos.is_none() {
            return Ok(());
        }
        let totals = self.month_totals(scope, id, now);
        if let Some(limit) = limits.monthly_tokens
            && totals.tokens >= limit
        {
            return Err(quota_error(scope, "token", limit.to_string(), now));
        }
        if let Some(limit) = limits.monthly_cost_nanos
            && totals.cost_nanos >= limit
        {
            return Err(quota_error(
                scope,
                "cost",
                format!("${:.2}", limit as f64 / 1e9),
                now,
            ));
        }
        Ok(())
    }

    fn check_rate(
        &self,
        scope: Scope,
        id: &str,
        rpm: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<(), GaiaError> {
        let Some(rpm) = rpm.filter(|r| *r > 0) else {
            return Ok(());
        };
        // Microseconds, so rates above 60,000/min keep their meaning.
        let interval_ms = (60_000_000 / i64::from(rpm)).max(1);
        let burst_ms = 60_000_000 - interval_ms; // up to `rpm` requests in a burst
        let now_ms = now.timestamp_micros();
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() > 100_000 {
            buckets.retain(|_, g| g.tat_ms > now_ms);
        }
        let g = buckets
            .entry((scope, id.to_owned()))
            .or_insert(Gcra { tat_ms: now_ms });
        let tat = g.tat_ms.max(now_ms);
        if tat - now_ms > burst_ms {
            let wait_us = tat - now_ms - burst_ms;
            let secs = ((wait_us + 999_999) / 1_000_000).max(1) as u64;
            return Err(GaiaError::new(
                ErrorKind::RateLimited,
                format!("rate limit of {rpm} requests per minute for this {} exceeded; retry in {secs} s", scope.noun()),
            )
            .with_code("rate_limit_error")
            .with_retry_after(secs));
        }
        g.tat_ms = tat + interval_ms;
        Ok(())
    }

    /// Takes one admission slot for a monthly request limit; `Ok(false)` if none is left.
    async fn take_slot(
        &self,
        scope: Scope,
        id: &str,
        limit: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, GaiaError> {
        let p = period(now);
        let key = (scope, id.to_owned());
        {
            let Ok(mut map) = self.allowances.lock() else {
                return Ok(false);
            };
            let a = map.entry(key.clone()).or_default();
            if a.period != p {
                *a = Allowance {
                    period: p.clone(),
                    unused: 0,
                    seen_admitted: 0,
                };
            }
            if a.unused > 0 {
                a.unused -= 1;
                return Ok(true);
            }
        }
        // Claim a block: serialised per instance so concurrent requests share one claim.
        let _guard = self.claim_lock.lock().await;
        let seen = {
            let Ok(mut map) = self.allowances.lock() else {
                return Ok(false);
            };
            let a = map.entry(key.clone()).or_default();
            if a.unused > 0 {
                a.unused -= 1;
                return Ok(true);
            }
            a.seen_admitted
        };
        // Requests recorded before the limit existed (or before this month's row) count too.
        let already = self.month_totals(scope, id, now).requests;
        let remaining = (limit - seen.max(already)).max(0);
        let mut block = (remaining / 16).clamp(1, 64);
        loop {
            if self
                .store
                .claim_admissions(scope.as_str(), id, &p, block, limit, already, now)
                .await?
            {
                let admitted = self
                    .store
                    .admitted(scope.as_str(), id, &p)
                    .await
                    .unwrap_or(seen + block);
                if let Ok(mut map) = self.allowances.lock() {
                    let a = map.entry(key.clone()).or_default();
                    a.period = p.clone();
                    a.unused += block - 1;
                    a.seen_admitted = admitted;
                }
                return Ok(true);
            }
            if block == 1 {
                if let Ok(mut map) = self.allowances.lock() {
                    map.entry(key.clone()).or_default().seen_admitted = limit;
                }
                return Ok(false);
            }
            block = 1;
        }
    }

    fn give_back(&self, scope: Scope, id: &str) {
        if let Ok(mut map) = self.allowances.lock()
            && let Some(a) = map.get_mut(&(scope, id.to_owned()))
        {
            a.unused += 1;
        }
    }

    /// Checks every limit of a key and its organization; on success the request counts against them.
    pub async fn admit(
        &self,
        key_id: &str,
        organization_id: &str,
        limits: &AppliedLimits,
        now: DateTime<Utc>,
    ) -> Result<Admission, GaiaError> {
        let scopes = [
            (Scope::Key, key_id, &limits.key),
            (Scope::Organization, organization_id, &limits.organization),
        ];
        for (scope, id, l) in scopes {
            self.check_totals(scope, id, l, now)?;
        }
        let key_rpm = limits
            .key
            .rate_limit_rpm
            .and_then(|r| u32::try_from(r).ok())
            .or(self.default_rpm);
        self.check_rate(Scope::Key, key_id, key_rpm, now)?;
        let org_rpm = limits
            .organization
            .rate_limit_rpm
            .and_then(|r| u32::try_from(r).ok());
        self.check_rate(Scope::Organization, organization_id, org_rpm, now)?;
        let mut taken: Vec<(Scope, &str)> = Vec::new();
        for (scope, id, l) in scopes {
            if let Some(limit) = l.monthly_requests {
                if !self.take_slot(scope, id, limit, now).await? {
                    for (s, i) in taken {
                        self.give_back(s, i);
                    }
                    return Err(quota_error(scope, "request", limit.to_string(), now));
                }
                taken.push((scope, id));
            }
        }
        Ok(Admission {
            key_id: key_id.to_owned(),
            organization_id: organization_id.to_owned(),
        })
    }

    /// Returns unclaimed slots to the database (graceful shutdown).
    pub async fn release_unused(&self) -> Result<(), GaiaError> {
        let drained: Vec<((Scope, String), Allowance)> = match self.allowances.lock() {
            Ok(mut map) => map.drain().collect(),
            Err(_) => return Ok(()),
        };
        for ((scope, id), a) in drained {
            if a.unused > 0 {
                self.store
                    .release_admissions(scope.as_str(), &id, &a.period, a.unused)
                    .await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    async fn limiter() -> Arc<Limiter> {
        let store = Store::connect_and_migrate("sqlite::memory:", &Default::default())
            .await
            .unwrap();
        Arc::new(Limiter::new(store, None))
    }

    fn limits(key: Limits, org: Limits) -> AppliedLimits {
        AppliedLimits {
            key,
            organization: org,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[tokio::test]
    async fn a_request_limit_admits_exactly_the_limit_then_refuses_until_next_month() {
        let l = limiter().await;
        let lim = limits(
            Limits {
                monthly_requests: Some(10),
                ..Default::default()
            },
            Limits::default(),
        );
        let now = at("2026-11-30T23:59:00Z");
        for _ in 0..10 {
            l.admit("k", "o", &lim, now).await.unwrap();
        }
        let err = l.admit("k", "o", &lim, now).await.unwrap_err();
        assert_eq!(
            (err.status(), err.code()),
            (429, "organization_limit_error")
        );
        assert!(
            err.message.contains("2026-12-01T00:00:00Z"),
            "{}",
            err.message
        );
        assert_eq!(err.retry_after, Some(60));
        // The month rolls over: a fresh budget.
        l.admit("k", "o", &lim, at("2026-12-01T00:00:01Z"))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn concurrent_requests_cannot_pass_a_request_limit() {
        let l = limiter().await;
        let lim = limits(
            Limits::default(),
            Limits {
                monthly_requests: Some(37),
                ..Default::default()
            },
        );
        let now = Utc::now();
        let mut tasks = Vec::new();
        for i in 0..200 {
            let l = l.clone();
            tasks.push(tokio::spawn(async move {
                l.admit(&format!("k{}", i % 7), "o", &lim, now)
                    .await
                    .is_ok()
            }));
        }
        let mut ok = 0;
        for t in tasks {
            if t.await.unwrap() {
                ok += 1;
            }
        }
        assert_eq!(ok, 37);
    }

    #[tokio::test]
    async fn token_and_cost_limits_count_actual_usage() {
        let l = limiter().await;
        let lim = limits(
            Limits {
                monthly_tokens: Some(100),
                ..Default::default()
            },
            Limits {
                monthly_cost_nanos: Some(1_000),
                ..Default::default()
            },
        );
        let now = Utc::now();
        let a = l.admit("k", "o", &lim, now).await.unwrap();
        l.add_usage(&a, 60, 400, now);
        let a = l.admit("k", "o", &lim, now).await.unwrap();
        l.add_usage(&a, 60, 400, now);
        let err = l.admit("k", "o", &lim, now).await.unwrap_err();
        assert!(err.message.contains("token"), "{}", err.message);
        assert_eq!(l.month_totals(Scope::Organization, "o", now).requests, 2);
        // Another key of the same organization hits the organization's cost limit.
        let other = limits(
            Limits::default(),
            Limits {
                monthly_cost_nanos: Some(800),
                ..Default::default()
            },
        );
        let err = l.admit("k2", "o", &other, now).await.unwrap_err();
        assert!(
            err.message.contains("cost") && err.message.contains("organization"),
            "{}",
            err.message
        );
    }

    #[tokio::test]
    async fn confirmed_usage_never_makes_the_total_dip() {
        let l = limiter().await;
        let now = Utc::now();
        let a = l
            .admit("k", "o", &AppliedLimits::default(), now)
            .await
            .unwrap();
        l.add_usage(&a, 50, 7, now);
        assert_eq!(l.month_totals(Scope::Key, "k", now).tokens, 50);
        l.confirm_usage(&a, 50, 7, now);
        assert_eq!(l.month_totals(Scope::Key, "k", now).tokens, 50);
        assert_eq!(l.month_totals(Scope::Organization, "o", now).requests, 1);
    }

    #[tokio::test]
    async fn requests_recorded_before_a_limit_count_against_it() {
        let l = limiter().await;
        let now = Utc::now();
        for _ in 0..3 {
            let a = l
                .admit("k", "o", &AppliedLimits::default(), now)
                .await
                .unwrap();
            l.add_usage(&a, 1, 1, now);
        }
        let lim = limits(
            Limits::default(),
            Limits {
                monthly_requests: Some(4),
                ..Default::default()
            },
        );
        l.admit("k", "o", &lim, now).await.unwrap();
        assert_eq!(
            l.admit("k", "o", &lim, now).await.unwrap_err().status(),
            429
        );
    }

    #[tokio::test]
    async fn rpm_refusals_carry_retry_after() {
        let l = limiter().await;
        let lim = limits(
            Limits {
                rate_limit_rpm: Some(3),
                ..Default::default()
            },
            Limits::default(),
        );
        let now = Utc::now();
        for _ in 0..3 {
            l.admit("k", "o", &lim, now).await.unwrap();
        }
        let err = l.admit("k", "o", &lim, now).await.unwrap_err();
        assert_eq!((err.status(), err.code()), (429, "rate_limit_error"));
        assert!(err.retry_after.is_some_and(|s| (1..=20).contains(&s)));
        l.admit("k", "o", &lim, now + Duration::seconds(21))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn very_high_rates_are_not_capped_at_one_per_millisecond() {
        let l = limiter().await;
        let lim = limits(
            Limits {
                rate_limit_rpm: Some(600_000),
                ..Default::default()
            },
            Limits::default(),
        );
        let now = Utc::now();
        // 600,000/min = 10 per millisecond: a burst of 5,000 at one instant is within the burst allowance.
        for _ in 0..5_000 {
            l.admit("k", "o", &lim, now).await.unwrap();
        }
    }

    #[tokio::test]
    async fn a_default_rpm_applies_to_keys_without_their_own() {
        let store = Store::connect_and_migrate("sqlite::memory:", &Default::default())
            .await
            .unwrap();
        let l = Limiter::new(store, Some(1));
        let now = Utc::now();
        l.admit("k", "o", &AppliedLimits::default(), now)
            .await
            .unwrap();
        assert_eq!(
            l.admit("k", "o", &AppliedLimits::default(), now)
                .await
                .unwrap_err()
                .status(),
            429
        );
    }
}
