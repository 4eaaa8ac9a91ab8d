//! The health of each channel: a circuit breaker fed by the outcome of every upstream attempt.
//!
//! - **Closed** (healthy): every request may use the channel. Outcomes are counted in a sliding window
//!   (ten buckets over [`CircuitConfig::window`]); once the window holds at least `min_requests` outcomes
//!   and the share of failures reaches `failure_ratio`, the circuit **opens**. Failures are what the
//!   router retries — connection errors, timeouts, 429 and 5xx — never a 400 the request itself caused, and
//!   never the text of an error message.
//! - **Open**: no request uses the channel until its cooldown ends. The cooldown starts at
//!   `cooldown` and doubles each time the circuit opens again without having recovered, up to
//!   `max_cooldown`.
//! - **Half-open**: after the cooldown, exactly one real request is let through as the probe; its success
//!   closes the circuit (and resets the cooldown), its failure opens it again for twice as long. A probe
//!   that never reports back (its client went away) frees the slot after [`PROBE_TIMEOUT`].
//! - **Disabled**: the provider refused the channel's credential (401/403). Only an operator re-enables it;
//!   the reason is kept and shown.
//!
//! Circuits live in the [`HealthBook`], keyed by channel id, so they outlive registry snapshots, and
//! changes another instance should know about are reported on its channel ([`HealthReport`]).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

/// How long a half-open probe may stay unanswered before another request may probe.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(120);
/// Recent errors kept per channel (shown on the admin API).
const RECENT_ERRORS: usize = 10;
const BUCKETS: usize = 10;

/// When a circuit opens and for how long.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CircuitConfig {
    pub window: Duration,
    pub min_requests: u32,
    pub failure_ratio: f64,
    pub cooldown: Duration,
    pub max_cooldown: Duration,
}

impl Default for CircuitConfig {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(30),
            min_requests: 5,
            failure_ratio: 0.5,
            cooldown: Duration::from_secs(5),
            max_cooldown: Duration::from_secs(300),
        }
    }
}

/// What another instance, or the database, should learn from a circuit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthReport {
    /// The circuit opened for `cooldown`.
    Opened { channel: String, cooldown: Duration },
    /// The provider refused the channel's credential. `sealed_key` is the stored credential it refused, as
    /// the channel was built from it (`None`: the channel has none): the row is disabled only while it still
    /// holds that one, so a key an operator set meanwhile is tried, not disabled with the old one.
    Disabled {
        channel: String,
        reason: String,
        sealed_key: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Closed,
    Open { until: Instant },
    HalfOpen { probe_since: Option<Instant> },
    Disabled,
}

#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    /// Which slice of time (since the book's epoch) the counts are for.
    slice: u64,
    ok: u32,
    failed: u32,
}

#[derive(Debug)]
struct State {
    phase: Phase,
    buckets: [Bucket; BUCKETS],
    /// The cooldown of the next opening.
    next_cooldown: Duration,
    disabled_reason: Option<String>,
    recent_errors: VecDeque<RecentError>,
    successes: u64,
    failures: u64,
    opened: u64,
}

/// One failure as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentError {
    pub at: DateTime<Utc>,
    pub code: String,
    pub message: String,
}

/// Whose credential the provider refused, which decides what [`Circuit::refused_credential`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusedCredential<'a> {
    /// A channel from the configuration: the API cannot re-enable it, so it is opened for the longest
    /// cooldown instead.
    Configured,
    /// A stored channel, with its credential in the sealed form it was built from (`None`: stored without
    /// one); disabled in the database only while the row still holds that credential.
    Stored { sealed_key: Option<&'a str> },
}

/// May a request use the channel now?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    Yes,
    /// Yes, as the half-open probe.
    Probe,
    No,
}

