//! The HTTP face of [`GaiaError`]: every error leaves as the OpenAI envelope
//! `{"error":{"message","type","code","param"}}` with the status its kind decides.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, error};
use gaia_core::{ErrorKind, GaiaError};

/// A [`GaiaError`] as an actix response.
#[derive(Debug)]
pub struct ApiError(pub GaiaError);

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl<E: Into<GaiaError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        respond(&self.0, self.0.to_envelope())
    }
}

/// Logs what the client is not told, and answers `envelope` with the error's status and `retry-after`.
fn respond(error: &GaiaError, envelope: serde_json::Value) -> HttpResponse {
    match error.kind {
        // The client gets a generic message; the whole cause chain stays in the logs.
        ErrorKind::Internal => tracing::error!(error = %error.chain(), "internal error"),
        // Refusals of a known degraded state — Redis down with GAIA_REDIS_FAILURE=closed, every channel
        // failing — were logged once when the state began (the probe, the circuits); the access line
        // of each request is enough.
        ErrorKind::Unavailable
            if matches!(
                error.code(),
                "rate_limiter_unavailable" | "channels_unavailable"
            ) =>
        {
            tracing::debug!(error = %error.chain(), "refused while degraded")
        }
        ErrorKind::Unavailable => {
            tracing::warn!(error = %error.chain(), "service unavailable")
        }
        _ => {}
    }
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = HttpResponse::build(status);
    if let Some(secs) = error.retry_after {
        res.insert_header((header::RETRY_AFTER, secs.to_string()));
    }
    res.json(envelope)
}

/// A [`GaiaError`] on the Messages API routes: Anthropic's envelope
/// `{"type":"error","error":{"type","message"},"request_id"}`, with the same statuses, and the request id
/// also in `request-id`, where Anthropic's SDKs read it.
#[derive(Debug)]
pub struct AnthropicError {
    /// Boxed: handlers return it in `Result`s, which stay small.
    pub error: Box<GaiaError>,
    pub request_id: Option<String>,
}

impl AnthropicError {
    pub fn new(error: impl Into<GaiaError>, request_id: &str) -> Self {
        Self {
            error: Box::new(error.into()),
            request_id: Some(request_id.to_owned()).filter(|id| !id.is_empty()),
        }
    }
}

impl std::fmt::Display for AnthropicError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.error, f)
    }
}

impl ResponseError for AnthropicError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let envelope = gaia_adapters::anthropic::inbound::error_envelope(
            &self.error,
            self.request_id.as_deref(),
        );
        let mut res = respond(&self.error, envelope);
        if let Some(value) = self
            .request_id
            .as_deref()
            .and_then(|id| header::HeaderValue::from_str(id).ok())
        {
            res.headers_mut()
                .insert(header::HeaderName::from_static("request-id"), value);
        }
        res
    }
}

/// Maps a JSON body extractor failure to a precise envelope (used by `JsonConfig`).
pub fn json_error(err: error::JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let gaia = match &err {
        error::JsonPayloadError::OverflowKnownLength { length, limit } => {
            payload_too_large(Some(*length), *limit)
        }
        error::JsonPayloadError::Overflow { limit } => payload_too_large(None, *limit),
        error::JsonPayloadError::ContentType => GaiaError::new(
            ErrorKind::InvalidRequest,
            "Content-Type must be application/json",
        )
        .with_code("invalid_content_type"),
        error::JsonPayloadError::Deserialize(e) if e.is_data() => {
            GaiaError::invalid_request(format!("invalid request body: {e}"))
                .with_code("invalid_body")
        }
        error::JsonPayloadError::Deserialize(e) => {
            GaiaError::invalid_request(format!("malformed JSON: {e}")).with_code("invalid_json")
        }
        other => GaiaError::invalid_request(format!("could not read the request body: {other}"))
            .with_code("invalid_body"),
    };
    ApiError(gaia).into()
}

/// Maps a raw-body (`web::Bytes`) extractor failure.
pub fn payload_error(err: error::PayloadError, _req: &HttpRequest) -> actix_web::Error {
    let gaia = match err {
        error::PayloadError::Overflow => payload_too_large(None, 0),
        other => GaiaError::invalid_request(format!("could not read the request body: {other}"))
            .with_code("invalid_body"),
    };
    ApiError(gaia).into()
}

/// Maps a query-string extractor failure.
pub fn query_error(err: error::QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError(
        GaiaError::invalid_request(format!("invalid query parameter: {err}"))
            .with_code("invalid_query"),
    )
    .into()
}

/// Maps a path extractor failure.
pub fn path_error(err: error::PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError(
        GaiaError::invalid_request(format!("invalid path parameter: {err}"))
            .with_code("invalid_path"),
    )
    .into()
}

pub fn payload_too_large(length: Option<usize>, limit: usize) -> GaiaError {
    let message = match (length, limit) {
        (Some(len), lim) if lim > 0 => {
            format!("request body of {len} bytes exceeds the limit of {lim} bytes")
        }
        (_, lim) if lim > 0 => format!("request body exceeds the limit of {lim} bytes"),
        _ => "request body exceeds the configured limit (GAIA_MAX_BODY_BYTES)".to_owned(),
    };
    GaiaError::new(ErrorKind::PayloadTooLarge, message)
}

/// An envelope for a status produced outside our handlers (actix's own 404/405/413 …).
pub fn envelope_for_status(status: StatusCode, method: &str, path: &str) -> GaiaError {
    match status {
        StatusCode::NOT_FOUND => {
            GaiaError::not_found(format!("no route for {method} {path}")).with_code("unknown_route")
        }
        StatusCode::METHOD_NOT_ALLOWED => GaiaError::new(
            ErrorKind::MethodNotAllowed,
            format!("method {method} is not allowed for {path}"),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => payload_too_large(None, 0),
        s if s.is_server_error() => GaiaError::internal(format!("status {s} without a body")),
        s => {
            GaiaError::invalid_request(s.canonical_reason().unwrap_or("bad request").to_lowercase())
                .with_code(format!("http_{}", s.as_u16()))
        }
    }
}

/// The JSON content type, shared.
pub const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// Default service: unknown routes get a 404 envelope.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError(envelope_for_status(
        StatusCode::NOT_FOUND,
        req.method().as_str(),
        req.path(),
    )))
}
