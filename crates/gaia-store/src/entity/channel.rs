use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "channels")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub provider: String,
    pub name: String,
    pub base_url: String,
    pub api_key_sealed: Option<String>,
    pub api_key_hint: Option<String>,
    pub weight: i32,
    pub priority: i32,
    /// JSON array of upstream model names; `None`: every model.
    pub models: Option<String>,
    /// JSON object: upstream model name → the name this channel knows it by.
    pub model_map: Option<String>,
    pub ca_file: Option<String>,
    pub api_version: Option<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
