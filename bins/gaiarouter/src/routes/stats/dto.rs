//! The JSON shapes of statistics and the request log (the original GaiaRouter's, plus `errors` and
//! `avg_latency_ms` per group). Costs are US dollars computed from exact integer nano-dollars.

use chrono::{DateTime, Utc};
use gaia_stats::service::{KeyCounts, avg_latency_ms};
use gaia_stats::{Group, Scope, StatsReport, StoredUsageRecord, UsageTotals, usd};
use serde::Serialize;
use utoipa::ToSchema;

/// The period a report covers (UTC days, inclusive).
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsPeriod {
    #[schema(example = "2026-10-29")]
    pub start: String,
    #[schema(example = "2026-11-27")]
    pub end: String,
}

/// Totals over the whole period.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsSummary {
    pub total_requests: i64,
    pub total_prompt_tokens: i64,
    pub total_completion_tokens: i64,
    pub total_tokens: i64,
    /// USD.
    #[schema(example = 1.234567)]
    pub total_cost: f64,
    /// Requests answered with a status >= 400.
    pub errors: i64,
    /// Mean total latency in milliseconds (0 without requests).
    pub avg_latency_ms: f64,
    /// Requests served by a model without a known price: `total_cost` does not include them.
    pub unpriced_requests: i64,
    /// Part of `total_prompt_tokens` read from a prompt cache.
    pub total_cached_tokens: i64,
    /// Part of `total_prompt_tokens` written to a prompt cache.
    pub total_cache_creation_tokens: i64,
    /// Part of `total_completion_tokens` spent on reasoning.
    pub total_reasoning_tokens: i64,
    /// Global statistics only: every API key ever created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_keys: Option<u64>,
    /// Global statistics only: keys that can authenticate now (active, not expired).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_keys: Option<u64>,
}

/// The counters of one group.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupTotals {
    pub requests: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub total_tokens: i64,
    /// USD.
    pub cost: f64,
    pub errors: i64,
    pub avg_latency_ms: f64,
    /// Requests served by a model without a known price (not in `cost`).
    pub unpriced_requests: i64,
    /// Part of `prompt_tokens` read from a prompt cache.
    pub cached_tokens: i64,
    /// Part of `prompt_tokens` written to a prompt cache.
    pub cache_creation_tokens: i64,
    /// Part of `completion_tokens` spent on reasoning.
    pub reasoning_tokens: i64,
}

impl From<&UsageTotals> for GroupTotals {
    fn from(t: &UsageTotals) -> Self {
        Self {
            requests: t.requests,
            prompt_tokens: t.prompt_tokens,
            completion_tokens: t.completion_tokens,
            total_tokens: t.total_tokens,
            cost: usd(t.cost_nanos),
            errors: t.errors,
            avg_latency_ms: avg_latency_ms(t),
            unpriced_requests: t.unpriced_requests,
            cached_tokens: t.cached_tokens,
            cache_creation_tokens: t.cache_creation_tokens,
            reasoning_tokens: t.reasoning_tokens,
        }
    }
}

/// One date bucket: a day (`2026-11-27`), an ISO week labelled by its Monday (`2026-11-23`), or a month
/// (`2026-11`).
#[derive(Debug, Serialize, ToSchema)]
pub struct DateGroup {
    #[schema(example = "2026-11-27")]
    pub date: String,
    #[serde(flatten)]
    pub totals: GroupTotals,
}

/// One model, as served (as requested when nothing was served).
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelGroup {
    #[schema(example = "gpt-4o-mini")]
    pub model: String,
    #[serde(flatten)]
    pub totals: GroupTotals,
}

/// One provider (`""` for requests that never reached one).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderGroup {
    #[schema(example = "openai")]
    pub provider: String,
    #[serde(flatten)]
    pub totals: GroupTotals,
}

/// A statistics report. `organization_id` or `key_id` names the scope (neither for global statistics).
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    pub period: StatsPeriod,
    /// How `by_date` is bucketed (`day`, `week` or `month`; `day` when grouping by model or provider).
    #[schema(example = "day")]
    pub group_by: String,
    pub summary: StatsSummary,
    /// Every bucket of the period, empty ones included.
    pub by_date: Vec<DateGroup>,
    /// Most requests first.
    pub by_model: Vec<ModelGroup>,
    /// Most requests first.
    pub by_provider: Vec<ProviderGroup>,
}

