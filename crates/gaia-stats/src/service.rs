//! Statistics queries. Reports answer from the daily rollup only — a handful of `GROUP BY`s over at most
//! days × organizations × keys × models × providers rows — so their cost does not grow with traffic;
//! only the request log reads raw records.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use gaia_core::GaiaError;
use gaia_store::usage::{
    DailyDimension, DailyFilter, StoredUsageRecord, UsageRecordFilter, UsageTotals,
};
use gaia_store::{Page, Store};

use crate::query::{GroupBy, Period, Scope, month_end, month_start};

/// A statistics query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsQuery {
    pub scope: Scope,
    pub period: Period,
    pub group_by: GroupBy,
}

/// One row of a breakdown: a date bucket, model or provider and its totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub label: String,
    pub totals: UsageTotals,
}

/// All keys, and the ones that can authenticate now (global statistics only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyCounts {
    pub total: u64,
    pub active: u64,
}

/// The answer to a [`StatsQuery`].
#[derive(Debug, Clone, PartialEq)]
pub struct StatsReport {
    pub query: StatsQuery,
    pub summary: UsageTotals,
    /// Present for [`Scope::Global`].
    pub keys: Option<KeyCounts>,
    /// Every bucket of the period in order, empty ones included (charts have no holes).
    pub by_date: Vec<Group>,
    /// Most requests first.
    pub by_model: Vec<Group>,
    /// Most requests first.
    pub by_provider: Vec<Group>,
}

/// Average total latency in milliseconds (two decimals), 0 without requests.
pub fn avg_latency_ms(t: &UsageTotals) -> f64 {
    if t.requests <= 0 {
        return 0.0;
    }
    let avg = t.total_latency_ms_sum as f64 / t.requests as f64;
    (avg * 100.0).round() / 100.0
}

/// What an organization or key used in a month, as the limits count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UsageCounts {
    pub requests: i64,
    /// Total tokens.
    pub tokens: i64,
    pub cost_nanos: i64,
}

impl UsageCounts {
    fn add(&mut self, t: &UsageTotals) {
        self.requests = self.requests.saturating_add(t.requests);
        self.tokens = self.tokens.saturating_add(t.total_tokens);
        self.cost_nanos = self.cost_nanos.saturating_add(t.cost_nanos);
    }
}

/// Month-to-date usage of every organization and key with traffic in a month.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MonthUsage {
    /// The first day of the month.
    pub month: Option<NaiveDate>,
    pub organizations: HashMap<String, UsageCounts>,
    pub keys: HashMap<String, UsageCounts>,
}

impl MonthUsage {
    /// Zero when the organization had no traffic.
    pub fn organization(&self, id: &str) -> UsageCounts {
        self.organizations.get(id).copied().unwrap_or_default()
    }

    /// Zero when the key had no traffic.
    pub fn key(&self, id: &str) -> UsageCounts {
        self.keys.get(id).copied().unwrap_or_default()
    }
}

/// Statistics over a [`Store`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct StatsService {
    store: Store,
}

fn by_requests(groups: Vec<(String, UsageTotals)>) -> Vec<Group> {
    let mut groups: Vec<Group> = groups
        .into_iter()
        .map(|(label, totals)| Group { label, totals })
        .collect();
    groups.sort_by(|a, b| {
        b.totals
            .requests
            .cmp(&a.totals.requests)
            .then_with(|| a.label.cmp(&b.label))
    });
    groups
}

/// Buckets per-day totals into `group_by`'s date buckets over the whole period, empty ones included.
pub fn bucket_days(
    period: Period,
    group_by: GroupBy,
    days: &BTreeMap<String, UsageTotals>,
) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    for day in period.days() {
        let label = group_by.bucket(day);
        let totals = days
            .get(&day.format("%Y-%m-%d").to_string())
            .copied()
            .unwrap_or_default();
        match out.last_mut() {
            Some(last) if last.label == label => last.totals.add(&totals),
            _ => out.push(Group { label, totals }),
        }
    }
    out
}

impl StatsService {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    fn filter(scope: &Scope, first_day: NaiveDate, last_day: NaiveDate) -> DailyFilter {
        let (organization_id, api_key_id) = match scope {
            Scope::Global => (None, None),
            Scope::Organization(id) => (Some(id.clone()), None),
            Scope::ApiKey(id) => (None, Some(id.clone())),
        };
        DailyFilter {
            first_day,
            last_day,
            organization_id,
            api_key_id,
        }
    }

    /// Summary and breakdowns of a scope over a period, from the rollup (one aggregate query). The caller
    /// has checked that the scope exists and may be read.
    pub async fn stats(&self, query: &StatsQuery) -> Result<StatsReport, GaiaError> {
        let filter = Self::filter(&query.scope, query.period.start, query.period.end);
        let mut days: BTreeMap<String, UsageTotals> = BTreeMap::new();
        let mut models: BTreeMap<String, UsageTotals> = BTreeMap::new();
        let mut providers: BTreeMap<String, UsageTotals> = BTreeMap::new();
        let mut summary = UsageTotals::default();
        for row in self.store.usage_daily_breakdown(&filter).await? {
            days.entry(row.day).or_default().add(&row.totals);
            models.entry(row.model).or_default().add(&row.totals);
            providers.entry(row.provider).or_default().add(&row.totals);
            summary.add(&row.totals);
        }
        let keys = match query.scope {
            Scope::Global => {
                let (total, active) = self.store.count_api_keys(chrono::Utc::now()).await?;
                Some(KeyCounts { total, active })
            }
            _ => None,
        };
        Ok(StatsReport {
            query: query.clone(),
            summary,
            keys,
            by_date: bucket_days(query.period, query.group_by, &days),
            by_model: by_requests(models.into_iter().collect()),
            by_provider: by_requests(providers.into_iter().collect()),
        })
    }

