use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("api_keys")
                    .if_not_exists()
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("organization_id", 36))
                    // The public part of the key (`gaia_<lookup>_<secret>`): looked up, never secret.
                    .col(string_len_uniq("lookup", 32))
                    // SHA-256 of the secret part, hex. The key itself is never stored.
                    .col(string_len("secret_hash", 64))
                    // Non-secret hint shown in lists: prefix and last four characters.
                    .col(string_len("hint", 48))
                    .col(string_len_null("name", 100))
                    .col(string_len_null("description", 1000))
                    // Comma-separated subset of read,write,admin.
                    .col(string_len("permissions", 64))
                    .col(string_len("status", 16))
                    .col(big_integer_null("monthly_requests_limit"))
                    .col(big_integer_null("monthly_tokens_limit"))
                    .col(big_integer_null("monthly_cost_limit_nanos"))
                    .col(integer_null("rate_limit_rpm"))
                    .col(timestamp_with_time_zone_null("expires_at"))
                    .col(timestamp_with_time_zone_null("last_used_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_api_keys_organization")
                            .from("api_keys", "organization_id")
                            .to("organizations", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_api_keys_organization")
                    .table("api_keys")
                    .col("organization_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("api_keys").to_owned())
            .await
    }
}