/// A circuit's state as the admin API and `/metrics` show it.
#[derive(Debug, Clone, PartialEq)]
pub struct CircuitView {
    /// `closed`, `open`, `half_open` or `disabled`.
    pub state: &'static str,
    /// Until when it stays open (open only).
    pub open_for: Option<Duration>,
    pub window_requests: u32,
    pub window_failures: u32,
    pub successes: u64,
    pub failures: u64,
    /// Times it opened since the process started.
    pub opened: u64,
    pub disabled_reason: Option<String>,
    pub recent_errors: Vec<RecentError>,
}

/// One channel's circuit.
#[derive(Debug)]
pub struct Circuit {
    channel: String,
    config: CircuitConfig,
    epoch: Instant,
    state: Mutex<State>,
    reports: Option<mpsc::UnboundedSender<HealthReport>>,
}

impl Circuit {
    fn new(
        channel: String,
        config: CircuitConfig,
        reports: Option<mpsc::UnboundedSender<HealthReport>>,
    ) -> Self {
        Self {
            channel,
            config,
            epoch: Instant::now(),
            state: Mutex::new(State {
                phase: Phase::Closed,
                buckets: [Bucket::default(); BUCKETS],
                next_cooldown: config.cooldown,
                disabled_reason: None,
                recent_errors: VecDeque::new(),
                successes: 0,
                failures: 0,
                opened: 0,
            }),
            reports,
        }
    }

    /// A circuit of its own (tests, one-off channels).
    pub fn standalone(channel: &str, config: CircuitConfig) -> Self {
        Self::new(channel.to_owned(), config, None)
    }

