//! An assistant turn's reasoning sent back by the client: OpenRouter's `reasoning_details` (blocks with
//! their signatures and encrypted reasoning, see `openai/reasoning.rs`) and the plain
//! `reasoning_content` text (DeepSeek's name; OpenRouter's `reasoning` is taken too).

use gaia_core::{ContentPart, GaiaError};
use serde_json::{Map, Value};

use crate::fields::{expect_array, expect_object, missing, required_string, take, type_error};
use crate::openai::reasoning::{Detail, message_parts};

/// The reasoning parts of assistant message `messages[i]`, in order, to go before its text.
pub(super) fn parse_reasoning(
    obj: &mut Map<String, Value>,
    i: usize,
) -> Result<Vec<ContentPart>, GaiaError> {
    let details = match take(obj, "reasoning_details") {
        Some(value) => parse_details(value, &format!("messages[{i}].reasoning_details"))?,
        None => Vec::new(),
    };
    Ok(message_parts(details, reasoning_text(obj, i)?))
}

/// `reasoning_content`, or else `reasoning`: a string.
fn reasoning_text(obj: &mut Map<String, Value>, i: usize) -> Result<Option<String>, GaiaError> {
    for key in ["reasoning_content", "reasoning"] {
        match take(obj, key) {
            None => {}
            Some(Value::String(text)) => return Ok(Some(text)),
            Some(other) => {
                return Err(type_error(
                    &format!("messages[{i}].{key}"),
                    "a string",
                    &other,
                ));
            }
        }
    }
    Ok(None)
}

fn parse_details(value: Value, path: &str) -> Result<Vec<Detail>, GaiaError> {
    let mut details = Vec::new();
    for (k, entry) in expect_array(value, path)?.into_iter().enumerate() {
        details.extend(parse_detail(entry, &format!("{path}[{k}]"))?);
    }
    Ok(details)
}

/// One entry at `path` (`messages[i].reasoning_details[k]`); `None` for a type this gateway does not know,
/// which is skipped rather than refused. `format` and `id` are not read.
fn parse_detail(value: Value, path: &str) -> Result<Option<Detail>, GaiaError> {
    let mut obj = expect_object(value, path)?;
    let kind = required_string(&mut obj, "type", &format!("{path}.type"))?;
    let detail = match kind.as_str() {
        // `text` is absent from an entry that only signs (as streamed).
        "reasoning.text" => Detail::Text {
            text: string(&mut obj, "text", path)?.unwrap_or_default(),
            signature: string(&mut obj, "signature", path)?.filter(|s| !s.is_empty()),
            index: index(&mut obj, path)?,
        },
        "reasoning.summary" => Detail::Text {
            text: required(&mut obj, "summary", path)?,
            signature: None,
            index: index(&mut obj, path)?,
        },
        "reasoning.encrypted" => Detail::Encrypted(required(&mut obj, "data", path)?),
        _ => return Ok(None),
    };
    Ok(Some(detail))
}

/// An optional string field of the entry at `path`.
fn string(
    obj: &mut Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<String>, GaiaError> {
    match take(obj, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(type_error(&format!("{path}.{key}"), "a string", &other)),
    }
}

fn required(obj: &mut Map<String, Value>, key: &str, path: &str) -> Result<String, GaiaError> {
    string(obj, key, path)?.ok_or_else(|| missing(format!("{path}.{key}")))
}

/// `index`: a non-negative integer (`2.0` included, as JSON Schema counts it).
fn index(obj: &mut Map<String, Value>, path: &str) -> Result<Option<u64>, GaiaError> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    let Some(value) = take(obj, "index") else {
        return Ok(None);
    };
    let integral = value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && (0.0..=EXACT).contains(f))
            .map(|f| f as u64)
    });
    match integral {
        Some(index) => Ok(Some(index)),
        None => Err(type_error(
            &format!("{path}.index"),
            "a non-negative integer",
            &value,
        )),
    }
}
