//! Upstream failures → client-visible errors.
//!
//! | upstream                         | client                                              |
//! |----------------------------------|-----------------------------------------------------|
//! | 400, 422                         | 400 with the provider's message                     |
//! | 401, 403                         | 502 — it is GaiaRouter's credential, not the client's |
//! | 404                              | 404 `model_not_found` (the upstream does not know the model) |
//! | 413                              | 413                                                 |
//! | 429                              | 429, `retry-after` passed through                   |
//! | 5xx, 529 (overloaded)            | 502                                                 |
//! | connection refused               | 502 `upstream_unreachable`                          |
//! | connection reset / broken mid-body | 502 `upstream_connection_lost`                    |
//! | 200 that is not the dialect's JSON | 502 `upstream_bad_response`                       |
//! | body (or one stream event) over the size bound | 502 `upstream_response_too_large` / `upstream_event_too_large` |
//! | timeout                          | 504                                                 |
//!
//! Messages never carry the provider key: [`redact`] scrubs it from anything echoed from an upstream
//! body (a proxy's error page may print the request headers back).

use gaia_core::{ErrorKind, GaiaError, ProviderKind};

/// The provider's own error message from an error body, if it has one we understand.
fn provider_message(kind: ProviderKind, body: &[u8]) -> Option<String> {
    crate::dialect::dialect(kind).error_message(body)
}

/// Parses a `retry-after` header value given in seconds (HTTP dates are rare upstream; ignored).
pub fn parse_retry_after(value: Option<&str>) -> Option<u64> {
    let v = value?.trim();
    v.parse::<u64>().ok().or_else(|| {
        v.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite() && *f >= 0.0)
            .map(|f| f.ceil() as u64)
    })
}

/// Maps an upstream HTTP error response.
pub fn from_status(
    provider: &str,
    kind: ProviderKind,
    status: u16,
    retry_after: Option<u64>,
    body: &[u8],
) -> GaiaError {
    let detail = provider_message(kind, body).unwrap_or_else(|| {
        let text = String::from_utf8_lossy(&body[..body.len().min(300)])
            .trim()
            .to_owned();
        if text.is_empty() {
            format!("HTTP {status}")
        } else {
            text
        }
    });
    match status {
        400 | 422 => GaiaError::invalid_request(format!("{provider}: {detail}")).with_code("upstream_invalid_request"),
        401 | 403 => GaiaError::new(
            ErrorKind::Upstream,
            format!("{provider} rejected GaiaRouter's credentials (HTTP {status}); the operator must check the provider API key"),
        )
        .with_code("upstream_auth_error"),
        404 => GaiaError::not_found(format!("{provider}: {detail}")).with_code("model_not_found"),
        413 => GaiaError::new(ErrorKind::PayloadTooLarge, format!("{provider}: {detail}")),
        429 => {
            let err = GaiaError::new(ErrorKind::RateLimited, format!("{provider} is rate limiting requests: {detail}"))
                .with_code("upstream_rate_limited");
            match retry_after {
                Some(s) => err.with_retry_after(s),
                None => err,
            }
        }
        _ => GaiaError::upstream(format!("{provider} failed with HTTP {status}: {detail}")).with_code("upstream_error"),
    }
}

/// Maps a transport failure (no HTTP status).
pub fn from_transport(provider: &str, err: &reqwest::Error) -> GaiaError {
    if err.is_timeout() {
        timeout(provider)
    } else if err.is_connect() {
        // The operating system's reason (refused, unreachable, out of descriptors…) is what an operator
        // needs to act on; it carries no URL.
        GaiaError::upstream(format!(
            "could not connect to {provider}: {}",
            root_cause(err)
        ))
        .with_code("upstream_unreachable")
    } else if err.is_body() || err.is_decode() || err.is_request() {
        // The connection was up and broke (reset, or closed before the answer was complete): whether
        // that happened before or after the headers, the client gets the same precise code.
        GaiaError::upstream(format!(
            "{provider}: the connection broke before the response was complete: {}",
            root_cause(err)
        ))
        .with_code("upstream_connection_lost")
    } else {
        GaiaError::upstream(format!(
            "{provider}: connection failed: {}",
            without_url(err)
        ))
        .with_code("upstream_error")
    }
}

