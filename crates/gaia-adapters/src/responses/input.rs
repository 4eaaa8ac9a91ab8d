//! `input`: a string (one user message) or a list of items → the canonical conversation.
//!
//! Items: `message` (or any item with a `role` and no `type`), `function_call`, `function_call_output`
//! and `reasoning`. A run of `reasoning`, assistant `message` and `function_call` items is one assistant
//! turn (see the module doc of `responses`). Fields of an item that are not read (`id`, `status`,
//! `annotations`, `phase`, …) are ignored, so output items can be sent back as they came.

use gaia_core::{ContentPart, GaiaError, Message, Role, ToolCall, parse_data_url};
use serde_json::{Map, Value};

use crate::fields::{
    expect_array, expect_object, missing, opt_string_at, required_string, take, type_error,
};
use crate::util::{invalid, is_http_url};

/// The messages of `input` (absent: none). Whether `input` may be absent or empty depends on
/// `previous_response_id`, a rule between fields the caller checks.
pub(super) fn parse_input(value: Option<Value>) -> Result<Vec<Message>, GaiaError> {
    let items = match value {
        None => return Ok(Vec::new()),
        Some(Value::String(text)) => return Ok(vec![Message::user(text)]),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(type_error(
                "input",
                "a string or an array of input items",
                &other,
            ));
        }
    };
    let mut conversation = Conversation::default();
    for (i, item) in items.into_iter().enumerate() {
        parse_item(item, &format!("input[{i}]"), &mut conversation)?;
    }
    Ok(conversation.finish())
}

/// The conversation being built, with the assistant turn still open.
#[derive(Default)]
struct Conversation {
    messages: Vec<Message>,
    turn: Option<Message>,
}

impl Conversation {
    /// Reasoning or text of the assistant: after the turn's tool calls, it begins the next turn.
    /// Nothing said (an empty message, a reasoning item with nothing in it) changes nothing.
    fn say(&mut self, parts: Vec<ContentPart>) {
        if parts.is_empty() {
            return;
        }
        if self.turn.as_ref().is_some_and(|t| !t.tool_calls.is_empty()) {
            self.close_turn();
        }
        self.turn().content.extend(parts);
    }

    fn call(&mut self, call: ToolCall) {
        self.turn().tool_calls.push(call);
    }

    fn turn(&mut self) -> &mut Message {
        self.turn.get_or_insert_with(|| Message {
            content: Vec::new(),
            ..Message::assistant("")
        })
    }

    fn push(&mut self, message: Message) {
        self.close_turn();
        self.messages.push(message);
    }

    fn close_turn(&mut self) {
        if let Some(turn) = self.turn.take()
            && !(turn.content.is_empty() && turn.tool_calls.is_empty())
        {
            self.messages.push(turn);
        }
    }

    fn finish(mut self) -> Vec<Message> {
        self.close_turn();
        self.messages
    }
}

/// One item at `path` (`input[i]`).
fn parse_item(value: Value, path: &str, out: &mut Conversation) -> Result<(), GaiaError> {
    let mut obj = expect_object(value, path)?;
    let kind = opt_string_at(&mut obj, "type", &format!("{path}.type"))?;
    match kind.as_deref().unwrap_or("message") {
        "message" => message(obj, path, out),
        "function_call" => {
            out.call(function_call(obj, path)?);
            Ok(())
        }
        "function_call_output" => {
            out.push(function_call_output(obj, path)?);
            Ok(())
        }
        "reasoning" => {
            out.say(reasoning(obj, path)?.into_iter().collect());
            Ok(())
        }
        "item_reference" => Err(invalid(
            format!("{path}.type"),
            "item references are not supported; send the items themselves",
        )),
        other => Err(invalid(
            format!("{path}.type"),
            format!("input item type '{other}' is not supported"),
        )),
    }
}

