//! The request log: raw records filtered and paged, newest first. Its total counts whole days from the
//! rollup where that is exact, and only the rest row by row.

use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use gaia_core::InboundApi;
use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};

use super::retention::retention_day;
use super::rollup::{daily_table, daily_where, sum_i64};
use super::{
    DailyFilter, ID_CHARS, NewUsageRecord, PROVIDER_CHARS, StatusFilter, StoredUsageRecord,
    UsageRecordFilter, unclamp_u32, unclamp_u64,
};
use crate::entity::usage_daily;
use crate::entity::usage_record::{self, Column, Entity};
use crate::{Page, Store, StoreError};

/// A stored row as a record; `Corrupt` when its `api` names no [`InboundApi`] (see `NewUsageRecord::api`).
fn to_stored(m: usage_record::Model) -> Result<StoredUsageRecord, StoreError> {
    let api = InboundApi::parse(&m.api)
        .ok_or_else(|| StoreError::Corrupt(format!("usage record {}: api '{}'", m.id, m.api)))?;
    Ok(StoredUsageRecord {
        id: m.id,
        record: NewUsageRecord {
            request_id: m.request_id,
            created_at: m.created_at,
            api_key_id: m.api_key_id,
            organization_id: m.organization_id,
            model_requested: m.model_requested,
            model_served: m.model_served,
            provider: m.provider,
            stream: m.stream,
            status_code: u16::try_from(m.status_code).unwrap_or(0),
            error_code: m.error_code,
            prompt_tokens: unclamp_u64(m.prompt_tokens),
            completion_tokens: unclamp_u64(m.completion_tokens),
            cached_tokens: unclamp_u64(m.cached_tokens),
            total_tokens: unclamp_u64(m.total_tokens),
            cost_nanos: m.cost_nanos,
            estimated: m.estimated,
            upstream_latency_ms: m.upstream_latency_ms.map(unclamp_u32),
            ttft_ms: m.ttft_ms.map(unclamp_u32),
            total_latency_ms: unclamp_u32(m.total_latency_ms),
            attempts: m.attempts.map(unclamp_u32),
            unpriced: m.unpriced,
            api,
            cache_creation_tokens: unclamp_u64(m.cache_creation_tokens),
            reasoning_tokens: unclamp_u64(m.reasoning_tokens),
        },
    })
}

/// The raw records `f` matches.
pub(super) fn record_condition(f: &UsageRecordFilter) -> Condition {
    let mut cond = Condition::all();
    if let Some(key) = &f.api_key_id {
        cond = cond.add(Column::ApiKeyId.eq(key.as_str()));
    }
    if let Some(org) = &f.organization_id {
        cond = cond.add(Column::OrganizationId.eq(org.as_str()));
    }
    if let Some(model) = &f.model {
        cond = cond.add(
            Condition::any()
                .add(Column::ModelServed.eq(model.as_str()))
                .add(Column::ModelRequested.eq(model.as_str())),
        );
    }
    if let Some(provider) = &f.provider {
        cond = cond.add(Column::Provider.eq(provider.as_str()));
    }
    if let Some(api) = f.api {
        cond = cond.add(Column::Api.eq(api.as_str()));
    }
    match f.status {
        Some(StatusFilter::Success) => cond = cond.add(Column::StatusCode.lt(400)),
        Some(StatusFilter::Error) => cond = cond.add(Column::StatusCode.gte(400)),
        Some(StatusFilter::Code(code)) => {
            cond = cond.add(Column::StatusCode.eq(i16::try_from(code).unwrap_or(i16::MAX)));
        }
        None => {}
    }
    if let Some(start) = f.start {
        cond = cond.add(Column::CreatedAt.gte(start));
    }
    if let Some(end) = f.end_before {
        cond = cond.add(Column::CreatedAt.lt(end));
    }
    cond
}

