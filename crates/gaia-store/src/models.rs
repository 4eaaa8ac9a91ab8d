//! The model registry: models, their prices and capabilities, and aliases.

use chrono::{DateTime, Utc};
use gaia_core::ModelInfo;
use sea_orm::{EntityTrait, QueryOrder, Set};

use crate::entity::model::{self, ActiveModel, Column, Entity};
use crate::entity::model_alias;
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
        supports_vision: m.supports_vision,
        supports_tools: m.supports_tools,
        supports_streaming: m.supports_streaming,
        enabled: m.enabled,
        source: m.source,
    }
}

fn to_active(m: &ModelInfo, now: DateTime<Utc>) -> ActiveModel {
    ActiveModel {
        id: Set(m.id.clone()),
        provider: Set(m.provider.clone()),
        upstream_name: Set(m.upstream_name.clone()),
        display_name: Set(m.display_name.clone()),
        context_length: Set(m.context_length),
        max_completion_tokens: Set(m.max_completion_tokens),
        input_price_nanos_per_mtok: Set(m.input_price_nanos_per_mtok),
        output_price_nanos_per_mtok: Set(m.output_price_nanos_per_mtok),
        supports_vision: Set(m.supports_vision),
        supports_tools: Set(m.supports_tools),
        supports_streaming: Set(m.supports_streaming),
        enabled: Set(m.enabled),
        source: Set(m.source.clone()),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// An alias and the model ids it resolves to, in fallback order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelAlias {
    pub alias: String,
    pub targets: Vec<String>,
}

impl Store {
    /// Inserts models that are not registered yet; existing rows (and an operator's `enabled` choice)
    /// are left alone. Returns how many were inserted.
    pub async fn seed_models(
        &self,
        models: &[ModelInfo],
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        if models.is_empty() {
            return Ok(0);
        }
        let before = self.list_models().await?.len();
        for chunk in models.chunks(200) {
            let rows = chunk.iter().map(|m| to_active(m, now));
            Entity::insert_many(rows)
                .on_conflict_do_nothing_on([Column::Id])
                .exec(self.conn())
                .await?;
        }
        let after = self.list_models().await?.len();
        Ok(after.saturating_sub(before) as u64)
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
            supports_vision: true,
            supports_tools: true,
            supports_streaming: true,
            enabled,
            source: "catalog".into(),
        }
    }

    #[tokio::test]
    async fn seeding_is_idempotent_and_keeps_existing_rows() {
        let store = memory_store().await;
        let now = Utc::now();
        let inserted = store
            .seed_models(&[model("openai/a", true), model("anthropic/b", false)], now)
            .await
            .unwrap();
        assert_eq!(inserted, 2);
        // Re-seeding with a changed flag must not override what is stored.
        let again = store.seed_models(&[model("openai/a", false)], now).await.unwrap();
        assert_eq!(again, 0);
        let all = store.list_models().await.unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1], model("openai/a", true));
    }
}
