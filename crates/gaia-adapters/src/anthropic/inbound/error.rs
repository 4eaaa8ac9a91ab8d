//! Anthropic's error envelope: `{"type":"error","error":{"type","message"},"request_id"}`.

use gaia_core::{ErrorKind, GaiaError};
use serde_json::{Value, json};

/// Anthropic's `error.type` for an error of this kind. Kinds Anthropic has no name for take the nearest
/// one a client handles the same way: a wrong method, a conflict or a semantically wrong field is an
/// invalid request; an upstream failure is an `api_error`.
pub fn error_type(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidRequest
        | ErrorKind::MethodNotAllowed
        | ErrorKind::Conflict
        | ErrorKind::Unprocessable => "invalid_request_error",
        ErrorKind::Authentication => "authentication_error",
        ErrorKind::PermissionDenied => "permission_error",
        ErrorKind::NotFound => "not_found_error",
        ErrorKind::PayloadTooLarge => "request_too_large",
        ErrorKind::RateLimited | ErrorKind::QuotaExceeded => "rate_limit_error",
        ErrorKind::Unavailable => "overloaded_error",
        ErrorKind::UpstreamTimeout => "timeout_error",
        ErrorKind::Internal | ErrorKind::Upstream => "api_error",
    }
}

/// The envelope for `error`. Anthropic has no `param` or `code` fields, so the message starts with the
/// field at fault (`messages.1.content.0.source.media_type: …`, as Anthropic writes it) and the
/// GaiaRouter code follows in brackets when it says more than the type (`[organization_limit_error]`).
pub fn error_envelope(error: &GaiaError, request_id: Option<&str>) -> Value {
    let mut message = String::new();
    if let Some(param) = error.param.as_deref().filter(|p| !p.is_empty())
        && !error.public_message().starts_with(param)
    {
        message.push_str(param);
        message.push_str(": ");
    }
    message.push_str(error.public_message());
    let code = error.code();
    if code != error.kind.default_code() {
        message.push_str(" [");
        message.push_str(code);
        message.push(']');
    }
    let mut envelope = json!({
        "type": "error",
        "error": {"type": error_type(error.kind), "message": message},
    });
    if let Some(id) = request_id {
        envelope["request_id"] = Value::String(id.to_owned());
    }
    envelope
}
