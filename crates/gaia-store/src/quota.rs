//! What limits need from the database: month-to-date totals per organization and key (from the daily
//! rollup), and atomic claims of admission slots against request limits.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

use crate::{Store, StoreError};

/// Month-to-date usage of one organization or key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MonthTotals {
    pub requests: i64,
    pub tokens: i64,
    pub cost_nanos: i64,
}

/// Totals per organization id and per key id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonthUsage {
    pub by_org: HashMap<String, MonthTotals>,
    pub by_key: HashMap<String, MonthTotals>,
}

/// `?` for SQLite/MySQL, `$n` for PostgreSQL.
pub(crate) fn placeholder(backend: DbBackend, n: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    }
}

impl Store {
    /// Totals since `month_start` (a `YYYY-MM-DD` day) from the rollup, grouped by organization and by key.
    pub async fn month_usage(&self, month_start: &str) -> Result<MonthUsage, StoreError> {
        let backend = self.conn().get_database_backend();
        let mut usage = MonthUsage::default();
        // PostgreSQL and MySQL widen SUM(BIGINT) to NUMERIC/DECIMAL, which the driver cannot read as an
        // integer: cast it back.
        let total = |c: &str| match backend {
            DbBackend::Postgres => format!("CAST(SUM({c}) AS BIGINT)"),
            DbBackend::MySql => format!("CAST(SUM({c}) AS SIGNED)"),
            _ => format!("SUM({c})"),
        };
        for (column, target) in [("organization_id", 0), ("api_key_id", 1)] {
            let sql = format!(
                "SELECT {column}, {}, {}, {} FROM usage_daily \
                 WHERE day >= {} AND {column} <> '' GROUP BY {column}",
                total("requests"),
                total("total_tokens"),
                total("cost_nanos"),
                placeholder(backend, 1)
            );
            let rows = self
                .conn()
                .query_all_raw(Statement::from_sql_and_values(
                    backend,
                    sql,
                    [Value::from(month_start.to_owned())],
                ))
                .await?;
            for row in rows {
                let id: String = row.try_get_by_index(0)?;
                let totals = MonthTotals {
                    requests: sum(&row, 1)?,
                    tokens: sum(&row, 2)?,
                    cost_nanos: sum(&row, 3)?,
                };
                if target == 0 {
                    usage.by_org.insert(id, totals);
                } else {
                    usage.by_key.insert(id, totals);
                }
            }
        }
        Ok(usage)
    }

    /// Claims `n` admission slots for `(scope, scope_id, period)` if that keeps `admitted <= limit`.
    /// Returns whether the claim succeeded. Atomic across instances (one conditional UPDATE). A period's
    /// row starts at `initial` — the requests already recorded this month before any limit applied.
    #[allow(clippy::too_many_arguments)]
    pub async fn claim_admissions(
        &self,
        scope: &str,
        scope_id: &str,
        period: &str,
        n: i64,
        limit: i64,
        initial: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let backend = self.conn().get_database_backend();
        let p = |i| placeholder(backend, i);
        // Make sure the row exists (a no-op when it does).
        let insert = match backend {
            DbBackend::MySql => format!(
                "INSERT IGNORE INTO quota_reservations (scope, scope_id, period, admitted, updated_at) VALUES ({}, {}, {}, {}, {})",
                p(1),
                p(2),
                p(3),
                p(4),
                p(5)
            ),
            _ => format!(
                "INSERT INTO quota_reservations (scope, scope_id, period, admitted, updated_at) VALUES ({}, {}, {}, {}, {}) \
                 ON CONFLICT (scope, scope_id, period) DO NOTHING",
                p(1),
                p(2),
                p(3),
                p(4),
                p(5)
            ),
        };
        self.conn()
            .execute_raw(Statement::from_sql_and_values(
                backend,
                insert,
                [
                    scope.into(),
                    scope_id.into(),
                    period.into(),
                    Value::from(initial.max(0)),
                    Value::from(now),
                ],
            ))
            .await?;
        let update = format!(
            "UPDATE quota_reservations SET admitted = admitted + {}, updated_at = {} \
             WHERE scope = {} AND scope_id = {} AND period = {} AND admitted + {} <= {}",
            p(1),
            p(2),
            p(3),
            p(4),
            p(5),
            p(6),
            p(7)
        );
        let res = self
            .conn()
            .execute_raw(Statement::from_sql_and_values(
                backend,
                update,
                [
                    Value::from(n),
                    Value::from(now),
                    scope.into(),
                    scope_id.into(),
                    period.into(),
                    Value::from(n),
                    Value::from(limit),
                ],
            ))
            .await?;
        Ok(res.rows_affected() == 1)
    }

