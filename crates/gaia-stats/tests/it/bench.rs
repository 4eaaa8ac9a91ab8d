//! Statistics query latency over a large load (ignored by default; `make bench` material):
//! `GAIA_BENCH_RECORDS=1000000 cargo test -p gaia-stats --release --test it bench -- --ignored --nocapture`.

use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use gaia_stats::{
    GroupBy, NewUsageRecord, Period, Scope, StatsQuery, StatsService, StatusFilter,
    UsageRecordFilter,
};
use gaia_store::Store;

use crate::helpers::ScratchDb;

const MODELS: [(&str, &str); 8] = [
    ("gpt-4o-mini", "openai"),
    ("gpt-4o", "openai"),
    ("o3-mini", "openai"),
    ("claude-sonnet-4-5", "anthropic"),
    ("claude-haiku-4-5", "anthropic"),
    ("gemini-2.5-flash", "google"),
    ("gemini-2.5-pro", "google"),
    ("meta-llama/llama-3.3-70b", "openrouter"),
];

/// 90 days up to `end`, 5 organizations × 8 keys, 8 models, 5% errors.
fn record(i: u64, end: chrono::DateTime<Utc>) -> NewUsageRecord {
    let mix = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let key = (mix >> 8) % 40;
    let (model, provider) = MODELS[((mix >> 16) % 8) as usize];
    NewUsageRecord {
        request_id: format!("0192f0c4-7d1e-7c3a-9d55-{i:012}"),
        created_at: end - Duration::seconds(((mix >> 24) % (90 * 86_400)) as i64),
        api_key_id: Some(format!("0192f0c4-0000-7000-8000-{key:012}")),
        organization_id: Some(format!("0192f0c4-0000-7000-9000-{:012}", key % 5)),
        model_requested: format!("{provider}/{model}"),
        model_served: Some(model.to_owned()),
        provider: Some(provider.to_owned()),
        stream: mix.is_multiple_of(3),
        status_code: if mix.is_multiple_of(20) { 502 } else { 200 },
        error_code: None,
        prompt_tokens: mix % 2000,
        completion_tokens: (mix >> 4) % 800,
        cached_tokens: 0,
        total_tokens: mix % 2000 + (mix >> 4) % 800,
        cost_nanos: (mix % 5_000_000) as i64,
        estimated: false,
        upstream_latency_ms: Some(((mix >> 32) % 3000) as u32),
        ttft_ms: None,
        total_latency_ms: ((mix >> 32) % 3000) as u32 + 5,
        attempts: Some(1),
        unpriced: false,
        api: gaia_core::InboundApi::ChatCompletions,
        cache_creation_tokens: 0,
        reasoning_tokens: 0,
    }
}

async fn load(store: &Store, n: u64, end: chrono::DateTime<Utc>) {
    let started = Instant::now();
    let mut i = 0;
    while i < n {
        let batch: Vec<NewUsageRecord> = (i..(i + 5_000).min(n)).map(|j| record(j, end)).collect();
        store.insert_usage_records(&batch).await.unwrap();
        i += batch.len() as u64;
    }
    eprintln!("loaded {n} records in {:?}", started.elapsed());
}

