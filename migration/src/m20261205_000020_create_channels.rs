use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "channels";

/// A time column: `DATETIME(6)` on MySQL (see migration 11), `timestamp with time zone` elsewhere.
fn instant(manager: &SchemaManager, name: &'static str) -> ColumnDef {
    if manager.get_database_backend() == DbBackend::MySql {
        ColumnDef::new(name)
            .custom(Alias::new("DATETIME(6)"))
            .not_null()
            .to_owned()
    } else {
        timestamp_with_time_zone(name)
    }
}

/// Channels added through the admin API (specs/scale.md): more credentials and endpoints for a provider.
///
/// - `provider`: the provider name the channel serves (`openai`, a `GAIA_CONFIG` provider, …); `name` is
///   unique within it.
/// - `api_key_sealed`: the upstream credential encrypted with `GAIA_SECRET_KEY` (XChaCha20-Poly1305, the row
///   id as associated data; `v1.<key id>.<nonce>.<ciphertext>`), null for an endpoint without a key;
///   `api_key_hint` the last characters shown by the API. The key itself is never stored.
/// - `models` (JSON array of upstream names; null: every model) and `model_map` (JSON object) as text.
/// - `enabled` false once an operator disables it or the provider refused its credential
///   (`disabled_reason` says which).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table(TABLE)
            .if_not_exists()
            .col(string_len("id", 36).primary_key())
            .col(string_len("provider", 64))
            .col(string_len("name", 64))
            .col(string_len("base_url", 2048))
            .col(text_null("api_key_sealed"))
            .col(string_len_null("api_key_hint", 16))
            .col(integer("weight").default(1))
            .col(integer("priority").default(0))
            .col(text_null("models"))
            .col(text_null("model_map"))
            .col(string_len_null("ca_file", 1024))
            .col(string_len_null("api_version", 32))
            .col(boolean("enabled").default(true))
            .col(string_len_null("disabled_reason", 512))
            .col(instant(manager, "created_at"))
            .col(instant(manager, "updated_at"));
        if manager.get_database_backend() == DbBackend::MySql {
            table.character_set("utf8mb4").collate("utf8mb4_bin");
        }
        manager.create_table(table.to_owned()).await?;
        if !manager
            .has_index(TABLE, "idx_channels_provider_name")
            .await?
        {
            manager
                .create_index(
                    Index::create()
                        .name("idx_channels_provider_name")
                        .table(TABLE)
                        .col("provider")
                        .col("name")
                        .unique()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TABLE).if_exists().to_owned())
            .await
    }
}
