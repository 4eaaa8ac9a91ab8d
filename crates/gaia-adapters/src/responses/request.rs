//! A `POST /v1/responses` body → [`ResponsesRequest`], validated. Parsed from a `serde_json::Value`, like
//! the Chat Completions parser, so every refusal names its field the OpenAI way
//! (`input[2].content[0].image_url`).

use gaia_core::{
    ChatRequest, GaiaError, Message, Reasoning, ReasoningEffort, ResponseFormat, Role, Tool,
    ToolChoice,
};
use serde_json::{Map, Value};

use super::ResponsesRequest;
use super::input::parse_input;
use crate::fields::{
    body_object, check_function_name, expect_array, expect_object, missing, opt_bool, opt_bool_at,
    opt_f64, opt_schema, opt_string, opt_string_at, opt_u32, required_string, take, type_error,
};
use crate::util::invalid;

/// Top-level fields with the same meaning in Chat Completions: passed on to OpenAI-format upstreams.
const CHAT_FIELDS: [&str; 4] = [
    "service_tier",
    "prompt_cache_key",
    "safety_identifier",
    "prompt_cache_retention",
];

/// OpenAI's limits on `metadata`.
const METADATA_PAIRS: usize = 16;
const METADATA_KEY_CHARS: usize = 64;
const METADATA_VALUE_CHARS: usize = 512;

/// Parses and validates a Responses API request body. Errors are 400s with `param` set, except rules
/// between fields, which no schema states (422): `input` absent, empty or saying nothing without
/// `previous_response_id`, a `tool_choice` naming a function `tools` does not declare.
pub fn parse_request(body: &[u8]) -> Result<ResponsesRequest, GaiaError> {
    let mut obj = body_object(body)?;
    let model = match take(&mut obj, "model") {
        Some(Value::String(model)) if !model.trim().is_empty() => model,
        Some(Value::String(_)) | None => return Err(missing("model")),
        Some(other) => return Err(type_error("model", "a string", &other)),
    };
    refuse_stateful(&mut obj)?;
    let previous_response_id = opt_string(&mut obj, "previous_response_id")?;
    if previous_response_id.as_deref() == Some("") {
        return Err(invalid(
            "previous_response_id",
            "`previous_response_id` must not be empty",
        ));
    }
    let instructions = opt_string(&mut obj, "instructions")?;
    let mut messages: Vec<Message> = instructions
        .iter()
        .map(|text| Message::text(Role::Developer, text.clone()))
        .collect();
    let input = parse_input(take(&mut obj, "input"))?;
    // Absent, empty, or only items that say nothing (a reasoning item without text, an empty assistant
    // message): with no stored conversation to continue, there is nothing to answer.
    let input_given = !input.is_empty();
    messages.extend(input);
    let mut request = ResponsesRequest {
        chat: ChatRequest::new(model, messages),
        store: opt_bool(&mut obj, "store")?.unwrap_or(false),
        previous_response_id,
        metadata: parse_metadata(take(&mut obj, "metadata"))?,
        instructions,
        ..ResponsesRequest::default()
    };
    parse_tooling(&mut obj, &mut request)?;
    parse_settings(&mut obj, &mut request)?;
    // A relation between two fields, which no schema states: 422, once the body is otherwise valid.
    if !input_given && request.previous_response_id.is_none() {
        return Err(GaiaError::unprocessable(
            "`input` must hold a message, a function call or its output, or reasoning with content, unless \
`previous_response_id` continues a stored response",
        )
        .with_param("input"));
    }
    request.extra = obj;
    Ok(request)
}

/// `conversation`, `prompt` and `background: true` need state kept at OpenAI: refused, not ignored.
fn refuse_stateful(obj: &mut Map<String, Value>) -> Result<(), GaiaError> {
    for field in ["conversation", "prompt"] {
        if take(obj, field).is_some() {
            return Err(invalid(
                field,
                format!("`{field}` is not supported by this gateway"),
            ));
        }
    }
    if opt_bool(obj, "background")? == Some(true) {
        return Err(invalid(
            "background",
            "background responses are not supported by this gateway",
        ));
    }
    Ok(())
}

/// `tools`, `tool_choice` and `parallel_tool_calls`.
fn parse_tooling(
    obj: &mut Map<String, Value>,
    request: &mut ResponsesRequest,
) -> Result<(), GaiaError> {
    if let Some(value) = take(obj, "tools") {
        let items = expect_array(value, "tools")?;
        request.sent.tools = items.clone();
        let (tools, builtin) = parse_tools(items)?;
        request.chat.tools = tools;
        request.builtin_tools = builtin;
    }
    if let Some(value) = take(obj, "tool_choice") {
        request.sent.tool_choice = Some(value.clone());
        match parse_tool_choice(value, &mut request.chat.tools)? {
            Choice::Canonical(choice) => request.chat.tool_choice = Some(choice),
            Choice::Builtin(value) => request.builtin_tool_choice = Some(value),
        }
    }
    request.chat.parallel_tool_calls = opt_bool(obj, "parallel_tool_calls")?;
    Ok(())
}

