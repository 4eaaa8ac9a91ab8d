use gaia_core::{
    ChatRequest, ChatResponse, Choice, ContentPart, ErrorKind, FinishReason, GaiaError, Message,
    Reasoning, ResponseFormat, Role, StreamEvent, Tool, ToolCall, ToolChoice, Usage,
};
use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::codec::StreamDecoder;
use crate::openai;
use crate::sse::SseEvent;
use crate::test_support::{arb_request, assert_texts_preserved, decode_transcript, fixture, meta};

const FULL_REQUEST: &str = fixture!("openai/request_full.json");
const RESPONSE_TOOL_USE: &str = fixture!("anthropic/response_tool_use.json");
const STREAM: &str = fixture!("anthropic/stream_text_tool_use.sse");
const ERROR: &str = fixture!("anthropic/error.json");
const RESPONSE_STRUCTURED: &str = fixture!("anthropic/response_structured_output.json");
const STREAM_STRUCTURED: &str = fixture!("anthropic/stream_structured_output.sse");

fn request(messages: Vec<Message>) -> ChatRequest {
    ChatRequest::new("anthropic/claude", messages)
}

fn assistant_calling(id: &str, name: &str, arguments: &str) -> Message {
    Message {
        content: Vec::new(),
        tool_calls: vec![ToolCall {
            id: id.into(),
            name: name.into(),
            arguments: arguments.into(),
        }],
        ..Message::assistant("")
    }
}

fn tool(name: &str) -> Tool {
    Tool {
        name: name.into(),
        description: None,
        parameters: None,
        strict: None,
        cache_control: None,
    }
}

// ---------------------------------------------------------------------------------------------------
// build_request
// ---------------------------------------------------------------------------------------------------

#[test]
fn a_full_openai_request_becomes_the_exact_messages_api_body() {
    let request = openai::parse_request(FULL_REQUEST.as_bytes()).unwrap();
    let body = build_request(&request, "claude-sonnet-4-5-20250929", 4096).unwrap();
    let schema_note = "Respond with a single valid JSON object that conforms to the JSON schema named \
        \"forecast\": {\"additionalProperties\":false,\"properties\":{\"summary\":{\"type\":\"string\"}},\"required\":[\"summary\"],\"type\":\"object\"} \
        Do not write anything before or after the JSON.";
    assert_eq!(
        body,
        json!({
            "model": "claude-sonnet-4-5-20250929",
            "max_tokens": 256,
            "system": format!("You are a weather bot.\n\nAnswer in metric units.\n\n{schema_note}"),
            "messages": [
                { "role": "user", "content": [
                    { "type": "text", "text": "What is the weather in Paris? Here is a photo." },
                    { "type": "image", "source": { "type": "url", "url": "https://example.com/paris.png" } },
                    { "type": "image", "source": { "type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQSkZJRg==" } }
                ] },
                { "role": "assistant", "content": [
                    { "type": "tool_use", "id": "call_abc123", "name": "get_weather", "input": { "city": "Paris" } }
                ] },
                { "role": "user", "content": [
                    { "type": "tool_result", "tool_use_id": "call_abc123", "content": "{\"temperature_c\":21,\"sky\":\"clear\"}" },
                    { "type": "text", "text": "Thanks! And tomorrow?" }
                ] }
            ],
            "temperature": 0.7,
            "stop_sequences": ["\n\nUser:", "END"],
            "metadata": { "user_id": "user-1234" },
            "tools": [{
                "name": "get_weather",
                "description": "Current weather for a city.",
                "input_schema": request.tools[0].parameters.clone().unwrap()
            }],
            "tool_choice": { "type": "tool", "name": "get_weather", "disable_parallel_tool_use": true },
            "stream": true
        })
    );
}

#[test]
fn the_encoded_body_is_the_built_one() {
    let mut full = openai::parse_request(FULL_REQUEST.as_bytes()).unwrap();
    full.n = None;
    for stream in [false, true] {
        full.stream = stream;
        let bytes = encode_request(&full, "claude-sonnet-4-5", 1024).unwrap();
        let built = build_request(&full, "claude-sonnet-4-5", 1024).unwrap();
        assert_eq!(serde_json::from_slice::<Value>(&bytes).unwrap(), built);
        assert_eq!(built["model"], "claude-sonnet-4-5");
    }
    // Errors are the same too.
    full.n = Some(2);
    assert_eq!(
        encode_request(&full, "m", 1).unwrap_err().to_string(),
        build_request(&full, "m", 1).unwrap_err().to_string()
    );
}

