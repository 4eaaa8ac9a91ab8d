use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A time column: `DATETIME(6)` on MySQL (its `TIMESTAMP` ends in 2038, in whole seconds; see migration 11),
/// `timestamp with time zone` elsewhere.
fn instant(manager: &SchemaManager, name: &'static str) -> ColumnDef {
    if manager.get_database_backend() == DbBackend::MySql {
        ColumnDef::new(name)
            .custom(Alias::new("DATETIME(6)"))
            .not_null()
            .to_owned()
    } else {
        timestamp_with_time_zone(name)
    }
}

/// The usage writer's dead letters: records the database refused even alone, set aside so they never
/// block the records behind them and an operator can see (and replay) them. `record` is the whole record
/// as JSON text (JSON escapes every control character, so it is always storable); `error` is what the
/// database said.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("usage_rejects")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    .col(string_len("request_id", 64))
                    .col(instant(manager, "rejected_at"))
                    .col(string_len("error", 1000))
                    .col(text("record"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_usage_rejects_rejected")
                    .table("usage_rejects")
                    .col("rejected_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("usage_rejects").to_owned())
            .await
    }
}
