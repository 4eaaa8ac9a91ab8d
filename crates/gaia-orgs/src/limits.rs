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

// foldhash: the maps are keyed by our own ids (never by what a caller sends) and looked up several times
// per request; SipHash's flooding resistance buys nothing here and cost 2–3 % of a request's instructions.
use foldhash::{HashMap, HashMapExt};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, TimeZone, Utc};
use gaia_core::{ApiKeyId, ErrorKind, GaiaError, Limits, OrganizationId};
use gaia_store::Store;
use gaia_store::quota::{MonthTotals, MonthUsage};
use tokio::sync::Notify;

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

/// One map per scope, keyed by id: looked up with a `&str`, so the request path allocates nothing.
#[derive(Debug)]
struct PerScope<T> {
    key: HashMap<Box<str>, T>,
    org: HashMap<Box<str>, T>,
}

impl<T> Default for PerScope<T> {
    fn default() -> Self {
        Self {
            key: HashMap::new(),
            org: HashMap::new(),
        }
    }
}

impl<T> PerScope<T> {
    fn map(&self, scope: Scope) -> &HashMap<Box<str>, T> {
        match scope {
            Scope::Key => &self.key,
            Scope::Organization => &self.org,
        }
    }

    fn map_mut(&mut self, scope: Scope) -> &mut HashMap<Box<str>, T> {
        match scope {
            Scope::Key => &mut self.key,
            Scope::Organization => &mut self.org,
        }
    }

    fn get(&self, scope: Scope, id: &str) -> Option<&T> {
        self.map(scope).get(id)
    }

    /// The entry for `id`, created with `make` when missing (the id is copied only then).
    fn entry(&mut self, scope: Scope, id: &str, make: impl FnOnce() -> T) -> &mut T {
        let map = self.map_mut(scope);
        if !map.contains_key(id) {
            map.insert(id.into(), make());
        }
        // Just inserted when it was missing.
        map.get_mut(id).unwrap_or_else(|| unreachable!())
    }

    fn clear(&mut self) {
        self.key.clear();
        self.org.clear();
    }
}

/// Smallest and largest block of request slots claimed at once. Blocks grow while they are used up
/// within a second and shrink when they last long, so a busy key claims a few times a second at most
/// and an idle one holds few slots; they never exceed 1/16 of what is left of the limit.
const MIN_BLOCK: i64 = 16;
const MAX_BLOCK: i64 = 4096;
/// After a claim found the limit used up, how long before the database is asked again (another
/// instance may return unused slots at shutdown, or an operator may raise the limit — a higher limit is
/// noticed at once).
const EXHAUSTED_RECHECK: Duration = Duration::from_secs(5);

#[derive(Debug)]
struct Allowance {
    month: i32,
    /// Slots claimed from the database and not spent yet.
    unused: i64,
    /// The last `admitted` count seen in the database (sizes the next block).
    seen_admitted: i64,
    /// The size of the last block claimed.
    block: i64,
    last_claim: Option<Instant>,
    /// A claim is under way (in the background, or by a request that found no slot left).
    claiming: bool,
    /// The limit was found used up at this limit value, until then.
    exhausted: Option<(i64, Instant)>,
}

impl Allowance {
    fn new(month: i32) -> Self {
        Self {
            month,
            unused: 0,
            seen_admitted: 0,
            block: 64,
            last_claim: None,
            claiming: false,
            exhausted: None,
        }
    }

    fn is_exhausted(&self, limit: i64, now: Instant) -> bool {
        self.exhausted
            .is_some_and(|(at_limit, until)| limit <= at_limit && now < until)
    }
}

#[derive(Debug, Clone, Copy)]
struct Gcra {
    /// Theoretical arrival time, in microseconds since the epoch.
    tat_us: i64,
}