/// Every connection the endpoint may have (`max_connections`) stayed in use for the whole connect timeout.
/// A 503 the router retries on another channel, without counting against this one's health: the
/// upstream did nothing wrong.
pub fn busy(provider: &str, cap: u32) -> GaiaError {
    GaiaError::new(
        ErrorKind::Unavailable,
        format!(
            "{provider}: all {cap} connections allowed to the upstream (max_connections) are in use"
        ),
    )
    .with_code("upstream_busy")
    .with_retry_after(1)
}

pub fn timeout(provider: &str) -> GaiaError {
    GaiaError::new(
        ErrorKind::UpstreamTimeout,
        format!("{provider} did not answer in time"),
    )
    .with_code("upstream_timeout")
}

/// A 200 whose body is not the dialect's JSON (not JSON, the wrong shape, no choices). A body that is
/// the provider's own error format keeps the provider's message (`upstream_error`). `detail` is clipped:
/// serde quotes offending values, which can be large.
pub fn bad_response(
    provider: &str,
    kind: ProviderKind,
    content_type: Option<&str>,
    body: &[u8],
    detail: &str,
) -> GaiaError {
    if let Some(message) = provider_message(kind, body) {
        return GaiaError::upstream(format!("{provider}: {message}")).with_code("upstream_error");
    }
    let message = match content_type {
        Some(ct) if !is_json(ct) => {
            format!(
                "{provider} answered with '{}' instead of JSON",
                clip(ct, 100)
            )
        }
        _ => format!(
            "{provider} sent a response GaiaRouter cannot read: {}",
            clip(without_dialect_prefix(detail), 200)
        ),
    };
    GaiaError::upstream(message).with_code("upstream_bad_response")
}

/// "OpenAI returned a malformed response: EOF while parsing…" → "EOF while parsing…" (the caller names
/// the provider, which for a compatible server is not OpenAI).
pub(crate) fn without_dialect_prefix(detail: &str) -> &str {
    detail
        .split_once("returned a malformed ")
        .and_then(|(_, rest)| rest.split_once(": "))
        .map_or(detail, |(_, d)| d)
}

/// A stream request answered with something that is not an event stream (an HTML page, a JSON body).
pub fn not_a_stream(
    provider: &str,
    kind: ProviderKind,
    content_type: &str,
    body: &[u8],
) -> GaiaError {
    match provider_message(kind, body) {
        Some(message) => {
            GaiaError::upstream(format!("{provider}: {message}")).with_code("upstream_error")
        }
        None => GaiaError::upstream(format!(
            "{provider} answered a stream request with '{}' instead of an event stream",
            clip(content_type, 100)
        ))
        .with_code("upstream_bad_response"),
    }
}

/// A non-streaming body over the bound.
pub fn too_large(provider: &str, limit: usize) -> GaiaError {
    GaiaError::upstream(format!(
        "{provider} sent a response larger than {} (upstream.max_response_bytes)",
        human_bytes(limit)
    ))
    .with_code("upstream_response_too_large")
}

/// Replaces every occurrence of the provider key in an error's message.
pub fn redact(mut err: GaiaError, key: Option<&str>) -> GaiaError {
    if let Some(key) = key.filter(|k| k.len() >= 4)
        && err.message.contains(key)
    {
        err.message = err.message.replace(key, "<redacted>");
    }
    err
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json") || essence == "text/json"
}

/// `s` cut to at most `max` bytes on a character boundary, with an ellipsis when cut.
pub(crate) fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

pub(crate) fn human_bytes(n: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else {
        format!("{n} bytes")
    }
}

/// The innermost cause ("Connection reset by peer (os error 104)"); reqwest's own text when it has none.
fn root_cause(err: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = err;
    while let Some(source) = cause.source() {
        cause = source;
    }
    if std::ptr::addr_eq(cause, err as &dyn std::error::Error) {
        without_url(err)
    } else {
        cause.to_string()
    }
}

