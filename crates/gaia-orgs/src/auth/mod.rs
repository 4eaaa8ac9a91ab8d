//! Authenticating API keys from memory.
//!
//! Every key (hash, permissions, status, expiry, its organization's status) is held in a map keyed by its
//! public lookup id, filled at start and refreshed from the database in the background every
//! `refresh_interval` (the bound on how long a revoked key keeps working on an instance that did not
//! revoke it; the instance that revokes applies it at once). A key not in the map (created on another
//! instance since the last refresh) costs one database lookup, then it is cached. The hot path of a
//! request with a cached key therefore makes no database round-trip.
//!
//! Unknown keys are answered from memory too, so a flood of well-formed but made-up keys cannot turn into
//! a flood of database queries: a lookup id the database did not know is remembered as absent (at most
//! [`MAX_ABSENT`] of them) until the next refresh — which also runs whenever a key is created here — and at
//! most [`MISS_LOOKUPS_PER_SECOND`] distinct unknown lookup ids a second are looked up at all (any number
//! of requests for one of them: a fresh key many clients start using at once is one id); past that, they
//! are refused from memory. The price: during such a flood, a key created on *another* instance less than one
//! refresh interval ago may be refused until this instance's next refresh.

mod last_used;
mod login;
mod misses;
mod principal;

#[cfg(test)]
mod tests;

