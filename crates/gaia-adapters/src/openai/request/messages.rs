//! `messages`: roles, content parts (text, refusals, images) and the reasoning and tool calls of assistant
//! turns.

use gaia_core::{ContentPart, GaiaError, Message, Role, ToolCall, parse_data_url};
use serde_json::{Map, Value};

use super::reasoning::parse_reasoning;
use super::tools::take_function;
use crate::fields::{
    expect_array, expect_object, missing, opt_string_at, required_string, take, type_error,
};
use crate::util::{invalid, is_http_url, parse_cache_control};

pub(super) fn parse_messages(value: Option<Value>) -> Result<Vec<Message>, GaiaError> {
    let Some(value) = value else {
        return Err(missing("messages"));
    };
    let items = expect_array(value, "messages")?;
    if items.is_empty() {
        return Err(invalid(
            "messages",
            "`messages` must contain at least one message",
        ));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| parse_message(item, i))
        .collect()
}

/// The path of a field of `messages[i]`. Parameter paths are formatted only where needed (mostly for an
/// error): this runs for every message of every request.
fn at(i: usize, field: &str) -> String {
    format!("messages[{i}].{field}")
}

/// `messages[i]`.
fn parse_message(value: Value, i: usize) -> Result<Message, GaiaError> {
    let mut obj = match value {
        Value::Object(obj) => obj,
        other => return Err(type_error(&format!("messages[{i}]"), "an object", &other)),
    };
    let role = parse_role(take(&mut obj, "role"), i)?;
    let mut content = parse_message_content(take(&mut obj, "content"), role, i)?;
    // Reasoning the client sends back goes before the turn's text; on other roles it is not read.
    if role == Role::Assistant {
        content.splice(0..0, parse_reasoning(&mut obj, i)?);
    }
    let tool_calls = match take(&mut obj, "tool_calls") {
        Some(value) => parse_tool_calls(value, &at(i, "tool_calls"))?,
        None => Vec::new(),
    };
    if !tool_calls.is_empty() && role != Role::Assistant {
        return Err(invalid(
            at(i, "tool_calls"),
            "`tool_calls` is only allowed on assistant messages",
        ));
    }
    let tool_call_id = if role == Role::Tool {
        Some(required_string(
            &mut obj,
            "tool_call_id",
            &at(i, "tool_call_id"),
        )?)
    } else {
        None
    };
    let name = match take(&mut obj, "name") {
        None => None,
        Some(Value::String(name)) => Some(name),
        Some(other) => return Err(type_error(&at(i, "name"), "a string", &other)),
    };
    Ok(Message {
        role,
        content,
        name,
        tool_calls,
        tool_call_id,
        tool_error: false,
    })
}

/// `messages[i].role`.
fn parse_role(value: Option<Value>, i: usize) -> Result<Role, GaiaError> {
    let role = match value {
        Some(Value::String(role)) => role,
        Some(other) => return Err(type_error(&at(i, "role"), "a string", &other)),
        None => return Err(missing(at(i, "role"))),
    };
    match role.as_str() {
        "system" => Ok(Role::System),
        "developer" => Ok(Role::Developer),
        "user" => Ok(Role::User),
        "assistant" => Ok(Role::Assistant),
        "tool" => Ok(Role::Tool),
        other => Err(invalid(
            at(i, "role"),
            format!(
                "unknown role '{other}'; expected one of system, developer, user, assistant, tool"
            ),
        )),
    }
}

/// `messages[i].content`: required except on assistant turns (which may only call tools).
fn parse_message_content(
    value: Option<Value>,
    role: Role,
    i: usize,
) -> Result<Vec<ContentPart>, GaiaError> {
    match (value, role) {
        (Some(Value::String(text)), _) => Ok(vec![ContentPart::Text(text)]),
        (Some(content), _) => parse_content(content, role, &at(i, "content")),
        (None, Role::Assistant) => Ok(Vec::new()),
        (None, _) => Err(invalid(
            at(i, "content"),
            format!(
                "`{}` is required for {} messages",
                at(i, "content"),
                role.as_str()
            ),
        )),
    }
}

