use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeZone, Utc};
use sea_orm::{DbBackend, EntityTrait, IdenStatic, PaginatorTrait, QueryFilter};

use super::request_log::record_condition;
use super::writer::{MAX_CHUNK, RECORD_COLUMNS, insert_records_sql, sized_chunks};
use super::*;
use crate::Store;
use crate::entity::usage_record::{Column, Entity};
use crate::test_support::memory_store;

#[test]
fn fit_keeps_at_most_the_limit_in_characters_never_splitting_one() {
    assert_eq!(fit("abc", 3), "abc");
    assert_eq!(fit("abcd", 3), "abc");
    // 4 characters in 8 bytes: over the limit in bytes, within it in characters.
    assert_eq!(fit("éééé", 4), "éééé");
    assert_eq!(fit("éééé", 3), "ééé");
    assert_eq!(fit("漢🙂x", 2), "漢🙂");
    assert_eq!(fit("", 0), "");
}

#[test]
fn the_insert_writes_every_column_of_the_table_but_the_id_in_order() {
    use sea_orm::Iterable;
    let table: Vec<&str> = Column::iter()
        .map(|c| c.as_str())
        .filter(|c| *c != "id")
        .collect();
    assert_eq!(table, RECORD_COLUMNS);
    let sql = insert_records_sql(DbBackend::Postgres, 2);
    assert!(
        sql.starts_with("INSERT INTO \"usage_records\" (\"request_id\", \"created_at\""),
        "{sql}"
    );
    assert!(sql.ends_with("($25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38, $39, $40, $41, $42, $43, $44, $45, $46, $47, $48)"), "{sql}");
    let sql = insert_records_sql(DbBackend::MySql, 1);
    assert!(
        sql.starts_with("INSERT INTO `usage_records` (`request_id`"),
        "{sql}"
    );
    assert_eq!(sql.matches('?').count(), 24);
    // Cached sizes and others build the same text.
    assert_eq!(
        insert_records_sql(DbBackend::Sqlite, 4),
        insert_records_sql(DbBackend::Sqlite, 4)
    );
    assert_eq!(
        insert_records_sql(DbBackend::Sqlite, 3)
            .matches('?')
            .count(),
        3 * RECORD_COLUMNS.len()
    );
}

#[test]
fn batches_are_cut_into_a_few_fixed_sizes_covering_every_row_once() {
    let mut sizes_seen = std::collections::BTreeSet::new();
    for n in 0..=1100usize {
        let items: Vec<usize> = (0..n).collect();
        let chunks: Vec<&[usize]> = sized_chunks(&items).collect();
        let joined: Vec<usize> = chunks.concat();
        assert_eq!(joined, items, "n = {n}");
        for c in &chunks {
            assert!(
                c.len().is_power_of_two() && c.len() <= MAX_CHUNK,
                "{}",
                c.len()
            );
            sizes_seen.insert(c.len());
        }
        // Full chunks first, then strictly decreasing sizes.
        let tail: Vec<usize> = chunks
            .iter()
            .map(|c| c.len())
            .filter(|l| *l < MAX_CHUNK)
            .collect();
        assert!(tail.windows(2).all(|w| w[0] > w[1]), "n = {n}: {tail:?}");
    }
    assert_eq!(sizes_seen.len(), 9); // 1, 2, 4, …, 256: nine statement texts per table
}

