use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// How far retention has deleted raw usage records: one row (`id` 1) whose `day` (`YYYY-MM-DD`, UTC) is
/// the last day that may have lost raw records. Every later day still has all its raw records, so its
/// rollup rows count them exactly (the request log's total reads them instead of counting millions of
/// rows). No row: nothing was ever deleted.
///
/// On creation, a database whose retention may already have run is assumed to have lost records up to the
/// day of its oldest raw record (or, without raw records, every day of the rollup).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("usage_retention")
                    .if_not_exists()
                    .col(ColumnDef::new("id").integer().not_null().primary_key())
                    .col(ColumnDef::new("day").string_len(10).not_null())
                    .to_owned(),
            )
            .await?;
        let oldest_day = match manager.get_database_backend() {
            DbBackend::Postgres => "to_char(MIN(created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
            DbBackend::MySql => "DATE_FORMAT(MIN(created_at), '%Y-%m-%d')",
            // SQLite stores timestamps as UTC text that starts with the date.
            _ => "substr(MIN(created_at), 1, 10)",
        };
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "INSERT INTO usage_retention (id, day) \
                 SELECT 1, d FROM (SELECT COALESCE((SELECT {oldest_day} FROM usage_records), \
                 (SELECT MAX(day) FROM usage_daily)) AS d) AS w WHERE d IS NOT NULL"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("usage_retention").to_owned())
            .await
    }
}
