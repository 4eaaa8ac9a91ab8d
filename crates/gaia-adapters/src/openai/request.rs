//! Inbound: an OpenAI Chat Completions request body → [`ChatRequest`], validated.
//!
//! Parsed by hand from a `serde_json::Value` rather than derived: every rejection names the exact
//! parameter (`messages[2].content[0].image_url.url`) the way OpenAI's own errors do, and fields we do not
//! model are kept in `extra` instead of being rejected or lost.

mod messages;
mod reasoning;
mod tools;

use gaia_core::{ChatRequest, GaiaError, Reasoning, ReasoningEffort, ResponseFormat};
use serde_json::{Map, Value};

use self::messages::parse_messages;
use self::tools::{parse_tool_choice, parse_tools};
use crate::fields::{
    body_object, check_max, expect_object, opt_bool, opt_bool_at, opt_f64, opt_i64, opt_schema,
    opt_string, opt_string_at, opt_u32, required_object, required_string, take, type_error,
};
use crate::util::invalid;

/// OpenAI's limit on `n`.
const MAX_N: u64 = 128;

/// Parses and validates an OpenAI Chat Completions request body.
///
/// Errors are 400s with `param` set; unknown top-level fields end up in [`ChatRequest::extra`].
pub fn parse_request(body: &[u8]) -> Result<ChatRequest, GaiaError> {
    let mut obj = body_object(body)?;

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
    let reasoning = parse_reasoning_effort(&mut obj)?;

    Ok(ChatRequest {
        model,
        messages,
        temperature: opt_f64(&mut obj, "temperature", 0.0, 2.0)?,
        top_p: opt_f64(&mut obj, "top_p", 0.0, 1.0)?,
        top_k: opt_u32(&mut obj, "top_k", 1)?,
        reasoning,
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
        anthropic: Default::default(),
    })
}

fn parse_response_format(value: Value) -> Result<ResponseFormat, GaiaError> {
    let mut obj = expect_object(value, "response_format")?;
    let kind = required_string(&mut obj, "type", "response_format.type")?;
    match kind.as_str() {
        "text" => Ok(ResponseFormat::Text),
        "json_object" => Ok(ResponseFormat::JsonObject),
        "json_schema" => {
            let mut spec = required_object(&mut obj, "json_schema", "response_format.json_schema")?;
            let schema = opt_schema(&mut spec, "schema", "response_format.json_schema.schema")?;
            Ok(ResponseFormat::JsonSchema {
                name: required_string(&mut spec, "name", "response_format.json_schema.name")?,
                description: opt_string_at(
                    &mut spec,
                    "description",
                    "response_format.json_schema.description",
                )?,
                schema,
                strict: opt_bool_at(&mut spec, "strict", "response_format.json_schema.strict")?,
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

/// `reasoning_effort` (specs/messages.md, M-14): a level this gateway knows becomes the canonical setting;
/// any other string stays in `extra` for OpenAI-format providers, which may know newer levels.
fn parse_reasoning_effort(obj: &mut Map<String, Value>) -> Result<Option<Reasoning>, GaiaError> {
    let known = match obj.get("reasoning_effort") {
        None | Some(Value::Null) => None,
        Some(Value::String(effort)) if effort == "none" => Some(Reasoning::Off),
        Some(Value::String(effort)) => ReasoningEffort::parse(effort).map(Reasoning::Effort),
        Some(other) => return Err(type_error("reasoning_effort", "a string", other)),
    };
    if known.is_some() {
        obj.remove("reasoning_effort");
    }
    Ok(known)
}

fn parse_stream_options(value: Option<Value>) -> Result<bool, GaiaError> {
    let Some(value) = value else {
        return Ok(false);
    };
    let mut obj = expect_object(value, "stream_options")?;
    Ok(opt_bool_at(&mut obj, "include_usage", "stream_options.include_usage")?.unwrap_or(false))
}
