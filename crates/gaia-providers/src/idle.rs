//! [`IdleTimer`]: notices a stream that has been quiet for a period — the provider's idle timeout, the
//! client side's keep-alive interval — without a timer update for every item that passes.
//!
//! Resetting a tokio `Sleep` on every item moves a timer-wheel entry each time: on a stream of hundreds of
//! token deltas that is most of the cost of watching it. Here an item only notes the time it passed
//! ([`IdleTimer::touch`]); the timer, armed for the first possible deadline, is moved only when it fires
//! early, to the deadline the last item set. The deadline is exact: a stream is idle when nothing passed
//! for the whole period, never sooner, and noticed at that moment.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// A quiet-period watch over a stream (see the module documentation).
#[derive(Debug)]
pub struct IdleTimer {
    period: Duration,
    last: Instant,
    sleep: Pin<Box<Sleep>>,
}

impl IdleTimer {
    /// A timer whose first period starts now.
    pub fn new(period: Duration) -> Self {
        let now = Instant::now();
        Self {
            period,
            last: now,
            sleep: Box::pin(tokio::time::sleep_until(now + period)),
        }
    }

    pub fn period(&self) -> Duration {
        self.period
    }

    /// Something passed: the quiet period starts again from now.
    pub fn touch(&mut self) {
        self.last = Instant::now();
    }

    /// Whether nothing has passed for a whole period. `true` also starts the next period (a keep-alive
    /// sent is the next thing passed); `false` leaves the waker of `cx` registered for the deadline.
    pub fn poll_idle(&mut self, cx: &mut Context<'_>) -> bool {
        while let Poll::Ready(()) = self.sleep.as_mut().poll(cx) {
            let now = Instant::now();
            let due = self.last + self.period;
            if now >= due {
                self.last = now;
                self.sleep.as_mut().reset(now + self.period);
                return true;
            }
            self.sleep.as_mut().reset(due);
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant as StdInstant;

    use super::*;

    /// Resolves when the timer reports a quiet period.
    async fn idle(timer: &mut IdleTimer) {
        std::future::poll_fn(|cx| {
            if timer.poll_idle(cx) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await
    }

    #[tokio::test]
    async fn a_touch_moves_the_deadline_and_a_quiet_period_is_reported_once_per_period() {
        let period = Duration::from_millis(300);
        let mut timer = IdleTimer::new(period);
        assert_eq!(timer.period(), period);
        let started = StdInstant::now();
        // Touched every 100 ms for 900 ms: three periods long, never quiet for one.
        for _ in 0..9 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            timer.touch();
            let quiet = std::future::poll_fn(|cx| Poll::Ready(timer.poll_idle(cx))).await;
            assert!(
                !quiet,
                "reported idle {:?} after the start",
                started.elapsed()
            );
        }
        let last_touch = StdInstant::now();
        idle(&mut timer).await;
        let waited = last_touch.elapsed();
        assert!(
            waited >= period && waited < period * 3,
            "idle after {waited:?}"
        );
        // The report starts the next period: the next comes a whole period later.
        let reported = StdInstant::now();
        idle(&mut timer).await;
        let next = reported.elapsed();
        assert!(next >= period && next < period * 3, "next after {next:?}");
    }
}
