//! One map per scope, keyed by id.

// foldhash: the maps are keyed by our own ids (never by what a caller sends) and looked up several times
// per request; SipHash's flooding resistance buys nothing here and cost 2–3 % of a request's instructions.
use foldhash::{HashMap, HashMapExt};

use super::Scope;

/// One map per scope, keyed by id: looked up with a `&str`, so the request path allocates nothing.
#[derive(Debug)]
pub(super) struct PerScope<T> {
    pub(super) key: HashMap<Box<str>, T>,
    pub(super) org: HashMap<Box<str>, T>,
}

impl<T> Default for PerScope<T> {
    fn default() -> Self {
        Self {
            key: HashMap::new(),
            org: HashMap::new(),
        }
    }
}

impl<T> PerScope<T> {
    pub(super) fn map(&self, scope: Scope) -> &HashMap<Box<str>, T> {
        match scope {
            Scope::Key => &self.key,
            Scope::Organization => &self.org,
        }
    }

    pub(super) fn map_mut(&mut self, scope: Scope) -> &mut HashMap<Box<str>, T> {
        match scope {
            Scope::Key => &mut self.key,
            Scope::Organization => &mut self.org,
        }
    }

    pub(super) fn get(&self, scope: Scope, id: &str) -> Option<&T> {
        self.map(scope).get(id)
    }

    /// The entry for `id`, created with `make` when missing (the id is copied only then).
    pub(super) fn entry(&mut self, scope: Scope, id: &str, make: impl FnOnce() -> T) -> &mut T {
        let map = self.map_mut(scope);
        if !map.contains_key(id) {
            map.insert(id.into(), make());
        }
        // Just inserted when it was missing.
        map.get_mut(id).unwrap_or_else(|| unreachable!())
    }

    pub(super) fn clear(&mut self) {
        self.key.clear();
        self.org.clear();
    }
}
