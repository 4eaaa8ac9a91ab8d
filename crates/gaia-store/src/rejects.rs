//! The usage writer's dead letters (`usage_rejects`): records the database refused even alone, kept with
//! the database's reason so they never block the records behind them and an operator can see and replay
//! them. Written by `gaia-stats`' sink only after a batch was split down to the refused record.

use chrono::{DateTime, Utc};
use sea_orm::{EntityTrait, PaginatorTrait, QueryOrder, QuerySelect, Set};

use crate::entity::usage_reject::{self, ActiveModel, Column, Entity};
use crate::text::storable_owned;
use crate::usage::NewUsageRecord;
use crate::{Store, StoreError};

/// Widest `error` kept (the column's width).
const ERROR_CHARS: usize = 1000;

/// A record set aside, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageReject {
    pub id: i64,
    pub request_id: String,
    pub rejected_at: DateTime<Utc>,
    /// What the database said.
    pub error: String,
    /// The whole record as JSON.
    pub record: String,
}

/// The record as JSON text: every field, control characters escaped by JSON itself, so the text is
/// storable whatever the record held.
pub fn record_json(r: &NewUsageRecord) -> String {
    serde_json::json!({
        "request_id": r.request_id,
        "created_at": r.created_at,
        "api_key_id": r.api_key_id,
        "organization_id": r.organization_id,
        "model_requested": r.model_requested,
        "model_served": r.model_served,
        "provider": r.provider,
        "stream": r.stream,
        "status_code": r.status_code,
        "error_code": r.error_code,
        "prompt_tokens": r.prompt_tokens,
        "completion_tokens": r.completion_tokens,
        "cached_tokens": r.cached_tokens,
        "total_tokens": r.total_tokens,
        "cost_nanos": r.cost_nanos,
        "estimated": r.estimated,
        "upstream_latency_ms": r.upstream_latency_ms,
        "ttft_ms": r.ttft_ms,
        "total_latency_ms": r.total_latency_ms,
        "attempts": r.attempts,
        "unpriced": r.unpriced,
        "api": r.api.as_str(),
        "cache_creation_tokens": r.cache_creation_tokens,
        "reasoning_tokens": r.reasoning_tokens,
    })
    .to_string()
}

impl Store {
    /// Sets refused records aside with the database's reason for each.
    pub async fn insert_usage_rejects(
        &self,
        rejects: &[(&NewUsageRecord, String)],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if rejects.is_empty() {
            return Ok(());
        }
        let rows = rejects.iter().map(|(r, error)| ActiveModel {
            request_id: Set(storable_owned(&r.request_id, 64)),
            rejected_at: Set(now),
            error: Set(storable_owned(error, ERROR_CHARS)),
            record: Set(record_json(r)),
            ..Default::default()
        });
        Entity::insert_many(rows).exec(self.conn()).await?;
        Ok(())
    }

    /// The most recent dead letters, newest first.
    pub async fn list_usage_rejects(&self, limit: u64) -> Result<Vec<UsageReject>, StoreError> {
        let rows = Entity::find()
            .order_by_desc(Column::Id)
            .limit(limit)
            .all(self.conn())
            .await?;
        Ok(rows
            .into_iter()
            .map(|m: usage_reject::Model| UsageReject {
                id: m.id,
                request_id: m.request_id,
                rejected_at: m.rejected_at,
                error: m.error,
                record: m.record,
            })
            .collect())
    }

    /// How many dead letters there are.
    pub async fn count_usage_rejects(&self) -> Result<u64, StoreError> {
        Ok(Entity::find().count(self.conn()).await?)
    }
}
