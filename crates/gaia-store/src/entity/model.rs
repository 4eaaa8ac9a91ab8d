use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "models")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub provider: String,
    pub upstream_name: String,
    pub display_name: Option<String>,
    pub context_length: Option<i64>,
    pub max_completion_tokens: Option<i64>,
    pub input_price_nanos_per_mtok: i64,
    pub output_price_nanos_per_mtok: i64,
    /// `NULL`: the provider's ratio of the input price (migration 17).
    pub cached_input_price_nanos_per_mtok: Option<i64>,
    pub cache_write_price_nanos_per_mtok: Option<i64>,
    pub priced: bool,
    pub supports_vision: bool,
    pub supports_tools: bool,
    pub supports_streaming: bool,
    pub enabled: bool,
    pub source: String,
    /// `chat` or `embedding` (migration 19).
    pub kind: String,
    pub dimensions: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
