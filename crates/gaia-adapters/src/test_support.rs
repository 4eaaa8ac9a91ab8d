//! Helpers shared by the dialect tests: fixtures, stream driving and proptest strategies.

use gaia_core::{
    ChatRequest, ContentPart, GaiaError, Message, ResponseFormat, Role, StreamEvent, Tool,
    ToolCall, ToolChoice,
};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::codec::{ResponseMeta, StreamDecoder};
use crate::sse::SseParser;

/// The text of a file under `tests/fixtures/`.
macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/",
            $path
        ))
    };
}
pub(crate) use fixture;

/// What the gateway would pass for ids and times the dialect lacks.
pub(crate) fn meta() -> ResponseMeta {
    ResponseMeta::new("chatcmpl-gaia-1", "requested-model", 1_700_000_000)
}

/// Cuts `bytes` at the given positions (taken modulo the length, in any order).
pub(crate) fn split(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut chunks = Vec::new();
    let mut start = 0;
    for cut in cuts {
        chunks.push(bytes[start..cut].to_vec());
        start = cut;
    }
    chunks.push(bytes[start..].to_vec());
    chunks
}

/// Drives a whole transcript through the SSE parser and `decoder`, as the provider layer will, with the
/// body arriving in chunks cut at `cuts`; includes the events of `finish`.
pub(crate) fn decode_transcript(
    decoder: &mut dyn StreamDecoder,
    transcript: &str,
    cuts: &[usize],
) -> Result<Vec<StreamEvent>, GaiaError> {
    let mut parser = SseParser::new();
    let mut events = Vec::new();
    for chunk in split(transcript.as_bytes(), cuts) {
        for event in parser.push(&chunk)? {
            events.extend(decoder.decode(&event)?);
        }
    }
    if let Some(event) = parser.finish()? {
        events.extend(decoder.decode(&event)?);
    }
    events.extend(decoder.finish()?);
    Ok(events)
}

/// Every string in a JSON value (object keys excluded), for "the text survived" assertions.
pub(crate) fn all_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|item| all_strings(item, out)),
        Value::Object(map) => map.values().for_each(|item| all_strings(item, out)),
        _ => {}
    }
}

/// Asserts that every non-empty text of a system, developer, user or assistant message appears in
/// some string of `body`.
pub(crate) fn assert_texts_preserved(request: &ChatRequest, body: &Value) {
    let mut strings = Vec::new();
    all_strings(body, &mut strings);
    for message in &request.messages {
        if message.role == Role::Tool {
            continue;
        }
        for part in &message.content {
            let text = match part {
                ContentPart::Text(text) if !text.is_empty() => text,
                _ => continue,
            };
            assert!(
                strings.iter().any(|s| s.contains(text.as_str())),
                "text {text:?} of a {:?} message is missing from {body}",
                message.role
            );
        }
    }
}

fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-zA-Z0-9 ]{1,12}",
        "\\PC{0,16}",
        Just("quote \" backslash \\ newline \n".to_owned()),
    ]
}

fn arb_part() -> impl Strategy<Value = ContentPart> {
    prop_oneof![
        4 => arb_text().prop_map(ContentPart::Text),
        1 => prop_oneof![
            Just("https://example.com/cat.png"),
            Just("https://example.com/photo.JPG?size=large"),
            Just("data:image/png;base64,iVBORw0KGgo="),
            Just("data:image/png,not-base64"),
            Just("ftp://example.com/x.gif"),
        ]
        .prop_flat_map(|url| {
            proptest::option::of(prop_oneof![Just("low"), Just("high")]).prop_map(move |detail| {
                ContentPart::Image {
                    url: url.to_owned(),
                    detail: detail.map(str::to_owned),
                }
            })
        }),
    ]
}

fn arb_id() -> impl Strategy<Value = String> {
    prop_oneof![
        "call_[a-z0-9]{1,6}",
        Just("call_0__thought__c2ln/+=".to_owned()),
        Just("weird id!".to_owned()),
    ]
}

fn arb_tool_call() -> impl Strategy<Value = ToolCall> {
    (
        arb_id(),
        "[a-z_]{1,8}",
        prop_oneof![
            Just(String::new()),
            Just("{}".to_owned()),
            Just("{\"city\":\"Paris\",\"days\":[1,2]}".to_owned()),
            Just("not json".to_owned()),
            Just("[1,2]".to_owned()),
        ],
    )
        .prop_map(|(id, name, arguments)| ToolCall {
            id,
            name,
            arguments,
        })
}