    fn slice(&self, now: Instant) -> u64 {
        let width = (self.config.window.as_millis() / BUCKETS as u128).max(1);
        (now.duration_since(self.epoch).as_millis() / width) as u64
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding it cannot leave the counts inconsistent in a way that matters.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a request may use the channel at `now` (taking the probe slot when half-open).
    pub fn admit(&self, now: Instant) -> Admit {
        let mut s = self.lock();
        match s.phase {
            Phase::Closed => Admit::Yes,
            Phase::Disabled => Admit::No,
            Phase::Open { until } if now < until => Admit::No,
            Phase::Open { .. } => {
                s.phase = Phase::HalfOpen {
                    probe_since: Some(now),
                };
                Admit::Probe
            }
            Phase::HalfOpen { probe_since }
                if probe_since.is_some_and(|t| now.duration_since(t) < PROBE_TIMEOUT) =>
            {
                Admit::No
            }
            Phase::HalfOpen { .. } => {
                s.phase = Phase::HalfOpen {
                    probe_since: Some(now),
                };
                Admit::Probe
            }
        }
    }

    /// Whether the channel is usable at all now, without taking a probe slot (for ordering).
    pub fn is_available(&self, now: Instant) -> bool {
        match self.lock().phase {
            Phase::Closed => true,
            Phase::Disabled => false,
            Phase::Open { until } => now >= until,
            Phase::HalfOpen { probe_since } => {
                probe_since.is_none_or(|t| now.duration_since(t) >= PROBE_TIMEOUT)
            }
        }
    }

    /// Disabled because the provider refused its credential.
    pub fn is_disabled(&self) -> bool {
        self.lock().phase == Phase::Disabled
    }

    /// A successful attempt.
    pub fn succeeded(&self, now: Instant) {
        let slice = self.slice(now);
        let mut s = self.lock();
        s.successes += 1;
        bucket(&mut s.buckets, slice).ok += 1;
        if matches!(s.phase, Phase::HalfOpen { .. } | Phase::Open { .. }) {
            s.phase = Phase::Closed;
            s.next_cooldown = self.config.cooldown;
            s.buckets = [Bucket::default(); BUCKETS];
            s.disabled_reason = None;
            tracing::info!(channel = %self.channel, "channel recovered: circuit closed");
        }
    }

    /// A transient failure (connect, timeout, 429, 5xx). Opens the circuit when the window says so, or
    /// at once when it was the half-open probe.
    pub fn failed(&self, now: Instant, error: RecentError) {
        let slice = self.slice(now);
        let mut s = self.lock();
        s.failures += 1;
        remember(&mut s, error);
        bucket(&mut s.buckets, slice).failed += 1;
        let open = match s.phase {
            Phase::HalfOpen { .. } => true,
            Phase::Closed => {
                let (requests, failures) = window(&s.buckets, slice);
                requests >= self.config.min_requests
                    && f64::from(failures) >= self.config.failure_ratio * f64::from(requests)
            }
            Phase::Open { .. } | Phase::Disabled => false,
        };
        if open {
            let cooldown = s.next_cooldown;
            s.phase = Phase::Open {
                until: now + cooldown,
            };
            s.next_cooldown = (cooldown * 2).min(self.config.max_cooldown);
            s.opened += 1;
            drop(s);
            tracing::warn!(channel = %self.channel, cooldown_ms = cooldown.as_millis() as u64, "channel failing: circuit opened");
            self.report(HealthReport::Opened {
                channel: self.channel.clone(),
                cooldown,
            });
        }
    }

    /// The provider refused the channel's credential (401/403). A stored channel is disabled until an
    /// operator re-enables it; one from the configuration (which the API cannot re-enable) is opened for
    /// the longest cooldown instead, so a fixed key is picked up without a restart.
    pub fn refused_credential(
        &self,
        now: Instant,
        reason: &str,
        error: RecentError,
        credential: RefusedCredential<'_>,
    ) {
        if let RefusedCredential::Stored { sealed_key } = credential {
            self.disable_refused(reason, error, sealed_key.map(str::to_owned));
            return;
        }
        let mut s = self.lock();
        remember(&mut s, error);
        s.failures += 1;
        s.phase = Phase::Open {
            until: now + self.config.max_cooldown,
        };
        s.opened += 1;
        s.disabled_reason = Some(reason.to_owned());
        drop(s);
        tracing::warn!(channel = %self.channel, reason, "configured channel refused: circuit opened for the longest cooldown");
        self.report(HealthReport::Opened {
            channel: self.channel.clone(),
            cooldown: self.config.max_cooldown,
        });
    }

    /// Disabled until an operator re-enables it.
    pub fn disable(&self, reason: &str, error: RecentError) {
        self.disable_refused(reason, error, None);
    }

    fn disable_refused(&self, reason: &str, error: RecentError, sealed_key: Option<String>) {
        let mut s = self.lock();
        if s.phase == Phase::Disabled {
            return;
        }
        remember(&mut s, error);
        s.phase = Phase::Disabled;
        s.disabled_reason = Some(reason.to_owned());
        drop(s);
        tracing::warn!(channel = %self.channel, reason, "channel disabled");
        self.report(HealthReport::Disabled {
            channel: self.channel.clone(),
            reason: reason.to_owned(),
            sealed_key,
        });
    }

    /// Opened by another instance: stay open for `cooldown` from now (no report back, and not counted in
    /// `opened`, which counts this instance's own openings — so sums over instances stay true).
    pub fn open_for(&self, now: Instant, cooldown: Duration) {
        let mut s = self.lock();
        if matches!(s.phase, Phase::Closed | Phase::HalfOpen { .. }) {
            s.phase = Phase::Open {
                until: now + cooldown,
            };
        }
    }

    /// Disabled in the database (by an operator, or by another instance): the reason shown.
    pub fn set_disabled(&self, reason: Option<String>) {
        let mut s = self.lock();
        match reason {
            Some(r) => {
                s.phase = Phase::Disabled;
                s.disabled_reason = Some(r);
            }
            None if s.phase == Phase::Disabled => {
                s.phase = Phase::Closed;
                s.disabled_reason = None;
                s.next_cooldown = self.config.cooldown;
                s.buckets = [Bucket::default(); BUCKETS];
            }
            None => {}
        }
    }

    pub fn view(&self, now: Instant) -> CircuitView {
        let slice = self.slice(now);
        let s = self.lock();
        let (window_requests, window_failures) = window(&s.buckets, slice);
        CircuitView {
            state: match s.phase {
                Phase::Closed => "closed",
                Phase::Open { until } if now < until => "open",
                Phase::Open { .. } | Phase::HalfOpen { .. } => "half_open",
                Phase::Disabled => "disabled",
            },
            open_for: match s.phase {
                Phase::Open { until } if now < until => Some(until - now),
                _ => None,
            },
            window_requests,
            window_failures,
            successes: s.successes,
            failures: s.failures,
            opened: s.opened,
            disabled_reason: s.disabled_reason.clone(),
            recent_errors: s.recent_errors.iter().rev().cloned().collect(),
        }
    }

    fn report(&self, report: HealthReport) {
        if let Some(tx) = &self.reports {
            let _ = tx.send(report);
        }
    }
}

fn bucket(buckets: &mut [Bucket; BUCKETS], slice: u64) -> &mut Bucket {
    let b = &mut buckets[(slice % BUCKETS as u64) as usize];
    if b.slice != slice {
        *b = Bucket {
            slice,
            ..Bucket::default()
        };
    }
    b
}

/// (requests, failures) over the buckets still inside the window.
fn window(buckets: &[Bucket; BUCKETS], slice: u64) -> (u32, u32) {
    buckets
        .iter()
        .filter(|b| slice.saturating_sub(b.slice) < BUCKETS as u64 && b.slice <= slice)
        .fold((0, 0), |(r, f), b| (r + b.ok + b.failed, f + b.failed))
}

fn remember(s: &mut State, error: RecentError) {
    if s.recent_errors.len() == RECENT_ERRORS {
        s.recent_errors.pop_front();
    }
    s.recent_errors.push_back(error);
}

/// Every channel's circuit, by channel id, for the life of the process.
#[derive(Debug)]
pub struct HealthBook {
    config: CircuitConfig,
    circuits: Mutex<std::collections::HashMap<String, Arc<Circuit>>>,
    reports: Option<mpsc::UnboundedSender<HealthReport>>,
}

impl HealthBook {
    /// A book whose circuits report what others should know on `reports` (none: they keep it).
    pub fn new(
        config: CircuitConfig,
        reports: Option<mpsc::UnboundedSender<HealthReport>>,
    ) -> Self {
        Self {
            config,
            circuits: Mutex::default(),
            reports,
        }
    }

