//! `tools` and `tool_choice`: the functions a client offers the model and which one it must call.

use gaia_core::{GaiaError, Tool, ToolChoice};
use serde_json::{Map, Value};

use crate::fields::{
    check_function_name, expect_array, expect_object, opt_bool_at, opt_schema, opt_string_at,
    required_object, required_string, take, type_error,
};
use crate::util::{invalid, parse_cache_control};

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

/// The `function` object of a tool, a tool call or a `tool_choice` at `path`, after checking its `type`;
/// with the function's own path (`{path}.function`).
pub(super) fn take_function(
    obj: &mut Map<String, Value>,
    path: &str,
) -> Result<(Map<String, Value>, String), GaiaError> {
    check_function_type(obj, path)?;
    let function_path = format!("{path}.function");
    let function = required_object(obj, "function", &function_path)?;
    Ok((function, function_path))
}

pub(super) fn parse_tools(value: Value) -> Result<Vec<Tool>, GaiaError> {
    expect_array(value, "tools")?
        .into_iter()
        .enumerate()
        .map(|(i, tool)| parse_tool(tool, &format!("tools[{i}]")))
        .collect()
}

/// `tools[i]`, at `path`.
fn parse_tool(value: Value, path: &str) -> Result<Tool, GaiaError> {
    let mut obj = expect_object(value, path)?;
    let cache_control = match take(&mut obj, "cache_control") {
        Some(value) => Some(parse_cache_control(
            value,
            &format!("{path}.cache_control"),
        )?),
        None => None,
    };
    let (mut function, function_path) = take_function(&mut obj, path)?;
    let name_param = format!("{function_path}.name");
    let name = required_string(&mut function, "name", &name_param)?;
    check_function_name(&name, &name_param)?;
    let parameters = opt_schema(
        &mut function,
        "parameters",
        &format!("{function_path}.parameters"),
    )?;
    Ok(Tool {
        name,
        description: opt_string_at(
            &mut function,
            "description",
            &format!("{function_path}.description"),
        )?,
        parameters,
        strict: opt_bool_at(&mut function, "strict", &format!("{function_path}.strict"))?,
        cache_control,
    })
}

pub(super) fn parse_tool_choice(value: Value, tools: &[Tool]) -> Result<ToolChoice, GaiaError> {
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
            let (mut function, _) = take_function(&mut obj, PARAM)?;
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
