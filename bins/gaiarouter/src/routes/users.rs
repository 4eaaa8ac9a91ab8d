//! Sign-in (user or API key → a login token), `me`, and admin-UI users (admins only).

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use gaia_core::GaiaError;
use gaia_orgs::auth::Principal;
use gaia_orgs::users;
use gaia_store::users::UserRow;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{AdminOnly, Authenticated, Require};
use crate::error::ApiError;
use crate::routes::organizations::Message;
use crate::routes::pagination::{PageQuery, Paginated};
use crate::state::AppState;

/// Credentials of an admin-UI user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    #[schema(example = "admin")]
    pub username: String,
    pub password: String,
}

/// A login token for `Authorization: Bearer`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub user_id: String,
    pub username: String,
    /// `admin` or `user`.
    pub role: String,
    /// When the token expires.
    pub expires_at: DateTime<Utc>,
}

/// Sign in with an API key instead.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyLoginBody {
    pub api_key: String,
}

/// A login token scoped to an API key's permissions (refused once the key is revoked).
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyLoginResponse {
    pub token: String,
    pub key_id: String,
    pub organization_id: String,
    pub permissions: Vec<String>,
    pub expires_at: DateTime<Utc>,
}

/// Who the caller is.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// `user`, `key` or `bootstrap` (the GAIA_ADMIN_KEY).
    pub kind: String,
    pub user_id: Option<String>,
    pub username: Option<String>,
    pub role: Option<String>,
    pub key_id: Option<String>,
    pub organization_id: Option<String>,
    pub permissions: Vec<String>,
}

/// Who the sign-in throttle counts: the client's address as the request context resolved it (behind
/// `GAIA_TRUSTED_PROXIES`, the client they name, not the proxy).
fn client_id(req: &HttpRequest) -> String {
    use actix_web::HttpMessage;
    let client = req
        .extensions()
        .get::<crate::middleware::ClientAddr>()
        .and_then(|c| c.0)
        .or_else(|| req.peer_addr().map(|a| a.ip()));
    client.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

fn signer(state: &AppState) -> Result<&gaia_orgs::tokens::TokenSigner, GaiaError> {
    state
        .keys
        .tokens()
        .ok_or_else(|| GaiaError::internal("token signing is not configured"))
}

fn expiry(exp: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(exp, 0).unwrap_or_else(Utc::now)
}

/// Sign in with username and password. Wrong credentials get 401 without saying which part was wrong;
/// repeated failures from one client get 429 with `retry-after`.
#[utoipa::path(post, path = "/v1/admin/login", tag = "auth", request_body = LoginBody,
    responses(
        (status = 200, description = "Signed in", body = LoginResponse),
        (status = 401, description = "Invalid username or password", body = crate::routes::schemas::ErrorBody),
        (status = 429, description = "Too many failed attempts from this client", body = crate::routes::schemas::ErrorBody,
            headers(("retry-after" = u64, description = "Seconds until the next attempt is allowed"))),
    ), security(()))]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<LoginBody>,
) -> Result<HttpResponse, ApiError> {
    let client = client_id(&req);
    state.login_guard.check(&client)?;
    let user = match users::login(&state.store, &body.username, &body.password, Utc::now()).await {
        Ok(u) => u,
        Err(e) => {
            if e.status() == 401 {
                state.login_guard.failed(&client);
            }
            return Err(e.into());
        }
    };
    state.login_guard.succeeded(&client);
    let (token, exp) = signer(&state)?.issue(user.id.as_str(), "user")?;
    Ok(HttpResponse::Ok().json(LoginResponse {
        token,
        user_id: user.id.into_string(),
        username: user.username,
        role: user.role.to_string(),
        expires_at: expiry(exp),
    }))
}

