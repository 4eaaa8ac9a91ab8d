use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("organizations")
                    .if_not_exists()
                    .col(string_len("id", 36).primary_key())
                    .col(string_len_uniq("name", 100))
                    .col(string_len_null("description", 1000))
                    .col(string_len("status", 16))
                    .col(big_integer_null("monthly_requests_limit"))
                    .col(big_integer_null("monthly_tokens_limit"))
                    .col(big_integer_null("monthly_cost_limit_nanos"))
                    .col(integer_null("rate_limit_rpm"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_organizations_status")
                    .table("organizations")
                    .col("status")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("organizations").to_owned())
            .await
    }
}
