use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "responses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub organization_id: Option<String>,
    pub api_key_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub model: String,
    pub previous_response_id: Option<String>,
    pub status: String,
    /// JSON text: the request's input items (an array).
    #[sea_orm(column_type = "Text")]
    pub input_items: String,
    /// JSON text: the response object as answered.
    #[sea_orm(column_type = "Text")]
    pub output: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