/// Whether the rollup can count the records `filter` matches over whole days: its dimensions hold
/// the filtered values exactly as the records do (a model filter matches served *or* requested model,
/// which the rollup does not keep apart; neither an exact status code nor the inbound API is kept).
fn rollup_expressible(f: &UsageRecordFilter) -> bool {
    let exact = |v: &Option<String>, max: usize| {
        v.as_deref()
            .is_none_or(|v| !v.is_empty() && v.chars().count() <= max)
    };
    f.model.is_none()
        && f.api.is_none()
        && !matches!(f.status, Some(StatusFilter::Code(_)))
        && exact(&f.api_key_id, ID_CHARS)
        && exact(&f.organization_id, ID_CHARS)
        && exact(&f.provider, PROVIDER_CHARS)
}

/// The whole days of a request-log range whose raw records are all still there: the rollup counts
/// them, the partial days around them are counted row by row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct WholeDays {
    /// The first whole day (`None`: unbounded; everything before it is counted row by row).
    first: Option<NaiveDate>,
    /// The last whole day (`None`: unbounded).
    last: Option<NaiveDate>,
    /// The day after `last`, from whose midnight on records are counted row by row.
    after_last: Option<NaiveDate>,
}

/// The whole days of `filter`'s range at or after `start`, before `end_before` and after the retention
/// mark (`YYYY-MM-DD`); `None` when there are none or a bound is at the calendar's edge (then every
/// matching record is counted row by row).
fn whole_days(filter: &UsageRecordFilter, retention_mark: Option<&str>) -> Option<WholeDays> {
    let mut first = match filter.start {
        Some(start) if start.time() == NaiveTime::MIN => Some(start.date_naive()),
        Some(start) => Some(start.date_naive().succ_opt()?),
        None => None,
    };
    if let Some(mark) = retention_mark {
        let after = NaiveDate::parse_from_str(mark, "%Y-%m-%d")
            .ok()?
            .succ_opt()?;
        first = Some(first.map_or(after, |f| f.max(after)));
    }
    let last = match filter.end_before {
        Some(end) => Some(end.date_naive().pred_opt()?),
        None => None,
    };
    if let (Some(f), Some(l)) = (first, last)
        && f > l
    {
        return None;
    }
    let after_last = match last {
        Some(l) => Some(l.succ_opt()?),
        None => None,
    };
    Some(WholeDays {
        first,
        last,
        after_last,
    })
}

impl Store {
    /// Total number of usage records.
    pub async fn count_usage_records(&self) -> Result<u64, StoreError> {
        Ok(Entity::find().count(self.conn()).await?)
    }

    /// How many raw records match `filter`, counted row by row.
    async fn count_raw(&self, filter: &UsageRecordFilter) -> Result<u64, StoreError> {
        Ok(Entity::find()
            .filter(record_condition(filter))
            .count(self.conn())
            .await?)
    }

    /// How many raw records match `filter`. Whole days whose raw records are all still there (after
    /// the retention mark) are counted from the rollup when the filter is expressible there (key,
    /// organization, provider, success/error); only the partial days at the range's ends, and days
    /// retention may have thinned, are counted row by row. Anything else is a plain `COUNT`.
    async fn count_matching_records(&self, filter: &UsageRecordFilter) -> Result<u64, StoreError> {
        if !rollup_expressible(filter) {
            return self.count_raw(filter).await;
        }
        let mark = retention_day(self.conn()).await?;
        let Some(days) = whole_days(filter, mark.as_deref()) else {
            return self.count_raw(filter).await;
        };
        let midnight = |d: NaiveDate| Utc.from_utc_datetime(&d.and_time(NaiveTime::MIN));
        let mut total = 0u64;
        if let Some(first) = days.first {
            let before = UsageRecordFilter {
                end_before: Some(midnight(first)),
                ..filter.clone()
            };
            total += self.count_raw(&before).await?;
        }
        if let Some(next) = days.after_last {
            let after = UsageRecordFilter {
                start: Some(midnight(next)),
                ..filter.clone()
            };
            total += self.count_raw(&after).await?;
        }
        total += self.rollup_count(filter, days.first, days.last).await?;
        Ok(total)
    }

