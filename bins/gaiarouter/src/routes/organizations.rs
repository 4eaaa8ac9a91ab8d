//! `/v1/organizations`: create (admin), list and read (scoped), update (admin), soft delete (admin).

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use gaia_core::Organization;
use gaia_core::money::usd;
use gaia_orgs::limits::Scope;
use gaia_orgs::tenants::{self, CreateOrganization, UpdateOrganization};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Authenticated, Require, RequireAdmin};
use crate::error::ApiError;
use crate::routes::limits::{LimitsView, body_with_limits};
use crate::routes::pagination::{PageQuery, Paginated};
use crate::routes::patch;
use crate::state::AppState;

/// Current-month usage (UTC calendar month), next to the limits.
#[derive(Debug, Serialize, ToSchema)]
pub struct MonthUsage {
    pub month_requests: i64,
    pub month_tokens: i64,
    /// USD.
    pub month_cost: f64,
}

/// An organization.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationResponse {
    #[schema(example = "0192f0c4-7d1e-7c3a-9d55-3b1f1f0c2a10")]
    pub id: String,
    #[schema(example = "acme")]
    pub name: String,
    pub description: Option<String>,
    /// `active` or `inactive`.
    pub status: String,
    #[serde(flatten)]
    pub limits: LimitsView,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub usage: MonthUsage,
}

pub fn month_usage(state: &AppState, scope: Scope, id: &str) -> MonthUsage {
    let t = state.limiter.month_totals(scope, id, Utc::now());
    MonthUsage {
        month_requests: t.requests,
        month_tokens: t.tokens,
        month_cost: usd(t.cost_nanos),
    }
}

fn respond(state: &AppState, o: Organization) -> OrganizationResponse {
    OrganizationResponse {
        usage: month_usage(state, Scope::Organization, o.id.as_str()),
        id: o.id.into_string(),
        name: o.name,
        description: o.description,
        status: o.status.as_str().to_owned(),
        limits: o.limits.into(),
        created_at: o.created_at,
        updated_at: o.updated_at,
    }
}

body_with_limits! { create:
/// A new organization.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "acme", "description": "Acme Rockets", "monthly_cost_limit": 50.0, "rate_limit_rpm": 100}))]
pub struct CreateOrganizationBody {
    /// Unique, 1–100 characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub name: String,
    #[schema(
        max_length = 1000,
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
    )]
    pub description: Option<String>,
    /// `active` (default) or `inactive`.
    #[schema(pattern = "^(active|inactive)$")]
    pub status: Option<String>,
}}

body_with_limits! { update:
/// Changes to an organization; omitted fields stay, `null` clears a limit.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganizationBody {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 1000, pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$")]
    pub description: Option<Option<String>>,
    /// `active` or `inactive`.
    #[schema(pattern = "^(active|inactive)$")]
    pub status: Option<String>,
}}

/// List filters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct OrganizationQuery {
    /// `active` or `inactive`.
    #[param(pattern = "^(active|inactive)$")]
    pub status: Option<String>,
    /// Substring of the name or description.
    pub search: Option<String>,
}

/// A confirmation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Message {
    pub message: String,
}

/// Create an organization (admin).
#[utoipa::path(post, path = "/v1/organizations", operation_id = "create_organization", tag = "organizations", request_body = CreateOrganizationBody,
    responses(
        (status = 201, description = "Created", body = OrganizationResponse),
        (status = 400, description = "Invalid field", body = crate::routes::schemas::ErrorBody),
        (status = 401, description = "Not authenticated", body = crate::routes::schemas::ErrorBody),
        (status = 403, description = "Not an admin", body = crate::routes::schemas::ErrorBody),
        (status = 409, description = "Name taken", body = crate::routes::schemas::ErrorBody),
    ), security(("bearer" = [])))]
