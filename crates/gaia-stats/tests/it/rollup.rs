//! The rollup equals an aggregate over the raw records, for any records in any batching; and statistics
//! read from the rollup equal sums over the raw records.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use gaia_core::InboundApi;
use gaia_stats::{
    GroupBy, NewUsageRecord, Period, Scope, SinkConfig, StatsQuery, StatsService, StatusFilter,
    UsageRecordFilter, UsageSink,
};
use gaia_store::usage::DailyFilter;
use gaia_store::{Store, StoreOptions};
use proptest::prelude::*;

use crate::helpers::{ScratchDb, at};

const ORGS: [Option<&str>; 3] = [Some("org-a"), Some("org-b"), None];
const KEYS: [Option<&str>; 4] = [Some("k1"), Some("k2"), Some("k3"), None];
const REQUESTED: [&str; 3] = ["openai/gpt-4o-mini", "anthropic/claude-x", "google/gemini"];
const SERVED: [Option<&str>; 4] = [Some("gpt-4o-mini-2024"), Some("claude-x"), Some(""), None];
const PROVIDERS: [Option<&str>; 3] = [Some("openai"), Some("anthropic"), None];
const STATUSES: [u16; 6] = [200, 201, 400, 429, 500, 502];

#[allow(clippy::too_many_arguments)]
fn build(
    secs: i64,
    org: usize,
    key: usize,
    requested: usize,
    served: usize,
    provider: usize,
    status: usize,
    tokens: (u64, u64, u64, u64, u64),
    cost: i64,
    latency: u32,
) -> NewUsageRecord {
    NewUsageRecord {
        request_id: format!("r{secs}"),
        created_at: at(1, 0) + Duration::seconds(secs),
        api_key_id: KEYS[key].map(str::to_owned),
        organization_id: ORGS[org].map(str::to_owned),
        model_requested: REQUESTED[requested].to_owned(),
        model_served: SERVED[served].map(str::to_owned),
        provider: PROVIDERS[provider].map(str::to_owned),
        stream: secs % 2 == 0,
        status_code: STATUSES[status],
        error_code: None,
        prompt_tokens: tokens.0,
        completion_tokens: tokens.1,
        cached_tokens: tokens.2,
        total_tokens: tokens.0 + tokens.1,
        cost_nanos: cost,
        estimated: false,
        upstream_latency_ms: None,
        ttft_ms: None,
        total_latency_ms: latency,
        attempts: Some(1),
        unpriced: false,
        api: InboundApi::ALL[secs as usize % InboundApi::ALL.len()],
        cache_creation_tokens: tokens.3,
        reasoning_tokens: tokens.4,
    }
}

fn arb_record() -> impl Strategy<Value = NewUsageRecord> {
    (
        0i64..40 * 86_400,
        0..ORGS.len(),
        0..KEYS.len(),
        0..REQUESTED.len(),
        0..SERVED.len(),
        0..PROVIDERS.len(),
        0..STATUSES.len(),
        (
            0u64..100_000,
            0u64..100_000,
            0u64..1_000,
            0u64..1_000,
            0u64..1_000,
        ),
        0i64..10_000_000_000,
        0u32..120_000,
    )
        .prop_map(|(s, o, k, r, sv, p, st, t, c, l)| build(s, o, k, r, sv, p, st, t, c, l))
}

/// A deterministic pseudo-random data set (xorshift), for the larger runs on real databases.
fn random_records(seed: u64, n: usize) -> Vec<NewUsageRecord> {
    let mut x = seed.max(1);
    let mut next = move |bound: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % bound
    };
    (0..n)
        .map(|_| {
            build(
                next(40 * 86_400) as i64,
                next(3) as usize,
                next(4) as usize,
                next(3) as usize,
                next(4) as usize,
                next(3) as usize,
                next(6) as usize,
                (
                    next(100_000),
                    next(100_000),
                    next(1_000),
                    next(1_000),
                    next(1_000),
                ),
                next(10_000_000_000) as i64,
                next(120_000) as u32,
            )
        })
        .collect()
}

type Dims = (String, String, String, String, String);

