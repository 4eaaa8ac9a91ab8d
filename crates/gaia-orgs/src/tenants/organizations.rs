//! The organization service.

use chrono::{DateTime, Utc};
use gaia_core::{GaiaError, Organization, Permission, Status};
use gaia_store::organizations::{NewOrganization, OrganizationFilter, OrganizationPatch};
use gaia_store::{Page, PageRequest, Store};

use super::input::{LimitsInput, LimitsPatch, settable_status};
use super::{need, org_not_found};
use crate::auth::Principal;
use crate::validation as v;

#[derive(Debug, Clone, Default)]
pub struct CreateOrganization {
    pub name: String,
    pub description: Option<String>,
    pub status: Option<String>,
    pub limits: LimitsInput,
}

#[derive(Debug, Clone, Default)]
pub struct UpdateOrganization {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub status: Option<String>,
    pub limits: LimitsPatch,
}

/// Sets an organization's status and nothing else.
async fn set_status(
    store: &Store,
    id: &str,
    status: Status,
    now: DateTime<Utc>,
) -> Result<Organization, GaiaError> {
    let patch = OrganizationPatch {
        status: Some(status),
        ..Default::default()
    };
    Ok(store.update_organization(id, patch, now).await?)
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
    let status = settable_status(input.status.as_deref())?;
    let new = NewOrganization {
        name,
        description,
        limits,
    };
    let org = store.create_organization(new, now).await?;
    if status == Some(Status::Inactive) {
        return set_status(store, org.id.as_str(), Status::Inactive, now).await;
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
    let filter = OrganizationFilter {
        status: settable_status(status)?,
        search,
        id: principal.org_scope().map(|id| id.to_string()),
    };
    Ok(store.list_organizations(&filter, page).await?)
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
        status: settable_status(input.status.as_deref())?,
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
    set_status(store, id, Status::Inactive, now).await
}