#[test]
fn consecutive_same_role_messages_merge_and_empty_ones_vanish() {
    let body = build_request(
        &request(vec![
            Message::user("a"),
            Message::user(""),
            Message::user("b"),
            Message::assistant(""),
            Message::assistant("c"),
            Message::assistant("d"),
        ]),
        "claude",
        1024,
    )
    .unwrap();
    assert_eq!(
        body["messages"],
        json!([
            { "role": "user", "content": [{ "type": "text", "text": "a" }, { "type": "text", "text": "b" }] },
            { "role": "assistant", "content": [{ "type": "text", "text": "c" }, { "type": "text", "text": "d" }] }
        ])
    );
    assert!(body.get("system").is_none());
}

#[test]
fn system_messages_anywhere_are_hoisted_in_order() {
    let body = build_request(
        &request(vec![
            Message::system("first"),
            Message::user("hi"),
            Message::text(Role::Developer, "second"),
        ]),
        "claude",
        1024,
    )
    .unwrap();
    assert_eq!(body["system"], "first\n\nsecond");
    assert_eq!(body["messages"].as_array().unwrap().len(), 1);
}

#[test]
fn max_tokens_is_always_sent_using_the_default_when_unset() {
    let body = build_request(&request(vec![Message::user("hi")]), "claude", 4096).unwrap();
    assert_eq!(body["max_tokens"], 4096);
    assert!(body.get("stream").is_none());
}

#[test]
fn temperature_is_clamped_to_anthropics_range_and_wins_over_top_p() {
    let mut req = request(vec![Message::user("hi")]);
    req.temperature = Some(1.6);
    req.top_p = Some(0.5);
    let body = build_request(&req, "claude", 1).unwrap();
    assert_eq!(body["temperature"], 1.0);
    assert!(body.get("top_p").is_none());

    req.temperature = None;
    let body = build_request(&req, "claude", 1).unwrap();
    assert_eq!(body["top_p"], 0.5);
    assert!(body.get("temperature").is_none());
}

#[test]
fn options_without_an_anthropic_equivalent_are_dropped() {
    let mut req = request(vec![Message::user("hi")]);
    req.presence_penalty = Some(1.0);
    req.frequency_penalty = Some(1.0);
    req.seed = Some(7);
    req.n = Some(1);
    req.extra.insert("logprobs".into(), true.into());
    let body = build_request(&req, "claude", 1).unwrap();
    assert_eq!(
        body.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["max_tokens", "messages", "model"]
    );
}

#[test]
fn more_than_one_choice_is_a_422_on_n() {
    let mut req = request(vec![Message::user("hi")]);
    req.n = Some(2);
    let err = build_request(&req, "claude", 1).unwrap_err();
    assert_eq!(err.status(), 422);
    assert_eq!(err.param.as_deref(), Some("n"));
}

#[test]
fn tool_call_arguments_must_be_a_json_object() {
    for bad in ["not json", "[1,2]", "\"s\"", "{\"a\":"] {
        let req = request(vec![
            Message::user("hi"),
            assistant_calling("call_1", "f", bad),
        ]);
        let err = build_request(&req, "claude", 1).unwrap_err();
        assert_eq!(err.status(), 400, "{bad}");
        assert_eq!(
            err.param.as_deref(),
            Some("messages[1].tool_calls[0].function.arguments")
        );
    }
    let blank = request(vec![
        Message::user("hi"),
        assistant_calling("call_1", "f", " "),
    ]);
    let body = build_request(&blank, "claude", 1).unwrap();
    assert_eq!(body["messages"][1]["content"][0]["input"], json!({}));
}

