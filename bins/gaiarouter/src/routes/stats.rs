//! Statistics: `/v1/stats` (admin, global), `/v1/organizations/{org_id}/stats`, `/v1/api-keys/{key_id}/stats`
//! and the request log `/v1/requests`, as JSON or CSV (`?format=csv`). Reports answer from the daily
//! rollup. Scoping follows the tenancy rules: a non-admin key sees only its own organization and its keys
//! (anything else is a 404 that does not reveal existence) and needs the `read` permission.

mod dto;

use actix_web::{HttpResponse, web};
use gaia_core::GaiaError;
use gaia_orgs::auth::Principal;
use gaia_orgs::tenants;
use gaia_stats::csv::{ExportFormat, requests_csv, stats_csv};
use gaia_stats::query::{parse_api, parse_status};
use gaia_stats::{GroupBy, Period, Scope, StatsQuery, TimeRange, UsageRecordFilter};
use gaia_store::PageRequest;
use serde::Deserialize;
use utoipa::IntoParams;

pub use dto::{
    DateGroup, GroupTotals, ModelGroup, ProviderGroup, RequestLogEntry, StatsPeriod, StatsResponse,
    StatsSummary,
};

use crate::auth::{AdminOnly, Require, RequireRead};
use crate::error::ApiError;
use crate::routes::pagination::{PageQuery, Paginated};
use crate::state::AppState;

/// Rows a page of the request log may hold (JSON or CSV).
pub const CSV_MAX_ROWS: u64 = 10_000;

/// Statistics query parameters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct StatsParams {
    /// First day, inclusive: ISO 8601 date or date-time, UTC (default: 29 days before `end_date`).
    #[param(schema_with = crate::routes::schemas::date_or_time)]
    pub start_date: Option<String>,
    /// Last day, inclusive (default: today, UTC).
    #[param(schema_with = crate::routes::schemas::date_or_time)]
    pub end_date: Option<String>,
    /// `day` (default; also when empty), `week` (ISO, Monday start), `month`, `model` or `provider`.
    #[param(pattern = "^(day|week|month|model|provider)?$")]
    pub group_by: Option<String>,
    /// `json` (default; also when empty) or `csv` (one row per group). Surrounding spaces are ignored.
    #[param(pattern = "^\\s*(json|csv)?\\s*$")]
    pub format: Option<String>,
}

/// A CSV download; `total` (the request log's match count) goes in `x-total-count`.
fn csv(body: String, filename: &str, total: Option<u64>) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    res.content_type("text/csv; charset=utf-8").insert_header((
        "content-disposition",
        format!("attachment; filename=\"{filename}\""),
    ));
    if let Some(total) = total {
        res.insert_header(("x-total-count", total.to_string()));
    }
    res.body(body)
}

async fn report(
    state: &AppState,
    scope: Scope,
    params: &StatsParams,
) -> Result<HttpResponse, ApiError> {
    let today = chrono::Utc::now().date_naive();
    let period = Period::parse(
        params.start_date.as_deref(),
        params.end_date.as_deref(),
        today,
    )?;
    let group_by = GroupBy::parse(params.group_by.as_deref())?;
    let format = ExportFormat::parse(params.format.as_deref())?;
    let query = StatsQuery {
        scope,
        period,
        group_by,
    };
    let report = state.stats.stats(&query).await?;
    Ok(match format {
        ExportFormat::Json => HttpResponse::Ok().json(StatsResponse::from(&report)),
        ExportFormat::Csv => csv(
            stats_csv(&report),
            &format!(
                "stats-{}-{}-{}.csv",
                group_by.as_str(),
                period.start,
                period.end
            ),
            None,
        ),
    })
}

