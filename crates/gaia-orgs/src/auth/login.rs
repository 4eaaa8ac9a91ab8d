//! Login tokens: a user's (checked against the database: management endpoints only) or a key-login
//! token (checked against the cached key, so a revoked key's tokens stop working).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use gaia_core::GaiaError;

use super::{CachedKey, KeyCache, Principal, UserCaller};

impl KeyCache {
    /// A login token: a user's or a key's, as its claims say.
    pub(super) async fn authenticate_token(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Principal, GaiaError> {
        let signer = self.tokens.as_ref().ok_or_else(|| {
            GaiaError::unauthorized("login tokens are not enabled").with_code("invalid_token")
        })?;
        let claims = signer.verify(token)?;
        match claims.kind.as_str() {
            "key" => self.key_token(&claims.sub, now).await,
            "user" => self.user_token(&claims.sub).await,
            _ => Err(GaiaError::unauthorized("unrecognised token").with_code("invalid_token")),
        }
    }

    /// A key-login token of key `key_id`: valid while the key is.
    async fn key_token(&self, key_id: &str, now: DateTime<Utc>) -> Result<Principal, GaiaError> {
        let cached = self.keys.load().by_id.get(key_id).cloned();
        let cached: Arc<CachedKey> = match cached {
            Some(c) => c,
            None => {
                self.db_lookups.fetch_add(1, Ordering::Relaxed);
                let key = self.store.get_api_key(key_id).await.map_err(|_| {
                    GaiaError::unauthorized("the API key of this token no longer exists")
                        .with_code("invalid_token")
                })?;
                self.with_organization(key).await
            }
        };
        let principal = Self::check_status(&cached, now)?;
        self.touch(cached.key.id.as_str(), now);
        Ok(principal)
    }

    /// A user's login token: valid while the user exists and is active.
    async fn user_token(&self, user_id: &str) -> Result<Principal, GaiaError> {
        let user = self.store.get_user(user_id).await.map_err(|_| {
            GaiaError::unauthorized("the user of this token no longer exists")
                .with_code("invalid_token")
        })?;
        if user.status != "active" {
            return Err(GaiaError::unauthorized("this user is inactive").with_code("inactive_user"));
        }
        Ok(Principal::User(UserCaller {
            id: user.id,
            username: user.username,
            role: user.role,
        }))
    }
}
