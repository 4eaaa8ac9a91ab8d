//! Writing a batch: its raw rows into `usage_records` and its totals into both rollups
//! (`usage_daily`, `usage_daily_models`), in one transaction, with statements of a few fixed sizes.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use sea_orm::sea_query::{Alias, Expr, InsertStatement, OnConflict, Query};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, EntityName, IdenStatic, Statement, Value};

use super::rollup::{COUNTERS, DIMENSIONS, MODEL_DIMENSIONS, MODELS_TABLE, counter_values, rollup};
use super::{
    DailyKey, ERROR_CODE_CHARS, ID_CHARS, MODEL_CHARS, NewUsageRecord, PROVIDER_CHARS,
    REQUEST_ID_CHARS, UsageTotals, clamp_i32, clamp_i64, fit, fit_opt,
};
use crate::conn::Txn;
use crate::entity::usage_daily;
use crate::quota::placeholder;
use crate::{Backend, Store, StoreError};

/// The columns `insert_usage_records` writes, in order (all but the generated id).
pub(super) const RECORD_COLUMNS: [&str; 24] = [
    "request_id",
    "created_at",
    "api_key_id",
    "organization_id",
    "model_requested",
    "model_served",
    "provider",
    "stream",
    "status_code",
    "error_code",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "total_tokens",
    "cost_nanos",
    "estimated",
    "upstream_latency_ms",
    "ttft_ms",
    "total_latency_ms",
    "attempts",
    "unpriced",
    "api",
    "cache_creation_tokens",
    "reasoning_tokens",
];

/// One record's values, in `RECORD_COLUMNS` order, each text fitted to its column.
fn record_values(r: &NewUsageRecord) -> [Value; 24] {
    [
        fit(&r.request_id, REQUEST_ID_CHARS).into(),
        r.created_at.into(),
        fit_opt(&r.api_key_id, ID_CHARS).into(),
        fit_opt(&r.organization_id, ID_CHARS).into(),
        fit(&r.model_requested, MODEL_CHARS).into(),
        fit_opt(&r.model_served, MODEL_CHARS).into(),
        fit_opt(&r.provider, PROVIDER_CHARS).into(),
        r.stream.into(),
        i16::try_from(r.status_code).unwrap_or(i16::MAX).into(),
        fit_opt(&r.error_code, ERROR_CODE_CHARS).into(),
        clamp_i64(r.prompt_tokens).into(),
        clamp_i64(r.completion_tokens).into(),
        clamp_i64(r.cached_tokens).into(),
        clamp_i64(r.total_tokens).into(),
        r.cost_nanos.into(),
        r.estimated.into(),
        r.upstream_latency_ms.map(clamp_i32).into(),
        r.ttft_ms.map(clamp_i32).into(),
        clamp_i32(r.total_latency_ms).into(),
        r.attempts.map(clamp_i32).into(),
        r.unpriced.into(),
        r.api.as_str().into(),
        clamp_i64(r.cache_creation_tokens).into(),
        clamp_i64(r.reasoning_tokens).into(),
    ]
}

/// `INSERT INTO usage_records (…) VALUES (…), …` for `rows` rows (a size `sized_chunks` yields) in the
/// backend's placeholder style. Written once per backend and size, then shared: the writer neither
/// rebuilds the SQL per batch nor (the statement cache keys on the text) has the database re-parse it.
pub(super) fn insert_records_sql(backend: DbBackend, rows: usize) -> String {
    static CACHE: [[OnceLock<String>; 9]; 3] = [const { [const { OnceLock::new() }; 9] }; 3];
    let b = match backend {
        DbBackend::Sqlite => 0,
        DbBackend::Postgres => 1,
        _ => 2,
    };
    let build = || {
        let quote = if b == 2 { '`' } else { '"' };
        let columns: Vec<String> = RECORD_COLUMNS
            .iter()
            .map(|c| format!("{quote}{c}{quote}"))
            .collect();
        let mut sql = format!(
            "INSERT INTO {quote}usage_records{quote} ({}) VALUES ",
            columns.join(", ")
        );
        let width = RECORD_COLUMNS.len();
        for row in 0..rows {
            if row > 0 {
                sql.push_str(", ");
            }
            let marks: Vec<String> = (1..=width)
                .map(|i| placeholder(backend, row * width + i))
                .collect();
            sql.push('(');
            sql.push_str(&marks.join(", "));
            sql.push(')');
        }
        sql
    };
    match rows
        .is_power_of_two()
        .then(|| rows.trailing_zeros() as usize)
    {
        Some(slot) if slot < 9 => CACHE[b][slot].get_or_init(build).clone(),
        _ => build(),
    }
}

/// Rows per multi-row statement, at most.
pub(super) const MAX_CHUNK: usize = 256;

/// `items` as chunks of `MAX_CHUNK` rows, then the rest in decreasing powers of two (…, 4, 2, 1).
///
/// A multi-row statement's SQL depends on its row count. With arbitrary counts every batch would be a new
/// statement for the database to parse and plan — a fifth of the gateway's instructions per request at low
/// load, measured with callgrind. With these sizes there are at most nine texts per table, so the driver's
/// per-connection statement cache (sqlx keeps prepared statements by SQL text) serves them after the first
/// use.
pub(super) fn sized_chunks<T>(items: &[T]) -> impl Iterator<Item = &[T]> {
    let mut rest = items;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let size = if rest.len() >= MAX_CHUNK {
            MAX_CHUNK
        } else {
            // The largest power of two not above what is left.
            1 << (usize::BITS - 1 - rest.len().leading_zeros())
        };
        let (chunk, tail) = rest.split_at(size);
        rest = tail;
        Some(chunk)
    })
}