// foldhash: looked up on every request. The maps hold only keys loaded from our database, so a caller
// can choose what to look up but not what is stored: there is nothing to flood.
use foldhash::{HashMap, HashMapExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use gaia_core::{ApiKey, GaiaError, Status};
use gaia_store::Store;

use crate::keys;
use misses::Misses;

pub use misses::{MAX_ABSENT, MISS_LOOKUPS_PER_SECOND, UnknownKeyCounts};
pub use principal::{AppliedLimits, KeyCaller, Principal, UserCaller};

#[derive(Debug, Clone)]
struct CachedKey {
    key: ApiKey,
    org_status: Status,
    org_limits: gaia_core::Limits,
}

#[derive(Debug, Default)]
struct Snapshot {
    by_lookup: HashMap<String, Arc<CachedKey>>,
    by_id: HashMap<String, Arc<CachedKey>>,
}

impl Snapshot {
    fn build(keys: impl IntoIterator<Item = CachedKey>) -> Self {
        let mut snap = Snapshot::default();
        for k in keys {
            snap.insert(Arc::new(k));
        }
        snap
    }

    fn insert(&mut self, k: Arc<CachedKey>) {
        self.by_id.insert(k.key.id.to_string(), k.clone());
        self.by_lookup.insert(k.key.lookup.clone(), k);
    }
}

/// The in-memory key table.
pub struct KeyCache {
    store: Store,
    admin_key_hash: Option<String>,
    keys: ArcSwap<Snapshot>,
    db_lookups: AtomicU64,
    misses: std::sync::Mutex<Misses>,
    unknown_from_memory: AtomicU64,
    unknown_from_database: AtomicU64,
    /// When each key was last used, since the last flush (kept in memory, written in batches).
    last_used: std::sync::Mutex<HashMap<String, DateTime<Utc>>>,
    tokens: Option<crate::tokens::TokenSigner>,
    /// Tells the other instances when keys or organizations change here.
    cluster: Option<Arc<gaia_cluster::Cluster>>,
}

fn invalid_key() -> GaiaError {
    GaiaError::unauthorized("invalid API key").with_code("invalid_api_key")
}

impl KeyCache {
    /// An empty cache; call [`KeyCache::refresh`] to fill it. `admin_key_hash` is the SHA-256 (hex,
    /// [`keys::hash_secret`]) of the bootstrap admin key: the key itself is never kept.
    pub fn new(store: Store, admin_key_hash: Option<String>) -> Self {
        Self {
            store,
            admin_key_hash,
            keys: ArcSwap::from_pointee(Snapshot::default()),
            db_lookups: AtomicU64::new(0),
            misses: std::sync::Mutex::new(Misses::new()),
            unknown_from_memory: AtomicU64::new(0),
            unknown_from_database: AtomicU64::new(0),
            last_used: std::sync::Mutex::new(HashMap::new()),
            tokens: None,
            cluster: None,
        }
    }

    /// Announces changes to the other instances of the cluster ([`KeyCache::changed`]).
    pub fn with_cluster(mut self, cluster: Arc<gaia_cluster::Cluster>) -> Self {
        self.cluster = Some(cluster);
        self
    }

    /// After a key or organization changed on this instance: reloads the cache here at once, and tells
    /// the other instances to reload theirs (within a second through Redis; without it, at their next
    /// periodic refresh).
    pub async fn changed(&self) -> Result<usize, GaiaError> {
        let n = self.refresh().await?;
        if let Some(cluster) = &self.cluster
            && let Err(e) = cluster.publish(gaia_cluster::Event::Keys).await
        {
            tracing::debug!(error = %e, "could not announce a key change; other instances see it at their next refresh");
        }
        Ok(n)
    }

    /// Also accepts login tokens signed by `signer`.
    pub fn with_tokens(mut self, signer: crate::tokens::TokenSigner) -> Self {
        self.tokens = Some(signer);
        self
    }

    pub fn tokens(&self) -> Option<&crate::tokens::TokenSigner> {
        self.tokens.as_ref()
    }

    /// Reloads every key from the database.
    pub async fn refresh(&self) -> Result<usize, GaiaError> {
        let rows = self.store.list_keys_with_org_status().await?;
        let snap =
            Snapshot::build(
                rows.into_iter()
                    .map(|(key, org_status, org_limits)| CachedKey {
                        key,
                        org_status,
                        org_limits,
                    }),
            );
        let n = snap.by_id.len();
        self.keys.store(Arc::new(snap));
        // Keys created since (here or elsewhere) are in the snapshot now: forget what was absent.
        if let Ok(mut misses) = self.misses.lock() {
            misses.absent.clear();
        }
        Ok(n)
    }

    /// How many times authentication had to ask the database (for tests and metrics).
    pub fn db_lookups(&self) -> u64 {
        self.db_lookups.load(Ordering::Relaxed)
    }

    fn check(cached: &CachedKey, secret: &str, now: DateTime<Utc>) -> Result<Principal, GaiaError> {
        if !keys::verify_secret(secret, &cached.key.secret_hash) {
            return Err(invalid_key());
        }
        Self::check_status(cached, now)
    }

    fn check_status(cached: &CachedKey, now: DateTime<Utc>) -> Result<Principal, GaiaError> {
        match cached.key.effective_status(now) {
            Status::Active => {}
            Status::Expired => {
                return Err(GaiaError::unauthorized("this API key has expired")
                    .with_code("expired_api_key"));
            }
            _ => {
                return Err(
                    GaiaError::unauthorized("this API key is revoked or inactive")
                        .with_code("inactive_api_key"),
                );
            }
        }
        if cached.org_status != Status::Active {
            return Err(
                GaiaError::unauthorized("the organization of this API key is inactive")
                    .with_code("inactive_organization"),
            );
        }
        Ok(Principal::Key(KeyCaller {
            id: cached.key.id.clone(),
            organization_id: cached.key.organization_id.clone(),
            permissions: cached.key.permissions,
            limits: AppliedLimits {
                key: cached.key.limits,
                organization: cached.org_limits,
            },
        }))
    }

    /// Authenticates a presented bearer token.
    pub async fn authenticate(
        &self,
        presented: &str,
        now: DateTime<Utc>,
    ) -> Result<Principal, GaiaError> {
        if let Some(hash) = &self.admin_key_hash
            && keys::verify_secret(presented, hash)
        {
            return Ok(Principal::BootstrapKey);
        }
        if presented.matches('.').count() == 2 && !presented.starts_with(keys::KEY_PREFIX) {
            return self.authenticate_token(presented, now).await;
        }
        let (lookup, secret) = keys::parse(presented).ok_or_else(invalid_key)?;
        if let Some(cached) = self.keys.load().by_lookup.get(lookup) {
            let principal = Self::check(cached, secret, now)?;
            self.touch(cached.key.id.as_str(), now);
            return Ok(principal);
        }
        self.authenticate_uncached(lookup, secret, now).await
    }

    /// A key not in the snapshot: maybe created on another instance since the last refresh. Looked up
    /// in the database (within the budget for unknown ids) and cached, whether it is valid or not.
    async fn authenticate_uncached(
        &self,
        lookup: &str,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<Principal, GaiaError> {
        if !self.may_look_up(lookup) {
            self.unknown_from_memory.fetch_add(1, Ordering::Relaxed);
            return Err(invalid_key());
        }
        self.db_lookups.fetch_add(1, Ordering::Relaxed);
        let Some(key) = self.store.find_api_key_by_lookup(lookup).await? else {
            self.unknown_from_database.fetch_add(1, Ordering::Relaxed);
            self.remember_absent(lookup);
            return Err(invalid_key());
        };
        let cached = self.with_organization(key).await;
        let result = Self::check(&cached, secret, now);
        if result.is_ok() {
            self.touch(cached.key.id.as_str(), now);
        }
        self.keys.rcu(|current| {
            let mut next = Snapshot {
                by_lookup: current.by_lookup.clone(),
                by_id: current.by_id.clone(),
            };
            next.insert(cached.clone());
            next
        });
        result
    }

    /// A key read from the database, with its organization's status and limits (inactive and unlimited
    /// when the organization cannot be read).
    async fn with_organization(&self, key: ApiKey) -> Arc<CachedKey> {
        let (org_status, org_limits) = self
            .store
            .get_organization(key.organization_id.as_str())
            .await
            .map(|o| (o.status, o.limits))
            .unwrap_or((Status::Inactive, gaia_core::Limits::default()));
        Arc::new(CachedKey {
            key,
            org_status,
            org_limits,
        })
    }

    /// The cached key for an id (for reads that show `last_used_at`).
    pub fn key_status_ok(&self, key_id: &str, now: DateTime<Utc>) -> bool {
        self.keys
            .load()
            .by_id
            .get(key_id)
            .is_some_and(|c| Self::check_status(c, now).is_ok())
    }
}
