//! The time GaiaRouter itself adds to each chat completion, as a Prometheus histogram.
//!
//! Per answered request: the time from when the request reached the chat route (headers parsed) until
//! its response was handed back to actix-web (the whole body for a non-streaming request, the headers
//! for a stream), minus the time spent waiting on the provider ([`gaia_providers::timing`]). That leaves
//! reading the body, authentication, parsing, routing, limits, conversion both ways and queueing for a
//! CPU — what an operator means by "gateway overhead". Not included: the kernel's and actix-web's work
//! before the route and after it (the network hop itself, which `make bench` measures end to end), and
//! the HTTP client's own work while the provider is being waited on.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, web};

use crate::state::AppState;

/// Upper bounds of the buckets, in microseconds (+Inf is implicit).
const BOUNDS_US: [u64; 20] = [
    10, 25, 50, 75, 100, 150, 200, 300, 500, 750, 1_000, 1_500, 2_000, 3_000, 5_000, 10_000,
    25_000, 50_000, 100_000, 250_000,
];

/// A fixed-bucket histogram of durations, updated with relaxed atomics (one add per bucket hit).
#[derive(Debug, Default)]
pub struct Histogram {
    /// Per-bucket (not cumulative) counts; the last one is +Inf.
    buckets: [AtomicU64; BOUNDS_US.len() + 1],
    sum_ns: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, value: Duration) {
        let us = u64::try_from(value.as_micros()).unwrap_or(u64::MAX);
        let bucket = BOUNDS_US.partition_point(|bound| *bound < us);
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let ns = u64::try_from(value.as_nanos()).unwrap_or(u64::MAX);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// The histogram in the Prometheus text format, in seconds, under `name`.
    pub fn write_prometheus(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0u64;
        for (i, count) in self.buckets.iter().enumerate() {
            cumulative += count.load(Ordering::Relaxed);
            match BOUNDS_US.get(i) {
                Some(us) => {
                    let le = *us as f64 / 1e6;
                    let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
                }
                None => {
                    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cumulative}");
                }
            }
        }
        let sum = self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {cumulative}");
    }
}

/// Wraps the inference routes (chat completions, messages, responses, embeddings): observes the request's overhead when it was answered successfully and reached
/// a provider (refusals — bad input, limits, unknown models — never wait on one and are not counted).
pub async fn measure(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let started = std::time::Instant::now();
    let (res, upstream) = gaia_providers::timing::measure(next.call(req)).await;
    if let (Ok(res), Some(state)) = (&res, state)
        && res.status().is_success()
        && !upstream.is_zero()
    {
        state
            .overhead
            .observe(started.elapsed().saturating_sub(upstream));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(h: &Histogram) -> String {
        let mut out = String::new();
        h.write_prometheus(&mut out, "t", "help");
        out
    }

    #[test]
    fn observations_land_in_their_bucket_and_buckets_are_cumulative() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(10)); // le 10 µs: bounds are inclusive
        h.observe(Duration::from_micros(11));
        h.observe(Duration::from_micros(80));
        h.observe(Duration::from_secs(3)); // past the last bound
        let out = text(&h);
        assert!(out.contains("# TYPE t histogram"), "{out}");
        assert!(out.contains("t_bucket{le=\"0.00001\"} 1\n"), "{out}");
        assert!(out.contains("t_bucket{le=\"0.000025\"} 2\n"), "{out}");
        assert!(out.contains("t_bucket{le=\"0.000075\"} 2\n"), "{out}");
        assert!(out.contains("t_bucket{le=\"0.0001\"} 3\n"), "{out}");
        assert!(out.contains("t_bucket{le=\"0.25\"} 3\n"), "{out}");
        assert!(out.contains("t_bucket{le=\"+Inf\"} 4\n"), "{out}");
        assert!(out.contains("t_count 4\n"), "{out}");
        assert!(out.contains("t_sum 3.000101\n"), "{out}");
    }
}