/// The reference aggregate, written independently of gaia-store's rollup code.
fn aggregate(records: &[NewUsageRecord]) -> BTreeMap<Dims, [i64; 10]> {
    let mut out: BTreeMap<Dims, [i64; 10]> = BTreeMap::new();
    for r in records {
        let model = match r.model_served.as_deref() {
            Some(m) if !m.is_empty() => m,
            _ => r.model_requested.as_str(),
        };
        let dims = (
            r.created_at.date_naive().to_string(),
            r.organization_id.clone().unwrap_or_default(),
            r.api_key_id.clone().unwrap_or_default(),
            model.to_owned(),
            r.provider.clone().unwrap_or_default(),
        );
        let e = out.entry(dims).or_default();
        e[0] += 1;
        e[1] += i64::from(r.status_code >= 400);
        e[2] += r.prompt_tokens as i64;
        e[3] += r.completion_tokens as i64;
        e[4] += r.cached_tokens as i64;
        e[5] += r.total_tokens as i64;
        e[6] += r.cost_nanos;
        e[7] += i64::from(r.total_latency_ms);
        e[8] += r.cache_creation_tokens as i64;
        e[9] += r.reasoning_tokens as i64;
    }
    out
}

fn everything() -> DailyFilter {
    DailyFilter {
        first_day: NaiveDate::MIN,
        last_day: NaiveDate::MAX,
        organization_id: None,
        api_key_id: None,
    }
}

/// The rollup as stored, in the reference shape.
async fn stored_rollup(store: &Store) -> BTreeMap<Dims, [i64; 10]> {
    store
        .list_usage_daily(&everything())
        .await
        .unwrap()
        .into_iter()
        .map(|row| {
            let k = row.key;
            let t = row.totals;
            (
                (k.day, k.organization_id, k.api_key_id, k.model, k.provider),
                [
                    t.requests,
                    t.errors,
                    t.prompt_tokens,
                    t.completion_tokens,
                    t.cached_tokens,
                    t.total_tokens,
                    t.cost_nanos,
                    t.total_latency_ms_sum,
                    t.cache_creation_tokens,
                    t.reasoning_tokens,
                ],
            )
        })
        .collect()
}

async fn raw_records(store: &Store) -> Vec<NewUsageRecord> {
    store
        .list_usage_records(&UsageRecordFilter::default(), 1, 1_000_000)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|s| s.record)
        .collect()
}

/// Statistics of `scope` over `period` equal plain sums over the raw records in it.
async fn stats_match_raw(store: &Store, scope: Scope, period: Period, raw: &[NewUsageRecord]) {
    let report = StatsService::new(store.clone())
        .stats(&StatsQuery {
            scope: scope.clone(),
            period,
            group_by: GroupBy::Week,
        })
        .await
        .unwrap();
    let in_scope: Vec<&NewUsageRecord> = raw
        .iter()
        .filter(|r| {
            let day = r.created_at.date_naive();
            day >= period.start
                && day <= period.end
                && match &scope {
                    Scope::Global => true,
                    Scope::Organization(id) => r.organization_id.as_ref() == Some(id),
                    Scope::ApiKey(id) => r.api_key_id.as_ref() == Some(id),
                }
        })
        .collect();
    let s = report.summary;
    assert_eq!(s.requests, in_scope.len() as i64, "{scope:?} {period:?}");
    assert_eq!(
        s.cost_nanos,
        in_scope.iter().map(|r| r.cost_nanos).sum::<i64>()
    );
    assert_eq!(
        s.total_tokens,
        in_scope.iter().map(|r| r.total_tokens as i64).sum::<i64>()
    );
    assert_eq!(
        s.errors,
        in_scope.iter().filter(|r| r.status_code >= 400).count() as i64
    );
    // Every breakdown adds up to the summary.
    for groups in [&report.by_date, &report.by_model, &report.by_provider] {
        assert_eq!(
            groups.iter().map(|g| g.totals.requests).sum::<i64>(),
            s.requests
        );
        assert_eq!(
            groups.iter().map(|g| g.totals.cost_nanos).sum::<i64>(),
            s.cost_nanos
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn the_rollup_equals_an_aggregate_over_the_raw_records(
        records in prop::collection::vec(arb_record(), 1..300),
        cuts in prop::collection::vec(0usize..300, 0..6),
        start in 0u64..40,
        len in 0u64..40,
        scope in 0usize..4,
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let store = Store::connect_and_migrate("sqlite::memory:", &StoreOptions::default())
                .await
                .unwrap();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(records.len())).collect();
            cuts.push(records.len());
            cuts.sort_unstable();
            let mut from = 0;
            for to in cuts {
                store.insert_usage_records(&records[from..to]).await.unwrap();
                from = to;
            }
            let raw = raw_records(&store).await;
            prop_assert_eq!(raw.len(), records.len());
            prop_assert_eq!(stored_rollup(&store).await, aggregate(&raw));

            let first = at(1, 0).date_naive() + Duration::days(start as i64);
            let period = Period::new(first, first + Duration::days(len as i64)).unwrap();
            let scope = match scope {
                0 => Scope::Global,
                1 => Scope::Organization("org-a".into()),
                2 => Scope::ApiKey("k2".into()),
                _ => Scope::Organization("nobody".into()),
            };
            stats_match_raw(&store, scope, period, &raw).await;
            Ok::<(), TestCaseError>(())
        })?;
    }
}

