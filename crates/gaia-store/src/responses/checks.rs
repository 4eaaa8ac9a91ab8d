//! What a stored response must be for every backend to hold it whole and read it back: fields within their
//! columns, JSON documents within [`MAX_JSON_BYTES`] and [`MAX_JSON_DEPTH`], and on MySQL a row within the
//! server's `max_allowed_packet`. A response that is not is refused with [`StoreError::TooLarge`] before
//! anything is written — never cut, and never left to a backend to refuse (or, on MySQL, to drop the
//! connection over).

use serde_json::Value;

use super::{ID_CHARS, StoredResponse};
use crate::StoreError;

/// The largest `input_items` or `output` stored, in bytes of JSON text: 16 MiB. Every backend's column
/// holds it (MySQL `LONGTEXT`; PostgreSQL `text`, up to 1 GB; SQLite, up to 10⁹ bytes). On MySQL the row
/// must also fit the server's `max_allowed_packet` (checked on insert: MySQL refuses a larger statement
/// and drops the connection).
pub const MAX_JSON_BYTES: usize = 16 * 1024 * 1024;

/// The deepest nesting of arrays and objects stored: serde_json reads no deeper (its recursion limit), so a
/// deeper document could be written but never read back.
pub const MAX_JSON_DEPTH: usize = 127;

/// Widths of the other columns (migration 18), in characters.
const ORGANIZATION_ID_CHARS: usize = 36;
const API_KEY_ID_CHARS: usize = 36;
const MODEL_CHARS: usize = 256;
const STATUS_CHARS: usize = 32;

/// Room left in a MySQL packet for everything but the two documents: the statement, the other columns and
/// the protocol's framing (or, reading, the row's other columns).
const MYSQL_ROW_OVERHEAD: usize = 64 * 1024;

fn too_large(message: String) -> StoreError {
    StoreError::TooLarge(message)
}

fn check_width(field: &str, value: &str, max_chars: usize) -> Result<(), StoreError> {
    let chars = value.chars().count();
    if chars > max_chars {
        return Err(too_large(format!(
            "a stored response's {field} has {chars} characters; at most {max_chars} can be stored"
        )));
    }
    Ok(())
}

/// The nesting depth of `value`: 0 for a scalar, 1 for a flat array or object. Iterative, so a value of
/// any depth is measured without recursion.
pub(super) fn depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut pending = vec![(value, 1)];
    while let Some((value, level)) = pending.pop() {
        match value {
            Value::Array(items) => {
                deepest = deepest.max(level);
                pending.extend(items.iter().map(|v| (v, level + 1)));
            }
            Value::Object(fields) => {
                deepest = deepest.max(level);
                pending.extend(fields.values().map(|v| (v, level + 1)));
            }
            _ => {}
        }
    }
    deepest
}

fn document(field: &str, value: &Value) -> Result<String, StoreError> {
    let levels = depth(value);
    if levels > MAX_JSON_DEPTH {
        return Err(too_large(format!(
            "a stored response's {field} is nested {levels} levels deep; at most {MAX_JSON_DEPTH} can be stored"
        )));
    }
    let text = serde_json::to_string(value)
        .map_err(|e| too_large(format!("a stored response's {field} is not storable: {e}")))?;
    if text.len() > MAX_JSON_BYTES {
        return Err(too_large(format!(
            "a stored response's {field} is {} bytes of JSON; at most {MAX_JSON_BYTES} can be stored",
            text.len()
        )));
    }
    Ok(text)
}

/// `response`'s `input_items` and `output` as JSON text, once every field is checked.
pub(super) fn storable(response: &StoredResponse) -> Result<(String, String), StoreError> {
    check_width("id", &response.id, ID_CHARS)?;
    if let Some(org) = &response.organization_id {
        check_width("organization_id", org.as_str(), ORGANIZATION_ID_CHARS)?;
    }
    if let Some(key) = &response.api_key_id {
        check_width("api_key_id", key.as_str(), API_KEY_ID_CHARS)?;
    }
    check_width("model", &response.model, MODEL_CHARS)?;
    if let Some(previous) = &response.previous_response_id {
        check_width("previous_response_id", previous, ID_CHARS)?;
    }
    check_width("status", &response.status, STATUS_CHARS)?;
    Ok((
        document("input_items", &response.input_items)?,
        document("output", &response.output)?,
    ))
}

/// MySQL and MariaDB refuse a statement — and send no row — larger than `max_allowed_packet` (16 MiB by
/// default on MariaDB, 64 MiB on MySQL 8), and they close the connection when it happens. A row whose two
/// documents come to `documents` bytes is refused here instead, with the setting named.
pub(super) fn fits_mysql_packet(documents: usize, max_packet: u64) -> Result<(), StoreError> {
    let needed = documents.saturating_add(MYSQL_ROW_OVERHEAD);
    if u64::try_from(needed).map_or(true, |n| n > max_packet) {
        return Err(too_large(format!(
            "a stored response's input items and output are {documents} bytes of JSON together; this MySQL \
             server takes rows of at most {} bytes of them (max_allowed_packet = {max_packet})",
            max_packet.saturating_sub(MYSQL_ROW_OVERHEAD as u64)
        )));
    }
    Ok(())
}
