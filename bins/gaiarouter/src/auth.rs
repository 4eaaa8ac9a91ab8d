//! Authentication as an extractor: a handler that takes [`Authenticated`] cannot forget to check the key.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use gaia_core::GaiaError;
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

/// An authenticated caller with the `admin` permission (403 otherwise).
#[derive(Debug, Clone)]
pub struct AdminOnly(pub Principal);

impl FromRequest for AdminOnly {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let auth = Authenticated::from_request(req, payload);
        Box::pin(async move {
            let Authenticated(principal) = auth.await?;
            if !principal.is_admin() {
                return Err(
                    GaiaError::forbidden("this endpoint needs the admin permission").into(),
                );
            }
            Ok(AdminOnly(principal))
        })
    }
}
