use gaia_core::{Permission, Permissions};

use super::*;
use crate::bootstrap::{AdminKeyBootstrap, ensure_admin_key};
use gaia_store::StoreOptions;

async fn setup() -> (Store, String) {
    let store = Store::connect_and_migrate("sqlite::memory:", &StoreOptions::default())
        .await
        .unwrap();
    let AdminKeyBootstrap::Generated(key) = ensure_admin_key(&store, false).await.unwrap() else {
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
    // The last character changed (to another one: a key ending in 'x' once made this test pass it).
    let mut tampered = key.clone();
    let last = tampered.pop();
    tampered.push(if last == Some('x') { 'y' } else { 'x' });
    assert_ne!(tampered, key);
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
