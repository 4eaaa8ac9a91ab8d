use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `priced`: whether the model's prices are known. A price of 0 used to mean both "free" and "nobody
/// said", so a monthly cost limit never bit on a model registered without prices. Now 0 with `priced`
/// means free, and `priced = false` means unknown.
///
/// Existing rows: the built-in catalog's prices are known; an entry from another source (manual, the
/// config file, an OpenRouter sync) whose two prices are both 0 is taken as unpriced — the safe reading,
/// since a cost limit then refuses it instead of letting it run free. Operators declare a model free by
/// setting its prices to 0 (`PATCH /v1/admin/models/{id}`); the config file and OpenRouter re-register
/// theirs at the next start or sync.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.has_column("models", "priced").await? {
            // Added by an earlier run that stopped before the update below (MySQL DDL is not
            // transactional); the update is safe to repeat.
        } else {
            manager
                .alter_table(
                    Table::alter()
                        .table("models")
                        .add_column(boolean("priced").default(true))
                        .to_owned(),
                )
                .await?;
        }
        let mut unpriced = Query::update();
        unpriced
            .table("models")
            .value("priced", false)
            .and_where(Expr::col("source").ne("catalog"))
            .and_where(Expr::col("input_price_nanos_per_mtok").eq(0))
            .and_where(Expr::col("output_price_nanos_per_mtok").eq(0));
        manager.exec_stmt(unpriced).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("models")
                    .drop_column("priced")
                    .to_owned(),
            )
            .await
    }
}
