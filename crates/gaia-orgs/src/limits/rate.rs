//! Requests per minute: a GCRA bucket per key and per organization — shared by every instance through
//! Redis when the limiter has a [`Cluster`], in this instance's memory otherwise (and, with
//! `GAIA_REDIS_FAILURE=open`, while Redis is unreachable).

use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use gaia_cluster::{FailureMode, Rate, RateVerdict};
use gaia_core::{ErrorKind, GaiaError};

use super::{Limiter, Scope};

/// A key's or organization's bucket.
#[derive(Debug, Clone, Copy)]
pub(super) struct Gcra {
    /// Theoretical arrival time, in microseconds since the epoch.
    tat_us: i64,
}

fn rate_error(scope: Scope, rpm: u32, wait_us: i64) -> GaiaError {
    let secs = ((wait_us + 999_999) / 1_000_000).max(1) as u64;
    GaiaError::new(
        ErrorKind::RateLimited,
        format!(
            "rate limit of {rpm} requests per minute for this {} exceeded; retry in {secs} s",
            scope.noun()
        ),
    )
    .with_code("rate_limit_error")
    .with_retry_after(secs)
}

impl Limiter {
    /// Refuses a request over its key's or its organization's requests a minute (none: no limit), with
    /// when to retry.
    pub(super) async fn check_rates(
        &self,
        key: (&str, Option<u32>),
        organization: (&str, Option<u32>),
        now: DateTime<Utc>,
    ) -> Result<(), GaiaError> {
        let key_rpm = key.1.filter(|r| *r > 0);
        let org_rpm = organization.1.filter(|r| *r > 0);
        if key_rpm.is_none() && org_rpm.is_none() {
            return Ok(());
        }
        if let Some(cluster) = &self.cluster {
            let mut rates = Vec::with_capacity(2);
            let mut scopes = Vec::with_capacity(2);
            for (scope, id, rpm) in [
                (Scope::Key, key.0, key_rpm),
                (Scope::Organization, organization.0, org_rpm),
            ] {
                if let Some(per_minute) = rpm {
                    rates.push(Rate {
                        scope: scope.as_str(),
                        id,
                        per_minute,
                    });
                    scopes.push(scope);
                }
            }
            match cluster.check_rates(organization.0, &rates).await {
                Ok(RateVerdict::Admitted) => return Ok(()),
                Ok(RateVerdict::Refused { index, retry_after }) => {
                    let scope = scopes[index.min(scopes.len() - 1)];
                    self.counters.refused(scope, "rate");
                    let wait_us = i64::try_from(retry_after.as_micros()).unwrap_or(i64::MAX);
                    return Err(rate_error(
                        scope,
                        rates[index.min(rates.len() - 1)].per_minute,
                        wait_us,
                    ));
                }
                Err(_) if cluster.failure_mode() == FailureMode::Closed => {
                    self.counters
                        .shared_unavailable
                        .fetch_add(1, Ordering::Relaxed);
                    return Err(GaiaError::new(
                        ErrorKind::Unavailable,
                        "per-minute limits cannot be checked right now; retry shortly",
                    )
                    .with_code("rate_limiter_unavailable")
                    .with_retry_after(1));
                }
                Err(_) => {
                    // GAIA_REDIS_FAILURE=open: this instance's own buckets until Redis answers.
                    self.counters
                        .local_fallbacks
                        .fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        self.check_local(
            [
                (Scope::Key, key.0, key_rpm),
                (Scope::Organization, organization.0, org_rpm),
            ],
            now,
        )
    }

    /// The buckets in this instance's memory: both are checked before either is charged, so a request
    /// the organization refuses costs its key nothing (as with Redis).
    fn check_local(
        &self,
        scopes: [(Scope, &str, Option<u32>); 2],
        now: DateTime<Utc>,
    ) -> Result<(), GaiaError> {
        let now_us = now.timestamp_micros();
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        // The new theoretical arrival time of each bucket, if the request is admitted.
        let mut next: [Option<(Scope, i64)>; 2] = [None, None];
        for (slot, (scope, id, rpm)) in next.iter_mut().zip(scopes) {
            let Some(rpm) = rpm else {
                continue;
            };
            let (interval_us, burst_us) = gaia_cluster::gcra_parameters(rpm);
            let map = buckets.map_mut(scope);
            if map.len() > 100_000 {
                map.retain(|_, g| g.tat_us > now_us);
            }
            let tat = buckets
                .entry(scope, id, || Gcra { tat_us: now_us })
                .tat_us
                .max(now_us);
            if tat - now_us > burst_us {
                self.counters.refused(scope, "rate");
                return Err(rate_error(scope, rpm, tat - now_us - burst_us));
            }
            *slot = Some((scope, tat + interval_us));
        }
        for ((scope, id, _), tat) in scopes.iter().zip(next) {
            if let Some((_, tat)) = tat {
                buckets.entry(*scope, id, || Gcra { tat_us: now_us }).tat_us = tat;
            }
        }
        Ok(())
    }
}