/// Global statistics across every organization (admin only).
#[utoipa::path(get, path = "/v1/stats", tag = "statistics", params(StatsParams),
    responses(
        (status = 200, description = "The report, or CSV with `format=csv`", content((StatsResponse = "application/json"), (String = "text/csv")),
            headers(("content-disposition" = String, description = "With `format=csv`: `attachment; filename=\"stats-<group_by>-<start>-<end>.csv\"`"))),
        (status = 400, description = "Invalid dates, unknown `group_by` or `format`", body = crate::routes::schemas::ErrorBody),
        (status = 422, description = "Well-formed dates in the wrong order, or a period over 3,660 days", body = crate::routes::schemas::ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = crate::routes::schemas::ErrorBody),
        (status = 403, description = "Not an admin", body = crate::routes::schemas::ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn global_stats(
    _admin: AdminOnly,
    state: web::Data<AppState>,
    params: web::Query<StatsParams>,
) -> Result<HttpResponse, ApiError> {
    report(&state, Scope::Global, &params).await
}

/// Statistics of one organization (admins: any; keys: their own).
#[utoipa::path(get, path = "/v1/organizations/{org_id}/stats", tag = "statistics", params(("org_id" = String, Path, description = "Organization id"), StatsParams),
    responses(
        (status = 200, description = "The report, or CSV with `format=csv`", content((StatsResponse = "application/json"), (String = "text/csv")),
            headers(("content-disposition" = String, description = "With `format=csv`: `attachment; filename=\"stats-<group_by>-<start>-<end>.csv\"`"))),
        (status = 400, description = "Invalid dates, unknown `group_by` or `format`", body = crate::routes::schemas::ErrorBody),
        (status = 422, description = "Well-formed dates in the wrong order, or a period over 3,660 days", body = crate::routes::schemas::ErrorBody),
        (status = 403, description = "The caller lacks the `read` permission", body = crate::routes::schemas::ErrorBody),
        (status = 404, description = "No such organization (or not the caller's)", body = crate::routes::schemas::ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn organization_stats(
    Require(principal, _): RequireRead,
    state: web::Data<AppState>,
    org_id: web::Path<String>,
    params: web::Query<StatsParams>,
) -> Result<HttpResponse, ApiError> {
    let org = tenants::get_organization(&state.store, &principal, &org_id).await?;
    report(&state, Scope::Organization(org.id.into_string()), &params).await
}

/// Statistics of one API key (admins: any; keys: those of their organization).
#[utoipa::path(get, path = "/v1/api-keys/{key_id}/stats", tag = "statistics", params(("key_id" = String, Path, description = "API key id"), StatsParams),
    responses(
        (status = 200, description = "The report, or CSV with `format=csv`", content((StatsResponse = "application/json"), (String = "text/csv")),
            headers(("content-disposition" = String, description = "With `format=csv`: `attachment; filename=\"stats-<group_by>-<start>-<end>.csv\"`"))),
        (status = 400, description = "Invalid dates, unknown `group_by` or `format`", body = crate::routes::schemas::ErrorBody),
        (status = 422, description = "Well-formed dates in the wrong order, or a period over 3,660 days", body = crate::routes::schemas::ErrorBody),
        (status = 403, description = "The caller lacks the `read` permission", body = crate::routes::schemas::ErrorBody),
        (status = 404, description = "No such key (or not in the caller's organization)", body = crate::routes::schemas::ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn key_stats(
    Require(principal, _): RequireRead,
    state: web::Data<AppState>,
    key_id: web::Path<String>,
    params: web::Query<StatsParams>,
) -> Result<HttpResponse, ApiError> {
    let key = tenants::get_api_key(&state.store, &principal, &key_id).await?;
    report(&state, Scope::ApiKey(key.id.into_string()), &params).await
}

/// Request-log query parameters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct RequestLogParams {
    /// 1-based page (default 1).
    #[param(minimum = 1, maximum = 1_000_000_000)]
    pub page: Option<u64>,
    /// Rows per page: 1–10000 (default 20; with `format=csv`, 10000).
    #[param(minimum = 1, maximum = 10_000)]
    pub limit: Option<u64>,
    pub key_id: Option<String>,
    /// Non-admin keys are always confined to their own organization.
    pub organization_id: Option<String>,
    /// Model as served or as requested.
    pub model: Option<String>,
    pub provider: Option<String>,
    /// The API the requests came in through: `chat.completions`, `messages`, `responses` or
    /// `embeddings`. Surrounding spaces are ignored; empty means any.
    #[param(pattern = "^\\s*(chat\\.completions|messages|responses|embeddings)?\\s*$")]
    pub api: Option<String>,
    /// `success` (< 400), `error` (>= 400) or an HTTP status code (100–599). Surrounding spaces are
    /// ignored; empty means any.
    #[param(pattern = "^\\s*(success|error|\\+?0*[1-5][0-9]{2})?\\s*$")]
    pub status: Option<String>,
    /// From (inclusive): ISO 8601 date (its midnight) or date-time, UTC. Alias `start`.
    #[serde(alias = "start")]
    #[param(schema_with = crate::routes::schemas::date_or_time)]
    pub start_date: Option<String>,
    /// To (inclusive): a date covers its whole day. Alias `end`.
    #[serde(alias = "end")]
    #[param(schema_with = crate::routes::schemas::date_or_time)]
    pub end_date: Option<String>,
    /// `json` (default; also when empty) or `csv`. Surrounding spaces are ignored.
    #[param(pattern = "^\\s*(json|csv)?\\s*$")]
    pub format: Option<String>,
}

impl RequestLogParams {
    /// One bound for both formats, so the document can state it: 1–10,000 rows a page (default 20 in
    /// JSON, 10,000 in CSV).
    fn page(&self, format: ExportFormat) -> Result<PageRequest, GaiaError> {
        let first = PageQuery {
            page: self.page,
            limit: None,
        }
        .validate()?;
        let default = match format {
            ExportFormat::Json => first.limit,
            ExportFormat::Csv => CSV_MAX_ROWS,
        };
        let limit = self.limit.unwrap_or(default);
        if !(1..=CSV_MAX_ROWS).contains(&limit) {
            return Err(GaiaError::invalid_request(format!(
                "`limit` must be between 1 and {CSV_MAX_ROWS}"
            ))
            .with_param("limit"));
        }
        Ok(PageRequest {
            page: first.page,
            limit,
        })
    }

    /// The filter, confined to the caller's organization for non-admin keys.
    async fn filter(
        &self,
        state: &AppState,
        p: &Principal,
    ) -> Result<UsageRecordFilter, GaiaError> {
        let organization_id = match (p.org_scope(), &self.organization_id) {
            (Some(own), Some(asked)) if own != asked.as_str() => {
                return Err(GaiaError::not_found("organization not found")
                    .with_code("organization_not_found"));
            }
            (Some(own), _) => Some(own.to_string()),
            (None, asked) => asked.clone(),
        };
        if let (Some(key_id), Some(_)) = (&self.key_id, p.org_scope()) {
            tenants::get_api_key(&state.store, p, key_id).await?;
        }
        let range = TimeRange::parse(self.start_date.as_deref(), self.end_date.as_deref())?;
        Ok(UsageRecordFilter {
            api_key_id: self.key_id.clone(),
            organization_id,
            model: self.model.clone(),
            provider: self.provider.clone(),
            api: parse_api(self.api.as_deref())?,
            status: parse_status(self.status.as_deref())?,
            start: range.start,
            end_before: range.end_before,
        })
    }
}

/// The request log, newest first (raw records are kept for the configured retention period).
#[utoipa::path(get, path = "/v1/requests", tag = "statistics", params(RequestLogParams),
    responses(
        (status = 200, description = "A page of requests, or CSV with `format=csv` (total in `x-total-count`)", content((inline(Paginated<RequestLogEntry>) = "application/json"), (String = "text/csv")),
            headers(
                ("x-total-count" = u64, description = "With `format=csv`: how many requests match the filter (all pages)"),
                ("content-disposition" = String, description = "With `format=csv`: `attachment; filename=\"requests.csv\"`"),
            )),
        (status = 400, description = "Invalid dates, status, api, paging or format", body = crate::routes::schemas::ErrorBody),
        (status = 422, description = "Well-formed dates in the wrong order", body = crate::routes::schemas::ErrorBody),
        (status = 403, description = "The caller lacks the `read` permission", body = crate::routes::schemas::ErrorBody),
        (status = 404, description = "The organization or key is not the caller's", body = crate::routes::schemas::ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn request_log(
    Require(principal, _): RequireRead,
    state: web::Data<AppState>,
    params: web::Query<RequestLogParams>,
) -> Result<HttpResponse, ApiError> {
    let format = ExportFormat::parse(params.format.as_deref())?;
    let page = params.page(format)?;
    let filter = params.filter(&state, &principal).await?;
    let result = state.stats.requests(&filter, page.page, page.limit).await?;
    Ok(match format {
        ExportFormat::Json => {
            HttpResponse::Ok().json(Paginated::from_page(result, RequestLogEntry::from))
        }
        ExportFormat::Csv => csv(
            requests_csv(&result.items),
            "requests.csv",
            Some(result.total),
        ),
    })
}
