//! Retention of raw usage records: a periodic task deletes records older than the configured number of
//! days. The daily rollup is kept, so statistics over any period still add up; only the request log
//! forgets.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use gaia_store::{Store, StoreError};
use tokio::task::JoinHandle;

/// How long raw records are kept.
#[derive(Debug, Clone)]
pub struct RetentionConfig {
    /// Raw records older than this many days are deleted; 0 keeps them forever.
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

/// Deletes raw records created more than `days` days before `now`. Returns how many were deleted.
pub async fn purge(store: &Store, days: u32, now: DateTime<Utc>) -> Result<u64, StoreError> {
    if days == 0 {
        return Ok(0);
    }
    store
        .delete_usage_records_before(now - TimeDelta::days(i64::from(days)))
        .await
}

/// Runs [`purge`] now and then every `interval`, logging what it did; failures are logged and retried
/// at the next run. Abort the handle to stop it.
pub fn spawn(store: Store, config: RetentionConfig) -> JoinHandle<()> {
    tokio::spawn(async move {
        if config.days == 0 {
            tracing::info!("usage record retention is off: raw records are kept forever");
            return;
        }
        let mut tick = tokio::time::interval(config.interval.max(Duration::from_secs(1)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match purge(&store, config.days, Utc::now()).await {
                Ok(0) => {}
                Ok(deleted) => {
                    tracing::info!(deleted, days = config.days, "old usage records deleted");
                }
                Err(e) => tracing::warn!(error = %e, "deleting old usage records failed"),
            }
        }
    })
}
