use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_records")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub request_id: String,
    pub created_at: DateTimeUtc,
    pub api_key_id: Option<String>,
    pub organization_id: Option<String>,
    pub model_requested: String,
    pub model_served: Option<String>,
    pub provider: Option<String>,
    pub stream: bool,
    pub status_code: i16,
    pub error_code: Option<String>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cached_tokens: i64,
    pub total_tokens: i64,
    pub cost_nanos: i64,
    pub estimated: bool,
    pub upstream_latency_ms: Option<i32>,
    pub ttft_ms: Option<i32>,
    pub total_latency_ms: i32,
    pub attempts: Option<i32>,
    pub unpriced: bool,
    /// `gaia_core::InboundApi::as_str` of the API the request came in through.
    pub api: String,
    pub cache_creation_tokens: i64,
    pub reasoning_tokens: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