async fn a_large_random_load_through_the_sink_rolls_up_exactly(db: ScratchDb) {
    let store = db.store().await;
    let sink = UsageSink::start(store.clone(), SinkConfig::default(), None);
    let records = random_records(42, 5_000);
    for r in &records {
        sink.record(r.clone());
    }
    sink.shutdown().await;
    let raw = raw_records(&store).await;
    assert_eq!(raw.len(), 5_000);
    assert_eq!(stored_rollup(&store).await, aggregate(&records));
    let period = Period::new(at(3, 0).date_naive(), at(20, 0).date_naive()).unwrap();
    for scope in [
        Scope::Global,
        Scope::Organization("org-b".into()),
        Scope::ApiKey("k1".into()),
    ] {
        stats_match_raw(&store, scope, period, &raw).await;
    }
    log_totals_match_raw(&store, &raw).await;
    // Retention cuts mid-day; the rollup keeps the deleted records, the request log must not count them.
    let cut = at(6, 13);
    store.delete_usage_records_before(cut).await.unwrap();
    let kept: Vec<NewUsageRecord> = raw.into_iter().filter(|r| r.created_at >= cut).collect();
    assert_eq!(raw_records(&store).await.len(), kept.len());
    log_totals_match_raw(&store, &kept).await;
}

/// The request log's `total` (read from the rollup where it can be) equals the matching raw records.
async fn log_totals_match_raw(store: &Store, raw: &[NewUsageRecord]) {
    let mut filters = Vec::new();
    for (start, end_before) in [
        (None, None),
        (Some(at(2, 0)), None),
        (Some(at(4, 7)), Some(at(19, 3))),
        (Some(at(8, 0)), Some(at(12, 0))),
        (None, Some(at(9, 5))),
    ] {
        for status in [None, Some(StatusFilter::Error), Some(StatusFilter::Success)] {
            let base = UsageRecordFilter {
                status,
                start,
                end_before,
                ..Default::default()
            };
            filters.push(base.clone());
            filters.push(UsageRecordFilter {
                api_key_id: Some("k1".into()),
                ..base.clone()
            });
            filters.push(UsageRecordFilter {
                api: Some(InboundApi::Messages),
                api_key_id: Some("k2".into()),
                ..base.clone()
            });
            filters.push(UsageRecordFilter {
                organization_id: Some("org-b".into()),
                provider: Some("openai".into()),
                ..base
            });
        }
    }
    for f in filters {
        let expected = raw
            .iter()
            .filter(|r| {
                f.api_key_id
                    .as_ref()
                    .is_none_or(|k| r.api_key_id.as_ref() == Some(k))
                    && f.organization_id
                        .as_ref()
                        .is_none_or(|o| r.organization_id.as_ref() == Some(o))
                    && f.provider
                        .as_ref()
                        .is_none_or(|p| r.provider.as_ref() == Some(p))
                    && f.api.is_none_or(|a| r.api == a)
                    && match f.status {
                        Some(StatusFilter::Error) => r.status_code >= 400,
                        Some(StatusFilter::Success) => r.status_code < 400,
                        _ => true,
                    }
                    && f.start.is_none_or(|s| r.created_at >= s)
                    && f.end_before.is_none_or(|e| r.created_at < e)
            })
            .count() as u64;
        let page = StatsService::new(store.clone())
            .requests(&f, 1, 10)
            .await
            .unwrap();
        assert_eq!(page.total, expected, "{f:?}");
    }
}

#[tokio::test]
async fn a_large_random_load_through_the_sink_rolls_up_exactly_on_sqlite() {
    a_large_random_load_through_the_sink_rolls_up_exactly(ScratchDb::sqlite().await).await;
}

#[tokio::test]
async fn a_large_random_load_through_the_sink_rolls_up_exactly_on_postgres() {
    if let Some(db) = ScratchDb::postgres().await {
        a_large_random_load_through_the_sink_rolls_up_exactly(db).await;
    }
}

#[tokio::test]
async fn a_large_random_load_through_the_sink_rolls_up_exactly_on_mysql() {
    if let Some(db) = ScratchDb::mysql().await {
        a_large_random_load_through_the_sink_rolls_up_exactly(db).await;
    }
}
