//! The usage sink: a bounded queue between the request path and a background writer.
//!
//! - **Never blocks.** [`UsageSink::record`] is a `try_send`: it costs a few hundred nanoseconds and never
//!   waits for the database.
//! - **Batches.** The writer takes up to [`SinkConfig::batch_size`] records: when the first one arrives
//!   it sleeps for [`SinkConfig::flush_interval`] (rather than waking for every record), then takes what
//!   has queued, and writes them with one
//!   [`Store::insert_usage_records`] call (raw rows and the daily rollup in one transaction).
//! - **Retries, bounded memory.** A failed write is retried with exponential backoff (capped at
//!   [`SinkConfig::retry_max`]) until it succeeds; meanwhile new records wait in the queue.
//! - **One bad record never blocks the rest.** When the database refuses the rows themselves (a value it
//!   cannot store: [`StoreError::refuses_rows`]) rather than failing as a whole, the batch is split in
//!   halves until each refused record stands alone; every other record is written, and the refused one
//!   is set aside in `usage_rejects` with the database's reason, counted in [`SinkCounters::rejected`] and
//!   logged with its request id. Memory is
//!   bounded by the queue plus the one batch being written: a record is 248 bytes inline plus its strings
//!   (ids, models, provider: ≈ 250 bytes with allocator overhead), so the default 100,000 is ≈ 50 MB. Past the bound, records are dropped, counted in [`SinkCounters::dropped`] and logged as a
//!   warning at most once per second — never silently.
//! - **Drains on shutdown.** [`UsageSink::shutdown`] stops accepting records and returns once everything
//!   queued has been written.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gaia_store::usage::NewUsageRecord;
use gaia_store::{Store, StoreError};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Sink tuning. The defaults suit production.
#[derive(Debug, Clone)]
pub struct SinkConfig {
    /// Records the queue holds before `record` starts dropping.
    pub capacity: usize,
    /// Most records written per batch.
    pub batch_size: usize,
    /// Longest a record waits for its batch to fill.
    pub flush_interval: Duration,
    /// First retry delay after a failed write; doubles per failure.
    pub retry_initial: Duration,
    /// Longest retry delay.
    pub retry_max: Duration,
}

impl Default for SinkConfig {
    fn default() -> Self {
        Self {
            capacity: 100_000,
            batch_size: 1000,
            flush_interval: Duration::from_millis(200),
            retry_initial: Duration::from_millis(100),
            retry_max: Duration::from_secs(5),
        }
    }
}

/// Learns what was actually used, after each successful write (e.g. the limits' month-to-date counters).
/// Called on the writer task: it must be quick and must not block.
pub trait UsageObserver: Send + Sync + 'static {
    fn observed(&self, batch: &[NewUsageRecord]);
}

/// A snapshot of the sink's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SinkCounters {
    /// Records written to the database.
    pub written: u64,
    /// Batches written.
    pub batches: u64,
    /// Write attempts that failed (each is retried).
    pub failed_attempts: u64,
    /// Records refused because the queue was full or the sink shut down.
    pub dropped: u64,
    /// Records the database refused even alone, set aside in `usage_rejects` (never retried, never
    /// blocking the others).
    pub rejected: u64,
    /// Records waiting in the queue.
    pub queued: u64,
    /// Records in the batch being written (or retried) right now.
    pub in_flight: u64,
}

#[derive(Debug, Default)]
struct Counters {
    written: AtomicU64,
    batches: AtomicU64,
    failed_attempts: AtomicU64,
    dropped: AtomicU64,
    rejected: AtomicU64,
    in_flight: AtomicU64,
    /// Milliseconds since `started` before which no drop warning is logged again.
    next_drop_warning_ms: AtomicU64,
}

struct Shared {
    counters: Arc<Counters>,
    started: Instant,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    writer: tokio::sync::Mutex<Option<JoinHandle<()>>>,
}

/// The handle the request path records through. Cheap to clone; all clones feed one writer.
#[derive(Clone)]
pub struct UsageSink {
    tx: mpsc::Sender<NewUsageRecord>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for UsageSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsageSink")
            .field("counters", &self.counters())
            .finish()
    }
}

/// Records left unwritten when [`UsageSink::shutdown_within`] gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unwritten(pub u64);

impl std::fmt::Display for Unwritten {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} usage records were not written", self.0)
    }
}

impl std::error::Error for Unwritten {}

