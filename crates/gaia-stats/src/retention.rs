//! Retention: a periodic task deletes raw usage records and stored responses (Responses API,
//! `store: true`) older than the configured number of days. The daily rollup is kept, so statistics over
//! any period still add up; only the request log forgets — and conversations older than the cut-off can no
//! longer be continued or read.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use gaia_store::{Store, StoreError};
use tokio::task::JoinHandle;

/// How long raw records and stored responses are kept.
#[derive(Debug, Clone)]
pub struct RetentionConfig {
    /// Raw records and stored responses older than this many days are deleted; 0 keeps them forever.
    pub days: u32,
    /// How often the task runs (the first run is at start-up).
    pub interval: Duration,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            days: 90,
            interval: Duration::from_secs(3600),
        }
    }
}

/// What one retention pass deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub usage_records: u64,
    pub responses: u64,
}

/// The instant before which rows are deleted: `days` days before `now`; `None` when `days` is 0.
fn cutoff(days: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (days > 0).then(|| now - TimeDelta::days(i64::from(days)))
}

/// Deletes raw records and stored responses created more than `days` days before `now`; stops at the
/// first failure.
pub async fn purge(store: &Store, days: u32, now: DateTime<Utc>) -> Result<Purged, StoreError> {
    let Some(cutoff) = cutoff(days, now) else {
        return Ok(Purged::default());
    };
    Ok(Purged {
        usage_records: store.delete_usage_records_before(cutoff).await?,
        responses: store.responses().purge_older_than(cutoff).await?,
    })
}

/// One pass of the task: both deletions, each logged, neither kept from running by the other's failure.
async fn pass(store: &Store, days: u32, now: DateTime<Utc>) {
    let Some(cutoff) = cutoff(days, now) else {
        return;
    };
    match store.delete_usage_records_before(cutoff).await {
        Ok(0) => {}
        Ok(deleted) => tracing::info!(deleted, days, "old usage records deleted"),
        Err(e) => tracing::warn!(error = %e, "deleting old usage records failed"),
    }
    match store.responses().purge_older_than(cutoff).await {
        Ok(0) => {}
        Ok(deleted) => tracing::info!(deleted, days, "old stored responses deleted"),
        Err(e) => tracing::warn!(error = %e, "deleting old stored responses failed"),
    }
}

/// Runs the deletions now and then every `interval`, logging what they did; failures are logged and
/// retried at the next run. Abort the handle to stop it.
pub fn spawn(store: Store, config: RetentionConfig) -> JoinHandle<()> {
    tokio::spawn(async move {
        if config.days == 0 {
            tracing::info!(
                "retention is off: raw usage records and stored responses are kept forever"
            );
            return;
        }
        let mut tick = tokio::time::interval(config.interval.max(Duration::from_secs(1)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            pass(&store, config.days, Utc::now()).await;
        }
    })
}