#[test]
fn tool_results_come_first_in_their_user_turn_and_ids_are_made_anthropic_safe() {
    let req = request(vec![
        Message::user("hi"),
        assistant_calling("call_0__thought__c2ln/+=", "f", "{}"),
        Message::user("also this"),
        Message::tool("call_0__thought__c2ln/+=", ""),
    ]);
    let body = build_request(&req, "claude", 1).unwrap();
    assert_eq!(
        body["messages"][1]["content"][0]["id"],
        "call_0__thought__c2ln___"
    );
    assert_eq!(
        body["messages"][2],
        json!({ "role": "user", "content": [
            { "type": "tool_result", "tool_use_id": "call_0__thought__c2ln___" },
            { "type": "text", "text": "also this" }
        ] })
    );
}

#[test]
fn tool_choice_maps_to_anthropic_forms() {
    let mut req = request(vec![Message::user("hi")]);
    req.tools = vec![tool("f")];
    let cases = [
        (
            Some(ToolChoice::Auto),
            None,
            Some(json!({ "type": "auto" })),
        ),
        (
            Some(ToolChoice::Required),
            None,
            Some(json!({ "type": "any" })),
        ),
        (
            Some(ToolChoice::None),
            Some(false),
            Some(json!({ "type": "none" })),
        ),
        (
            Some(ToolChoice::Function("f".into())),
            Some(true),
            Some(json!({ "type": "tool", "name": "f" })),
        ),
        (
            Some(ToolChoice::Required),
            Some(false),
            Some(json!({ "type": "any", "disable_parallel_tool_use": true })),
        ),
        (
            None,
            Some(false),
            Some(json!({ "type": "auto", "disable_parallel_tool_use": true })),
        ),
        (None, None, None),
    ];
    for (choice, parallel, expected) in cases {
        req.tool_choice = choice.clone();
        req.parallel_tool_calls = parallel;
        let body = build_request(&req, "claude", 1).unwrap();
        assert_eq!(
            body.get("tool_choice").cloned(),
            expected,
            "{choice:?} {parallel:?}"
        );
        assert_eq!(
            body["tools"],
            json!([{ "name": "f", "input_schema": { "type": "object", "properties": {} } }])
        );
    }
}

#[test]
fn json_response_formats_become_a_system_instruction() {
    let mut req = request(vec![Message::system("Be terse."), Message::user("hi")]);
    req.response_format = Some(ResponseFormat::JsonObject);
    let body = build_request(&req, "claude", 1).unwrap();
    assert_eq!(
        body["system"],
        "Be terse.\n\nRespond with a single valid JSON object. Do not write anything before or after the JSON."
    );
    req.response_format = Some(ResponseFormat::Text);
    let body = build_request(&req, "claude", 1).unwrap();
    assert_eq!(body["system"], "Be terse.");
}

/// The schema a Pydantic `class Weather(BaseModel): city: str` sends.
fn weather_schema() -> Value {
    json!({
        "properties": { "city": { "title": "City", "type": "string" } },
        "required": ["city"],
        "title": "Weather",
        "type": "object",
        "additionalProperties": false
    })
}

fn weather_format(schema: Option<Value>) -> ResponseFormat {
    ResponseFormat::JsonSchema {
        name: "Weather".into(),
        description: Some("The weather of a city.".into()),
        schema,
        strict: Some(true),
    }
}

#[test]
fn a_json_schema_becomes_one_forced_tool_whose_input_schema_is_the_schema() {
    let mut req = request(vec![
        Message::system("Be terse."),
        Message::user("Weather in Paris?"),
    ]);
    req.response_format = Some(weather_format(Some(weather_schema())));
    let body = build_request(&req, "claude-sonnet-4-5", 1024).unwrap();
    assert_eq!(
        body,
        json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 1024,
            "messages": [{ "role": "user", "content": [{ "type": "text", "text": "Weather in Paris?" }] }],
            // No instruction: the tool carries the schema.
            "system": "Be terse.",
            "tools": [{
                "name": STRUCTURED_OUTPUT_TOOL,
                "description": "Give your whole answer by calling this tool: its input is the answer, a JSON \
                    object conforming to the schema named \"Weather\". The weather of a city.",
                "input_schema": weather_schema()
            }],
            "tool_choice": { "type": "tool", "name": STRUCTURED_OUTPUT_TOOL, "disable_parallel_tool_use": true }
        })
    );
    // The client's tool choice means nothing without tools of its own; the forced tool stays.
    req.tool_choice = Some(ToolChoice::None);
    req.parallel_tool_calls = Some(true);
    let again = build_request(&req, "claude-sonnet-4-5", 1024).unwrap();
    assert_eq!(again, body);
    // The encoded body is the same document.
    let bytes = encode_request(&req, "claude-sonnet-4-5", 1024).unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&bytes).unwrap(), body);
}