    /// A page of the request log, newest first. `limit` is the caller's to bound.
    pub async fn requests(
        &self,
        filter: &UsageRecordFilter,
        page: u64,
        limit: u64,
    ) -> Result<Page<StoredUsageRecord>, GaiaError> {
        Ok(self.store.list_usage_records(filter, page, limit).await?)
    }

    /// Usage of every organization and key in the calendar month (UTC) containing `day`, from the
    /// rollup. Records still queued in the sink are not included (see [`crate::UsageObserver`]).
    pub async fn month_usage(&self, day: NaiveDate) -> Result<MonthUsage, GaiaError> {
        let filter = Self::filter(&Scope::Global, month_start(day), month_end(day));
        let mut usage = MonthUsage {
            month: Some(month_start(day)),
            ..MonthUsage::default()
        };
        for owner in self.store.usage_daily_by_owner(&filter).await? {
            if !owner.organization_id.is_empty() {
                usage
                    .organizations
                    .entry(owner.organization_id)
                    .or_default()
                    .add(&owner.totals);
            }
            if !owner.api_key_id.is_empty() {
                usage
                    .keys
                    .entry(owner.api_key_id)
                    .or_default()
                    .add(&owner.totals);
            }
        }
        Ok(usage)
    }

    /// Usage of one organization or key (or everything, for [`Scope::Global`]) in the month containing
    /// `day`: one small aggregate, for single-item reads.
    pub async fn month_usage_of(
        &self,
        scope: &Scope,
        day: NaiveDate,
    ) -> Result<UsageCounts, GaiaError> {
        let filter = Self::filter(scope, month_start(day), month_end(day));
        let mut counts = UsageCounts::default();
        for (_, t) in self
            .store
            .usage_daily_totals(&filter, DailyDimension::Provider)
            .await?
        {
            counts.add(&t);
        }
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn t(requests: i64) -> UsageTotals {
        UsageTotals {
            requests,
            total_latency_ms_sum: 10 * requests,
            ..UsageTotals::default()
        }
    }

    #[test]
    fn every_day_of_the_period_is_present_even_without_traffic() {
        let days = BTreeMap::from([("2026-11-02".to_owned(), t(5))]);
        let period = Period::new(d("2026-11-01"), d("2026-11-04")).unwrap();
        let groups = bucket_days(period, GroupBy::Day, &days);
        let labels: Vec<_> = groups.iter().map(|g| g.label.as_str()).collect();
        assert_eq!(
            labels,
            ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"]
        );
        let requests: Vec<_> = groups.iter().map(|g| g.totals.requests).collect();
        assert_eq!(requests, [0, 5, 0, 0]);
    }

    #[test]
    fn weeks_bucket_from_monday_and_partial_weeks_keep_their_monday_label() {
        // 2026-11-26 is a Thursday; 2026-11-30 a Monday.
        let days = BTreeMap::from([
            ("2026-11-26".to_owned(), t(1)),
            ("2026-11-29".to_owned(), t(2)),
            ("2026-11-30".to_owned(), t(4)),
        ]);
        let period = Period::new(d("2026-11-26"), d("2026-12-14")).unwrap();
        let groups = bucket_days(period, GroupBy::Week, &days);
        let got: Vec<_> = groups
            .iter()
            .map(|g| (g.label.as_str(), g.totals.requests))
            .collect();
        assert_eq!(
            got,
            [
                ("2026-11-23", 3),
                ("2026-11-30", 4),
                ("2026-12-07", 0),
                ("2026-12-14", 0)
            ]
        );
    }

    #[test]
    fn months_bucket_by_calendar_month() {
        let days = BTreeMap::from([
            ("2026-01-31".to_owned(), t(1)),
            ("2026-02-01".to_owned(), t(2)),
            ("2026-02-28".to_owned(), t(3)),
        ]);
        let period = Period::new(d("2026-01-15"), d("2026-04-01")).unwrap();
        let got: Vec<_> = bucket_days(period, GroupBy::Month, &days)
            .into_iter()
            .map(|g| (g.label, g.totals.requests))
            .collect();
        assert_eq!(
            got,
            [
                ("2026-01".to_owned(), 1),
                ("2026-02".to_owned(), 5),
                ("2026-03".to_owned(), 0),
                ("2026-04".to_owned(), 0)
            ]
        );
    }

    #[test]
    fn average_latency_is_zero_without_requests_and_rounded_otherwise() {
        assert_eq!(avg_latency_ms(&UsageTotals::default()), 0.0);
        let t = UsageTotals {
            requests: 3,
            total_latency_ms_sum: 100,
            ..UsageTotals::default()
        };
        assert_eq!(avg_latency_ms(&t), 33.33);
    }
}
