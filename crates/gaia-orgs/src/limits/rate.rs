//! Requests per minute: a GCRA bucket per key and per organization, in this instance's memory.

use chrono::{DateTime, Utc};
use gaia_core::{ErrorKind, GaiaError};

use super::{Limiter, Scope};

/// A key's or organization's bucket.
#[derive(Debug, Clone, Copy)]
pub(super) struct Gcra {
    /// Theoretical arrival time, in microseconds since the epoch.
    tat_us: i64,
}

impl Limiter {
    /// Refuses a request over `rpm` requests a minute (none: no limit), with when to retry.
    pub(super) fn check_rate(
        &self,
        scope: Scope,
        id: &str,
        rpm: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<(), GaiaError> {
        let Some(rpm) = rpm.filter(|r| *r > 0) else {
            return Ok(());
        };
        // Microseconds, so rates above 60,000/min keep their meaning.
        let interval_us = (60_000_000 / i64::from(rpm)).max(1);
        let burst_us = 60_000_000 - interval_us; // up to `rpm` requests in a burst
        let now_us = now.timestamp_micros();
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        let map = buckets.map_mut(scope);
        if map.len() > 100_000 {
            map.retain(|_, g| g.tat_us > now_us);
        }
        let g = buckets.entry(scope, id, || Gcra { tat_us: now_us });
        let tat = g.tat_us.max(now_us);
        if tat - now_us > burst_us {
            let wait_us = tat - now_us - burst_us;
            let secs = ((wait_us + 999_999) / 1_000_000).max(1) as u64;
            return Err(GaiaError::new(
                ErrorKind::RateLimited,
                format!("rate limit of {rpm} requests per minute for this {} exceeded; retry in {secs} s", scope.noun()),
            )
            .with_code("rate_limit_error")
            .with_retry_after(secs));
        }
        g.tat_us = tat + interval_us;
        Ok(())
    }
}