fn message(
    mut obj: Map<String, Value>,
    path: &str,
    out: &mut Conversation,
) -> Result<(), GaiaError> {
    let role_path = format!("{path}.role");
    let role = match required_string(&mut obj, "role", &role_path)?.as_str() {
        "user" => Role::User,
        "system" => Role::System,
        "developer" => Role::Developer,
        "assistant" => Role::Assistant,
        other => {
            return Err(invalid(
                role_path,
                format!("unknown role '{other}'; expected user, system, developer or assistant"),
            ));
        }
    };
    let content_path = format!("{path}.content");
    let content = match take(&mut obj, "content") {
        Some(Value::String(text)) => vec![ContentPart::Text(text)],
        Some(Value::Array(parts)) => parse_parts(parts, role, &content_path)?,
        Some(other) => {
            return Err(type_error(
                &content_path,
                "a string or an array of content parts",
                &other,
            ));
        }
        None => return Err(missing(content_path)),
    };
    match role {
        Role::Assistant => out.say(content),
        _ => out.push(Message {
            content,
            ..Message::text(role, "")
        }),
    }
    Ok(())
}

fn parse_parts(parts: Vec<Value>, role: Role, path: &str) -> Result<Vec<ContentPart>, GaiaError> {
    parts
        .into_iter()
        .enumerate()
        .map(|(j, part)| parse_part(part, role, &format!("{path}[{j}]")))
        .collect()
}

/// One content part at `path`. `role` is `Tool` for a function call's output (which may hold images).
fn parse_part(value: Value, role: Role, path: &str) -> Result<ContentPart, GaiaError> {
    let mut obj = expect_object(value, path)?;
    let kind = required_string(&mut obj, "type", &format!("{path}.type"))?;
    let field = |key: &str| format!("{path}.{key}");
    match (kind.as_str(), role) {
        ("input_text", _) => Ok(ContentPart::Text(required_string(
            &mut obj,
            "text",
            &field("text"),
        )?)),
        ("output_text", Role::Assistant) => Ok(ContentPart::Text(required_string(
            &mut obj,
            "text",
            &field("text"),
        )?)),
        // A refusal the assistant gave earlier is, for the model, what it said.
        ("refusal", Role::Assistant) => Ok(ContentPart::Text(required_string(
            &mut obj,
            "refusal",
            &field("refusal"),
        )?)),
        ("input_image", Role::User | Role::Tool) => image(&mut obj, path),
        ("input_file", Role::User | Role::Tool) => file(&mut obj, path),
        (other, _) => Err(invalid(
            field("type"),
            format!(
                "content part type '{other}' is not allowed in {} content",
                role.as_str()
            ),
        )),
    }
}

/// Refuses a `file_id`: GaiaRouter has no Files API.
fn refuse_file_id(
    obj: &mut Map<String, Value>,
    path: &str,
    instead: &str,
) -> Result<(), GaiaError> {
    if take(obj, "file_id").is_some() {
        return Err(invalid(
            format!("{path}.file_id"),
            format!("file ids are not supported (there is no Files API here); send `{instead}`"),
        ));
    }
    Ok(())
}

/// `input_image`: `image_url` (an http(s) or base64 data URL) and `detail`.
fn image(obj: &mut Map<String, Value>, path: &str) -> Result<ContentPart, GaiaError> {
    refuse_file_id(obj, path, "image_url")?;
    let param = format!("{path}.image_url");
    let url = required_string(obj, "image_url", &param)?;
    if !is_http_url(&url) && parse_data_url(&url).is_none() {
        return Err(invalid(
            param,
            "image URLs must be http(s) URLs or base64 data URLs (data:<mime>;base64,<data>)",
        ));
    }
    Ok(ContentPart::Image {
        url,
        detail: opt_string_at(obj, "detail", &format!("{path}.detail"))?,
    })
}

