//! The API-key service: creation (with its secret, shown once), reads, changes and revocation, each held
//! to what the caller may grant ([`grants`]).

use chrono::{DateTime, Utc};
use gaia_core::{ApiKey, GaiaError, Organization, Permission, Permissions, Status};
use gaia_store::api_keys::{ApiKeyFilter, ApiKeyPatch, NewApiKey};
use gaia_store::{Page, PageRequest, Store};

use super::input::{LimitsInput, LimitsPatch, check_future_expiry, parse_status, settable_status};
use super::organizations::get_organization;
use super::{key_not_found, need, org_not_found};
use crate::auth::Principal;
use crate::grants::{self, Ceiling, KeyChange, Whose};
use crate::keys;
use crate::validation as v;

#[derive(Debug, Clone, Default)]
pub struct CreateApiKey {
    pub organization_id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub permissions: Option<Vec<String>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub limits: LimitsInput,
}

/// A created key with its secret (shown once).
#[derive(Debug)]
pub struct CreatedKey {
    pub key: ApiKey,
    pub secret: String,
}

#[derive(Debug, Clone, Default)]
pub struct UpdateApiKey {
    pub name: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub permissions: Option<Vec<String>>,
    pub status: Option<String>,
    pub expires_at: Option<Option<DateTime<Utc>>>,
    pub limits: LimitsPatch,
}

fn check_grant(principal: &Principal, requested: Permissions) -> Result<(), GaiaError> {
    if principal.permissions().covers(requested) {
        Ok(())
    } else {
        Err(
            GaiaError::forbidden("a key cannot grant permissions its creator does not have")
                .with_param("permissions")
                .with_code("permission_denied"),
        )
    }
}

/// A caller may change or revoke only keys whose permissions it has itself (a write key may not strip or
/// alter a stronger credential).
fn check_stronger(principal: &Principal, target: &ApiKey) -> Result<(), GaiaError> {
    if principal.permissions().covers(target.permissions) {
        Ok(())
    } else {
        Err(GaiaError::forbidden(
            "a key cannot change or revoke a key with permissions it does not have itself",
        )
        .with_code("permission_denied"))
    }
}

/// The ceiling a key change is held to ([`grants`]): the caller's own key when the caller is a key
/// editing itself, or a non-admin key creating or editing another; `None` for admins and users.
async fn ceiling_for(
    store: &Store,
    principal: &Principal,
    target: Option<&ApiKey>,
) -> Result<Option<Ceiling>, GaiaError> {
    let Some(own) = principal.key() else {
        return Ok(None);
    };
    if let Some(t) = target
        && t.id == own.id
    {
        return Ok(Some(Ceiling::of(t, Whose::Itself)));
    }
    if principal.is_admin() {
        return Ok(None);
    }
    // The stored row, not the (up to a refresh old) cached one: an admin may just have tightened it.
    let own = store.get_api_key(own.id.as_str()).await?;
    Ok(Some(Ceiling::of(&own, Whose::Caller)))
}

/// The organization a new key is for: one the caller sees and may write to, and active.
async fn organization_for_new_key(
    store: &Store,
    principal: &Principal,
    organization_id: &str,
) -> Result<Organization, GaiaError> {
    let org_id = organization_id.trim();
    if org_id.is_empty() {
        // An id that names nothing, as any malformed id (T-10): 404.
        return Err(org_not_found().with_param("organization_id"));
    }
    let org = get_organization(store, principal, org_id).await?;
    need(principal, Permission::Write)?;
    if org.status != Status::Active {
        // The request is fine; the organization's state is not: 409.
        return Err(GaiaError::conflict(
            "the organization is inactive; activate it before adding keys",
        )
        .with_param("organization_id")
        .with_code("organization_inactive"));
    }
    Ok(org)
}

pub async fn create_api_key(
    store: &Store,
    principal: &Principal,
    input: CreateApiKey,
    now: DateTime<Utc>,
) -> Result<CreatedKey, GaiaError> {
    let org = organization_for_new_key(store, principal, &input.organization_id).await?;
    let permissions = match &input.permissions {
        Some(list) => v::permissions(list)?,
        None => Permissions::from_slice(&[Permission::Read, Permission::Write]),
    };
    check_grant(principal, permissions)?;
    check_future_expiry(input.expires_at, now)?;
    let name = input
        .name
        .as_deref()
        .map(|n| v::name("name", n))
        .transpose()?;
    let description = v::description(input.description)?;
    let mut limits = input.limits.validate()?;
    let mut expires_at = input.expires_at;
    if let Some(ceiling) = ceiling_for(store, principal, None).await? {
        grants::check_new_permissions(&ceiling, permissions)?;
        limits = grants::limits_for_new_key(&ceiling, limits)?;
        expires_at = grants::expiry_for_new_key(&ceiling, expires_at)?;
    }
    let generated = keys::generate();
    let new = NewApiKey {
        organization_id: org.id.to_string(),
        lookup: generated.lookup.clone(),
        secret_hash: generated.secret_hash.clone(),
        hint: generated.hint.clone(),
        name,
        description,
        permissions,
        limits,
        expires_at,
    };
    Ok(CreatedKey {
        key: store.create_api_key(new, now).await?,
        secret: generated.full,
    })
}

