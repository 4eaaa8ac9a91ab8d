//! Authenticating API keys from memory.
//!
//! Every key (hash, permissions, status, expiry, its organization's status) is held in a map keyed by its
//! public lookup id, filled at start and refreshed from the database in the background every
//! `refresh_interval` (the bound on how long a revoked key keeps working on an instance that did not
//! revoke it; the instance that revokes applies it at once). A key not in the map (created on another
//! instance since the last refresh) costs one database lookup, then it is cached. The hot path of a
//! request with a cached key therefore makes no database round-trip.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use gaia_core::{ApiKey, GaiaError, Permission, Permissions, Status};
use gaia_store::Store;

use crate::keys;

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// `None` for the bootstrap `GAIA_ADMIN_KEY`.
    pub key_id: Option<String>,
    pub organization_id: Option<String>,
    pub permissions: Permissions,
}

impl Principal {
    pub fn bootstrap_admin() -> Self {
        Self {
            key_id: None,
            organization_id: None,
            permissions: Permissions::from_slice(&[Permission::Admin]),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.permissions.allows(Permission::Admin)
    }
}

#[derive(Debug, Clone)]
struct CachedKey {
    key: ApiKey,
    org_status: Status,
}

/// The in-memory key table.
pub struct KeyCache {
    store: Store,
    admin_key_hash: Option<String>,
    keys: ArcSwap<HashMap<String, CachedKey>>,
    db_lookups: AtomicU64,
}

fn invalid_key() -> GaiaError {
    GaiaError::unauthorized("invalid API key").with_code("invalid_api_key")
}

impl KeyCache {
    /// An empty cache; call [`KeyCache::refresh`] to fill it.
    pub fn new(store: Store, admin_key: Option<&str>) -> Self {
        Self {
            store,
            admin_key_hash: admin_key.map(keys::hash_secret),
            keys: ArcSwap::from_pointee(HashMap::new()),
            db_lookups: AtomicU64::new(0),
        }
    }

    /// Reloads every key from the database.
    pub async fn refresh(&self) -> Result<usize, GaiaError> {
        let rows = self.store.list_keys_with_org_status().await?;
        let map: HashMap<String, CachedKey> = rows
            .into_iter()
            .map(|(key, org_status)| (key.lookup.clone(), CachedKey { key, org_status }))
            .collect();
        let n = map.len();
        self.keys.store(Arc::new(map));
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
        Ok(Principal {
            key_id: Some(cached.key.id.clone()),
            organization_id: Some(cached.key.organization_id.clone()),
            permissions: cached.key.permissions,
        })
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
            return Ok(Principal::bootstrap_admin());
        }
        let (lookup, secret) = keys::parse(presented).ok_or_else(invalid_key)?;
        if let Some(cached) = self.keys.load().get(lookup) {
            return Self::check(cached, secret, now);
        }
        // Not cached: maybe created on another instance since the last refresh.
        self.db_lookups.fetch_add(1, Ordering::Relaxed);
        let Some(key) = self.store.find_api_key_by_lookup(lookup).await? else {
            return Err(invalid_key());
        };
        let org_status = self
            .store
            .get_organization(&key.organization_id)
            .await
            .map(|o| o.status)
            .unwrap_or(Status::Inactive);
        let cached = CachedKey { key, org_status };
        let result = Self::check(&cached, secret, now);
        self.keys.rcu(|current| {
            let mut next = HashMap::clone(current);
            next.insert(cached.key.lookup.clone(), cached.clone());
            next
        });
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootstrap::{AdminKeyBootstrap, ensure_admin_key};
    use gaia_store::StoreOptions;

    async fn setup() -> (Store, String) {
        let store = Store::connect_and_migrate("sqlite::memory:", &StoreOptions::default())
            .await
            .unwrap();
        let AdminKeyBootstrap::Generated(key) = ensure_admin_key(&store, false).await.unwrap()
        else {
            panic!("expected a key")
        };
        (store, key.full)
    }

    #[tokio::test]
    async fn a_cached_key_authenticates_without_touching_the_database() {
        let (store, key) = setup().await;
        let cache = KeyCache::new(store, None);
        cache.refresh().await.unwrap();
        for _ in 0..10 {
            let p = cache.authenticate(&key, Utc::now()).await.unwrap();
            assert!(p.is_admin());
        }
        assert_eq!(cache.db_lookups(), 0);
    }

    #[tokio::test]
    async fn an_uncached_key_is_found_once_then_cached() {
        let (store, key) = setup().await;
        let cache = KeyCache::new(store, None);
        cache.authenticate(&key, Utc::now()).await.unwrap();
        cache.authenticate(&key, Utc::now()).await.unwrap();
        assert_eq!(cache.db_lookups(), 1);
    }

    #[tokio::test]
    async fn wrong_keys_are_refused_with_401() {
        let (store, key) = setup().await;
        let cache = KeyCache::new(store, Some("configured-admin-key-0001"));
        cache.refresh().await.unwrap();
        let mut tampered = key.clone();
        tampered.pop();
        tampered.push('x');
        for bad in ["", "Bearer", "sk-123", tampered.as_str()] {
            let e = cache.authenticate(bad, Utc::now()).await.unwrap_err();
            assert_eq!(e.status(), 401, "{bad}");
        }
        assert!(
            cache
                .authenticate("configured-admin-key-0001", Utc::now())
                .await
                .unwrap()
                .is_admin()
        );
    }
}