/// Sampling, output, reasoning and the fields Chat Completions shares.
fn parse_settings(
    obj: &mut Map<String, Value>,
    request: &mut ResponsesRequest,
) -> Result<(), GaiaError> {
    let chat = &mut request.chat;
    chat.temperature = opt_f64(obj, "temperature", 0.0, 2.0)?;
    chat.top_p = opt_f64(obj, "top_p", 0.0, 1.0)?;
    chat.max_tokens = opt_u32(obj, "max_output_tokens", 1)?;
    chat.user = opt_string(obj, "user")?;
    chat.stream = opt_bool(obj, "stream")?.unwrap_or(false);
    // The stream always ends with the usage, in `response.completed`.
    chat.include_usage = true;
    if let Some(value) = take(obj, "reasoning") {
        request.sent.reasoning = Some(value.clone());
        chat.reasoning = parse_reasoning(value)?;
    }
    if let Some(value) = take(obj, "text") {
        request.sent.text = Some(value.clone());
        let (format, verbosity) = parse_text(value)?;
        chat.response_format = format;
        if let Some(verbosity) = verbosity {
            chat.extra.insert("verbosity".to_owned(), verbosity);
        }
    }
    for field in CHAT_FIELDS {
        if let Some(value) = take(obj, field) {
            chat.extra.insert(field.to_owned(), value);
        }
    }
    Ok(())
}

/// `metadata`: at most 16 pairs of strings, keys up to 64 characters, values up to 512.
fn parse_metadata(value: Option<Value>) -> Result<Map<String, Value>, GaiaError> {
    let Some(value) = value else {
        return Ok(Map::new());
    };
    let obj = expect_object(value, "metadata")?;
    if obj.len() > METADATA_PAIRS {
        return Err(invalid(
            "metadata",
            format!("`metadata` holds at most {METADATA_PAIRS} pairs"),
        ));
    }
    for (key, value) in &obj {
        let param = format!("metadata.{key}");
        if key.chars().count() > METADATA_KEY_CHARS {
            return Err(invalid(
                param,
                format!("metadata keys are at most {METADATA_KEY_CHARS} characters"),
            ));
        }
        match value {
            Value::String(text) if text.chars().count() <= METADATA_VALUE_CHARS => {}
            Value::String(_) => {
                return Err(invalid(
                    param,
                    format!("metadata values are at most {METADATA_VALUE_CHARS} characters"),
                ));
            }
            other => return Err(type_error(&param, "a string", other)),
        }
    }
    Ok(obj)
}

/// `tools`: function tools (flat: `name`, `description`, `parameters`, `strict`) become canonical tools;
/// every other type is a built-in tool, kept as written.
fn parse_tools(items: Vec<Value>) -> Result<(Vec<Tool>, Vec<Value>), GaiaError> {
    let mut tools = Vec::with_capacity(items.len());
    let mut builtin = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let path = format!("tools[{i}]");
        match item.get("type") {
            Some(Value::String(kind)) if kind == "function" => {
                tools.push(parse_function_tool(expect_object(item, &path)?, &path)?);
            }
            Some(Value::String(_)) => builtin.push(item),
            Some(other) => return Err(type_error(&format!("{path}.type"), "a string", other)),
            None if item.is_object() => return Err(missing(format!("{path}.type"))),
            None => return Err(type_error(&path, "an object", &item)),
        }
    }
    Ok((tools, builtin))
}

fn parse_function_tool(mut obj: Map<String, Value>, path: &str) -> Result<Tool, GaiaError> {
    let name_param = format!("{path}.name");
    let name = required_string(&mut obj, "name", &name_param)?;
    check_function_name(&name, &name_param)?;
    Ok(Tool {
        parameters: opt_schema(&mut obj, "parameters", &format!("{path}.parameters"))?,
        description: opt_string_at(&mut obj, "description", &format!("{path}.description"))?,
        strict: opt_bool_at(&mut obj, "strict", &format!("{path}.strict"))?,
        name,
        cache_control: None,
    })
}

/// A `tool_choice` the canonical model holds, or one only OpenAI can honour.
enum Choice {
    Canonical(ToolChoice),
    Builtin(Value),
}

/// `tool_choice`: `auto` / `none` / `required`, `{"type":"function","name":…}`, `allowed_tools` (over
/// functions: the tools narrowed to those named), or a built-in tool's type.
fn parse_tool_choice(value: Value, tools: &mut Vec<Tool>) -> Result<Choice, GaiaError> {
    const PARAM: &str = "tool_choice";
    let mut obj = match value {
        Value::String(choice) => return simple_choice(&choice, PARAM).map(Choice::Canonical),
        Value::Object(obj) => obj,
        other => return Err(type_error(PARAM, "a string or an object", &other)),
    };
    // Read in place: a choice kept for OpenAI keeps its `type`.
    let kind = match obj.get("type") {
        Some(Value::String(kind)) => kind.clone(),
        Some(other) => return Err(type_error("tool_choice.type", "a string", other)),
        None => return Err(missing("tool_choice.type")),
    };
    match kind.as_str() {
        "function" => {
            let name = required_string(&mut obj, "name", "tool_choice.name")?;
            if !tools.iter().any(|tool| tool.name == name) {
                return Err(undeclared("tool_choice.name", &name));
            }
            Ok(Choice::Canonical(ToolChoice::Function(name)))
        }
        "allowed_tools" => allowed_tools(obj, tools),
        _ => Ok(Choice::Builtin(Value::Object(obj))),
    }
}

