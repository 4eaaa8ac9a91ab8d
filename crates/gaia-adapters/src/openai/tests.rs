use gaia_core::{
    ChatRequest, ChatResponse, Choice, ContentPart, FinishReason, GaiaError, Message,
    ResponseFormat, Role, StreamEvent, Tool, ToolCall, ToolChoice, Usage,
};
use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::codec::{StreamDecoder, StreamEncoder};
use crate::sse::{SseEvent, SseParser};
use crate::test_support::{arb_request, assert_texts_preserved, decode_transcript, fixture, meta};

const FULL_REQUEST: &str = fixture!("openai/request_full.json");
const RESPONSE_TOOL_CALLS: &str = fixture!("openai/response_tool_calls.json");
const STREAM_TOOL_CALLS: &str = fixture!("openai/stream_tool_calls.sse");

fn parse(body: Value) -> Result<ChatRequest, GaiaError> {
    parse_request(body.to_string().as_bytes())
}

fn minimal() -> Value {
    json!({ "model": "openai/gpt-4o-mini", "messages": [{ "role": "user", "content": "Hi" }] })
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

// ---------------------------------------------------------------------------------------------------
// Inbound: parse_request
// ---------------------------------------------------------------------------------------------------

#[test]
fn a_full_request_parses_every_documented_field() {
    let request = parse_request(FULL_REQUEST.as_bytes()).unwrap();

    assert_eq!(request.model, "anthropic/claude-sonnet-4-5");
    assert_eq!(
        request.messages,
        vec![
            Message::system("You are a weather bot."),
            Message::text(Role::Developer, "Answer in metric units."),
            Message {
                name: Some("alice".into()),
                content: vec![
                    ContentPart::Text("What is the weather in Paris? Here is a photo.".into()),
                    ContentPart::Image {
                        url: "https://example.com/paris.png".into(),
                        detail: Some("high".into()),
                    },
                    ContentPart::Image {
                        url: "data:image/jpeg;base64,/9j/4AAQSkZJRg==".into(),
                        detail: None,
                    },
                ],
                ..Message::user("")
            },
            Message {
                content: Vec::new(),
                tool_calls: vec![ToolCall {
                    id: "call_abc123".into(),
                    name: "get_weather".into(),
                    arguments: "{\"city\":\"Paris\"}".into(),
                }],
                ..Message::assistant("")
            },
            Message::tool("call_abc123", "{\"temperature_c\":21,\"sky\":\"clear\"}"),
            Message::user("Thanks! And tomorrow?"),
        ]
    );
    assert_eq!(request.temperature, Some(0.7));
    assert_eq!(request.top_p, Some(0.9));
    assert_eq!(request.max_tokens, Some(256), "max_completion_tokens wins");
    assert_eq!(request.stop, vec!["\n\nUser:".to_owned(), "END".to_owned()]);
    assert_eq!(request.n, Some(1));
    assert_eq!(request.presence_penalty, Some(0.5));
    assert_eq!(request.frequency_penalty, Some(-0.5));
    assert_eq!(request.seed, Some(42));
    assert_eq!(request.user.as_deref(), Some("user-1234"));
    assert_eq!(
        request.response_format,
        Some(ResponseFormat::JsonSchema {
            name: "forecast".into(),
            description: None,
            schema: Some(json!({
                "type": "object",
                "properties": { "summary": { "type": "string" } },
                "required": ["summary"],
                "additionalProperties": false
            })),
            strict: Some(true),
        })
    );
    assert_eq!(request.tools.len(), 1);
    assert_eq!(request.tools[0].name, "get_weather");
    assert_eq!(
        request.tools[0].description.as_deref(),
        Some("Current weather for a city.")
    );
    assert_eq!(request.tools[0].strict, Some(true));
    assert_eq!(
        request.tools[0].parameters.as_ref().unwrap()["required"],
        json!(["city"])
    );
    assert_eq!(
        request.tool_choice,
        Some(ToolChoice::Function("get_weather".into()))
    );
    assert_eq!(request.parallel_tool_calls, Some(false));
    assert!(request.stream);
    assert!(request.include_usage);
    assert_eq!(
        Value::Object(request.extra),
        json!({ "logprobs": false, "metadata": { "session": "s-1" } })
    );
    assert_eq!(
        request.reasoning,
        Some(gaia_core::Reasoning::Effort(
            gaia_core::ReasoningEffort::Low
        )),
        "a known reasoning_effort becomes the canonical setting"
    );
}

#[test]
fn a_minimal_request_has_defaults_everywhere_else() {
    let request = parse(minimal()).unwrap();
    assert_eq!(
        request,
        ChatRequest::new("openai/gpt-4o-mini", vec![Message::user("Hi")])
    );
}

#[test]
fn max_tokens_alone_is_the_output_budget() {
    let request = parse(with(minimal(), "max_tokens", json!(64))).unwrap();
    assert_eq!(request.max_tokens, Some(64));
}

#[test]
fn stop_may_be_a_string_or_an_array() {
    assert_eq!(
        parse(with(minimal(), "stop", json!("END"))).unwrap().stop,
        vec!["END".to_owned()]
    );
    assert_eq!(
        parse(with(minimal(), "stop", json!(["a", "b"])))
            .unwrap()
            .stop,
        vec!["a".to_owned(), "b".to_owned()]
    );
}

#[test]
fn null_optional_fields_are_treated_as_absent() {
    let mut body = minimal();
    for key in [
        "temperature",
        "top_p",
        "max_tokens",
        "stop",
        "n",
        "seed",
        "user",
        "tools",
        "tool_choice",
        "response_format",
        "stream",
        "stream_options",
        "parallel_tool_calls",
    ] {
        body[key] = Value::Null;
    }
    let request = parse(body).unwrap();
    assert_eq!(
        request,
        ChatRequest::new("openai/gpt-4o-mini", vec![Message::user("Hi")])
    );
    assert!(request.extra.is_empty());
}

#[test]
fn tool_choice_strings_map_to_their_variants() {
    let tools = json!([{ "type": "function", "function": { "name": "f" } }]);
    for (wire, expected) in [
        ("auto", ToolChoice::Auto),
        ("none", ToolChoice::None),
        ("required", ToolChoice::Required),
    ] {
        let body = with(
            with(minimal(), "tools", tools.clone()),
            "tool_choice",
            json!(wire),
        );
        assert_eq!(parse(body).unwrap().tool_choice, Some(expected));
    }
}

#[test]
fn response_formats_text_and_json_object_are_recognised() {
    let text = with(minimal(), "response_format", json!({ "type": "text" }));
    assert_eq!(
        parse(text).unwrap().response_format,
        Some(ResponseFormat::Text)
    );
    let object = with(
        minimal(),
        "response_format",
        json!({ "type": "json_object" }),
    );
    assert_eq!(
        parse(object).unwrap().response_format,
        Some(ResponseFormat::JsonObject)
    );
}

#[test]
fn assistant_refusal_parts_and_object_arguments_are_accepted() {
    let body = with(
        minimal(),
        "messages",
        json!([
            { "role": "user", "content": "x" },
            { "role": "assistant", "content": [{ "type": "refusal", "refusal": "I can't." }],
              "tool_calls": [{ "id": "c1", "type": "function", "function": { "name": "f", "arguments": { "a": 1 } } }] }
        ]),
    );
    let request = parse(body).unwrap();
    assert_eq!(request.messages[1].text_content(), "I can't.");
    assert_eq!(request.messages[1].tool_calls[0].arguments, "{\"a\":1}");
}

#[test]
fn bad_inputs_are_400s_that_name_the_parameter() {
    let msgs = |messages: Value| with(minimal(), "messages", messages);
    let tools = |tools: Value| with(minimal(), "tools", tools);
    let cases: Vec<(Value, &str)> = vec![
        (json!({ "messages": [] }), "model"),
        (with(minimal(), "model", json!(4)), "model"),
        (with(minimal(), "model", json!("  ")), "model"),
        (json!({ "model": "m" }), "messages"),
        (msgs(json!([])), "messages"),
        (msgs(json!("hi")), "messages"),
        (msgs(json!(["hi"])), "messages[0]"),
        (msgs(json!([{ "content": "hi" }])), "messages[0].role"),
        (
            msgs(json!([{ "role": "wizard", "content": "hi" }])),
            "messages[0].role",
        ),
        (
            msgs(json!([{ "role": "function", "content": "hi" }])),
            "messages[0].role",
        ),
        (msgs(json!([{ "role": "user" }])), "messages[0].content"),
        (
            msgs(json!([{ "role": "user", "content": 3 }])),
            "messages[0].content",
        ),
        (
            msgs(json!([{ "role": "user", "content": ["x"] }])),
            "messages[0].content[0]",
        ),
        (
            msgs(json!([{ "role": "user", "content": [{ "text": "x" }] }])),
            "messages[0].content[0].type",
        ),
        (
            msgs(json!([{ "role": "user", "content": [{ "type": "text" }] }])),
            "messages[0].content[0].text",
        ),
        (
            msgs(json!([{ "role": "user", "content": [{ "type": "text", "text": 1 }] }])),
            "messages[0].content[0].text",
        ),
        (
            msgs(
                json!([{ "role": "user", "content": [{ "type": "input_audio", "input_audio": {} }] }]),
            ),
            "messages[0].content[0].type",
        ),
        (
            msgs(
                json!([{ "role": "system", "content": [{ "type": "image_url", "image_url": { "url": "https://x/y.png" } }] }]),
            ),
            "messages[0].content[0].type",
        ),
        (
            msgs(
                json!([{ "role": "user", "content": [{ "type": "text", "text": "a" }, { "type": "image_url", "image_url": { "url": "ftp://x/y.png" } }] }]),
            ),
            "messages[0].content[1].image_url.url",
        ),
        (
            msgs(
                json!([{ "role": "user", "content": [{ "type": "image_url", "image_url": { "url": "data:image/png,raw" } }] }]),
            ),
            "messages[0].content[0].image_url.url",
        ),
        (
            msgs(
                json!([{ "role": "user", "content": [{ "type": "image_url", "image_url": {} }] }]),
            ),
            "messages[0].content[0].image_url.url",
        ),
        (
            msgs(json!([{ "role": "user", "content": [{ "type": "image_url" }] }])),
            "messages[0].content[0].image_url",
        ),
        (
            msgs(json!([{ "role": "user", "content": "x" }, { "role": "tool", "content": "42" }])),
            "messages[1].tool_call_id",
        ),
        (
            msgs(
                json!([{ "role": "user", "content": "x", "tool_calls": [{ "id": "c", "function": { "name": "f", "arguments": "{}" } }] }]),
            ),
            "messages[0].tool_calls",
        ),
        (
            msgs(
                json!([{ "role": "assistant", "tool_calls": [{ "function": { "name": "f", "arguments": "{}" } }] }]),
            ),
            "messages[0].tool_calls[0].id",
        ),
        (
            msgs(json!([{ "role": "assistant", "tool_calls": [{ "id": "c" }] }])),
            "messages[0].tool_calls[0].function",
        ),
        (
            msgs(
                json!([{ "role": "assistant", "tool_calls": [{ "id": "c", "type": "custom", "function": { "name": "f" } }] }]),
            ),
            "messages[0].tool_calls[0].type",
        ),
        (
            msgs(
                json!([{ "role": "assistant", "tool_calls": [{ "id": "c", "function": { "name": "f", "arguments": 3 } }] }]),
            ),
            "messages[0].tool_calls[0].function.arguments",
        ),
        (
            msgs(json!([{ "role": "user", "content": "x", "name": 7 }])),
            "messages[0].name",
        ),
        (with(minimal(), "temperature", json!(2.5)), "temperature"),
        (with(minimal(), "temperature", json!(-0.1)), "temperature"),
        (with(minimal(), "temperature", json!("hot")), "temperature"),
        (with(minimal(), "top_p", json!(1.5)), "top_p"),
        (with(minimal(), "n", json!(0)), "n"),
        (with(minimal(), "n", json!(129)), "n"),
        (with(minimal(), "n", json!(1.5)), "n"),
        (with(minimal(), "max_tokens", json!(0)), "max_tokens"),
        (with(minimal(), "max_tokens", json!(-5)), "max_tokens"),
        (with(minimal(), "max_tokens", json!("10")), "max_tokens"),
        (
            with(minimal(), "max_completion_tokens", json!(5_000_000_000u64)),
            "max_completion_tokens",
        ),
        (
            with(minimal(), "presence_penalty", json!(3)),
            "presence_penalty",
        ),
        (
            with(minimal(), "frequency_penalty", json!(-2.01)),
            "frequency_penalty",
        ),
        (with(minimal(), "seed", json!("x")), "seed"),
        (with(minimal(), "seed", json!(u64::MAX)), "seed"),
        (with(minimal(), "user", json!(5)), "user"),
        (with(minimal(), "stop", json!(5)), "stop"),
        (with(minimal(), "stop", json!(["ok", 1])), "stop[1]"),
        (with(minimal(), "stream", json!("yes")), "stream"),
        (
            with(
                minimal(),
                "stream_options",
                json!({ "include_usage": "yes" }),
            ),
            "stream_options.include_usage",
        ),
        (
            with(minimal(), "stream_options", json!(true)),
            "stream_options",
        ),
        (
            with(minimal(), "parallel_tool_calls", json!("no")),
            "parallel_tool_calls",
        ),
        (
            with(minimal(), "response_format", json!("json")),
            "response_format",
        ),
        (
            with(minimal(), "response_format", json!({ "type": "xml" })),
            "response_format.type",
        ),
        (
            with(
                minimal(),
                "response_format",
                json!({ "type": "json_schema" }),
            ),
            "response_format.json_schema",
        ),
        (
            with(
                minimal(),
                "response_format",
                json!({ "type": "json_schema", "json_schema": { "schema": {} } }),
            ),
            "response_format.json_schema.name",
        ),
        (
            with(
                minimal(),
                "response_format",
                json!({ "type": "json_schema", "json_schema": { "name": "x", "schema": [] } }),
            ),
            "response_format.json_schema.schema",
        ),
        (tools(json!({})), "tools"),
        (
            tools(json!([{ "type": "custom", "custom": {} }])),
            "tools[0].type",
        ),
        (tools(json!([{ "type": "function" }])), "tools[0].function"),
        (
            tools(json!([{ "type": "function", "function": {} }])),
            "tools[0].function.name",
        ),
        (
            tools(json!([{ "type": "function", "function": { "name": "get weather" } }])),
            "tools[0].function.name",
        ),
        (
            tools(json!([{ "type": "function", "function": { "name": "x".repeat(65) } }])),
            "tools[0].function.name",
        ),
        (
            tools(json!([{ "type": "function", "function": { "name": "f", "parameters": "{}" } }])),
            "tools[0].function.parameters",
        ),
        (
            tools(json!([{ "type": "function", "function": { "name": "f", "strict": "yes" } }])),
            "tools[0].function.strict",
        ),
        (
            tools(json!([{ "type": "function", "function": { "name": "f", "description": 1 } }])),
            "tools[0].function.description",
        ),
        (
            with(minimal(), "tool_choice", json!("sometimes")),
            "tool_choice",
        ),
        (with(minimal(), "tool_choice", json!(3)), "tool_choice"),
        (
            with(
                minimal(),
                "tool_choice",
                json!({ "type": "function", "function": { "name": "nope" } }),
            ),
            "tool_choice.function.name",
        ),
        (
            with(minimal(), "tool_choice", json!({ "type": "function" })),
            "tool_choice.function",
        ),
        (
            with(minimal(), "tool_choice", json!({ "type": "allowed_tools" })),
            "tool_choice.type",
        ),
    ];
    for (body, param) in cases {
        let err = parse(body.clone()).expect_err(&body.to_string());
        assert_eq!(err.status(), 400, "{body}");
        assert_eq!(err.param.as_deref(), Some(param), "{body}: {}", err.message);
        assert!(!err.message.is_empty());
    }
}

#[test]
fn bodies_that_are_not_json_objects_are_400s() {
    for body in [&b"not json"[..], b"[]", b"\"x\"", b"", b"{\"model\":"] {
        let err = parse_request(body).unwrap_err();
        assert_eq!(err.status(), 400);
        assert_eq!(err.param, None);
    }
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop_oneof![
            Just("user".to_owned()),
            Just("assistant".to_owned()),
            Just("tool".to_owned()),
            Just("text".to_owned()),
            Just("image_url".to_owned()),
            Just("function".to_owned()),
            "\\PC{0,8}",
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("role".to_owned()),
                    Just("content".to_owned()),
                    Just("type".to_owned()),
                    Just("text".to_owned()),
                    Just("image_url".to_owned()),
                    Just("url".to_owned()),
                    Just("tool_calls".to_owned()),
                    Just("function".to_owned()),
                    Just("name".to_owned()),
                    Just("arguments".to_owned()),
                    Just("id".to_owned()),
                    Just("tool_call_id".to_owned()),
                    "[a-z_]{1,6}",
                ],
                inner,
                0..6,
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn parse_request_never_panics_and_only_fails_with_400(
        messages in arb_json(),
        fields in proptest::collection::btree_map(
            prop_oneof![
                Just("temperature".to_owned()), Just("top_p".to_owned()), Just("n".to_owned()),
                Just("stop".to_owned()), Just("tools".to_owned()), Just("tool_choice".to_owned()),
                Just("response_format".to_owned()), Just("stream_options".to_owned()),
                Just("max_tokens".to_owned()), Just("seed".to_owned()),
            ],
            arb_json(),
            0..4,
        ),
    ) {
        let mut body = json!({ "model": "m", "messages": messages });
        for (key, value) in fields {
            body[key] = value;
        }
        if let Err(err) = parse(body) {
            prop_assert_eq!(err.status(), 400);
        }
    }

    #[test]
    fn parse_request_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Err(err) = parse_request(&bytes) {
            prop_assert_eq!(err.status(), 400);
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Outbound: build_request
// ---------------------------------------------------------------------------------------------------

#[test]
fn build_request_writes_openai_fields_and_passes_extra_through() {
    let request = parse_request(FULL_REQUEST.as_bytes()).unwrap();
    let body = build_request(&request, "gpt-4o");

    assert_eq!(
        body,
        json!({
            "model": "gpt-4o",
            "messages": [
                { "role": "system", "content": "You are a weather bot." },
                { "role": "developer", "content": "Answer in metric units." },
                { "role": "user", "name": "alice", "content": [
                    { "type": "text", "text": "What is the weather in Paris? Here is a photo." },
                    { "type": "image_url", "image_url": { "url": "https://example.com/paris.png", "detail": "high" } },
                    { "type": "image_url", "image_url": { "url": "data:image/jpeg;base64,/9j/4AAQSkZJRg==" } }
                ] },
                { "role": "assistant", "content": null, "tool_calls": [
                    { "id": "call_abc123", "type": "function", "function": { "name": "get_weather", "arguments": "{\"city\":\"Paris\"}" } }
                ] },
                { "role": "tool", "tool_call_id": "call_abc123", "content": "{\"temperature_c\":21,\"sky\":\"clear\"}" },
                { "role": "user", "content": "Thanks! And tomorrow?" }
            ],
            "temperature": 0.7,
            "top_p": 0.9,
            "max_completion_tokens": 256,
            "stop": ["\n\nUser:", "END"],
            "n": 1,
            "presence_penalty": 0.5,
            "frequency_penalty": -0.5,
            "seed": 42,
            "user": "user-1234",
            "response_format": { "type": "json_schema", "json_schema": {
                "name": "forecast", "strict": true,
                "schema": { "type": "object", "properties": { "summary": { "type": "string" } }, "required": ["summary"], "additionalProperties": false }
            } },
            "tools": [{ "type": "function", "function": {
                "name": "get_weather",
                "description": "Current weather for a city.",
                "parameters": request.tools[0].parameters.clone().unwrap(),
                "strict": true
            } }],
            "tool_choice": { "type": "function", "function": { "name": "get_weather" } },
            "parallel_tool_calls": false,
            "stream": true,
            "stream_options": { "include_usage": true },
            "logprobs": false,
            "reasoning_effort": "low",
            "metadata": { "session": "s-1" }
        })
    );
}

#[test]
fn compatible_requests_use_max_tokens_and_system_for_developer_messages() {
    let mut request = ChatRequest::new(
        "x",
        vec![
            Message::text(Role::Developer, "Be brief."),
            Message::user("Hi"),
        ],
    );
    request.max_tokens = Some(10);
    let body = build_compatible_request(&request, "deepseek-chat");
    assert_eq!(
        body,
        json!({
            "model": "deepseek-chat",
            "messages": [
                { "role": "system", "content": "Be brief." },
                { "role": "user", "content": "Hi" }
            ],
            "max_tokens": 10
        })
    );
}

#[test]
fn streaming_requests_always_ask_upstream_for_usage() {
    let mut request = ChatRequest::new("x", vec![Message::user("Hi")]);
    request.stream = true;
    request.include_usage = false;
    let body = build_request(&request, "gpt-4o-mini");
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"], json!({ "include_usage": true }));
}

#[test]
fn canonical_fields_override_extra_and_non_streaming_drops_stream_options() {
    let mut request = ChatRequest::new("x", vec![Message::user("Hi")]);
    request.extra.insert("model".into(), "sneaky".into());
    request.extra.insert("stream".into(), true.into());
    request
        .extra
        .insert("stream_options".into(), json!({ "include_usage": false }));
    let body = build_request(&request, "gpt-4o-mini");
    assert_eq!(body["model"], "gpt-4o-mini");
    assert!(body.get("stream").is_none());
    assert!(body.get("stream_options").is_none());
}

/// The top-level keys of a JSON object, in order, duplicates kept (a `Value` would keep only the last).
fn top_level_keys(body: &[u8]) -> Vec<String> {
    use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};
    struct Keys;
    impl<'de> Visitor<'de> for Keys {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
            let mut keys = Vec::new();
            while let Some((key, IgnoredAny)) = map.next_entry::<String, IgnoredAny>()? {
                keys.push(key);
            }
            Ok(keys)
        }
    }
    serde_json::Deserializer::from_slice(body)
        .deserialize_map(Keys)
        .unwrap()
}

#[test]
fn the_encoded_body_is_the_built_one_with_every_key_once() {
    let mut request = parse_request(FULL_REQUEST.as_bytes()).unwrap();
    // Extra fields that collide with canonical ones, written and not written.
    for key in [
        "model",
        "messages",
        "temperature",
        "stream",
        "stream_options",
        "tools",
    ] {
        request.extra.insert(key.into(), json!("from extra"));
    }
    for (stream, compatible) in [(true, false), (false, false), (true, true), (false, true)] {
        request.stream = stream;
        let flavor = if compatible {
            Flavor::Compatible
        } else {
            Flavor::OpenAi
        };
        let bytes = encode_request(&request, "gpt-4o", flavor).unwrap();
        let built = if compatible {
            build_compatible_request(&request, "gpt-4o")
        } else {
            build_request(&request, "gpt-4o")
        };
        assert_eq!(serde_json::from_slice::<Value>(&bytes).unwrap(), built);
        let keys = top_level_keys(&bytes);
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(keys.len(), unique.len(), "{keys:?}");
        assert_eq!(built["model"], "gpt-4o");
        assert_eq!(built["temperature"], 0.7);
        assert_eq!(built.get("stream").is_some(), stream);
    }
    // An extra field whose canonical twin is unset passes through.
    request.temperature = None;
    assert_eq!(build_request(&request, "m")["temperature"], "from extra");
}

#[test]
fn tool_settings_are_omitted_without_tools() {
    let mut request = ChatRequest::new("x", vec![Message::user("Hi")]);
    request.tool_choice = Some(ToolChoice::Required);
    request.parallel_tool_calls = Some(true);
    let body = build_request(&request, "gpt-4o-mini");
    assert!(body.get("tools").is_none());
    assert!(body.get("tool_choice").is_none());
    assert!(body.get("parallel_tool_calls").is_none());
}

#[test]
fn tool_choice_variants_are_written_in_openai_form() {
    let mut request = ChatRequest::new("x", vec![Message::user("Hi")]);
    request.tools = vec![Tool {
        name: "f".into(),
        description: None,
        parameters: None,
        strict: None,
        cache_control: None,
    }];
    for (choice, wire) in [
        (ToolChoice::Auto, json!("auto")),
        (ToolChoice::None, json!("none")),
        (ToolChoice::Required, json!("required")),
        (
            ToolChoice::Function("f".into()),
            json!({ "type": "function", "function": { "name": "f" } }),
        ),
    ] {
        request.tool_choice = Some(choice);
        let body = build_request(&request, "m");
        assert_eq!(body["tool_choice"], wire);
        assert_eq!(
            body["tools"],
            json!([{ "type": "function", "function": { "name": "f" } }])
        );
    }
}

#[test]
fn a_built_request_parses_back_to_the_same_canonical_request() {
    let original = parse_request(FULL_REQUEST.as_bytes()).unwrap();
    let rebuilt = build_request(&original, "anthropic/claude-sonnet-4-5");
    let reparsed = parse(rebuilt).unwrap();
    assert_eq!(reparsed, original);
}

proptest! {
    #[test]
    fn building_any_request_never_panics_and_preserves_text(request in arb_request()) {
        let body = build_request(&request, "gpt-4o");
        assert_texts_preserved(&request, &body);
        let compatible = build_compatible_request(&request, "llama");
        assert_texts_preserved(&request, &compatible);
        prop_assert_eq!(body["messages"].as_array().map(Vec::len), Some(request.messages.len()));
    }
}

// ---------------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------------

#[test]
fn a_tool_call_response_parses_into_canonical_form() {
    let response = parse_response(RESPONSE_TOOL_CALLS.as_bytes(), &meta()).unwrap();
    assert_eq!(
        response,
        ChatResponse {
            id: "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG".into(),
            created: 1_741_570_283,
            model: "gpt-4o-2024-08-06".into(),
            choices: vec![Choice::assistant(
                0,
                String::new(),
                vec![
                    ToolCall {
                        id: "call_UmZMpL4RUFv1eoWHUOEvyGcs".into(),
                        name: "get_weather".into(),
                        arguments: "{\"city\":\"Paris\"}".into(),
                    },
                    ToolCall {
                        id: "call_kV8qtmqlO4Zv1tIzR7Y0ELU6".into(),
                        name: "get_weather".into(),
                        arguments: "{\"city\":\"Tokyo\"}".into(),
                    },
                ],
                Some(FinishReason::ToolCalls),
            )],
            usage: Some(Usage {
                cached_tokens: 1024,
                ..Usage::new(1117, 46)
            }),
        }
    );
}

#[test]
fn compatible_servers_missing_fields_are_filled_from_meta() {
    let body = json!({
        "choices": [
            { "message": { "role": "assistant", "content": [{ "type": "text", "text": "a" }, { "type": "text", "text": "b" }] }, "finish_reason": "length" },
            { "message": { "role": "assistant", "content": null, "refusal": "No." }, "finish_reason": "content_filter" }
        ],
        "usage": { "prompt_tokens": 3, "completion_tokens": 2 }
    });
    let response = parse_response(body.to_string().as_bytes(), &meta()).unwrap();
    assert_eq!(response.id, "chatcmpl-gaia-1");
    assert_eq!(response.model, "requested-model");
    assert_eq!(response.created, 1_700_000_000);
    assert_eq!(response.choices[0].message.text_content(), "ab");
    assert_eq!(
        response.choices[0].finish_reason,
        Some(FinishReason::Length)
    );
    assert_eq!(response.choices[1].index, 1);
    assert_eq!(response.choices[1].message.text_content(), "No.");
    assert_eq!(
        response.choices[1].finish_reason,
        Some(FinishReason::ContentFilter)
    );
    assert_eq!(response.usage, Some(Usage::new(3, 2)));
}

#[test]
fn finish_reasons_map_onto_the_canonical_four() {
    for (wire, expected) in [
        ("stop", FinishReason::Stop),
        ("length", FinishReason::Length),
        ("tool_calls", FinishReason::ToolCalls),
        ("function_call", FinishReason::ToolCalls),
        ("content_filter", FinishReason::ContentFilter),
        ("eos", FinishReason::Stop),
    ] {
        assert_eq!(finish_reason(wire), expected, "{wire}");
    }
}

#[test]
fn malformed_upstream_responses_are_502s() {
    for body in [&b"<html>"[..], b"{\"choices\": 5}"] {
        assert_eq!(parse_response(body, &meta()).unwrap_err().status(), 502);
    }
}

#[test]
fn encode_response_has_the_exact_chat_completion_shape() {
    let response = ChatResponse {
        id: "chatcmpl-1".into(),
        created: 1_700_000_000,
        model: "claude-sonnet-4-5-20250929".into(),
        choices: vec![Choice::assistant(
            0,
            String::new(),
            vec![ToolCall {
                id: "toolu_1".into(),
                name: "get_weather".into(),
                arguments: "{\"city\":\"Paris\"}".into(),
            }],
            Some(FinishReason::ToolCalls),
        )],
        usage: Some(Usage {
            cached_tokens: 5,
            cache_creation_tokens: 7,
            reasoning_tokens: 3,
            ..Usage::new(20, 10)
        }),
    };
    assert_eq!(
        encode_response(&response, "anthropic/claude-sonnet-4-5"),
        json!({
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": "anthropic/claude-sonnet-4-5",
            "choices": [{
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": null,
                    "refusal": null,
                    "tool_calls": [{ "id": "toolu_1", "type": "function", "function": { "name": "get_weather", "arguments": "{\"city\":\"Paris\"}" } }]
                },
                "logprobs": null,
                "finish_reason": "tool_calls"
            }],
            "usage": {
                "prompt_tokens": 20,
                "completion_tokens": 10,
                "total_tokens": 30,
                "prompt_tokens_details": { "cached_tokens": 5, "cache_write_tokens": 7 },
                "completion_tokens_details": { "reasoning_tokens": 3 }
            }
        })
    );
}

