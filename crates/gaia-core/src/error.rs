//! The error taxonomy. Every failure in GaiaRouter ends up as a [`GaiaError`]; its [`ErrorKind`] alone decides
//! the HTTP status and the OpenAI `error.type`, in one exhaustive `match`, so a new kind cannot be forgotten.

use std::fmt;

/// What went wrong, from the client's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The request is malformed or asks for something impossible (400).
    InvalidRequest,
    /// No credentials, or credentials we do not accept (401).
    Authentication,
    /// Valid credentials without the needed permission (403).
    PermissionDenied,
    /// The addressed resource does not exist (404).
    NotFound,
    /// A method the route does not support (405).
    MethodNotAllowed,
    /// The resource already exists (409).
    Conflict,
    /// The request body is larger than allowed (413).
    PayloadTooLarge,
    /// The body is well-formed but a field is semantically wrong (422).
    Unprocessable,
    /// Too many requests in a short window, here or upstream (429).
    RateLimited,
    /// A monthly quota (requests, tokens, cost) is used up (429).
    QuotaExceeded,
    /// The upstream provider failed or answered with something we cannot use (502).
    Upstream,
    /// We or a dependency are temporarily unable to serve (503).
    Unavailable,
    /// The upstream provider did not answer in time (504).
    UpstreamTimeout,
    /// A bug or an unexpected failure on our side (500). The message shown to clients is generic.
    Internal,
}

impl ErrorKind {
    /// The HTTP status code for this kind.
    pub const fn status(self) -> u16 {
        match self {
            ErrorKind::InvalidRequest => 400,
            ErrorKind::Authentication => 401,
            ErrorKind::PermissionDenied => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::MethodNotAllowed => 405,
            ErrorKind::Conflict => 409,
            ErrorKind::PayloadTooLarge => 413,
            ErrorKind::Unprocessable => 422,
            ErrorKind::RateLimited | ErrorKind::QuotaExceeded => 429,
            ErrorKind::Internal => 500,
            ErrorKind::Upstream => 502,
            ErrorKind::Unavailable => 503,
            ErrorKind::UpstreamTimeout => 504,
        }
    }

    /// The OpenAI envelope's `error.type`.
    pub const fn error_type(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequest
            | ErrorKind::NotFound
            | ErrorKind::MethodNotAllowed
            | ErrorKind::Conflict
            | ErrorKind::PayloadTooLarge
            | ErrorKind::Unprocessable => "invalid_request_error",
            ErrorKind::Authentication => "authentication_error",
            ErrorKind::PermissionDenied => "permission_error",
            ErrorKind::RateLimited => "rate_limit_error",
            ErrorKind::QuotaExceeded => "insufficient_quota",
            ErrorKind::Upstream | ErrorKind::UpstreamTimeout | ErrorKind::Unavailable => {
                "api_error"
            }
            ErrorKind::Internal => "server_error",
        }
    }

    /// The default machine-readable `error.code` when the error does not carry a more precise one.
    pub const fn default_code(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::Authentication => "invalid_api_key",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::NotFound => "not_found",
            ErrorKind::MethodNotAllowed => "method_not_allowed",
            ErrorKind::Conflict => "conflict",
            ErrorKind::PayloadTooLarge => "payload_too_large",
            ErrorKind::Unprocessable => "unprocessable_entity",
            ErrorKind::RateLimited => "rate_limit_error",
            ErrorKind::QuotaExceeded => "organization_limit_error",
            ErrorKind::Upstream => "upstream_error",
            ErrorKind::Unavailable => "service_unavailable",
            ErrorKind::UpstreamTimeout => "upstream_timeout",
            ErrorKind::Internal => "internal_error",
        }
    }
}

/// An error with its kind, a client-safe message and optional details for the envelope.
///
/// `message` must never contain secrets: it is shown to clients (except for [`ErrorKind::Internal`], whose
/// message is replaced by a generic one at the HTTP edge and only logged).
#[derive(Debug, Clone, thiserror::Error)]
pub struct GaiaError {
    pub kind: ErrorKind,
    pub message: String,
    /// Machine-readable code; defaults to [`ErrorKind::default_code`].
    pub code: Option<String>,
    /// The request parameter the error is about, as in OpenAI's envelope.
    pub param: Option<String>,
    /// Seconds the client should wait before retrying (sent as `retry-after`).
    pub retry_after: Option<u64>,
    /// What caused it (a database error, an I/O error), for the logs: never shown to a client. The HTTP
    /// edge logs the whole chain ([`GaiaError::chain`]) of the errors it answers with a 5xx.
    #[source]
    pub source: Option<std::sync::Arc<dyn std::error::Error + Send + Sync>>,
}

