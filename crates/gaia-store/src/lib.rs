//! # gaia-store
//!
//! The only home of sea-orm entities in GaiaRouter. [`Store`] owns the connection pool; repositories (split
//! into modules by table) return gaia-core types, never rows, so nothing above this crate depends on the
//! schema. [`Store::connect_and_migrate`] opens SQLite, PostgreSQL or MySQL from one URL and brings the
//! schema up to date with the `migration` crate.
//!
//! Errors: [`StoreError`], which converts into [`gaia_core::GaiaError`] (`NotFound` → 404, `Conflict` → 409,
//! `TooLarge` → 413, `Conversation` → 400, database failures → 503/500 with the cause kept for logs only).

pub mod api_keys;
pub mod channels;
mod conn;
mod entity;
mod limit_columns;
pub mod metrics;
pub mod models;
pub mod organizations;
pub mod quota;
pub mod rejects;
pub mod responses;
mod rows;
pub mod testing;
pub mod text;
pub mod usage;
pub mod users;

use std::time::Duration;

use gaia_core::{ErrorKind, GaiaError};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DbErr};

pub use sea_orm::DbErr as DatabaseError;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("invalid stored data: {0}")]
    Corrupt(String),
    /// A value some backend could not hold whole — longer than its column, a row larger than the database
    /// takes, JSON nested deeper than can be read back — refused before anything is written, never cut.
    #[error("{0}")]
    TooLarge(String),
    /// A stored conversation cannot be followed back to its start ([`responses::Responses::conversation`]).
    #[error(transparent)]
    Conversation(#[from] responses::ConversationError),
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

impl StoreError {
    /// Whether retrying later could succeed (the database was unreachable or busy).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            StoreError::Db(DbErr::Conn(_) | DbErr::ConnectionAcquire(_))
        )
    }

    /// Whether the database refused the *data* — a value it cannot store or a constraint a row breaks —
    /// so the same rows will fail again however often they are retried, while other rows would succeed.
    ///
    /// Only the error classes that are about a row's content count: SQLSTATE class `22` (data exception:
    /// NUL in PostgreSQL text, a value too long, out of range) and `23` (integrity constraint violation) on
    /// PostgreSQL and MySQL; `SQLITE_CONSTRAINT`, `SQLITE_TOOBIG` and `SQLITE_MISMATCH` on SQLite.
    /// Everything else — a lost connection, a timeout, a deadlock (`40…`), a full disk, a missing table —
    /// is about the database, not the rows, and is worth retrying as it is: splitting the batch would only
    /// set good rows aside.
    pub fn refuses_rows(&self) -> bool {
        let StoreError::Db(
            DbErr::Query(sea_orm::RuntimeErr::SqlxError(e))
            | DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e)),
        ) = self
        else {
            return false;
        };
        let Some(db) = e.as_database_error() else {
            return false;
        };
        let Some(code) = db.code() else {
            return false;
        };
        refused_row_code(&code)
    }
}

/// [`StoreError::refuses_rows`] on a driver's error code: a five-character SQLSTATE (PostgreSQL, MySQL) or
/// SQLite's (extended) result code as a number.
fn refused_row_code(code: &str) -> bool {
    if let Ok(n) = code.parse::<u32>()
        && code.len() < 5
    {
        // SQLite: the primary result code is the low byte of the extended one.
        const TOOBIG: u32 = 18;
        const CONSTRAINT: u32 = 19;
        const MISMATCH: u32 = 20;
        return matches!(n & 0xff, TOOBIG | CONSTRAINT | MISMATCH);
    }
    code.len() == 5 && (code.starts_with("22") || code.starts_with("23"))
}