impl UsageSink {
    /// Starts the writer on the current tokio runtime.
    pub fn start(
        store: Store,
        config: SinkConfig,
        observer: Option<Arc<dyn UsageObserver>>,
    ) -> Self {
        let config = SinkConfig {
            capacity: config.capacity.max(1),
            batch_size: config.batch_size.max(1),
            ..config
        };
        let (tx, rx) = mpsc::channel(config.capacity);
        let (stop_tx, stop_rx) = oneshot::channel();
        let counters = Arc::new(Counters::default());
        let writer = Writer {
            store,
            config,
            observer,
            counters: counters.clone(),
        };
        let handle = tokio::spawn(writer.run(rx, stop_rx));
        let shared = Arc::new(Shared {
            counters,
            started: Instant::now(),
            stop: Mutex::new(Some(stop_tx)),
            writer: tokio::sync::Mutex::new(Some(handle)),
        });
        Self { tx, shared }
    }

    /// Queues a record for writing. Never blocks; when the queue is full (or the sink is shut down) the
    /// record is dropped, counted and logged.
    pub fn record(&self, record: NewUsageRecord) {
        match self.tx.try_send(record) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => self.note_drop("the usage queue is full"),
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.note_drop("the usage sink is shut down");
            }
        }
    }

    fn note_drop(&self, reason: &'static str) {
        let c = &self.shared.counters;
        let dropped = c.dropped.fetch_add(1, Ordering::Relaxed) + 1;
        let now_ms = u64::try_from(self.shared.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let next = c.next_drop_warning_ms.load(Ordering::Relaxed);
        if now_ms >= next
            && c.next_drop_warning_ms
                .compare_exchange(next, now_ms + 1000, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                dropped_total = dropped,
                capacity = self.tx.max_capacity(),
                reason,
                "usage records dropped: statistics and usage limits will under-count"
            );
        }
    }

    /// The sink's counters now.
    pub fn counters(&self) -> SinkCounters {
        let c = &self.shared.counters;
        SinkCounters {
            written: c.written.load(Ordering::Relaxed),
            batches: c.batches.load(Ordering::Relaxed),
            failed_attempts: c.failed_attempts.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            rejected: c.rejected.load(Ordering::Relaxed),
            queued: (self.tx.max_capacity() - self.tx.capacity()) as u64,
            in_flight: c.in_flight.load(Ordering::Relaxed),
        }
    }

    /// Stops accepting records and waits until everything queued is written (retrying through database
    /// failures for as long as it takes). Idempotent; concurrent calls all wait for the same drain.
    pub async fn shutdown(&self) {
        if let Ok(mut stop) = self.shared.stop.lock()
            && let Some(tx) = stop.take()
        {
            let _ = tx.send(());
        }
        let mut writer = self.shared.writer.lock().await;
        if let Some(handle) = writer.take()
            && let Err(e) = handle.await
        {
            tracing::error!(error = %e, "the usage writer task failed");
        }
    }

    /// [`shutdown`](Self::shutdown), giving up after `timeout`: returns how many records were left
    /// unwritten (and logs them as an error) if the database did not come back in time.
    pub async fn shutdown_within(&self, timeout: Duration) -> Result<(), Unwritten> {
        if tokio::time::timeout(timeout, self.shutdown()).await.is_ok() {
            return Ok(());
        }
        let c = self.counters();
        let lost = c.queued + c.in_flight;
        tracing::error!(
            unwritten = lost,
            "usage records could not be written before shutdown; they are lost"
        );
        Err(Unwritten(lost))
    }
}

struct Writer {
    store: Store,
    config: SinkConfig,
    observer: Option<Arc<dyn UsageObserver>>,
    counters: Arc<Counters>,
}

impl Writer {
    async fn run(self, mut rx: mpsc::Receiver<NewUsageRecord>, mut stop: oneshot::Receiver<()>) {
        let size = self.config.batch_size;
        let mut batch: Vec<NewUsageRecord> = Vec::with_capacity(size);
        let mut stopping = false;
        loop {
            if stopping {
                // Closed: take what is left, a batch at a time; 0 means drained.
                if rx.recv_many(&mut batch, size).await == 0 {
                    break;
                }
            } else {
                tokio::select! {
                    biased;
                    _ = &mut stop => {
                        stopping = true;
                        rx.close();
                        continue;
                    }
                    n = rx.recv_many(&mut batch, size) => if n == 0 { break },
                }
                if batch.len() < size {
                    // Let the batch fill until the deadline without waking for every record: each wake
                    // would be a cross-thread switch paid by the request path.
                    let deadline = Instant::now() + self.config.flush_interval;
                    tokio::select! {
                        biased;
                        _ = &mut stop => {
                            stopping = true;
                            rx.close();
                        }
                        _ = tokio::time::sleep_until(deadline) => {}
                    }
                    while batch.len() < size {
                        match rx.try_recv() {
                            Ok(record) => batch.push(record),
                            Err(_) => break,
                        }
                    }
                }
            }
            self.write(&batch).await;
            batch.clear();
        }
        tracing::debug!("usage writer stopped: queue drained");
    }

