//! Inbound: an OpenAI Chat Completions request body → [`ChatRequest`], validated.
//!
//! Parsed by hand from a `serde_json::Value` rather than derived: every rejection names the exact
//! parameter (`messages[2].content[0].image_url.url`) the way OpenAI's own errors do, and fields we do not
//! model are kept in `extra` instead of being rejected or lost.

use gaia_core::{
    ChatRequest, ContentPart, GaiaError, Message, ResponseFormat, Role, Tool, ToolCall, ToolChoice,
    parse_data_url,
};
use serde_json::{Map, Value};

use crate::util::{invalid, json_type};

/// OpenAI's limit on `n`.
const MAX_N: u64 = 128;
/// OpenAI's limit on function names (`^[a-zA-Z0-9_-]{1,64}$`).
const MAX_FUNCTION_NAME: usize = 64;

/// Parses and validates an OpenAI Chat Completions request body.
///
/// Errors are 400s with `param` set; unknown top-level fields end up in [`ChatRequest::extra`].
pub fn parse_request(body: &[u8]) -> Result<ChatRequest, GaiaError> {
    let value: Value = serde_json::from_slice(body).map_err(|err| {
        GaiaError::invalid_request(format!("the request body is not valid JSON: {err}"))
    })?;
    let Value::Object(mut obj) = value else {
        return Err(GaiaError::invalid_request(format!(
            "the request body must be a JSON object, not {}",
            json_type(&value)
        )));
    };

    let model = match take(&mut obj, "model") {
        Some(Value::String(model)) if !model.trim().is_empty() => model,
        Some(Value::String(_)) | None => {
            return Err(invalid("model", "you must provide a `model` parameter"));
        }
        Some(other) => return Err(type_error("model", "a string", &other)),
    };
    let messages = parse_messages(take(&mut obj, "messages"))?;
    let tools = match take(&mut obj, "tools") {
        Some(value) => parse_tools(value)?,
        None => Vec::new(),
    };
    let tool_choice = match take(&mut obj, "tool_choice") {
        Some(value) => Some(parse_tool_choice(value, &tools)?),
        None => None,
    };
    let max_tokens = opt_u32(&mut obj, "max_tokens", 1)?;
    let max_completion_tokens = opt_u32(&mut obj, "max_completion_tokens", 1)?;
    let include_usage = parse_stream_options(take(&mut obj, "stream_options"))?;

    Ok(ChatRequest {
        model,
        messages,
        temperature: opt_f64(&mut obj, "temperature", 0.0, 2.0)?,
        top_p: opt_f64(&mut obj, "top_p", 0.0, 1.0)?,
        // The newer name wins: it is what current clients mean when they send both.
        max_tokens: max_completion_tokens.or(max_tokens),
        stop: parse_stop(take(&mut obj, "stop"))?,
        n: opt_u32(&mut obj, "n", 1)?
            .map(|n| check_max("n", u64::from(n), MAX_N).map(|()| n))
            .transpose()?,
        presence_penalty: opt_f64(&mut obj, "presence_penalty", -2.0, 2.0)?,
        frequency_penalty: opt_f64(&mut obj, "frequency_penalty", -2.0, 2.0)?,
        seed: opt_i64(&mut obj, "seed")?,
        user: opt_string(&mut obj, "user")?,
        response_format: match take(&mut obj, "response_format") {
            Some(value) => Some(parse_response_format(value)?),
            None => None,
        },
        tools,
        tool_choice,
        parallel_tool_calls: opt_bool(&mut obj, "parallel_tool_calls")?,
        stream: opt_bool(&mut obj, "stream")?.unwrap_or(false),
        include_usage,
        extra: obj,
    })
}

/// Removes a field, treating `null` as absent (OpenAI does the same).
fn take(obj: &mut Map<String, Value>, key: &str) -> Option<Value> {
    obj.remove(key).filter(|value| !value.is_null())
}

