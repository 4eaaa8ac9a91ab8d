//! What the limiter refused, and how it checked, for `/metrics`. Labels are scopes and reasons, never ids.

use std::sync::atomic::{AtomicU64, Ordering};

use super::Scope;

#[derive(Debug, Default)]
pub(super) struct Counters {
    rate_key: AtomicU64,
    rate_org: AtomicU64,
    quota_key: AtomicU64,
    quota_org: AtomicU64,
    /// Per-minute checks answered from this instance's buckets because Redis was unreachable.
    pub(super) local_fallbacks: AtomicU64,
    /// Requests refused because Redis was unreachable and `GAIA_REDIS_FAILURE=closed`.
    pub(super) shared_unavailable: AtomicU64,
}

impl Counters {
    /// A refusal by `scope`'s per-minute (`rate`) or monthly (`quota`) limit.
    pub(super) fn refused(&self, scope: Scope, reason: &'static str) {
        let counter = match (scope, reason) {
            (Scope::Key, "rate") => &self.rate_key,
            (Scope::Organization, "rate") => &self.rate_org,
            (Scope::Key, _) => &self.quota_key,
            (Scope::Organization, _) => &self.quota_org,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// A snapshot of the limiter's counters (they start at zero with the process).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LimiterStats {
    /// Refusals by a per-minute limit: (key, organization).
    pub rate_refusals: (u64, u64),
    /// Refusals by a monthly limit (requests, tokens or cost): (key, organization).
    pub quota_refusals: (u64, u64),
    pub local_fallbacks: u64,
    pub shared_unavailable: u64,
}

impl Counters {
    pub(super) fn snapshot(&self) -> LimiterStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        LimiterStats {
            rate_refusals: (get(&self.rate_key), get(&self.rate_org)),
            quota_refusals: (get(&self.quota_key), get(&self.quota_org)),
            local_fallbacks: get(&self.local_fallbacks),
            shared_unavailable: get(&self.shared_unavailable),
        }
    }
}