    /// The circuit of channel `id` (created closed on first use).
    pub fn circuit(&self, id: &str) -> Arc<Circuit> {
        let mut map = self.circuits.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(id.to_owned())
            .or_insert_with(|| {
                Arc::new(Circuit::new(
                    id.to_owned(),
                    self.config,
                    self.reports.clone(),
                ))
            })
            .clone()
    }

    /// The circuit of channel `id` if it has one.
    pub fn get(&self, id: &str) -> Option<Arc<Circuit>> {
        self.circuits
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    /// Forgets circuits of channels that no longer exist.
    pub fn retain(&self, ids: &std::collections::HashSet<&str>) {
        self.circuits
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|id, _| ids.contains(id.as_str()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> CircuitConfig {
        CircuitConfig {
            window: Duration::from_secs(10),
            min_requests: 4,
            failure_ratio: 0.5,
            cooldown: Duration::from_secs(2),
            max_cooldown: Duration::from_secs(5),
        }
    }

    fn err() -> RecentError {
        RecentError {
            at: Utc::now(),
            code: "upstream_error".into(),
            message: "down".into(),
        }
    }

    #[test]
    fn opens_on_the_failure_ratio_not_on_a_few_failures() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let c = Circuit::new("c".into(), config(), Some(tx));
        let t = Instant::now();
        c.failed(t, err());
        c.failed(t, err());
        c.failed(t, err());
        // Three failures, but below min_requests: still closed.
        assert_eq!(c.admit(t), Admit::Yes);
        for _ in 0..5 {
            c.succeeded(t);
        }
        c.failed(t, err());
        // 4 failures of 9: below half.
        assert_eq!(c.view(t).state, "closed");
        c.failed(t, err());
        // 5 of 10: open.
        assert_eq!(c.view(t).state, "open");
        assert_eq!(c.admit(t), Admit::No);
        assert_eq!(
            rx.try_recv().unwrap(),
            HealthReport::Opened {
                channel: "c".into(),
                cooldown: Duration::from_secs(2)
            }
        );
        assert_eq!(c.view(t).recent_errors.len(), 5);
    }

    #[test]
    fn failures_age_out_of_the_window() {
        let c = Circuit::standalone("c", config());
        let t = Instant::now();
        for _ in 0..3 {
            c.failed(t, err());
        }
        // Eleven seconds later the old failures no longer count.
        let later = t + Duration::from_secs(11);
        c.failed(later, err());
        assert_eq!(c.view(later).window_failures, 1);
        assert_eq!(c.view(later).state, "closed");
    }

    #[test]
    fn half_open_lets_one_probe_through_and_its_outcome_decides() {
        let c = Circuit::standalone("c", config());
        let t = Instant::now();
        for _ in 0..4 {
            c.failed(t, err());
        }
        assert_eq!(c.admit(t + Duration::from_secs(1)), Admit::No);
        // Cooldown over: one probe, and only one.
        let t2 = t + Duration::from_secs(2);
        assert!(c.is_available(t2));
        assert_eq!(c.admit(t2), Admit::Probe);
        assert_eq!(c.admit(t2), Admit::No);
        // The probe fails: open again for twice as long.
        c.failed(t2, err());
        assert_eq!(c.admit(t2 + Duration::from_secs(3)), Admit::No);
        let t3 = t2 + Duration::from_secs(4);
        assert_eq!(c.admit(t3), Admit::Probe);
        // This one succeeds: closed, and the cooldown is back to its start.
        c.succeeded(t3);
        assert_eq!(c.admit(t3), Admit::Yes);
        for _ in 0..4 {
            c.failed(t3, err());
        }
        assert_eq!(
            c.view(t3).open_for,
            Some(Duration::from_secs(2)),
            "the cooldown starts over after a recovery"
        );
    }

    #[test]
    fn the_cooldown_doubles_up_to_its_cap() {
        let c = Circuit::standalone("c", config());
        let mut t = Instant::now();
        for _ in 0..4 {
            c.failed(t, err());
        }
        let mut seen = Vec::new();
        for _ in 0..4 {
            let open = c.view(t).open_for.unwrap();
            seen.push(open.as_secs());
            t += open;
            assert_eq!(c.admit(t), Admit::Probe);
            c.failed(t, err());
        }
        assert_eq!(seen, vec![2, 4, 5, 5]);
    }

    #[test]
    fn a_probe_that_never_reports_frees_its_slot() {
        let c = Circuit::standalone("c", config());
        let t = Instant::now();
        for _ in 0..4 {
            c.failed(t, err());
        }
        let t2 = t + Duration::from_secs(2);
        assert_eq!(c.admit(t2), Admit::Probe);
        assert_eq!(c.admit(t2 + PROBE_TIMEOUT), Admit::Probe);
    }

    #[test]
    fn a_refused_credential_disables_until_an_operator_enables() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let c = Circuit::new("c".into(), config(), Some(tx));
        let t = Instant::now();
        c.disable("the provider refused the API key (401)", err());
        assert_eq!(c.admit(t + Duration::from_secs(3600)), Admit::No);
        assert_eq!(c.view(t).state, "disabled");
        assert!(matches!(
            rx.try_recv().unwrap(),
            HealthReport::Disabled { .. }
        ));
        c.set_disabled(None);
        assert_eq!(c.admit(t), Admit::Yes);
    }

    #[test]
    fn opened_elsewhere_stays_open_here_for_the_cooldown() {
        let c = Circuit::standalone("c", config());
        let t = Instant::now();
        c.open_for(t, Duration::from_secs(3));
        assert_eq!(c.admit(t + Duration::from_secs(2)), Admit::No);
        assert_eq!(c.admit(t + Duration::from_secs(3)), Admit::Probe);
    }
}
