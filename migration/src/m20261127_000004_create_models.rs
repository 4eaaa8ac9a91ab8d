use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("models")
                    .if_not_exists()
                    // `provider/model`, the id clients send.
                    .col(string_len("id", 256).primary_key())
                    .col(string_len("provider", 64))
                    .col(string_len("upstream_name", 256))
                    .col(string_len_null("display_name", 256))
                    .col(big_integer_null("context_length"))
                    .col(big_integer_null("max_completion_tokens"))
                    // Prices in nano-dollars per million tokens (1 USD/M = 1_000_000_000).
                    .col(big_integer("input_price_nanos_per_mtok"))
                    .col(big_integer("output_price_nanos_per_mtok"))
                    .col(boolean("supports_vision"))
                    .col(boolean("supports_tools"))
                    .col(boolean("supports_streaming"))
                    .col(boolean("enabled"))
                    // catalog | openrouter | manual
                    .col(string_len("source", 16))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_models_provider")
                    .table("models")
                    .col("provider")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("models").to_owned())
            .await
    }
}