fn type_error(param: &str, expected: &str, got: &Value) -> GaiaError {
    invalid(
        param,
        format!("`{param}` must be {expected}, not {}", json_type(got)),
    )
}

fn check_max(param: &str, value: u64, max: u64) -> Result<(), GaiaError> {
    if value > max {
        return Err(invalid(
            param,
            format!("`{param}` must be at most {max}, got {value}"),
        ));
    }
    Ok(())
}

fn opt_f64(
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
fn integral(value: &Value) -> Option<i128> {
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

fn opt_u32(obj: &mut Map<String, Value>, key: &str, min: u32) -> Result<Option<u32>, GaiaError> {
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

fn opt_i64(obj: &mut Map<String, Value>, key: &str) -> Result<Option<i64>, GaiaError> {
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

fn opt_bool(obj: &mut Map<String, Value>, key: &str) -> Result<Option<bool>, GaiaError> {
    match take(obj, key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(other) => Err(type_error(key, "a boolean", &other)),
    }
}

fn opt_string(obj: &mut Map<String, Value>, key: &str) -> Result<Option<String>, GaiaError> {
    opt_string_at(obj, key, key)
}

/// Like [`opt_string`], reporting `param` (a full path) in errors.
fn opt_string_at(
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

fn required_string(
    obj: &mut Map<String, Value>,
    key: &str,
    param: &str,
) -> Result<String, GaiaError> {
    opt_string_at(obj, key, param)?
        .ok_or_else(|| invalid(param, format!("missing required parameter `{param}`")))
}

fn expect_object(value: Value, param: &str) -> Result<Map<String, Value>, GaiaError> {
    match value {
        Value::Object(obj) => Ok(obj),
        other => Err(type_error(param, "an object", &other)),
    }
}

fn expect_array(value: Value, param: &str) -> Result<Vec<Value>, GaiaError> {
    match value {
        Value::Array(items) => Ok(items),
        other => Err(type_error(param, "an array", &other)),
    }
}

fn parse_messages(value: Option<Value>) -> Result<Vec<Message>, GaiaError> {
    let Some(value) = value else {
        return Err(invalid("messages", "missing required parameter `messages`"));
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

/// `messages[i]`. Parameter paths are formatted only for an error: this runs for every message of every
/// request.
fn parse_message(value: Value, i: usize) -> Result<Message, GaiaError> {
    let path = || format!("messages[{i}]");
    let at = |field: &str| format!("messages[{i}].{field}");
    let mut obj = match value {
        Value::Object(obj) => obj,
        other => return Err(type_error(&path(), "an object", &other)),
    };
    let role = match take(&mut obj, "role") {
        Some(Value::String(role)) => match role.as_str() {
            "system" => Role::System,
            "developer" => Role::Developer,
            "user" => Role::User,
            "assistant" => Role::Assistant,
            "tool" => Role::Tool,
            other => {
                return Err(invalid(
                    at("role"),
                    format!(
                        "unknown role '{other}'; expected one of system, developer, user, assistant, tool"
                    ),
                ));
            }
        },
        Some(other) => return Err(type_error(&at("role"), "a string", &other)),
        None => {
            let param = at("role");
            let message = format!("missing required parameter `{param}`");
            return Err(invalid(param, message));
        }
    };
    let content = match (take(&mut obj, "content"), role) {
        (Some(Value::String(text)), _) => vec![ContentPart::Text(text)],
        (Some(content), _) => parse_content(content, role, &at("content"))?,
        (None, Role::Assistant) => Vec::new(),
        (None, _) => {
            return Err(invalid(
                at("content"),
                format!(
                    "`{}` is required for {} messages",
                    at("content"),
                    role.as_str()
                ),
            ));
        }
    };
    let tool_calls = match take(&mut obj, "tool_calls") {
        Some(value) => parse_tool_calls(value, &at("tool_calls"))?,
        None => Vec::new(),
    };
    if !tool_calls.is_empty() && role != Role::Assistant {
        return Err(invalid(
            at("tool_calls"),
            "`tool_calls` is only allowed on assistant messages",
        ));
    }
    let tool_call_id = if role == Role::Tool {
        Some(required_string(
            &mut obj,
            "tool_call_id",
            &at("tool_call_id"),
        )?)
    } else {
        None
    };
    let name = match take(&mut obj, "name") {
        None => None,
        Some(Value::String(name)) => Some(name),
        Some(other) => return Err(type_error(&at("name"), "a string", &other)),
    };
    Ok(Message {
        role,
        content,
        name,
        tool_calls,
        tool_call_id,
    })
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
    parts
        .into_iter()
        .enumerate()
        .map(|(j, part)| parse_part(part, role, &format!("{path}[{j}]")))
        .collect()
}

fn parse_part(value: Value, role: Role, path: &str) -> Result<ContentPart, GaiaError> {
    let mut obj = expect_object(value, path)?;
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
    let lower = url.get(..8).unwrap_or(&url).to_ascii_lowercase();
    let is_link = lower.starts_with("https://") || lower.starts_with("http://");
    if !is_link && parse_data_url(&url).is_none() {
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
        .map(|(k, call)| {
            let call_path = format!("{path}[{k}]");
            let mut obj = expect_object(call, &call_path)?;
            check_function_type(&mut obj, &call_path)?;
            let function_path = format!("{call_path}.function");
            let mut function = match take(&mut obj, "function") {
                Some(function) => expect_object(function, &function_path)?,
                None => {
                    return Err(invalid(
                        function_path,
                        format!("missing required parameter `{call_path}.function`"),
                    ));
                }
            };
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
                id: required_string(&mut obj, "id", &format!("{call_path}.id"))?,
                name: required_string(&mut function, "name", &format!("{function_path}.name"))?,
                arguments,
            })
        })
        .collect()
}

/// `type` is optional on input but, when present, must be `function` (the only kind we translate).
fn check_function_type(obj: &mut Map<String, Value>, path: &str) -> Result<(), GaiaError> {
    let param = format!("{path}.type");
    match opt_string_at(obj, "type", &param)?.as_deref() {
        None | Some("function") => Ok(()),
        Some(other) => Err(invalid(
            param,
            format!("type '{other}' is not supported; only 'function' is"),
        )),
    }
}

fn parse_tools(value: Value) -> Result<Vec<Tool>, GaiaError> {
    expect_array(value, "tools")?
        .into_iter()
        .enumerate()
        .map(|(i, tool)| {
            let path = format!("tools[{i}]");
            let mut obj = expect_object(tool, &path)?;
            check_function_type(&mut obj, &path)?;
            let function_path = format!("{path}.function");
            let mut function = match take(&mut obj, "function") {
                Some(function) => expect_object(function, &function_path)?,
                None => {
                    return Err(invalid(
                        function_path,
                        format!("missing required parameter `{path}.function`"),
                    ));
                }
            };
            let name_param = format!("{function_path}.name");
            let name = required_string(&mut function, "name", &name_param)?;
            check_function_name(&name, &name_param)?;
            let parameters_param = format!("{function_path}.parameters");
            let parameters = match take(&mut function, "parameters") {
                Some(schema @ Value::Object(_)) => Some(schema),
                Some(other) => return Err(type_error(&parameters_param, "an object", &other)),
                None => None,
            };
            Ok(Tool {
                name,
                description: opt_string_at(
                    &mut function,
                    "description",
                    &format!("{function_path}.description"),
                )?,
                parameters,
                strict: match take(&mut function, "strict") {
                    None => None,
                    Some(Value::Bool(strict)) => Some(strict),
                    Some(other) => {
                        return Err(type_error(
                            &format!("{function_path}.strict"),
                            "a boolean",
                            &other,
                        ));
                    }
                },
            })
        })
        .collect()
}

fn check_function_name(name: &str, param: &str) -> Result<(), GaiaError> {
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

fn parse_tool_choice(value: Value, tools: &[Tool]) -> Result<ToolChoice, GaiaError> {
    const PARAM: &str = "tool_choice";
    match value {
        Value::String(choice) => match choice.as_str() {
            "auto" => Ok(ToolChoice::Auto),
            "none" => Ok(ToolChoice::None),
            "required" => Ok(ToolChoice::Required),
            other => Err(invalid(
                PARAM,
                format!(
                    "unknown tool_choice '{other}'; expected 'auto', 'none', 'required' or an object"
                ),
            )),
        },
        Value::Object(mut obj) => {
            check_function_type(&mut obj, PARAM)?;
            let mut function = match take(&mut obj, "function") {
                Some(function) => expect_object(function, "tool_choice.function")?,
                None => {
                    return Err(invalid(
                        "tool_choice.function",
                        "missing required parameter `tool_choice.function`",
                    ));
                }
            };
            let name = required_string(&mut function, "name", "tool_choice.function.name")?;
            if !tools.iter().any(|tool| tool.name == name) {
                return Err(invalid(
                    "tool_choice.function.name",
                    format!("tool_choice names function '{name}', which is not in `tools`"),
                ));
            }
            Ok(ToolChoice::Function(name))
        }
        other => Err(type_error(PARAM, "a string or an object", &other)),
    }
}

fn parse_response_format(value: Value) -> Result<ResponseFormat, GaiaError> {
    let mut obj = expect_object(value, "response_format")?;
    let kind = required_string(&mut obj, "type", "response_format.type")?;
    match kind.as_str() {
        "text" => Ok(ResponseFormat::Text),
        "json_object" => Ok(ResponseFormat::JsonObject),
        "json_schema" => {
            const PATH: &str = "response_format.json_schema";
            let mut spec = match take(&mut obj, "json_schema") {
                Some(spec) => expect_object(spec, PATH)?,
                None => {
                    return Err(invalid(
                        PATH,
                        "missing required parameter `response_format.json_schema`",
                    ));
                }
            };
            let schema = match take(&mut spec, "schema") {
                Some(schema @ Value::Object(_)) => Some(schema),
                Some(other) => {
                    return Err(type_error(
                        "response_format.json_schema.schema",
                        "an object",
                        &other,
                    ));
                }
                None => None,
            };
            Ok(ResponseFormat::JsonSchema {
                name: required_string(&mut spec, "name", "response_format.json_schema.name")?,
                description: opt_string_at(
                    &mut spec,
                    "description",
                    "response_format.json_schema.description",
                )?,
                schema,
                strict: match take(&mut spec, "strict") {
                    None => None,
                    Some(Value::Bool(strict)) => Some(strict),
                    Some(other) => {
                        return Err(type_error(
                            "response_format.json_schema.strict",
                            "a boolean",
                            &other,
                        ));
                    }
                },
            })
        }
        other => Err(invalid(
            "response_format.type",
            format!(
                "unknown response_format type '{other}'; expected 'text', 'json_object' or 'json_schema'"
            ),
        )),
    }
}

fn parse_stop(value: Option<Value>) -> Result<Vec<String>, GaiaError> {
    match value {
        None => Ok(Vec::new()),
        Some(Value::String(stop)) => Ok(vec![stop]),
        Some(Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(stop) => Ok(stop),
                other => Err(type_error(&format!("stop[{i}]"), "a string", &other)),
            })
            .collect(),
        Some(other) => Err(type_error(
            "stop",
            "a string or an array of strings",
            &other,
        )),
    }
}

fn parse_stream_options(value: Option<Value>) -> Result<bool, GaiaError> {
    let Some(value) = value else {
        return Ok(false);
    };
    let mut obj = expect_object(value, "stream_options")?;
    match take(&mut obj, "include_usage") {
        None => Ok(false),
        Some(Value::Bool(include)) => Ok(include),
        Some(other) => Err(type_error(
            "stream_options.include_usage",
            "a boolean",
            &other,
        )),
    }
}
