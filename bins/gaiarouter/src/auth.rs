//! Authentication as an extractor: a handler that takes [`Authenticated`] cannot forget to check the key.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use gaia_core::{GaiaError, Permission};
use gaia_orgs::auth::Principal;

use crate::error::ApiError;
use crate::state::AppState;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Principal);

/// The bearer token of a request: `Authorization: Bearer <token>` (or `x-api-key`, as Anthropic SDKs send).
fn bearer(req: &HttpRequest) -> Result<String, GaiaError> {
    if let Some(value) = req.headers().get(AUTHORIZATION) {
        let value = value.to_str().map_err(|_| {
            GaiaError::unauthorized("the Authorization header is not valid text")
                .with_code("invalid_api_key")
        })?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                GaiaError::unauthorized("the Authorization header must be 'Bearer <API key>'")
                    .with_code("invalid_api_key")
            })?;
        return Ok(token.to_owned());
    }
    if let Some(value) = req.headers().get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Ok(value.trim().to_owned());
    }
    Err(
        GaiaError::unauthorized("no API key: send 'Authorization: Bearer <your GaiaRouter key>'")
            .with_code("missing_api_key"),
    )
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let token = token?;
            let state = state.ok_or_else(|| GaiaError::internal("application state missing"))?;
            let principal = state.keys.authenticate(&token, chrono::Utc::now()).await?;
            Ok(Authenticated(principal))
        })
    }
}

/// A permission an extractor requires, as a type ([`Read`], [`Write`], [`Admin`]).
pub trait Needs {
    const PERMISSION: Permission;
}

/// The `read` permission (`write` includes reading; `admin` implies both).
#[derive(Debug, Clone, Copy)]
pub struct Read;
/// The `write` permission.
#[derive(Debug, Clone, Copy)]
pub struct Write;
/// The `admin` permission.
#[derive(Debug, Clone, Copy)]
pub struct Admin;

impl Needs for Read {
    const PERMISSION: Permission = Permission::Read;
}
impl Needs for Write {
    const PERMISSION: Permission = Permission::Write;
}
impl Needs for Admin {
    const PERMISSION: Permission = Permission::Admin;
}

/// An authenticated caller holding the permission `N` (403 otherwise), so a handler's signature states
/// what it needs. Where the answer must not depend on a resource's existence in another organization
/// (T-14: 404 before 403), the service checks the permission after the scope instead, and the handler
/// takes [`Authenticated`].
#[derive(Debug, Clone)]
pub struct Require<N: Needs>(pub Principal, pub PhantomData<N>);

/// Needs `read`.
pub type RequireRead = Require<Read>;
/// Needs `write`.
pub type RequireWrite = Require<Write>;
/// Needs `admin`.
pub type RequireAdmin = Require<Admin>;
/// The admin-only endpoints' extractor (an older name of [`RequireAdmin`]).
pub type AdminOnly = RequireAdmin;

impl<N: Needs + 'static> FromRequest for Require<N> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let auth = Authenticated::from_request(req, payload);
        Box::pin(async move {
            let Authenticated(principal) = auth.await?;
            // `write` lets a caller read too (a write key reads its organization's statistics).
            let allowed = principal.allows(N::PERMISSION)
                || (N::PERMISSION == Permission::Read && principal.allows(Permission::Write));
            if !allowed {
                let message = match N::PERMISSION {
                    Permission::Admin => "this endpoint needs the admin permission".to_owned(),
                    p => format!("this needs the '{p}' permission"),
                };
                return Err(GaiaError::forbidden(message)
                    .with_code("permission_denied")
                    .into());
            }
            Ok(Require(principal, PhantomData))
        })
    }
}