async fn timed<T>(name: &str, f: impl std::future::Future<Output = T>) -> T {
    let started = Instant::now();
    let out = f.await;
    eprintln!(
        "  {name:<44} {:>8.2} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    out
}

async fn bench(db: ScratchDb) {
    let n: u64 = std::env::var("GAIA_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let store = db.store().await;
    let end = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
    load(&store, n, end).await;
    let stats = StatsService::new(store.clone());
    let today = end.date_naive();
    let last30 = Period::new(today - Duration::days(29), today).unwrap();
    let last90 = Period::new(today - Duration::days(89), today).unwrap();
    let org = "0192f0c4-0000-7000-9000-000000000003".to_owned();
    let key = "0192f0c4-0000-7000-8000-000000000013".to_owned();
    eprintln!("{} ({n} records):", store.backend().as_str());
    for round in 0..2 {
        eprintln!(" round {round}");
        for (name, scope, period, group_by) in [
            (
                "global, 30 days by day",
                Scope::Global,
                last30,
                GroupBy::Day,
            ),
            (
                "global, 90 days by week",
                Scope::Global,
                last90,
                GroupBy::Week,
            ),
            (
                "organization, 30 days by day",
                Scope::Organization(org.clone()),
                last30,
                GroupBy::Day,
            ),
            (
                "key, 90 days by month",
                Scope::ApiKey(key.clone()),
                last90,
                GroupBy::Month,
            ),
        ] {
            let q = StatsQuery {
                scope,
                period,
                group_by,
            };
            timed(name, stats.stats(&q)).await.unwrap();
        }
        timed("month usage (all orgs and keys)", stats.month_usage(today))
            .await
            .unwrap();
        timed(
            "request log, page 1 of everything",
            stats.requests(&UsageRecordFilter::default(), 1, 20),
        )
        .await
        .unwrap();
        let filter = UsageRecordFilter {
            api_key_id: Some(key.clone()),
            status: Some(StatusFilter::Error),
            ..Default::default()
        };
        timed(
            "request log, one key's errors",
            stats.requests(&filter, 1, 20),
        )
        .await
        .unwrap();
    }
}

#[tokio::test]
#[ignore = "benchmark: loads GAIA_BENCH_RECORDS (default 100000) records"]
async fn bench_statistics_queries_on_sqlite() {
    let db = ScratchDb::sqlite().await;
    eprintln!("database: {}", db.url);
    bench(db).await;
}

#[tokio::test]
#[ignore = "benchmark: loads GAIA_BENCH_RECORDS (default 100000) records"]
async fn bench_statistics_queries_on_postgres() {
    if let Some(db) = ScratchDb::postgres().await {
        bench(db).await;
    }
}

/// One number from a query on PostgreSQL.
async fn pg_number(url: &str, sql: &str) -> f64 {
    use sea_orm::{ConnectionTrait, Database, Statement};
    let db = Database::connect(url).await.unwrap();
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    let v: f64 = row.try_get_by_index(0).unwrap();
    db.close().await.unwrap();
    v
}

/// The write path at scale (issue 18's capacity model): three usage writers — three instances, each
/// with its own connection pool and default sink settings — write at once to one PostgreSQL database as
/// fast as they are fed (queues kept below capacity, so nothing is dropped). Prints records/s, batches,
/// statements per batch, and bytes per stored record and per rollup row. `make bench` runs it in release
/// (scripts/bench.sh; the figures are in docs/deployment's capacity model).
#[tokio::test]
#[ignore = "benchmark: writes GAIA_BENCH_WRITES (default 300000) records through three usage writers"]
async fn bench_three_usage_writers_on_postgres() {
    let Some(db) = ScratchDb::postgres().await else {
        return;
    };
    let total: u64 = std::env::var("GAIA_BENCH_WRITES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300_000);
    let per_writer = total / 3;
    let end = Utc::now();
    let mut writers = Vec::new();
    for _ in 0..3 {
        // Each instance connects as a gateway does (its own pool of its default size).
        let store = Store::connect(&db.url, &gaia_store::StoreOptions::default())
            .await
            .unwrap();
        if writers.is_empty() {
            store.migrate().await.unwrap();
        }
        writers.push((
            store.clone(),
            gaia_stats::UsageSink::start(store, gaia_stats::SinkConfig::default(), None),
        ));
    }
    let capacity = gaia_stats::SinkConfig::default().capacity as u64;
    let wal = "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::float8";
    let wal_before = pg_number(&db.url, wal).await;
    let started = Instant::now();
    let feeds = writers.iter().enumerate().map(|(w, (_, sink))| {
        let sink = sink.clone();
        async move {
            let mut sent = 0u64;
            while sent < per_writer {
                let c = sink.counters();
                // Keep the queue below capacity: what is measured is the writer, not drops.
                if sent - c.written < capacity / 2 {
                    for j in 0..1000.min(per_writer - sent) {
                        // 90 days, 40 keys, 8 models: rollup rows as a real tenant set makes them.
                        sink.record(record((w as u64) * per_writer + sent + j, end));
                    }
                    sent += 1000.min(per_writer - sent);
                } else {
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                }
            }
            while sink.counters().written < per_writer {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            started.elapsed()
        }
    });
    let times = futures_util::future::join_all(feeds).await;
    let elapsed = started.elapsed();
    let mut batches = 0;
    let mut statements = 0;
    for (store, sink) in &writers {
        let c = sink.counters();
        assert_eq!(c.dropped, 0, "records were dropped");
        assert_eq!(c.written, per_writer);
        batches += c.batches;
        statements += store.statement_counts().other;
    }
    let written = per_writer * 3;
    // The whole cluster's WAL: other databases on it add their own (none run during `make bench`).
    let wal_bytes = pg_number(&db.url, wal).await - wal_before;
    let rows = pg_number(&db.url, "SELECT count(*)::float8 FROM usage_records").await;
    assert_eq!(rows as u64, written, "every record is stored once");
    let record_bytes = pg_number(
        &db.url,
        "SELECT pg_total_relation_size('usage_records')::float8",
    )
    .await;
    let daily_rows = pg_number(&db.url, "SELECT count(*)::float8 FROM usage_daily").await
        + pg_number(&db.url, "SELECT count(*)::float8 FROM usage_daily_models").await;
    let daily_bytes = pg_number(&db.url, "SELECT (pg_total_relation_size('usage_daily') + pg_total_relation_size('usage_daily_models'))::float8").await;
    let record_tuple = pg_number(
        &db.url,
        "SELECT avg(pg_column_size(u.*))::float8 FROM usage_records u",
    )
    .await;
    eprintln!("write path: 3 usage writers on one PostgreSQL, {written} records");
    eprintln!(
        "  records/s (all three)     {:>10.0}",
        written as f64 / elapsed.as_secs_f64()
    );
    for (i, t) in times.iter().enumerate() {
        eprintln!(
            "  records/s (writer {i})      {:>10.0}",
            per_writer as f64 / t.as_secs_f64()
        );
    }
    eprintln!("  batches                   {batches:>10}");
    eprintln!(
        "  records per batch         {:>10.1}",
        written as f64 / batches.max(1) as f64
    );
    eprintln!(
        "  statements per batch      {:>10.1}",
        statements as f64 / batches.max(1) as f64
    );
    eprintln!(
        "  bytes per usage record    {:>10.0}  (table, TOAST and indexes; the row alone {record_tuple:.0})",
        record_bytes / written as f64
    );
    eprintln!(
        "  WAL per usage record      {:>10.0}  bytes",
        wal_bytes / written as f64
    );
    eprintln!(
        "  rollup rows               {:>10.0}  ({:.0} bytes each)",
        daily_rows,
        daily_bytes / daily_rows.max(1.0)
    );
}