pub async fn create(
    Require(principal, _): RequireAdmin,
    state: web::Data<AppState>,
    body: web::Json<CreateOrganizationBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let limits = b.limits();
    let input = CreateOrganization {
        name: b.name,
        description: b.description,
        status: b.status,
        limits,
    };
    let org = tenants::create_organization(&state.store, &principal, input, Utc::now()).await?;
    Ok(HttpResponse::Created().json(respond(&state, org)))
}

/// List organizations (a non-admin key sees only its own).
#[utoipa::path(get, path = "/v1/organizations", operation_id = "list_organizations", tag = "organizations", params(PageQuery, OrganizationQuery),
    responses(
        (status = 200, description = "A page", body = inline(Paginated<OrganizationResponse>)),
        (status = 401, description = "Not authenticated", body = crate::routes::schemas::ErrorBody),
    ), security(("bearer" = [])))]
pub async fn list(
    Authenticated(principal): Authenticated,
    state: web::Data<AppState>,
    page: web::Query<PageQuery>,
    q: web::Query<OrganizationQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = page.into_inner().validate()?;
    let q = q.into_inner();
    let result = tenants::list_organizations(
        &state.store,
        &principal,
        q.status.as_deref(),
        q.search,
        page,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Paginated::from_page(result, |o| respond(&state, o))))
}

/// One organization.
#[utoipa::path(get, path = "/v1/organizations/{org_id}", operation_id = "get_organization", tag = "organizations",
    params(("org_id" = String, Path, description = "Organization id")),
    responses(
        (status = 200, description = "The organization", body = OrganizationResponse),
        (status = 404, description = "Not found (or not yours)", body = crate::routes::schemas::ErrorBody),
    ), security(("bearer" = [])))]
pub async fn get(
    Authenticated(principal): Authenticated,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let org = tenants::get_organization(&state.store, &principal, &id).await?;
    Ok(HttpResponse::Ok().json(respond(&state, org)))
}

/// Update an organization (admin).
#[utoipa::path(patch, path = "/v1/organizations/{org_id}", operation_id = "update_organization", tag = "organizations", request_body = UpdateOrganizationBody,
    params(("org_id" = String, Path, description = "Organization id")),
    responses(
        (status = 200, description = "Updated", body = OrganizationResponse),
        (status = 400, description = "Invalid field", body = crate::routes::schemas::ErrorBody),
        (status = 403, description = "Not an admin", body = crate::routes::schemas::ErrorBody),
        (status = 404, description = "Not found", body = crate::routes::schemas::ErrorBody),
        (status = 409, description = "Name taken", body = crate::routes::schemas::ErrorBody),
    ), security(("bearer" = [])))]
pub async fn update(
    Authenticated(principal): Authenticated,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<UpdateOrganizationBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let limits = b.limits();
    let input = UpdateOrganization {
        name: b.name,
        description: b.description,
        status: b.status,
        limits,
    };
    let org =
        tenants::update_organization(&state.store, &principal, &id, input, Utc::now()).await?;
    state.keys.changed().await?;
    Ok(HttpResponse::Ok().json(respond(&state, org)))
}

/// Deactivate an organization (admin). Its keys stop working; its history stays for statistics.
#[utoipa::path(delete, path = "/v1/organizations/{org_id}", operation_id = "deactivate_organization", tag = "organizations",
    params(("org_id" = String, Path, description = "Organization id")),
    responses(
        (status = 200, description = "Deactivated", body = Message),
        (status = 403, description = "Not an admin", body = crate::routes::schemas::ErrorBody),
        (status = 404, description = "Not found", body = crate::routes::schemas::ErrorBody),
    ), security(("bearer" = [])))]
pub async fn delete(
    Authenticated(principal): Authenticated,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let org = tenants::deactivate_organization(&state.store, &principal, &id, Utc::now()).await?;
    state.keys.changed().await?;
    Ok(HttpResponse::Ok().json(Message {
        message: format!(
            "organization '{}' deactivated; its API keys no longer work",
            org.name
        ),
    }))
}