    /// Returns unused slots (on shutdown), never below zero.
    pub async fn release_admissions(
        &self,
        scope: &str,
        scope_id: &str,
        period: &str,
        n: i64,
    ) -> Result<(), StoreError> {
        if n <= 0 {
            return Ok(());
        }
        let backend = self.conn().get_database_backend();
        let p = |i| placeholder(backend, i);
        let sql = format!(
            "UPDATE quota_reservations SET admitted = CASE WHEN admitted > {} THEN admitted - {} ELSE 0 END \
             WHERE scope = {} AND scope_id = {} AND period = {}",
            p(1),
            p(2),
            p(3),
            p(4),
            p(5)
        );
        self.conn()
            .execute_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [
                    Value::from(n),
                    Value::from(n),
                    scope.into(),
                    scope_id.into(),
                    period.into(),
                ],
            ))
            .await?;
        Ok(())
    }

    /// How many slots are claimed for a scope and period.
    pub async fn admitted(
        &self,
        scope: &str,
        scope_id: &str,
        period: &str,
    ) -> Result<i64, StoreError> {
        let backend = self.conn().get_database_backend();
        let p = |i| placeholder(backend, i);
        let sql = format!(
            "SELECT admitted FROM quota_reservations WHERE scope = {} AND scope_id = {} AND period = {}",
            p(1),
            p(2),
            p(3)
        );
        let row = self
            .conn()
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [scope.into(), scope_id.into(), period.into()],
            ))
            .await?;
        Ok(match row {
            Some(r) => r.try_get_by_index::<i64>(0)?,
            None => 0,
        })
    }
}

/// SUM() comes back as an integer on SQLite/MySQL and as NUMERIC on PostgreSQL; read either.
fn sum(row: &sea_orm::QueryResult, i: usize) -> Result<i64, StoreError> {
    if let Ok(v) = row.try_get_by_index::<Option<i64>>(i) {
        return Ok(v.unwrap_or(0));
    }
    if let Ok(v) = row.try_get_by_index::<Option<f64>>(i) {
        return Ok(v.unwrap_or(0.0) as i64);
    }
    let v: Option<String> = row.try_get_by_index(i)?;
    Ok(
        v.and_then(|s| s.split('.').next().and_then(|x| x.parse().ok()))
            .unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::memory_store;

    #[tokio::test]
    async fn claims_never_pass_the_limit() {
        let store = memory_store().await;
        let now = Utc::now();
        assert!(
            store
                .claim_admissions("key", "k1", "2026-11", 3, 5, 0, now)
                .await
                .unwrap()
        );
        assert!(
            !store
                .claim_admissions("key", "k1", "2026-11", 3, 5, 0, now)
                .await
                .unwrap()
        );
        assert!(
            store
                .claim_admissions("key", "k1", "2026-11", 2, 5, 0, now)
                .await
                .unwrap()
        );
        assert!(
            !store
                .claim_admissions("key", "k1", "2026-11", 1, 5, 0, now)
                .await
                .unwrap()
        );
        assert_eq!(store.admitted("key", "k1", "2026-11").await.unwrap(), 5);
        // A new month starts from what was already recorded in it.
        assert!(
            store
                .claim_admissions("key", "k1", "2026-12", 1, 5, 4, now)
                .await
                .unwrap()
        );
        assert!(
            !store
                .claim_admissions("key", "k1", "2026-12", 1, 5, 4, now)
                .await
                .unwrap()
        );
        store
            .release_admissions("key", "k1", "2026-11", 2)
            .await
            .unwrap();
        assert_eq!(store.admitted("key", "k1", "2026-11").await.unwrap(), 3);
    }

    #[tokio::test]
    async fn month_usage_is_empty_without_traffic() {
        let store = memory_store().await;
        assert_eq!(
            store.month_usage("2026-11-01").await.unwrap(),
            MonthUsage::default()
        );
    }
}