#[derive(Debug, Default)]
struct Totals {
    month: i32,
    db: MonthUsage,
    /// Served by this instance and not yet known to be in the rollup.
    pending: PerScope<MonthTotals>,
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

/// What a request that found no free slot does next.
enum NoSlot {
    /// Another claim is under way: wait for it.
    Wait,
    /// Claim a block itself.
    Claim,
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
        }
    }

    /// Reloads month-to-date totals from the rollup. Call periodically.
    pub async fn refresh(&self, now: DateTime<Utc>) -> Result<(), GaiaError> {
        let usage = self.store.month_usage(&month_start_day(now)).await?;
        let month = month_of(now);
        if let Ok(mut t) = self.totals.lock() {
            if t.month != month {
                t.pending.clear();
            }
            t.month = month;
            t.db = usage;
        }
        Ok(())
    }

    /// Month-to-date totals for a scope (the rollup plus what this instance served since).
    pub fn month_totals(&self, scope: Scope, id: &str, now: DateTime<Utc>) -> MonthTotals {
        let Ok(t) = self.totals.lock() else {
            return MonthTotals::default();
        };
        let pending = t.pending.get(scope, id).copied().unwrap_or_default();
        if t.month != month_of(now) {
            return pending;
        }
        let db = match scope {
            Scope::Key => t.db.by_key.get(id),
            Scope::Organization => t.db.by_org.get(id),
        }
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
        if t.month != month_of(now) {
            return;
        }
        let db = &mut t.db;
        for (map, id) in [
            (&mut db.by_key, admission.key_id.as_str()),
            (&mut db.by_org, admission.organization_id.as_str()),
        ] {
            let e = map.entry(id.to_owned()).or_default();
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
        let month = month_of(now);
        if t.month == 0 {
            t.month = month;
        }
        if t.month != month {
            return;
        }
        for (scope, id) in [
            (Scope::Key, a.key_id.as_str()),
            (Scope::Organization, a.organization_id.as_str()),
        ] {
            let e = t.pending.entry(scope, id, MonthTotals::default);
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
                gaia_core::Nanos(limit).to_string(),
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
        let interval_us = (60_000_000 / i64::from(rpm)).max(1);
        let burst_us = 60_000_000 - interval_us; // up to `rpm` requests in a burst
        let now_us = now.timestamp_micros();
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        let map = buckets.map_mut(scope);
        if map.len() > 100_000 {
            map.retain(|_, g| g.tat_us > now_us);
        }
        let g = buckets.entry(scope, id, || Gcra { tat_us: now_us });
        let tat = g.tat_us.max(now_us);
        if tat - now_us > burst_us {
            let wait_us = tat - now_us - burst_us;
            let secs = ((wait_us + 999_999) / 1_000_000).max(1) as u64;
            return Err(GaiaError::new(
                ErrorKind::RateLimited,
                format!("rate limit of {rpm} requests per minute for this {} exceeded; retry in {secs} s", scope.noun()),
            )
            .with_code("rate_limit_error")
            .with_retry_after(secs));
        }
        g.tat_us = tat + interval_us;
        Ok(())
    }

    /// Takes one admission slot for a monthly request limit; `Ok(false)` if none is left.
    ///
    /// Slots come from memory. When a block is half spent, the next one is claimed in the background,
    /// so a steady stream of requests never waits for the database; only the first request of a key (or
    /// one that outruns the claims) does.
    async fn take_slot(
        self: &Arc<Self>,
        scope: Scope,
        id: &str,
        limit: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, GaiaError> {
        let month = month_of(now);
        loop {
            let waiting = self.claimed.notified();
            let next = {
                let Ok(mut map) = self.allowances.lock() else {
                    return Ok(false);
                };
                let a = map.entry(scope, id, || Allowance::new(month));
                if a.month != month {
                    *a = Allowance::new(month);
                }
                let clock = Instant::now();
                if a.unused > 0 {
                    a.unused -= 1;
                    if !a.claiming && a.unused <= a.block / 2 && !a.is_exhausted(limit, clock) {
                        a.claiming = true;
                        let this = Arc::clone(self);
                        let id: Box<str> = id.into();
                        tokio::spawn(async move {
                            if let Err(e) = this.claim(scope, &id, limit, now).await {
                                tracing::warn!(error = %e, scope = scope.as_str(), "claiming request-limit slots ahead failed; will retry on demand");
                            }
                        });
                    }
                    return Ok(true);
                }
                if a.is_exhausted(limit, clock) {
                    return Ok(false);
                }
                if a.claiming {
                    NoSlot::Wait
                } else {
                    a.claiming = true;
                    NoSlot::Claim
                }
            };
            match next {
                NoSlot::Wait => waiting.await,
                NoSlot::Claim => self.claim(scope, id, limit, now).await?,
            }
        }
    }

    /// Claims the next block of slots from the database (the caller has set `claiming`), shrinking it to
    /// one slot near the limit; marks the limit used up when not even one is left.
    async fn claim(
        &self,
        scope: Scope,
        id: &str,
        limit: i64,
        now: DateTime<Utc>,
    ) -> Result<(), GaiaError> {
        let result = self.claim_inner(scope, id, limit, now).await;
        self.with_allowance(scope, id, month_of(now), |a| a.claiming = false);
        self.claimed.notify_waiters();
        result
    }

    /// Runs `f` on the allowance of `id` (created for `month` when missing); `None` if the lock is poisoned.
    fn with_allowance<R>(
        &self,
        scope: Scope,
        id: &str,
        month: i32,
        f: impl FnOnce(&mut Allowance) -> R,
    ) -> Option<R> {
        let mut map = self.allowances.lock().ok()?;
        Some(f(map.entry(scope, id, || Allowance::new(month))))
    }

    async fn claim_inner(
        &self,
        scope: Scope,
        id: &str,
        limit: i64,
        now: DateTime<Utc>,
    ) -> Result<(), GaiaError> {
        let month = month_of(now);
        let Some((seen, last_block, last_claim)) = self.with_allowance(scope, id, month, |a| {
            (a.seen_admitted, a.block, a.last_claim)
        }) else {
            return Ok(());
        };
        let p = period(now);
        // Requests recorded before the limit existed (or before this month's row) count too.
        let already = self.month_totals(scope, id, now).requests;
        let remaining = (limit - seen.max(already)).max(0);
        let wanted = match last_claim.map(|t| t.elapsed()) {
            Some(e) if e < Duration::from_secs(1) => last_block * 2,
            Some(e) if e > Duration::from_secs(30) => last_block / 2,
            _ => last_block,
        }
        .clamp(MIN_BLOCK, MAX_BLOCK);
        let mut block = wanted.min(remaining / 16).max(1);
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
                self.with_allowance(scope, id, month, |a| {
                    if a.month == month {
                        a.unused += block;
                        a.seen_admitted = admitted;
                        a.block = wanted;
                        a.last_claim = Some(Instant::now());
                        a.exhausted = None;
                    }
                });
                return Ok(());
            }
            if block == 1 {
                self.with_allowance(scope, id, month, |a| {
                    a.seen_admitted = limit;
                    a.exhausted = Some((limit, Instant::now() + EXHAUSTED_RECHECK));
                });
                return Ok(());
            }
            block = 1;
        }
    }

    fn give_back(&self, scope: Scope, id: &str) {
        if let Ok(mut map) = self.allowances.lock()
            && let Some(a) = map.map_mut(scope).get_mut(id)
        {
            a.unused += 1;
        }
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
        let mut taken: Option<(Scope, &str)> = None;
        for (scope, id, l) in scopes {
            if let Some(limit) = l.monthly_requests {
                if !self.take_slot(scope, id, limit, now).await? {
                    if let Some((s, i)) = taken {
                        self.give_back(s, i);
                    }
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

    /// Returns unclaimed slots to the database (graceful shutdown).
    pub async fn release_unused(&self) -> Result<(), GaiaError> {
        let drained: Vec<(Scope, Box<str>, Allowance)> = match self.allowances.lock() {
            Ok(mut guard) => {
                let map = &mut *guard;
                let keys = map.key.drain().map(|(id, a)| (Scope::Key, id, a));
                let orgs = map.org.drain().map(|(id, a)| (Scope::Organization, id, a));
                keys.chain(orgs).collect()
            }
            Err(_) => return Ok(()),
        };
        for (scope, id, a) in drained {
            if a.unused > 0 {
                let p = format!("{:04}-{:02}", a.month / 12, a.month % 12 + 1);
                self.store
                    .release_admissions(scope.as_str(), &id, &p, a.unused)
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
            l.admit(&"k".into(), &"o".into(), &lim, now).await.unwrap();
        }
        let err = l
            .admit(&"k".into(), &"o".into(), &lim, now)
            .await
            .unwrap_err();
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
        l.admit(&"k".into(), &"o".into(), &lim, at("2026-12-01T00:00:01Z"))
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
                l.admit(&format!("k{}", i % 7).into(), &"o".into(), &lim, now)
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
        let a = l.admit(&"k".into(), &"o".into(), &lim, now).await.unwrap();
        l.add_usage(&a, 60, 400, now);
        let a = l.admit(&"k".into(), &"o".into(), &lim, now).await.unwrap();
        l.add_usage(&a, 60, 400, now);
        let err = l
            .admit(&"k".into(), &"o".into(), &lim, now)
            .await
            .unwrap_err();
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
        let err = l
            .admit(&"k2".into(), &"o".into(), &other, now)
            .await
            .unwrap_err();
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
            .admit(&"k".into(), &"o".into(), &AppliedLimits::default(), now)
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
                .admit(&"k".into(), &"o".into(), &AppliedLimits::default(), now)
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
        l.admit(&"k".into(), &"o".into(), &lim, now).await.unwrap();
        assert_eq!(
            l.admit(&"k".into(), &"o".into(), &lim, now)
                .await
                .unwrap_err()
                .status(),
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
            l.admit(&"k".into(), &"o".into(), &lim, now).await.unwrap();
        }
        let err = l
            .admit(&"k".into(), &"o".into(), &lim, now)
            .await
            .unwrap_err();
        assert_eq!((err.status(), err.code()), (429, "rate_limit_error"));
        assert!(err.retry_after.is_some_and(|s| (1..=20).contains(&s)));
        l.admit(&"k".into(), &"o".into(), &lim, now + Duration::seconds(21))
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
            l.admit(&"k".into(), &"o".into(), &lim, now).await.unwrap();
        }
    }

    #[tokio::test]
    async fn a_default_rpm_applies_to_keys_without_their_own() {
        let store = Store::connect_and_migrate("sqlite::memory:", &Default::default())
            .await
            .unwrap();
        let l = Arc::new(Limiter::new(store, Some(1)));
        let now = Utc::now();
        l.admit(&"k".into(), &"o".into(), &AppliedLimits::default(), now)
            .await
            .unwrap();
        assert_eq!(
            l.admit(&"k".into(), &"o".into(), &AppliedLimits::default(), now)
                .await
                .unwrap_err()
                .status(),
            429
        );
    }
}
