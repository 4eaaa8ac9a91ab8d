//! How long a request spent waiting on its provider, so the gateway can tell its own time apart.
//!
//! [`measure`] runs a future with an accumulator; while it runs, the provider code adds every span of
//! time it spends waiting on an upstream to it: from handing a request to the HTTP client until the
//! response headers arrive, reading a non-streaming body, a stream's first event (which the router waits
//! for before answering), and the pauses between retries. What the request took minus this is the time
//! the gateway itself added (parsing, authentication, limits, conversion, queuing for a CPU).
//! Outside [`measure`] nothing is accumulated and [`waited`] costs one task-local lookup.

use std::cell::Cell;
use std::future::Future;
use std::time::{Duration, Instant};

tokio::task_local! {
    static UPSTREAM_WAIT: Cell<Duration>;
}

/// Runs `f`, returning its output and the time it spent waiting on upstreams.
pub async fn measure<F: Future>(f: F) -> (F::Output, Duration) {
    UPSTREAM_WAIT
        .scope(Cell::new(Duration::ZERO), async move {
            let output = f.await;
            let waited = UPSTREAM_WAIT.with(Cell::get);
            (output, waited)
        })
        .await
}

/// Awaits `f` (an upstream wait), adding its duration to the enclosing [`measure`], if any.
pub(crate) async fn waited<F: Future>(f: F) -> F::Output {
    let started = Instant::now();
    let output = f.await;
    add(started.elapsed());
    output
}

/// Adds `wait` to the enclosing [`measure`]; nothing outside one.
fn add(wait: Duration) {
    let _ = UPSTREAM_WAIT.try_with(|total| total.set(total.get().saturating_add(wait)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waits_add_up_within_a_measurement_and_nowhere_else() {
        add(Duration::from_millis(5)); // outside: dropped
        let (answer, waited_total) = measure(async {
            add(Duration::from_millis(30));
            tokio::task::yield_now().await;
            add(Duration::from_millis(12));
            7
        })
        .await;
        assert_eq!((answer, waited_total), (7, Duration::from_millis(42)));
        let ((), nothing) = measure(async {}).await;
        assert_eq!(nothing, Duration::ZERO);
    }

    #[tokio::test]
    async fn a_marked_wait_counts_at_least_its_own_duration() {
        let pause = Duration::from_millis(3);
        let ((), waited_total) = measure(waited(tokio::time::sleep(pause))).await;
        assert!(waited_total >= pause, "{waited_total:?}");
    }
}
