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

// foldhash: looked up on every request. The maps hold only keys loaded from our database, so a caller
// can choose what to look up but not what is stored: there is nothing to flood.
use foldhash::{HashMap, HashMapExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use gaia_core::{
    ApiKey, ApiKeyId, GaiaError, OrganizationId, Permission, Permissions, Status, UserId, UserRole,
};
use gaia_store::Store;

use crate::keys;

/// The limits that apply to a key's requests: its own and its organization's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AppliedLimits {
    pub key: gaia_core::Limits,
    pub organization: gaia_core::Limits,
}

/// A stored API key calling (directly, or through a key-login token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCaller {
    pub id: ApiKeyId,
    pub organization_id: OrganizationId,
    pub permissions: Permissions,
    /// The limits to enforce on its inference requests.
    pub limits: AppliedLimits,
}

/// An admin-UI user calling with a login token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCaller {
    pub id: UserId,
    pub username: String,
    pub role: UserRole,
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The `GAIA_ADMIN_KEY` from the environment: an administrator of no organization.
    BootstrapKey,
    Key(KeyCaller),
    User(UserCaller),
}

impl Principal {
    /// What this caller may do.
    pub fn permissions(&self) -> Permissions {
        match self {
            Principal::BootstrapKey => Permissions::from_slice(&[Permission::Admin]),
            Principal::Key(k) => k.permissions,
            Principal::User(u) => u.role.permissions(),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.allows(Permission::Admin)
    }

    pub fn allows(&self, p: Permission) -> bool {
        self.permissions().allows(p)
    }

    /// The calling key, for key principals.
    pub fn key(&self) -> Option<&KeyCaller> {
        match self {
            Principal::Key(k) => Some(k),
            _ => None,
        }
    }

    /// The organization this caller is confined to: `None` for admins and UI users (who see every
    /// organization, read-only unless admin), `Some(org)` for every non-admin key.
    pub fn org_scope(&self) -> Option<&OrganizationId> {
        match self {
            Principal::Key(k) if !k.permissions.allows(Permission::Admin) => {
                Some(&k.organization_id)
            }
            _ => None,
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
        self.by_id.insert(k.key.id.to_string(), k.clone());
        self.by_lookup.insert(k.key.lookup.clone(), k);
    }
}

/// Most lookup ids remembered as absent; past it, the set is emptied and starts again.
pub const MAX_ABSENT: usize = 10_000;
/// Most distinct unknown lookup ids looked up in the database per second and instance.
pub const MISS_LOOKUPS_PER_SECOND: u32 = 20;

/// Lookup ids the database did not know, and the budget of lookups for the ones not seen yet.
#[derive(Debug)]
struct Misses {
    absent: foldhash::HashSet<String>,
    window_started: std::time::Instant,
    /// The distinct lookup ids looked up in this second (at most [`MISS_LOOKUPS_PER_SECOND`]): a key
    /// many clients start using at once on this instance (created on another) is one id, looked up by
    /// all of them, not a flood.
    looked_up: Vec<String>,
}

impl Misses {
    fn new() -> Self {
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
        // Keys created since (here or elsewhere) are in the snapshot now: forget what was absent.
        if let Ok(mut misses) = self.misses.lock() {
            misses.absent.clear();
        }
        Ok(n)
    }

    /// How unknown keys were answered so far.
    pub fn unknown_keys(&self) -> UnknownKeyCounts {
        UnknownKeyCounts {
            from_memory: self.unknown_from_memory.load(Ordering::Relaxed),
            from_database: self.unknown_from_database.load(Ordering::Relaxed),
        }
    }

    /// Whether an unknown lookup id may be looked up in the database: not remembered as absent, and
    /// within this second's budget.
    fn may_look_up(&self, lookup: &str) -> bool {
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

    fn remember_absent(&self, lookup: &str) {
        if let Ok(mut misses) = self.misses.lock() {
            if misses.absent.len() >= MAX_ABSENT {
                misses.absent.clear();
            }
            misses.absent.insert(lookup.to_owned());
        }
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
        // Not cached: maybe created on another instance since the last refresh.
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
        let (org_status, org_limits) = self
            .store
            .get_organization(key.organization_id.as_str())
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
                };
                let principal = Self::check_status(&cached, now)?;
                self.touch(cached.key.id.as_str(), now);
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
                Ok(Principal::User(UserCaller {
                    id: user.id,
                    username: user.username,
                    role: user.role,
                }))
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

    fn made_up(i: usize) -> String {
        format!("gaia_{:0>12}_{}", i, "s".repeat(40))
    }

    #[tokio::test]
    async fn a_flood_of_made_up_keys_is_answered_from_memory() {
        let (store, _) = setup().await;
        let cache = KeyCache::new(store, None);
        cache.refresh().await.unwrap();
        // The same unknown key again and again: one database lookup.
        for _ in 0..50 {
            let e = cache
                .authenticate(&made_up(1), Utc::now())
                .await
                .unwrap_err();
            assert_eq!(e.status(), 401);
        }
        assert_eq!(cache.db_lookups(), 1);
        // A thousand different ones: at most the budget per second reaches the database.
        let started = std::time::Instant::now();
        for i in 0..1000 {
            assert!(
                cache
                    .authenticate(&made_up(100 + i), Utc::now())
                    .await
                    .is_err()
            );
        }
        let seconds = started.elapsed().as_secs() + 1;
        let budget = seconds * u64::from(MISS_LOOKUPS_PER_SECOND);
        assert!(cache.db_lookups() <= 1 + budget, "{}", cache.db_lookups());
        let counts = cache.unknown_keys();
        assert_eq!(counts.from_memory + counts.from_database, 1050);
        assert!(counts.from_memory >= 1050 - 1 - budget);
    }

    /// The budget is for distinct ids: a key created on another instance, then used by many clients at
    /// once here, is looked up as often as it takes and never refused (two instances sharing a key got
    /// 401s when the budget counted lookups).
    #[tokio::test]
    async fn many_requests_for_one_new_key_are_never_refused_by_the_lookup_budget() {
        let (store, key) = setup().await;
        let cache = Arc::new(KeyCache::new(store, None));
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let cache = cache.clone();
                let key = key.clone();
                tokio::spawn(async move { cache.authenticate(&key, Utc::now()).await.is_ok() })
            })
            .collect();
        for t in tasks {
            assert!(t.await.unwrap());
        }
    }

    #[tokio::test]
    async fn a_key_created_after_its_lookup_was_remembered_absent_works_after_the_refresh() {
        let (store, _) = setup().await;
        let cache = KeyCache::new(store.clone(), None);
        cache.refresh().await.unwrap();
        let generated = keys::generate();
        assert!(
            cache
                .authenticate(&generated.full, Utc::now())
                .await
                .is_err()
        );
        let org = store
            .create_organization(
                gaia_store::organizations::NewOrganization {
                    name: "late".into(),
                    ..Default::default()
                },
                Utc::now(),
            )
            .await
            .unwrap();
        store
            .create_api_key(
                gaia_store::api_keys::NewApiKey {
                    organization_id: org.id.to_string(),
                    lookup: generated.lookup.clone(),
                    secret_hash: generated.secret_hash.clone(),
                    hint: generated.hint.clone(),
                    name: None,
                    description: None,
                    permissions: Permissions::from_slice(&[Permission::Read]),
                    limits: gaia_core::Limits::default(),
                    expires_at: None,
                },
                Utc::now(),
            )
            .await
            .unwrap();
        // Remembered absent: refused from memory until the refresh (every 5 s, and at every creation).
        assert!(
            cache
                .authenticate(&generated.full, Utc::now())
                .await
                .is_err()
        );
        cache.refresh().await.unwrap();
        assert!(
            cache
                .authenticate(&generated.full, Utc::now())
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn wrong_keys_are_refused_with_401() {
        let (store, key) = setup().await;
        let cache = KeyCache::new(store, Some(keys::hash_secret("configured-admin-key-0001")));
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
