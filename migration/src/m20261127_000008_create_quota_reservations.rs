use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Admission slots claimed against monthly request limits, shared by every instance. An instance claims
/// a block of slots with one conditional UPDATE (`admitted + n <= limit`), spends them from memory, and
/// returns unused ones on shutdown; so a request limit holds across instances without a database
/// round-trip per request.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("quota_reservations")
                    .if_not_exists()
                    // `org` or `key`
                    .col(string_len("scope", 8))
                    .col(string_len("scope_id", 36))
                    // `YYYY-MM` (UTC)
                    .col(string_len("period", 7))
                    .col(big_integer("admitted"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .primary_key(Index::create().col("scope").col("scope_id").col("period"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("quota_reservations").to_owned())
            .await
    }
}
