//! Migration 16 on SQLite, PostgreSQL and MySQL: a usage record names its inbound API and keeps every token
//! class. Records written before it read as chat completions with no cache-write or reasoning tokens, the
//! rollups they were summed into keep adding up, and new records round-trip and filter by API.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{TimeZone, Utc};
use gaia_core::InboundApi;
use gaia_store::usage::{DailyFilter, NewUsageRecord, UsageRecordFilter};
use gaia_store::{Store, StoreOptions, testing};

/// The rollup tables' columns before migration 16.
const OLD_COUNTERS: &str = "requests, errors, prompt_tokens, completion_tokens, cached_tokens, total_tokens, \
                            cost_nanos, total_latency_ms_sum, unpriced_requests";

fn record(i: u64, api: InboundApi) -> NewUsageRecord {
    NewUsageRecord {
        request_id: format!("new-{i}"),
        created_at: Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap()
            + chrono::Duration::seconds(i as i64),
        api_key_id: None,
        organization_id: None,
        model_requested: "anthropic/claude-sonnet-4-5".into(),
        model_served: Some("anthropic/claude-sonnet-4-5".into()),
        provider: Some("anthropic".into()),
        stream: i.is_multiple_of(2),
        status_code: 200,
        error_code: None,
        prompt_tokens: 1000,
        completion_tokens: 200,
        cached_tokens: 300 + i,
        total_tokens: 1200,
        cost_nanos: 42,
        estimated: false,
        upstream_latency_ms: Some(7),
        ttft_ms: Some(3),
        total_latency_ms: 9,
        attempts: Some(1),
        unpriced: false,
        api,
        cache_creation_tokens: 100 + i,
        reasoning_tokens: 50 + i,
    }
}

async fn records_before_the_migration_read_as_chat_completions(url: &str) {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::{ConnectionTrait, Database};

    let db = Database::connect(url).await.unwrap();
    Migrator::up(&db, Some(15)).await.unwrap();
    db.execute_unprepared(
        "INSERT INTO usage_records (request_id, created_at, model_requested, model_served, provider, stream, \
         status_code, prompt_tokens, completion_tokens, cached_tokens, total_tokens, cost_nanos, estimated, \
         total_latency_ms, attempts, unpriced) VALUES ('old-1', '2026-11-01 00:00:00', \
         'anthropic/claude-sonnet-4-5', 'anthropic/claude-sonnet-4-5', 'anthropic', false, 200, 10, 5, 2, 15, \
         7, false, 4, 1, false)",
    )
    .await
    .unwrap();
    for (table, dims, values) in [
        (
            "usage_daily",
            "day, organization_id, api_key_id, model, provider",
            "'2026-11-01', '', '', 'anthropic/claude-sonnet-4-5', 'anthropic'",
        ),
        (
            "usage_daily_models",
            "day, model, provider",
            "'2026-11-01', 'anthropic/claude-sonnet-4-5', 'anthropic'",
        ),
    ] {
        db.execute_unprepared(&format!(
            "INSERT INTO {table} ({dims}, {OLD_COUNTERS}) VALUES ({values}, 1, 0, 10, 5, 2, 15, 7, 4, 0)"
        ))
        .await
        .unwrap();
    }
    db.close().await.unwrap();

    let store = Store::connect_and_migrate(url, &StoreOptions::default())
        .await
        .unwrap();
    // Migrating again is a no-op (every step is skipped when done).
    store.migrate().await.unwrap();
    let page = store
        .list_usage_records(&UsageRecordFilter::default(), 1, 10)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    let old = &page.items[0].record;
    assert_eq!(old.request_id, "old-1");
    assert_eq!(old.api, InboundApi::ChatCompletions);
    assert_eq!(
        (
            old.cached_tokens,
            old.cache_creation_tokens,
            old.reasoning_tokens
        ),
        (2, 0, 0)
    );

    let batch: Vec<_> = InboundApi::ALL
        .into_iter()
        .zip(1..)
        .map(|(api, i)| record(i, api))
        .collect();
    store.insert_usage_records(&batch).await.unwrap();

    // New records round-trip whole, newest first, after the old one.
    let page = store
        .list_usage_records(&UsageRecordFilter::default(), 1, 10)
        .await
        .unwrap();
    let mut read: Vec<NewUsageRecord> = page.items.into_iter().map(|s| s.record).collect();
    assert_eq!(read.pop().map(|r| r.request_id).as_deref(), Some("old-1"));
    read.reverse();
    // Timestamps are compared to the microsecond: what every backend keeps.
    assert_eq!(read, batch);

    // Filtering by API: the old record counts as a chat completion.
    for (api, expected) in [
        (InboundApi::ChatCompletions, vec!["new-1", "old-1"]),
        (InboundApi::Messages, vec!["new-2"]),
        (InboundApi::Responses, vec!["new-3"]),
        (InboundApi::Embeddings, vec!["new-4"]),
    ] {
        let filter = UsageRecordFilter {
            api: Some(api),
            ..Default::default()
        };
        let page = store.list_usage_records(&filter, 1, 10).await.unwrap();
        let ids: Vec<_> = page
            .items
            .iter()
            .map(|s| s.record.request_id.as_str())
            .collect();
        assert_eq!(
            (page.total, ids),
            (expected.len() as u64, expected),
            "{api}"
        );
    }

    // Both rollups kept the old row's sums and added the new counters to it.
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let filter = DailyFilter {
        first_day: day,
        last_day: day,
        organization_id: None,
        api_key_id: None,
    };
    let full = store.list_usage_daily(&filter).await.unwrap();
    assert_eq!(full.len(), 1);
    let t = full[0].totals;
    assert_eq!(t.requests, 5);
    assert_eq!(t.cached_tokens, 2 + 301 + 302 + 303 + 304);
    assert_eq!(t.cache_creation_tokens, 101 + 102 + 103 + 104);
    assert_eq!(t.reasoning_tokens, 51 + 52 + 53 + 54);
    let global = store.usage_daily_breakdown(&filter).await.unwrap();
    assert_eq!(global.len(), 1);
    assert_eq!(global[0].totals, t);
    store.close().await.unwrap();
}

#[tokio::test]
async fn records_before_the_migration_read_as_chat_completions_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    records_before_the_migration_read_as_chat_completions(&testing::sqlite_file_url(dir.path()))
        .await;
}

#[tokio::test]
async fn records_before_the_migration_read_as_chat_completions_on_postgres() {
    let Some(server) = testing::postgres_url().unwrap() else {
        return;
    };
    let url = testing::create_postgres_database(&server).await.unwrap();
    records_before_the_migration_read_as_chat_completions(&url).await;
}

#[tokio::test]
async fn records_before_the_migration_read_as_chat_completions_on_mysql() {
    let Some(server) = testing::mysql_url().unwrap() else {
        return;
    };
    let url = testing::create_mysql_database(&server).await.unwrap();
    records_before_the_migration_read_as_chat_completions(&url).await;
}
