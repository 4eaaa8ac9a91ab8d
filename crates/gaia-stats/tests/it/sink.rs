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
    // 272 since the record names its inbound API and keeps cache-write and reasoning tokens (two
    // counters and a one-byte enum): the bound is the queue's memory budget per record, not a timing.
    assert!(inline <= 288, "{inline}");
}

// ---------------------------------------------------------------- a record the database refuses

/// A trigger that makes the database itself refuse the row whose request id is `poison` — with a data
/// exception (SQLSTATE 22000; SQLite: a constraint abort), as PostgreSQL refused a NUL in text — and
/// accept every other.
fn poison_trigger(backend: gaia_store::Backend) -> Vec<&'static str> {
    match backend {
        gaia_store::Backend::Sqlite => vec![
            "CREATE TRIGGER poison BEFORE INSERT ON usage_records WHEN NEW.request_id = 'poison' \
             BEGIN SELECT RAISE(ABORT, 'poisoned row'); END",
        ],
        gaia_store::Backend::Postgres => vec![
            "CREATE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN \
             IF NEW.request_id = 'poison' THEN RAISE EXCEPTION 'poisoned row' USING ERRCODE = '22000'; END IF; \
             RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER poison BEFORE INSERT ON usage_records FOR EACH ROW EXECUTE FUNCTION refuse_poison()",
        ],
        gaia_store::Backend::MySql => vec![
            "CREATE TRIGGER poison BEFORE INSERT ON usage_records FOR EACH ROW BEGIN \
             IF NEW.request_id = 'poison' THEN SIGNAL SQLSTATE '22000' SET MESSAGE_TEXT = 'poisoned row'; END IF; END",
        ],
    }
}

/// The defect this guards against: one record the database refused (a NUL in PostgreSQL text) failed its
/// whole batch, the writer retried that batch forever, and every later record queued behind it — the
/// statistics and monthly limits stopped seeing usage. Now the batch is split until the refused record
/// stands alone; the 1,000 others are written (raw rows and rollup), the refused one is set aside in
/// `usage_rejects` and counted, and records after it are written too.
async fn a_refused_record_in_a_batch_of_1000_is_set_aside_and_the_1000_are_written(db: ScratchDb) {
    let store = db.store().await;
    for sql in poison_trigger(store.backend()) {
        db.execute(sql).await;
    }
    let seen = Arc::new(Counting(AtomicU64::new(0)));
    let sink = UsageSink::start(
        store.clone(),
        SinkConfig {
            batch_size: 2000,
            flush_interval: Duration::from_millis(300),
            ..fast_retries()
        },
        Some(seen.clone()),
    );
    for i in 0..500 {
        sink.record(simple(i));
    }
    let mut poison = simple(10_000);
    poison.request_id = "poison".into();
    sink.record(poison);
    for i in 500..1000 {
        sink.record(simple(i));
    }
    wait_until("the 1,000 good records", || sink.counters().written == 1000).await;
    // The writer is not stuck: a record after the poisoned batch is written too.
    sink.record(simple(20_000));
    sink.shutdown().await;
    let c = sink.counters();
    assert_eq!(
        (c.written, c.rejected, c.dropped),
        (1001, 1, 0),
        "{} {c:?}",
        store.backend().as_str()
    );
    assert!(c.batches > 2, "the batch was split: {c:?}");
    assert_eq!(store.count_usage_records().await.unwrap(), 1001);
    assert_eq!(rollup_requests(&store).await, 1001);
    assert_eq!(
        seen.0.load(Ordering::Relaxed),
        1001,
        "observers see written records only"
    );
    let rejects = store.list_usage_rejects(10).await.unwrap();
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0].request_id, "poison");
    assert!(
        rejects[0].error.contains("poisoned row"),
        "{}",
        rejects[0].error
    );
    let kept: serde_json::Value = serde_json::from_str(&rejects[0].record).unwrap();
    assert_eq!(kept["request_id"], "poison");
    assert_eq!(kept["model_requested"], simple(10_000).model_requested);
}

