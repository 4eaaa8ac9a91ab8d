//! Channels added through the admin API: a provider's extra credentials and endpoints. The credential
//! is stored sealed (the caller seals and opens it; this crate never sees the key itself).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::entity::channel::{self, ActiveModel, Column, Entity};
use crate::rows::{conflict_if_unique, find_by_id};
use crate::{Store, StoreError};

/// A stored channel as the repository reads and writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRow {
    pub id: String,
    pub provider: String,
    pub name: String,
    pub base_url: String,
    /// The sealed credential (`v1.<key id>.<nonce>.<ciphertext>`), never the key.
    pub api_key_sealed: Option<String>,
    pub api_key_hint: Option<String>,
    pub weight: i32,
    pub priority: i32,
    pub models: Option<Vec<String>>,
    pub model_map: Vec<(String, String)>,
    pub ca_file: Option<String>,
    pub api_version: Option<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn corrupt(id: &str, what: &str, e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("channel '{id}': {what}: {e}"))
}

fn to_row(m: channel::Model) -> Result<ChannelRow, StoreError> {
    let models = m
        .models
        .as_deref()
        .map(serde_json::from_str::<Vec<String>>)
        .transpose()
        .map_err(|e| corrupt(&m.id, "models", e))?;
    let model_map = m
        .model_map
        .as_deref()
        .map(serde_json::from_str::<serde_json::Map<String, serde_json::Value>>)
        .transpose()
        .map_err(|e| corrupt(&m.id, "model_map", e))?
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| v.as_str().map(|v| (k, v.to_owned())))
        .collect();
    Ok(ChannelRow {
        id: m.id,
        provider: m.provider,
        name: m.name,
        base_url: m.base_url,
        api_key_sealed: m.api_key_sealed,
        api_key_hint: m.api_key_hint,
        weight: m.weight,
        priority: m.priority,
        models,
        model_map,
        ca_file: m.ca_file,
        api_version: m.api_version,
        enabled: m.enabled,
        disabled_reason: m.disabled_reason,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn to_active(r: &ChannelRow) -> ActiveModel {
    let map: serde_json::Map<String, serde_json::Value> = r
        .model_map
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    ActiveModel {
        id: Set(r.id.clone()),
        provider: Set(r.provider.clone()),
        name: Set(r.name.clone()),
        base_url: Set(r.base_url.clone()),
        api_key_sealed: Set(r.api_key_sealed.clone()),
        api_key_hint: Set(r.api_key_hint.clone()),
        weight: Set(r.weight),
        priority: Set(r.priority),
        models: Set(r
            .models
            .as_ref()
            .map(|m| serde_json::Value::from(m.clone()).to_string())),
        model_map: Set((!map.is_empty()).then(|| serde_json::Value::Object(map).to_string())),
        ca_file: Set(r.ca_file.clone()),
        api_version: Set(r.api_version.clone()),
        enabled: Set(r.enabled),
        disabled_reason: Set(r.disabled_reason.clone()),
        created_at: Set(r.created_at),
        updated_at: Set(r.updated_at),
    }
}

impl Store {
    /// Every stored channel, by provider then name.
    pub async fn list_channels(&self) -> Result<Vec<ChannelRow>, StoreError> {
        Entity::find()
            .order_by_asc(Column::Provider)
            .order_by_asc(Column::Name)
            .all(self.conn())
            .await?
            .into_iter()
            .map(to_row)
            .collect()
    }

    pub async fn get_channel(&self, id: &str) -> Result<ChannelRow, StoreError> {
        to_row(find_by_id::<Entity>(self.conn(), id, &format!("channel '{id}'")).await?)
    }

    /// Inserts a new channel; `Conflict` when its provider already has a channel of that name.
    pub async fn insert_channel(&self, row: &ChannelRow) -> Result<(), StoreError> {
        Entity::insert(to_active(row))
            .exec_without_returning(self.conn())
            .await
            .map_err(conflict_if_unique(|| {
                format!(
                    "provider '{}' already has a channel named '{}'",
                    row.provider, row.name
                )
            }))?;
        Ok(())
    }

    /// Writes every field of an existing channel.
    pub async fn update_channel(&self, row: &ChannelRow) -> Result<(), StoreError> {
        self.get_channel(&row.id).await?;
        let mut active = to_active(row);
        active.created_at = sea_orm::ActiveValue::NotSet;
        active
            .update(self.conn())
            .await
            .map_err(conflict_if_unique(|| {
                format!(
                    "provider '{}' already has a channel named '{}'",
                    row.provider, row.name
                )
            }))?;
        Ok(())
    }

    /// Disables the channel `id` for `reason`, only while it is enabled and still holds the sealed credential
    /// `sealed` — the one the provider refused (`None`: it had none). Only `enabled`, `disabled_reason` and
    /// `updated_at` are written, so an operator's concurrent change to the row survives. `false` when
    /// nothing matched: the channel is gone, already disabled, or its credential was replaced meanwhile (and
    /// the new one deserves a try).
    pub async fn disable_refused_channel(
        &self,
        id: &str,
        sealed: Option<&str>,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let same_key = match sealed {
            Some(sealed) => Column::ApiKeySealed.eq(sealed),
            None => Column::ApiKeySealed.is_null(),
        };
        let res = Entity::update_many()
            .col_expr(Column::Enabled, Expr::value(false))
            .col_expr(Column::DisabledReason, Expr::value(reason))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::Id.eq(id))
            .filter(Column::Enabled.eq(true))
            .filter(same_key)
            .exec(self.conn())
            .await?;
        Ok(res.rows_affected > 0)
    }

    /// Replaces the sealed credential of channel `id` — `old` by `new`, the same key sealed with the
    /// current secret key — only if the row still holds `old`: a key an operator set meanwhile stays.
    /// Nothing else is written. `false` when the row no longer holds `old`.
    pub async fn reseal_channel_key(
        &self,
        id: &str,
        old: &str,
        new: &str,
    ) -> Result<bool, StoreError> {
        let res = Entity::update_many()
            .col_expr(Column::ApiKeySealed, Expr::value(new))
            .filter(Column::Id.eq(id))
            .filter(Column::ApiKeySealed.eq(old))
            .exec(self.conn())
            .await?;
        Ok(res.rows_affected > 0)
    }

    pub async fn delete_channel(&self, id: &str) -> Result<(), StoreError> {
        let res = Entity::delete_by_id(id.to_owned())
            .exec(self.conn())
            .await?;
        if res.rows_affected == 0 {
            return Err(StoreError::NotFound(format!("channel '{id}'")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{StoreOptions, testing};

    /// SQLite, and PostgreSQL and MySQL when the run has them.
    async fn every_backend() -> Vec<Store> {
        let mut urls = vec!["sqlite::memory:".to_owned()];
        if let Some(server) = testing::postgres_url().unwrap() {
            urls.push(testing::create_postgres_database(&server).await.unwrap());
        }
        if let Some(server) = testing::mysql_url().unwrap() {
            urls.push(testing::create_mysql_database(&server).await.unwrap());
        }
        let mut stores = Vec::new();
        for url in urls {
            stores.push(
                Store::connect_and_migrate(&url, &StoreOptions::default())
                    .await
                    .unwrap(),
            );
        }
        stores
    }

    fn row(id: &str, name: &str) -> ChannelRow {
        let now = Utc::now();
        ChannelRow {
            id: id.into(),
            provider: "openai".into(),
            name: name.into(),
            base_url: "https://example.test/v1".into(),
            api_key_sealed: Some("v1.k.n.c".into()),
            api_key_hint: Some("…abcd".into()),
            weight: 3,
            priority: 1,
            models: Some(vec!["gpt-4o".into()]),
            model_map: vec![("gpt-4o".into(), "deployment-1".into())],
            ca_file: None,
            api_version: None,
            enabled: true,
            disabled_reason: None,
            created_at: now,
            updated_at: now,
        }
    }

    #[tokio::test]
    async fn channels_round_trip_and_names_are_unique_per_provider() {
        for store in every_backend().await {
            let a = row("a", "eu");
            store.insert_channel(&a).await.unwrap();
            let got = store.get_channel("a").await.unwrap();
            assert_eq!(got.model_map, a.model_map);
            assert_eq!(got.models, a.models);
            assert!(matches!(
                store.insert_channel(&row("b", "eu")).await,
                Err(StoreError::Conflict(_))
            ));
            let mut changed = got.clone();
            changed.enabled = false;
            changed.disabled_reason = Some("refused".into());
            changed.models = None;
            changed.model_map.clear();
            store.update_channel(&changed).await.unwrap();
            let got = store.get_channel("a").await.unwrap();
            assert!(!got.enabled);
            assert_eq!(got.models, None);
            assert!(got.model_map.is_empty());
            assert_eq!(store.list_channels().await.unwrap().len(), 1);
            store.delete_channel("a").await.unwrap();
            assert!(matches!(
                store.delete_channel("a").await,
                Err(StoreError::NotFound(_))
            ));
        }
    }

    #[tokio::test]
    async fn a_refusal_disables_only_the_credential_it_refused_and_writes_nothing_else() {
        for store in every_backend().await {
            store.insert_channel(&row("a", "eu")).await.unwrap();
            // An operator changes the weight after the refused request was sent: the refusal keeps it.
            let mut edited = store.get_channel("a").await.unwrap();
            edited.weight = 9;
            store.update_channel(&edited).await.unwrap();
            let later = Utc::now();
            assert!(
                store
                    .disable_refused_channel("a", Some("v1.k.n.c"), "refused", later)
                    .await
                    .unwrap()
            );
            let got = store.get_channel("a").await.unwrap();
            assert_eq!(
                (got.enabled, got.disabled_reason.as_deref(), got.weight),
                (false, Some("refused"), 9)
            );
            assert_eq!(got.api_key_sealed.as_deref(), Some("v1.k.n.c"));
            // Already disabled: nothing matches.
            assert!(
                !store
                    .disable_refused_channel("a", Some("v1.k.n.c"), "again", later)
                    .await
                    .unwrap()
            );

            // The operator replaced the key before the refusal of the old one was recorded: it stays enabled.
            let mut b = row("b", "us");
            b.api_key_sealed = Some("v1.k.n.new".into());
            store.insert_channel(&b).await.unwrap();
            assert!(
                !store
                    .disable_refused_channel("b", Some("v1.k.n.c"), "refused", later)
                    .await
                    .unwrap()
            );
            assert!(store.get_channel("b").await.unwrap().enabled);
            // A keyless channel is matched by having no key.
            let mut c = row("c", "local");
            c.api_key_sealed = None;
            store.insert_channel(&c).await.unwrap();
            assert!(
                !store
                    .disable_refused_channel("c", Some("v1.k.n.c"), "refused", later)
                    .await
                    .unwrap()
            );
            assert!(
                store
                    .disable_refused_channel("c", None, "refused", later)
                    .await
                    .unwrap()
            );
            assert!(!store.get_channel("c").await.unwrap().enabled);
            assert!(
                !store
                    .disable_refused_channel("gone", None, "refused", later)
                    .await
                    .unwrap()
            );
        }
    }

    #[tokio::test]
    async fn a_reseal_replaces_only_the_sealed_form_it_read() {
        for store in every_backend().await {
            store.insert_channel(&row("a", "eu")).await.unwrap();
            assert!(
                store
                    .reseal_channel_key("a", "v1.k.n.c", "v2.k.n.c")
                    .await
                    .unwrap()
            );
            let got = store.get_channel("a").await.unwrap();
            assert_eq!(got.api_key_sealed.as_deref(), Some("v2.k.n.c"));
            assert_eq!((got.weight, got.enabled), (3, true));
            // An operator set another key since the reseal read the row: the operator's key stays.
            assert!(
                !store
                    .reseal_channel_key("a", "v1.k.n.c", "v2.k.n.stale")
                    .await
                    .unwrap()
            );
            assert_eq!(
                store
                    .get_channel("a")
                    .await
                    .unwrap()
                    .api_key_sealed
                    .as_deref(),
                Some("v2.k.n.c")
            );
        }
    }
}
