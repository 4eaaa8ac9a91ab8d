//! `/v1/api-keys`: create (write, own organization), list and read (scoped), update, revoke.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use gaia_core::ApiKey;
use gaia_orgs::limits::Scope;
use gaia_orgs::tenants::{self, CreateApiKey, UpdateApiKey};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::routes::limits::{LimitsView, body_with_limits};
use crate::routes::organizations::{Message, MonthUsage, month_usage};
use crate::routes::pagination::{PageQuery, Paginated};
use crate::routes::patch;
use crate::state::AppState;

/// An API key. `key` holds the secret only in the answer to its creation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyResponse {
    pub id: String,
    /// The secret key (`gaia_…`): returned once, at creation; `null` afterwards.
    pub key: Option<String>,
    /// Non-secret hint: prefix, lookup id and the last four characters.
    #[schema(example = "gaia_k3j9x2m1q8zt_…Wx7Q")]
    pub key_hint: String,
    pub organization_id: String,
    pub organization_name: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// Subset of `read`, `write`, `admin`.
    pub permissions: Vec<String>,
    /// `active`, `inactive`, `revoked` or `expired`.
    pub status: String,
    #[serde(flatten)]
    pub limits: LimitsView,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub usage: MonthUsage,
}

fn respond(
    state: &AppState,
    k: ApiKey,
    org_name: Option<String>,
    secret: Option<String>,
) -> ApiKeyResponse {
    let now = Utc::now();
    let last_used_at = match (k.last_used_at, state.keys.pending_last_used(k.id.as_str())) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    ApiKeyResponse {
        usage: month_usage(state, Scope::Key, k.id.as_str()),
        status: k.effective_status(now).as_str().to_owned(),
        id: k.id.into_string(),
        key: secret,
        key_hint: k.hint,
        organization_id: k.organization_id.into_string(),
        organization_name: org_name,
        name: k.name,
        description: k.description,
        permissions: k
            .permissions
            .list()
            .iter()
            .map(|p| p.as_str().to_owned())
            .collect(),
        limits: k.limits.into(),
        created_at: k.created_at,
        expires_at: k.expires_at,
        last_used_at,
        updated_at: k.updated_at,
    }
}

async fn org_name(state: &AppState, org_id: &str) -> Option<String> {
    state
        .store
        .get_organization(org_id)
        .await
        .ok()
        .map(|o| o.name)
}

body_with_limits! { create:
/// A new key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"organization_id": "0192f0c4-7d1e-7c3a-9d55-3b1f1f0c2a10", "name": "ci", "permissions": ["read", "write"], "monthly_requests_limit": 10000}))]
pub struct CreateApiKeyBody {
    #[schema(min_length = 1)]
    pub organization_id: String,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub name: Option<String>,
    #[schema(
        max_length = 1000,
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
    )]
    pub description: Option<String>,
    /// Default `["read", "write"]`: any of `read`, `write`, `admin`. A key cannot grant more than its
    /// creator has.
    #[schema(schema_with = crate::routes::schemas::permission_list)]
    pub permissions: Option<Vec<String>>,
    /// In the future.
    pub expires_at: Option<DateTime<Utc>>,
}}

body_with_limits! { update:
/// Changes to a key; omitted fields stay, `null` clears.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateApiKeyBody {
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$")]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 1000, pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$")]
    pub description: Option<Option<String>>,
    /// Any of `read`, `write`, `admin`.
    #[schema(schema_with = crate::routes::schemas::permission_list)]
    pub permissions: Option<Vec<String>>,
    /// `active` or `inactive`.
    #[schema(pattern = "^(active|inactive)$")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<Option<DateTime<Utc>>>,
}}

/// List filters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ApiKeyQuery {
    /// `active`, `inactive`, `revoked` or `expired`.
    #[param(pattern = "^(active|inactive|revoked|expired)$")]
    pub status: Option<String>,
    /// Substring of the name or description.
    pub search: Option<String>,
    pub organization_id: Option<String>,
}

/// Create an API key. The secret is in `key`, shown only in this answer.
#[utoipa::path(post, path = "/v1/api-keys", operation_id = "create_api_key", tag = "api-keys", request_body = CreateApiKeyBody,
    responses(
        (status = 201, description = "Created; `key` holds the secret", body = ApiKeyResponse),
        (status = 400, description = "Invalid field", body = crate::routes::schemas::ErrorBody),
        (status = 422, description = "`expires_at` is not in the future", body = crate::routes::schemas::ErrorBody),
        (status = 403, description = "Missing permission, or granting more than the caller has", body = crate::routes::schemas::ErrorBody),
        (status = 404, description = "Unknown organization (or not yours)", body = crate::routes::schemas::ErrorBody),
        (status = 409, description = "The organization is inactive (`organization_inactive`)", body = crate::routes::schemas::ErrorBody),
    ), security(("bearer" = [])))]