/// Sign in with an API key: a login token with that key's permissions.
#[utoipa::path(post, path = "/v1/auth/key-login", tag = "auth", request_body = KeyLoginBody,
    responses(
        (status = 200, description = "Signed in", body = KeyLoginResponse),
        (status = 401, description = "Invalid, revoked or expired key", body = crate::routes::schemas::ErrorBody),
        (status = 429, description = "Too many failed attempts from this client", body = crate::routes::schemas::ErrorBody,
            headers(("retry-after" = u64, description = "Seconds until the next attempt is allowed"))),
    ), security(()))]
pub async fn key_login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<KeyLoginBody>,
) -> Result<HttpResponse, ApiError> {
    let client = client_id(&req);
    state.login_guard.check(&client)?;
    let key = match state
        .keys
        .authenticate(body.api_key.trim(), Utc::now())
        .await
    {
        Ok(Principal::Key(key)) => key,
        Ok(_) => {
            return Err(GaiaError::invalid_request("use a stored API key here (the bootstrap GAIA_ADMIN_KEY cannot sign in to the UI; create an admin key)")
                .with_param("api_key")
                .into());
        }
        Err(e) => {
            state.login_guard.failed(&client);
            return Err(e.into());
        }
    };
    state.login_guard.succeeded(&client);
    let (token, exp) = signer(&state)?.issue(key.id.as_str(), "key")?;
    Ok(HttpResponse::Ok().json(KeyLoginResponse {
        token,
        key_id: key.id.into_string(),
        organization_id: key.organization_id.into_string(),
        permissions: permission_names(key.permissions),
        expires_at: expiry(exp),
    }))
}

/// Who am I: the identity and permissions behind the bearer token.
#[utoipa::path(get, path = "/v1/auth/me", tag = "auth",
    responses(
        (status = 200, description = "The caller", body = Me),
        (status = 401, description = "Not authenticated", body = crate::routes::schemas::ErrorBody),
    ), security(("bearer" = [])))]
pub async fn me(Authenticated(p): Authenticated) -> HttpResponse {
    let permissions = permission_names(p.permissions());
    let me = match p {
        Principal::BootstrapKey => Me {
            kind: "bootstrap".to_owned(),
            role: None,
            user_id: None,
            username: None,
            key_id: None,
            organization_id: None,
            permissions,
        },
        Principal::Key(k) => Me {
            kind: "key".to_owned(),
            role: None,
            user_id: None,
            username: None,
            key_id: Some(k.id.into_string()),
            organization_id: Some(k.organization_id.into_string()),
            permissions,
        },
        Principal::User(u) => Me {
            kind: "user".to_owned(),
            role: Some(u.role.as_str().to_owned()),
            user_id: Some(u.id.into_string()),
            username: Some(u.username),
            key_id: None,
            organization_id: None,
            permissions,
        },
    };
    HttpResponse::Ok().json(me)
}

fn permission_names(p: gaia_core::Permissions) -> Vec<String> {
    p.list().iter().map(|x| x.as_str().to_owned()).collect()
}

/// An admin-UI user (never the password hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    pub id: String,
    pub username: String,
    pub role: String,
    pub status: String,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<UserRow> for UserResponse {
    fn from(u: UserRow) -> Self {
        Self {
            id: u.id.to_string(),
            username: u.username,
            role: u.role.to_string(),
            status: u.status,
            last_login_at: u.last_login_at,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// A new user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserBody {
    /// 3–64 characters: letters, digits, `-`, `_`, `.`, `@`.
    #[schema(pattern = "^[A-Za-z0-9._@-]{3,64}$")]
    pub username: String,
    /// 8–256 characters.
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
    /// `admin` or `user` (default; read-only access to everything).
    #[schema(pattern = "^(admin|user)$")]
    pub role: Option<String>,
}

/// Changes to a user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserBody {
    /// `admin` or `user`.
    #[schema(pattern = "^(admin|user)$")]
    pub role: Option<String>,
    /// `active` or `inactive`.
    #[schema(pattern = "^(active|inactive)$")]
    pub status: Option<String>,
    /// 8–256 characters.
    #[schema(min_length = 8, max_length = 256)]
    pub password: Option<String>,
}

/// User list filters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct UserQuery {
    /// `active` or `inactive`.
    #[param(pattern = "^(active|inactive)$")]
    pub status: Option<String>,
    pub search: Option<String>,
}