/// `input_file`: `file_data` (a base64 data URL) or `file_url`, with its `filename`.
fn file(obj: &mut Map<String, Value>, path: &str) -> Result<ContentPart, GaiaError> {
    refuse_file_id(obj, path, "file_data")?;
    let name = opt_string_at(obj, "filename", &format!("{path}.filename"))?;
    let data_path = format!("{path}.file_data");
    let url_path = format!("{path}.file_url");
    let url = match (
        opt_string_at(obj, "file_data", &data_path)?,
        opt_string_at(obj, "file_url", &url_path)?,
    ) {
        (Some(data), _) if parse_data_url(&data).is_some() => data,
        (Some(_), _) => {
            return Err(invalid(
                data_path,
                "`file_data` must be a base64 data URL (data:<mime>;base64,<data>)",
            ));
        }
        (None, Some(url)) if is_http_url(&url) => url,
        (None, Some(_)) => return Err(invalid(url_path, "`file_url` must be an http(s) URL")),
        (None, None) => return Err(missing(data_path)),
    };
    Ok(ContentPart::Document { url, name })
}

/// `function_call`: `call_id`, `name`, `arguments` (a JSON text; an object is taken too).
fn function_call(mut obj: Map<String, Value>, path: &str) -> Result<ToolCall, GaiaError> {
    let arguments = match take(&mut obj, "arguments") {
        Some(Value::String(arguments)) => arguments,
        Some(object @ Value::Object(_)) => object.to_string(),
        Some(other) => return Err(type_error(&format!("{path}.arguments"), "a string", &other)),
        None => return Err(missing(format!("{path}.arguments"))),
    };
    Ok(ToolCall {
        id: required_string(&mut obj, "call_id", &format!("{path}.call_id"))?,
        name: required_string(&mut obj, "name", &format!("{path}.name"))?,
        arguments,
    })
}

/// `function_call_output`: the tool message answering `call_id`; `output` a string or content parts.
fn function_call_output(mut obj: Map<String, Value>, path: &str) -> Result<Message, GaiaError> {
    let call_id = required_string(&mut obj, "call_id", &format!("{path}.call_id"))?;
    let output_path = format!("{path}.output");
    let content = match take(&mut obj, "output") {
        Some(Value::String(text)) => vec![ContentPart::Text(text)],
        Some(Value::Array(parts)) => parse_parts(parts, Role::Tool, &output_path)?,
        Some(other) => {
            return Err(type_error(
                &output_path,
                "a string or an array of content parts",
                &other,
            ));
        }
        None => return Err(missing(output_path)),
    };
    Ok(Message {
        content,
        ..Message::tool(call_id, "")
    })
}

/// `reasoning`: `Thinking` when it has summary or reasoning text (the encrypted content its signature),
/// `RedactedThinking` when it has only encrypted content, nothing when it has neither.
fn reasoning(mut obj: Map<String, Value>, path: &str) -> Result<Option<ContentPart>, GaiaError> {
    let summary = texts(&mut obj, "summary", "summary_text", path)?;
    let content = texts(&mut obj, "content", "reasoning_text", path)?;
    let encrypted = opt_string_at(
        &mut obj,
        "encrypted_content",
        &format!("{path}.encrypted_content"),
    )?
    .filter(|data| !data.is_empty());
    let texts = if summary.is_empty() { content } else { summary };
    Ok(match (texts.is_empty(), encrypted) {
        (false, signature) => Some(ContentPart::Thinking {
            text: texts.join("\n\n"),
            signature,
        }),
        (true, Some(data)) => Some(ContentPart::RedactedThinking { data }),
        (true, None) => None,
    })
}

/// The texts of the `{"type": kind, "text": …}` parts of the list `key` (absent: none).
fn texts(
    obj: &mut Map<String, Value>,
    key: &str,
    kind: &str,
    path: &str,
) -> Result<Vec<String>, GaiaError> {
    let Some(value) = take(obj, key) else {
        return Ok(Vec::new());
    };
    let list_path = format!("{path}.{key}");
    let mut out = Vec::new();
    for (k, part) in expect_array(value, &list_path)?.into_iter().enumerate() {
        let part_path = format!("{list_path}[{k}]");
        let mut part = expect_object(part, &part_path)?;
        let found = required_string(&mut part, "type", &format!("{part_path}.type"))?;
        if found != kind {
            return Err(invalid(
                format!("{part_path}.type"),
                format!("expected a '{kind}' part, not '{found}'"),
            ));
        }
        out.push(required_string(
            &mut part,
            "text",
            &format!("{part_path}.text"),
        )?);
    }
    Ok(out)
}
