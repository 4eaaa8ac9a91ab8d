//! Organization and API-key services: validation, permission scoping and the store calls, so handlers
//! only extract and map. Cross-organization access answers 404 (existence is not leaked).

use chrono::{DateTime, Utc};
use gaia_core::{
    ApiKey, GaiaError, Limits, LimitsChange, Organization, Permission, Permissions, Status,
};
use gaia_store::api_keys::{ApiKeyFilter, ApiKeyPatch, NewApiKey};
use gaia_store::organizations::{NewOrganization, OrganizationFilter, OrganizationPatch};
use gaia_store::{Page, PageRequest, Store};

use crate::auth::Principal;
use crate::grants::{self, Ceiling, KeyChange, Whose};
use crate::keys;
use crate::validation as v;

fn org_not_found() -> GaiaError {
    GaiaError::not_found("organization not found").with_code("organization_not_found")
}

fn key_not_found() -> GaiaError {
    GaiaError::not_found("API key not found").with_code("api_key_not_found")
}

fn need(principal: &Principal, p: Permission) -> Result<(), GaiaError> {
    if principal.allows(p) {
        Ok(())
    } else {
        Err(
            GaiaError::forbidden(format!("this needs the '{p}' permission"))
                .with_code("permission_denied"),
        )
    }
}

/// Limits as clients send them (cost in USD).
#[derive(Debug, Clone, Default)]
pub struct LimitsInput {
    pub monthly_requests_limit: Option<i64>,
    pub monthly_tokens_limit: Option<i64>,
    pub monthly_cost_limit: Option<f64>,
    pub rate_limit_rpm: Option<i64>,
}

impl LimitsInput {
    fn validate(&self) -> Result<Limits, GaiaError> {
        Ok(Limits {
            monthly_requests: v::count_limit(
                "monthly_requests_limit",
                self.monthly_requests_limit,
            )?,
            monthly_tokens: v::count_limit("monthly_tokens_limit", self.monthly_tokens_limit)?,
            monthly_cost_nanos: v::cost_limit("monthly_cost_limit", self.monthly_cost_limit)?,
            rate_limit_rpm: v::rpm(self.rate_limit_rpm)?,
        })
    }
}

/// A partial update of limits: `None` = unchanged, `Some(None)` = unlimited.
#[derive(Debug, Clone, Default)]
pub struct LimitsPatch {
    pub monthly_requests_limit: Option<Option<i64>>,
    pub monthly_tokens_limit: Option<Option<i64>>,
    pub monthly_cost_limit: Option<Option<f64>>,
    pub rate_limit_rpm: Option<Option<i64>>,
}

impl LimitsPatch {
    fn validate(&self) -> Result<LimitsChange, GaiaError> {
        Ok(LimitsChange {
            monthly_requests: self
                .monthly_requests_limit
                .map(|x| v::count_limit("monthly_requests_limit", x))
                .transpose()?,
            monthly_tokens: self
                .monthly_tokens_limit
                .map(|x| v::count_limit("monthly_tokens_limit", x))
                .transpose()?,
            monthly_cost_nanos: self
                .monthly_cost_limit
                .map(|x| v::cost_limit("monthly_cost_limit", x))
                .transpose()?,
            rate_limit_rpm: self.rate_limit_rpm.map(v::rpm).transpose()?,
        })
    }
}

// ------------------------------------------------------------------ organizations

#[derive(Debug, Clone, Default)]
pub struct CreateOrganization {
    pub name: String,
    pub description: Option<String>,
    pub status: Option<String>,
    pub limits: LimitsInput,
}

fn parse_status(field: &str, s: &str, allowed: &[Status]) -> Result<Status, GaiaError> {
    Status::parse(s)
        .filter(|st| allowed.contains(st))
        .ok_or_else(|| {
            let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
            GaiaError::invalid_request(format!("`{field}` must be one of {}", names.join(", ")))
                .with_param(field)
                .with_code("invalid_value")
        })
}

pub async fn create_organization(
    store: &Store,
    principal: &Principal,
    input: CreateOrganization,
    now: DateTime<Utc>,
) -> Result<Organization, GaiaError> {
    need(principal, Permission::Admin)?;
    let name = v::name("name", &input.name)?;
    let description = v::description(input.description)?;
    let limits = input.limits.validate()?;
    let status = input
        .status
        .as_deref()
        .map(|s| parse_status("status", s, &[Status::Active, Status::Inactive]))
        .transpose()?;
    let mut org = store
        .create_organization(
            NewOrganization {
                name,
                description,
                limits,
            },
            now,
        )
        .await?;
    if status == Some(Status::Inactive) {
        org = store
            .update_organization(
                org.id.as_str(),
                OrganizationPatch {
                    status: Some(Status::Inactive),
                    ..Default::default()
                },
                now,
            )
            .await?;
    }
    Ok(org)
}

pub async fn get_organization(
    store: &Store,
    principal: &Principal,
    id: &str,
) -> Result<Organization, GaiaError> {
    if !principal.can_see_org(id) {
        return Err(org_not_found());
    }
    store.get_organization(id).await.map_err(|e| match e {
        gaia_store::StoreError::NotFound(_) => org_not_found(),
        e => e.into(),
    })
}

