//! API keys: stored as a public lookup id plus the hash of the secret, never the key itself.

use chrono::{DateTime, Utc};
use gaia_core::{ApiKey, Limits, LimitsChange, Permissions, Status};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

use crate::entity::api_key::{self, ActiveModel, Column, Entity};
use crate::limit_columns::{LimitColumns, LimitsRow};
use crate::rows::{conflict_if_unique, fetch_page, find_by_id};
use crate::{Store, StoreError, new_id};

/// Fields of a new key. The caller generates the key and passes only its public parts and hash.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub organization_id: String,
    pub lookup: String,
    pub secret_hash: String,
    pub hint: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub permissions: Permissions,
    pub limits: Limits,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A partial update: `None` leaves a field alone; `Some(None)` clears a nullable field.
#[derive(Debug, Clone, Default)]
pub struct ApiKeyPatch {
    pub name: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub permissions: Option<Permissions>,
    pub status: Option<Status>,
    pub expires_at: Option<Option<DateTime<Utc>>>,
    pub limits: LimitsChange,
}

/// Filters for listing keys.
#[derive(Debug, Clone, Default)]
pub struct ApiKeyFilter {
    pub organization_id: Option<String>,
    /// Stored status (`active`, `inactive`, `revoked`); `expired` is computed by callers.
    pub status: Option<Status>,
    /// Only active keys whose expiry has passed (the computed `expired` status).
    pub expired_at: Option<DateTime<Utc>>,
    pub search: Option<String>,
}