impl From<&StatsReport> for StatsResponse {
    fn from(r: &StatsReport) -> Self {
        let (organization_id, key_id) = match &r.query.scope {
            Scope::Global => (None, None),
            Scope::Organization(id) => (Some(id.clone()), None),
            Scope::ApiKey(id) => (None, Some(id.clone())),
        };
        let s = &r.summary;
        let keys: Option<KeyCounts> = r.keys;
        let rows = |groups: &[Group]| -> Vec<(String, GroupTotals)> {
            groups
                .iter()
                .map(|g| (g.label.clone(), GroupTotals::from(&g.totals)))
                .collect()
        };
        Self {
            organization_id,
            key_id,
            period: StatsPeriod {
                start: r.query.period.start.to_string(),
                end: r.query.period.end.to_string(),
            },
            group_by: r.query.group_by.as_str().to_owned(),
            summary: StatsSummary {
                total_requests: s.requests,
                total_prompt_tokens: s.prompt_tokens,
                total_completion_tokens: s.completion_tokens,
                total_tokens: s.total_tokens,
                total_cost: usd(s.cost_nanos),
                errors: s.errors,
                avg_latency_ms: avg_latency_ms(s),
                unpriced_requests: s.unpriced_requests,
                total_cached_tokens: s.cached_tokens,
                total_cache_creation_tokens: s.cache_creation_tokens,
                total_reasoning_tokens: s.reasoning_tokens,
                total_keys: keys.map(|k| k.total),
                active_keys: keys.map(|k| k.active),
            },
            by_date: rows(&r.by_date)
                .into_iter()
                .map(|(date, totals)| DateGroup { date, totals })
                .collect(),
            by_model: rows(&r.by_model)
                .into_iter()
                .map(|(model, totals)| ModelGroup { model, totals })
                .collect(),
            by_provider: rows(&r.by_provider)
                .into_iter()
                .map(|(provider, totals)| ProviderGroup { provider, totals })
                .collect(),
        }
    }
}

/// One inference request in the log.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestLogEntry {
    pub id: i64,
    /// The `x-request-id` of the request.
    pub request_id: String,
    pub created_at: DateTime<Utc>,
    pub api_key_id: Option<String>,
    pub organization_id: Option<String>,
    /// As requested (`openai/gpt-4o-mini`, an alias, …).
    pub model: String,
    /// As the provider reported serving it.
    pub model_served: Option<String>,
    pub provider: Option<String>,
    pub stream: bool,
    pub status_code: u16,
    pub error_code: Option<String>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cached_tokens: u64,
    pub total_tokens: u64,
    /// USD.
    pub cost: f64,
    /// Tokens were counted locally (the provider reported no usage).
    pub estimated: bool,
    pub upstream_latency_ms: Option<u32>,
    /// Time to first token, for streams.
    pub ttft_ms: Option<u32>,
    pub total_latency_ms: u32,
    /// Upstream calls made: retries and fallbacks included, 0 when refused before any (`null` on
    /// records from before this was recorded). `provider` and `model_served` name the target that
    /// answered, or the last one tried.
    pub attempts: Option<u32>,
    /// Served by a model without a known price: `cost` (0) is not its real cost.
    pub unpriced: bool,
    /// The API the request came in through: `chat.completions`, `messages`, `responses` or
    /// `embeddings`.
    #[schema(example = "messages")]
    pub api: String,
    /// Part of `prompt_tokens` written to a prompt cache.
    pub cache_creation_tokens: u64,
    /// Part of `completion_tokens` spent on reasoning.
    pub reasoning_tokens: u64,
}

impl From<StoredUsageRecord> for RequestLogEntry {
    fn from(s: StoredUsageRecord) -> Self {
        let r = s.record;
        Self {
            id: s.id,
            request_id: r.request_id,
            created_at: r.created_at,
            api_key_id: r.api_key_id,
            organization_id: r.organization_id,
            model: r.model_requested,
            model_served: r.model_served,
            provider: r.provider,
            stream: r.stream,
            status_code: r.status_code,
            error_code: r.error_code,
            prompt_tokens: r.prompt_tokens,
            completion_tokens: r.completion_tokens,
            cached_tokens: r.cached_tokens,
            total_tokens: r.total_tokens,
            cost: usd(r.cost_nanos),
            estimated: r.estimated,
            upstream_latency_ms: r.upstream_latency_ms,
            ttft_ms: r.ttft_ms,
            total_latency_ms: r.total_latency_ms,
            attempts: r.attempts,
            unpriced: r.unpriced,
            api: r.api.as_str().to_owned(),
            cache_creation_tokens: r.cache_creation_tokens,
            reasoning_tokens: r.reasoning_tokens,
        }
    }
}