    /// Requests (or successes, or errors, as `filter.status` says) in the rollup over whole days.
    async fn rollup_count(
        &self,
        filter: &UsageRecordFilter,
        first: Option<NaiveDate>,
        last: Option<NaiveDate>,
    ) -> Result<u64, StoreError> {
        use sea_orm::sea_query::ExprTrait as _;
        use usage_daily::Column as C;
        let daily = DailyFilter {
            first_day: first.unwrap_or(NaiveDate::MIN),
            last_day: last.unwrap_or(NaiveDate::MAX),
            organization_id: filter.organization_id.clone(),
            api_key_id: filter.api_key_id.clone(),
        };
        let mut q = Query::select();
        q.from(daily_table(&daily));
        q.expr_as(sum_i64(C::Requests, self.backend()), Alias::new("requests"))
            .expr_as(sum_i64(C::Errors, self.backend()), Alias::new("errors"));
        daily_where(&mut q, &daily);
        if let Some(provider) = &filter.provider {
            q.and_where(Expr::col(C::Provider).eq(provider.as_str()));
        }
        let Some(row) = self.conn().query_one(&q).await? else {
            return Ok(0);
        };
        let requests = row.try_get::<Option<i64>>("", "requests")?.unwrap_or(0);
        let errors = row.try_get::<Option<i64>>("", "errors")?.unwrap_or(0);
        let n = match filter.status {
            Some(StatusFilter::Error) => errors,
            Some(StatusFilter::Success) => requests - errors,
            _ => requests,
        };
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// A page of raw records matching `filter`, newest first. `page` is 1-based; `limit` is not capped
    /// here (the caller decides).
    pub async fn list_usage_records(
        &self,
        filter: &UsageRecordFilter,
        page: u64,
        limit: u64,
    ) -> Result<Page<StoredUsageRecord>, StoreError> {
        let limit = limit.max(1);
        let paginator = Entity::find()
            .filter(record_condition(filter))
            .order_by_desc(Column::CreatedAt)
            .order_by_desc(Column::Id)
            .paginate(self.conn(), limit);
        let total = self.count_matching_records(filter).await?;
        let rows = paginator.fetch_page(page.max(1) - 1).await?;
        Ok(Page {
            items: rows.into_iter().map(to_stored).collect::<Result<_, _>>()?,
            total,
            page: page.max(1),
            limit,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn day(s: &str) -> Option<NaiveDate> {
        Some(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
    }

    fn range(start: Option<&str>, end_before: Option<&str>) -> UsageRecordFilter {
        UsageRecordFilter {
            start: start.map(at),
            end_before: end_before.map(at),
            ..Default::default()
        }
    }

    #[test]
    fn whole_days_start_at_the_first_midnight_and_end_before_the_last() {
        let days = whole_days(
            &range(Some("2026-03-01T05:00:00Z"), Some("2026-03-05T07:00:00Z")),
            None,
        );
        assert_eq!(
            days,
            Some(WholeDays {
                first: day("2026-03-02"),
                last: day("2026-03-04"),
                after_last: day("2026-03-05"),
            })
        );
        let days = whole_days(&range(Some("2026-03-01T00:00:00Z"), None), None);
        assert_eq!(
            days,
            Some(WholeDays {
                first: day("2026-03-01"),
                last: None,
                after_last: None,
            })
        );
    }

    #[test]
    fn whole_days_begin_after_the_retention_mark_and_may_be_none() {
        let days = whole_days(&range(None, None), Some("2026-03-03")).unwrap();
        assert_eq!(days.first, day("2026-03-04"));
        let days = whole_days(
            &range(Some("2026-03-01T00:00:00Z"), None),
            Some("2025-01-01"),
        );
        assert_eq!(days.unwrap().first, day("2026-03-01"));
        // Within one day, or an unreadable mark: no whole day, everything row by row.
        let within = range(Some("2026-03-01T05:00:00Z"), Some("2026-03-01T07:00:00Z"));
        assert_eq!(whole_days(&within, None), None);
        assert_eq!(whole_days(&range(None, None), Some("soon")), None);
    }
}
