use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Every table GaiaRouter owns (not `seaql_migrations`, which holds only ASCII migration names).
const TABLES: [&str; 10] = [
    "organizations",
    "api_keys",
    "usage_records",
    "models",
    "model_aliases",
    "users",
    "usage_daily",
    "quota_reservations",
    "usage_daily_models",
    "usage_retention",
];

/// The schema's one foreign key (migration 2).
const FOREIGN_KEY: &str = "fk_api_keys_organization";

async fn foreign_key_exists(manager: &SchemaManager<'_>) -> Result<bool, DbErr> {
    let row = manager
        .get_connection()
        .query_one_raw(Statement::from_string(
            DbBackend::MySql,
            format!(
                "SELECT COUNT(*) AS n FROM information_schema.TABLE_CONSTRAINTS \
                 WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = 'api_keys' \
                 AND CONSTRAINT_NAME = '{FOREIGN_KEY}' AND CONSTRAINT_TYPE = 'FOREIGN KEY'"
            ),
        ))
        .await?;
    let n: i64 = match row {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    Ok(n > 0)
}

/// The timestamp columns of migrations 1–8, with whether each may be NULL.
const TIMESTAMPS: [(&str, &[(&str, bool)]); 7] = [
    (
        "organizations",
        &[("created_at", false), ("updated_at", false)],
    ),
    (
        "api_keys",
        &[
            ("expires_at", true),
            ("last_used_at", true),
            ("created_at", false),
            ("updated_at", false),
        ],
    ),
    ("usage_records", &[("created_at", false)]),
    ("models", &[("created_at", false), ("updated_at", false)]),
    (
        "model_aliases",
        &[("created_at", false), ("updated_at", false)],
    ),
    (
        "users",
        &[
            ("last_login_at", true),
            ("created_at", false),
            ("updated_at", false),
        ],
    ),
    ("quota_reservations", &[("updated_at", false)]),
];

/// MySQL and MariaDB get the text and time types the other databases have.
///
/// **Text**: every table stores full Unicode (`utf8mb4`) and compares text exactly (`utf8mb4_bin`).
/// Tables are created in the database's default character set, which on MariaDB and MySQL 5.7 is still
/// `latin1`: there an organization named `团队` or a model description with an emoji failed to insert. This
/// converts every table (and the database's default, for tables added later), whatever the server's
/// defaults. `utf8mb4_bin` rather than a `_ci` collation: names, model ids and key hashes then compare
/// exactly as on PostgreSQL, and `utf8mb4_unicode_ci` would even treat all emoji as equal.
///
/// **Time**: sea-orm maps "timestamp with time zone" to MySQL's `TIMESTAMP`, which holds only 1970–2038
/// and whole seconds: a key created to expire in 2040 was stored with no expiry at all, and sub-second
/// times were rounded. Every timestamp column becomes `DATETIME(6)`: years 1000–9999, microseconds, no
/// implicit `ON UPDATE CURRENT_TIMESTAMP` (MySQL 5.7 adds one to a table's first `TIMESTAMP`). Values are
/// UTC, as GaiaRouter writes them: the session time zone is UTC (sqlx sets it), so existing instants are
/// kept as they are converted.
///
/// SQLite and PostgreSQL store UTF-8 and full-range timestamps already: nothing to do there.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::MySql {
            return Ok(());
        }
        // MySQL and MariaDB refuse to change the character set of a column a foreign key joins (even
        // with `FOREIGN_KEY_CHECKS = 0`), so the schema's one foreign key is dropped around the conversion
        // and then re-created as migration 2 defined it. DDL is not transactional here: each step checks
        // what is already done, so a migration interrupted half-way completes when run again.
        if foreign_key_exists(manager).await? {
            manager
                .drop_foreign_key(
                    ForeignKey::drop()
                        .name(FOREIGN_KEY)
                        .table("api_keys")
                        .to_owned(),
                )
                .await?;
        }
        let db = manager.get_connection();
        db.execute_unprepared("ALTER DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
            .await?;
        for table in TABLES {
            db.execute_unprepared(&format!(
                "ALTER TABLE `{table}` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
            ))
            .await?;
        }
        for (table, columns) in TIMESTAMPS {
            let changes: Vec<String> = columns
                .iter()
                .map(|(column, nullable)| {
                    let null = if *nullable { "NULL" } else { "NOT NULL" };
                    format!("MODIFY `{column}` DATETIME(6) {null}")
                })
                .collect();
            db.execute_unprepared(&format!("ALTER TABLE `{table}` {}", changes.join(", ")))
                .await?;
        }
        if !foreign_key_exists(manager).await? {
            manager
                .create_foreign_key(
                    ForeignKey::create()
                        .name(FOREIGN_KEY)
                        .from("api_keys", "organization_id")
                        .to("organizations", "id")
                        .on_delete(ForeignKeyAction::Restrict)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    /// Deliberately nothing: converting back to a narrower character set could lose text.
    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}