pub async fn create(
    Authenticated(principal): Authenticated,
    state: web::Data<AppState>,
    body: web::Json<CreateApiKeyBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let limits = b.limits();
    let input = CreateApiKey {
        organization_id: b.organization_id,
        name: b.name,
        description: b.description,
        permissions: b.permissions,
        expires_at: b.expires_at,
        limits,
    };
    let created = tenants::create_api_key(&state.store, &principal, input, Utc::now()).await?;
    state.keys.changed().await?;
    let name = org_name(&state, created.key.organization_id.as_str()).await;
    Ok(HttpResponse::Created().json(respond(&state, created.key, name, Some(created.secret))))
}

/// List API keys (a non-admin key sees its own organization's; secrets are never listed).
#[utoipa::path(get, path = "/v1/api-keys", operation_id = "list_api_keys", tag = "api-keys", params(PageQuery, ApiKeyQuery),
    responses((status = 200, description = "A page", body = inline(Paginated<ApiKeyResponse>))),
    security(("bearer" = [])))]
pub async fn list(
    Authenticated(principal): Authenticated,
    state: web::Data<AppState>,
    page: web::Query<PageQuery>,
    q: web::Query<ApiKeyQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = page.into_inner().validate()?;
    let q = q.into_inner();
    let result = tenants::list_api_keys(
        &state.store,
        &principal,
        q.organization_id,
        q.status.as_deref(),
        q.search,
        page,
        Utc::now(),
    )
    .await?;
    let ids: Vec<String> = result
        .items
        .iter()
        .map(|k| k.organization_id.to_string())
        .collect();
    let names = state.store.organization_names(&ids).await?;
    Ok(HttpResponse::Ok().json(Paginated::from_page(result, |k| {
        let name = names.get(k.organization_id.as_str()).cloned();
        respond(&state, k, name, None)
    })))
}

/// One API key (no secret).
#[utoipa::path(get, path = "/v1/api-keys/{key_id}", operation_id = "get_api_key", tag = "api-keys",
    params(("key_id" = String, Path, description = "Key id")),
    responses(
        (status = 200, description = "The key", body = ApiKeyResponse),
        (status = 404, description = "Not found (or not yours)", body = crate::routes::schemas::ErrorBody),
    ), security(("bearer" = [])))]
pub async fn get(
    Authenticated(principal): Authenticated,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let key = tenants::get_api_key(&state.store, &principal, &id).await?;
    let name = org_name(&state, key.organization_id.as_str()).await;
    Ok(HttpResponse::Ok().json(respond(&state, key, name, None)))
}

/// Update an API key (name, description, permissions, status, expiry, limits).
#[utoipa::path(patch, path = "/v1/api-keys/{key_id}", operation_id = "update_api_key", tag = "api-keys", request_body = UpdateApiKeyBody,
    params(("key_id" = String, Path, description = "Key id")),
    responses(
        (status = 200, description = "Updated", body = ApiKeyResponse),
        (status = 400, description = "Invalid field", body = crate::routes::schemas::ErrorBody),
        (status = 422, description = "`expires_at` is not in the future", body = crate::routes::schemas::ErrorBody),
        (status = 403, description = "Missing permission", body = crate::routes::schemas::ErrorBody),
        (status = 404, description = "Not found", body = crate::routes::schemas::ErrorBody),
        (status = 409, description = "The key is revoked", body = crate::routes::schemas::ErrorBody),
    ), security(("bearer" = [])))]
pub async fn update(
    Authenticated(principal): Authenticated,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<UpdateApiKeyBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let limits = b.limits();
    let input = UpdateApiKey {
        name: b.name,
        description: b.description,
        permissions: b.permissions,
        status: b.status,
        expires_at: b.expires_at,
        limits,
    };
    let key = tenants::update_api_key(&state.store, &principal, &id, input, Utc::now()).await?;
    state.keys.changed().await?;
    let name = org_name(&state, key.organization_id.as_str()).await;
    Ok(HttpResponse::Ok().json(respond(&state, key, name, None)))
}

/// Revoke an API key (soft delete: it never works again; its history stays).
#[utoipa::path(delete, path = "/v1/api-keys/{key_id}", operation_id = "revoke_api_key", tag = "api-keys",
    params(("key_id" = String, Path, description = "Key id")),
    responses(
        (status = 200, description = "Revoked", body = Message),
        (status = 404, description = "Not found", body = crate::routes::schemas::ErrorBody),
    ), security(("bearer" = [])))]
pub async fn delete(
    Authenticated(principal): Authenticated,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let key = tenants::revoke_api_key(&state.store, &principal, &id, Utc::now()).await?;
    state.keys.changed().await?;
    Ok(HttpResponse::Ok().json(Message {
        message: format!("API key {} revoked", key.hint),
    }))
}
