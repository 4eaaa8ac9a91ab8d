//! Usage records (one row per inference request, written in batches by gaia-stats) and their daily
//! rollup `usage_daily` (day × organization × key × model × provider), maintained in the same
//! transaction as the raw inserts so the two can never disagree. Statistics read the rollup; the request
//! log reads the raw rows.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use sea_orm::sea_query::{Alias, Expr, Func, OnConflict, Order, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityName, EntityTrait, IdenStatic,
    PaginatorTrait, QueryFilter, QueryOrder, QueryResult, Statement, Value,
};

use crate::entity::usage_daily;
use crate::entity::usage_record::{self, Column, Entity};
use crate::quota::placeholder;
use crate::{Backend, Page, Store, StoreError};

/// One inference request's outcome, as recorded. Cost is in nano-dollars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUsageRecord {
    pub request_id: String,
    pub created_at: DateTime<Utc>,
    pub api_key_id: Option<String>,
    pub organization_id: Option<String>,
    pub model_requested: String,
    pub model_served: Option<String>,
    pub provider: Option<String>,
    pub stream: bool,
    pub status_code: u16,
    pub error_code: Option<String>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cached_tokens: u64,
    pub total_tokens: u64,
    pub cost_nanos: i64,
    pub estimated: bool,
    pub upstream_latency_ms: Option<u32>,
    pub ttft_ms: Option<u32>,
    pub total_latency_ms: u32,
    /// Upstream calls made, retries and fallbacks included (0: refused before any); `None` on records
    /// written before attempts were recorded.
    pub attempts: Option<u32>,
    /// Served by a model without a known price: its cost (0) is not a real cost.
    pub unpriced: bool,
}

/// A usage record as stored, with its row id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredUsageRecord {
    pub id: i64,
    pub record: NewUsageRecord,
}

/// The dimensions of one rollup row. `''` stands for "none" (no key, no provider) so the primary key
/// can be an upsert's conflict target.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DailyKey {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    pub organization_id: String,
    pub api_key_id: String,
    /// As served; the requested model when nothing was served.
    pub model: String,
    pub provider: String,
}

/// Additive counters of a set of requests. Cost in nano-dollars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UsageTotals {
    pub requests: i64,
    /// Requests answered with a status >= 400.
    pub errors: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cached_tokens: i64,
    pub total_tokens: i64,
    pub cost_nanos: i64,
    pub total_latency_ms_sum: i64,
    /// Requests served by a model without a known price (their cost is not counted).
    pub unpriced_requests: i64,
}

impl UsageTotals {
    /// Adds one request.
    pub fn add_record(&mut self, r: &NewUsageRecord) {
        self.add(&UsageTotals {
            requests: 1,
            errors: i64::from(r.status_code >= 400),
            prompt_tokens: clamp_i64(r.prompt_tokens),
            completion_tokens: clamp_i64(r.completion_tokens),
            cached_tokens: clamp_i64(r.cached_tokens),
            total_tokens: clamp_i64(r.total_tokens),
            cost_nanos: r.cost_nanos,
            total_latency_ms_sum: i64::from(r.total_latency_ms),
            unpriced_requests: i64::from(r.unpriced),
        });
    }

    pub fn add(&mut self, o: &UsageTotals) {
        self.requests = self.requests.saturating_add(o.requests);
        self.errors = self.errors.saturating_add(o.errors);
        self.prompt_tokens = self.prompt_tokens.saturating_add(o.prompt_tokens);
        self.completion_tokens = self.completion_tokens.saturating_add(o.completion_tokens);
        self.cached_tokens = self.cached_tokens.saturating_add(o.cached_tokens);
        self.total_tokens = self.total_tokens.saturating_add(o.total_tokens);
        self.cost_nanos = self.cost_nanos.saturating_add(o.cost_nanos);
        self.total_latency_ms_sum = self
            .total_latency_ms_sum
            .saturating_add(o.total_latency_ms_sum);
        self.unpriced_requests = self.unpriced_requests.saturating_add(o.unpriced_requests);
    }
}

/// One rollup row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyUsageRow {
    pub key: DailyKey,
    pub totals: UsageTotals,
}

/// Which rows of the rollup a query covers: an inclusive day range, optionally one organization or key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyFilter {
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub organization_id: Option<String>,
    pub api_key_id: Option<String>,
}

/// The dimension a rollup query groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DailyDimension {
    Day,
    Model,
    Provider,
}

/// Totals of one day × model × provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakdownRow {
    pub day: String,
    pub model: String,
    pub provider: String,
    pub totals: UsageTotals,
}

/// Usage of one organization and key (either may be `''`) over a day range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerUsage {
    pub organization_id: String,
    pub api_key_id: String,
    pub totals: UsageTotals,
}

/// Which records a request-log query returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsageRecordFilter {
    pub api_key_id: Option<String>,
    pub organization_id: Option<String>,
    /// Matches the model as served or as requested.
    pub model: Option<String>,
    pub provider: Option<String>,
    pub status: Option<StatusFilter>,
    /// Inclusive.
    pub start: Option<DateTime<Utc>>,
    /// Exclusive.
    pub end_before: Option<DateTime<Utc>>,
}

/// A request-log status filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// Status < 400.
    Success,
    /// Status >= 400.
    Error,
    Code(u16),
}

fn clamp_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn clamp_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