fn record(i: u64) -> NewUsageRecord {
    NewUsageRecord {
        request_id: format!("req-{i}"),
        created_at: Utc::now(),
        api_key_id: Some("k".into()),
        organization_id: Some("o".into()),
        model_requested: "openai/gpt-4o-mini".into(),
        model_served: Some("gpt-4o-mini".into()),
        provider: Some("openai".into()),
        stream: i.is_multiple_of(2),
        status_code: 200,
        error_code: None,
        prompt_tokens: i,
        completion_tokens: 2 * i,
        cached_tokens: 0,
        total_tokens: 3 * i,
        cost_nanos: 10,
        estimated: false,
        upstream_latency_ms: Some(5),
        ttft_ms: None,
        total_latency_ms: 6,
        attempts: Some(1),
        unpriced: false,
        api: gaia_core::InboundApi::ChatCompletions,
        cache_creation_tokens: 0,
        reasoning_tokens: 0,
    }
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn all_days() -> DailyFilter {
    DailyFilter {
        first_day: day(2000, 1, 1),
        last_day: day(2100, 1, 1),
        organization_id: None,
        api_key_id: None,
    }
}

#[tokio::test]
async fn a_large_batch_is_inserted_completely() {
    let store = memory_store().await;
    let batch: Vec<_> = (0..1234).map(record).collect();
    store.insert_usage_records(&batch).await.unwrap();
    assert_eq!(store.count_usage_records().await.unwrap(), 1234);
}

#[tokio::test]
async fn repeated_batches_add_up_in_one_rollup_row() {
    let store = memory_store().await;
    let batch: Vec<_> = (1..=10).map(record).collect();
    store.insert_usage_records(&batch).await.unwrap();
    store.insert_usage_records(&batch).await.unwrap();
    let rows = store.list_usage_daily(&all_days()).await.unwrap();
    assert_eq!(rows.len(), 1);
    let t = rows[0].totals;
    assert_eq!(t.requests, 20);
    assert_eq!(t.prompt_tokens, 2 * 55);
    assert_eq!(t.total_tokens, 2 * 3 * 55);
    assert_eq!(t.cost_nanos, 200);
    assert_eq!(t.total_latency_ms_sum, 120);
    assert_eq!(rows[0].key.model, "gpt-4o-mini");
}

#[tokio::test]
async fn records_without_key_provider_or_served_model_roll_up_under_empty_dimensions() {
    let store = memory_store().await;
    let mut r = record(1);
    r.api_key_id = None;
    r.provider = None;
    r.model_served = None;
    r.status_code = 404;
    store.insert_usage_records(&[r.clone(), r]).await.unwrap();
    let rows = store.list_usage_daily(&all_days()).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].key.api_key_id, "");
    assert_eq!(rows[0].key.provider, "");
    assert_eq!(rows[0].key.model, "openai/gpt-4o-mini");
    assert_eq!(rows[0].totals.errors, 2);
}

#[tokio::test]
async fn oversized_strings_are_cut_to_fit_rather_than_failing_the_batch() {
    let store = memory_store().await;
    let mut r = record(1);
    r.request_id = "é".repeat(100);
    r.model_requested = "m".repeat(1000);
    r.model_served = None;
    store.insert_usage_records(&[r]).await.unwrap();
    let page = store
        .list_usage_records(&UsageRecordFilter::default(), 1, 10)
        .await
        .unwrap();
    assert_eq!(page.items[0].record.request_id.chars().count(), 64);
    assert_eq!(page.items[0].record.model_requested.len(), 256);
}

#[tokio::test]
async fn the_request_log_filters_and_pages_newest_first() {
    let store = memory_store().await;
    let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    let batch: Vec<_> = (0..30)
        .map(|i| {
            let mut r = record(i);
            r.created_at = t0 + chrono::Duration::minutes(i as i64);
            r.status_code = if i % 3 == 0 { 502 } else { 200 };
            r
        })
        .collect();
    store.insert_usage_records(&batch).await.unwrap();
    let page = store
        .list_usage_records(
            &UsageRecordFilter {
                status: Some(StatusFilter::Error),
                start: Some(t0 + chrono::Duration::minutes(10)),
                ..Default::default()
            },
            1,
            3,
        )
        .await
        .unwrap();
    assert_eq!(page.total, 6); // 12, 15, 18, 21, 24, 27
    let ids: Vec<_> = page
        .items
        .iter()
        .map(|r| r.record.request_id.clone())
        .collect();
    assert_eq!(ids, ["req-27", "req-24", "req-21"]);
    let by_code = store
        .list_usage_records(
            &UsageRecordFilter {
                status: Some(StatusFilter::Code(200)),
                model: Some("openai/gpt-4o-mini".into()),
                ..Default::default()
            },
            1,
            100,
        )
        .await
        .unwrap();
    assert_eq!(by_code.total, 20);
}

#[tokio::test]
async fn retention_deletes_old_raw_records_but_keeps_the_rollup() {
    let store = memory_store().await;
    let old = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    let mut a = record(1);
    a.created_at = old;
    let b = record(2);
    store.insert_usage_records(&[a, b]).await.unwrap();
    let deleted = store
        .delete_usage_records_before(old + chrono::Duration::days(1))
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    assert_eq!(store.count_usage_records().await.unwrap(), 1);
    assert_eq!(store.list_usage_daily(&all_days()).await.unwrap().len(), 2);
}