    /// Writes one batch. Failures the database would give again for the same rows (a value it refuses)
    /// split the batch until each refused record stands alone; that record is set aside and every other
    /// one written. Any other failure (connection lost, timeout, deadlock) is retried with backoff until
    /// it succeeds, holding the batch.
    async fn write(&self, batch: &[NewUsageRecord]) {
        let c = &self.counters;
        c.in_flight.store(batch.len() as u64, Ordering::Relaxed);
        // Slices still to write, each with the refusal already seen for it, if any.
        let mut pending: Vec<(&[NewUsageRecord], Option<StoreError>)> = vec![(batch, None)];
        while let Some((slice, refused)) = pending.pop() {
            let refused = match refused {
                Some(e) => e,
                None => match self.insert_retrying(slice).await {
                    Ok(()) => {
                        c.in_flight.fetch_sub(slice.len() as u64, Ordering::Relaxed);
                        continue;
                    }
                    Err(e) => e,
                },
            };
            if let [record] = slice {
                self.set_aside(record, &refused).await;
                c.in_flight.fetch_sub(1, Ordering::Relaxed);
                continue;
            }
            let (left, right) = slice.split_at(slice.len() / 2);
            // Left first (the stack pops the last pushed), so records are written in their order.
            pending.push((right, None));
            pending.push((left, None));
        }
        c.in_flight.store(0, Ordering::Relaxed);
    }

    /// Inserts `records`, retrying transient failures with backoff until they succeed; returns the error
    /// when the database refuses the rows themselves.
    async fn insert_retrying(&self, records: &[NewUsageRecord]) -> Result<(), StoreError> {
        let c = &self.counters;
        let n = records.len() as u64;
        let mut delay = self.config.retry_initial;
        loop {
            match self.store.insert_usage_records(records).await {
                Ok(()) => {
                    c.written.fetch_add(n, Ordering::Relaxed);
                    c.batches.fetch_add(1, Ordering::Relaxed);
                    if let Some(observer) = &self.observer {
                        observer.observed(records);
                    }
                    return Ok(());
                }
                Err(e) if e.refuses_rows() => {
                    c.failed_attempts.fetch_add(1, Ordering::Relaxed);
                    if records.len() > 1 {
                        tracing::warn!(
                            error = %e,
                            batch = n,
                            "the database refused a usage batch; splitting it to find the refused records"
                        );
                    }
                    return Err(e);
                }
                Err(e) => {
                    let attempts = c.failed_attempts.fetch_add(1, Ordering::Relaxed) + 1;
                    tracing::warn!(
                        error = %e,
                        batch = n,
                        failed_attempts_total = attempts,
                        retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        "writing usage records failed; keeping them and retrying"
                    );
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(self.config.retry_max);
                }
            }
        }
    }

    /// Sets a refused record aside: counted, logged with its request id, and kept in `usage_rejects`
    /// (retried while the database is unreachable; if even that is refused, the log line keeps it).
    async fn set_aside(&self, record: &NewUsageRecord, refused: &StoreError) {
        let c = &self.counters;
        let total = c.rejected.fetch_add(1, Ordering::Relaxed) + 1;
        let reason = refused.to_string();
        tracing::error!(
            request_id = %record.request_id,
            error = %reason,
            rejected_total = total,
            "the database refused a usage record; it is set aside in usage_rejects, the rest are written"
        );
        let mut delay = self.config.retry_initial;
        loop {
            match self
                .store
                .insert_usage_rejects(&[(record, reason.clone())], chrono::Utc::now())
                .await
            {
                Ok(()) => return,
                Err(e) if e.refuses_rows() || delay >= self.config.retry_max => {
                    tracing::error!(
                        request_id = %record.request_id,
                        error = %e,
                        record = %gaia_store::rejects::record_json(record),
                        "the refused usage record could not be set aside either; it is kept only in this log"
                    );
                    return;
                }
                Err(_) => {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(self.config.retry_max);
                }
            }
        }
    }
}