fn unclamp_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn unclamp_u32(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

// Column widths of `usage_records` / `usage_daily`. Values are made storable before writing (control
// characters escaped, cut to fit: `text::storable`), so a record's content never makes the database refuse
// it; the writer still isolates any row it refuses (`gaia-stats` sink), so one row never blocks the rest.
const ID_CHARS: usize = 36;
const REQUEST_ID_CHARS: usize = 64;
const MODEL_CHARS: usize = 256;
const PROVIDER_CHARS: usize = 64;
const ERROR_CODE_CHARS: usize = 64;

fn fit(s: &str, max_chars: usize) -> String {
    crate::text::storable_owned(s, max_chars)
}

fn fit_opt(s: &Option<String>, max_chars: usize) -> Option<String> {
    s.as_deref().map(|s| fit(s, max_chars))
}

/// `YYYY-MM-DD` of a date: the rollup's day key. Dates outside years 1–9999 are clamped into them, so
/// keys always compare as text the way the dates compare (`NaiveDate::MIN` would format as `-262143-…`).
/// The columns `insert_usage_records` writes, in order (all but the generated id).
const RECORD_COLUMNS: [&str; 21] = [
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
];

/// One record's values, in `RECORD_COLUMNS` order, each text fitted to its column.
fn record_values(r: &NewUsageRecord) -> [Value; 21] {
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
    ]
}

