//! Authenticating API keys from memory.
//!
//! Every key (hash, permissions, status, expiry, its organization's status) is held in a map keyed by its
//! public lookup id, filled at start and refreshed from the database in the background every
//! `refresh_interval` (the bound on how long a revoked key keeps working on an instance that did not
//! revoke it; the instance that revokes applies it at once). A key not in the map (created on another
//! instance since the last refresh) costs one database lookup, then it is cached. The hot path of a
//! request with a cached key therefore makes no database round-trip.

// foldhash: looked up on every request. The maps hold only keys loaded from our database, so a caller
// can choose what to look up but not what is stored: there is nothing to flood.
use foldhash::{HashMap, HashMapExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use gaia_core::{ApiKey, GaiaError, Permission, Permissions, Status};
use gaia_store::Store;

use crate::keys;

/// How the caller authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    /// The `GAIA_ADMIN_KEY` from the environment.
    BootstrapKey,
    /// A stored API key (directly, or through a key-login token).
    Key,
    /// An admin-UI user's login token.
    User,
}

/// The limits that apply to a key's requests: its own and its organization's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AppliedLimits {
    pub key: gaia_core::Limits,
    pub organization: gaia_core::Limits,
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub kind: PrincipalKind,
    /// The key, for `Key` principals.
    pub key_id: Option<String>,
    /// The key's organization; `None` means no organization scope (admins, users).
    pub organization_id: Option<String>,
    /// The user, for `User` principals.
    pub user_id: Option<String>,
    pub username: Option<String>,
    pub permissions: Permissions,
    /// For `Key` principals: the limits to enforce on inference.
    pub limits: Option<AppliedLimits>,
}

impl Principal {
    pub fn bootstrap_admin() -> Self {
        Self {
            kind: PrincipalKind::BootstrapKey,
            key_id: None,
            organization_id: None,
            user_id: None,
            username: None,
            permissions: Permissions::from_slice(&[Permission::Admin]),
            limits: None,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.permissions.allows(Permission::Admin)
    }

    pub fn allows(&self, p: Permission) -> bool {
        self.permissions.allows(p)
    }

    /// The organization this caller is confined to: `None` for admins and UI users (who see every
    /// organization, read-only unless admin), `Some(org)` for every non-admin key.
    pub fn org_scope(&self) -> Option<&str> {
        if self.is_admin() || self.kind == PrincipalKind::User {
            None
        } else {
            self.organization_id.as_deref()
        }
    }

    /// Whether this caller may see resources of `org_id`.
    pub fn can_see_org(&self, org_id: &str) -> bool {
        self.org_scope().is_none_or(|own| own == org_id)
    }
}

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
        self.by_id.insert(k.key.id.clone(), k.clone());
        self.by_lookup.insert(k.key.lookup.clone(), k);
    }
}

