//! Readers for one field of a JSON object: each takes the field out, checks its type (and range), and
//! names the parameter in its error (OpenAI and Anthropic request parsers share them).

use gaia_core::GaiaError;
use serde_json::{Map, Value};

use crate::util::{invalid, json_type};

/// Removes a field, treating `null` as absent (OpenAI does the same).
pub(crate) fn take(obj: &mut Map<String, Value>, key: &str) -> Option<Value> {
    obj.remove(key).filter(|value| !value.is_null())
}

pub(crate) fn type_error(param: &str, expected: &str, got: &Value) -> GaiaError {
    invalid(
        param,
        format!("`{param}` must be {expected}, not {}", json_type(got)),
    )
}

/// The error for a required parameter that is absent.
pub(crate) fn missing(param: impl Into<String>) -> GaiaError {
    let param = param.into();
    let message = format!("missing required parameter `{param}`");
    invalid(param, message)
}

/// OpenAI's limit on function names (`^[a-zA-Z0-9_-]{1,64}$`).
const MAX_FUNCTION_NAME: usize = 64;

/// A function name as OpenAI accepts it (Chat Completions and Responses): 1 to 64 characters of
/// letters, digits, `_` and `-`.
pub(crate) fn check_function_name(name: &str, param: &str) -> Result<(), GaiaError> {
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if name.is_empty() || name.len() > MAX_FUNCTION_NAME || !valid_chars {
        return Err(invalid(
            param,
            format!(
                "function name '{name}' must be 1 to {MAX_FUNCTION_NAME} characters of a-z, A-Z, 0-9, '_' or '-'"
            ),
        ));
    }
    Ok(())
}

pub(crate) fn check_max(param: &str, value: u64, max: u64) -> Result<(), GaiaError> {
    if value > max {
        return Err(invalid(
            param,
            format!("`{param}` must be at most {max}, got {value}"),
        ));
    }
    Ok(())
}

pub(crate) fn opt_f64(
    obj: &mut Map<String, Value>,
    key: &str,
    min: f64,
    max: f64,
) -> Result<Option<f64>, GaiaError> {
    let Some(value) = take(obj, key) else {
        return Ok(None);
    };
    let Some(number) = value.as_f64() else {
        return Err(type_error(key, "a number", &value));
    };
    if !(min..=max).contains(&number) {
        return Err(invalid(
            key,
            format!("`{key}` must be between {min} and {max}, got {number}"),
        ));
    }
    Ok(Some(number))
}

/// The value of an integer as JSON Schema defines one — any number without a fractional part, so `14.0`
/// and `1.4e1` are 14 as much as `14` is (generated clients, JavaScript above all, send them) — or `None`
/// for anything else (a fraction, a string). Integers written as such are exact up to ±2⁶⁴; a float is
/// taken only up to ±2⁵³, where every integer has its own float (beyond, `-9223372036854775809` would read
/// as `i64::MIN`).
pub(crate) fn integral(value: &Value) -> Option<i128> {
    let Value::Number(number) = value else {
        return None;
    };
    if let Some(n) = number.as_i64() {
        return Some(i128::from(n));
    }
    if let Some(n) = number.as_u64() {
        return Some(i128::from(n));
    }
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    number
        .as_f64()
        .filter(|f| f.is_finite() && f.fract() == 0.0 && f.abs() <= EXACT)
        .map(|f| f as i128)
}

pub(crate) fn opt_u32(
    obj: &mut Map<String, Value>,
    key: &str,
    min: u32,
) -> Result<Option<u32>, GaiaError> {
    let Some(value) = take(obj, key) else {
        return Ok(None);
    };
    let out_of_range = || {
        invalid(
            key,
            format!("`{key}` must be an integer between {min} and {}", u32::MAX),
        )
    };
    match integral(&value) {
        Some(n) => u32::try_from(n)
            .ok()
            .filter(|n| *n >= min)
            .map(Some)
            .ok_or_else(out_of_range),
        None => Err(type_error(key, "an integer", &value)),
    }
}

pub(crate) fn opt_i64(obj: &mut Map<String, Value>, key: &str) -> Result<Option<i64>, GaiaError> {
    let Some(value) = take(obj, key) else {
        return Ok(None);
    };
    match integral(&value) {
        Some(n) => i64::try_from(n)
            .map(Some)
            .map_err(|_| invalid(key, format!("`{key}` is out of range"))),
        None if value.is_u64() => Err(invalid(key, format!("`{key}` is out of range"))),
        None => Err(type_error(key, "an integer", &value)),
    }
}

pub(crate) fn opt_bool(obj: &mut Map<String, Value>, key: &str) -> Result<Option<bool>, GaiaError> {
    opt_bool_at(obj, key, key)
}

/// Like [`opt_bool`], reporting `param` (a full path) in errors.
pub(crate) fn opt_bool_at(
    obj: &mut Map<String, Value>,
    key: &str,
    param: &str,
) -> Result<Option<bool>, GaiaError> {
    match take(obj, key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(other) => Err(type_error(param, "a boolean", &other)),
    }
}

pub(crate) fn opt_string(
    obj: &mut Map<String, Value>,
    key: &str,
) -> Result<Option<String>, GaiaError> {
    opt_string_at(obj, key, key)
}

/// Like [`opt_string`], reporting `param` (a full path) in errors.
pub(crate) fn opt_string_at(
    obj: &mut Map<String, Value>,
    key: &str,
    param: &str,
) -> Result<Option<String>, GaiaError> {
    match take(obj, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(type_error(param, "a string", &other)),
    }
}

pub(crate) fn required_string(
    obj: &mut Map<String, Value>,
    key: &str,
    param: &str,
) -> Result<String, GaiaError> {
    opt_string_at(obj, key, param)?.ok_or_else(|| missing(param))
}

/// A JSON Schema field (`parameters`, `schema`): any object, kept as it is.
pub(crate) fn opt_schema(
    obj: &mut Map<String, Value>,
    key: &str,
    param: &str,
) -> Result<Option<Value>, GaiaError> {
    match take(obj, key) {
        Some(schema @ Value::Object(_)) => Ok(Some(schema)),
        Some(other) => Err(type_error(param, "an object", &other)),
        None => Ok(None),
    }
}

pub(crate) fn required_object(
    obj: &mut Map<String, Value>,
    key: &str,
    param: &str,
) -> Result<Map<String, Value>, GaiaError> {
    match take(obj, key) {
        Some(value) => expect_object(value, param),
        None => Err(missing(param)),
    }
}

pub(crate) fn expect_object(value: Value, param: &str) -> Result<Map<String, Value>, GaiaError> {
    match value {
        Value::Object(obj) => Ok(obj),
        other => Err(type_error(param, "an object", &other)),
    }
}

pub(crate) fn expect_array(value: Value, param: &str) -> Result<Vec<Value>, GaiaError> {
    match value {
        Value::Array(items) => Ok(items),
        other => Err(type_error(param, "an array", &other)),
    }
}

/// A request body as a JSON object, or the 400 every client-facing parser answers.
pub(crate) fn body_object(body: &[u8]) -> Result<Map<String, Value>, GaiaError> {
    let value: Value = serde_json::from_slice(body).map_err(|err| {
        GaiaError::invalid_request(format!("the request body is not valid JSON: {err}"))
    })?;
    match value {
        Value::Object(obj) => Ok(obj),
        other => Err(GaiaError::invalid_request(format!(
            "the request body must be a JSON object, not {}",
            json_type(&other)
        ))),
    }
}