#[tokio::test]
async fn totals_group_by_day_model_and_owner() {
    let store = memory_store().await;
    let mut a = record(1);
    a.created_at = Utc.with_ymd_and_hms(2026, 2, 1, 23, 59, 59).unwrap();
    let mut b = record(2);
    b.created_at = Utc.with_ymd_and_hms(2026, 2, 2, 0, 0, 0).unwrap();
    b.model_served = Some("claude".into());
    b.api_key_id = Some("k2".into());
    store.insert_usage_records(&[a, b]).await.unwrap();
    let filter = DailyFilter {
        first_day: day(2026, 2, 1),
        last_day: day(2026, 2, 28),
        organization_id: Some("o".into()),
        api_key_id: None,
    };
    let by_day = store
        .usage_daily_totals(&filter, DailyDimension::Day)
        .await
        .unwrap();
    let labels: Vec<_> = by_day.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(labels, ["2026-02-01", "2026-02-02"]);
    let by_model = store
        .usage_daily_totals(&filter, DailyDimension::Model)
        .await
        .unwrap();
    assert_eq!(by_model[0].0, "claude");
    assert_eq!(by_model[0].1.prompt_tokens, 2);
    let owners = store.usage_daily_by_owner(&filter).await.unwrap();
    assert_eq!(owners.len(), 2);
    let other_org = DailyFilter {
        organization_id: Some("x".into()),
        ..filter
    };
    assert!(
        store
            .usage_daily_totals(&other_org, DailyDimension::Provider)
            .await
            .unwrap()
            .is_empty()
    );
}

/// The request log's total, however it is computed, is the number of matching raw records.
async fn assert_totals_match_count(store: &Store, filters: &[UsageRecordFilter]) {
    for f in filters {
        let expected = Entity::find()
            .filter(record_condition(f))
            .count(store.conn())
            .await
            .unwrap();
        let page = store.list_usage_records(f, 1, 5).await.unwrap();
        assert_eq!(page.total, expected, "{f:?}");
    }
}

#[tokio::test]
async fn the_request_log_total_is_exact_from_the_rollup_before_and_after_retention() {
    let store = memory_store().await;
    let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    let batch: Vec<_> = (0..400)
        .map(|i| {
            let mut r = record(i);
            r.created_at = t0 + chrono::Duration::minutes(i as i64 * 53);
            r.status_code = if i % 7 == 0 { 500 } else { 200 };
            r.api_key_id = Some(format!("k{}", i % 3));
            r.organization_id = Some(format!("o{}", i % 2));
            r.provider = (i % 5 != 0).then(|| "openai".to_owned());
            r
        })
        .collect();
    store.insert_usage_records(&batch).await.unwrap();
    let at = |h: i64| t0 + chrono::Duration::hours(h);
    let mut filters = Vec::new();
    for (start, end_before) in [
        (None, None),
        (Some(at(0)), None),
        (Some(at(5)), Some(at(24 * 9 + 3))),
        (Some(at(24)), Some(at(24 * 5))),
        (Some(at(30)), Some(at(40))),
        (None, Some(at(24 * 3))),
    ] {
        for status in [
            None,
            Some(StatusFilter::Error),
            Some(StatusFilter::Success),
            Some(StatusFilter::Code(500)),
        ] {
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
                organization_id: Some("o0".into()),
                provider: Some("openai".into()),
                ..base.clone()
            });
            filters.push(UsageRecordFilter {
                model: Some("gpt-4o-mini".into()),
                ..base.clone()
            });
            filters.push(UsageRecordFilter {
                provider: Some(String::new()),
                ..base
            });
        }
    }
    assert_totals_match_count(&store, &filters).await;
    // Retention cuts mid-day: the rollup still has the deleted records, the log must not count them.
    store
        .delete_usage_records_before(at(24 * 4 + 7))
        .await
        .unwrap();
    assert_totals_match_count(&store, &filters).await;
    // A late record older than the retention mark is counted too.
    let mut late = record(1000);
    late.created_at = at(2);
    store.insert_usage_records(&[late]).await.unwrap();
    assert_totals_match_count(&store, &filters).await;
    // An earlier cut never moves the mark back.
    store.delete_usage_records_before(at(1)).await.unwrap();
    assert_totals_match_count(&store, &filters).await;
}

