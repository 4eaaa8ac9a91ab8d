//! Organizations: the tenants that own API keys and carry limits.

use chrono::{DateTime, Utc};
use gaia_core::{Limits, LimitsChange, Organization, Status};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, Set,
};

use crate::entity::organization::{self, ActiveModel, Column, Entity};
use crate::limit_columns::{LimitColumns, LimitsRow};
use crate::rows::{conflict_if_unique, fetch_page, find_by_id};
use crate::{Page, PageRequest, Store, StoreError, new_id};

/// Fields of a new organization.
#[derive(Debug, Clone, Default)]
pub struct NewOrganization {
    pub name: String,
    pub description: Option<String>,
    pub limits: Limits,
}

/// A partial update: `None` leaves a field alone; `Some(None)` clears a nullable field.
#[derive(Debug, Clone, Default)]
pub struct OrganizationPatch {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub status: Option<Status>,
    pub limits: LimitsChange,
}

/// Filters for listing.
#[derive(Debug, Clone, Default)]
pub struct OrganizationFilter {
    pub status: Option<Status>,
    /// Case-insensitive substring of name or description.
    pub search: Option<String>,
    /// Restrict to one organization (scoped callers).
    pub id: Option<String>,
}

/// The conflict message of a duplicate name.
fn name_taken(name: &str) -> String {
    format!("an organization named '{name}' already exists")
}

fn to_domain(m: organization::Model) -> Result<Organization, StoreError> {
    let status = Status::parse(&m.status)
        .ok_or_else(|| StoreError::Corrupt(format!("organization status '{}'", m.status)))?;
    let limits = m.limits();
    Ok(Organization {
        id: m.id.into(),
        name: m.name,
        description: m.description,
        status,
        limits,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

impl Store {
    pub async fn create_organization(
        &self,
        new: NewOrganization,
        now: DateTime<Utc>,
    ) -> Result<Organization, StoreError> {
        let mut model = ActiveModel {
            id: Set(new_id()),
            name: Set(new.name.clone()),
            description: Set(new.description),
            status: Set(Status::Active.as_str().to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        model.set_limits(new.limits);
        let m = model
            .insert(self.conn())
            .await
            .map_err(conflict_if_unique(|| name_taken(&new.name)))?;
        to_domain(m)
    }

    pub async fn get_organization(&self, id: &str) -> Result<Organization, StoreError> {
        find_by_id::<Entity>(self.conn(), id, "organization")
            .await
            .and_then(to_domain)
    }

    pub async fn find_organization_by_name(
        &self,
        name: &str,
    ) -> Result<Option<Organization>, StoreError> {
        Entity::find()
            .filter(Column::Name.eq(name))
            .one(self.conn())
            .await?
            .map(to_domain)
            .transpose()
    }

    /// Applies a patch; `NotFound` if the organization does not exist, `Conflict` on a duplicate name.
    pub async fn update_organization(
        &self,
        id: &str,
        patch: OrganizationPatch,
        now: DateTime<Utc>,
    ) -> Result<Organization, StoreError> {
        let row = find_by_id::<Entity>(self.conn(), id, "organization").await?;
        let mut model: ActiveModel = row.into();
        let new_name = patch.name.clone();
        if let Some(v) = patch.name {
            model.name = Set(v);
        }
        if let Some(v) = patch.description {
            model.description = Set(v);
        }
        if let Some(v) = patch.status {
            model.status = Set(v.as_str().to_owned());
        }
        model.apply_limits(patch.limits);
        model.updated_at = Set(now);
        let m = model
            .update(self.conn())
            .await
            .map_err(conflict_if_unique(|| {
                name_taken(&new_name.unwrap_or_default())
            }))?;
        to_domain(m)
    }

    /// Names of the given organizations (for key listings).
    pub async fn organization_names(
        &self,
        ids: &[String],
    ) -> Result<std::collections::HashMap<String, String>, StoreError> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        Ok(Entity::find()
            .filter(Column::Id.is_in(ids.iter().map(String::as_str)))
            .all(self.conn())
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect())
    }

    pub async fn list_organizations(
        &self,
        filter: &OrganizationFilter,
        page: PageRequest,
    ) -> Result<Page<Organization>, StoreError> {
        let mut cond = Condition::all();
        if let Some(status) = filter.status {
            cond = cond.add(Column::Status.eq(status.as_str()));
        }
        if let Some(id) = &filter.id {
            cond = cond.add(Column::Id.eq(id.as_str()));
        }
        if let Some(search) = filter.search.as_deref().filter(|s| !s.is_empty()) {
            cond = cond.add(
                Condition::any()
                    .add(Column::Name.contains(search))
                    .add(Column::Description.contains(search)),
            );
        }
        let select = Entity::find()
            .filter(cond)
            .order_by_asc(Column::CreatedAt)
            .order_by_asc(Column::Id);
        fetch_page(self.conn(), select, page, to_domain).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::memory_store;

    #[tokio::test]
    async fn organizations_are_created_found_and_listed() {
        let store = memory_store().await;
        let now = Utc::now();
        let org = store
            .create_organization(
                NewOrganization {
                    name: "acme".into(),
                    description: Some("rockets".into()),
                    limits: Limits {
                        monthly_requests: Some(10),
                        ..Limits::default()
                    },
                },
                now,
            )
            .await
            .unwrap();
        assert_eq!(store.get_organization(org.id.as_str()).await.unwrap(), org);
        assert_eq!(org.limits.monthly_requests, Some(10));
        let found = store.find_organization_by_name("acme").await.unwrap();
        assert_eq!(found.map(|o| o.id), Some(org.id.clone()));
        let page = store
            .list_organizations(
                &OrganizationFilter {
                    search: Some("rock".into()),
                    ..Default::default()
                },
                PageRequest::new(None, None),
            )
            .await
            .unwrap();
        assert_eq!(page.total, 1);
        assert_eq!(page.items[0].id, org.id);
    }

    #[tokio::test]
    async fn duplicate_names_are_a_conflict() {
        let store = memory_store().await;
        let new = NewOrganization {
            name: "dup".into(),
            ..Default::default()
        };
        store
            .create_organization(new.clone(), Utc::now())
            .await
            .unwrap();
        let err = store
            .create_organization(new, Utc::now())
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    }

    #[tokio::test]
    async fn a_missing_organization_is_not_found() {
        let store = memory_store().await;
        let err = store.get_organization("nope").await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)));
    }
}
