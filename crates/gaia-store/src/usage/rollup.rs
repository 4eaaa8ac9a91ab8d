//! The daily rollup's keys and columns, and the query pieces its readers share: which table a filter
//! reads, the day-range condition, 64-bit sums of the counters.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sea_orm::sea_query::{Alias, Expr, Func, SelectStatement};
use sea_orm::{DbErr, EntityName, IdenStatic, QueryResult};

use super::{
    DailyFilter, DailyKey, ID_CHARS, MODEL_CHARS, NewUsageRecord, PROVIDER_CHARS, UsageTotals, fit,
};
use crate::Backend;
use crate::entity::usage_daily;

/// `YYYY-MM-DD` of a date: the rollup's day key. Dates outside years 1–9999 are clamped into them, so
/// keys always compare as text the way the dates compare (`NaiveDate::MIN` would format as `-262143-…`).
pub fn day_key(day: NaiveDate) -> String {
    let first = NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or(NaiveDate::MIN);
    let last = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX);
    day.clamp(first, last).format("%Y-%m-%d").to_string()
}

/// The rollup row a record belongs to.
pub fn daily_key(r: &NewUsageRecord) -> DailyKey {
    let model = r
        .model_served
        .as_deref()
        .filter(|m| !m.is_empty())
        .unwrap_or(&r.model_requested);
    DailyKey {
        day: day_key(r.created_at.date_naive()),
        organization_id: fit(r.organization_id.as_deref().unwrap_or(""), ID_CHARS),
        api_key_id: fit(r.api_key_id.as_deref().unwrap_or(""), ID_CHARS),
        model: fit(model, MODEL_CHARS),
        provider: fit(r.provider.as_deref().unwrap_or(""), PROVIDER_CHARS),
    }
}

/// Aggregates records per rollup row (sorted, so concurrent writers lock rows in the same order).
pub fn rollup(records: &[NewUsageRecord]) -> BTreeMap<DailyKey, UsageTotals> {
    let mut groups: BTreeMap<DailyKey, UsageTotals> = BTreeMap::new();
    for r in records {
        groups.entry(daily_key(r)).or_default().add_record(r);
    }
    groups
}

/// The counters of `usage_daily`, each added to on conflict.
pub(super) const COUNTERS: [usage_daily::Column; 11] = [
    usage_daily::Column::Requests,
    usage_daily::Column::Errors,
    usage_daily::Column::PromptTokens,
    usage_daily::Column::CompletionTokens,
    usage_daily::Column::CachedTokens,
    usage_daily::Column::TotalTokens,
    usage_daily::Column::CostNanos,
    usage_daily::Column::TotalLatencyMsSum,
    usage_daily::Column::UnpricedRequests,
    usage_daily::Column::CacheCreationTokens,
    usage_daily::Column::ReasoningTokens,
];

pub(super) const DIMENSIONS: [usage_daily::Column; 5] = [
    usage_daily::Column::Day,
    usage_daily::Column::OrganizationId,
    usage_daily::Column::ApiKeyId,
    usage_daily::Column::Model,
    usage_daily::Column::Provider,
];

/// `t`'s values in `COUNTERS` order.
pub(super) fn counter_values(t: &UsageTotals) -> [i64; 11] {
    [
        t.requests,
        t.errors,
        t.prompt_tokens,
        t.completion_tokens,
        t.cached_tokens,
        t.total_tokens,
        t.cost_nanos,
        t.total_latency_ms_sum,
        t.unpriced_requests,
        t.cache_creation_tokens,
        t.reasoning_tokens,
    ]
}

/// The global rollup's table: day × model × provider.
pub(super) const MODELS_TABLE: &str = "usage_daily_models";

pub(super) const MODEL_DIMENSIONS: [usage_daily::Column; 3] = [
    usage_daily::Column::Day,
    usage_daily::Column::Model,
    usage_daily::Column::Provider,
];

/// The table a rollup read over `filter` uses: the small day × model × provider one when no
/// organization or key narrows it.
pub(super) fn daily_table(filter: &DailyFilter) -> Alias {
    if filter.organization_id.is_none() && filter.api_key_id.is_none() {
        Alias::new(MODELS_TABLE)
    } else {
        Alias::new(usage_daily::Entity.table_name())
    }
}

/// `SUM(col)` as a 64-bit integer on every backend (PostgreSQL and MySQL widen sums to NUMERIC/DECIMAL).
pub(super) fn sum_i64(col: usage_daily::Column, backend: Backend) -> Expr {
    let sum: Expr = Func::sum(Expr::col(col)).into();
    match backend {
        Backend::Postgres => Func::cast_as(sum, Alias::new("BIGINT")).into(),
        Backend::MySql => Func::cast_as(sum, Alias::new("SIGNED")).into(),
        Backend::Sqlite => sum,
    }
}

/// Selects `SUM(c) AS c` for every counter.
pub(super) fn select_counters(q: &mut SelectStatement, backend: Backend) {
    for c in COUNTERS {
        q.expr_as(sum_i64(c, backend), Alias::new(c.as_str()));
    }
}

/// The counters `select_counters` selected.
pub(super) fn read_counters(row: &QueryResult) -> Result<UsageTotals, DbErr> {
    let get = |c: usage_daily::Column| row.try_get::<i64>("", c.as_str());
    Ok(UsageTotals {
        requests: get(usage_daily::Column::Requests)?,
        errors: get(usage_daily::Column::Errors)?,
        prompt_tokens: get(usage_daily::Column::PromptTokens)?,
        completion_tokens: get(usage_daily::Column::CompletionTokens)?,
        cached_tokens: get(usage_daily::Column::CachedTokens)?,
        total_tokens: get(usage_daily::Column::TotalTokens)?,
        cost_nanos: get(usage_daily::Column::CostNanos)?,
        total_latency_ms_sum: get(usage_daily::Column::TotalLatencyMsSum)?,
        unpriced_requests: get(usage_daily::Column::UnpricedRequests)?,
        cache_creation_tokens: get(usage_daily::Column::CacheCreationTokens)?,
        reasoning_tokens: get(usage_daily::Column::ReasoningTokens)?,
    })
}

/// Restricts `q` to `filter`'s days, organization and key.
pub(super) fn daily_where(q: &mut SelectStatement, filter: &DailyFilter) {
    use sea_orm::sea_query::ExprTrait as _;
    use usage_daily::Column as C;
    q.and_where(Expr::col(C::Day).gte(day_key(filter.first_day)))
        .and_where(Expr::col(C::Day).lte(day_key(filter.last_day)));
    if let Some(org) = &filter.organization_id {
        q.and_where(Expr::col(C::OrganizationId).eq(org.as_str()));
    }
    if let Some(key) = &filter.api_key_id {
        q.and_where(Expr::col(C::ApiKeyId).eq(key.as_str()));
    }
}
