//! Admin-UI users (username + password hash + role). Hashing happens in gaia-orgs; this stores PHC strings.

use chrono::{DateTime, Utc};
use gaia_core::{UserId, UserRole};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

use crate::entity::user::{self, ActiveModel, Column, Entity};
use crate::rows::{conflict_if_unique, fetch_page, find_by_id};
use crate::{Store, StoreError, new_id};

/// A stored user (the password hash never leaves gaia-orgs' verification).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub id: UserId,
    pub username: String,
    pub password_hash: String,
    pub role: UserRole,
    pub status: String,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn to_row(m: user::Model) -> UserRow {
    UserRow {
        id: m.id.into(),
        username: m.username,
        password_hash: m.password_hash,
        // A role this build does not know reads as the least one.
        role: UserRole::parse(&m.role).unwrap_or(UserRole::User),
        status: m.status,
        last_login_at: m.last_login_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

impl Store {
    pub async fn create_user(
        &self,
        username: &str,
        password_hash: &str,
        role: UserRole,
        now: DateTime<Utc>,
    ) -> Result<UserRow, StoreError> {
        let model = ActiveModel {
            id: Set(new_id()),
            username: Set(username.to_owned()),
            password_hash: Set(password_hash.to_owned()),
            role: Set(role.as_str().to_owned()),
            status: Set("active".to_owned()),
            last_login_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let taken = || format!("a user named '{username}' already exists");
        let m = model
            .insert(self.conn())
            .await
            .map_err(conflict_if_unique(taken))?;
        Ok(to_row(m))
    }

    pub async fn find_user_by_username(
        &self,
        username: &str,
    ) -> Result<Option<UserRow>, StoreError> {
        Ok(Entity::find()
            .filter(Column::Username.eq(username))
            .one(self.conn())
            .await?
            .map(to_row))
    }

    pub async fn get_user(&self, id: &str) -> Result<UserRow, StoreError> {
        find_by_id::<Entity>(self.conn(), id, "user")
            .await
            .map(to_row)
    }

    /// Lists users by username.
    pub async fn list_users(
        &self,
        status: Option<&str>,
        search: Option<&str>,
        page: crate::PageRequest,
    ) -> Result<crate::Page<UserRow>, StoreError> {
        use sea_orm::{Condition, QueryOrder};
        let mut cond = Condition::all();
        if let Some(s) = status {
            cond = cond.add(Column::Status.eq(s));
        }
        if let Some(q) = search.filter(|q| !q.is_empty()) {
            cond = cond.add(Column::Username.contains(q));
        }
        let select = Entity::find().filter(cond).order_by_asc(Column::Username);
        fetch_page(self.conn(), select, page, |m| Ok(to_row(m))).await
    }

    /// Updates role, status and/or password hash.
    pub async fn update_user(
        &self,
        id: &str,
        role: Option<UserRole>,
        status: Option<&str>,
        password_hash: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<UserRow, StoreError> {
        let row = find_by_id::<Entity>(self.conn(), id, "user").await?;
        let mut model: ActiveModel = row.into();
        if let Some(v) = role {
            model.role = Set(v.as_str().to_owned());
        }
        if let Some(v) = status {
            model.status = Set(v.to_owned());
        }
        if let Some(v) = password_hash {
            model.password_hash = Set(v.to_owned());
        }
        model.updated_at = Set(now);
        Ok(to_row(model.update(self.conn()).await?))
    }

    pub async fn set_user_login(&self, id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        use sea_orm::sea_query::Expr;
        Entity::update_many()
            .col_expr(Column::LastLoginAt, Expr::value(at))
            .filter(Column::Id.eq(id))
            .exec(self.conn())
            .await?;
        Ok(())
    }

    /// Active users with the admin role.
    pub async fn count_active_admin_users(&self) -> Result<u64, StoreError> {
        Ok(Entity::find()
            .filter(Column::Role.eq(UserRole::Admin.as_str()))
            .filter(Column::Status.eq("active"))
            .count(self.conn())
            .await?)
    }

    pub async fn count_users(&self) -> Result<u64, StoreError> {
        Ok(Entity::find().count(self.conn()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::memory_store;

    #[tokio::test]
    async fn users_are_unique_by_username() {
        let store = memory_store().await;
        store
            .create_user("admin", "$argon2id$x", UserRole::Admin, Utc::now())
            .await
            .unwrap();
        assert_eq!(store.count_users().await.unwrap(), 1);
        let err = store
            .create_user("admin", "$argon2id$y", UserRole::User, Utc::now())
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)));
        let found = store.find_user_by_username("admin").await.unwrap().unwrap();
        assert_eq!(found.role, UserRole::Admin);
    }
}
