//! API keys: stored as a public lookup id plus the hash of the secret, never the key itself.

use chrono::{DateTime, Utc};
use gaia_core::{ApiKey, Limits, Permissions, Status};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

use crate::entity::api_key::{self, ActiveModel, Column, Entity};
use crate::{Store, StoreError, is_unique_violation, new_id};

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

pub(crate) fn to_domain(m: api_key::Model) -> Result<ApiKey, StoreError> {
    let status = Status::parse(&m.status)
        .ok_or_else(|| StoreError::Corrupt(format!("api key status '{}'", m.status)))?;
    Ok(ApiKey {
        id: m.id,
        organization_id: m.organization_id,
        lookup: m.lookup,
        secret_hash: m.secret_hash,
        hint: m.hint,
        name: m.name,
        description: m.description,
        permissions: Permissions::parse_csv(&m.permissions),
        status,
        limits: Limits {
            monthly_requests: m.monthly_requests_limit,
            monthly_tokens: m.monthly_tokens_limit,
            monthly_cost_nanos: m.monthly_cost_limit_nanos,
            rate_limit_rpm: m.rate_limit_rpm,
        },
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
        let model = ActiveModel {
            id: Set(new_id()),
            organization_id: Set(new.organization_id),
            lookup: Set(new.lookup),
            secret_hash: Set(new.secret_hash),
            hint: Set(new.hint),
            name: Set(new.name),
            description: Set(new.description),
            permissions: Set(new.permissions.to_csv()),
            status: Set(Status::Active.as_str().to_owned()),
            monthly_requests_limit: Set(new.limits.monthly_requests),
            monthly_tokens_limit: Set(new.limits.monthly_tokens),
            monthly_cost_limit_nanos: Set(new.limits.monthly_cost_nanos),
            rate_limit_rpm: Set(new.limits.rate_limit_rpm),
            expires_at: Set(new.expires_at),
            last_used_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        };
        match model.insert(self.conn()).await {
            Ok(m) => to_domain(m),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(
                "key id collision; generate a new key".to_owned(),
            )),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get_api_key(&self, id: &str) -> Result<ApiKey, StoreError> {
        Entity::find_by_id(id.to_owned())
            .one(self.conn())
            .await?
            .ok_or_else(|| StoreError::NotFound("api key".to_owned()))
            .and_then(to_domain)
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
    pub async fn list_keys_with_org_status(&self) -> Result<Vec<(ApiKey, Status)>, StoreError> {
        use crate::entity::organization;
        let orgs: std::collections::HashMap<String, String> = organization::Entity::find()
            .all(self.conn())
            .await?
            .into_iter()
            .map(|o| (o.id, o.status))
            .collect();
        Entity::find()
            .all(self.conn())
            .await?
            .into_iter()
            .map(|row| {
                let org_status = orgs
                    .get(&row.organization_id)
                    .and_then(|s| Status::parse(s))
                    .unwrap_or(Status::Inactive);
                Ok((to_domain(row)?, org_status))
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
                    organization_id: org.id.clone(),
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