pub async fn list_organizations(
    store: &Store,
    principal: &Principal,
    status: Option<&str>,
    search: Option<String>,
    page: PageRequest,
) -> Result<Page<Organization>, GaiaError> {
    let status = status
        .map(|s| parse_status("status", s, &[Status::Active, Status::Inactive]))
        .transpose()?;
    let filter = OrganizationFilter {
        status,
        search,
        id: principal.org_scope().map(|id| id.to_string()),
    };
    Ok(store.list_organizations(&filter, page).await?)
}

#[derive(Debug, Clone, Default)]
pub struct UpdateOrganization {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub status: Option<String>,
    pub limits: LimitsPatch,
}

pub async fn update_organization(
    store: &Store,
    principal: &Principal,
    id: &str,
    input: UpdateOrganization,
    now: DateTime<Utc>,
) -> Result<Organization, GaiaError> {
    get_organization(store, principal, id).await?;
    need(principal, Permission::Admin)?;
    let limits = input.limits.validate()?;
    let patch = OrganizationPatch {
        name: input
            .name
            .as_deref()
            .map(|n| v::name("name", n))
            .transpose()?,
        description: input.description.map(v::description).transpose()?,
        status: input
            .status
            .as_deref()
            .map(|s| parse_status("status", s, &[Status::Active, Status::Inactive]))
            .transpose()?,
        limits,
    };
    Ok(store.update_organization(id, patch, now).await?)
}

/// Soft delete: the organization becomes inactive, its keys stop working, its history stays.
pub async fn deactivate_organization(
    store: &Store,
    principal: &Principal,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Organization, GaiaError> {
    get_organization(store, principal, id).await?;
    need(principal, Permission::Admin)?;
    Ok(store
        .update_organization(
            id,
            OrganizationPatch {
                status: Some(Status::Inactive),
                ..Default::default()
            },
            now,
        )
        .await?)
}

// ------------------------------------------------------------------ API keys

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

pub async fn create_api_key(
    store: &Store,
    principal: &Principal,
    input: CreateApiKey,
    now: DateTime<Utc>,
) -> Result<CreatedKey, GaiaError> {
    let org_id = input.organization_id.trim().to_owned();
    if org_id.is_empty() {
        // An id that names nothing, as any malformed id (T-10): 404.
        return Err(org_not_found().with_param("organization_id"));
    }
    let org = get_organization(store, principal, &org_id).await?;
    need(principal, Permission::Write)?;
    if org.status != Status::Active {
        // The request is fine; the organization's state is not: 409.
        return Err(GaiaError::conflict(
            "the organization is inactive; activate it before adding keys",
        )
        .with_param("organization_id")
        .with_code("organization_inactive"));
    }
    let permissions = match &input.permissions {
        Some(list) => v::permissions(list)?,
        None => Permissions::from_slice(&[Permission::Read, Permission::Write]),
    };
    check_grant(principal, permissions)?;
    if let Some(exp) = input.expires_at
        && exp <= now
    {
        return Err(
            // Well-formed, refused by a rule no schema can state: 422, not 400.
            GaiaError::unprocessable("`expires_at` must be in the future")
                .with_param("expires_at")
                .with_code("invalid_value"),
        );
    }
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
    let key = store
        .create_api_key(
            NewApiKey {
                organization_id: org.id.to_string(),
                lookup: generated.lookup.clone(),
                secret_hash: generated.secret_hash.clone(),
                hint: generated.hint.clone(),
                name,
                description,
                permissions,
                limits,
                expires_at,
            },
            now,
        )
        .await?;
    Ok(CreatedKey {
        key,
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

#[derive(Debug, Clone, Default)]
pub struct UpdateApiKey {
    pub name: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub permissions: Option<Vec<String>>,
    pub status: Option<String>,
    pub expires_at: Option<Option<DateTime<Utc>>>,
    pub limits: LimitsPatch,
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
    if current.status == Status::Revoked {
        return Err(
            GaiaError::conflict("a revoked key cannot be changed; create a new one")
                .with_code("api_key_revoked"),
        );
    }
    check_stronger(principal, &current)?;
    let permissions = input
        .permissions
        .as_deref()
        .map(v::permissions)
        .transpose()?;
    if let Some(p) = permissions {
        check_grant(principal, p)?;
    }
    if let Some(Some(exp)) = input.expires_at
        && exp <= now
    {
        return Err(
            // Well-formed, refused by a rule no schema can state: 422, not 400.
            GaiaError::unprocessable("`expires_at` must be in the future")
                .with_param("expires_at")
                .with_code("invalid_value"),
        );
    }
    let limits = input.limits.validate()?;
    let status = input
        .status
        .as_deref()
        .map(|s| parse_status("status", s, &[Status::Active, Status::Inactive]))
        .transpose()?;
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
    Ok(store
        .update_api_key(
            id,
            ApiKeyPatch {
                status: Some(Status::Revoked),
                ..Default::default()
            },
            now,
        )
        .await?)
}
