use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("usage_records")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    .col(string_len("request_id", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    // Keys and organizations are soft-deleted, so these never dangle; no FK keeps
                    // batched inserts cheap and lets history outlive any future hard delete.
                    .col(string_len_null("api_key_id", 36))
                    .col(string_len_null("organization_id", 36))
                    .col(string_len("model_requested", 256))
                    .col(string_len_null("model_served", 256))
                    .col(string_len_null("provider", 64))
                    .col(boolean("stream"))
                    .col(small_integer("status_code"))
                    .col(string_len_null("error_code", 64))
                    .col(big_integer("prompt_tokens"))
                    .col(big_integer("completion_tokens"))
                    .col(big_integer("cached_tokens"))
                    .col(big_integer("total_tokens"))
                    .col(big_integer("cost_nanos"))
                    .col(boolean("estimated"))
                    .col(integer_null("upstream_latency_ms"))
                    .col(integer_null("ttft_ms"))
                    .col(integer("total_latency_ms"))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("idx_usage_created", &["created_at"][..]),
            (
                "idx_usage_org_created",
                &["organization_id", "created_at"][..],
            ),
            ("idx_usage_key_created", &["api_key_id", "created_at"][..]),
        ] {
            let mut index = Index::create();
            index.name(name).table("usage_records");
            for col in cols {
                index.col(*col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("usage_records").to_owned())
            .await
    }
}
