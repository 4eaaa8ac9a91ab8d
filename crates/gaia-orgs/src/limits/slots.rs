//! Monthly request limits: admission slots claimed from the shared `quota_reservations` row in blocks,
//! then spent from memory; blocks shrink as the limit nears, so no number of instances can pass it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use gaia_core::GaiaError;

use super::{Limiter, Scope, month_of, period};

/// Smallest and largest block of request slots claimed at once. Blocks grow while they are used up
/// within a second and shrink when they last long, so a busy key claims a few times a second at most
/// and an idle one holds few slots; they never exceed 1/16 of what is left of the limit.
const MIN_BLOCK: i64 = 16;
const MAX_BLOCK: i64 = 4096;
/// After a claim found the limit used up, how long before the database is asked again (another
/// instance may return unused slots at shutdown, or an operator may raise the limit — a higher limit is
/// noticed at once).
const EXHAUSTED_RECHECK: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub(super) struct Allowance {
    month: i32,
    /// Slots claimed from the database and not spent yet.
    unused: i64,
    /// The last `admitted` count seen in the database (sizes the next block).
    seen_admitted: i64,
    /// The size of the last block claimed.
    block: i64,
    last_claim: Option<Instant>,
    /// A claim is under way (in the background, or by a request that found no slot left).
    claiming: bool,
    /// The limit was found used up at this limit value, until then.
    exhausted: Option<(i64, Instant)>,
}

impl Allowance {
    fn new(month: i32) -> Self {
        Self {
            month,
            unused: 0,
            seen_admitted: 0,
            block: 64,
            last_claim: None,
            claiming: false,
            exhausted: None,
        }
    }

    fn is_exhausted(&self, limit: i64, now: Instant) -> bool {
        self.exhausted
            .is_some_and(|(at_limit, until)| limit <= at_limit && now < until)
    }
}

/// What a request that found no free slot does next.
enum NoSlot {
    /// Another claim is under way: wait for it.
    Wait,
    /// Claim a block itself.
    Claim,
}

impl Limiter {
    /// Takes one admission slot for a monthly request limit; `Ok(false)` if none is left.
    ///
    /// Slots come from memory. When a block is half spent, the next one is claimed in the background,
    /// so a steady stream of requests never waits for the database; only the first request of a key (or
    /// one that outruns the claims) does.
    pub(super) async fn take_slot(
        self: &Arc<Self>,
        scope: Scope,
        id: &str,
        limit: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, GaiaError> {
        let month = month_of(now);
        loop {
            let waiting = self.claimed.notified();
            let next = {
                let Ok(mut map) = self.allowances.lock() else {
                    return Ok(false);
                };
                let a = map.entry(scope, id, || Allowance::new(month));
                if a.month != month {
                    *a = Allowance::new(month);
                }
                let clock = Instant::now();
                if a.unused > 0 {
                    a.unused -= 1;
                    if !a.claiming && a.unused <= a.block / 2 && !a.is_exhausted(limit, clock) {
                        a.claiming = true;
                        let this = Arc::clone(self);
                        let id: Box<str> = id.into();
                        tokio::spawn(async move {
                            if let Err(e) = this.claim(scope, &id, limit, now).await {
                                tracing::warn!(error = %e, scope = scope.as_str(), "claiming request-limit slots ahead failed; will retry on demand");
                            }
                        });
                    }
                    return Ok(true);
                }
                if a.is_exhausted(limit, clock) {
                    return Ok(false);
                }
                if a.claiming {
                    NoSlot::Wait
                } else {
                    a.claiming = true;
                    NoSlot::Claim
                }
            };
            match next {
                NoSlot::Wait => waiting.await,
                NoSlot::Claim => self.claim(scope, id, limit, now).await?,
            }
        }
    }

    /// Claims the next block of slots from the database (the caller has set `claiming`), shrinking it to
    /// one slot near the limit; marks the limit used up when not even one is left.
    async fn claim(
        &self,
        scope: Scope,
        id: &str,
        limit: i64,
        now: DateTime<Utc>,
    ) -> Result<(), GaiaError> {
        let result = self.claim_inner(scope, id, limit, now).await;
        self.with_allowance(scope, id, month_of(now), |a| a.claiming = false);
        self.claimed.notify_waiters();
        result
    }

    /// Runs `f` on the allowance of `id` (created for `month` when missing); `None` if the lock is poisoned.
    fn with_allowance<R>(
        &self,
        scope: Scope,
        id: &str,
        month: i32,
        f: impl FnOnce(&mut Allowance) -> R,
    ) -> Option<R> {
        let mut map = self.allowances.lock().ok()?;
        Some(f(map.entry(scope, id, || Allowance::new(month))))
    }

    async fn claim_inner(
        &self,
        scope: Scope,
        id: &str,
        limit: i64,
        now: DateTime<Utc>,
    ) -> Result<(), GaiaError> {
        let month = month_of(now);
        let Some((seen, last_block, last_claim)) = self.with_allowance(scope, id, month, |a| {
            (a.seen_admitted, a.block, a.last_claim)
        }) else {
            return Ok(());
        };
        let p = period(now);
        // Requests recorded before the limit existed (or before this month's row) count too.
        let already = self.month_totals(scope, id, now).requests;
        let remaining = (limit - seen.max(already)).max(0);
        let wanted = match last_claim.map(|t| t.elapsed()) {
            Some(e) if e < Duration::from_secs(1) => last_block * 2,
            Some(e) if e > Duration::from_secs(30) => last_block / 2,
            _ => last_block,
        }
        .clamp(MIN_BLOCK, MAX_BLOCK);
        let mut block = wanted.min(remaining / 16).max(1);
        loop {
            if self
                .store
                .claim_admissions(scope.as_str(), id, &p, block, limit, already, now)
                .await?
            {
                let admitted = self
                    .store
                    .admitted(scope.as_str(), id, &p)
                    .await
                    .unwrap_or(seen + block);
                self.with_allowance(scope, id, month, |a| {
                    if a.month == month {
                        a.unused += block;
                        a.seen_admitted = admitted;
                        a.block = wanted;
                        a.last_claim = Some(Instant::now());
                        a.exhausted = None;
                    }
                });
                return Ok(());
            }
            if block == 1 {
                self.with_allowance(scope, id, month, |a| {
                    a.seen_admitted = limit;
                    a.exhausted = Some((limit, Instant::now() + EXHAUSTED_RECHECK));
                });
                return Ok(());
            }
            block = 1;
        }
    }

    /// Returns a slot taken for a request that another limit then refused.
    pub(super) fn give_back(&self, scope: Scope, id: &str) {
        if let Ok(mut map) = self.allowances.lock()
            && let Some(a) = map.map_mut(scope).get_mut(id)
        {
            a.unused += 1;
        }
    }

    /// Returns unclaimed slots to the database (graceful shutdown).
    pub async fn release_unused(&self) -> Result<(), GaiaError> {
        let drained: Vec<(Scope, Box<str>, Allowance)> = match self.allowances.lock() {
            Ok(mut guard) => {
                let map = &mut *guard;
                let keys = map.key.drain().map(|(id, a)| (Scope::Key, id, a));
                let orgs = map.org.drain().map(|(id, a)| (Scope::Organization, id, a));
                keys.chain(orgs).collect()
            }
            Err(_) => return Ok(()),
        };
        for (scope, id, a) in drained {
            if a.unused > 0 {
                let p = format!("{:04}-{:02}", a.month / 12, a.month % 12 + 1);
                self.store
                    .release_admissions(scope.as_str(), &id, &p, a.unused)
                    .await?;
            }
        }
        Ok(())
    }
}
