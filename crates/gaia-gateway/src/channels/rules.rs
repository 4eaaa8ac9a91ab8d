//! What a stored channel's fields must be, each refusal a 400 naming its field (or the 409/422 the rule is).

use std::collections::BTreeMap;

use gaia_core::GaiaError;

/// Most models a channel may list, and entries in its model map.
const MAX_MODELS: usize = 1000;
/// Longest upstream credential accepted.
const MAX_KEY_LEN: usize = 4096;

pub(super) fn bad(param: &str, message: impl Into<String>) -> GaiaError {
    GaiaError::invalid_request(message).with_param(param)
}

pub(super) fn no_secret_key() -> GaiaError {
    GaiaError::unprocessable(
        "channel credentials are sealed with GAIA_SECRET_KEY, which is not set on this instance (32 random bytes, e.g. `openssl rand -base64 32`, the same on every instance)",
    )
    .with_param("api_key")
    .with_code("secret_key_required")
}

/// A name: 1–64 of letters, digits, `-`, `_`, `.`; `default` is the provider's own endpoint (409).
pub(super) fn check_name(name: &str) -> Result<(), GaiaError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !ok {
        return Err(bad(
            "name",
            "`name` must be 1 to 64 letters, digits, '-', '_' or '.'",
        ));
    }
    if name == "default" {
        // Well-formed, but taken: the provider's own endpoint is its channel `default`.
        return Err(GaiaError::conflict(
            "`default` is the name of the provider's own endpoint; choose another",
        )
        .with_param("name"));
    }
    Ok(())
}

pub(super) fn check_base_url(url: &str) -> Result<(), GaiaError> {
    let parsed = reqwest_url(url);
    match parsed {
        Some(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {}
        _ => {
            return Err(bad(
                "base_url",
                "`base_url` must be an http:// or https:// URL",
            ));
        }
    }
    if url.len() > 2048 {
        return Err(bad("base_url", "`base_url` is longer than 2048 characters"));
    }
    Ok(())
}

pub(super) fn reqwest_url(url: &str) -> Option<url::Url> {
    url::Url::parse(url.trim()).ok()
}

pub(super) fn check_key(key: &str) -> Result<(), GaiaError> {
    if key.is_empty()
        || key.chars().count() > MAX_KEY_LEN
        || key.chars().any(|c| c.is_control() || c == ' ')
    {
        return Err(bad(
            "api_key",
            format!(
                "`api_key` must be 1 to {MAX_KEY_LEN} printable characters without spaces (send null to remove it)"
            ),
        ));
    }
    Ok(())
}

pub(super) fn check_range(
    param: &str,
    v: Option<i64>,
    min: i64,
    max: i64,
) -> Result<(), GaiaError> {
    if v.is_some_and(|v| !(min..=max).contains(&v)) {
        return Err(bad(param, format!("`{param}` must be from {min} to {max}")));
    }
    Ok(())
}

pub(super) fn model_name_ok(n: &str) -> bool {
    !n.is_empty() && n.chars().count() <= 256 && !n.chars().any(char::is_control)
}

pub(super) fn check_models(models: Option<&Vec<String>>) -> Result<(), GaiaError> {
    if let Some(m) = models {
        if m.len() > MAX_MODELS {
            return Err(bad(
                "models",
                format!("at most {MAX_MODELS} models per channel"),
            ));
        }
        if !m.iter().all(|n| model_name_ok(n)) {
            return Err(bad(
                "models",
                "`models` holds upstream model names: 1 to 256 printable characters each",
            ));
        }
    }
    Ok(())
}

pub(super) fn check_model_map(map: Option<&BTreeMap<String, String>>) -> Result<(), GaiaError> {
    if let Some(m) = map {
        if m.len() > MAX_MODELS {
            return Err(bad(
                "model_map",
                format!("at most {MAX_MODELS} entries in `model_map`"),
            ));
        }
        // A key that is no model name simply never matches; the name sent upstream must be one.
        if !m.values().all(|v| model_name_ok(v)) {
            return Err(bad(
                "model_map",
                "`model_map` maps upstream model names to names of 1 to 256 printable characters",
            ));
        }
    }
    Ok(())
}

pub(super) fn check_short(param: &str, v: Option<&str>, max: usize) -> Result<(), GaiaError> {
    if v.is_some_and(|v| v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control))
    {
        return Err(bad(
            param,
            format!("`{param}` must be 1 to {max} printable characters (or null)"),
        ));
    }
    Ok(())
}

/// The reason kept for a disabled channel fits its column.
pub(super) fn clip(reason: &str) -> String {
    reason.chars().take(500).collect()
}
