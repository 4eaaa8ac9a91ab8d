//! Unknown keys answered from memory: lookup ids the database did not know, and the budget of database
//! lookups for ids not seen yet.

use std::sync::atomic::Ordering;

use super::KeyCache;

/// Most lookup ids remembered as absent; past it, the set is emptied and starts again.
pub const MAX_ABSENT: usize = 10_000;
/// Most distinct unknown lookup ids looked up in the database per second and instance.
pub const MISS_LOOKUPS_PER_SECOND: u32 = 20;

/// Lookup ids the database did not know, and the budget of lookups for the ones not seen yet.
#[derive(Debug)]
pub(super) struct Misses {
    pub(super) absent: foldhash::HashSet<String>,
    window_started: std::time::Instant,
    /// The distinct lookup ids looked up in this second (at most [`MISS_LOOKUPS_PER_SECOND`]): a key
    /// many clients start using at once on this instance (created on another) is one id, looked up by
    /// all of them, not a flood.
    looked_up: Vec<String>,
}

impl Misses {
    pub(super) fn new() -> Self {
        Self {
            absent: foldhash::HashSet::default(),
            window_started: std::time::Instant::now(),
            looked_up: Vec::new(),
        }
    }
}

/// How unknown keys were answered (for `/metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UnknownKeyCounts {
    /// Refused from memory: remembered as absent, or over the lookup budget.
    pub from_memory: u64,
    /// Looked up in the database and not found.
    pub from_database: u64,
}

impl KeyCache {
    /// How unknown keys were answered so far.
    pub fn unknown_keys(&self) -> UnknownKeyCounts {
        UnknownKeyCounts {
            from_memory: self.unknown_from_memory.load(Ordering::Relaxed),
            from_database: self.unknown_from_database.load(Ordering::Relaxed),
        }
    }

    /// Whether an unknown lookup id may be looked up in the database: not remembered as absent, and
    /// within this second's budget.
    pub(super) fn may_look_up(&self, lookup: &str) -> bool {
        let Ok(mut misses) = self.misses.lock() else {
            return true;
        };
        if misses.absent.contains(lookup) {
            return false;
        }
        let now = std::time::Instant::now();
        if now.duration_since(misses.window_started) >= std::time::Duration::from_secs(1) {
            misses.window_started = now;
            misses.looked_up.clear();
        }
        if misses.looked_up.iter().any(|l| l == lookup) {
            return true;
        }
        if misses.looked_up.len() >= MISS_LOOKUPS_PER_SECOND as usize {
            return false;
        }
        misses.looked_up.push(lookup.to_owned());
        true
    }

    pub(super) fn remember_absent(&self, lookup: &str) {
        if let Ok(mut misses) = self.misses.lock() {
            if misses.absent.len() >= MAX_ABSENT {
                misses.absent.clear();
            }
            misses.absent.insert(lookup.to_owned());
        }
    }
}
