//! Month-to-date totals (the rollup, reloaded every few seconds, plus what this instance served since)
//! and the monthly token and cost limits checked against them.

use chrono::{DateTime, Utc};
use gaia_core::{GaiaError, Limits};
use gaia_store::quota::{MonthTotals, MonthUsage};

use super::per_scope::PerScope;
use super::{Admission, Limiter, Scope, month_of, month_start_day, quota_error};

#[derive(Debug, Default)]
pub(super) struct Totals {
    month: i32,
    db: MonthUsage,
    /// Served by this instance and not yet known to be in the rollup.
    pending: PerScope<MonthTotals>,
}

impl Limiter {
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

    /// Refuses a request once a monthly token or cost total has reached its limit.
    pub(super) fn check_totals(
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
}
