//! A [`ChatResponse`] → the Responses API `response` object, and the output items and response object
//! the stream encoder writes with the same serialisation.

use std::borrow::Cow;

use gaia_core::{ChatResponse, Choice, ContentPart, ErrorKind, FinishReason, GaiaError, Usage};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Value, json};

use super::Echo;
use crate::codec::ResponseMeta;

/// One output item, borrowed from a response or owned by a stream.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Item<'a> {
    /// `summary: None` is `summary: []` (a redacted block); `Some(text)` is one `summary_text` part.
    Reasoning {
        summary: Option<Cow<'a, str>>,
        encrypted: Option<Cow<'a, str>>,
    },
    /// An assistant message: one `output_text` part per text.
    Message { texts: Vec<Cow<'a, str>> },
    Call {
        call_id: Cow<'a, str>,
        name: Cow<'a, str>,
        arguments: Cow<'a, str>,
    },
}

impl Item<'_> {
    fn prefix(&self) -> &'static str {
        match self {
            Item::Reasoning { .. } => "rs",
            Item::Message { .. } => "msg",
            Item::Call { .. } => "fc",
        }
    }
}

/// The id of output item `index` of response `response_id`: `msg_X_2` for `resp_X`.
pub(super) fn item_id(response_id: &str, item: &Item<'_>, index: usize) -> String {
    let stem = response_id.strip_prefix("resp_").unwrap_or(response_id);
    format!("{}_{stem}_{index}", item.prefix())
}

/// The output items of a choice: its reasoning and text parts in order (consecutive texts one message),
/// then its tool calls.
pub(super) fn items(choice: &Choice) -> Vec<Item<'_>> {
    let message = &choice.message;
    let mut out: Vec<Item<'_>> =
        Vec::with_capacity(message.content.len() + message.tool_calls.len());
    for part in &message.content {
        match part {
            ContentPart::Thinking { text, signature } => out.push(Item::Reasoning {
                summary: Some(Cow::Borrowed(text)),
                encrypted: signature.as_deref().map(Cow::Borrowed),
            }),
            ContentPart::RedactedThinking { data } => out.push(Item::Reasoning {
                summary: None,
                encrypted: Some(Cow::Borrowed(data)),
            }),
            ContentPart::Text(text) if text.is_empty() => {}
            ContentPart::Text(text) => match out.last_mut() {
                Some(Item::Message { texts }) => texts.push(Cow::Borrowed(text)),
                _ => out.push(Item::Message {
                    texts: vec![Cow::Borrowed(text)],
                }),
            },
            _ => {}
        }
    }
    out.extend(message.tool_calls.iter().map(|call| Item::Call {
        call_id: Cow::Borrowed(&call.id),
        name: Cow::Borrowed(&call.name),
        arguments: Cow::Borrowed(&call.arguments),
    }));
    out
}

/// An item's `status`. Reasoning items have none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    InProgress,
    Completed,
    Incomplete,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::InProgress => "in_progress",
            Status::Completed => "completed",
            Status::Incomplete => "incomplete",
        }
    }
}

/// An item as written: with its id and status.
pub(super) struct ItemView<'a> {
    pub item: &'a Item<'a>,
    pub id: &'a str,
    pub status: Status,
}

impl Serialize for ItemView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match self.item {
            Item::Reasoning { summary, encrypted } => {
                map.serialize_entry("id", self.id)?;
                map.serialize_entry("type", "reasoning")?;
                let parts: Vec<SummaryPart<'_>> = summary.iter().map(|s| SummaryPart(s)).collect();
                map.serialize_entry("summary", &parts)?;
                if let Some(encrypted) = encrypted {
                    map.serialize_entry("encrypted_content", encrypted)?;
                }
            }
            Item::Message { texts } => {
                map.serialize_entry("id", self.id)?;
                map.serialize_entry("type", "message")?;
                map.serialize_entry("status", self.status.as_str())?;
                map.serialize_entry("role", "assistant")?;
                let parts: Vec<TextPart<'_>> = texts.iter().map(|t| TextPart(t)).collect();
                map.serialize_entry("content", &parts)?;
            }
            Item::Call {
                call_id,
                name,
                arguments,
            } => {
                map.serialize_entry("id", self.id)?;
                map.serialize_entry("type", "function_call")?;
                map.serialize_entry("status", self.status.as_str())?;
                map.serialize_entry("call_id", call_id)?;
                map.serialize_entry("name", name)?;
                map.serialize_entry("arguments", arguments)?;
            }
        }
        map.end()
    }
}

/// `{"type":"summary_text","text":…}`.
pub(super) struct SummaryPart<'a>(pub &'a str);

impl Serialize for SummaryPart<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("type", "summary_text")?;
        map.serialize_entry("text", self.0)?;
        map.end()
    }
}

/// `{"type":"output_text","text":…,"annotations":[]}`.
pub(super) struct TextPart<'a>(pub &'a str);

impl Serialize for TextPart<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("type", "output_text")?;
        map.serialize_entry("text", self.0)?;
        map.serialize_entry("annotations", &[(); 0])?;
        map.end()
    }
}

/// How a response ended (or that it has not yet).
#[derive(Debug, Clone, Copy)]
pub(super) enum Outcome<'a> {
    InProgress,
    Finished(Option<FinishReason>),
    Failed(&'a GaiaError),
}