pub async fn get_api_key(
    store: &Store,
    principal: &Principal,
    id: &str,
) -> Result<ApiKey, GaiaError> {
    let key = store.get_api_key(id).await.map_err(|e| match e {
        gaia_store::StoreError::NotFound(_) => key_not_found(),
        e => e.into(),
    })?;
    if !principal.can_see_org(key.organization_id.as_str()) {
        return Err(key_not_found());
    }
    Ok(key)
}

pub async fn list_api_keys(
    store: &Store,
    principal: &Principal,
    organization_id: Option<String>,
    status: Option<&str>,
    search: Option<String>,
    page: PageRequest,
    now: DateTime<Utc>,
) -> Result<Page<ApiKey>, GaiaError> {
    let organization_id = match (principal.org_scope(), organization_id) {
        (Some(own), Some(asked)) if *own != *asked => {
            return Ok(Page {
                items: vec![],
                total: 0,
                page: page.page,
                limit: page.limit,
            });
        }
        (Some(own), _) => Some(own.to_string()),
        (None, asked) => asked,
    };
    let mut filter = ApiKeyFilter {
        organization_id,
        search,
        ..Default::default()
    };
    match status {
        None => {}
        Some("expired") => filter.expired_at = Some(now),
        Some(s) => {
            filter.status = Some(parse_status(
                "status",
                s,
                &[
                    Status::Active,
                    Status::Inactive,
                    Status::Revoked,
                    Status::Expired,
                ],
            )?)
        }
    }
    Ok(store.list_api_keys(&filter, page).await?)
}

/// Refuses to change a revoked key.
fn refuse_revoked(key: &ApiKey) -> Result<(), GaiaError> {
    if key.status == Status::Revoked {
        return Err(
            GaiaError::conflict("a revoked key cannot be changed; create a new one")
                .with_code("api_key_revoked"),
        );
    }
    Ok(())
}

pub async fn update_api_key(
    store: &Store,
    principal: &Principal,
    id: &str,
    input: UpdateApiKey,
    now: DateTime<Utc>,
) -> Result<ApiKey, GaiaError> {
    let current = get_api_key(store, principal, id).await?;
    need(principal, Permission::Write)?;
    refuse_revoked(&current)?;
    check_stronger(principal, &current)?;
    let permissions = input
        .permissions
        .as_deref()
        .map(v::permissions)
        .transpose()?;
    if let Some(p) = permissions {
        check_grant(principal, p)?;
    }
    check_future_expiry(input.expires_at.flatten(), now)?;
    let limits = input.limits.validate()?;
    let status = settable_status(input.status.as_deref())?;
    if let Some(ceiling) = ceiling_for(store, principal, Some(&current)).await? {
        let change = KeyChange {
            permissions,
            status,
            expires_at: input.expires_at,
            limits,
        };
        grants::check_change(&ceiling, &current, &change)?;
    }
    let patch = ApiKeyPatch {
        name: input
            .name
            .map(|n| n.as_deref().map(|n| v::name("name", n)).transpose())
            .transpose()?,
        description: input.description.map(v::description).transpose()?,
        permissions,
        status,
        expires_at: input.expires_at,
        limits,
    };
    Ok(store.update_api_key(id, patch, now).await?)
}

/// Revokes a key (soft delete: it stays for statistics, it never works again).
pub async fn revoke_api_key(
    store: &Store,
    principal: &Principal,
    id: &str,
    now: DateTime<Utc>,
) -> Result<ApiKey, GaiaError> {
    let current = get_api_key(store, principal, id).await?;
    need(principal, Permission::Write)?;
    check_stronger(principal, &current)?;
    let patch = ApiKeyPatch {
        status: Some(Status::Revoked),
        ..Default::default()
    };
    Ok(store.update_api_key(id, patch, now).await?)
}
