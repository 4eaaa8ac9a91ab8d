//! The connection every repository goes through: sea-orm's pool (or a transaction on it), with one fix for
//! MySQL and MariaDB applied to each statement's parameters.
//!
//! sqlx sends a `DateTime<Utc>` parameter to MySQL typed as `TIMESTAMP`. MariaDB takes that type literally:
//! it reads the value as a `TIMESTAMP` literal, whose range ends on 2038-01-19, and an instant past that
//! becomes `NULL` without an error — a key set to expire in 2040 was stored as never expiring (and a query
//! bound past 2038 goes the same way, so a comparison with it matches nothing). GaiaRouter's timestamp columns are `DATETIME(6)` holding UTC on MySQL
//! (migration 11), so on that backend every such parameter is sent as the same UTC wall time typed
//! `DATETIME`, which both MySQL and MariaDB take over the full range. SQLite and PostgreSQL statements pass
//! through untouched.

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, Statement, TransactionTrait, Value,
};

/// The store's connection pool.
#[derive(Debug, Clone)]
pub(crate) struct Db {
    inner: DatabaseConnection,
}

impl Db {
    pub(crate) fn new(inner: DatabaseConnection) -> Self {
        Self { inner }
    }

    /// The pool itself, for what needs no parameter fix (migrations, ping, close).
    pub(crate) fn pool(&self) -> &DatabaseConnection {
        &self.inner
    }

    pub(crate) fn into_pool(self) -> DatabaseConnection {
        self.inner
    }

    /// Starts a transaction whose statements get the same fix.
    pub(crate) async fn begin(&self) -> Result<Txn, DbErr> {
        Ok(Txn {
            inner: self.inner.begin().await?,
        })
    }
}

/// A transaction on the store's pool.
pub(crate) struct Txn {
    inner: DatabaseTransaction,
}

impl Txn {
    pub(crate) async fn commit(self) -> Result<(), DbErr> {
        self.inner.commit().await
    }
}

/// MySQL: `DateTime<Utc>` parameters as UTC `DATETIME`s (see the module docs); other backends unchanged.
fn portable(mut stmt: Statement) -> Statement {
    if stmt.db_backend != DbBackend::MySql {
        return stmt;
    }
    if let Some(values) = stmt.values.as_mut() {
        for value in values.0.iter_mut() {
            if let Value::ChronoDateTimeUtc(t) = value {
                *value = Value::ChronoDateTime(t.map(|t| t.naive_utc()));
            }
        }
    }
    stmt
}

/// Whether a query on PostgreSQL binds text holding NUL. PostgreSQL cannot hold NUL in text, not even to
/// compare it: the query fails (`invalid byte sequence for encoding "UTF8": 0x00`). Nothing stored can
/// equal or contain such a value (no stored text holds NUL: PostgreSQL refuses it, and GaiaRouter escapes
/// or refuses it before writing on every backend), so the answer is known without asking — no rows —
/// which is what SQLite and MySQL answer. A filter or an id with NUL thus finds nothing on every
/// backend, instead of failing on one.
fn finds_nothing(stmt: &Statement) -> bool {
    stmt.db_backend == DbBackend::Postgres
        && stmt.values.as_ref().is_some_and(|values| {
            values.0.iter().any(|v| match v {
                Value::String(Some(s)) => s.contains('\0'),
                _ => false,
            })
        })
}

macro_rules! fixed_connection {
    ($ty:ty) => {
        #[sea_orm::prelude::async_trait::async_trait]
        impl ConnectionTrait for $ty {
            fn get_database_backend(&self) -> DbBackend {
                self.inner.get_database_backend()
            }

            async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
                self.inner.execute_raw(portable(stmt)).await
            }

            async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
                self.inner.execute_unprepared(sql).await
            }

            async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
                if finds_nothing(&stmt) {
                    return Ok(None);
                }
                self.inner.query_one_raw(portable(stmt)).await
            }

            async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
                if finds_nothing(&stmt) {
                    return Ok(Vec::new());
                }
                self.inner.query_all_raw(portable(stmt)).await
            }

            fn support_returning(&self) -> bool {
                self.inner.support_returning()
            }
        }
    };
}

fixed_connection!(Db);
fixed_connection!(Txn);

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn stmt(backend: DbBackend, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(backend, "SELECT ?", values)
    }

    #[test]
    fn mysql_gets_utc_datetimes_and_the_other_backends_are_untouched() {
        let t = Utc.with_ymd_and_hms(2040, 6, 1, 12, 34, 56).unwrap();
        let values = vec![
            Value::ChronoDateTimeUtc(Some(t)),
            Value::ChronoDateTimeUtc(None),
            Value::String(Some("x".into())),
        ];
        let fixed = portable(stmt(DbBackend::MySql, values.clone()));
        assert_eq!(
            fixed.values.map(|v| v.0),
            Some(vec![
                Value::ChronoDateTime(Some(t.naive_utc())),
                Value::ChronoDateTime(None),
                Value::String(Some("x".into())),
            ])
        );
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            let kept = portable(stmt(backend, values.clone()));
            assert_eq!(kept.values.map(|v| v.0), Some(values.clone()));
        }
    }
}