fn arb_role() -> impl Strategy<Value = Role> {
    prop_oneof![
        Just(Role::System),
        Just(Role::Developer),
        Just(Role::User),
        Just(Role::Assistant),
        Just(Role::Tool),
    ]
}

fn arb_message() -> impl Strategy<Value = Message> {
    (
        arb_role(),
        proptest::collection::vec(arb_part(), 0..4),
        proptest::option::of("[a-z]{1,6}"),
        proptest::collection::vec(arb_tool_call(), 0..3),
        arb_id(),
    )
        .prop_map(|(role, content, name, tool_calls, id)| Message {
            tool_error: false,
            role,
            content,
            name,
            tool_calls: if role == Role::Assistant {
                tool_calls
            } else {
                Vec::new()
            },
            tool_call_id: (role == Role::Tool).then_some(id),
        })
}

fn arb_schema() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        Just(Some(json!({ "type": "object", "properties": {} }))),
        Just(Some(json!({
            "type": "object",
            "properties": { "city": { "type": "string" }, "n": { "type": ["integer", "null"] } },
            "required": ["city", "missing"],
            "additionalProperties": false
        }))),
        Just(Some(json!({
            "$defs": { "node": { "type": "object", "properties": { "next": { "$ref": "#/$defs/node" } } } },
            "type": "object",
            "properties": { "root": { "$ref": "#/$defs/node" }, "x": { "oneOf": [{ "type": "string" }, { "type": "number" }] } }
        }))),
        Just(Some(json!(true))),
    ]
}

fn arb_tool() -> impl Strategy<Value = Tool> {
    (
        "[a-z_]{1,8}",
        proptest::option::of(arb_text()),
        arb_schema(),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(name, description, parameters, strict)| Tool {
            name,
            description,
            parameters,
            strict,
            cache_control: None,
        })
}

fn arb_sampling() -> impl Strategy<Value = (Option<f64>, Option<f64>, Option<u32>, Option<u32>)> {
    (
        proptest::option::of(0.0f64..=2.0),
        proptest::option::of(0.0f64..=1.0),
        proptest::option::of(1u32..100_000),
        proptest::option::of(1u32..4),
    )
}

fn arb_response_format() -> impl Strategy<Value = Option<ResponseFormat>> {
    prop_oneof![
        Just(None),
        Just(Some(ResponseFormat::Text)),
        Just(Some(ResponseFormat::JsonObject)),
        arb_schema().prop_map(|schema| Some(ResponseFormat::JsonSchema {
            name: "out".into(),
            description: None,
            schema,
            strict: Some(true),
        })),
    ]
}

fn arb_tool_choice() -> impl Strategy<Value = Option<ToolChoice>> {
    prop_oneof![
        Just(None),
        Just(Some(ToolChoice::Auto)),
        Just(Some(ToolChoice::None)),
        Just(Some(ToolChoice::Required)),
        "[a-z_]{1,8}".prop_map(|name| Some(ToolChoice::Function(name))),
    ]
}

/// Arbitrary canonical requests, including ones adapters must reject (bad arguments, `n > 1`,
/// unanswerable tool messages, malformed data URLs).
pub(crate) fn arb_request() -> impl Strategy<Value = ChatRequest> {
    (
        proptest::collection::vec(arb_message(), 1..8),
        arb_sampling(),
        proptest::collection::vec(arb_text(), 0..3),
        proptest::option::of(any::<i64>()),
        proptest::collection::vec(arb_tool(), 0..3),
        arb_tool_choice(),
        proptest::option::of(any::<bool>()),
        arb_response_format(),
        (
            any::<bool>(),
            any::<bool>(),
            proptest::option::of("[a-z0-9-]{1,8}"),
        ),
        (
            proptest::option::of(-2.0f64..=2.0),
            proptest::option::of(-2.0f64..=2.0),
        ),
    )
        .prop_map(
            |(
                messages,
                (temperature, top_p, max_tokens, n),
                stop,
                seed,
                tools,
                tool_choice,
                parallel_tool_calls,
                response_format,
                (stream, include_usage, user),
                (presence_penalty, frequency_penalty),
            )| {
                let mut extra = serde_json::Map::new();
                extra.insert("logprobs".into(), true.into());
                ChatRequest {
                    model: "test/model".into(),
                    messages,
                    temperature,
                    top_p,
                    top_k: None,
                    reasoning: None,
                    max_tokens,
                    stop,
                    n,
                    presence_penalty,
                    frequency_penalty,
                    seed,
                    user,
                    response_format,
                    tools,
                    tool_choice,
                    parallel_tool_calls,
                    stream,
                    include_usage,
                    extra,
                    anthropic: Default::default(),
                }
            },
        )
}