/// reqwest errors print the URL, which may carry a key in its query (Gemini's `?key=`); drop it.
fn without_url(err: &reqwest::Error) -> String {
    let mut s = err.to_string();
    if let Some(url) = err.url() {
        s = s.replace(url.as_str(), "<upstream>");
    }
    s
}

/// What a failed attempt on one target means for the rest of a route, given nothing reached the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// A transient failure (connect, timeout, 429, 5xx): try this target again (bounded), then the next.
    Retry,
    /// This target cannot serve (its credential was refused: 401/403; the upstream does not know the
    /// model: 404) but another may: the next target, without retrying this one.
    NextTarget,
    /// The request itself is at fault (400, 413, …): no target will take it.
    Stop,
}

/// How the router goes on after `err` from one target.
pub fn after_failure(err: &GaiaError) -> AfterFailure {
    if err.code() == "upstream_auth_error" || err.kind == ErrorKind::NotFound {
        AfterFailure::NextTarget
    } else if is_retryable(err) {
        AfterFailure::Retry
    } else {
        AfterFailure::Stop
    }
}

/// Whether trying the same target again may succeed, given nothing reached the client yet.
pub fn is_retryable(err: &GaiaError) -> bool {
    matches!(
        err.kind,
        ErrorKind::RateLimited
            | ErrorKind::Upstream
            | ErrorKind::UpstreamTimeout
            | ErrorKind::Unavailable
    ) && err.code() != "upstream_auth_error"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_credential_or_unknown_model_moves_on_and_a_bad_request_stops() {
        let of =
            |status| after_failure(&from_status("p", ProviderKind::OpenAi, status, None, b"{}"));
        assert_eq!(of(401), AfterFailure::NextTarget);
        assert_eq!(of(403), AfterFailure::NextTarget);
        assert_eq!(of(404), AfterFailure::NextTarget);
        assert_eq!(of(429), AfterFailure::Retry);
        assert_eq!(of(500), AfterFailure::Retry);
        assert_eq!(of(529), AfterFailure::Retry);
        assert_eq!(of(400), AfterFailure::Stop);
        assert_eq!(of(422), AfterFailure::Stop);
        assert_eq!(of(413), AfterFailure::Stop);
    }

    #[test]
    fn statuses_map_as_documented() {
        let body = br#"{"error":{"message":"bad thing","type":"invalid_request_error"}}"#;
        let e = from_status("openai", ProviderKind::OpenAi, 400, None, body);
        assert_eq!(e.status(), 400);
        assert!(e.message.contains("bad thing"));
        assert_eq!(
            from_status("openai", ProviderKind::OpenAi, 401, None, body).status(),
            502
        );
        assert_eq!(
            from_status("openai", ProviderKind::OpenAi, 403, None, body).status(),
            502
        );
        let e = from_status("openai", ProviderKind::OpenAi, 429, Some(7), body);
        assert_eq!((e.status(), e.retry_after), (429, Some(7)));
        assert_eq!(
            from_status("openai", ProviderKind::OpenAi, 503, None, b"").status(),
            502
        );
        assert_eq!(
            from_status("anthropic", ProviderKind::Anthropic, 529, None, b"").status(),
            502
        );
    }

    #[test]
    fn auth_failures_are_not_retried_but_overloads_are() {
        assert!(!is_retryable(&from_status(
            "x",
            ProviderKind::OpenAi,
            401,
            None,
            b""
        )));
        assert!(is_retryable(&from_status(
            "x",
            ProviderKind::OpenAi,
            500,
            None,
            b""
        )));
        assert!(is_retryable(&from_status(
            "x",
            ProviderKind::OpenAi,
            429,
            None,
            b""
        )));
        assert!(!is_retryable(&from_status(
            "x",
            ProviderKind::OpenAi,
            400,
            None,
            b""
        )));
    }

    #[test]
    fn retry_after_accepts_seconds() {
        assert_eq!(parse_retry_after(Some("12")), Some(12));
        assert_eq!(parse_retry_after(Some("1.5")), Some(2));
        assert_eq!(
            parse_retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            None
        );
        assert_eq!(parse_retry_after(None), None);
    }
}
