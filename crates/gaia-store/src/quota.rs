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

/// The first `N` placeholders of a statement, in order (`$1`, `$2`, … or `?` each).
fn placeholders<const N: usize>(backend: DbBackend) -> [String; N] {
    std::array::from_fn(|i| placeholder(backend, i + 1))
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
        self.ensure_reservation(scope, scope_id, period, initial, now)
            .await?;
        let backend = self.conn().get_database_backend();
        let [n1, at, s, id, p, n2, max] = placeholders(backend);
        let update = format!(
            "UPDATE quota_reservations SET admitted = admitted + {n1}, updated_at = {at} \
             WHERE scope = {s} AND scope_id = {id} AND period = {p} AND admitted + {n2} <= {max}"
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

    /// Makes sure the reservation row of `(scope, scope_id, period)` exists, starting at `initial`
    /// (a no-op when it does).
    async fn ensure_reservation(
        &self,
        scope: &str,
        scope_id: &str,
        period: &str,
        initial: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let backend = self.conn().get_database_backend();
        let [s, id, p, admitted, at] = placeholders(backend);
        let columns = "quota_reservations (scope, scope_id, period, admitted, updated_at)";
        let values = format!("VALUES ({s}, {id}, {p}, {admitted}, {at})");
        let insert = match backend {
            DbBackend::MySql => format!("INSERT IGNORE INTO {columns} {values}"),
            _ => format!(
                "INSERT INTO {columns} {values} ON CONFLICT (scope, scope_id, period) DO NOTHING"
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
        Ok(())
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
        let [n1, n2, s, id, p] = placeholders(backend);
        let sql = format!(
            "UPDATE quota_reservations SET admitted = CASE WHEN admitted > {n1} THEN admitted - {n2} ELSE 0 END \
             WHERE scope = {s} AND scope_id = {id} AND period = {p}"
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
        let [s, id, p] = placeholders(backend);
        let sql = format!(
            "SELECT admitted FROM quota_reservations WHERE scope = {s} AND scope_id = {id} AND period = {p}"
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

    /// Claims `n` slots of key `k1` in `period` under a limit of 5.
    async fn claim(store: &Store, period: &str, n: i64, initial: i64) -> bool {
        store
            .claim_admissions("key", "k1", period, n, 5, initial, Utc::now())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn claims_never_pass_the_limit() {
        let store = memory_store().await;
        assert!(claim(&store, "2026-11", 3, 0).await);
        assert!(!claim(&store, "2026-11", 3, 0).await);
        assert!(claim(&store, "2026-11", 2, 0).await);
        assert!(!claim(&store, "2026-11", 1, 0).await);
        assert_eq!(store.admitted("key", "k1", "2026-11").await.unwrap(), 5);
        // A new month starts from what was already recorded in it.
        assert!(claim(&store, "2026-12", 1, 4).await);
        assert!(!claim(&store, "2026-12", 1, 4).await);
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
