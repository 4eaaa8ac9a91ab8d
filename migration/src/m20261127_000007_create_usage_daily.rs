use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The daily rollup of `usage_records`, maintained by the writer in the same transaction as the raw
/// inserts. Statistics answer from here, so months of traffic cost a few thousand rows, not millions.
///
/// `day` is `YYYY-MM-DD` text (UTC): it compares, sorts and groups identically on every backend, which a
/// DATE column does not (SQLite has none). Dimensions are NOT NULL with `''` for "none" so the composite
/// primary key is a real conflict target for the upsert (NULLs never conflict).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table("usage_daily")
            .if_not_exists()
            .col(string_len("day", 10))
            .col(string_len("organization_id", 36))
            .col(string_len("api_key_id", 36))
            // As served; the requested model when nothing was served.
            .col(string_len("model", 256))
            .col(string_len("provider", 64))
            .col(big_integer("requests"))
            // Requests answered with a status >= 400.
            .col(big_integer("errors"))
            .col(big_integer("prompt_tokens"))
            .col(big_integer("completion_tokens"))
            .col(big_integer("cached_tokens"))
            .col(big_integer("total_tokens"))
            .col(big_integer("cost_nanos"))
            // Sum of total latencies, for averages.
            .col(big_integer("total_latency_ms_sum"))
            .primary_key(
                Index::create()
                    .col("day")
                    .col("organization_id")
                    .col("api_key_id")
                    .col("model")
                    .col("provider"),
            );
        if manager.get_database_backend() == sea_orm_migration::sea_orm::DbBackend::Sqlite {
            // Store rows in primary-key order (day first): a period's rows sit together and are read
            // without a second lookup, which keeps reports fast when the file is mostly raw records.
            table.extra("WITHOUT ROWID");
        }
        manager.create_table(table).await?;
        for (name, first) in [
            ("idx_usage_daily_org_day", "organization_id"),
            ("idx_usage_daily_key_day", "api_key_id"),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table("usage_daily")
                        .col(first)
                        .col("day")
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("usage_daily").to_owned())
            .await
    }
}
