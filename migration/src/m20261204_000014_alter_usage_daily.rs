use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Both rollup tables (`usage_daily` and its day × model × provider twin `usage_daily_models`) count the
/// requests served by a model without a known price, so statistics can show how much traffic their cost
/// figures leave out. Existing rows start at 0.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["usage_daily", "usage_daily_models"] {
            // Skipped when present: MySQL DDL is not transactional (a re-run completes a broken one).
            if manager.has_column(table, "unpriced_requests").await? {
                continue;
            }
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(big_integer("unpriced_requests").default(0))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["usage_daily", "usage_daily_models"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .drop_column("unpriced_requests")
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
