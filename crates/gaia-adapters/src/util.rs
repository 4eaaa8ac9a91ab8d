//! Small helpers shared by the dialect modules.

use std::borrow::Cow;
use std::fmt::Write as _;

use gaia_core::{ContentPart, GaiaError, Message, ToolCall};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A 400 about one request parameter.
pub(crate) fn invalid(param: impl Into<String>, message: impl Into<String>) -> GaiaError {
    GaiaError::invalid_request(message).with_param(param)
}

/// A 502 for an upstream body we cannot read.
pub(crate) fn malformed(dialect: &str, what: &str, err: impl std::fmt::Display) -> GaiaError {
    GaiaError::upstream(format!("{dialect} returned a malformed {what}: {err}"))
}

/// Whether `url` starts with `http://` or `https://` (in any case).
pub(crate) fn is_http_url(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// The JSON type name, for error messages.
pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The arguments of `messages[i].tool_calls[k]` as the JSON object Anthropic and Gemini want (blank
/// arguments mean "no arguments"); anything but an object is a 400 naming the call.
pub(crate) fn call_arguments(call: &ToolCall, i: usize, k: usize) -> Result<Value, GaiaError> {
    let object = if call.arguments.trim().is_empty() {
        Some(Value::Object(serde_json::Map::new()))
    } else {
        serde_json::from_str::<Value>(&call.arguments)
            .ok()
            .filter(Value::is_object)
    };
    object.ok_or_else(|| {
        invalid(
            format!("messages[{i}].tool_calls[{k}].function.arguments"),
            format!(
                "the arguments of tool call '{}' must be a JSON object",
                call.id
            ),
        )
    })
}

/// A request message's text as one string: borrowed when it is one text part (the usual case), else its
/// text parts joined by newlines — they are separate blocks (system blocks, a tool result's blocks), which
/// glued together would merge the last word of one with the first of the next.
pub(crate) fn text_of(message: &Message) -> Cow<'_, str> {
    let mut texts = message.content.iter().filter_map(|part| match part {
        ContentPart::Text(text) => Some(text.as_str()),
        _ => None,
    });
    let Some(first) = texts.next() else {
        return Cow::Borrowed("");
    };
    match texts.next() {
        None => Cow::Borrowed(first),
        Some(second) => {
            let mut joined = format!("{first}\n{second}");
            for text in texts {
                joined.push('\n');
                joined.push_str(text);
            }
            Cow::Owned(joined)
        }
    }
}

/// Deserializes `null` as the type's default, so wire structs can use plain `Vec`s for arrays that
/// providers sometimes send as `null`.
pub(crate) fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Appends `s` as a JSON string literal (quotes included), without an intermediate allocation.
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let mut start = 0;
    for (i, byte) in s.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        // `i` is at an ASCII byte, hence a char boundary.
        out.push_str(s.get(start..i).unwrap_or_default());
        if escape.is_empty() {
            let _ = write!(out, "\\u{byte:04x}");
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(s.get(start..).unwrap_or_default());
    out.push('"');
}

/// Reads a `cache_control` object (`{"type":"ephemeral","ttl":"5m"|"1h"}`), naming `path` when it is not
/// one.
pub(crate) fn parse_cache_control(
    value: Value,
    path: &str,
) -> Result<gaia_core::CacheControl, GaiaError> {
    let Value::Object(obj) = value else {
        return Err(invalid(
            path,
            format!("`{path}` must be an object, not {}", json_type(&value)),
        ));
    };
    match obj.get("type") {
        Some(Value::String(kind)) if kind == "ephemeral" => {}
        _ => {
            return Err(invalid(
                format!("{path}.type"),
                "the only cache_control type is 'ephemeral'",
            ));
        }
    }
    let ttl = match obj.get("ttl") {
        None | Some(Value::Null) => None,
        Some(Value::String(ttl)) if ttl == "5m" || ttl == "1h" => Some(ttl.clone()),
        Some(_) => {
            return Err(invalid(format!("{path}.ttl"), "`ttl` must be '5m' or '1h'"));
        }
    };
    Ok(gaia_core::CacheControl { ttl })
}

/// `{"type":"ephemeral"[,"ttl":…]}`: a cache breakpoint as Anthropic and OpenRouter write it.
pub(crate) struct CacheControlWire<'a>(pub &'a gaia_core::CacheControl);

impl serde::Serialize for CacheControlWire<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("type", "ephemeral")?;
        if let Some(ttl) = &self.0.ttl {
            map.serialize_entry("ttl", ttl)?;
        }
        map.end()
    }
}

/// Serialises `items` as a JSON array, each element through `view` (a borrowed wire view of it), so the
/// upstream encoders need no wrapper type per list.
pub(crate) struct SeqOf<'a, T, F>(pub &'a [T], pub F);

impl<'a, T, F, V> serde::Serialize for SeqOf<'a, T, F>
where
    F: Fn(&'a T) -> V,
    V: serde::Serialize,
{
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            seq.serialize_element(&(self.1)(item))?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_arguments_are_a_json_object_or_a_400_naming_the_call() {
        let call = |arguments: &str| ToolCall {
            id: "call_1".into(),
            name: "f".into(),
            arguments: arguments.into(),
        };
        assert_eq!(
            call_arguments(&call(" "), 0, 0).unwrap(),
            serde_json::json!({})
        );
        assert_eq!(
            call_arguments(&call(r#"{"a":1}"#), 0, 0).unwrap(),
            serde_json::json!({"a": 1})
        );
        for bad in ["[1]", "not json", "3"] {
            let err = call_arguments(&call(bad), 2, 1).unwrap_err();
            assert_eq!(
                err.param.as_deref(),
                Some("messages[2].tool_calls[1].function.arguments"),
                "{bad}"
            );
        }
    }

    #[test]
    fn json_strings_are_escaped_like_serde_json_does() {
        for s in [
            "",
            "plain",
            "quote \" and backslash \\",
            "lines\nand\r\ttabs",
            "\u{0}\u{1}\u{1f}\u{8}\u{c}",
            "unicode é 世界 🎉 \u{2028}",
        ] {
            let mut out = String::new();
            push_json_str(&mut out, s);
            assert_eq!(out, serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }
}