impl From<StoreError> for GaiaError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => GaiaError::not_found(format!("{what} not found")),
            StoreError::Conflict(msg) => GaiaError::conflict(msg),
            StoreError::TooLarge(msg) => {
                GaiaError::new(ErrorKind::PayloadTooLarge, msg).with_code("too_large_to_store")
            }
            StoreError::Conversation(e) => {
                let code = match e {
                    responses::ConversationError::MissingLink { .. } => {
                        "previous_response_not_found"
                    }
                    responses::ConversationError::TooLong { .. } => "conversation_too_long",
                };
                GaiaError::invalid_request(e.to_string())
                    .with_code(code)
                    .with_param("previous_response_id")
            }
            StoreError::Db(ref e) if is_unstorable_text(e) => {
                GaiaError::invalid_request("text must not contain NUL characters (U+0000)")
                    .with_code("invalid_text")
                    .with_source(err)
            }
            e @ StoreError::Db(DbErr::Conn(_) | DbErr::ConnectionAcquire(_)) => {
                // Clients see a generic, retryable error; the cause goes with it, for the edge to log.
                GaiaError::new(ErrorKind::Unavailable, "the database is unavailable")
                    .with_code("database_unavailable")
                    .with_source(e)
            }
            e => GaiaError::internal("a database operation failed").with_source(e),
        }
    }
}

/// Which database engine a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

impl Backend {
    pub fn from_url(url: &str) -> Option<Self> {
        let scheme = url
            .split_once("://")
            .map(|(s, _)| s)
            .or_else(|| url.split_once(':').map(|(s, _)| s))?;
        match scheme {
            "sqlite" => Some(Backend::Sqlite),
            "postgres" | "postgresql" => Some(Backend::Postgres),
            "mysql" | "mariadb" => Some(Backend::MySql),
            _ => None,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::MySql => "mysql",
        }
    }
}

/// Pool settings.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub max_connections: u32,
    pub connect_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// The database handle shared by every repository. Cheap to clone (the pool is reference-counted).
#[derive(Debug, Clone)]
pub struct Store {
    db: conn::Db,
    backend: Backend,
    statements: std::sync::Arc<metrics::StatementCounters>,
    /// MySQL's `max_allowed_packet`, read once (see [`Store::mysql_max_packet`]).
    mysql_max_packet: std::sync::Arc<tokio::sync::OnceCell<u64>>,
}

impl Store {
    /// Connects without touching the schema.
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<Self, StoreError> {
        let backend = Backend::from_url(url).ok_or_else(|| {
            StoreError::Db(DbErr::Custom(
                "DATABASE_URL must start with sqlite:, postgres:// or mysql://".to_owned(),
            ))
        })?;
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.sqlx_logging(false)
            .connect_timeout(options.connect_timeout)
            .acquire_timeout(options.connect_timeout)
            .max_connections(options.max_connections);
        if backend == Backend::Sqlite {
            // An in-memory database exists per connection: keep exactly one.
            if url.contains(":memory:") || url.contains("mode=memory") {
                opts.max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None);
            }
            opts.map_sqlx_sqlite_opts(|o| {
                use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(5))
                    .foreign_keys(true)
            });
        }
        let mut db = Database::connect(opts).await?;
        let statements = metrics::counters();
        let counted = statements.clone();
        db.set_metric_callback(move |_| counted.count());
        Ok(Self {
            db: conn::Db::new(db),
            backend,
            statements,
            mysql_max_packet: Default::default(),
        })
    }

    /// Connects and applies every pending migration (idempotent).
    pub async fn connect_and_migrate(
        url: &str,
        options: &StoreOptions,
    ) -> Result<Self, StoreError> {
        let store = Self::connect(url, options).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        Migrator::up(self.db.pool(), None).await?;
        Ok(())
    }

    /// Names of the applied migrations, oldest first.
    pub async fn applied_migrations(&self) -> Result<Vec<String>, StoreError> {
        let applied = Migrator::get_applied_migrations(self.db.pool()).await?;
        Ok(applied.iter().map(|m| m.name().to_owned()).collect())
    }

    /// A trivial round-trip, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db.pool().ping().await?;
        Ok(())
    }

    /// Statements executed through this store so far (see [`metrics`]).
    pub fn statement_counts(&self) -> metrics::StatementCounts {
        self.statements.snapshot()
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub(crate) fn conn(&self) -> &conn::Db {
        &self.db
    }

    /// The MySQL server's `max_allowed_packet` in bytes: the largest statement it takes and the largest row
    /// it sends. Read on first use and then kept (a server takes a new value only on new connections,
    /// and an operator raises it rather than lowers it). MySQL only.
    pub(crate) async fn mysql_max_packet(&self) -> Result<u64, StoreError> {
        use sea_orm::ConnectionTrait as _;
        self.mysql_max_packet
            .get_or_try_init(|| async {
                let row = self
                    .db
                    .query_one_raw(sea_orm::Statement::from_string(
                        sea_orm::DbBackend::MySql,
                        "SELECT CAST(@@max_allowed_packet AS SIGNED) AS n",
                    ))
                    .await?
                    .ok_or_else(|| StoreError::Corrupt("no max_allowed_packet".to_owned()))?;
                let n: i64 = row.try_get("", "n")?;
                u64::try_from(n)
                    .map_err(|_| StoreError::Corrupt(format!("max_allowed_packet is {n}")))
            })
            .await
            .copied()
    }

    /// Closes the pool (on shutdown, after the last write).
    pub async fn close(self) -> Result<(), StoreError> {
        self.db.into_pool().close().await?;
        Ok(())
    }
}

