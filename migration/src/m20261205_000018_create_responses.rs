use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "responses";

/// The indexes: a caller's responses by time, and the retention purge's cut-off.
const INDEXES: [(&str, &[&str]); 2] = [
    (
        "idx_responses_org_created",
        &["organization_id", "created_at"],
    ),
    ("idx_responses_created", &["created_at"]),
];

/// A time column: `DATETIME(6)` on MySQL (its `TIMESTAMP` ends in 2038, in whole seconds; see migration 11),
/// `timestamp with time zone` elsewhere.
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

/// A JSON document of any size the store accepts (`gaia_store::responses::MAX_JSON_BYTES`, 16 MiB):
/// `LONGTEXT` on MySQL, whose `TEXT` — what sea-orm makes of `text` there — holds 64 KiB and whose
/// `MEDIUMTEXT` holds one byte less than 16 MiB; `text` elsewhere (PostgreSQL: up to 1 GB, SQLite: up to its
/// 10⁹-byte string limit).
fn document(manager: &SchemaManager, name: &'static str) -> ColumnDef {
    if manager.get_database_backend() == DbBackend::MySql {
        ColumnDef::new(name)
            .custom(Alias::new("LONGTEXT"))
            .not_null()
            .to_owned()
    } else {
        text(name)
    }
}

/// Responses of the Responses API kept with `store: true` (specs/responses.md ): what a later
/// request's `previous_response_id` continues and what `GET /v1/responses/{id}` answers.
///
/// - `id`: `resp_…`, the answer's id; `previous_response_id` the response it continued (no foreign key: a
///   response outlives neither retention nor a delete of its predecessor, and the chain is checked when read).
/// - `organization_id` (null for the bootstrap admin key) scopes every read; `api_key_id` who created it.
///   No foreign keys, like `usage_records`: keys and organizations are soft-deleted.
/// - `input_items` (the request's input items, a JSON array) and `output` (the response object as answered)
///   are JSON text.
/// - `created_at` is what retention (`GAIA_USAGE_RETENTION_DAYS`) deletes by.
///
/// MySQL: the table is `utf8mb4_bin` like every other (said here too, not only inherited from the database's
/// default that migration 11 set). Each step is skipped when done: MySQL DDL is not transactional, so a run
/// interrupted half-way completes when run again (and MySQL has no `CREATE INDEX IF NOT EXISTS`).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table(TABLE)
            .if_not_exists()
            .col(string_len("id", 64).primary_key())
            .col(string_len_null("organization_id", 36))
            .col(string_len_null("api_key_id", 36))
            .col(instant(manager, "created_at"))
            .col(string_len("model", 256))
            .col(string_len_null("previous_response_id", 64))
            .col(string_len("status", 32))
            .col(document(manager, "input_items"))
            .col(document(manager, "output"));
        if manager.get_database_backend() == DbBackend::MySql {
            table.character_set("utf8mb4").collate("utf8mb4_bin");
        }
        manager.create_table(table.to_owned()).await?;
        for (name, columns) in INDEXES {
            if manager.has_index(TABLE, name).await? {
                continue;
            }
            let mut index = Index::create();
            index.name(name).table(TABLE);
            for column in columns {
                index.col(*column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TABLE).if_exists().to_owned())
            .await
    }
}
