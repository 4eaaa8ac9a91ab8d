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
//! | connect error / reset            | 502                                                 |
//! | timeout                          | 504                                                 |

use gaia_adapters::{anthropic, gemini, openai};
use gaia_core::{ErrorKind, GaiaError, ProviderKind};

/// The provider's own error message from an error body, if it has one we understand.
fn provider_message(kind: ProviderKind, body: &[u8]) -> Option<String> {
    match kind {
        ProviderKind::OpenAi | ProviderKind::OpenRouter => openai::parse_error(body),
        ProviderKind::Anthropic => anthropic::parse_error(body),
        ProviderKind::Gemini => gemini::parse_error(body),
    }
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
        GaiaError::upstream(format!("could not connect to {provider}"))
            .with_code("upstream_unreachable")
    } else {
        GaiaError::upstream(format!(
            "{provider}: connection failed: {}",
            without_url(err)
        ))
        .with_code("upstream_error")
    }
}

pub fn timeout(provider: &str) -> GaiaError {
    GaiaError::new(
        ErrorKind::UpstreamTimeout,
        format!("{provider} did not answer in time"),
    )
    .with_code("upstream_timeout")
}

/// reqwest errors print the URL, which may carry a key in its query (Gemini's `?key=`); drop it.
fn without_url(err: &reqwest::Error) -> String {
    let mut s = err.to_string();
    if let Some(url) = err.url() {
        s = s.replace(url.as_str(), "<upstream>");
    }
    s
}

/// Whether trying again (same or another target) may succeed, given nothing reached the client yet.
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