/// A page request: 1-based page, bounded limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u64,
    pub limit: u64,
}

impl PageRequest {
    pub const DEFAULT_LIMIT: u64 = 20;
    pub const MAX_LIMIT: u64 = 100;

    pub fn new(page: Option<u64>, limit: Option<u64>) -> Self {
        Self {
            page: page.unwrap_or(1).max(1),
            limit: limit
                .unwrap_or(Self::DEFAULT_LIMIT)
                .clamp(1, Self::MAX_LIMIT),
        }
    }

    pub fn offset(&self) -> u64 {
        (self.page - 1).saturating_mul(self.limit)
    }
}

/// One page of results with the total count.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u64,
    pub limit: u64,
}

impl<T> Page<T> {
    pub fn pages(&self) -> u64 {
        self.total.div_ceil(self.limit.max(1))
    }
}

/// A new random id (UUIDv7: unique and sortable by creation time).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Whether the database refused a text value supplied by the client: PostgreSQL cannot hold NUL
/// characters in text (SQLSTATE 22021 `character_not_in_repertoire`, 22P05 `untranslatable_character`),
/// in values stored and in values compared alike. The client's input is at fault (400), not the server.
pub(crate) fn is_unstorable_text(err: &DbErr) -> bool {
    let (DbErr::Query(sea_orm::RuntimeErr::SqlxError(e))
    | DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e))) = err
    else {
        return false;
    };
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|code| code == "22021" || code == "22P05")
}

/// Whether a DB error is a unique-constraint violation.
pub(crate) fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

#[cfg(test)]
mod refused_row_tests {
    use super::refused_row_code;

    #[test]
    fn data_and_constraint_errors_refuse_rows_and_database_troubles_do_not() {
        // PostgreSQL: NUL in text, value too long, unique violation; MySQL: a trigger's SIGNAL '22000'.
        for code in ["22021", "22001", "23505", "22000", "23000"] {
            assert!(refused_row_code(code), "{code}");
        }
        // Deadlock, serialization failure, admin shutdown, disk full, undefined table, lock timeout.
        for code in ["40P01", "40001", "57P01", "53100", "42P01", "HY000"] {
            assert!(!refused_row_code(code), "{code}");
        }
        // SQLite: constraint (plain and a trigger's RAISE), too big; busy and locked are retried.
        for code in ["19", "1811", "2067", "18"] {
            assert!(refused_row_code(code), "{code}");
        }
        for code in ["5", "6", "517", "10"] {
            assert!(!refused_row_code(code), "{code}");
        }
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    pub async fn memory_store() -> Store {
        Store::connect_and_migrate("sqlite::memory:", &StoreOptions::default())
            .await
            .expect("in-memory sqlite")
    }
}