#[test]
fn the_bytes_sent_are_the_same_document_in_openais_field_order_with_the_given_id() {
    let response = ChatResponse {
        id: "upstream-id".into(),
        created: 7,
        model: "m".into(),
        choices: vec![
            Choice::assistant(
                0,
                "Hé \"quoted\"\n".into(),
                Vec::new(),
                Some(FinishReason::Stop),
            ),
            Choice::assistant(
                1,
                "with a call".into(),
                vec![ToolCall {
                    id: "c1".into(),
                    name: "f".into(),
                    arguments: "{}".into(),
                }],
                Some(FinishReason::ToolCalls),
            ),
        ],
        usage: Some(Usage::new(3, 4)),
    };
    let bytes = encode_response_bytes(&response, "alias", "chatcmpl-ours").unwrap();
    let text = std::str::from_utf8(&bytes).unwrap();
    assert!(
        text.starts_with(r#"{"id":"chatcmpl-ours","object":"chat.completion","created":7,"model":"alias","choices":[{"index":0,"message":{"role":"assistant","content":"Hé \"quoted\"\n","refusal":null},"logprobs":null,"finish_reason":"stop"}"#),
        "{text}"
    );
    let mut expected = encode_response(&response, "alias");
    expected["id"] = json!("chatcmpl-ours");
    assert_eq!(serde_json::from_slice::<Value>(&bytes).unwrap(), expected);
    assert_eq!(expected["choices"][1]["message"]["content"], "with a call");
    assert_eq!(expected["usage"]["total_tokens"], 7);
}

#[test]
fn encoded_text_responses_have_string_content_and_no_usage_when_unknown() {
    let response = ChatResponse {
        id: "id".into(),
        created: 1,
        model: "m".into(),
        choices: vec![Choice::assistant(0, "Hello".into(), Vec::new(), None)],
        usage: None,
    };
    let body = encode_response(&response, "alias");
    assert_eq!(body["choices"][0]["message"]["content"], "Hello");
    assert!(body["choices"][0]["message"].get("tool_calls").is_none());
    assert_eq!(body["choices"][0]["finish_reason"], Value::Null);
    assert!(body.get("usage").is_none());
}

#[test]
fn error_bodies_yield_their_message() {
    assert_eq!(
        parse_error(br#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#),
        Some("Incorrect API key provided".into())
    );
    assert_eq!(
        parse_error(br#"{"error":"model overloaded"}"#),
        Some("model overloaded".into())
    );
    assert_eq!(
        parse_error(br#"{"message":"not found"}"#),
        Some("not found".into())
    );
    assert_eq!(parse_error(b"<html>"), None);
    assert_eq!(parse_error(br#"{"error":{}}"#), None);
}

// ---------------------------------------------------------------------------------------------------
// Stream decoding
// ---------------------------------------------------------------------------------------------------

fn expected_tool_call_stream() -> Vec<StreamEvent> {
    vec![
        StreamEvent::Start {
            id: "chatcmpl-AyPNinnUqUDYo9SAdA52NobMflmj2".into(),
            model: "gpt-4o-mini-2024-07-18".into(),
            created: 1_738_960_610,
        },
        StreamEvent::TextDelta {
            choice: 0,
            text: "Checking ".into(),
        },
        StreamEvent::TextDelta {
            choice: 0,
            text: "both cities.".into(),
        },
        StreamEvent::ToolCallStart {
            choice: 0,
            index: 0,
            id: "call_DdmO9pD3xa9XTPNJ32zg2hcA".into(),
            name: "get_weather".into(),
        },
        StreamEvent::ToolCallArgsDelta {
            choice: 0,
            index: 0,
            arguments: "{\"ci".into(),
        },
        StreamEvent::ToolCallArgsDelta {
            choice: 0,
            index: 0,
            arguments: "ty\": \"Paris\"}".into(),
        },
        StreamEvent::ToolCallStart {
            choice: 0,
            index: 1,
            id: "call_9Tq3ZkK0Q6bWm1x2y3z4a5b6".into(),
            name: "get_weather".into(),
        },
        StreamEvent::ToolCallArgsDelta {
            choice: 0,
            index: 1,
            arguments: "{\"city\": \"東京\"}".into(),
        },
        StreamEvent::Finish {
            choice: 0,
            reason: FinishReason::ToolCalls,
        },
        StreamEvent::Usage(Usage {
            cached_tokens: 64,
            ..Usage::new(81, 42)
        }),
        StreamEvent::Done,
    ]
}

#[test]
fn a_tool_call_stream_decodes_into_canonical_events() {
    let mut decoder = OpenAiStreamDecoder::new(meta());
    let events = decode_transcript(&mut decoder, STREAM_TOOL_CALLS, &[]).unwrap();
    assert_eq!(events, expected_tool_call_stream());
    assert!(decoder.is_finished());
}

proptest! {
    #[test]
    fn the_stream_decodes_the_same_however_the_body_is_chunked(
        cuts in proptest::collection::vec(0usize..20_000, 0..30)
    ) {
        let mut decoder = OpenAiStreamDecoder::new(meta());
        let events = decode_transcript(&mut decoder, STREAM_TOOL_CALLS, &cuts).unwrap();
        prop_assert_eq!(events, expected_tool_call_stream());
    }

    #[test]
    fn the_decoder_never_panics_on_arbitrary_events(
        data in proptest::collection::vec(
            prop_oneof![
                "\\PC{0,40}",
                Just("[DONE]".to_owned()),
                Just(r#"{"choices":[{"index":3,"delta":{"tool_calls":[{"index":9,"function":{"arguments":"x"}}]},"finish_reason":"weird"}]}"#.to_owned()),
                Just(r#"{"choices":null,"usage":{"prompt_tokens":1}}"#.to_owned()),
            ],
            0..10,
        )
    ) {
        let mut decoder = OpenAiStreamDecoder::new(meta());
        for data in data {
            let _ = decoder.decode(&SseEvent::new(None, data));
        }
        let _ = decoder.finish();
    }
}

fn chunk(value: Value) -> SseEvent {
    SseEvent::new(None, value.to_string())
}

#[test]
fn a_body_ending_after_every_choice_finished_is_complete_even_without_done() {
    let mut decoder = OpenAiStreamDecoder::new(meta());
    decoder
        .decode(&chunk(
            json!({ "choices": [{ "index": 0, "delta": { "content": "hi" } }] }),
        ))
        .unwrap();
    assert!(!decoder.is_finished());
    decoder
        .decode(&chunk(
            json!({ "choices": [{ "index": 0, "delta": {}, "finish_reason": "stop" }] }),
        ))
        .unwrap();
    assert!(decoder.is_finished());
    assert_eq!(decoder.finish().unwrap(), vec![StreamEvent::Done]);
}

#[test]
fn a_truncated_stream_is_an_error() {
    let mut decoder = OpenAiStreamDecoder::new(meta());
    let events = decoder
        .decode(&chunk(
            json!({ "id": "c1", "choices": [{ "index": 0, "delta": { "content": "hal" } }] }),
        ))
        .unwrap();
    assert_eq!(
        events[0],
        StreamEvent::Start {
            id: "c1".into(),
            model: "requested-model".into(),
            created: 1_700_000_000
        }
    );
    assert_eq!(decoder.finish().unwrap_err().status(), 502);
    let mut empty = OpenAiStreamDecoder::new(meta());
    assert!(empty.finish().is_err());
}

#[test]
fn an_in_stream_error_becomes_an_error_event_and_ends_the_stream() {
    let mut decoder = OpenAiStreamDecoder::new(meta());
    let events = decoder
        .decode(&chunk(
            json!({ "error": { "message": "server overloaded", "type": "server_error" } }),
        ))
        .unwrap();
    assert_eq!(
        events,
        vec![StreamEvent::Error(GaiaError::upstream("server overloaded"))]
    );
    assert!(decoder.is_finished());
    assert!(
        decoder
            .decode(&SseEvent::new(None, "[DONE]"))
            .unwrap()
            .is_empty()
    );
    assert!(decoder.finish().unwrap().is_empty());
}

#[test]
fn malformed_chunks_are_502s() {
    let mut decoder = OpenAiStreamDecoder::new(meta());
    let err = decoder
        .decode(&SseEvent::new(None, "{not json"))
        .unwrap_err();
    assert_eq!(err.status(), 502);
}

#[test]
fn reasoning_fields_of_compatible_servers_become_reasoning_deltas() {
    let mut decoder = OpenAiStreamDecoder::new(meta());
    let events = decoder
        .decode(&chunk(json!({ "choices": [
            { "index": 0, "delta": { "reasoning_content": "think", "content": "" } },
            { "index": 1, "delta": { "reasoning": "ponder" } }
        ] })))
        .unwrap();
    assert_eq!(
        events[1..],
        [
            StreamEvent::ReasoningDelta {
                choice: 0,
                text: "think".into()
            },
            StreamEvent::ReasoningDelta {
                choice: 1,
                text: "ponder".into()
            },
        ]
    );
}

#[test]
fn tool_calls_are_announced_once_even_when_servers_repeat_the_id() {
    let mut decoder = OpenAiStreamDecoder::new(meta());
    let first = json!({ "choices": [{ "index": 0, "delta": { "tool_calls": [
        { "index": 0, "id": "call_1", "function": { "name": "f", "arguments": "{\"a\"" } }
    ] } }] });
    let repeated = json!({ "choices": [{ "index": 0, "delta": { "tool_calls": [
        { "index": 0, "id": "call_1", "function": { "arguments": ":1}" } }
    ] } }] });
    let mut events = decoder.decode(&chunk(first)).unwrap();
    events.extend(decoder.decode(&chunk(repeated)).unwrap());
    assert_eq!(
        events[1..],
        [
            StreamEvent::ToolCallStart {
                choice: 0,
                index: 0,
                id: "call_1".into(),
                name: "f".into()
            },
            StreamEvent::ToolCallArgsDelta {
                choice: 0,
                index: 0,
                arguments: "{\"a\"".into()
            },
            StreamEvent::ToolCallArgsDelta {
                choice: 0,
                index: 0,
                arguments: ":1}".into()
            },
        ]
    );
}

#[test]
fn a_tool_call_without_id_at_a_new_index_gets_a_synthetic_id() {
    let mut decoder = OpenAiStreamDecoder::new(meta());
    let events = decoder
        .decode(&chunk(
            json!({ "choices": [{ "index": 2, "delta": { "tool_calls": [
            { "index": 1, "function": { "name": "g", "arguments": "{}" } }
        ] } }] }),
        ))
        .unwrap();
    assert_eq!(
        events[1..],
        [
            StreamEvent::ToolCallStart {
                choice: 2,
                index: 1,
                id: "call_2_1".into(),
                name: "g".into()
            },
            StreamEvent::ToolCallArgsDelta {
                choice: 2,
                index: 1,
                arguments: "{}".into()
            },
        ]
    );
}

// ---------------------------------------------------------------------------------------------------
// Stream encoding
// ---------------------------------------------------------------------------------------------------

fn encode_all(encoder: &mut OpenAiStreamEncoder, events: &[StreamEvent]) -> String {
    let mut out = String::new();
    for event in events {
        encoder.encode(event, &mut out);
    }
    out
}

fn frames(sse: &str) -> Vec<Value> {
    let mut parser = SseParser::new();
    parser
        .push(sse.as_bytes())
        .unwrap()
        .into_iter()
        .filter(|event| event.data != "[DONE]")
        .map(|event| serde_json::from_str(&event.data).unwrap())
        .collect()
}

fn text_stream() -> Vec<StreamEvent> {
    vec![
        StreamEvent::Start {
            id: "msg_1".into(),
            model: "claude-sonnet-4-5-20250929".into(),
            created: 1_700_000_000,
        },
        StreamEvent::TextDelta {
            choice: 0,
            text: "Hel".into(),
        },
        StreamEvent::TextDelta {
            choice: 0,
            text: "lo \"world\"\n".into(),
        },
        StreamEvent::Finish {
            choice: 0,
            reason: FinishReason::Stop,
        },
        StreamEvent::Usage(Usage::new(12, 3)),
        StreamEvent::Done,
    ]
}

#[test]
fn a_text_stream_encodes_to_exact_openai_chunks_with_a_final_usage_chunk() {
    let mut encoder = OpenAiStreamEncoder::new("anthropic/claude-sonnet-4-5", true);
    let out = encode_all(&mut encoder, &text_stream());
    let prefix = r#"data: {"id":"msg_1","object":"chat.completion.chunk","created":1700000000,"model":"anthropic/claude-sonnet-4-5","#;
    let expected = [
        r#""choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null}"#,
        r#""choices":[{"index":0,"delta":{"content":"Hel"},"logprobs":null,"finish_reason":null}],"usage":null}"#,
        r#""choices":[{"index":0,"delta":{"content":"lo \"world\"\n"},"logprobs":null,"finish_reason":null}],"usage":null}"#,
        r#""choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}"#,
        r#""choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}"#,
    ]
    .iter()
    .map(|frame| format!("{prefix}{frame}\n\n"))
    .collect::<String>()
        + "data: [DONE]\n\n";
    assert_eq!(out, expected);
}

#[test]
fn without_include_usage_there_is_no_usage_chunk_or_usage_field() {
    let mut encoder = OpenAiStreamEncoder::new("m", false);
    let out = encode_all(&mut encoder, &text_stream());
    assert!(!out.contains("usage"));
    assert!(out.ends_with("\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n"));
}

#[test]
fn tool_call_events_encode_as_openai_tool_call_deltas() {
    let mut encoder = OpenAiStreamEncoder::new("m", false);
    let out = encode_all(&mut encoder, &expected_tool_call_stream());
    let frames = frames(&out);
    assert_eq!(
        frames[3]["choices"][0]["delta"],
        json!({ "tool_calls": [{ "index": 0, "id": "call_DdmO9pD3xa9XTPNJ32zg2hcA", "type": "function", "function": { "name": "get_weather", "arguments": "" } }] })
    );
    assert_eq!(
        frames[4]["choices"][0]["delta"],
        json!({ "tool_calls": [{ "index": 0, "function": { "arguments": "{\"ci" } }] })
    );
    assert_eq!(frames[8]["choices"][0]["finish_reason"], "tool_calls");
    for frame in &frames {
        assert_eq!(frame["id"], "chatcmpl-AyPNinnUqUDYo9SAdA52NobMflmj2");
        assert_eq!(frame["created"], 1_738_960_610);
        assert_eq!(frame["model"], "m");
        assert_eq!(frame["object"], "chat.completion.chunk");
    }
}

#[test]
fn the_first_chunk_of_every_choice_carries_the_assistant_role() {
    let mut encoder = OpenAiStreamEncoder::new("m", false);
    let out = encode_all(
        &mut encoder,
        &[
            StreamEvent::Start {
                id: "x".into(),
                model: "up".into(),
                created: 1,
            },
            StreamEvent::Finish {
                choice: 1,
                reason: FinishReason::Length,
            },
            StreamEvent::TextDelta {
                choice: 1,
                text: "late".into(),
            },
        ],
    );
    let frames = frames(&out);
    assert_eq!(frames[0]["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(
        frames[1]["choices"][0],
        json!({ "index": 1, "delta": { "role": "assistant" }, "logprobs": null, "finish_reason": "length" })
    );
    assert_eq!(
        frames[2]["choices"][0]["delta"],
        json!({ "content": "late" })
    );
}

#[test]
fn an_error_event_becomes_an_error_frame_and_ends_the_stream() {
    let mut encoder = OpenAiStreamEncoder::new("m", true);
    let out = encode_all(
        &mut encoder,
        &[
            StreamEvent::Error(GaiaError::upstream(
                "the Anthropic stream ended before message_stop",
            )),
            StreamEvent::Done,
        ],
    );
    assert_eq!(
        out,
        "data: {\"error\":{\"code\":\"upstream_error\",\"message\":\"the Anthropic stream ended before message_stop\",\"param\":null,\"type\":\"api_error\"}}\n\n"
    );
}

#[test]
fn with_id_fixes_the_id_and_created_time_of_every_chunk() {
    let mut encoder = OpenAiStreamEncoder::new("m", false).with_id("chatcmpl-gw", 42);
    let out = encode_all(&mut encoder, &text_stream());
    for frame in frames(&out) {
        assert_eq!(frame["id"], "chatcmpl-gw");
        assert_eq!(frame["created"], 42);
    }
}

#[test]
fn finish_writes_the_terminator_exactly_once() {
    let mut encoder = OpenAiStreamEncoder::new("m", false);
    let mut out = String::new();
    encoder.finish(&mut out);
    encoder.finish(&mut out);
    encoder.encode(&StreamEvent::Done, &mut out);
    assert_eq!(out.matches("[DONE]").count(), 1);
}

fn arb_event() -> impl Strategy<Value = StreamEvent> {
    prop_oneof![
        ("\\PC{0,8}", "\\PC{0,8}", any::<i64>())
            .prop_map(|(id, model, created)| StreamEvent::Start { id, model, created }),
        (0u32..3, "\\PC{0,12}").prop_map(|(choice, text)| StreamEvent::TextDelta { choice, text }),
        (0u32..3, "\\PC{0,12}")
            .prop_map(|(choice, text)| StreamEvent::ReasoningDelta { choice, text }),
        (0u32..3, "\\PC{0,12}").prop_map(|(choice, signature)| {
            StreamEvent::ReasoningSignature { choice, signature }
        }),
        (0u32..3, "\\PC{0,12}")
            .prop_map(|(choice, data)| StreamEvent::RedactedReasoning { choice, data }),
        (0u32..3, 0u32..3, "\\PC{0,8}", "\\PC{0,8}").prop_map(|(choice, index, id, name)| {
            StreamEvent::ToolCallStart {
                choice,
                index,
                id,
                name,
            }
        }),
        (0u32..3, 0u32..3, "\\PC{0,12}").prop_map(|(choice, index, arguments)| {
            StreamEvent::ToolCallArgsDelta {
                choice,
                index,
                arguments,
            }
        }),
        (0u32..3).prop_map(|choice| StreamEvent::Finish {
            choice,
            reason: FinishReason::ContentFilter
        }),
        (0u64..1000, 0u64..1000).prop_map(|(p, c)| StreamEvent::Usage(Usage::new(p, c))),
        "\\PC{0,12}".prop_map(|m| StreamEvent::Error(GaiaError::upstream(m))),
        Just(StreamEvent::Done),
    ]
}

proptest! {
    #[test]
    fn every_encoded_frame_is_valid_json_and_the_stream_ends_once(
        events in proptest::collection::vec(arb_event(), 0..20),
        include_usage in any::<bool>(),
    ) {
        let mut encoder = OpenAiStreamEncoder::new("model \"x\"", include_usage);
        let mut out = encode_all(&mut encoder, &events);
        encoder.finish(&mut out);
        let mut parser = SseParser::new();
        let parsed = parser.push(out.as_bytes()).unwrap();
        let terminators = parsed
            .iter()
            .filter(|e| e.data == "[DONE]" || e.data.starts_with("{\"error\""))
            .count();
        prop_assert_eq!(terminators, 1);
        for event in &parsed {
            if event.data != "[DONE]" {
                prop_assert!(serde_json::from_str::<Value>(&event.data).is_ok(), "{}", event.data);
            }
        }
    }

    #[test]
    fn decoding_our_own_encoding_gives_back_the_events(cuts in proptest::collection::vec(0usize..5_000, 0..10)) {
        let mut encoder = OpenAiStreamEncoder::new("gpt-4o-mini-2024-07-18", true);
        let sse = encode_all(&mut encoder, &expected_tool_call_stream());
        let mut decoder = OpenAiStreamDecoder::new(meta());
        let events = decode_transcript(&mut decoder, &sse, &cuts).unwrap();
        prop_assert_eq!(events, expected_tool_call_stream());
    }
}

/// JSON Schema (and so the OpenAPI document) counts `14.0` and `1.4e1` as the integer 14; generated
/// clients send them. They were refused with "must be an integer, not a number".
#[test]
fn integers_written_as_numbers_without_a_fraction_are_integers() {
    let r = parse(with(
        with(with(minimal(), "max_tokens", json!(100.0)), "n", json!(2.0)),
        "seed",
        json!(-3.0),
    ))
    .unwrap();
    assert_eq!((r.max_tokens, r.n, r.seed), (Some(100), Some(2), Some(-3)));
    let r = parse(with(minimal(), "max_completion_tokens", json!(1.6e1))).unwrap();
    assert_eq!(r.max_tokens, Some(16));
    for (key, value) in [
        ("max_tokens", json!(1.5)),
        ("n", json!(0.0)),
        ("seed", json!(1e19)),
        (
            "seed",
            serde_json::from_str::<Value>("-9223372036854775809").unwrap(),
        ),
        ("max_tokens", json!(5e9)),
    ] {
        let e = parse(with(minimal(), key, value.clone())).unwrap_err();
        assert_eq!(
            (e.status(), e.param.as_deref()),
            (400, Some(key)),
            "{key}={value}"
        );
    }
}

// ---------------------------------------------------------------------------------------------------
// Reasoning blocks: `reasoning_details`
// ---------------------------------------------------------------------------------------------------

fn signed(text: &str, signature: &str) -> ContentPart {
    ContentPart::Thinking {
        text: text.into(),
        signature: Some(signature.into()),
    }
}

fn unsigned(text: &str) -> ContentPart {
    ContentPart::Thinking {
        text: text.into(),
        signature: None,
    }
}

fn redacted(data: &str) -> ContentPart {
    ContentPart::RedactedThinking { data: data.into() }
}

/// An assistant turn with two signed thinking blocks and a redacted one, then its answer and a call.
fn reasoning_turn() -> Message {
    Message {
        content: vec![
            signed("First, the city.", "sig-1"),
            signed(" Then the weather.", "sig-2"),
            redacted("ENCRYPTED=="),
            ContentPart::Text("Checking.".into()),
        ],
        tool_calls: vec![ToolCall {
            id: "call_1".into(),
            name: "get_weather".into(),
            arguments: "{\"city\":\"Paris\"}".into(),
        }],
        ..Message::assistant("")
    }
}

#[test]
fn reasoning_blocks_survive_a_round_trip_through_a_chat_completion() {
    let turn = reasoning_turn();
    let response = ChatResponse {
        id: "chatcmpl-1".into(),
        created: 1,
        model: "claude".into(),
        choices: vec![Choice {
            message: turn.clone(),
            ..Choice::assistant(0, String::new(), Vec::new(), Some(FinishReason::ToolCalls))
        }],
        usage: None,
    };
    let body = encode_response(&response, "anthropic/claude-sonnet-4-5");
    let message = &body["choices"][0]["message"];
    assert_eq!(
        message["reasoning_content"],
        "First, the city. Then the weather."
    );
    assert_eq!(
        message["reasoning_details"],
        json!([
            { "type": "reasoning.text", "text": "First, the city.", "signature": "sig-1", "format": "unknown", "index": 0 },
            { "type": "reasoning.text", "text": " Then the weather.", "signature": "sig-2", "format": "unknown", "index": 1 },
            { "type": "reasoning.encrypted", "data": "ENCRYPTED==", "format": "unknown", "index": 2 }
        ])
    );
    let bytes = encode_response_bytes(&response, "m", "chatcmpl-1").unwrap();
    let from_bytes: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        from_bytes["choices"][0]["message"]["reasoning_details"],
        message["reasoning_details"]
    );

    let next_turn = json!({ "model": "m", "messages": [
        { "role": "user", "content": "Weather in Paris?" },
        message,
        { "role": "tool", "tool_call_id": "call_1", "content": "sunny" }
    ] });
    let request = parse(next_turn).unwrap();
    assert_eq!(request.messages[1], turn);
}

#[test]
fn answers_without_reasoning_have_no_reasoning_fields() {
    let response = ChatResponse {
        id: "x".into(),
        created: 1,
        model: "m".into(),
        choices: vec![Choice::assistant(0, "hi".into(), Vec::new(), None)],
        usage: None,
    };
    let message = &encode_response(&response, "m")["choices"][0]["message"];
    assert_eq!(
        message,
        &json!({ "role": "assistant", "content": "hi", "refusal": null })
    );
}

#[test]
fn reasoning_content_alone_is_one_unsigned_block_before_the_text() {
    let request = parse(json!({ "model": "m", "messages": [
        { "role": "user", "content": "hi" },
        { "role": "assistant", "content": "hello", "reasoning_content": "greet back" },
        { "role": "assistant", "content": "again", "reasoning": "OpenRouter's name" },
        { "role": "user", "content": "x", "reasoning_content": "not read on user turns", "reasoning_details": 5 }
    ] }))
    .unwrap();
    assert_eq!(
        request.messages[1].content,
        vec![unsigned("greet back"), ContentPart::Text("hello".into())]
    );
    assert_eq!(
        request.messages[2].content,
        vec![
            unsigned("OpenRouter's name"),
            ContentPart::Text("again".into())
        ]
    );
    assert_eq!(request.messages[3], Message::user("x"));
}

#[test]
fn client_reasoning_details_merge_by_index_and_skip_unknown_types() {
    let details = json!([
        { "type": "reasoning.text", "text": "a", "index": 0, "format": "anthropic-claude-v1" },
        { "type": "reasoning.text", "text": "b", "index": 0 },
        { "type": "reasoning.text", "signature": "sig-ab", "index": 0, "id": null },
        { "type": "reasoning.future", "whatever": [1, 2] },
        { "type": "reasoning.encrypted", "data": "E", "index": 1.0 },
        { "type": "reasoning.summary", "summary": "s1", "index": 2 },
        { "type": "reasoning.summary", "summary": "s2", "index": 2 },
        { "type": "reasoning.text", "text": "no index" },
        { "type": "reasoning.text", "text": " twice" },
        { "type": "reasoning.text", "text": "", "signature": "" }
    ]);
    let request = parse(json!({ "model": "m", "messages": [
        { "role": "user", "content": "hi" },
        { "role": "assistant", "content": null, "reasoning_details": details,
          "reasoning_content": "the same text again", "tool_calls": [
            { "id": "c", "type": "function", "function": { "name": "f", "arguments": "{}" } }
        ] }
    ] }))
    .unwrap();
    assert_eq!(
        request.messages[1].content,
        vec![
            signed("ab", "sig-ab"),
            redacted("E"),
            unsigned("s1s2"),
            unsigned("no index"),
            unsigned(" twice"),
        ]
    );
}

/// A client that streamed its answer may send the details as they came: a signature without the text,
/// which then is its `reasoning_content`.
#[test]
fn details_that_only_sign_take_their_text_from_reasoning_content() {
    let request = parse(json!({ "model": "m", "messages": [
        { "role": "user", "content": "hi" },
        { "role": "assistant", "content": "hello", "reasoning_content": "greet back",
          "reasoning_details": [{ "type": "reasoning.text", "signature": "sig", "index": 0 }] },
        { "role": "assistant", "content": "bye", "reasoning_content": "visible",
          "reasoning_details": [{ "type": "reasoning.encrypted", "data": "E", "index": 0 }] }
    ] }))
    .unwrap();
    assert_eq!(
        request.messages[1].content,
        vec![
            signed("greet back", "sig"),
            ContentPart::Text("hello".into())
        ]
    );
    assert_eq!(
        request.messages[2].content,
        vec![
            unsigned("visible"),
            redacted("E"),
            ContentPart::Text("bye".into())
        ]
    );
}

#[test]
fn malformed_reasoning_details_are_400s_that_name_the_path() {
    let turn = |fields: Value| {
        let mut message = json!({ "role": "assistant", "content": "ok" });
        for (key, value) in fields.as_object().unwrap() {
            message[key] = value.clone();
        }
        json!({ "model": "m", "messages": [
            { "role": "system", "content": "s" }, { "role": "user", "content": "u" }, message
        ] })
    };
    let details = |entry: Value| turn(json!({ "reasoning_details": [entry] }));
    let cases: Vec<(Value, &str)> = vec![
        (
            turn(json!({ "reasoning_details": "x" })),
            "messages[2].reasoning_details",
        ),
        (
            turn(json!({ "reasoning_details": { "type": "reasoning.text" } })),
            "messages[2].reasoning_details",
        ),
        (details(json!("text")), "messages[2].reasoning_details[0]"),
        (
            details(json!({ "text": "no type" })),
            "messages[2].reasoning_details[0].type",
        ),
        (
            details(json!({ "type": 1 })),
            "messages[2].reasoning_details[0].type",
        ),
        (
            details(json!({ "type": "reasoning.text", "text": 1 })),
            "messages[2].reasoning_details[0].text",
        ),
        (
            details(json!({ "type": "reasoning.text", "text": "t", "signature": ["s"] })),
            "messages[2].reasoning_details[0].signature",
        ),
        (
            details(json!({ "type": "reasoning.text", "text": "t", "index": "0" })),
            "messages[2].reasoning_details[0].index",
        ),
        (
            details(json!({ "type": "reasoning.text", "text": "t", "index": -1 })),
            "messages[2].reasoning_details[0].index",
        ),
        (
            details(json!({ "type": "reasoning.text", "text": "t", "index": 0.5 })),
            "messages[2].reasoning_details[0].index",
        ),
        (
            details(json!({ "type": "reasoning.encrypted" })),
            "messages[2].reasoning_details[0].data",
        ),
        (
            details(json!({ "type": "reasoning.encrypted", "data": false })),
            "messages[2].reasoning_details[0].data",
        ),
        (
            details(json!({ "type": "reasoning.summary", "text": "not summary" })),
            "messages[2].reasoning_details[0].summary",
        ),
        (
            turn(json!({ "reasoning_content": 3 })),
            "messages[2].reasoning_content",
        ),
        (
            turn(json!({ "reasoning": { "effort": "high" } })),
            "messages[2].reasoning",
        ),
    ];
    for (body, param) in cases {
        let err = parse(body.clone()).unwrap_err();
        assert_eq!(err.status(), 400, "{body}");
        assert_eq!(err.param.as_deref(), Some(param), "{body}");
    }
    let second = turn(json!({ "reasoning_details": [
        { "type": "reasoning.text", "text": "ok" }, { "type": "reasoning.encrypted", "data": 1 }
    ] }));
    assert_eq!(
        parse(second).unwrap_err().param.as_deref(),
        Some("messages[2].reasoning_details[1].data")
    );
}

fn reasoning_request() -> ChatRequest {
    ChatRequest::new(
        "m",
        vec![
            Message::user("Weather in Paris?"),
            Message {
                content: vec![unsigned("Unsigned, from elsewhere.")]
                    .into_iter()
                    .chain(reasoning_turn().content)
                    .collect(),
                ..reasoning_turn()
            },
            Message::tool("call_1", "sunny"),
        ],
    )
}

#[test]
fn openrouter_gets_reasoning_back_as_reasoning_details() {
    let request = reasoning_request();
    let body = build(&request, "google/gemini-2.5-pro", Flavor::OpenRouter);
    let assistant = &body["messages"][1];
    assert_eq!(assistant["content"], "Checking.");
    assert_eq!(
        assistant["reasoning_details"],
        json!([
            { "type": "reasoning.text", "text": "Unsigned, from elsewhere.", "format": "google-gemini-v1", "index": 0 },
            { "type": "reasoning.text", "text": "First, the city.", "signature": "sig-1", "format": "google-gemini-v1", "index": 1 },
            { "type": "reasoning.text", "text": " Then the weather.", "signature": "sig-2", "format": "google-gemini-v1", "index": 2 },
            { "type": "reasoning.encrypted", "data": "ENCRYPTED==", "format": "google-gemini-v1", "index": 3 }
        ])
    );
    assert!(body["messages"][0].get("reasoning_details").is_none());
    assert!(body["messages"][2].get("reasoning_details").is_none());

    // Anthropic rejects thinking without a valid signature: unsigned text is not sent to it.
    let body = build(&request, "anthropic/claude-sonnet-4.5", Flavor::OpenRouter);
    assert_eq!(
        body["messages"][1]["reasoning_details"],
        json!([
            { "type": "reasoning.text", "text": "First, the city.", "signature": "sig-1", "format": "anthropic-claude-v1", "index": 0 },
            { "type": "reasoning.text", "text": " Then the weather.", "signature": "sig-2", "format": "anthropic-claude-v1", "index": 1 },
            { "type": "reasoning.encrypted", "data": "ENCRYPTED==", "format": "anthropic-claude-v1", "index": 2 }
        ])
    );
    let body = build(&request, "deepseek/deepseek-r1", Flavor::OpenRouter);
    assert_eq!(
        body["messages"][1]["reasoning_details"][0]["format"],
        "unknown"
    );

    let only_unsigned = ChatRequest::new(
        "m",
        vec![Message {
            content: vec![unsigned("x"), ContentPart::Text("y".into())],
            ..Message::assistant("")
        }],
    );
    let body = build(
        &only_unsigned,
        "anthropic/claude-sonnet-4.5",
        Flavor::OpenRouter,
    );
    assert_eq!(
        body["messages"][0],
        json!({ "role": "assistant", "content": "y" })
    );
}

#[test]
fn openai_and_compatible_servers_get_no_reasoning_back() {
    let request = reasoning_request();
    for flavor in [Flavor::OpenAi, Flavor::Compatible] {
        let bytes = encode_request(&request, "anthropic/claude-sonnet-4.5", flavor).unwrap();
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            body["messages"][1],
            json!({ "role": "assistant", "content": "Checking.", "tool_calls": [
                { "id": "call_1", "type": "function", "function": { "name": "get_weather", "arguments": "{\"city\":\"Paris\"}" } }
            ] }),
            "{flavor:?}"
        );
    }
}

#[test]
fn an_openrouter_answer_with_reasoning_and_reasoning_details_is_read_once() {
    let body = json!({
        "id": "gen-1", "created": 5, "model": "anthropic/claude-sonnet-4.5",
        "choices": [{ "index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": "",
            "reasoning": "First, the city. Then the weather.",
            "reasoning_details": [
                { "type": "reasoning.text", "text": "First, the city.", "signature": "sig-1", "format": "anthropic-claude-v1", "index": 0 },
                { "type": "reasoning.text", "text": " Then the weather.", "signature": "sig-2", "format": "anthropic-claude-v1", "index": 1 },
                { "type": "reasoning.encrypted", "data": "ENCRYPTED==", "format": "anthropic-claude-v1", "index": 2 },
                { "type": "reasoning.new_kind", "stuff": 1 },
                "not an object"
            ],
            "tool_calls": [{ "id": "call_1", "type": "function", "function": { "name": "get_weather", "arguments": "{\"city\":\"Paris\"}" } }]
        } }]
    });
    let response = parse_response(body.to_string().as_bytes(), &meta()).unwrap();
    let mut expected = reasoning_turn();
    expected
        .content
        .retain(|part| !matches!(part, ContentPart::Text(_)));
    assert_eq!(response.choices[0].message, expected);

    // Without details, the reasoning string is the one unsigned block.
    let plain = json!({ "choices": [{ "message": { "content": "a", "reasoning": "r" } }] });
    let response = parse_response(plain.to_string().as_bytes(), &meta()).unwrap();
    assert_eq!(
        response.choices[0].message.content,
        vec![unsigned("r"), ContentPart::Text("a".into())]
    );
}

#[test]
fn an_openrouter_stream_with_reasoning_and_reasoning_details_is_read_once() {
    let delta = |delta: Value| chunk(json!({ "choices": [{ "index": 0, "delta": delta }] }));
    let text = |text: &str| json!({ "type": "reasoning.text", "text": text, "format": "anthropic-claude-v1", "index": 0 });
    let transcript = [
        delta(
            json!({ "role": "assistant", "reasoning": "First,", "reasoning_details": [text("First,")] }),
        ),
        delta(json!({ "reasoning": " the city.", "reasoning_details": [text(" the city.")] })),
        delta(
            json!({ "reasoning_details": [{ "type": "reasoning.text", "signature": "sig-1", "index": 0 }] }),
        ),
        delta(
            json!({ "reasoning_details": [{ "type": "reasoning.encrypted", "data": "ENCRYPTED==", "index": 1 }] }),
        ),
        // Details alone carry their text.
        delta(
            json!({ "reasoning_details": [{ "type": "reasoning.summary", "summary": "Sum", "index": 2 }, { "type": "reasoning.unknown" }] }),
        ),
        delta(json!({ "content": "Sunny." })),
    ];
    let mut decoder = OpenAiStreamDecoder::new(meta());
    let mut events = Vec::new();
    for event in &transcript {
        events.extend(decoder.decode(event).unwrap());
    }
    let reasoning = |text: &str| StreamEvent::ReasoningDelta {
        choice: 0,
        text: text.into(),
    };
    assert_eq!(
        events[1..],
        [
            reasoning("First,"),
            reasoning(" the city."),
            StreamEvent::ReasoningSignature {
                choice: 0,
                signature: "sig-1".into()
            },
            StreamEvent::RedactedReasoning {
                choice: 0,
                data: "ENCRYPTED==".into()
            },
            reasoning("Sum"),
            StreamEvent::TextDelta {
                choice: 0,
                text: "Sunny.".into()
            },
        ]
    );
}

fn reasoning_stream() -> Vec<StreamEvent> {
    let reasoning = |text: &str| StreamEvent::ReasoningDelta {
        choice: 0,
        text: text.into(),
    };
    vec![
        StreamEvent::Start {
            id: "msg_1".into(),
            model: "claude".into(),
            created: 1_700_000_000,
        },
        reasoning("First,"),
        reasoning(" the city."),
        StreamEvent::ReasoningSignature {
            choice: 0,
            signature: "sig-1".into(),
        },
        StreamEvent::RedactedReasoning {
            choice: 0,
            data: "ENCRYPTED==".into(),
        },
        reasoning("Unsigned."),
        StreamEvent::RedactedReasoning {
            choice: 0,
            data: "E2".into(),
        },
        StreamEvent::TextDelta {
            choice: 0,
            text: "Sunny.".into(),
        },
        StreamEvent::Finish {
            choice: 0,
            reason: FinishReason::Stop,
        },
        StreamEvent::Done,
    ]
}

#[test]
fn signatures_and_redacted_blocks_stream_as_reasoning_details_deltas() {
    let mut encoder = OpenAiStreamEncoder::new("m", false);
    let out = encode_all(&mut encoder, &reasoning_stream());
    let prefix =
        r#"data: {"id":"msg_1","object":"chat.completion.chunk","created":1700000000,"model":"m","#;
    let expected = [
        r#""choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}"#,
        r#""choices":[{"index":0,"delta":{"reasoning_content":"First,"},"logprobs":null,"finish_reason":null}]}"#,
        r#""choices":[{"index":0,"delta":{"reasoning_content":" the city."},"logprobs":null,"finish_reason":null}]}"#,
        r#""choices":[{"index":0,"delta":{"reasoning_details":[{"type":"reasoning.text","signature":"sig-1","index":0}]},"logprobs":null,"finish_reason":null}]}"#,
        r#""choices":[{"index":0,"delta":{"reasoning_details":[{"type":"reasoning.encrypted","data":"ENCRYPTED==","index":1}]},"logprobs":null,"finish_reason":null}]}"#,
        r#""choices":[{"index":0,"delta":{"reasoning_content":"Unsigned."},"logprobs":null,"finish_reason":null}]}"#,
        // The unsigned block is block 2: the encrypted one after it is block 3.
        r#""choices":[{"index":0,"delta":{"reasoning_details":[{"type":"reasoning.encrypted","data":"E2","index":3}]},"logprobs":null,"finish_reason":null}]}"#,
        r#""choices":[{"index":0,"delta":{"content":"Sunny."},"logprobs":null,"finish_reason":null}]}"#,
        r#""choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}"#,
    ]
    .iter()
    .map(|frame| format!("{prefix}{frame}\n\n"))
    .collect::<String>()
        + "data: [DONE]\n\n";
    assert_eq!(out, expected);
}

#[test]
fn reasoning_block_indexes_count_per_choice() {
    let mut encoder = OpenAiStreamEncoder::new("m", false);
    let signature = |choice: u32| StreamEvent::ReasoningSignature {
        choice,
        signature: format!("s{choice}"),
    };
    let out = encode_all(
        &mut encoder,
        &[signature(1), signature(0), signature(1), signature(0)],
    );
    let indexes: Vec<(Value, Value)> = frames(&out)
        .iter()
        .map(|frame| {
            let choice = &frame["choices"][0];
            (
                choice["index"].clone(),
                choice["delta"]["reasoning_details"][0]["index"].clone(),
            )
        })
        .collect();
    assert_eq!(
        indexes,
        [
            (json!(1), json!(0)),
            (json!(0), json!(0)),
            (json!(1), json!(1)),
            (json!(0), json!(1))
        ]
    );
}

#[test]
fn our_reasoning_stream_decodes_back_to_the_same_events() {
    let mut encoder = OpenAiStreamEncoder::new("claude", false);
    let sse = encode_all(&mut encoder, &reasoning_stream());
    let mut decoder = OpenAiStreamDecoder::new(meta());
    let events = decode_transcript(&mut decoder, &sse, &[]).unwrap();
    assert_eq!(events, reasoning_stream());
}

#[test]
fn openrouter_cache_writes_are_read_and_reported_back_only_when_there_are_some() {
    let body = json!({"id": "gen-1", "object": "chat.completion", "created": 1, "model": "anthropic/claude-sonnet-4.5",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1000, "completion_tokens": 10, "total_tokens": 1010,
                  "prompt_tokens_details": {"cached_tokens": 600, "cache_write_tokens": 300}}});
    let response = parse_response(body.to_string().as_bytes(), &meta()).unwrap();
    let usage = response.usage.unwrap();
    assert_eq!(
        (usage.cached_tokens, usage.cache_creation_tokens),
        (600, 300)
    );
    let out = encode_response(&response, "m");
    assert_eq!(
        out["usage"]["prompt_tokens_details"],
        json!({"cached_tokens": 600, "cache_write_tokens": 300})
    );
    let mut plain = response.clone();
    plain.usage = Some(Usage::new(5, 1));
    assert_eq!(
        encode_response(&plain, "m")["usage"]["prompt_tokens_details"],
        json!({"cached_tokens": 0})
    );
}
