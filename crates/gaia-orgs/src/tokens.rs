//! Login tokens: HS256 JWTs signed with `GAIA_JWT_SECRET`. Only HS256 is accepted (`alg: none` and
//! every other algorithm are refused), with expiry and issuer checked.

use chrono::Utc;
use gaia_core::GaiaError;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

const ISSUER: &str = "gaiarouter";

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id (`kind = "user"`) or the API key id (`kind = "key"`).
    pub sub: String,
    pub kind: String,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
}

/// Signs and verifies tokens.
#[derive(Clone)]
pub struct TokenSigner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl_secs: i64,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSigner")
            .field("ttl_secs", &self.ttl_secs)
            .finish()
    }
}

fn invalid_token() -> GaiaError {
    GaiaError::unauthorized("invalid or expired token; sign in again").with_code("invalid_token")
}

impl TokenSigner {
    pub fn new(secret: &[u8], ttl_secs: i64) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            ttl_secs,
        }
    }

    /// Issues a token for `sub` of `kind`; returns it with its expiry (Unix seconds).
    pub fn issue(&self, sub: &str, kind: &str) -> Result<(String, i64), GaiaError> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: sub.to_owned(),
            kind: kind.to_owned(),
            iss: ISSUER.to_owned(),
            iat: now,
            exp: now + self.ttl_secs,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| GaiaError::internal(format!("signing a token: {e}")))?;
        Ok((token, claims.exp))
    }

    pub fn verify(&self, token: &str) -> Result<Claims, GaiaError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map(|d| d.claims)
            .map_err(|_| invalid_token())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_tampering_is_refused() {
        let signer = TokenSigner::new(b"0123456789abcdef0123456789abcdef", 3600);
        let (token, exp) = signer.issue("user-1", "user").unwrap();
        let claims = signer.verify(&token).unwrap();
        assert_eq!(
            (claims.sub.as_str(), claims.kind.as_str(), claims.exp),
            ("user-1", "user", exp)
        );
        let other = TokenSigner::new(b"another-secret-another-secret-xx", 3600);
        assert_eq!(other.verify(&token).unwrap_err().status(), 401);
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged_payload = "eyJzdWIiOiJhZG1pbiIsImtpbmQiOiJ1c2VyIiwiaXNzIjoiZ2FpYXJvdXRlciIsImlhdCI6MCwiZXhwIjo5OTk5OTk5OTk5fQ";
        parts[1] = forged_payload;
        assert!(signer.verify(&parts.join(".")).is_err());
    }

    #[test]
    fn alg_none_tokens_are_refused() {
        let signer = TokenSigner::new(b"0123456789abcdef0123456789abcdef", 3600);
        // {"alg":"none","typ":"JWT"} . {"sub":"u","kind":"user","iss":"gaiarouter","iat":0,"exp":9999999999} .
        let none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1Iiwia2luZCI6InVzZXIiLCJpc3MiOiJnYWlhcm91dGVyIiwiaWF0IjowLCJleHAiOjk5OTk5OTk5OTl9.";
        assert!(signer.verify(none).is_err());
    }

    #[test]
    fn expired_tokens_are_refused() {
        let signer = TokenSigner::new(b"0123456789abcdef0123456789abcdef", -120);
        let (token, _) = signer.issue("u", "user").unwrap();
        assert!(signer.verify(&token).is_err());
    }
}
