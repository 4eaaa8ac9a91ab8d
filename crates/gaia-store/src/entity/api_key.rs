use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub organization_id: String,
    #[sea_orm(unique)]
    pub lookup: String,
    pub secret_hash: String,
    pub hint: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub permissions: String,
    pub status: String,
    pub monthly_requests_limit: Option<i64>,
    pub monthly_tokens_limit: Option<i64>,
    pub monthly_cost_limit_nanos: Option<i64>,
    pub rate_limit_rpm: Option<i32>,
    pub expires_at: Option<DateTimeUtc>,
    pub last_used_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