/// A `tool_choice` naming a function `tools` does not declare: well-formed, but refused by a rule between
/// fields, which no schema states (422, as on the Messages API).
fn undeclared(param: &str, name: &str) -> GaiaError {
    GaiaError::unprocessable(format!(
        "tool_choice names function '{name}', which is not in `tools`"
    ))
    .with_param(param)
}

fn simple_choice(choice: &str, param: &str) -> Result<ToolChoice, GaiaError> {
    match choice {
        "auto" => Ok(ToolChoice::Auto),
        "none" => Ok(ToolChoice::None),
        "required" => Ok(ToolChoice::Required),
        other => Err(invalid(
            param,
            format!(
                "unknown tool_choice '{other}'; expected 'auto', 'none', 'required' or an object"
            ),
        )),
    }
}

/// `{"type":"allowed_tools","mode":"auto"|"required","tools":[{"type":"function","name":…}, …]}`.
fn allowed_tools(mut obj: Map<String, Value>, tools: &mut Vec<Tool>) -> Result<Choice, GaiaError> {
    let original = Value::Object(obj.clone());
    let mode = required_string(&mut obj, "mode", "tool_choice.mode")?;
    let choice = match mode.as_str() {
        "auto" | "required" => simple_choice(&mode, "tool_choice.mode")?,
        other => {
            return Err(invalid(
                "tool_choice.mode",
                format!("`mode` must be 'auto' or 'required', not '{other}'"),
            ));
        }
    };
    let entries = expect_array(
        take(&mut obj, "tools").ok_or_else(|| missing("tool_choice.tools"))?,
        "tool_choice.tools",
    )?;
    let mut names = Vec::with_capacity(entries.len());
    for (k, entry) in entries.into_iter().enumerate() {
        let path = format!("tool_choice.tools[{k}]");
        let mut entry = expect_object(entry, &path)?;
        if required_string(&mut entry, "type", &format!("{path}.type"))? != "function" {
            return Ok(Choice::Builtin(original));
        }
        let name = required_string(&mut entry, "name", &format!("{path}.name"))?;
        if !tools.iter().any(|tool| tool.name == name) {
            return Err(undeclared(&format!("{path}.name"), &name));
        }
        names.push(name);
    }
    tools.retain(|tool| names.contains(&tool.name));
    Ok(Choice::Canonical(choice))
}

/// `reasoning.effort` (the rest of `reasoning` is echoed only).
fn parse_reasoning(value: Value) -> Result<Option<Reasoning>, GaiaError> {
    let mut obj = expect_object(value, "reasoning")?;
    let Some(effort) = opt_string_at(&mut obj, "effort", "reasoning.effort")? else {
        return Ok(None);
    };
    let reasoning = match effort.as_str() {
        "none" => Reasoning::Off,
        // Above the canonical scale, whose top is `high`.
        "xhigh" | "max" => Reasoning::Effort(ReasoningEffort::High),
        other => ReasoningEffort::parse(other)
            .map(Reasoning::Effort)
            .ok_or_else(|| {
                invalid(
                    "reasoning.effort",
                    format!(
                        "unknown reasoning effort '{other}'; expected none, minimal, low, medium, high, xhigh or max"
                    ),
                )
            })?,
    };
    Ok(Some(reasoning))
}

/// `text`: its `format` as the canonical response format, and its `verbosity` as written.
fn parse_text(value: Value) -> Result<(Option<ResponseFormat>, Option<Value>), GaiaError> {
    let mut obj = expect_object(value, "text")?;
    let verbosity = opt_string_at(&mut obj, "verbosity", "text.verbosity")?.map(Value::String);
    let Some(format) = take(&mut obj, "format") else {
        return Ok((None, verbosity));
    };
    let mut format = expect_object(format, "text.format")?;
    let kind = required_string(&mut format, "type", "text.format.type")?;
    let format = match kind.as_str() {
        "text" => ResponseFormat::Text,
        "json_object" => ResponseFormat::JsonObject,
        "json_schema" => ResponseFormat::JsonSchema {
            name: required_string(&mut format, "name", "text.format.name")?,
            description: opt_string_at(&mut format, "description", "text.format.description")?,
            schema: opt_schema(&mut format, "schema", "text.format.schema")?,
            strict: opt_bool_at(&mut format, "strict", "text.format.strict")?,
        },
        other => {
            return Err(invalid(
                "text.format.type",
                format!(
                    "unknown text format '{other}'; expected 'text', 'json_object' or 'json_schema'"
                ),
            ));
        }
    };
    Ok((Some(format), verbosity))
}