/// The in-memory key table.
pub struct KeyCache {
    store: Store,
    admin_key_hash: Option<String>,
    keys: ArcSwap<Snapshot>,
    db_lookups: AtomicU64,
    /// When each key was last used, since the last flush (kept in memory, written in batches).
    last_used: std::sync::Mutex<HashMap<String, DateTime<Utc>>>,
    tokens: Option<crate::tokens::TokenSigner>,
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
            keys: ArcSwap::from_pointee(Snapshot::default()),
            db_lookups: AtomicU64::new(0),
            last_used: std::sync::Mutex::new(HashMap::new()),
            tokens: None,
        }
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
        Ok(n)
    }

    /// The last use of a key seen by this instance and not yet written, if any.
    pub fn pending_last_used(&self, key_id: &str) -> Option<DateTime<Utc>> {
        self.last_used.lock().ok()?.get(key_id).copied()
    }

    /// Writes the collected last-use times (called periodically and at shutdown).
    pub async fn flush_last_used(&self) -> Result<usize, GaiaError> {
        let batch: Vec<(String, DateTime<Utc>)> = match self.last_used.lock() {
            Ok(mut map) => map.drain().collect(),
            Err(_) => return Ok(0),
        };
        if batch.is_empty() {
            return Ok(0);
        }
        if let Err(e) = self.store.touch_api_keys(&batch).await {
            // Keep them for the next flush rather than lose them.
            if let Ok(mut map) = self.last_used.lock() {
                for (id, at) in batch {
                    let slot = map.entry(id).or_insert(at);
                    *slot = (*slot).max(at);
                }
            }
            return Err(e.into());
        }
        Ok(batch.len())
    }

    fn touch(&self, key_id: &str, now: DateTime<Utc>) {
        if let Ok(mut map) = self.last_used.lock() {
            match map.get_mut(key_id) {
                Some(at) => *at = now,
                None => {
                    map.insert(key_id.to_owned(), now);
                }
            }
        }
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
        Ok(Principal {
            kind: PrincipalKind::Key,
            key_id: Some(cached.key.id.clone()),
            organization_id: Some(cached.key.organization_id.clone()),
            user_id: None,
            username: None,
            permissions: cached.key.permissions,
            limits: Some(AppliedLimits {
                key: cached.key.limits,
                organization: cached.org_limits,
            }),
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
        if presented.matches('.').count() == 2 && !presented.starts_with(keys::KEY_PREFIX) {
            return self.authenticate_token(presented, now).await;
        }
        let (lookup, secret) = keys::parse(presented).ok_or_else(invalid_key)?;
        if let Some(cached) = self.keys.load().by_lookup.get(lookup) {
            let principal = Self::check(cached, secret, now)?;
            self.touch(&cached.key.id, now);
            return Ok(principal);
        }
        // Not cached: maybe created on another instance since the last refresh.
        self.db_lookups.fetch_add(1, Ordering::Relaxed);
        let Some(key) = self.store.find_api_key_by_lookup(lookup).await? else {
            return Err(invalid_key());
        };
        let (org_status, org_limits) = self
            .store
            .get_organization(&key.organization_id)
            .await
            .map(|o| (o.status, o.limits))
            .unwrap_or((Status::Inactive, gaia_core::Limits::default()));
        let cached = Arc::new(CachedKey {
            key,
            org_status,
            org_limits,
        });
        let result = Self::check(&cached, secret, now);
        if result.is_ok() {
            self.touch(&cached.key.id, now);
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

    /// A login token: a user's (checked against the database: management endpoints only) or a
    /// key-login token (checked against the cached key, so a revoked key's tokens stop working).
    async fn authenticate_token(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Principal, GaiaError> {
        let signer = self.tokens.as_ref().ok_or_else(|| {
            GaiaError::unauthorized("login tokens are not enabled").with_code("invalid_token")
        })?;
        let claims = signer.verify(token)?;
        match claims.kind.as_str() {
            "key" => {
                let cached = self.keys.load().by_id.get(&claims.sub).cloned();
                let cached = match cached {
                    Some(c) => c,
                    None => {
                        self.db_lookups.fetch_add(1, Ordering::Relaxed);
                        let key = self.store.get_api_key(&claims.sub).await.map_err(|_| {
                            GaiaError::unauthorized("the API key of this token no longer exists")
                                .with_code("invalid_token")
                        })?;
                        let (org_status, org_limits) = self
                            .store
                            .get_organization(&key.organization_id)
                            .await
                            .map(|o| (o.status, o.limits))
                            .unwrap_or((Status::Inactive, gaia_core::Limits::default()));
                        Arc::new(CachedKey {
                            key,
                            org_status,
                            org_limits,
                        })
                    }
                };
                let principal = Self::check_status(&cached, now)?;
                self.touch(&cached.key.id, now);
                Ok(principal)
            }
            "user" => {
                let user = self.store.get_user(&claims.sub).await.map_err(|_| {
                    GaiaError::unauthorized("the user of this token no longer exists")
                        .with_code("invalid_token")
                })?;
                if user.status != "active" {
                    return Err(
                        GaiaError::unauthorized("this user is inactive").with_code("inactive_user")
                    );
                }
                let perms = if user.role == "admin" {
                    Permissions::from_slice(&[Permission::Admin])
                } else {
                    Permissions::from_slice(&[Permission::Read])
                };
                Ok(Principal {
                    kind: PrincipalKind::User,
                    key_id: None,
                    organization_id: None,
                    user_id: Some(user.id),
                    username: Some(user.username),
                    permissions: perms,
                    limits: None,
                })
            }
            _ => Err(GaiaError::unauthorized("unrecognised token").with_code("invalid_token")),
        }
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
        // Last use is kept in memory, then written in one batch.
        assert_eq!(cache.flush_last_used().await.unwrap(), 1);
        assert_eq!(cache.flush_last_used().await.unwrap(), 0);
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