#[tokio::test]
async fn global_reads_come_from_the_model_rollup_and_agree_with_the_full_one() {
    let store = memory_store().await;
    let batch: Vec<_> = (0..50)
        .map(|i| {
            let mut r = record(i);
            r.api_key_id = Some(format!("k{}", i % 4));
            r.model_served = Some(format!("m{}", i % 3));
            r
        })
        .collect();
    store.insert_usage_records(&batch).await.unwrap();
    store.insert_usage_records(&batch[..20]).await.unwrap();
    let global = store.usage_daily_breakdown(&all_days()).await.unwrap();
    let mut expected: BTreeMap<(String, String, String), UsageTotals> = BTreeMap::new();
    for row in store.list_usage_daily(&all_days()).await.unwrap() {
        expected
            .entry((row.key.day, row.key.model, row.key.provider))
            .or_default()
            .add(&row.totals);
    }
    let got: BTreeMap<_, _> = global
        .into_iter()
        .map(|r| ((r.day, r.model, r.provider), r.totals))
        .collect();
    assert_eq!(got, expected);
    assert_eq!(got.len(), 3);
}

#[tokio::test]
async fn the_api_and_every_token_class_round_trip_and_roll_up() {
    use gaia_core::InboundApi;
    let store = memory_store().await;
    let batch: Vec<_> = InboundApi::ALL
        .into_iter()
        .enumerate()
        .map(|(i, api)| {
            let i = i as u64;
            let mut r = record(10 + i);
            r.created_at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
                + chrono::Duration::minutes(i as i64);
            r.api = api;
            r.cached_tokens = 1 + i;
            r.cache_creation_tokens = 2 + i;
            r.reasoning_tokens = 3 + i;
            r
        })
        .collect();
    store.insert_usage_records(&batch).await.unwrap();

    // Every field reads back as written, newest first.
    let page = store
        .list_usage_records(&UsageRecordFilter::default(), 1, 10)
        .await
        .unwrap();
    let read: Vec<NewUsageRecord> = page.items.into_iter().rev().map(|s| s.record).collect();
    assert_eq!(read, batch);

    // The `api` filter selects exactly the records of that API, and counts them row by row (the rollup
    // does not keep the API).
    for (i, api) in InboundApi::ALL.into_iter().enumerate() {
        let filter = UsageRecordFilter {
            api: Some(api),
            ..Default::default()
        };
        let page = store.list_usage_records(&filter, 1, 10).await.unwrap();
        assert_eq!(page.total, 1, "{api}");
        assert_eq!(page.items[0].record, batch[i]);
    }
    let messages_today = UsageRecordFilter {
        api: Some(InboundApi::Messages),
        start: Some(Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()),
        end_before: Some(Utc.with_ymd_and_hms(2026, 3, 3, 0, 0, 0).unwrap()),
        ..Default::default()
    };
    assert_totals_match_count(&store, &[messages_today]).await;

    // Both rollups sum the new counters like `cached_tokens`.
    let rows = store.list_usage_daily(&all_days()).await.unwrap();
    assert_eq!(rows.len(), 1);
    let t = rows[0].totals;
    assert_eq!(
        (t.cached_tokens, t.cache_creation_tokens, t.reasoning_tokens),
        (1 + 2 + 3 + 4, 2 + 3 + 4 + 5, 3 + 4 + 5 + 6)
    );
    let global = store.usage_daily_breakdown(&all_days()).await.unwrap();
    assert_eq!(global.len(), 1);
    assert_eq!(global[0].totals, t);
}

#[tokio::test]
async fn a_record_naming_an_unknown_api_is_reported_corrupt_not_misread() {
    use sea_orm::ConnectionTrait;
    let store = memory_store().await;
    store.insert_usage_records(&[record(1)]).await.unwrap();
    store
        .conn()
        .execute_unprepared("UPDATE usage_records SET api = 'batches'")
        .await
        .unwrap();
    let err = store
        .list_usage_records(&UsageRecordFilter::default(), 1, 10)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, crate::StoreError::Corrupt(m) if m.contains("'batches'")),
        "{err:?}"
    );
}