/// Two errors are equal when a client would see the same thing; their causes are not compared.
impl PartialEq for GaiaError {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
            && self.message == other.message
            && self.code == other.code
            && self.param == other.param
            && self.retry_after == other.retry_after
    }
}

impl fmt::Display for GaiaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

pub type GaiaResult<T> = Result<T, GaiaError>;

impl GaiaError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            code: None,
            param: None,
            retry_after: None,
            source: None,
        }
    }

    /// Keeps `cause` for the logs.
    pub fn with_source(mut self, cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(std::sync::Arc::new(cause));
        self
    }

    /// The error and every cause below it, `outer: inner: innermost`, for a log line.
    pub fn chain(&self) -> String {
        let mut out = self.to_string();
        let mut next = std::error::Error::source(self);
        while let Some(cause) = next {
            out.push_str(": ");
            out.push_str(&cause.to_string());
            next = cause.source();
        }
        out
    }

    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidRequest, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Authentication, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::PermissionDenied, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }

    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unprocessable, message)
    }

    pub fn upstream(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Upstream, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// The `error.code` to show.
    pub fn code(&self) -> &str {
        self.code.as_deref().unwrap_or(self.kind.default_code())
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.kind.status()
    }

    /// The message safe to show a client: internal errors are generic, everything else as written.
    pub fn public_message(&self) -> &str {
        match self.kind {
            ErrorKind::Internal => "internal server error",
            _ => &self.message,
        }
    }

    /// The OpenAI error envelope: `{"error":{"message","type","code","param"}}`.
    pub fn to_envelope(&self) -> serde_json::Value {
        serde_json::json!({
            "error": {
                "message": self.public_message(),
                "type": self.kind.error_type(),
                "code": self.code(),
                "param": self.param,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_keeps_its_cause_for_the_logs_and_shows_the_client_none_of_it() {
        let cause = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "peer reset");
        let e = GaiaError::internal("a database operation failed").with_source(cause);
        assert_eq!(
            e.chain(),
            "Internal: a database operation failed: peer reset"
        );
        assert_eq!(e.public_message(), "internal server error");
        assert!(!e.to_envelope().to_string().contains("peer reset"));
        // Equality is about what a client sees.
        assert_eq!(e, GaiaError::internal("a database operation failed"));
    }

    #[test]
    fn every_kind_maps_to_a_client_or_server_status() {
        let kinds = [
            ErrorKind::InvalidRequest,
            ErrorKind::Authentication,
            ErrorKind::PermissionDenied,
            ErrorKind::NotFound,
            ErrorKind::MethodNotAllowed,
            ErrorKind::Conflict,
            ErrorKind::PayloadTooLarge,
            ErrorKind::Unprocessable,
            ErrorKind::RateLimited,
            ErrorKind::QuotaExceeded,
            ErrorKind::Upstream,
            ErrorKind::Unavailable,
            ErrorKind::UpstreamTimeout,
            ErrorKind::Internal,
        ];
        for kind in kinds {
            assert!((400..600).contains(&kind.status()), "{kind:?}");
            assert!(!kind.error_type().is_empty());
        }
    }

    #[test]
    fn envelope_has_openai_shape() {
        let err = GaiaError::not_found("model 'x' does not exist").with_code("model_not_found");
        let env = err.to_envelope();
        assert_eq!(env["error"]["message"], "model 'x' does not exist");
        assert_eq!(env["error"]["type"], "invalid_request_error");
        assert_eq!(env["error"]["code"], "model_not_found");
        assert_eq!(err.status(), 404);
    }

    #[test]
    fn internal_errors_hide_their_message_from_clients() {
        let err = GaiaError::internal("db password=hunter2 refused");
        assert_eq!(
            err.to_envelope()["error"]["message"],
            "internal server error"
        );
        assert_eq!(err.status(), 500);
    }
}
