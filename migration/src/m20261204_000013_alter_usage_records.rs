use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Two facts the request log gains:
/// - `attempts`: upstream calls made for the request (retries and fallbacks included; 0 when it was refused
///   before any). `NULL` on records written before this migration: not known.
/// - `unpriced`: the model that served it had no known price, so its cost (0) is not a real cost.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement (SQLite adds one at a time), each skipped when present: MySQL DDL is
        // not transactional, so a run interrupted half-way completes when run again.
        for column in [
            integer_null("attempts"),
            boolean("unpriced").default(false).to_owned(),
        ] {
            let name = column.get_column_name();
            if manager.has_column("usage_records", &name).await? {
                continue;
            }
            manager
                .alter_table(
                    Table::alter()
                        .table("usage_records")
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["attempts", "unpriced"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("usage_records")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