#[test]
fn a_json_schema_falls_back_to_the_instruction_when_no_tool_can_be_forced() {
    let note = |schema: &Value| {
        format!(
            "Respond with a single valid JSON object that conforms to the JSON schema named \
             \"Weather\": {schema} Do not write anything before or after the JSON."
        )
    };
    let any_json =
        "Respond with a single valid JSON object. Do not write anything before or after the JSON.";
    let base = || {
        let mut req = request(vec![Message::user("Weather in Paris?")]);
        req.response_format = Some(weather_format(Some(weather_schema())));
        req
    };

    // The client's own tools stay callable, as it asked them to be.
    let mut with_tools = base();
    with_tools.tools = vec![tool("get_weather")];
    with_tools.tool_choice = Some(ToolChoice::Auto);
    let body = build_request(&with_tools, "claude", 1024).unwrap();
    assert_eq!(body["system"], note(&weather_schema()));
    assert_eq!(body["tools"].as_array().map(Vec::len), Some(1));
    assert_eq!(body["tools"][0]["name"], "get_weather");
    assert_eq!(body["tool_choice"], json!({ "type": "auto" }));

    // Anthropic refuses a forced tool with extended thinking.
    let mut thinking = base();
    thinking.reasoning = Some(Reasoning::Budget(2048));
    let body = build_request(&thinking, "claude", 4096).unwrap();
    assert_eq!(body["thinking"]["type"], "enabled");
    assert_eq!(body["system"], note(&weather_schema()));
    assert!(body.get("tools").is_none() && body.get("tool_choice").is_none());
    // Thinking turned off is no obstacle.
    thinking.reasoning = Some(Reasoning::Off);
    let body = build_request(&thinking, "claude", 4096).unwrap();
    assert_eq!(body["tools"][0]["name"], STRUCTURED_OUTPUT_TOOL);

    // `input_schema` must be an object schema.
    let array = json!({ "type": "array", "items": { "type": "string" } });
    let mut not_an_object = base();
    not_an_object.response_format = Some(weather_format(Some(array.clone())));
    let body = build_request(&not_an_object, "claude", 1024).unwrap();
    assert_eq!(body["system"], note(&array));
    assert!(body.get("tools").is_none());

    // No schema: any JSON object, as json_object.
    let mut no_schema = base();
    no_schema.response_format = Some(weather_format(None));
    let body = build_request(&no_schema, "claude", 1024).unwrap();
    assert_eq!(body["system"], any_json);
    assert!(body.get("tools").is_none());
}

#[test]
fn malformed_data_urls_are_400s_naming_the_part() {
    let req = request(vec![Message {
        content: vec![
            ContentPart::Text("look".into()),
            ContentPart::Image {
                url: "data:image/png,raw".into(),
                detail: None,
            },
        ],
        ..Message::user("")
    }]);
    let err = build_request(&req, "claude", 1).unwrap_err();
    assert_eq!(err.status(), 400);
    assert_eq!(
        err.param.as_deref(),
        Some("messages[0].content[1].image_url.url")
    );
}