#[tokio::test]
async fn a_refused_record_in_a_batch_of_1000_is_set_aside_and_the_1000_are_written_on_sqlite() {
    a_refused_record_in_a_batch_of_1000_is_set_aside_and_the_1000_are_written(
        ScratchDb::sqlite().await,
    )
    .await;
}

#[tokio::test]
async fn a_refused_record_in_a_batch_of_1000_is_set_aside_and_the_1000_are_written_on_postgres() {
    if let Some(db) = ScratchDb::postgres().await {
        a_refused_record_in_a_batch_of_1000_is_set_aside_and_the_1000_are_written(db).await;
    }
}

#[tokio::test]
async fn a_refused_record_in_a_batch_of_1000_is_set_aside_and_the_1000_are_written_on_mysql() {
    if let Some(db) = ScratchDb::mysql().await {
        a_refused_record_in_a_batch_of_1000_is_set_aside_and_the_1000_are_written(db).await;
    }
}

/// Text a request or an upstream fills — NUL and other control characters, 4-byte UTF-8, values longer
/// than their columns — in every text field of a record is stored on every backend, escaped and cut at a
/// character boundary, in the same batch as ordinary records; nothing is refused.
async fn hostile_text_in_every_field_is_stored(db: ScratchDb) {
    let store = db.store().await;
    let sink = UsageSink::start(store.clone(), fast_retries(), None);
    let nasty = |base: &str, n: usize| format!("{base}\u{0}\u{1}\u{7f}\n🚀{}", "é".repeat(n));
    let mut r = simple(1);
    r.request_id = nasty("req", 100);
    r.api_key_id = Some(nasty("k", 50));
    r.organization_id = Some(nasty("o", 50));
    r.model_requested = nasty("openai/gpt-4o-mini", 400);
    r.model_served = Some(nasty("openai/x", 400));
    r.provider = Some(nasty("prov", 100));
    r.error_code = Some(nasty("code", 100));
    sink.record(simple(2));
    sink.record(r);
    sink.record(simple(3));
    sink.shutdown().await;
    let c = sink.counters();
    assert_eq!(
        (c.written, c.rejected),
        (3, 0),
        "{}",
        store.backend().as_str()
    );
    let page = store
        .list_usage_records(&gaia_store::usage::UsageRecordFilter::default(), 1, 10)
        .await
        .unwrap();
    let stored = page
        .items
        .iter()
        .find(|s| s.record.request_id.starts_with("req\\u{0}"))
        .unwrap();
    let rec = &stored.record;
    assert!(
        rec.model_requested
            .starts_with("openai/gpt-4o-mini\\u{0}\\u{1}\\u{7f}\\u{a}🚀é"),
        "{:?}",
        rec.model_requested
    );
    assert_eq!(rec.model_requested.chars().count(), 256);
    assert_eq!(rec.request_id.chars().count(), 64);
    for text in [
        Some(&rec.request_id),
        Some(&rec.model_requested),
        rec.model_served.as_ref(),
        rec.provider.as_ref(),
        rec.error_code.as_ref(),
        rec.api_key_id.as_ref(),
        rec.organization_id.as_ref(),
    ] {
        let text = text.unwrap();
        assert!(!text.chars().any(char::is_control), "{text:?}");
    }
    assert_eq!(rollup_requests(&store).await, 3);
}

#[tokio::test]
async fn hostile_text_in_every_field_is_stored_on_sqlite() {
    hostile_text_in_every_field_is_stored(ScratchDb::sqlite().await).await;
}

#[tokio::test]
async fn hostile_text_in_every_field_is_stored_on_postgres() {
    if let Some(db) = ScratchDb::postgres().await {
        hostile_text_in_every_field_is_stored(db).await;
    }
}

#[tokio::test]
async fn hostile_text_in_every_field_is_stored_on_mysql() {
    if let Some(db) = ScratchDb::mysql().await {
        hostile_text_in_every_field_is_stored(db).await;
    }
}