/// List users (admin).
#[utoipa::path(get, path = "/v1/admin/users", operation_id = "list_users", tag = "auth", params(PageQuery, UserQuery),
    responses((status = 200, description = "A page", body = inline(Paginated<UserResponse>))), security(("bearer" = [])))]
pub async fn list(
    Require(p, _): AdminOnly,
    state: web::Data<AppState>,
    page: web::Query<PageQuery>,
    q: web::Query<UserQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = page.into_inner().validate()?;
    let result = users::list_users(
        &state.store,
        &p,
        q.status.as_deref(),
        q.search.as_deref(),
        page,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Paginated::from_page(result, UserResponse::from)))
}

/// Create a user (admin).
#[utoipa::path(post, path = "/v1/admin/users", operation_id = "create_user", tag = "auth", request_body = CreateUserBody,
    responses(
        (status = 201, description = "Created", body = UserResponse),
        (status = 400, description = "Invalid field", body = crate::routes::schemas::ErrorBody),
        (status = 409, description = "Username taken", body = crate::routes::schemas::ErrorBody),
    ), security(("bearer" = [])))]
pub async fn create(
    Require(p, _): AdminOnly,
    state: web::Data<AppState>,
    body: web::Json<CreateUserBody>,
) -> Result<HttpResponse, ApiError> {
    let user = users::create_user(
        &state.store,
        &p,
        &body.username,
        &body.password,
        body.role.as_deref(),
        Utc::now(),
    )
    .await?;
    Ok(HttpResponse::Created().json(UserResponse::from(user)))
}

/// One user (admin).
#[utoipa::path(get, path = "/v1/admin/users/{user_id}", operation_id = "get_user", tag = "auth", params(("user_id" = String, Path, description = "User id")),
    responses((status = 200, description = "The user", body = UserResponse), (status = 404, description = "Not found", body = crate::routes::schemas::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    Require(p, _): AdminOnly,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(UserResponse::from(
        users::get_user(&state.store, &p, &id).await?,
    )))
}

/// Update a user's role, status or password (admin). The last active admin cannot be demoted.
#[utoipa::path(patch, path = "/v1/admin/users/{user_id}", operation_id = "update_user", tag = "auth", request_body = UpdateUserBody,
    params(("user_id" = String, Path, description = "User id")),
    responses(
        (status = 200, description = "Updated", body = UserResponse),
        (status = 404, description = "Not found", body = crate::routes::schemas::ErrorBody),
        (status = 409, description = "Last admin", body = crate::routes::schemas::ErrorBody),
    ), security(("bearer" = [])))]
pub async fn update(
    Require(p, _): AdminOnly,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<UpdateUserBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let user = users::update_user(
        &state.store,
        &p,
        &id,
        b.role.as_deref(),
        b.status.as_deref(),
        b.password.as_deref(),
        Utc::now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(UserResponse::from(user)))
}

/// Deactivate a user (admin).
#[utoipa::path(delete, path = "/v1/admin/users/{user_id}", operation_id = "delete_user", tag = "auth", params(("user_id" = String, Path, description = "User id")),
    responses(
        (status = 200, description = "Deactivated", body = Message),
        (status = 404, description = "Not found", body = crate::routes::schemas::ErrorBody),
        (status = 409, description = "Last admin", body = crate::routes::schemas::ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn delete(
    Require(p, _): AdminOnly,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let user = users::deactivate_user(&state.store, &p, &id, Utc::now()).await?;
    Ok(HttpResponse::Ok().json(Message {
        message: format!("user '{}' deactivated", user.username),
    }))
}