impl Outcome<'_> {
    fn status(self) -> &'static str {
        match self {
            Outcome::InProgress => "in_progress",
            Outcome::Failed(_) => "failed",
            Outcome::Finished(_) if self.incomplete_reason().is_some() => "incomplete",
            Outcome::Finished(_) => "completed",
        }
    }

    pub(super) fn incomplete_reason(self) -> Option<&'static str> {
        match self {
            Outcome::Finished(Some(FinishReason::Length)) => Some("max_output_tokens"),
            Outcome::Finished(Some(FinishReason::ContentFilter)) => Some("content_filter"),
            _ => None,
        }
    }

    /// The status of a finished item: `incomplete` for the last item of an incomplete response.
    pub(super) fn item_status(self, last: bool) -> Status {
        if last && self.incomplete_reason().is_some() {
            Status::Incomplete
        } else {
            Status::Completed
        }
    }
}

/// The reference's `error.code` for a failed response (the precise gateway code goes in the `error`
/// event).
fn failure_code(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::RateLimited | ErrorKind::QuotaExceeded => "rate_limit_exceeded",
        ErrorKind::InvalidRequest | ErrorKind::Unprocessable | ErrorKind::PayloadTooLarge => {
            "invalid_prompt"
        }
        _ => "server_error",
    }
}

/// The `response` object: `output` with the last item's status given (the others are completed).
pub(super) struct ResponseView<'a> {
    pub meta: &'a ResponseMeta,
    pub echo: &'a Echo,
    pub outcome: Outcome<'a>,
    pub output: &'a [Item<'a>],
    pub last_status: Status,
    pub usage: Option<&'a Usage>,
}

impl Serialize for ResponseView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let echo = self.echo;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", &self.meta.id)?;
        map.serialize_entry("object", "response")?;
        map.serialize_entry("created_at", &self.meta.created)?;
        map.serialize_entry("status", self.outcome.status())?;
        map.serialize_entry("error", &self.error())?;
        map.serialize_entry(
            "incomplete_details",
            &self
                .outcome
                .incomplete_reason()
                .map(|r| json!({"reason": r})),
        )?;
        map.serialize_entry("instructions", &echo.instructions)?;
        map.serialize_entry("max_output_tokens", &echo.max_output_tokens)?;
        map.serialize_entry("model", &self.meta.model)?;
        map.serialize_entry("output", &Output(self))?;
        map.serialize_entry(
            "parallel_tool_calls",
            &echo.parallel_tool_calls.unwrap_or(true),
        )?;
        map.serialize_entry("previous_response_id", &echo.previous_response_id)?;
        map.serialize_entry("reasoning", &echo.reasoning)?;
        map.serialize_entry("store", &echo.store)?;
        map.serialize_entry("temperature", &echo.temperature)?;
        let text = echo
            .text
            .clone()
            .unwrap_or_else(|| json!({"format": {"type": "text"}}));
        map.serialize_entry("text", &text)?;
        let choice = echo
            .tool_choice
            .clone()
            .unwrap_or_else(|| Value::from("auto"));
        map.serialize_entry("tool_choice", &choice)?;
        map.serialize_entry("tools", &echo.tools)?;
        map.serialize_entry("top_p", &echo.top_p)?;
        map.serialize_entry("usage", &self.usage.map(UsageView))?;
        map.serialize_entry("user", &echo.user)?;
        map.serialize_entry("metadata", &echo.metadata)?;
        map.end()
    }
}

impl ResponseView<'_> {
    fn error(&self) -> Option<Value> {
        match self.outcome {
            Outcome::Failed(error) => Some(json!({
                "code": failure_code(error.kind),
                "message": error.public_message(),
            })),
            _ => None,
        }
    }
}

/// The `output` array of a [`ResponseView`].
struct Output<'a>(&'a ResponseView<'a>);

impl Serialize for Output<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let view = self.0;
        let mut seq = serializer.serialize_seq(Some(view.output.len()))?;
        for (index, item) in view.output.iter().enumerate() {
            let last = index + 1 == view.output.len();
            let id = item_id(&view.meta.id, item, index);
            seq.serialize_element(&ItemView {
                item,
                id: &id,
                status: if last {
                    view.last_status
                } else {
                    Status::Completed
                },
            })?;
        }
        seq.end()
    }
}

/// `usage`: `input_tokens` counts everything read, cached included, as the canonical prompt tokens do.
pub(super) struct UsageView<'a>(pub &'a Usage);

impl Serialize for UsageView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let usage = self.0;
        let mut input_details = Map::new();
        input_details.insert("cached_tokens".into(), usage.cached_tokens.into());
        input_details.insert(
            "cache_write_tokens".into(),
            usage.cache_creation_tokens.into(),
        );
        let mut map = serializer.serialize_map(Some(5))?;
        map.serialize_entry("input_tokens", &usage.prompt_tokens)?;
        map.serialize_entry("input_tokens_details", &input_details)?;
        map.serialize_entry("output_tokens", &usage.completion_tokens)?;
        map.serialize_entry(
            "output_tokens_details",
            &json!({"reasoning_tokens": usage.reasoning_tokens}),
        )?;
        map.serialize_entry("total_tokens", &usage.total_tokens)?;
        map.end()
    }
}

/// The `response` object for `response` (its first choice: the Responses API has one), with the id
/// (`resp_…`), creation time and model name of `meta` and the request fields of `echo`.
pub fn encode_response(
    response: &ChatResponse,
    meta: &ResponseMeta,
    echo: &Echo,
) -> Result<Vec<u8>, GaiaError> {
    let choice = response.choices.first();
    let output = choice.map(items).unwrap_or_default();
    let outcome = Outcome::Finished(choice.and_then(|c| c.finish_reason));
    let view = ResponseView {
        meta,
        echo,
        outcome,
        output: &output,
        last_status: outcome.item_status(true),
        usage: response.usage.as_ref(),
    };
    serde_json::to_vec(&view)
        .map_err(|e| GaiaError::internal("could not encode the response").with_source(e))
}
