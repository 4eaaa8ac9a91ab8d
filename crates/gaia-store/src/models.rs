//! The model registry: models, their prices and capabilities, and aliases.

use chrono::{DateTime, Utc};
use gaia_core::{ModelInfo, ModelKind};
use sea_orm::{EntityTrait, QueryOrder, Set};

use crate::entity::model::{self, ActiveModel, Column, Entity};
use crate::entity::model_alias;
use crate::rows::{conflict_if_unique, fetch_page};
use crate::{Store, StoreError};

fn to_domain(m: model::Model) -> ModelInfo {
    ModelInfo {
        id: m.id,
        provider: m.provider,
        upstream_name: m.upstream_name,
        display_name: m.display_name,
        context_length: m.context_length,
        max_completion_tokens: m.max_completion_tokens,
        input_price_nanos_per_mtok: m.input_price_nanos_per_mtok,
        output_price_nanos_per_mtok: m.output_price_nanos_per_mtok,
        cached_input_price_nanos_per_mtok: m.cached_input_price_nanos_per_mtok,
        cache_write_price_nanos_per_mtok: m.cache_write_price_nanos_per_mtok,
        priced: m.priced,
        supports_vision: m.supports_vision,
        supports_tools: m.supports_tools,
        supports_streaming: m.supports_streaming,
        enabled: m.enabled,
        source: m.source,
        // A kind this build does not know (written by a newer one) is served as nothing it cannot do.
        kind: ModelKind::parse(&m.kind).unwrap_or_default(),
        dimensions: m.dimensions,
    }
}

/// Widths of the `models` columns (migration 4).
const ID_CHARS: usize = 256;
const PROVIDER_CHARS: usize = 64;
const DISPLAY_NAME_CHARS: usize = 256;

/// Whether an entry's identifying text can be stored as it is. Ids and upstream names are matched against
/// requests and sent to the provider, so they cannot be escaped or cut like a display name: an entry
/// whose id does not fit is skipped (and logged), never stored altered.
fn storable_ids(m: &ModelInfo) -> bool {
    let fits = |s: &str, max: usize| {
        !s.is_empty() && !s.chars().any(char::is_control) && s.chars().count() <= max
    };
    fits(&m.id, ID_CHARS) && fits(&m.upstream_name, ID_CHARS) && fits(&m.provider, PROVIDER_CHARS)
}