/// The value the conflicting insert proposed for `col`: `excluded.col`, or MySQL's `VALUES(col)`.
fn proposed(col: usage_daily::Column, backend: Backend) -> Expr {
    match backend {
        Backend::MySql => Expr::cust(format!("VALUES(`{}`)", col.as_str())),
        Backend::Sqlite | Backend::Postgres => Expr::col((Alias::new("excluded"), col)),
    }
}

/// One upsert row: its dimension values, in the table's dimension order, and its counters.
type UpsertRow<'a> = (Vec<String>, &'a UsageTotals);

/// `INSERT INTO table … ON CONFLICT (dimensions) DO UPDATE SET c = table.c + excluded.c`, for
/// `usage_daily` (all five dimensions) or `usage_daily_models` (day, model, provider).
fn upsert_statement(
    table: &'static str,
    dims: &[usage_daily::Column],
    rows: &[UpsertRow<'_>],
    backend: Backend,
) -> Result<InsertStatement, StoreError> {
    use sea_orm::sea_query::ExprTrait as _;
    let mut stmt = Query::insert();
    stmt.into_table(Alias::new(table))
        .columns(dims.iter().copied().chain(COUNTERS));
    for (k, t) in rows {
        let mut values: Vec<Expr> = k.iter().map(|v| Expr::from(v.clone())).collect();
        values.extend(counter_values(t).into_iter().map(Expr::from));
        stmt.values(values)
            .map_err(|e| StoreError::Db(DbErr::Custom(e.to_string())))?;
    }
    let mut on_conflict = OnConflict::columns(dims.iter().copied());
    on_conflict.values(COUNTERS.map(|c| {
        (
            c,
            Expr::col((Alias::new(table), c)).add(proposed(c, backend)),
        )
    }));
    stmt.on_conflict(on_conflict);
    Ok(stmt)
}

/// The raw rows, in statements of a few fixed sizes (see `sized_chunks`), well under every backend's
/// bound-parameter limit (SQLite: 32766; 24 columns a row).
async fn insert_raw_records(txn: &Txn, records: &[NewUsageRecord]) -> Result<(), StoreError> {
    let backend = txn.get_database_backend();
    for chunk in sized_chunks(records) {
        let mut values = Vec::with_capacity(chunk.len() * RECORD_COLUMNS.len());
        for r in chunk {
            values.extend(record_values(r));
        }
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            insert_records_sql(backend, chunk.len()),
            values,
        ))
        .await?;
    }
    Ok(())
}

/// The global rollup's rows (day × model × provider) of the full rollup's `groups`.
fn model_groups(groups: &BTreeMap<DailyKey, UsageTotals>) -> BTreeMap<[String; 3], UsageTotals> {
    let mut global: BTreeMap<[String; 3], UsageTotals> = BTreeMap::new();
    for (k, t) in groups {
        global
            .entry([k.day.clone(), k.model.clone(), k.provider.clone()])
            .or_default()
            .add(t);
    }
    global
}

/// Upserts `rows` into `table` (keyed by `dims`), a fixed-size chunk per statement.
async fn upsert_rows(
    txn: &Txn,
    table: &'static str,
    dims: &[usage_daily::Column],
    rows: &[UpsertRow<'_>],
    backend: Backend,
) -> Result<(), StoreError> {
    for chunk in sized_chunks(rows) {
        txn.execute(&upsert_statement(table, dims, chunk, backend)?)
            .await?;
    }
    Ok(())
}

/// Adds `groups` to the full rollup — one upsert row per distinct group, 16 columns a row — then the
/// same without organization and key to the global rollup.
async fn upsert_rollups(
    txn: &Txn,
    groups: &BTreeMap<DailyKey, UsageTotals>,
    backend: Backend,
) -> Result<(), StoreError> {
    let rows: Vec<UpsertRow<'_>> = groups
        .iter()
        .map(|(k, t)| {
            (
                vec![
                    k.day.clone(),
                    k.organization_id.clone(),
                    k.api_key_id.clone(),
                    k.model.clone(),
                    k.provider.clone(),
                ],
                t,
            )
        })
        .collect();
    let table = usage_daily::Entity.table_name();
    upsert_rows(txn, table, &DIMENSIONS, &rows, backend).await?;
    let global = model_groups(groups);
    let rows: Vec<UpsertRow<'_>> = global.iter().map(|(k, t)| (k.to_vec(), t)).collect();
    upsert_rows(txn, MODELS_TABLE, &MODEL_DIMENSIONS, &rows, backend).await
}

impl Store {
    /// Inserts a batch of records and adds them to the daily rollup, in one transaction: either both
    /// happen or neither. Strings longer than their columns are cut to fit (so content can never make a
    /// batch fail).
    pub async fn insert_usage_records(&self, records: &[NewUsageRecord]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let groups = rollup(records);
        let txn = self.conn().begin().await?;
        insert_raw_records(&txn, records).await?;
        upsert_rollups(&txn, &groups, self.backend()).await?;
        txn.commit().await?;
        Ok(())
    }
}
