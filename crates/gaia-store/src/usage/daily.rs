//! Statistics' reads of the daily rollup: totals grouped by one dimension, the day × model × provider
//! breakdown, per-owner totals and the rows themselves.

use sea_orm::sea_query::{Alias, Order, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityName, EntityTrait, IdenStatic, QueryFilter,
    QueryOrder, QueryResult,
};

use super::rollup::{daily_table, daily_where, day_key, read_counters, select_counters};
use super::{
    BreakdownRow, DailyDimension, DailyFilter, DailyKey, DailyUsageRow, OwnerUsage, UsageTotals,
};
use crate::entity::usage_daily::{self, Column as C};
use crate::{Backend, Store, StoreError};

/// `SELECT group…, SUM(counter)… FROM table WHERE <filter> GROUP BY group…`.
fn grouped_counters(
    table: Alias,
    group: &[C],
    filter: &DailyFilter,
    backend: Backend,
) -> SelectStatement {
    let mut q = Query::select();
    q.from(table).columns(group.iter().copied());
    select_counters(&mut q, backend);
    daily_where(&mut q, filter);
    for col in group {
        q.group_by_col(*col);
    }
    q
}

/// `read`'s value of every row.
fn read_rows<T>(
    rows: &[QueryResult],
    read: impl Fn(&QueryResult) -> Result<T, DbErr>,
) -> Result<Vec<T>, StoreError> {
    rows.iter()
        .map(read)
        .collect::<Result<_, DbErr>>()
        .map_err(StoreError::from)
}

impl Store {
    /// Rollup totals over `filter`, grouped by one dimension, ordered by the group's label.
    pub async fn usage_daily_totals(
        &self,
        filter: &DailyFilter,
        by: DailyDimension,
    ) -> Result<Vec<(String, UsageTotals)>, StoreError> {
        let col = match by {
            DailyDimension::Day => C::Day,
            DailyDimension::Model => C::Model,
            DailyDimension::Provider => C::Provider,
        };
        let mut q = grouped_counters(daily_table(filter), &[col], filter, self.backend());
        q.order_by(col, Order::Asc);
        let rows = self.conn().query_all(&q).await?;
        read_rows(&rows, |row| {
            Ok((
                row.try_get::<String>("", col.as_str())?,
                read_counters(row)?,
            ))
        })
    }

    /// Rollup totals over `filter` per (day, model, provider): one scan that a report folds into its
    /// by-date, by-model and by-provider breakdowns.
    pub async fn usage_daily_breakdown(
        &self,
        filter: &DailyFilter,
    ) -> Result<Vec<BreakdownRow>, StoreError> {
        let group = [C::Day, C::Model, C::Provider];
        let q = grouped_counters(daily_table(filter), &group, filter, self.backend());
        let rows = self.conn().query_all(&q).await?;
        read_rows(&rows, |row| {
            Ok(BreakdownRow {
                day: row.try_get("", C::Day.as_str())?,
                model: row.try_get("", C::Model.as_str())?,
                provider: row.try_get("", C::Provider.as_str())?,
                totals: read_counters(row)?,
            })
        })
    }

    /// Rollup totals over `filter` per (organization, key): what each owner used, e.g. in a month.
    pub async fn usage_daily_by_owner(
        &self,
        filter: &DailyFilter,
    ) -> Result<Vec<OwnerUsage>, StoreError> {
        let table = Alias::new(usage_daily::Entity.table_name());
        let group = [C::OrganizationId, C::ApiKeyId];
        let q = grouped_counters(table, &group, filter, self.backend());
        let rows = self.conn().query_all(&q).await?;
        read_rows(&rows, |row| {
            Ok(OwnerUsage {
                organization_id: row.try_get("", C::OrganizationId.as_str())?,
                api_key_id: row.try_get("", C::ApiKeyId.as_str())?,
                totals: read_counters(row)?,
            })
        })
    }

    /// Every rollup row in `filter`, in key order (for checks and exports).
    pub async fn list_usage_daily(
        &self,
        filter: &DailyFilter,
    ) -> Result<Vec<DailyUsageRow>, StoreError> {
        let mut query = usage_daily::Entity::find()
            .filter(C::Day.gte(day_key(filter.first_day)))
            .filter(C::Day.lte(day_key(filter.last_day)));
        if let Some(org) = &filter.organization_id {
            query = query.filter(C::OrganizationId.eq(org.as_str()));
        }
        if let Some(key) = &filter.api_key_id {
            query = query.filter(C::ApiKeyId.eq(key.as_str()));
        }
        let rows = query
            .order_by_asc(C::Day)
            .order_by_asc(C::OrganizationId)
            .order_by_asc(C::ApiKeyId)
            .order_by_asc(C::Model)
            .order_by_asc(C::Provider)
            .all(self.conn())
            .await?;
        Ok(rows.into_iter().map(to_daily_row).collect())
    }
}

fn to_daily_row(m: usage_daily::Model) -> DailyUsageRow {
    DailyUsageRow {
        key: DailyKey {
            day: m.day,
            organization_id: m.organization_id,
            api_key_id: m.api_key_id,
            model: m.model,
            provider: m.provider,
        },
        totals: UsageTotals {
            requests: m.requests,
            errors: m.errors,
            prompt_tokens: m.prompt_tokens,
            completion_tokens: m.completion_tokens,
            cached_tokens: m.cached_tokens,
            total_tokens: m.total_tokens,
            cost_nanos: m.cost_nanos,
            total_latency_ms_sum: m.total_latency_ms_sum,
            unpriced_requests: m.unpriced_requests,
            cache_creation_tokens: m.cache_creation_tokens,
            reasoning_tokens: m.reasoning_tokens,
        },
    }
}