fn parse_content(value: Value, role: Role, path: &str) -> Result<Vec<ContentPart>, GaiaError> {
    let parts = match value {
        Value::String(text) => return Ok(vec![ContentPart::Text(text)]),
        Value::Array(parts) => parts,
        other => {
            return Err(type_error(
                path,
                "a string or an array of content parts",
                &other,
            ));
        }
    };
    let mut out = Vec::with_capacity(parts.len());
    for (j, part) in parts.into_iter().enumerate() {
        let path = format!("{path}[{j}]");
        let mut obj = expect_object(part, &path)?;
        // OpenRouter's prompt-caching marker on a content part (specs/messages.md, M-17).
        let cache = match take(&mut obj, "cache_control") {
            Some(value) => Some(parse_cache_control(
                value,
                &format!("{path}.cache_control"),
            )?),
            None => None,
        };
        out.push(parse_part(obj, role, &path)?);
        out.extend(cache.map(ContentPart::CacheBreakpoint));
    }
    Ok(out)
}

fn parse_part(
    mut obj: Map<String, Value>,
    role: Role,
    path: &str,
) -> Result<ContentPart, GaiaError> {
    let kind = required_string(&mut obj, "type", &format!("{path}.type"))?;
    match (kind.as_str(), role) {
        ("text", _) => Ok(ContentPart::Text(required_string(
            &mut obj,
            "text",
            &format!("{path}.text"),
        )?)),
        // A refusal the assistant gave earlier is, for the model, just what it said.
        ("refusal", Role::Assistant) => Ok(ContentPart::Text(required_string(
            &mut obj,
            "refusal",
            &format!("{path}.refusal"),
        )?)),
        ("image_url", Role::User) => parse_image(&mut obj, path),
        ("image_url", _) => Err(invalid(
            format!("{path}.type"),
            format!(
                "image content is only allowed in user messages, not {} messages",
                role.as_str()
            ),
        )),
        (other, _) => Err(invalid(
            format!("{path}.type"),
            format!("content part type '{other}' is not supported"),
        )),
    }
}

fn parse_image(obj: &mut Map<String, Value>, path: &str) -> Result<ContentPart, GaiaError> {
    let image_param = format!("{path}.image_url");
    let url_param = format!("{image_param}.url");
    let (url, detail) = match take(obj, "image_url") {
        // Early clients sent the URL directly as a string.
        Some(Value::String(url)) => (url, None),
        Some(Value::Object(mut image)) => (
            required_string(&mut image, "url", &url_param)?,
            opt_string_at(&mut image, "detail", &format!("{image_param}.detail"))?,
        ),
        Some(other) => return Err(type_error(&image_param, "an object", &other)),
        None => {
            return Err(invalid(
                image_param,
                "missing required parameter `image_url`",
            ));
        }
    };
    if !is_http_url(&url) && parse_data_url(&url).is_none() {
        return Err(invalid(
            url_param,
            "image URLs must be http(s) URLs or base64 data URLs (data:<mime>;base64,<data>)",
        ));
    }
    Ok(ContentPart::Image { url, detail })
}

fn parse_tool_calls(value: Value, path: &str) -> Result<Vec<ToolCall>, GaiaError> {
    expect_array(value, path)?
        .into_iter()
        .enumerate()
        .map(|(k, call)| parse_tool_call(call, &format!("{path}[{k}]")))
        .collect()
}

/// One call of an assistant turn, at `path` (`messages[i].tool_calls[k]`).
fn parse_tool_call(value: Value, path: &str) -> Result<ToolCall, GaiaError> {
    let mut obj = expect_object(value, path)?;
    let (mut function, function_path) = take_function(&mut obj, path)?;
    let arguments = match take(&mut function, "arguments") {
        Some(Value::String(arguments)) => arguments,
        // Lenient: some clients send the arguments as an object rather than its JSON text.
        Some(object @ Value::Object(_)) => object.to_string(),
        Some(other) => {
            return Err(type_error(
                &format!("{function_path}.arguments"),
                "a string",
                &other,
            ));
        }
        None => "{}".to_owned(),
    };
    Ok(ToolCall {
        id: required_string(&mut obj, "id", &format!("{path}.id"))?,
        name: required_string(&mut function, "name", &format!("{function_path}.name"))?,
        arguments,
    })
}
