//! First-start bootstrap: an organization to own the first admin key, and that key.
//!
//! When `GAIA_ADMIN_KEY` is configured it is accepted in memory (its hash only) and nothing is generated.
//! Otherwise, on the first start against an empty database, an admin key is generated, its hash stored,
//! and the key returned once so the binary can print it. Later starts find the key and generate nothing.

use chrono::Utc;
use gaia_core::{GaiaError, Limits, OrganizationId, Permission, Permissions};
use gaia_store::Store;
use gaia_store::api_keys::NewApiKey;
use gaia_store::organizations::NewOrganization;

use crate::keys;

/// The organization that owns bootstrap credentials.
pub const DEFAULT_ORGANIZATION: &str = "default";

/// What the bootstrap did.
#[derive(Debug)]
pub enum AdminKeyBootstrap {
    /// An admin key already existed (or one is configured); nothing was generated.
    Existing,
    /// A key was generated: show it once, it is not recoverable.
    Generated(keys::GeneratedKey),
}

/// Finds or creates the default organization, returning its id.
pub async fn ensure_default_organization(store: &Store) -> Result<OrganizationId, GaiaError> {
    if let Some(org) = store
        .find_organization_by_name(DEFAULT_ORGANIZATION)
        .await?
    {
        return Ok(org.id);
    }
    let new = NewOrganization {
        name: DEFAULT_ORGANIZATION.to_owned(),
        description: Some("Created at first start; owns the bootstrap admin key.".to_owned()),
        limits: Limits::default(),
    };
    match store.create_organization(new, Utc::now()).await {
        Ok(org) => Ok(org.id),
        // Another instance created it concurrently.
        Err(gaia_store::StoreError::Conflict(_)) => store
            .find_organization_by_name(DEFAULT_ORGANIZATION)
            .await?
            .map(|o| o.id)
            .ok_or_else(|| GaiaError::internal("default organization vanished")),
        Err(e) => Err(e.into()),
    }
}

/// Generates an admin key if none is configured and none exists.
pub async fn ensure_admin_key(
    store: &Store,
    configured_admin_key: bool,
) -> Result<AdminKeyBootstrap, GaiaError> {
    if configured_admin_key || store.count_active_admin_keys().await? > 0 {
        return Ok(AdminKeyBootstrap::Existing);
    }
    let org_id = ensure_default_organization(store).await?;
    let key = keys::generate();
    store
        .create_api_key(
            NewApiKey {
                organization_id: org_id.to_string(),
                lookup: key.lookup.clone(),
                secret_hash: key.secret_hash.clone(),
                hint: key.hint.clone(),
                name: Some("bootstrap admin".to_owned()),
                description: Some("Generated at first start.".to_owned()),
                permissions: Permissions::from_slice(&[Permission::Admin]),
                limits: Limits::default(),
                expires_at: None,
            },
            Utc::now(),
        )
        .await?;
    Ok(AdminKeyBootstrap::Generated(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gaia_store::StoreOptions;

    #[tokio::test]
    async fn the_first_start_generates_one_admin_key_and_later_starts_none() {
        let store = Store::connect_and_migrate("sqlite::memory:", &StoreOptions::default())
            .await
            .unwrap();
        let first = ensure_admin_key(&store, false).await.unwrap();
        let AdminKeyBootstrap::Generated(key) = first else {
            panic!("expected a generated key");
        };
        let stored = store
            .find_api_key_by_lookup(&key.lookup)
            .await
            .unwrap()
            .unwrap();
        assert!(stored.permissions.allows(Permission::Admin));
        assert_ne!(stored.secret_hash, key.full, "only the hash is stored");
        let (_, secret) = keys::parse(&key.full).unwrap();
        assert!(keys::verify_secret(secret, &stored.secret_hash));
        assert!(matches!(
            ensure_admin_key(&store, false).await.unwrap(),
            AdminKeyBootstrap::Existing
        ));
    }

    #[tokio::test]
    async fn a_configured_admin_key_suppresses_generation() {
        let store = Store::connect_and_migrate("sqlite::memory:", &StoreOptions::default())
            .await
            .unwrap();
        assert!(matches!(
            ensure_admin_key(&store, true).await.unwrap(),
            AdminKeyBootstrap::Existing
        ));
        assert_eq!(store.count_active_admin_keys().await.unwrap(), 0);
    }
}
