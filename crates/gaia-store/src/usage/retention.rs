//! Retention: deleting old raw records (the rollup keeps their totals) and the mark that tells the
//! request log which days' rollup rows still match the raw records.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::rollup::day_key;
use crate::conn::Txn;
use crate::entity::usage_record::{Column, Entity};
use crate::{Store, StoreError};

/// The one-row table of the retention mark (see `migration`'s `create_usage_retention`).
const RETENTION_TABLE: &str = "usage_retention";

/// The last day retention may have deleted raw records of, if it ever ran.
pub(super) async fn retention_day(
    conn: &impl ConnectionTrait,
) -> Result<Option<String>, StoreError> {
    use sea_orm::sea_query::ExprTrait as _;
    let mut q = Query::select();
    q.from(Alias::new(RETENTION_TABLE))
        .column(Alias::new("day"))
        .and_where(Expr::col(Alias::new("id")).eq(1));
    Ok(match conn.query_one(&q).await? {
        Some(row) => Some(row.try_get::<String>("", "day")?),
        None => None,
    })
}

/// Moves the retention mark forward to `day` (`YYYY-MM-DD`); never back.
async fn advance_retention_mark(txn: &Txn, day: String) -> Result<(), StoreError> {
    use sea_orm::sea_query::ExprTrait as _;
    match retention_day(txn).await? {
        Some(old) if old >= day => {}
        Some(_) => {
            let mut q = Query::update();
            q.table(Alias::new(RETENTION_TABLE))
                .value(Alias::new("day"), day)
                .and_where(Expr::col(Alias::new("id")).eq(1));
            txn.execute(&q).await?;
        }
        None => {
            let mut q = Query::insert();
            q.into_table(Alias::new(RETENTION_TABLE))
                .columns([Alias::new("id"), Alias::new("day")])
                .values_panic([1.into(), day.into()]);
            txn.execute(&q).await?;
        }
    }
    Ok(())
}

impl Store {
    /// Deletes raw records created before `before` (retention); the rollup keeps their totals.
    /// Returns how many were deleted. Also moves the retention mark (`usage_retention`) to `before`'s
    /// day, in the same transaction, so the request log knows which days' rollup rows still match the
    /// raw records.
    pub async fn delete_usage_records_before(
        &self,
        before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let txn = self.conn().begin().await?;
        let res = Entity::delete_many()
            .filter(Column::CreatedAt.lt(before))
            .exec(&txn)
            .await?;
        advance_retention_mark(&txn, day_key(before.date_naive())).await?;
        txn.commit().await?;
        Ok(res.rows_affected)
    }
}