fn to_active(m: &ModelInfo, now: DateTime<Utc>) -> ActiveModel {
    ActiveModel {
        id: Set(m.id.clone()),
        provider: Set(m.provider.clone()),
        upstream_name: Set(m.upstream_name.clone()),
        // A display name comes from an upstream list (OpenRouter) too: made storable, never refused.
        display_name: Set(m
            .display_name
            .as_deref()
            .map(|n| crate::text::storable_owned(n, DISPLAY_NAME_CHARS))),
        context_length: Set(m.context_length),
        max_completion_tokens: Set(m.max_completion_tokens),
        input_price_nanos_per_mtok: Set(m.input_price_nanos_per_mtok),
        output_price_nanos_per_mtok: Set(m.output_price_nanos_per_mtok),
        cached_input_price_nanos_per_mtok: Set(m.cached_input_price_nanos_per_mtok),
        cache_write_price_nanos_per_mtok: Set(m.cache_write_price_nanos_per_mtok),
        priced: Set(m.priced),
        supports_vision: Set(m.supports_vision),
        supports_tools: Set(m.supports_tools),
        supports_streaming: Set(m.supports_streaming),
        enabled: Set(m.enabled),
        source: Set(m.source.clone()),
        kind: Set(m.kind.as_str().to_owned()),
        dimensions: Set(m.dimensions),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// Filters for the admin model list.
#[derive(Debug, Clone, Default)]
pub struct ModelFilter {
    pub provider: Option<String>,
    pub enabled: Option<bool>,
    pub search: Option<String>,
    pub kind: Option<ModelKind>,
}

/// An alias and the model ids it resolves to, in fallback order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelAlias {
    pub alias: String,
    pub targets: Vec<String>,
}

impl Store {
    /// Registers models from a source (the built-in catalog, the config file, OpenRouter's list):
    /// new ids are inserted; existing rows *from the same source* get the new prices, limits and
    /// capabilities, while the operator's `enabled` choice is kept. Rows from another source (e.g. an
    /// operator's manual entry) are left alone, except that an OpenRouter sync refreshes the catalog's
    /// OpenRouter entries. Returns `(inserted, updated)`.
    pub async fn seed_models(
        &self,
        models: &[ModelInfo],
        now: DateTime<Utc>,
    ) -> Result<(u64, u64), StoreError> {
        if models.is_empty() {
            return Ok((0, 0));
        }
        let existing: std::collections::HashMap<String, ModelInfo> = self
            .list_models()
            .await?
            .into_iter()
            .map(|m| (m.id.clone(), m))
            .collect();
        let mut fresh = Vec::new();
        let mut changed = Vec::new();
        for m in models {
            if !storable_ids(m) {
                tracing::warn!(
                    id = %crate::text::storable(&m.id, ID_CHARS),
                    source = %m.source,
                    "a model entry whose id or upstream name has control characters or is too long is skipped"
                );
                continue;
            }
            match existing.get(&m.id) {
                None => fresh.push(m),
                // OpenRouter's own list is authoritative for the OpenRouter entries of the catalog.
                Some(old)
                    if old.source == m.source
                        || (m.source == "openrouter" && old.source == "catalog") =>
                {
                    let mut updated = m.clone();
                    updated.enabled = old.enabled;
                    if &updated != old {
                        changed.push(updated);
                    }
                }
                Some(_) => {}
            }
        }
        let txn = self.conn().begin().await?;
        for chunk in fresh.chunks(200) {
            let rows = chunk.iter().map(|m| to_active(m, now));
            Entity::insert_many(rows)
                .on_conflict_do_nothing_on([Column::Id])
                .exec(&txn)
                .await?;
        }
        for m in &changed {
            let mut row = to_active(m, now);
            row.created_at = sea_orm::NotSet;
            Entity::update(row).exec(&txn).await?;
        }
        txn.commit().await?;
        Ok((fresh.len() as u64, changed.len() as u64))
    }

    /// Every registered model, enabled or not, ordered by id.
    pub async fn list_models(&self) -> Result<Vec<ModelInfo>, StoreError> {
        Ok(Entity::find()
            .order_by_asc(Column::Id)
            .all(self.conn())
            .await?
            .into_iter()
            .map(to_domain)
            .collect())
    }

    /// A filtered page of the registry.
    pub async fn list_models_page(
        &self,
        filter: &ModelFilter,
        page: crate::PageRequest,
    ) -> Result<crate::Page<ModelInfo>, StoreError> {
        use sea_orm::{ColumnTrait, Condition, QueryFilter};
        let mut cond = Condition::all();
        if let Some(p) = &filter.provider {
            cond = cond.add(Column::Provider.eq(p.as_str()));
        }
        if let Some(e) = filter.enabled {
            cond = cond.add(Column::Enabled.eq(e));
        }
        if let Some(k) = filter.kind {
            cond = cond.add(Column::Kind.eq(k.as_str()));
        }
        if let Some(q) = filter.search.as_deref().filter(|q| !q.is_empty()) {
            cond = cond.add(
                Condition::any()
                    .add(Column::Id.contains(q))
                    .add(Column::DisplayName.contains(q)),
            );
        }
        let select = Entity::find().filter(cond).order_by_asc(Column::Id);
        fetch_page(self.conn(), select, page, |m| Ok(to_domain(m))).await
    }

    pub async fn get_model(&self, id: &str) -> Result<ModelInfo, StoreError> {
        Entity::find_by_id(id.to_owned())
            .one(self.conn())
            .await?
            .map(to_domain)
            .ok_or_else(|| StoreError::NotFound(format!("model '{id}'")))
    }

    /// Registers one model by hand; an existing id is a conflict.
    pub async fn create_model(
        &self,
        model: &ModelInfo,
        now: DateTime<Utc>,
    ) -> Result<ModelInfo, StoreError> {
        use sea_orm::ActiveModelTrait;
        let registered = || format!("the model '{}' is already registered", model.id);
        let m = to_active(model, now)
            .insert(self.conn())
            .await
            .map_err(conflict_if_unique(registered))?;
        Ok(to_domain(m))
    }

    /// Replaces a model's editable fields (prices, limits, display name, enabled) by id.
    pub async fn update_model(
        &self,
        model: &ModelInfo,
        now: DateTime<Utc>,
    ) -> Result<ModelInfo, StoreError> {
        use sea_orm::ActiveModelTrait;
        let mut row = to_active(model, now);
        row.created_at = sea_orm::NotSet;
        row.source = sea_orm::NotSet;
        row.provider = sea_orm::NotSet;
        row.upstream_name = sea_orm::NotSet;
        match row.update(self.conn()).await {
            Ok(m) => Ok(to_domain(m)),
            Err(sea_orm::DbErr::RecordNotUpdated) => {
                Err(StoreError::NotFound(format!("model '{}'", model.id)))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Enables or disables models; returns how many rows changed. Unknown ids are ignored.
    pub async fn set_models_enabled(
        &self,
        ids: &[String],
        enabled: bool,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        use sea_orm::sea_query::Expr;
        use sea_orm::{ColumnTrait, QueryFilter};
        if ids.is_empty() {
            return Ok(0);
        }
        let res = Entity::update_many()
            .col_expr(Column::Enabled, Expr::value(enabled))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::Id.is_in(ids.iter().map(String::as_str)))
            .exec(self.conn())
            .await?;
        Ok(res.rows_affected)
    }

    /// Creates or replaces an alias.
    pub async fn put_model_alias(
        &self,
        alias: &str,
        targets: &[String],
        now: DateTime<Utc>,
    ) -> Result<ModelAlias, StoreError> {
        use sea_orm::sea_query::OnConflict;
        let json =
            serde_json::to_string(targets).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let row = model_alias::ActiveModel {
            alias: Set(alias.to_owned()),
            targets: Set(json),
            created_at: Set(now),
            updated_at: Set(now),
        };
        model_alias::Entity::insert(row)
            .on_conflict(
                OnConflict::column(model_alias::Column::Alias)
                    .update_columns([model_alias::Column::Targets, model_alias::Column::UpdatedAt])
                    .to_owned(),
            )
            .exec_without_returning(self.conn())
            .await?;
        Ok(ModelAlias {
            alias: alias.to_owned(),
            targets: targets.to_vec(),
        })
    }

    /// Deletes an alias; `NotFound` if there was none.
    pub async fn delete_model_alias(&self, alias: &str) -> Result<(), StoreError> {
        let res = model_alias::Entity::delete_by_id(alias.to_owned())
            .exec(self.conn())
            .await?;
        if res.rows_affected == 0 {
            return Err(StoreError::NotFound(format!("alias '{alias}'")));
        }
        Ok(())
    }

    /// Every alias.
    pub async fn list_model_aliases(&self) -> Result<Vec<ModelAlias>, StoreError> {
        model_alias::Entity::find()
            .order_by_asc(model_alias::Column::Alias)
            .all(self.conn())
            .await?
            .into_iter()
            .map(|row| {
                let targets: Vec<String> = serde_json::from_str(&row.targets)
                    .map_err(|e| StoreError::Corrupt(format!("alias '{}': {e}", row.alias)))?;
                Ok(ModelAlias {
                    alias: row.alias,
                    targets,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::memory_store;

    fn model(id: &str, enabled: bool) -> ModelInfo {
        let (provider, name) = id.split_once('/').unwrap();
        ModelInfo {
            id: id.into(),
            provider: provider.into(),
            upstream_name: name.into(),
            display_name: None,
            context_length: Some(128_000),
            max_completion_tokens: Some(16_384),
            input_price_nanos_per_mtok: 150_000_000,
            output_price_nanos_per_mtok: 600_000_000,
            cached_input_price_nanos_per_mtok: None,
            cache_write_price_nanos_per_mtok: None,
            priced: true,
            supports_vision: true,
            supports_tools: true,
            supports_streaming: true,
            enabled,
            source: "catalog".into(),
            kind: gaia_core::ModelKind::Chat,
            dimensions: None,
        }
    }

    #[tokio::test]
    async fn models_are_paged_filtered_toggled_and_aliased() {
        let store = memory_store().await;
        let now = Utc::now();
        store
            .seed_models(
                &[
                    model("openai/a", true),
                    model("openai/b", true),
                    model("google/c", true),
                ],
                now,
            )
            .await
            .unwrap();
        let page = store
            .list_models_page(
                &ModelFilter {
                    provider: Some("openai".into()),
                    ..Default::default()
                },
                crate::PageRequest::new(Some(1), Some(1)),
            )
            .await
            .unwrap();
        assert_eq!((page.total, page.items.len(), page.pages()), (2, 1, 2));
        let n = store
            .set_models_enabled(
                &["openai/a".into(), "google/c".into(), "nope/x".into()],
                false,
                now,
            )
            .await
            .unwrap();
        assert_eq!(n, 2);
        let disabled = store
            .list_models_page(
                &ModelFilter {
                    enabled: Some(false),
                    ..Default::default()
                },
                crate::PageRequest::new(None, None),
            )
            .await
            .unwrap();
        assert_eq!(disabled.total, 2);
        store
            .put_model_alias("fast", &["google/c".into()], now)
            .await
            .unwrap();
        store
            .put_model_alias("fast", &["openai/b".into(), "google/c".into()], now)
            .await
            .unwrap();
        let aliases = store.list_model_aliases().await.unwrap();
        assert_eq!(
            aliases,
            vec![ModelAlias {
                alias: "fast".into(),
                targets: vec!["openai/b".into(), "google/c".into()]
            }]
        );
        store.delete_model_alias("fast").await.unwrap();
        assert!(matches!(
            store.delete_model_alias("fast").await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            store.create_model(&model("openai/a", true), now).await,
            Err(StoreError::Conflict(_))
        ));
    }

    #[tokio::test]
    async fn seeding_is_idempotent_and_keeps_existing_rows() {
        let store = memory_store().await;
        let now = Utc::now();
        let counts = store
            .seed_models(&[model("openai/a", true), model("anthropic/b", false)], now)
            .await
            .unwrap();
        assert_eq!(counts, (2, 0));
        // Re-seeding with a changed flag must not override the stored choice…
        let again = store
            .seed_models(&[model("openai/a", false)], now)
            .await
            .unwrap();
        assert_eq!(again, (0, 0));
        let all = store.list_models().await.unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1], model("openai/a", true));
        // …but a new price from the same source is applied.
        let mut repriced = model("openai/a", false);
        repriced.input_price_nanos_per_mtok = 1;
        assert_eq!(store.seed_models(&[repriced], now).await.unwrap(), (0, 1));
        let a = store
            .list_models()
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.id == "openai/a")
            .unwrap();
        assert_eq!((a.input_price_nanos_per_mtok, a.enabled), (1, true));
        // A manual entry is never overwritten by a catalog of another source.
        let mut manual = model("manual/x", true);
        manual.source = "manual".into();
        store.seed_models(&[manual.clone()], now).await.unwrap();
        let mut other = manual.clone();
        other.source = "catalog".into();
        other.output_price_nanos_per_mtok = 5;
        assert_eq!(store.seed_models(&[other], now).await.unwrap(), (0, 0));
    }

    #[tokio::test]
    async fn cache_prices_are_stored_unset_or_set_and_refreshed_by_seeding() {
        let store = memory_store().await;
        let now = Utc::now();
        store
            .seed_models(&[model("anthropic/a", true)], now)
            .await
            .unwrap();
        let a = store.get_model("anthropic/a").await.unwrap();
        assert_eq!(
            (
                a.cached_input_price_nanos_per_mtok,
                a.cache_write_price_nanos_per_mtok
            ),
            (None, None)
        );
        // A source that now knows the cache prices refreshes its entry.
        let mut priced = model("anthropic/a", true);
        priced.cached_input_price_nanos_per_mtok = Some(15_000_000);
        priced.cache_write_price_nanos_per_mtok = Some(0);
        assert_eq!(
            store.seed_models(&[priced.clone()], now).await.unwrap(),
            (0, 1)
        );
        assert_eq!(store.get_model("anthropic/a").await.unwrap(), priced);
        // An operator's change sets one and clears the other.
        let mut changed = priced.clone();
        changed.cached_input_price_nanos_per_mtok = None;
        changed.cache_write_price_nanos_per_mtok = Some(187_500_000);
        assert_eq!(store.update_model(&changed, now).await.unwrap(), changed);
        assert_eq!(store.get_model("anthropic/a").await.unwrap(), changed);
    }
}