proptest! {
    #[test]
    fn building_any_request_never_panics_and_preserves_text(request in arb_request()) {
        match build_request(&request, "claude", 1024) {
            Ok(body) => {
                assert_texts_preserved(&request, &body);
                prop_assert!(body["max_tokens"].is_u64());
                let messages = body["messages"].as_array().unwrap();
                for pair in messages.windows(2) {
                    prop_assert_ne!(&pair[0]["role"], &pair[1]["role"], "turns must alternate");
                }
                if let Some(t) = body.get("temperature") {
                    prop_assert!(t.as_f64().unwrap() <= 1.0);
                }
            }
            // 400 for what the request says wrong, 422 for a conversation with nothing Anthropic takes.
            Err(err) => prop_assert!(matches!(err.status(), 400 | 422), "{}", err.status()),
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// parse_response
// ---------------------------------------------------------------------------------------------------

#[test]
fn a_tool_use_response_parses_into_canonical_form() {
    let response = parse_response(RESPONSE_TOOL_USE.as_bytes(), &meta()).unwrap();
    let mut choice = Choice::assistant(
        0,
        "I'll check the current weather in Paris for you.".into(),
        vec![ToolCall {
            id: "toolu_01A09q90qw90lq917835lq9".into(),
            name: "get_weather".into(),
            arguments: "{\"city\":\"Paris\",\"unit\":\"celsius\"}".into(),
        }],
        Some(FinishReason::ToolCalls),
    );
    // The signed thinking block comes first, signature byte for byte, for the next turn.
    choice.message.content.insert(
        0,
        ContentPart::Thinking {
            text: "The user wants the weather; I should call the tool.".into(),
            signature: Some("EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds".into()),
        },
    );
    assert_eq!(
        response,
        ChatResponse {
            id: "msg_01Aq9w938a90dw8q".into(),
            created: 1_700_000_000,
            model: "claude-sonnet-4-5-20250929".into(),
            choices: vec![choice],
            usage: Some(Usage {
                prompt_tokens: 472 + 2048 + 100,
                completion_tokens: 91,
                total_tokens: 472 + 2048 + 100 + 91,
                cached_tokens: 2048,
                cache_creation_tokens: 100,
                reasoning_tokens: 0,
            }),
        }
    );
}

#[test]
fn the_forced_json_schema_tool_comes_back_as_the_answers_text() {
    let response = parse_response(RESPONSE_STRUCTURED.as_bytes(), &meta()).unwrap();
    assert_eq!(
        response,
        ChatResponse {
            id: "msg_01StructuredOutput0001".into(),
            created: 1_700_000_000,
            model: "claude-sonnet-4-5-20250929".into(),
            choices: vec![Choice::assistant(
                0,
                r#"{"city":"Paris"}"#.into(),
                Vec::new(),
                Some(FinishReason::Stop),
            )],
            usage: Some(Usage::new(612, 38)),
        }
    );
    // A client tool called beside it stays a call, and the stop reason stays `tool_calls`.
    let mut body: Value = serde_json::from_str(RESPONSE_STRUCTURED).unwrap();
    body["content"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {} }));
    let response = parse_response(body.to_string().as_bytes(), &meta()).unwrap();
    let choice = &response.choices[0];
    assert_eq!(choice.finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(choice.message.tool_calls.len(), 1);
    assert_eq!(choice.message.tool_calls[0].name, "get_weather");
    // Other stop reasons keep their meaning (a cut-off answer is `length`).
    body["content"].as_array_mut().unwrap().pop();
    body["stop_reason"] = json!("max_tokens");
    let response = parse_response(body.to_string().as_bytes(), &meta()).unwrap();
    assert_eq!(
        response.choices[0].finish_reason,
        Some(FinishReason::Length)
    );
}

#[test]
fn stop_reasons_map_onto_the_canonical_four() {
    for (wire, expected) in [
        ("end_turn", FinishReason::Stop),
        ("stop_sequence", FinishReason::Stop),
        ("pause_turn", FinishReason::Stop),
        ("max_tokens", FinishReason::Length),
        ("model_context_window_exceeded", FinishReason::Length),
        ("tool_use", FinishReason::ToolCalls),
        ("refusal", FinishReason::ContentFilter),
        ("something_new", FinishReason::Stop),
    ] {
        assert_eq!(finish_reason(wire), expected, "{wire}");
    }
}

#[test]
fn error_and_malformed_bodies_are_502s() {
    let err = parse_response(ERROR.as_bytes(), &meta()).unwrap_err();
    assert_eq!(err.status(), 502);
    assert_eq!(err.message, "overloaded_error: Overloaded");
    assert_eq!(parse_response(b"nope", &meta()).unwrap_err().status(), 502);
}

#[test]
fn error_bodies_yield_type_and_message() {
    assert_eq!(
        parse_error(ERROR.as_bytes()).as_deref(),
        Some("overloaded_error: Overloaded")
    );
    assert_eq!(
        parse_error(br#"{"error":{"message":"bad"}}"#).as_deref(),
        Some("bad")
    );
    assert_eq!(parse_error(b"{}"), None);
    assert_eq!(parse_error(b"not json"), None);
}

#[test]
fn in_stream_error_types_map_to_error_kinds() {
    assert_eq!(error_kind("overloaded_error"), ErrorKind::Unavailable);
    assert_eq!(error_kind("rate_limit_error"), ErrorKind::RateLimited);
    assert_eq!(
        error_kind("invalid_request_error"),
        ErrorKind::InvalidRequest
    );
    assert_eq!(error_kind("request_too_large"), ErrorKind::PayloadTooLarge);
    assert_eq!(error_kind("timeout_error"), ErrorKind::UpstreamTimeout);
    assert_eq!(error_kind("authentication_error"), ErrorKind::Upstream);
    assert_eq!(error_kind("api_error"), ErrorKind::Upstream);
}

// ---------------------------------------------------------------------------------------------------
// Stream decoding
// ---------------------------------------------------------------------------------------------------

fn expected_stream() -> Vec<StreamEvent> {
    vec![
        StreamEvent::Start {
            id: "msg_014p7gG3wDgGV9EUtLvnow3U".into(),
            model: "claude-sonnet-4-5-20250929".into(),
            created: 1_700_000_000,
        },
        StreamEvent::ReasoningDelta {
            choice: 0,
            text: "Need the weather tool.".into(),
        },
        StreamEvent::ReasoningSignature {
            choice: 0,
            signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds".into(),
        },
        StreamEvent::TextDelta {
            choice: 0,
            text: "Okay, let's check ".into(),
        },
        StreamEvent::TextDelta {
            choice: 0,
            text: "the weather for San Francisco, CA:".into(),
        },
        StreamEvent::ToolCallStart {
            choice: 0,
            index: 0,
            id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6".into(),
            name: "get_weather".into(),
        },
        StreamEvent::ToolCallArgsDelta {
            choice: 0,
            index: 0,
            arguments: "{\"location\":".into(),
        },
        StreamEvent::ToolCallArgsDelta {
            choice: 0,
            index: 0,
            arguments: " \"San Francisco, CA\", \"unit\": \"fahrenheit\"}".into(),
        },
        StreamEvent::ToolCallStart {
            choice: 0,
            index: 1,
            id: "toolu_02NoArgs0000000000000000".into(),
            name: "get_time".into(),
        },
        StreamEvent::ToolCallArgsDelta {
            choice: 0,
            index: 1,
            arguments: "{}".into(),
        },
        StreamEvent::Finish {
            choice: 0,
            reason: FinishReason::ToolCalls,
        },
        StreamEvent::Usage(Usage {
            cached_tokens: 1024,
            ..Usage::new(472 + 1024, 89)
        }),
        StreamEvent::Done,
    ]
}

#[test]
fn a_stream_with_thinking_text_and_tool_use_decodes_into_canonical_events() {
    let mut decoder = AnthropicStreamDecoder::new(meta());
    let events = decode_transcript(&mut decoder, STREAM, &[]).unwrap();
    assert_eq!(events, expected_stream());
    assert!(decoder.is_finished());
}

proptest! {
    #[test]
    fn the_stream_decodes_the_same_however_the_body_is_chunked(
        cuts in proptest::collection::vec(0usize..10_000, 0..30)
    ) {
        let mut decoder = AnthropicStreamDecoder::new(meta());
        prop_assert_eq!(decode_transcript(&mut decoder, STREAM, &cuts).unwrap(), expected_stream());
    }

    #[test]
    fn the_decoder_never_panics_on_arbitrary_events(
        data in proptest::collection::vec(
            prop_oneof![
                "\\PC{0,40}",
                Just(r#"{"type":"content_block_delta","index":7,"delta":{"type":"input_json_delta","partial_json":"x"}}"#.to_owned()),
                Just(r#"{"type":"content_block_stop","index":7}"#.to_owned()),
                Just(r#"{"type":"message_delta","delta":{},"usage":null}"#.to_owned()),
                Just(r#"{"type":"brand_new_event"}"#.to_owned()),
                Just(r#"{"type":"message_stop"}"#.to_owned()),
            ],
            0..10,
        )
    ) {
        let mut decoder = AnthropicStreamDecoder::new(meta());
        for data in data {
            let _ = decoder.decode(&SseEvent::new(None, data));
        }
        let _ = decoder.finish();
    }
}

fn expected_structured_stream() -> Vec<StreamEvent> {
    let text = |text: &str| StreamEvent::TextDelta {
        choice: 0,
        text: text.into(),
    };
    vec![
        StreamEvent::Start {
            id: "msg_01StructuredStream0001".into(),
            model: "claude-sonnet-4-5-20250929".into(),
            created: 1_700_000_000,
        },
        text("{\"city\": "),
        text("\"Paris\"}"),
        StreamEvent::Finish {
            choice: 0,
            reason: FinishReason::Stop,
        },
        StreamEvent::Usage(Usage::new(612, 38)),
        StreamEvent::Done,
    ]
}

#[test]
fn a_streamed_forced_json_schema_tool_becomes_text_deltas_and_a_stop() {
    let mut decoder = AnthropicStreamDecoder::new(meta());
    let events = decode_transcript(&mut decoder, STREAM_STRUCTURED, &[]).unwrap();
    assert_eq!(events, expected_structured_stream());
    assert!(decoder.is_finished());
}

proptest! {
    #[test]
    fn the_structured_stream_decodes_the_same_however_the_body_is_chunked(
        cuts in proptest::collection::vec(0usize..2_000, 0..20)
    ) {
        let mut decoder = AnthropicStreamDecoder::new(meta());
        prop_assert_eq!(
            decode_transcript(&mut decoder, STREAM_STRUCTURED, &cuts).unwrap(),
            expected_structured_stream()
        );
    }
}

#[test]
fn a_forced_json_schema_tool_streaming_no_input_answers_an_empty_object() {
    let mut decoder = AnthropicStreamDecoder::new(meta());
    let mut events = Vec::new();
    for data in [
        json!({ "type": "message_start", "message": { "id": "m", "model": "c" } }),
        json!({ "type": "content_block_start", "index": 0, "content_block": { "type": "tool_use", "id": "t", "name": STRUCTURED_OUTPUT_TOOL, "input": {} } }),
        json!({ "type": "content_block_stop", "index": 0 }),
        json!({ "type": "message_delta", "delta": { "stop_reason": "tool_use" }, "usage": { "output_tokens": 1 } }),
        json!({ "type": "message_stop" }),
    ] {
        events.extend(decoder.decode(&event(data)).unwrap());
    }
    assert_eq!(
        events[1],
        StreamEvent::TextDelta {
            choice: 0,
            text: "{}".into()
        }
    );
    assert!(events.contains(&StreamEvent::Finish {
        choice: 0,
        reason: FinishReason::Stop
    }));
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, StreamEvent::ToolCallStart { .. }))
    );
}

fn event(data: Value) -> SseEvent {
    let name = data["type"].as_str().map(str::to_owned);
    SseEvent {
        event: name,
        data: data.to_string(),
    }
}

#[test]
fn a_stream_without_message_stop_is_reported_as_truncated() {
    let mut decoder = AnthropicStreamDecoder::new(meta());
    decoder
        .decode(&event(json!({ "type": "message_start", "message": { "id": "m", "model": "c", "usage": { "input_tokens": 1 } } })))
        .unwrap();
    decoder
        .decode(&event(json!({ "type": "message_delta", "delta": { "stop_reason": "end_turn" }, "usage": { "output_tokens": 3 } })))
        .unwrap();
    assert!(!decoder.is_finished());
    let err = decoder.finish().unwrap_err();
    assert_eq!(err.status(), 502);
    assert!(err.message.contains("message_stop"));
}

#[test]
fn an_error_event_becomes_an_error_with_its_kind_and_ends_the_stream() {
    let mut decoder = AnthropicStreamDecoder::new(meta());
    let events = decoder
        .decode(&event(serde_json::from_str(ERROR).unwrap()))
        .unwrap();
    assert_eq!(
        events,
        vec![StreamEvent::Error(GaiaError::new(
            ErrorKind::Unavailable,
            "Overloaded"
        ))]
    );
    assert!(decoder.is_finished());
    assert!(decoder.finish().unwrap().is_empty());
}

#[test]
fn unknown_events_are_ignored_and_malformed_ones_are_502s() {
    let mut decoder = AnthropicStreamDecoder::new(meta());
    let events = decoder
        .decode(&event(
            json!({ "type": "message_start", "message": { "id": "m", "model": "c" } }),
        ))
        .unwrap();
    assert_eq!(events.len(), 1);
    assert!(
        decoder
            .decode(&event(json!({ "type": "future_event", "x": 1 })))
            .unwrap()
            .is_empty()
    );
    assert!(decoder
        .decode(&event(json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "citations_delta", "citation": {} } })))
        .unwrap()
        .is_empty());
    assert_eq!(
        decoder
            .decode(&SseEvent::new(None, "{oops"))
            .unwrap_err()
            .status(),
        502
    );
}

#[test]
fn cumulative_usage_in_message_delta_replaces_the_start_counts() {
    let mut decoder = AnthropicStreamDecoder::new(meta());
    decoder
        .decode(&event(
            json!({ "type": "message_start", "message": { "id": "m", "model": "c",
            "usage": { "input_tokens": 10, "cache_read_input_tokens": 5, "output_tokens": 1 } } }),
        ))
        .unwrap();
    let events = decoder
        .decode(&event(json!({ "type": "message_delta", "delta": { "stop_reason": "max_tokens" },
            "usage": { "input_tokens": 12, "cache_creation_input_tokens": 4, "output_tokens": 30 } })))
        .unwrap();
    assert_eq!(
        events,
        vec![
            StreamEvent::Finish {
                choice: 0,
                reason: FinishReason::Length
            },
            StreamEvent::Usage(Usage {
                cached_tokens: 5,
                cache_creation_tokens: 4,
                ..Usage::new(12 + 5 + 4, 30)
            }),
        ]
    );
}

#[test]
fn a_tool_result_of_several_text_blocks_keeps_them_as_blocks() {
    let mut result = Message::tool("toolu_1", "first block");
    result
        .content
        .push(ContentPart::Text("second block".into()));
    let body = build_request(
        &request(vec![
            Message::user("hi"),
            assistant_calling("toolu_1", "f", "{}"),
            result,
        ]),
        "m",
        100,
    )
    .unwrap();
    assert_eq!(
        body["messages"][2]["content"][0]["content"],
        json!([{"type": "text", "text": "first block"}, {"type": "text", "text": "second block"}])
    );
}

#[test]
fn block_deltas_read_the_same_on_the_fast_path_as_through_the_tagged_enum() {
    let deltas = [
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "héllo \"x\""}}),
        json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\"a\":"}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "hmm"}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "sig"}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "citations_delta", "citation": {}}}),
        // A field another variant reads, of the wrong type: the tagged enum ignores it, so must the result.
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "ok", "partial_json": 5}}),
        // The event line names a delta, the data is another event: the data decides.
        json!({"type": "message_stop"}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta"}}),
    ];
    let start = [
        json!({"type": "message_start", "message": {"id": "m", "model": "c"}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "t", "name": "f", "input": {}}}),
    ];
    for data in deltas {
        let mut outputs = Vec::new();
        for name in [Some("content_block_delta"), None] {
            let mut decoder = AnthropicStreamDecoder::new(meta());
            for e in &start {
                decoder.decode(&event(e.clone())).unwrap();
            }
            let sse = SseEvent {
                event: name.map(str::to_owned),
                data: data.to_string(),
            };
            outputs.push(decoder.decode(&sse).map_err(|e| e.message));
        }
        assert_eq!(outputs[0], outputs[1], "{data}");
    }
    // What neither reads is refused by both, with the tagged enum's message.
    for data in [
        json!({"type": "content_block_delta", "delta": {"type": "text_delta", "text": "x"}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": null}}),
    ] {
        let sse = SseEvent {
            event: Some("content_block_delta".to_owned()),
            data: data.to_string(),
        };
        let err = AnthropicStreamDecoder::new(meta())
            .decode(&sse)
            .unwrap_err();
        assert_eq!(err.status(), 502, "{data}");
    }
}