/// `INSERT INTO usage_records (…) VALUES (…), …` for `rows` rows (a size `sized_chunks` yields) in the
/// backend's placeholder style. Written once per backend and size, then shared: the writer neither
/// rebuilds the SQL per batch nor (the statement cache keys on the text) has the database re-parse it.
fn insert_records_sql(backend: DbBackend, rows: usize) -> String {
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
const MAX_CHUNK: usize = 256;

/// `items` as chunks of `MAX_CHUNK` rows, then the rest in decreasing powers of two (…, 4, 2, 1).
///
/// A multi-row statement's SQL depends on its row count. With arbitrary counts every batch would be a new
/// statement for the database to parse and plan — a fifth of the gateway's instructions per request at low
/// load, measured with callgrind. With these sizes there are at most nine texts per table, so the driver's
/// per-connection statement cache (sqlx keeps prepared statements by SQL text) serves them after the first
/// use.
fn sized_chunks<T>(items: &[T]) -> impl Iterator<Item = &[T]> {
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

pub fn day_key(day: NaiveDate) -> String {
    let first = NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or(NaiveDate::MIN);
    let last = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX);
    day.clamp(first, last).format("%Y-%m-%d").to_string()
}

/// The rollup row a record belongs to.
pub fn daily_key(r: &NewUsageRecord) -> DailyKey {
    let model = r
        .model_served
        .as_deref()
        .filter(|m| !m.is_empty())
        .unwrap_or(&r.model_requested);
    DailyKey {
        day: day_key(r.created_at.date_naive()),
        organization_id: fit(r.organization_id.as_deref().unwrap_or(""), ID_CHARS),
        api_key_id: fit(r.api_key_id.as_deref().unwrap_or(""), ID_CHARS),
        model: fit(model, MODEL_CHARS),
        provider: fit(r.provider.as_deref().unwrap_or(""), PROVIDER_CHARS),
    }
}

/// Aggregates records per rollup row (sorted, so concurrent writers lock rows in the same order).
pub fn rollup(records: &[NewUsageRecord]) -> BTreeMap<DailyKey, UsageTotals> {
    let mut groups: BTreeMap<DailyKey, UsageTotals> = BTreeMap::new();
    for r in records {
        groups.entry(daily_key(r)).or_default().add_record(r);
    }
    groups
}

/// The counters of `usage_daily`, each added to on conflict.
const COUNTERS: [usage_daily::Column; 9] = [
    usage_daily::Column::Requests,
    usage_daily::Column::Errors,
    usage_daily::Column::PromptTokens,
    usage_daily::Column::CompletionTokens,
    usage_daily::Column::CachedTokens,
    usage_daily::Column::TotalTokens,
    usage_daily::Column::CostNanos,
    usage_daily::Column::TotalLatencyMsSum,
    usage_daily::Column::UnpricedRequests,
];

const DIMENSIONS: [usage_daily::Column; 5] = [
    usage_daily::Column::Day,
    usage_daily::Column::OrganizationId,
    usage_daily::Column::ApiKeyId,
    usage_daily::Column::Model,
    usage_daily::Column::Provider,
];

fn counter_values(t: &UsageTotals) -> [i64; 9] {
    [
        t.requests,
        t.errors,
        t.prompt_tokens,
        t.completion_tokens,
        t.cached_tokens,
        t.total_tokens,
        t.cost_nanos,
        t.total_latency_ms_sum,
        t.unpriced_requests,
    ]
}

/// The value the conflicting insert proposed for `col`: `excluded.col`, or MySQL's `VALUES(col)`.
fn proposed(col: usage_daily::Column, backend: Backend) -> Expr {
    match backend {
        Backend::MySql => Expr::cust(format!("VALUES(`{}`)", col.as_str())),
        Backend::Sqlite | Backend::Postgres => Expr::col((Alias::new("excluded"), col)),
    }
}

/// `INSERT INTO table … ON CONFLICT (dimensions) DO UPDATE SET c = table.c + excluded.c`, for
/// `usage_daily` (all five dimensions) or `usage_daily_models` (day, model, provider).
fn upsert_statement(
    table: &'static str,
    dims: &[usage_daily::Column],
    rows: &[(Vec<String>, &UsageTotals)],
    backend: Backend,
) -> Result<sea_orm::sea_query::InsertStatement, StoreError> {
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

/// The global rollup's table: day × model × provider.
const MODELS_TABLE: &str = "usage_daily_models";

const MODEL_DIMENSIONS: [usage_daily::Column; 3] = [
    usage_daily::Column::Day,
    usage_daily::Column::Model,
    usage_daily::Column::Provider,
];

/// The table a rollup read over `filter` uses: the small day × model × provider one when no
/// organization or key narrows it.
fn daily_table(filter: &DailyFilter) -> Alias {
    if filter.organization_id.is_none() && filter.api_key_id.is_none() {
        Alias::new(MODELS_TABLE)
    } else {
        Alias::new(usage_daily::Entity.table_name())
    }
}

/// `SUM(col)` as a 64-bit integer on every backend (PostgreSQL and MySQL widen sums to NUMERIC/DECIMAL).
fn sum_i64(col: usage_daily::Column, backend: Backend) -> Expr {
    let sum: Expr = Func::sum(Expr::col(col)).into();
    match backend {
        Backend::Postgres => Func::cast_as(sum, Alias::new("BIGINT")).into(),
        Backend::MySql => Func::cast_as(sum, Alias::new("SIGNED")).into(),
        Backend::Sqlite => sum,
    }
}

fn select_counters(q: &mut SelectStatement, backend: Backend) {
    for c in COUNTERS {
        q.expr_as(sum_i64(c, backend), Alias::new(c.as_str()));
    }
}

fn read_counters(row: &QueryResult) -> Result<UsageTotals, DbErr> {
    let get = |c: usage_daily::Column| row.try_get::<i64>("", c.as_str());
    Ok(UsageTotals {
        requests: get(usage_daily::Column::Requests)?,
        errors: get(usage_daily::Column::Errors)?,
        prompt_tokens: get(usage_daily::Column::PromptTokens)?,
        completion_tokens: get(usage_daily::Column::CompletionTokens)?,
        cached_tokens: get(usage_daily::Column::CachedTokens)?,
        total_tokens: get(usage_daily::Column::TotalTokens)?,
        cost_nanos: get(usage_daily::Column::CostNanos)?,
        total_latency_ms_sum: get(usage_daily::Column::TotalLatencyMsSum)?,
        unpriced_requests: get(usage_daily::Column::UnpricedRequests)?,
    })
}

fn daily_where(q: &mut SelectStatement, filter: &DailyFilter) {
    use sea_orm::sea_query::ExprTrait as _;
    use usage_daily::Column as C;
    q.and_where(Expr::col(C::Day).gte(day_key(filter.first_day)))
        .and_where(Expr::col(C::Day).lte(day_key(filter.last_day)));
    if let Some(org) = &filter.organization_id {
        q.and_where(Expr::col(C::OrganizationId).eq(org.as_str()));
    }
    if let Some(key) = &filter.api_key_id {
        q.and_where(Expr::col(C::ApiKeyId).eq(key.as_str()));
    }
}

fn to_stored(m: usage_record::Model) -> StoredUsageRecord {
    StoredUsageRecord {
        id: m.id,
        record: NewUsageRecord {
            request_id: m.request_id,
            created_at: m.created_at,
            api_key_id: m.api_key_id,
            organization_id: m.organization_id,
            model_requested: m.model_requested,
            model_served: m.model_served,
            provider: m.provider,
            stream: m.stream,
            status_code: u16::try_from(m.status_code).unwrap_or(0),
            error_code: m.error_code,
            prompt_tokens: unclamp_u64(m.prompt_tokens),
            completion_tokens: unclamp_u64(m.completion_tokens),
            cached_tokens: unclamp_u64(m.cached_tokens),
            total_tokens: unclamp_u64(m.total_tokens),
            cost_nanos: m.cost_nanos,
            estimated: m.estimated,
            upstream_latency_ms: m.upstream_latency_ms.map(unclamp_u32),
            ttft_ms: m.ttft_ms.map(unclamp_u32),
            total_latency_ms: unclamp_u32(m.total_latency_ms),
            attempts: m.attempts.map(unclamp_u32),
            unpriced: m.unpriced,
        },
    }
}

fn record_condition(f: &UsageRecordFilter) -> Condition {
    let mut cond = Condition::all();
    if let Some(key) = &f.api_key_id {
        cond = cond.add(Column::ApiKeyId.eq(key.as_str()));
    }
    if let Some(org) = &f.organization_id {
        cond = cond.add(Column::OrganizationId.eq(org.as_str()));
    }
    if let Some(model) = &f.model {
        cond = cond.add(
            Condition::any()
                .add(Column::ModelServed.eq(model.as_str()))
                .add(Column::ModelRequested.eq(model.as_str())),
        );
    }
    if let Some(provider) = &f.provider {
        cond = cond.add(Column::Provider.eq(provider.as_str()));
    }
    match f.status {
        Some(StatusFilter::Success) => cond = cond.add(Column::StatusCode.lt(400)),
        Some(StatusFilter::Error) => cond = cond.add(Column::StatusCode.gte(400)),
        Some(StatusFilter::Code(code)) => {
            cond = cond.add(Column::StatusCode.eq(i16::try_from(code).unwrap_or(i16::MAX)));
        }
        None => {}
    }
    if let Some(start) = f.start {
        cond = cond.add(Column::CreatedAt.gte(start));
    }
    if let Some(end) = f.end_before {
        cond = cond.add(Column::CreatedAt.lt(end));
    }
    cond
}

/// The one-row table of the retention mark (see `migration`'s `create_usage_retention`).
const RETENTION_TABLE: &str = "usage_retention";

/// The last day retention may have deleted raw records of, if it ever ran.
async fn retention_day(conn: &impl ConnectionTrait) -> Result<Option<String>, StoreError> {
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

/// Whether the rollup can count the records `filter` matches over whole days: its dimensions hold
/// the filtered values exactly as the records do (a model filter matches served *or* requested model,
/// which the rollup does not keep apart; an exact status code is not kept either).
fn rollup_expressible(f: &UsageRecordFilter) -> bool {
    let exact = |v: &Option<String>, max: usize| {
        v.as_deref()
            .is_none_or(|v| !v.is_empty() && v.chars().count() <= max)
    };
    f.model.is_none()
        && !matches!(f.status, Some(StatusFilter::Code(_)))
        && exact(&f.api_key_id, ID_CHARS)
        && exact(&f.organization_id, ID_CHARS)
        && exact(&f.provider, PROVIDER_CHARS)
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
        // Statements of a few fixed sizes (see `sized_chunks`), well under every backend's bound-parameter
        // limit (SQLite: 32766; 20 columns a row).
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
        // One upsert row per distinct group, 13 columns a row; then the same without organization and
        // key for the global rollup.
        let mut global: BTreeMap<[String; 3], UsageTotals> = BTreeMap::new();
        let rows: Vec<(Vec<String>, &UsageTotals)> = groups
            .iter()
            .map(|(k, t)| {
                global
                    .entry([k.day.clone(), k.model.clone(), k.provider.clone()])
                    .or_default()
                    .add(t);
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
        for chunk in sized_chunks(&rows) {
            let stmt = upsert_statement(
                usage_daily::Entity.table_name(),
                &DIMENSIONS,
                chunk,
                self.backend(),
            )?;
            txn.execute(&stmt).await?;
        }
        let rows: Vec<(Vec<String>, &UsageTotals)> =
            global.iter().map(|(k, t)| (k.to_vec(), t)).collect();
        for chunk in sized_chunks(&rows) {
            let stmt = upsert_statement(MODELS_TABLE, &MODEL_DIMENSIONS, chunk, self.backend())?;
            txn.execute(&stmt).await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Total number of usage records.
    pub async fn count_usage_records(&self) -> Result<u64, StoreError> {
        Ok(Entity::find().count(self.conn()).await?)
    }

    /// Deletes raw records created before `before` (retention); the rollup keeps their totals.
    /// Returns how many were deleted. Also moves the retention mark (`usage_retention`) to `before`'s
    /// day, in the same transaction, so the request log knows which days' rollup rows still match the
    /// raw records.
    pub async fn delete_usage_records_before(
        &self,
        before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        use sea_orm::sea_query::ExprTrait as _;
        let txn = self.conn().begin().await?;
        let res = Entity::delete_many()
            .filter(Column::CreatedAt.lt(before))
            .exec(&txn)
            .await?;
        let day = day_key(before.date_naive());
        match retention_day(&txn).await? {
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
        txn.commit().await?;
        Ok(res.rows_affected)
    }

    /// How many raw records match `filter`. Whole days whose raw records are all still there (after
    /// the retention mark) are counted from the rollup when the filter is expressible there (key,
    /// organization, provider, success/error); only the partial days at the range's ends, and days
    /// retention may have thinned, are counted row by row. Anything else is a plain `COUNT`.
    async fn count_matching_records(&self, filter: &UsageRecordFilter) -> Result<u64, StoreError> {
        let count_raw = |f: UsageRecordFilter| async move {
            Ok::<u64, StoreError>(
                Entity::find()
                    .filter(record_condition(&f))
                    .count(self.conn())
                    .await?,
            )
        };
        if !rollup_expressible(filter) {
            return count_raw(filter.clone()).await;
        }
        // First whole day at or after `start` and after the retention mark (`None`: unbounded).
        let mut first: Option<NaiveDate> = None;
        if let Some(start) = filter.start {
            let day = start.date_naive();
            let whole = if start.time() == NaiveTime::MIN {
                Some(day)
            } else {
                day.succ_opt()
            };
            let Some(whole) = whole else {
                return count_raw(filter.clone()).await;
            };
            first = Some(whole);
        }
        if let Some(mark) = retention_day(self.conn()).await? {
            let Some(after) = NaiveDate::parse_from_str(&mark, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.succ_opt())
            else {
                return count_raw(filter.clone()).await;
            };
            first = Some(first.map_or(after, |f| f.max(after)));
        }
        // Last whole day before `end_before` (`None`: unbounded).
        let mut last: Option<NaiveDate> = None;
        if let Some(end) = filter.end_before {
            let Some(day) = end.date_naive().pred_opt() else {
                return count_raw(filter.clone()).await;
            };
            last = Some(day);
        }
        if let (Some(f), Some(l)) = (first, last)
            && f > l
        {
            return count_raw(filter.clone()).await;
        }
        let midnight = |d: NaiveDate| Utc.from_utc_datetime(&d.and_time(NaiveTime::MIN));
        let mut total = 0u64;
        if let Some(f) = first {
            total += count_raw(UsageRecordFilter {
                end_before: Some(midnight(f)),
                ..filter.clone()
            })
            .await?;
        }
        if let Some(l) = last {
            let Some(next) = l.succ_opt() else {
                return count_raw(filter.clone()).await;
            };
            total += count_raw(UsageRecordFilter {
                start: Some(midnight(next)),
                ..filter.clone()
            })
            .await?;
        }
        total += self.rollup_count(filter, first, last).await?;
        Ok(total)
    }

    /// Requests (or successes, or errors, as `filter.status` says) in the rollup over whole days.
    async fn rollup_count(
        &self,
        filter: &UsageRecordFilter,
        first: Option<NaiveDate>,
        last: Option<NaiveDate>,
    ) -> Result<u64, StoreError> {
        use sea_orm::sea_query::ExprTrait as _;
        use usage_daily::Column as C;
        let daily = DailyFilter {
            first_day: first.unwrap_or(NaiveDate::MIN),
            last_day: last.unwrap_or(NaiveDate::MAX),
            organization_id: filter.organization_id.clone(),
            api_key_id: filter.api_key_id.clone(),
        };
        let mut q = Query::select();
        q.from(daily_table(&daily));
        q.expr_as(sum_i64(C::Requests, self.backend()), Alias::new("requests"))
            .expr_as(sum_i64(C::Errors, self.backend()), Alias::new("errors"));
        daily_where(&mut q, &daily);
        if let Some(provider) = &filter.provider {
            q.and_where(Expr::col(C::Provider).eq(provider.as_str()));
        }
        let Some(row) = self.conn().query_one(&q).await? else {
            return Ok(0);
        };
        let requests = row.try_get::<Option<i64>>("", "requests")?.unwrap_or(0);
        let errors = row.try_get::<Option<i64>>("", "errors")?.unwrap_or(0);
        let n = match filter.status {
            Some(StatusFilter::Error) => errors,
            Some(StatusFilter::Success) => requests - errors,
            _ => requests,
        };
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// A page of raw records matching `filter`, newest first. `page` is 1-based; `limit` is not capped
    /// here (the caller decides).
    pub async fn list_usage_records(
        &self,
        filter: &UsageRecordFilter,
        page: u64,
        limit: u64,
    ) -> Result<Page<StoredUsageRecord>, StoreError> {
        let limit = limit.max(1);
        let paginator = Entity::find()
            .filter(record_condition(filter))
            .order_by_desc(Column::CreatedAt)
            .order_by_desc(Column::Id)
            .paginate(self.conn(), limit);
        let total = self.count_matching_records(filter).await?;
        let rows = paginator.fetch_page(page.max(1) - 1).await?;
        Ok(Page {
            items: rows.into_iter().map(to_stored).collect(),
            total,
            page: page.max(1),
            limit,
        })
    }

    /// Rollup totals over `filter`, grouped by one dimension, ordered by the group's label.
    pub async fn usage_daily_totals(
        &self,
        filter: &DailyFilter,
        by: DailyDimension,
    ) -> Result<Vec<(String, UsageTotals)>, StoreError> {
        let col = match by {
            DailyDimension::Day => usage_daily::Column::Day,
            DailyDimension::Model => usage_daily::Column::Model,
            DailyDimension::Provider => usage_daily::Column::Provider,
        };
        let mut q = Query::select();
        q.from(daily_table(filter))
            .expr_as(Expr::col(col), Alias::new("label"));
        select_counters(&mut q, self.backend());
        daily_where(&mut q, filter);
        q.group_by_col(col).order_by(col, Order::Asc);
        let rows = self.conn().query_all(&q).await?;
        rows.iter()
            .map(|row| Ok((row.try_get::<String>("", "label")?, read_counters(row)?)))
            .collect::<Result<_, DbErr>>()
            .map_err(StoreError::from)
    }

    /// Rollup totals over `filter` per (day, model, provider): one scan that a report folds into its
    /// by-date, by-model and by-provider breakdowns.
    pub async fn usage_daily_breakdown(
        &self,
        filter: &DailyFilter,
    ) -> Result<Vec<BreakdownRow>, StoreError> {
        use usage_daily::Column as C;
        let mut q = Query::select();
        q.from(daily_table(filter))
            .column(C::Day)
            .column(C::Model)
            .column(C::Provider);
        select_counters(&mut q, self.backend());
        daily_where(&mut q, filter);
        q.group_by_col(C::Day)
            .group_by_col(C::Model)
            .group_by_col(C::Provider);
        let rows = self.conn().query_all(&q).await?;
        rows.iter()
            .map(|row| {
                Ok(BreakdownRow {
                    day: row.try_get("", C::Day.as_str())?,
                    model: row.try_get("", C::Model.as_str())?,
                    provider: row.try_get("", C::Provider.as_str())?,
                    totals: read_counters(row)?,
                })
            })
            .collect::<Result<_, DbErr>>()
            .map_err(StoreError::from)
    }

    /// Rollup totals over `filter` per (organization, key): what each owner used, e.g. in a month.
    pub async fn usage_daily_by_owner(
        &self,
        filter: &DailyFilter,
    ) -> Result<Vec<OwnerUsage>, StoreError> {
        use usage_daily::Column as C;
        let mut q = Query::select();
        q.from(usage_daily::Entity)
            .column(C::OrganizationId)
            .column(C::ApiKeyId);
        select_counters(&mut q, self.backend());
        daily_where(&mut q, filter);
        q.group_by_col(C::OrganizationId).group_by_col(C::ApiKeyId);
        let rows = self.conn().query_all(&q).await?;
        rows.iter()
            .map(|row| {
                Ok(OwnerUsage {
                    organization_id: row.try_get("", C::OrganizationId.as_str())?,
                    api_key_id: row.try_get("", C::ApiKeyId.as_str())?,
                    totals: read_counters(row)?,
                })
            })
            .collect::<Result<_, DbErr>>()
            .map_err(StoreError::from)
    }

    /// Every rollup row in `filter`, in key order (for checks and exports).
    pub async fn list_usage_daily(
        &self,
        filter: &DailyFilter,
    ) -> Result<Vec<DailyUsageRow>, StoreError> {
        use usage_daily::Column as C;
        let mut query = usage_daily::Entity::find()
            .filter(C::Day.gte(day_key(filter.first_day)))
            .filter(C::Day.lte(day_key(filter.last_day)));
        if let Some(org) = &filter.organization_id {
            query = query.filter(C::OrganizationId.eq(org.as_str()));
        }
        if let Some(key) = &filter.api_key_id {
            query = query.filter(C::ApiKeyId.eq(key.as_str()));
        }
        let rows = query
            .order_by_asc(C::Day)
            .order_by_asc(C::OrganizationId)
            .order_by_asc(C::ApiKeyId)
            .order_by_asc(C::Model)
            .order_by_asc(C::Provider)
            .all(self.conn())
            .await?;
        Ok(rows
            .into_iter()
            .map(|m| DailyUsageRow {
                key: DailyKey {
                    day: m.day,
                    organization_id: m.organization_id,
                    api_key_id: m.api_key_id,
                    model: m.model,
                    provider: m.provider,
                },
                totals: UsageTotals {
                    requests: m.requests,
                    errors: m.errors,
                    prompt_tokens: m.prompt_tokens,
                    completion_tokens: m.completion_tokens,
                    cached_tokens: m.cached_tokens,
                    total_tokens: m.total_tokens,
                    cost_nanos: m.cost_nanos,
                    total_latency_ms_sum: m.total_latency_ms_sum,
                    unpriced_requests: m.unpriced_requests,
                },
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::memory_store;
    use chrono::TimeZone;

    #[test]
    fn fit_keeps_at_most_the_limit_in_characters_never_splitting_one() {
        assert_eq!(fit("abc", 3), "abc");
        assert_eq!(fit("abcd", 3), "abc");
        // 4 characters in 8 bytes: over the limit in bytes, within it in characters.
        assert_eq!(fit("éééé", 4), "éééé");
        assert_eq!(fit("éééé", 3), "ééé");
        assert_eq!(fit("漢🙂x", 2), "漢🙂");
        assert_eq!(fit("", 0), "");
    }

    #[test]
    fn the_insert_writes_every_column_of_the_table_but_the_id_in_order() {
        use sea_orm::Iterable;
        let table: Vec<&str> = Column::iter()
            .map(|c| c.as_str())
            .filter(|c| *c != "id")
            .collect();
        assert_eq!(table, RECORD_COLUMNS);
        let sql = insert_records_sql(DbBackend::Postgres, 2);
        assert!(
            sql.starts_with("INSERT INTO \"usage_records\" (\"request_id\", \"created_at\""),
            "{sql}"
        );
        assert!(sql.ends_with("($22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38, $39, $40, $41, $42)"), "{sql}");
        let sql = insert_records_sql(DbBackend::MySql, 1);
        assert!(
            sql.starts_with("INSERT INTO `usage_records` (`request_id`"),
            "{sql}"
        );
        assert_eq!(sql.matches('?').count(), 21);
        // Cached sizes and others build the same text.
        assert_eq!(
            insert_records_sql(DbBackend::Sqlite, 4),
            insert_records_sql(DbBackend::Sqlite, 4)
        );
        assert_eq!(
            insert_records_sql(DbBackend::Sqlite, 3)
                .matches('?')
                .count(),
            3 * RECORD_COLUMNS.len()
        );
    }

    #[test]
    fn batches_are_cut_into_a_few_fixed_sizes_covering_every_row_once() {
        let mut sizes_seen = std::collections::BTreeSet::new();
        for n in 0..=1100usize {
            let items: Vec<usize> = (0..n).collect();
            let chunks: Vec<&[usize]> = sized_chunks(&items).collect();
            let joined: Vec<usize> = chunks.concat();
            assert_eq!(joined, items, "n = {n}");
            for c in &chunks {
                assert!(
                    c.len().is_power_of_two() && c.len() <= MAX_CHUNK,
                    "{}",
                    c.len()
                );
                sizes_seen.insert(c.len());
            }
            // Full chunks first, then strictly decreasing sizes.
            let tail: Vec<usize> = chunks
                .iter()
                .map(|c| c.len())
                .filter(|l| *l < MAX_CHUNK)
                .collect();
            assert!(tail.windows(2).all(|w| w[0] > w[1]), "n = {n}: {tail:?}");
        }
        assert_eq!(sizes_seen.len(), 9); // 1, 2, 4, …, 256: nine statement texts per table
    }

    fn record(i: u64) -> NewUsageRecord {
        NewUsageRecord {
            request_id: format!("req-{i}"),
            created_at: Utc::now(),
            api_key_id: Some("k".into()),
            organization_id: Some("o".into()),
            model_requested: "openai/gpt-4o-mini".into(),
            model_served: Some("gpt-4o-mini".into()),
            provider: Some("openai".into()),
            stream: i.is_multiple_of(2),
            status_code: 200,
            error_code: None,
            prompt_tokens: i,
            completion_tokens: 2 * i,
            cached_tokens: 0,
            total_tokens: 3 * i,
            cost_nanos: 10,
            estimated: false,
            upstream_latency_ms: Some(5),
            ttft_ms: None,
            total_latency_ms: 6,
            attempts: Some(1),
            unpriced: false,
        }
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn all_days() -> DailyFilter {
        DailyFilter {
            first_day: day(2000, 1, 1),
            last_day: day(2100, 1, 1),
            organization_id: None,
            api_key_id: None,
        }
    }

    #[tokio::test]
    async fn a_large_batch_is_inserted_completely() {
        let store = memory_store().await;
        let batch: Vec<_> = (0..1234).map(record).collect();
        store.insert_usage_records(&batch).await.unwrap();
        assert_eq!(store.count_usage_records().await.unwrap(), 1234);
    }

    #[tokio::test]
    async fn repeated_batches_add_up_in_one_rollup_row() {
        let store = memory_store().await;
        let batch: Vec<_> = (1..=10).map(record).collect();
        store.insert_usage_records(&batch).await.unwrap();
        store.insert_usage_records(&batch).await.unwrap();
        let rows = store.list_usage_daily(&all_days()).await.unwrap();
        assert_eq!(rows.len(), 1);
        let t = rows[0].totals;
        assert_eq!(t.requests, 20);
        assert_eq!(t.prompt_tokens, 2 * 55);
        assert_eq!(t.total_tokens, 2 * 3 * 55);
        assert_eq!(t.cost_nanos, 200);
        assert_eq!(t.total_latency_ms_sum, 120);
        assert_eq!(rows[0].key.model, "gpt-4o-mini");
    }

    #[tokio::test]
    async fn records_without_key_provider_or_served_model_roll_up_under_empty_dimensions() {
        let store = memory_store().await;
        let mut r = record(1);
        r.api_key_id = None;
        r.provider = None;
        r.model_served = None;
        r.status_code = 404;
        store.insert_usage_records(&[r.clone(), r]).await.unwrap();
        let rows = store.list_usage_daily(&all_days()).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].key.api_key_id, "");
        assert_eq!(rows[0].key.provider, "");
        assert_eq!(rows[0].key.model, "openai/gpt-4o-mini");
        assert_eq!(rows[0].totals.errors, 2);
    }

    #[tokio::test]
    async fn oversized_strings_are_cut_to_fit_rather_than_failing_the_batch() {
        let store = memory_store().await;
        let mut r = record(1);
        r.request_id = "é".repeat(100);
        r.model_requested = "m".repeat(1000);
        r.model_served = None;
        store.insert_usage_records(&[r]).await.unwrap();
        let page = store
            .list_usage_records(&UsageRecordFilter::default(), 1, 10)
            .await
            .unwrap();
        assert_eq!(page.items[0].record.request_id.chars().count(), 64);
        assert_eq!(page.items[0].record.model_requested.len(), 256);
    }

    #[tokio::test]
    async fn the_request_log_filters_and_pages_newest_first() {
        let store = memory_store().await;
        let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let batch: Vec<_> = (0..30)
            .map(|i| {
                let mut r = record(i);
                r.created_at = t0 + chrono::Duration::minutes(i as i64);
                r.status_code = if i % 3 == 0 { 502 } else { 200 };
                r
            })
            .collect();
        store.insert_usage_records(&batch).await.unwrap();
        let page = store
            .list_usage_records(
                &UsageRecordFilter {
                    status: Some(StatusFilter::Error),
                    start: Some(t0 + chrono::Duration::minutes(10)),
                    ..Default::default()
                },
                1,
                3,
            )
            .await
            .unwrap();
        assert_eq!(page.total, 6); // 12, 15, 18, 21, 24, 27
        let ids: Vec<_> = page
            .items
            .iter()
            .map(|r| r.record.request_id.clone())
            .collect();
        assert_eq!(ids, ["req-27", "req-24", "req-21"]);
        let by_code = store
            .list_usage_records(
                &UsageRecordFilter {
                    status: Some(StatusFilter::Code(200)),
                    model: Some("openai/gpt-4o-mini".into()),
                    ..Default::default()
                },
                1,
                100,
            )
            .await
            .unwrap();
        assert_eq!(by_code.total, 20);
    }

    #[tokio::test]
    async fn retention_deletes_old_raw_records_but_keeps_the_rollup() {
        let store = memory_store().await;
        let old = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        let mut a = record(1);
        a.created_at = old;
        let b = record(2);
        store.insert_usage_records(&[a, b]).await.unwrap();
        let deleted = store
            .delete_usage_records_before(old + chrono::Duration::days(1))
            .await
            .unwrap();
        assert_eq!(deleted, 1);
        assert_eq!(store.count_usage_records().await.unwrap(), 1);
        assert_eq!(store.list_usage_daily(&all_days()).await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn totals_group_by_day_model_and_owner() {
        let store = memory_store().await;
        let mut a = record(1);
        a.created_at = Utc.with_ymd_and_hms(2026, 2, 1, 23, 59, 59).unwrap();
        let mut b = record(2);
        b.created_at = Utc.with_ymd_and_hms(2026, 2, 2, 0, 0, 0).unwrap();
        b.model_served = Some("claude".into());
        b.api_key_id = Some("k2".into());
        store.insert_usage_records(&[a, b]).await.unwrap();
        let filter = DailyFilter {
            first_day: day(2026, 2, 1),
            last_day: day(2026, 2, 28),
            organization_id: Some("o".into()),
            api_key_id: None,
        };
        let by_day = store
            .usage_daily_totals(&filter, DailyDimension::Day)
            .await
            .unwrap();
        let labels: Vec<_> = by_day.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(labels, ["2026-02-01", "2026-02-02"]);
        let by_model = store
            .usage_daily_totals(&filter, DailyDimension::Model)
            .await
            .unwrap();
        assert_eq!(by_model[0].0, "claude");
        assert_eq!(by_model[0].1.prompt_tokens, 2);
        let owners = store.usage_daily_by_owner(&filter).await.unwrap();
        assert_eq!(owners.len(), 2);
        let other_org = DailyFilter {
            organization_id: Some("x".into()),
            ..filter
        };
        assert!(
            store
                .usage_daily_totals(&other_org, DailyDimension::Provider)
                .await
                .unwrap()
                .is_empty()
        );
    }

    /// The request log's total, however it is computed, is the number of matching raw records.
    async fn assert_totals_match_count(store: &Store, filters: &[UsageRecordFilter]) {
        for f in filters {
            let expected = Entity::find()
                .filter(record_condition(f))
                .count(store.conn())
                .await
                .unwrap();
            let page = store.list_usage_records(f, 1, 5).await.unwrap();
            assert_eq!(page.total, expected, "{f:?}");
        }
    }

    #[tokio::test]
    async fn the_request_log_total_is_exact_from_the_rollup_before_and_after_retention() {
        let store = memory_store().await;
        let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let batch: Vec<_> = (0..400)
            .map(|i| {
                let mut r = record(i);
                r.created_at = t0 + chrono::Duration::minutes(i as i64 * 53);
                r.status_code = if i % 7 == 0 { 500 } else { 200 };
                r.api_key_id = Some(format!("k{}", i % 3));
                r.organization_id = Some(format!("o{}", i % 2));
                r.provider = (i % 5 != 0).then(|| "openai".to_owned());
                r
            })
            .collect();
        store.insert_usage_records(&batch).await.unwrap();
        let at = |h: i64| t0 + chrono::Duration::hours(h);
        let mut filters = Vec::new();
        for (start, end_before) in [
            (None, None),
            (Some(at(0)), None),
            (Some(at(5)), Some(at(24 * 9 + 3))),
            (Some(at(24)), Some(at(24 * 5))),
            (Some(at(30)), Some(at(40))),
            (None, Some(at(24 * 3))),
        ] {
            for status in [
                None,
                Some(StatusFilter::Error),
                Some(StatusFilter::Success),
                Some(StatusFilter::Code(500)),
            ] {
                let base = UsageRecordFilter {
                    status,
                    start,
                    end_before,
                    ..Default::default()
                };
                filters.push(base.clone());
                filters.push(UsageRecordFilter {
                    api_key_id: Some("k1".into()),
                    ..base.clone()
                });
                filters.push(UsageRecordFilter {
                    organization_id: Some("o0".into()),
                    provider: Some("openai".into()),
                    ..base.clone()
                });
                filters.push(UsageRecordFilter {
                    model: Some("gpt-4o-mini".into()),
                    ..base.clone()
                });
                filters.push(UsageRecordFilter {
                    provider: Some(String::new()),
                    ..base
                });
            }
        }
        assert_totals_match_count(&store, &filters).await;
        // Retention cuts mid-day: the rollup still has the deleted records, the log must not count them.
        store
            .delete_usage_records_before(at(24 * 4 + 7))
            .await
            .unwrap();
        assert_totals_match_count(&store, &filters).await;
        // A late record older than the retention mark is counted too.
        let mut late = record(1000);
        late.created_at = at(2);
        store.insert_usage_records(&[late]).await.unwrap();
        assert_totals_match_count(&store, &filters).await;
        // An earlier cut never moves the mark back.
        store.delete_usage_records_before(at(1)).await.unwrap();
        assert_totals_match_count(&store, &filters).await;
    }

    #[tokio::test]
    async fn global_reads_come_from_the_model_rollup_and_agree_with_the_full_one() {
        let store = memory_store().await;
        let batch: Vec<_> = (0..50)
            .map(|i| {
                let mut r = record(i);
                r.api_key_id = Some(format!("k{}", i % 4));
                r.model_served = Some(format!("m{}", i % 3));
                r
            })
            .collect();
        store.insert_usage_records(&batch).await.unwrap();
        store.insert_usage_records(&batch[..20]).await.unwrap();
        let global = store.usage_daily_breakdown(&all_days()).await.unwrap();
        let mut expected: BTreeMap<(String, String, String), UsageTotals> = BTreeMap::new();
        for row in store.list_usage_daily(&all_days()).await.unwrap() {
            expected
                .entry((row.key.day, row.key.model, row.key.provider))
                .or_default()
                .add(&row.totals);
        }
        let got: BTreeMap<_, _> = global
            .into_iter()
            .map(|r| ((r.day, r.model, r.provider), r.totals))
            .collect();
        assert_eq!(got, expected);
        assert_eq!(got.len(), 3);
    }
}
