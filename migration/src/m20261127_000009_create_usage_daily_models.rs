use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const COUNTERS: [&str; 8] = [
    "requests",
    "errors",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "total_tokens",
    "cost_nanos",
    "total_latency_ms_sum",
];

/// `usage_daily` without its organization and key dimensions: day × model × provider, maintained by the
/// writer in the same transaction (and upsert pass) as `usage_daily`. Global reports read this table,
/// which holds a few hundred rows a quarter where `usage_daily` holds tens of thousands. Filled from
/// `usage_daily` on creation.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table("usage_daily_models")
            .if_not_exists()
            .col(string_len("day", 10))
            .col(string_len("model", 256))
            .col(string_len("provider", 64));
        for c in COUNTERS {
            table.col(big_integer(c));
        }
        table.primary_key(Index::create().col("day").col("model").col("provider"));
        if manager.get_database_backend() == sea_orm_migration::sea_orm::DbBackend::Sqlite {
            table.extra("WITHOUT ROWID");
        }
        manager.create_table(table).await?;
        let sums: Vec<String> = COUNTERS.iter().map(|c| format!("SUM({c})")).collect();
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "INSERT INTO usage_daily_models (day, model, provider, {}) \
                 SELECT day, model, provider, {} FROM usage_daily GROUP BY day, model, provider",
                COUNTERS.join(", "),
                sums.join(", "),
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("usage_daily_models").to_owned())
            .await
    }
}