pub(crate) fn to_domain(m: api_key::Model) -> Result<ApiKey, StoreError> {
    let status = Status::parse(&m.status)
        .ok_or_else(|| StoreError::Corrupt(format!("api key status '{}'", m.status)))?;
    let limits = m.limits();
    Ok(ApiKey {
        id: m.id.into(),
        organization_id: m.organization_id.into(),
        lookup: m.lookup,
        secret_hash: m.secret_hash,
        hint: m.hint,
        name: m.name,
        description: m.description,
        permissions: Permissions::parse_csv(&m.permissions),
        status,
        limits,
        expires_at: m.expires_at,
        last_used_at: m.last_used_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

impl Store {
    pub async fn create_api_key(
        &self,
        new: NewApiKey,
        now: DateTime<Utc>,
    ) -> Result<ApiKey, StoreError> {
        let mut model = ActiveModel {
            id: Set(new_id()),
            organization_id: Set(new.organization_id),
            lookup: Set(new.lookup),
            secret_hash: Set(new.secret_hash),
            hint: Set(new.hint),
            name: Set(new.name),
            description: Set(new.description),
            permissions: Set(new.permissions.to_csv()),
            status: Set(Status::Active.as_str().to_owned()),
            expires_at: Set(new.expires_at),
            last_used_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        model.set_limits(new.limits);
        let collision = || "key id collision; generate a new key".to_owned();
        let m = model
            .insert(self.conn())
            .await
            .map_err(conflict_if_unique(collision))?;
        to_domain(m)
    }

    pub async fn get_api_key(&self, id: &str) -> Result<ApiKey, StoreError> {
        find_by_id::<Entity>(self.conn(), id, "api key")
            .await
            .and_then(to_domain)
    }

    pub async fn update_api_key(
        &self,
        id: &str,
        patch: ApiKeyPatch,
        now: DateTime<Utc>,
    ) -> Result<ApiKey, StoreError> {
        let row = find_by_id::<Entity>(self.conn(), id, "api key").await?;
        let mut model: ActiveModel = row.into();
        if let Some(v) = patch.name {
            model.name = Set(v);
        }
        if let Some(v) = patch.description {
            model.description = Set(v);
        }
        if let Some(v) = patch.permissions {
            model.permissions = Set(v.to_csv());
        }
        if let Some(v) = patch.status {
            model.status = Set(v.as_str().to_owned());
        }
        if let Some(v) = patch.expires_at {
            model.expires_at = Set(v);
        }
        model.apply_limits(patch.limits);
        model.updated_at = Set(now);
        to_domain(model.update(self.conn()).await?)
    }

    /// Lists keys, newest first.
    pub async fn list_api_keys(
        &self,
        filter: &ApiKeyFilter,
        page: crate::PageRequest,
    ) -> Result<crate::Page<ApiKey>, StoreError> {
        use sea_orm::{Condition, QueryOrder};
        let mut cond = Condition::all();
        if let Some(org) = &filter.organization_id {
            cond = cond.add(Column::OrganizationId.eq(org.as_str()));
        }
        if let Some(status) = filter.status {
            cond = cond.add(Column::Status.eq(status.as_str()));
        }
        if let Some(now) = filter.expired_at {
            cond = cond
                .add(Column::Status.eq(Status::Active.as_str()))
                .add(Column::ExpiresAt.lte(now));
        }
        if let Some(q) = filter.search.as_deref().filter(|q| !q.is_empty()) {
            cond = cond.add(
                Condition::any()
                    .add(Column::Name.contains(q))
                    .add(Column::Description.contains(q)),
            );
        }
        let select = Entity::find()
            .filter(cond)
            .order_by_desc(Column::CreatedAt)
            .order_by_desc(Column::Id);
        fetch_page(self.conn(), select, page, to_domain).await
    }

    /// Records when keys were last used (batched from memory; never moves a timestamp backwards).
    pub async fn touch_api_keys(&self, used: &[(String, DateTime<Utc>)]) -> Result<(), StoreError> {
        use sea_orm::Condition;
        use sea_orm::sea_query::Expr;
        if used.is_empty() {
            return Ok(());
        }
        let txn = self.conn().begin().await?;
        for (id, at) in used {
            Entity::update_many()
                .col_expr(Column::LastUsedAt, Expr::value(*at))
                .filter(Column::Id.eq(id.as_str()))
                .filter(
                    Condition::any()
                        .add(Column::LastUsedAt.is_null())
                        .add(Column::LastUsedAt.lt(*at)),
                )
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Count of keys, and of active (not revoked, not inactive, not expired) keys.
    pub async fn count_api_keys(&self, now: DateTime<Utc>) -> Result<(u64, u64), StoreError> {
        use sea_orm::Condition;
        let total = Entity::find().count(self.conn()).await?;
        let active = Entity::find()
            .filter(Column::Status.eq(Status::Active.as_str()))
            .filter(
                Condition::any()
                    .add(Column::ExpiresAt.is_null())
                    .add(Column::ExpiresAt.gt(now)),
            )
            .count(self.conn())
            .await?;
        Ok((total, active))
    }

    /// The key whose public lookup id is `lookup`, whatever its status.
    pub async fn find_api_key_by_lookup(&self, lookup: &str) -> Result<Option<ApiKey>, StoreError> {
        Entity::find()
            .filter(Column::Lookup.eq(lookup))
            .one(self.conn())
            .await?
            .map(to_domain)
            .transpose()
    }

    /// Every key with its organization's status (active keys of active organizations are the ones that
    /// authenticate); used to fill and refresh the in-memory key cache.
    pub async fn list_keys_with_org_status(
        &self,
    ) -> Result<Vec<(ApiKey, Status, Limits)>, StoreError> {
        use crate::entity::organization;
        let orgs: std::collections::HashMap<String, (String, Limits)> =
            organization::Entity::find()
                .all(self.conn())
                .await?
                .into_iter()
                .map(|o| {
                    let limits = o.limits();
                    (o.id, (o.status, limits))
                })
                .collect();
        Entity::find()
            .all(self.conn())
            .await?
            .into_iter()
            .map(|row| {
                let (org_status, org_limits) = orgs
                    .get(&row.organization_id)
                    .map(|(s, l)| (Status::parse(s).unwrap_or(Status::Inactive), *l))
                    .unwrap_or((Status::Inactive, Limits::default()));
                Ok((to_domain(row)?, org_status, org_limits))
            })
            .collect()
    }

    /// How many active keys carry the admin permission.
    pub async fn count_active_admin_keys(&self) -> Result<u64, StoreError> {
        Ok(Entity::find()
            .filter(Column::Status.eq(Status::Active.as_str()))
            .filter(Column::Permissions.contains("admin"))
            .count(self.conn())
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::organizations::NewOrganization;
    use crate::test_support::memory_store;
    use gaia_core::Permission;

    #[tokio::test]
    async fn keys_are_found_by_lookup_and_admin_keys_counted() {
        let store = memory_store().await;
        let org = store
            .create_organization(
                NewOrganization {
                    name: "o".into(),
                    ..Default::default()
                },
                Utc::now(),
            )
            .await
            .unwrap();
        assert_eq!(store.count_active_admin_keys().await.unwrap(), 0);
        let key = store
            .create_api_key(
                NewApiKey {
                    organization_id: org.id.to_string(),
                    lookup: "abc123".into(),
                    secret_hash: "00".repeat(32),
                    hint: "gaia_abc123…wxyz".into(),
                    name: Some("bootstrap".into()),
                    description: None,
                    permissions: Permissions::from_slice(&[Permission::Admin]),
                    limits: Limits::default(),
                    expires_at: None,
                },
                Utc::now(),
            )
            .await
            .unwrap();
        let found = store
            .find_api_key_by_lookup("abc123")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found, key);
        assert!(found.permissions.allows(Permission::Admin));
        assert_eq!(store.count_active_admin_keys().await.unwrap(), 1);
        assert!(store.find_api_key_by_lookup("zzz").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_key_for_an_unknown_organization_is_refused() {
        let store = memory_store().await;
        let err = store
            .create_api_key(
                NewApiKey {
                    organization_id: "missing".into(),
                    lookup: "l".into(),
                    secret_hash: "h".into(),
                    hint: "h".into(),
                    name: None,
                    description: None,
                    permissions: Permissions::default(),
                    limits: Limits::default(),
                    expires_at: None,
                },
                Utc::now(),
            )
            .await;
        assert!(err.is_err());
    }
}
