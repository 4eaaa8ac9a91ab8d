use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The API the request came in through, and the two token classes a usage record did not keep apart:
///
/// - `usage_records.api`: `chat.completions`, `messages`, `responses` or `embeddings`
///   (`gaia_core::InboundApi`). Not null, default `chat.completions`: every record written before this
///   migration came through `POST /v1/chat/completions`, the only inbound API there was, so the default
///   is the truth about them rather than a placeholder.
/// - `usage_records.cache_creation_tokens` (part of `prompt_tokens` written to a prompt cache) and
///   `usage_records.reasoning_tokens` (part of `completion_tokens` spent on hidden reasoning): 0 on
///   existing rows, which did not record them.
/// - the same two counters in both rollups (`usage_daily`, `usage_daily_models`), summed like
///   `cached_tokens`: 0 on existing rows, which agrees with the raw rows they sum.
///
/// One column per statement (SQLite adds one at a time), each skipped when present: MySQL DDL is not
/// transactional, so a run interrupted half-way completes when run again. Adding a column with a constant
/// default rewrites no rows on SQLite, PostgreSQL ≥ 11 or MySQL 8 / MariaDB ≥ 10.3.
const TOKEN_COLUMNS: [&str; 2] = ["cache_creation_tokens", "reasoning_tokens"];

const ROLLUPS: [&str; 2] = ["usage_daily", "usage_daily_models"];

/// Adds `column` to `table` unless it is there already.
async fn add_column(
    manager: &SchemaManager<'_>,
    table: &'static str,
    column: ColumnDef,
) -> Result<(), DbErr> {
    if manager.has_column(table, &column.get_column_name()).await? {
        return Ok(());
    }
    manager
        .alter_table(Table::alter().table(table).add_column(column).to_owned())
        .await
}

/// Drops `column` from `table` if it is there.
async fn drop_column(
    manager: &SchemaManager<'_>,
    table: &'static str,
    column: &'static str,
) -> Result<(), DbErr> {
    if !manager.has_column(table, column).await? {
        return Ok(());
    }
    manager
        .alter_table(Table::alter().table(table).drop_column(column).to_owned())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(
            manager,
            "usage_records",
            string_len("api", 32).default("chat.completions").to_owned(),
        )
        .await?;
        for table in std::iter::once("usage_records").chain(ROLLUPS) {
            for column in TOKEN_COLUMNS {
                add_column(manager, table, big_integer(column).default(0).to_owned()).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in std::iter::once("usage_records").chain(ROLLUPS) {
            for column in TOKEN_COLUMNS {
                drop_column(manager, table, column).await?;
            }
        }
        drop_column(manager, "usage_records", "api").await
    }
}
