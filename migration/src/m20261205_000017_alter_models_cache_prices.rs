use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The prices of the two prompt-cache token classes, nano-dollars per million tokens like the input and
/// output prices: `cached_input_price_nanos_per_mtok` (tokens read from a cache) and
/// `cache_write_price_nanos_per_mtok` (tokens written to one). Nullable: `NULL` means the provider's
/// published ratio of the input price (`gaia_core::registry::CacheRatios`), which is what every existing
/// row gets — the built-in catalog and an OpenRouter sync fill in the prices they know at the next start or
/// sync.
///
/// One column per statement: SQLite alters one thing at a time, and MySQL DDL is not transactional, so each
/// step is skipped when an earlier run that stopped half-way already made it.
const COLUMNS: [&str; 2] = [
    "cached_input_price_nanos_per_mtok",
    "cache_write_price_nanos_per_mtok",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in COLUMNS {
            if !manager.has_column("models", column).await? {
                manager
                    .alter_table(
                        Table::alter()
                            .table("models")
                            .add_column(big_integer_null(column))
                            .to_owned(),
                    )
                    .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in COLUMNS {
            if manager.has_column("models", column).await? {
                manager
                    .alter_table(
                        Table::alter()
                            .table("models")
                            .drop_column(column)
                            .to_owned(),
                    )
                    .await?;
            }
        }
        Ok(())
    }
}
