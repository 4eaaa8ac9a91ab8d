//! The sink: bursts are recorded completely, shutdown drains the queue, an outage loses nothing, and the
//! memory bound drops (and counts) only past the queue.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use gaia_stats::{NewUsageRecord, SinkConfig, UsageObserver, UsageSink};
use gaia_store::Store;
use gaia_store::usage::DailyFilter;

use crate::helpers::{ScratchDb, simple};

fn fast_retries() -> SinkConfig {
    SinkConfig {
        retry_initial: Duration::from_millis(20),
        retry_max: Duration::from_millis(200),
        ..SinkConfig::default()
    }
}

async fn rollup_requests(store: &Store) -> i64 {
    let all = DailyFilter {
        first_day: NaiveDate::MIN,
        last_day: NaiveDate::MAX,
        organization_id: None,
        api_key_id: None,
    };
    store
        .list_usage_daily(&all)
        .await
        .unwrap()
        .iter()
        .map(|r| r.totals.requests)
        .sum()
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn a_burst_of_concurrent_records_is_written_completely(db: ScratchDb) {
    let store = db.store().await;
    let sink = UsageSink::start(store.clone(), SinkConfig::default(), None);
    let started = Instant::now();
    let tasks: Vec<_> = (0..50u64)
        .map(|t| {
            let sink = sink.clone();
            tokio::spawn(async move {
                for i in 0..200u64 {
                    sink.record(simple(t * 1000 + i));
                    if i % 50 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let enqueued = started.elapsed();
    sink.shutdown().await;
    let counters = sink.counters();
    eprintln!(
        "burst of 10000 ({}): enqueued in {enqueued:?}, written in {:?}, {} batches",
        store.backend().as_str(),
        started.elapsed(),
        counters.batches
    );
    assert_eq!(counters.dropped, 0);
    assert_eq!(counters.written, 10_000);
    assert_eq!(counters.queued, 0);
    assert_eq!(store.count_usage_records().await.unwrap(), 10_000);
    assert_eq!(rollup_requests(&store).await, 10_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_concurrent_records_is_written_completely_on_sqlite() {
    a_burst_of_concurrent_records_is_written_completely(ScratchDb::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_concurrent_records_is_written_completely_on_postgres() {
    if let Some(db) = ScratchDb::postgres().await {
        a_burst_of_concurrent_records_is_written_completely(db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_concurrent_records_is_written_completely_on_mysql() {
    if let Some(db) = ScratchDb::mysql().await {
        a_burst_of_concurrent_records_is_written_completely(db).await;
    }
}

#[tokio::test]
async fn shutdown_writes_everything_queued_and_later_records_are_counted_as_dropped() {
    let db = ScratchDb::sqlite().await;
    let store = db.store().await;
    // A flush interval far longer than the test: only shutdown can have written these.
    let sink = UsageSink::start(
        store.clone(),
        SinkConfig {
            flush_interval: Duration::from_secs(3600),
            ..SinkConfig::default()
        },
        None,
    );
    for i in 0..10 {
        sink.record(simple(i));
    }
    sink.shutdown().await;
    assert_eq!(store.count_usage_records().await.unwrap(), 10);
    sink.record(simple(99));
    sink.shutdown().await;
    assert_eq!(sink.counters().dropped, 1);
    assert_eq!(store.count_usage_records().await.unwrap(), 10);
}

#[tokio::test]
async fn while_the_rollup_table_is_gone_nothing_is_written_or_lost_and_it_all_arrives_afterwards() {
    let db = ScratchDb::sqlite().await;
    let store = db.store().await;
    let sink = UsageSink::start(store.clone(), fast_retries(), None);
    sink.record(simple(0));
    wait_until("the first write", || sink.counters().written == 1).await;

    db.execute("ALTER TABLE usage_daily RENAME TO usage_daily_away")
        .await;
    for i in 1..=500 {
        sink.record(simple(i));
    }
    wait_until("failed attempts", || sink.counters().failed_attempts >= 3).await;
    // The raw insert and the rollup share a transaction: no raw rows without their rollup.
    assert_eq!(store.count_usage_records().await.unwrap(), 1);
    assert_eq!(sink.counters().written, 1);

    db.execute("ALTER TABLE usage_daily_away RENAME TO usage_daily")
        .await;
    sink.shutdown().await;
    let c = sink.counters();
    assert_eq!((c.written, c.dropped), (501, 0));
    assert_eq!(store.count_usage_records().await.unwrap(), 501);
    assert_eq!(rollup_requests(&store).await, 501);
}

#[tokio::test]
async fn while_postgres_refuses_connections_records_wait_and_are_written_when_it_is_back() {
    let Some(db) = ScratchDb::postgres().await else {
        return;
    };
    let store = db.store().await;
    let sink = UsageSink::start(store.clone(), fast_retries(), None);
    sink.record(simple(0));
    wait_until("the first write", || sink.counters().written == 1).await;

    let name = db
        .url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap();
    let admin = ScratchDb::postgres_server().unwrap();
    admin
        .execute(&format!(
            "ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false; \
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        ))
        .await;
    for i in 1..=300 {
        sink.record(simple(i));
    }
    wait_until("failed attempts", || sink.counters().failed_attempts >= 2).await;
    assert_eq!(sink.counters().written, 1);

    admin
        .execute(&format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS true"))
        .await;
    sink.shutdown().await;
    assert_eq!(sink.counters().written, 301);
    assert_eq!(store.count_usage_records().await.unwrap(), 301);
}

#[tokio::test]
async fn past_the_queue_bound_records_are_dropped_and_counted_and_the_rest_survive() {
    let db = ScratchDb::sqlite().await;
    let store = db.store().await;
    db.execute("ALTER TABLE usage_records RENAME TO usage_records_away")
        .await;
    let sink = UsageSink::start(
        store.clone(),
        SinkConfig {
            capacity: 10,
            batch_size: 5,
            ..fast_retries()
        },
        None,
    );
    // On this single-threaded runtime the writer cannot run during the loop: 10 fit, 90 are dropped.
    for i in 0..100 {
        sink.record(simple(i));
    }
    let c = sink.counters();
    assert_eq!((c.queued, c.dropped), (10, 90));
    wait_until("failed attempts", || sink.counters().failed_attempts >= 1).await;
    // The writer holds one batch of 5; 5 more wait in the queue.
    assert_eq!(sink.counters().in_flight, 5);

    db.execute("ALTER TABLE usage_records_away RENAME TO usage_records")
        .await;
    sink.shutdown().await;
    assert_eq!(store.count_usage_records().await.unwrap(), 10);
    assert_eq!(sink.counters().dropped, 90);
}

#[tokio::test]
async fn shutdown_within_reports_what_could_not_be_written() {
    let db = ScratchDb::sqlite().await;
    let store = db.store().await;
    db.execute("ALTER TABLE usage_records RENAME TO usage_records_away")
        .await;
    let sink = UsageSink::start(store, fast_retries(), None);
    for i in 0..7 {
        sink.record(simple(i));
    }
    let err = sink
        .shutdown_within(Duration::from_millis(300))
        .await
        .unwrap_err();
    assert_eq!(err.0, 7);
}

#[derive(Default)]
struct Counting(AtomicU64);

impl UsageObserver for Counting {
    fn observed(&self, batch: &[NewUsageRecord]) {
        self.0.fetch_add(batch.len() as u64, Ordering::Relaxed);
    }
}

#[tokio::test]
async fn the_observer_sees_every_written_record_once() {
    let db = ScratchDb::sqlite().await;
    let observer = Arc::new(Counting::default());
    let sink = UsageSink::start(
        db.store().await,
        SinkConfig {
            batch_size: 7,
            ..SinkConfig::default()
        },
        Some(observer.clone()),
    );
    for i in 0..100 {
        sink.record(simple(i));
    }
    sink.shutdown().await;
    assert_eq!(observer.0.load(Ordering::Relaxed), 100);
    assert!(sink.counters().batches >= 15);
}

#[test]
fn a_queued_record_is_a_few_hundred_bytes() {
    let inline = std::mem::size_of::<NewUsageRecord>();
    let r = simple(123_456);
    let heap: usize = [
        r.request_id.capacity(),
        r.api_key_id.as_ref().map_or(0, String::capacity),
        r.organization_id.as_ref().map_or(0, String::capacity),
        r.model_requested.capacity(),
        r.model_served.as_ref().map_or(0, String::capacity),
        r.provider.as_ref().map_or(0, String::capacity),
    ]
    .iter()
    .sum();
    eprintln!("NewUsageRecord: {inline} bytes inline + {heap} bytes of strings (test values)");
    assert!(inline <= 256, "{inline}");
}
