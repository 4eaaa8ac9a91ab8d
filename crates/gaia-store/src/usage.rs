//! Usage records: one row per inference request, written in batches by gaia-stats.

use chrono::{DateTime, Utc};
use sea_orm::{EntityTrait, PaginatorTrait, Set};

use crate::entity::usage_record::{ActiveModel, Entity};
use crate::{Store, StoreError};

/// One inference request's outcome, as recorded. Cost is in nano-dollars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUsageRecord {
    pub request_id: String,
    pub created_at: DateTime<Utc>,
    pub api_key_id: Option<String>,
    pub organization_id: Option<String>,
    pub model_requested: String,
    pub model_served: Option<String>,
    pub provider: Option<String>,
    pub stream: bool,
    pub status_code: u16,
    pub error_code: Option<String>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cached_tokens: u64,
    pub total_tokens: u64,
    pub cost_nanos: i64,
    pub estimated: bool,
    pub upstream_latency_ms: Option<u32>,
    pub ttft_ms: Option<u32>,
    pub total_latency_ms: u32,
}

fn clamp_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn clamp_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

impl Store {
    /// Inserts a batch of records in one statement per chunk, inside one transaction.
    pub async fn insert_usage_records(&self, records: &[NewUsageRecord]) -> Result<(), StoreError> {
        use sea_orm::TransactionTrait;
        if records.is_empty() {
            return Ok(());
        }
        let txn = self.conn().begin().await?;
        // Stay well under every backend's bound-parameter limit (SQLite: 32766; 20 columns a row).
        for chunk in records.chunks(500) {
            let rows = chunk.iter().map(|r| ActiveModel {
                id: sea_orm::NotSet,
                request_id: Set(r.request_id.clone()),
                created_at: Set(r.created_at),
                api_key_id: Set(r.api_key_id.clone()),
                organization_id: Set(r.organization_id.clone()),
                model_requested: Set(r.model_requested.clone()),
                model_served: Set(r.model_served.clone()),
                provider: Set(r.provider.clone()),
                stream: Set(r.stream),
                status_code: Set(i16::try_from(r.status_code).unwrap_or(i16::MAX)),
                error_code: Set(r.error_code.clone()),
                prompt_tokens: Set(clamp_i64(r.prompt_tokens)),
                completion_tokens: Set(clamp_i64(r.completion_tokens)),
                cached_tokens: Set(clamp_i64(r.cached_tokens)),
                total_tokens: Set(clamp_i64(r.total_tokens)),
                cost_nanos: Set(r.cost_nanos),
                estimated: Set(r.estimated),
                upstream_latency_ms: Set(r.upstream_latency_ms.map(clamp_i32)),
                ttft_ms: Set(r.ttft_ms.map(clamp_i32)),
                total_latency_ms: Set(clamp_i32(r.total_latency_ms)),
            });
            Entity::insert_many(rows)
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Total number of usage records.
    pub async fn count_usage_records(&self) -> Result<u64, StoreError> {
        Ok(Entity::find().count(self.conn()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::memory_store;

    fn record(i: u64) -> NewUsageRecord {
        NewUsageRecord {
            request_id: format!("req-{i}"),
            created_at: Utc::now(),
            api_key_id: Some("k".into()),
            organization_id: Some("o".into()),
            model_requested: "openai/gpt-4o-mini".into(),
            model_served: Some("gpt-4o-mini".into()),
            provider: Some("openai".into()),
            stream: i.is_multiple_of(2),
            status_code: 200,
            error_code: None,
            prompt_tokens: i,
            completion_tokens: 2 * i,
            cached_tokens: 0,
            total_tokens: 3 * i,
            cost_nanos: 10,
            estimated: false,
            upstream_latency_ms: Some(5),
            ttft_ms: None,
            total_latency_ms: 6,
        }
    }

    #[tokio::test]
    async fn a_large_batch_is_inserted_completely() {
        let store = memory_store().await;
        let batch: Vec<_> = (0..1234).map(record).collect();
        store.insert_usage_records(&batch).await.unwrap();
        assert_eq!(store.count_usage_records().await.unwrap(), 1234);
    }
}
