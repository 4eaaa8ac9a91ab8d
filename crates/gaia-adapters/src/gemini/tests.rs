use gaia_core::{
    ChatRequest, ChatResponse, Choice, ContentPart, FinishReason, Message, ResponseFormat,
    StreamEvent, Tool, ToolCall, ToolChoice, Usage,
};
use proptest::prelude::*;
use serde_json::{Value, json};

use super::schema::to_gemini_schema;
use super::*;
use crate::codec::StreamDecoder;
use crate::openai;
use crate::sse::SseEvent;
use crate::test_support::{arb_request, assert_texts_preserved, decode_transcript, fixture, meta};

const FULL_REQUEST: &str = fixture!("openai/request_full.json");
const RESPONSE_FUNCTION_CALL: &str = fixture!("gemini/response_function_call.json");
const STREAM_TEXT: &str = fixture!("gemini/stream_text.sse");
const STREAM_FUNCTION_CALL: &str = fixture!("gemini/stream_function_call.sse");
const ERROR: &str = fixture!("gemini/error.json");

fn request(messages: Vec<Message>) -> ChatRequest {
    ChatRequest::new("google/gemini-2.5-flash", messages)
}

fn assistant_calling(calls: &[(&str, &str, &str)]) -> Message {
    Message {
        content: Vec::new(),
        tool_calls: calls
            .iter()
            .map(|(id, name, arguments)| ToolCall {
                id: (*id).into(),
                name: (*name).into(),
                arguments: (*arguments).into(),
            })
            .collect(),
        ..Message::assistant("")
    }
}

fn tool_with(parameters: Option<Value>) -> Tool {
    Tool {
        name: "f".into(),
        description: None,
        parameters,
        strict: None,
        cache_control: None,
    }
}

// ---------------------------------------------------------------------------------------------------
// build_request
// ---------------------------------------------------------------------------------------------------

#[test]
fn the_encoded_body_is_the_built_one() {
    let full = openai::parse_request(FULL_REQUEST.as_bytes()).unwrap();
    let bytes = encode_request(&full).unwrap();
    let built = build_request(&full).unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&bytes).unwrap(), built);
    assert!(built["contents"].as_array().is_some_and(|c| !c.is_empty()));
    // Errors are the same too: a tool result answering no earlier call.
    let orphan = request(vec![
        Message::user("hi"),
        Message {
            tool_call_id: Some("nope".into()),
            ..Message::text(Role::Tool, "{}")
        },
    ]);
    assert_eq!(
        encode_request(&orphan).unwrap_err().to_string(),
        build_request(&orphan).unwrap_err().to_string()
    );
}

#[test]
fn a_full_openai_request_becomes_the_exact_generate_content_body() {
    let request = openai::parse_request(FULL_REQUEST.as_bytes()).unwrap();
    let body = build_request(&request).unwrap();
    assert_eq!(
        body,
        json!({
            "contents": [
                { "role": "user", "parts": [
                    { "text": "What is the weather in Paris? Here is a photo." },
                    { "fileData": { "mimeType": "image/png", "fileUri": "https://example.com/paris.png" } },
                    { "inlineData": { "mimeType": "image/jpeg", "data": "/9j/4AAQSkZJRg==" } }
                ] },
                { "role": "model", "parts": [
                    { "functionCall": { "name": "get_weather", "args": { "city": "Paris" } } }
                ] },
                { "role": "user", "parts": [
                    { "functionResponse": { "name": "get_weather", "response": { "temperature_c": 21, "sky": "clear" } } },
                    { "text": "Thanks! And tomorrow?" }
                ] }
            ],
            "systemInstruction": { "parts": [
                { "text": "You are a weather bot." },
                { "text": "Answer in metric units." }
            ] },
            "generationConfig": {
                "temperature": 0.7,
                "topP": 0.9,
                // reasoning_effort "low" (specs/messages.md, M-14).
                "thinkingConfig": { "thinkingBudget": 2048, "includeThoughts": true },
                "maxOutputTokens": 256,
                "stopSequences": ["\n\nUser:", "END"],
                "candidateCount": 1,
                "presencePenalty": 0.5,
                "frequencyPenalty": -0.5,
                "seed": 42,
                "responseMimeType": "application/json",
                "responseSchema": {
                    "type": "OBJECT",
                    "properties": { "summary": { "type": "STRING" } },
                    "required": ["summary"]
                }
            },
            "tools": [{ "functionDeclarations": [{
                "name": "get_weather",
                "description": "Current weather for a city.",
                "parameters": {
                    "type": "OBJECT",
                    "properties": {
                        "city": { "type": "STRING", "description": "City name" },
                        "unit": { "type": "STRING", "enum": ["celsius", "fahrenheit"], "nullable": true }
                    },
                    "required": ["city"]
                }
            }] }],
            "toolConfig": { "functionCallingConfig": { "mode": "ANY", "allowedFunctionNames": ["get_weather"] } }
        })
    );
}

#[test]
fn a_minimal_request_has_only_contents() {
    let body = build_request(&request(vec![Message::user("hi")])).unwrap();
    assert_eq!(
        body,
        json!({ "contents": [{ "role": "user", "parts": [{ "text": "hi" }] }] })
    );
}

#[test]
fn a_tool_message_answering_an_unknown_call_is_a_422() {
    let req = request(vec![Message::user("hi"), Message::tool("call_9", "42")]);
    let err = build_request(&req).unwrap_err();
    assert_eq!(err.status(), 422);
    assert_eq!(err.param.as_deref(), Some("messages[1].tool_call_id"));
}

#[test]
fn tool_results_that_are_not_json_objects_are_wrapped_as_output() {
    let req = request(vec![
        Message::user("hi"),
        assistant_calling(&[("a", "f", "{}"), ("b", "g", "{}"), ("c", "h", "")]),
        Message::tool("a", "42"),
        Message::tool("b", "sunny, 21 degrees"),
        Message::tool("c", "[1,2]"),
    ]);
    let body = build_request(&req).unwrap();
    assert_eq!(
        body["contents"][2],
        json!({ "role": "user", "parts": [
            { "functionResponse": { "name": "f", "response": { "output": 42 } } },
            { "functionResponse": { "name": "g", "response": { "output": "sunny, 21 degrees" } } },
            { "functionResponse": { "name": "h", "response": { "output": [1, 2] } } }
        ] })
    );
    assert_eq!(
        body["contents"][1]["parts"][2]["functionCall"]["args"],
        json!({})
    );
}

#[test]
fn a_thought_signature_carried_in_the_call_id_goes_back_on_the_function_call() {
    let id = "call_0__thought__CiQB0e2Kb8sig/AAA=";
    let req = request(vec![
        Message::user("hi"),
        assistant_calling(&[(id, "get_weather", "{\"city\":\"Paris\"}")]),
        Message::tool(id, "{\"t\":21}"),
    ]);
    let body = build_request(&req).unwrap();
    assert_eq!(
        body["contents"][1]["parts"][0],
        json!({
            "functionCall": { "name": "get_weather", "args": { "city": "Paris" } },
            "thoughtSignature": "CiQB0e2Kb8sig/AAA="
        })
    );
    assert_eq!(
        body["contents"][2]["parts"][0]["functionResponse"]["name"],
        "get_weather"
    );
}

#[test]
fn invalid_tool_call_arguments_are_400s() {
    let req = request(vec![
        Message::user("hi"),
        assistant_calling(&[("a", "f", "{broken")]),
    ]);
    let err = build_request(&req).unwrap_err();
    assert_eq!(err.status(), 400);
    assert_eq!(
        err.param.as_deref(),
        Some("messages[1].tool_calls[0].function.arguments")
    );
}

#[test]
fn tool_choice_maps_to_function_calling_modes() {
    let mut req = request(vec![Message::user("hi")]);
    req.tools = vec![tool_with(None)];
    for (choice, config) in [
        (ToolChoice::Auto, json!({ "mode": "AUTO" })),
        (ToolChoice::None, json!({ "mode": "NONE" })),
        (ToolChoice::Required, json!({ "mode": "ANY" })),
        (
            ToolChoice::Function("f".into()),
            json!({ "mode": "ANY", "allowedFunctionNames": ["f"] }),
        ),
    ] {
        req.tool_choice = Some(choice);
        let body = build_request(&req).unwrap();
        assert_eq!(
            body["toolConfig"],
            json!({ "functionCallingConfig": config })
        );
    }
}

#[test]
fn functions_without_parameters_declare_none() {
    let mut req = request(vec![Message::user("hi")]);
    req.tools = vec![
        tool_with(None),
        tool_with(Some(json!({ "type": "object", "properties": {} }))),
    ];
    let body = build_request(&req).unwrap();
    assert_eq!(
        body["tools"],
        json!([{ "functionDeclarations": [{ "name": "f" }, { "name": "f" }] }])
    );
    assert!(body.get("toolConfig").is_none());
}

#[test]
fn json_object_output_only_sets_the_mime_type() {
    let mut req = request(vec![Message::user("hi")]);
    req.response_format = Some(ResponseFormat::JsonObject);
    let body = build_request(&req).unwrap();
    assert_eq!(
        body["generationConfig"],
        json!({ "responseMimeType": "application/json" })
    );
}

#[test]
fn a_json_schema_sets_the_mime_type_and_the_translated_response_schema() {
    let mut req = request(vec![Message::user("Weather in Paris?")]);
    // What a Pydantic model sends (the SDKs' `parse` helpers): a title, `$defs`, no extra properties.
    req.response_format = Some(ResponseFormat::JsonSchema {
        name: "Weather".into(),
        description: None,
        schema: Some(json!({
            "$defs": { "Unit": { "enum": ["celsius", "fahrenheit"], "title": "Unit", "type": "string" } },
            "properties": {
                "city": { "title": "City", "type": "string" },
                "unit": { "anyOf": [{ "$ref": "#/$defs/Unit" }, { "type": "null" }] }
            },
            "required": ["city", "unit"],
            "title": "Weather",
            "type": "object",
            "additionalProperties": false
        })),
        strict: Some(true),
    });
    let body = build_request(&req).unwrap();
    assert_eq!(
        body["generationConfig"],
        json!({
            "responseMimeType": "application/json",
            "responseSchema": {
                "type": "OBJECT",
                "properties": {
                    "city": { "type": "STRING" },
                    "unit": { "type": "STRING", "enum": ["celsius", "fahrenheit"], "nullable": true }
                },
                "required": ["city", "unit"]
            }
        })
    );
    // A schema-less json_schema is any JSON: the MIME type alone.
    req.response_format = Some(ResponseFormat::JsonSchema {
        name: "anything".into(),
        description: None,
        schema: None,
        strict: None,
    });
    let body = build_request(&req).unwrap();
    assert_eq!(
        body["generationConfig"],
        json!({ "responseMimeType": "application/json" })
    );
}

#[test]
fn seeds_beyond_32_bits_are_folded_into_range() {
    assert_eq!(fold_seed(42), 42);
    assert_eq!(fold_seed(-7), -7);
    assert_eq!(fold_seed(1 << 40 | 5), 5);
    assert!(fold_seed(i64::MAX) >= 0);
    assert!(fold_seed(i64::MIN) >= 0);
}

#[test]
fn linked_images_get_a_mime_type_from_their_extension() {
    assert_eq!(guess_mime("https://x/a.PNG?v=1#top"), "image/png");
    assert_eq!(guess_mime("https://x/a.webp"), "image/webp");
    assert_eq!(guess_mime("https://x/doc.pdf"), "application/pdf");
    assert_eq!(guess_mime("https://x/photo"), "image/jpeg");
}

#[test]
fn malformed_data_urls_are_400s_naming_the_part() {
    let req = request(vec![Message {
        content: vec![ContentPart::Image {
            url: "data:image/png,raw".into(),
            detail: None,
        }],
        ..Message::user("")
    }]);
    let err = build_request(&req).unwrap_err();
    assert_eq!(
        err.param.as_deref(),
        Some("messages[0].content[0].image_url.url")
    );
}

// ---------------------------------------------------------------------------------------------------
// Schema translation
// ---------------------------------------------------------------------------------------------------

#[test]
fn local_refs_are_inlined_and_definitions_dropped() {
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": { "city": { "type": "string", "description": "A city", "minLength": 1 } },
        "definitions": { "day": { "type": "integer", "minimum": 0, "maximum": 6 } },
        "type": "object",
        "properties": {
            "from": { "$ref": "#/$defs/city" },
            "to": { "$ref": "#/$defs/city", "description": "Destination" },
            "day": { "$ref": "#/definitions/day" },
            "other": { "$ref": "https://example.com/remote.json" }
        },
        "additionalProperties": false
    });
    assert_eq!(
        to_gemini_schema(&schema),
        json!({
            "type": "OBJECT",
            "properties": {
                "from": { "type": "STRING", "description": "A city", "minLength": 1 },
                "to": { "type": "STRING", "description": "Destination", "minLength": 1 },
                "day": { "type": "INTEGER", "minimum": 0, "maximum": 6 },
                "other": {}
            }
        })
    );
}

#[test]
fn recursive_refs_stop_at_a_bounded_depth() {
    let schema = json!({
        "$defs": { "node": { "type": "object", "properties": { "next": { "$ref": "#/$defs/node" } } } },
        "$ref": "#/$defs/node"
    });
    let converted = to_gemini_schema(&schema);
    let mut depth = 0;
    let mut node = &converted;
    while let Some(next) = node.get("properties").and_then(|p| p.get("next")) {
        depth += 1;
        node = next;
    }
    assert!((1..=10).contains(&depth), "depth {depth}");
}

#[test]
fn unions_nullability_and_const_are_translated() {
    let schema = json!({
        "type": "object",
        "properties": {
            "a": { "anyOf": [{ "type": "string" }, { "type": "null" }] },
            "b": { "oneOf": [{ "type": "string" }, { "type": "integer" }] },
            "c": { "const": "fixed" },
            "d": { "type": ["number", "null"], "format": "double" },
            "e": { "allOf": [
                { "type": "object", "properties": { "x": { "type": "string" } }, "required": ["x"] },
                { "properties": { "y": { "type": "boolean" } }, "required": ["y"] }
            ] },
            "f": { "type": "integer", "enum": [1, 2, 3], "description": "Level." },
            "g": { "type": "string", "format": "email", "pattern": "^.+@.+$" },
            "h": { "type": "array", "items": [{ "type": "string" }], "title": "Tuple", "examples": [["x"]] }
        },
        "required": ["a", "ghost"]
    });
    assert_eq!(
        to_gemini_schema(&schema),
        json!({
            "type": "OBJECT",
            "properties": {
                "a": { "type": "STRING", "nullable": true },
                "b": { "anyOf": [{ "type": "STRING" }, { "type": "INTEGER" }] },
                "c": { "type": "STRING", "enum": ["fixed"] },
                "d": { "type": "NUMBER", "format": "double", "nullable": true },
                "e": {
                    "type": "OBJECT",
                    "properties": { "x": { "type": "STRING" }, "y": { "type": "BOOLEAN" } },
                    "required": ["x", "y"]
                },
                "f": { "type": "INTEGER", "description": "Level. Allowed values: 1, 2, 3." },
                "g": { "type": "STRING", "pattern": "^.+@.+$" },
                "h": { "type": "ARRAY", "items": { "type": "STRING" } }
            },
            "required": ["a"]
        })
    );
}

fn keys_everywhere(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                out.push(key.clone());
                keys_everywhere(item, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| keys_everywhere(item, out)),
        _ => {}
    }
}

proptest! {
    #[test]
    fn building_any_request_never_panics_and_preserves_text(request in arb_request()) {
        match build_request(&request) {
            Ok(body) => {
                assert_texts_preserved(&request, &body);
                let contents = body["contents"].as_array().unwrap();
                for pair in contents.windows(2) {
                    prop_assert_ne!(&pair[0]["role"], &pair[1]["role"], "turns must alternate");
                }
                let mut keys = Vec::new();
                keys_everywhere(&body["tools"], &mut keys);
                keys_everywhere(&body["generationConfig"], &mut keys);
                for banned in ["$schema", "$ref", "$defs", "additionalProperties", "oneOf", "const"] {
                    prop_assert!(!keys.iter().any(|k| k == banned), "{banned} left in {body}");
                }
            }
            // 400 for what the request says wrong, 422 for what Gemini cannot take (no content, a result
            // answering no call).
            Err(err) => prop_assert!(matches!(err.status(), 400 | 422), "{}", err.status()),
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// parse_response
// ---------------------------------------------------------------------------------------------------

#[test]
fn a_function_call_response_parses_into_canonical_form() {
    let response = parse_response(RESPONSE_FUNCTION_CALL.as_bytes(), &meta()).unwrap();
    assert_eq!(
        response,
        ChatResponse {
            id: "chatcmpl-gaia-1".into(),
            created: 1_700_000_000,
            model: "gemini-2.5-flash".into(),
            choices: vec![Choice::assistant(
                0,
                "Let me look that up.".into(),
                vec![ToolCall {
                    id: "call_0".into(),
                    name: "get_weather".into(),
                    arguments: "{\"city\":\"Paris\",\"unit\":\"celsius\"}".into(),
                }],
                Some(FinishReason::ToolCalls),
            )],
            usage: Some(Usage {
                prompt_tokens: 120,
                completion_tokens: 25 + 40,
                total_tokens: 185,
                cached_tokens: 64,
                cache_creation_tokens: 0,
                reasoning_tokens: 40,
            }),
        }
    );
}

#[test]
fn finish_reasons_map_onto_the_canonical_four() {
    for (wire, has_calls, expected) in [
        ("STOP", false, FinishReason::Stop),
        ("STOP", true, FinishReason::ToolCalls),
        ("MAX_TOKENS", true, FinishReason::Length),
        ("SAFETY", false, FinishReason::ContentFilter),
        ("RECITATION", false, FinishReason::ContentFilter),
        ("BLOCKLIST", false, FinishReason::ContentFilter),
        ("PROHIBITED_CONTENT", false, FinishReason::ContentFilter),
        ("SPII", false, FinishReason::ContentFilter),
        ("IMAGE_SAFETY", false, FinishReason::ContentFilter),
        ("LANGUAGE", false, FinishReason::Stop),
        ("OTHER", false, FinishReason::Stop),
        ("MALFORMED_FUNCTION_CALL", false, FinishReason::Stop),
        ("FINISH_REASON_UNSPECIFIED", false, FinishReason::Stop),
    ] {
        assert_eq!(finish_reason(wire, has_calls), expected, "{wire}");
    }
}

#[test]
fn thought_parts_are_not_answer_text_and_candidates_keep_their_index() {
    let body = json!({
        "candidates": [
            { "content": { "parts": [{ "text": "thinking...", "thought": true }, { "text": "42" }] }, "finishReason": "STOP", "index": 0 },
            { "content": { "parts": [{ "text": "forty-two" }] }, "finishReason": "MAX_TOKENS", "index": 1 }
        ]
    });
    let response = parse_response(body.to_string().as_bytes(), &meta()).unwrap();
    assert_eq!(response.model, "requested-model");
    assert_eq!(response.choices[0].message.text_content(), "42");
    assert_eq!(response.choices[1].index, 1);
    assert_eq!(
        response.choices[1].finish_reason,
        Some(FinishReason::Length)
    );
    assert_eq!(response.usage, None);
}

#[test]
fn a_blocked_prompt_is_a_content_filtered_empty_choice() {
    let body = json!({
        "promptFeedback": { "blockReason": "SAFETY", "safetyRatings": [] },
        "usageMetadata": { "promptTokenCount": 7, "totalTokenCount": 7 }
    });
    let response = parse_response(body.to_string().as_bytes(), &meta()).unwrap();
    assert_eq!(
        response.choices,
        vec![Choice::assistant(
            0,
            String::new(),
            Vec::new(),
            Some(FinishReason::ContentFilter)
        )]
    );
    assert_eq!(response.usage, Some(Usage::new(7, 0)));
}

#[test]
fn error_bodies_yield_status_and_message() {
    let expected = "INVALID_ARGUMENT: * GenerateContentRequest.tools[0].function_declarations[0].parameters.properties: should be non-empty for OBJECT type\n";
    assert_eq!(parse_error(ERROR.as_bytes()).as_deref(), Some(expected));
    let wrapped = format!("[{ERROR}]");
    assert_eq!(parse_error(wrapped.as_bytes()).as_deref(), Some(expected));
    assert_eq!(parse_error(b"{}"), None);
    assert_eq!(parse_error(b"[]"), None);
    let err = parse_response(ERROR.as_bytes(), &meta()).unwrap_err();
    assert_eq!(err.status(), 502);
    assert_eq!(err.message, expected);
    assert_eq!(
        parse_response(b"<html>", &meta()).unwrap_err().status(),
        502
    );
}

// ---------------------------------------------------------------------------------------------------
// Stream decoding
// ---------------------------------------------------------------------------------------------------

fn expected_text_stream() -> Vec<StreamEvent> {
    vec![
        StreamEvent::Start {
            id: "chatcmpl-gaia-1".into(),
            model: "gemini-2.5-flash".into(),
            created: 1_700_000_000,
        },
        StreamEvent::TextDelta {
            choice: 0,
            text: "The".into(),
        },
        StreamEvent::TextDelta {
            choice: 0,
            text: " sky is blue because of Rayleigh ".into(),
        },
        StreamEvent::TextDelta {
            choice: 0,
            text: "scattering — shorter wavelengths scatter more.".into(),
        },
        StreamEvent::Finish {
            choice: 0,
            reason: FinishReason::Stop,
        },
        StreamEvent::Usage(Usage {
            prompt_tokens: 9,
            completion_tokens: 14 + 1020,
            total_tokens: 1043,
            cached_tokens: 0,
            cache_creation_tokens: 0,
            reasoning_tokens: 1020,
        }),
        StreamEvent::Done,
    ]
}

fn expected_function_call_stream() -> Vec<StreamEvent> {
    vec![
        StreamEvent::Start {
            id: "chatcmpl-gaia-1".into(),
            model: "gemini-3-pro-preview".into(),
            created: 1_700_000_000,
        },
        StreamEvent::ReasoningDelta {
            choice: 0,
            text: "**Planning the lookup** I should call get_weather for both cities.".into(),
        },
        StreamEvent::ToolCallStart {
            choice: 0,
            index: 0,
            id: "call_0__thought__CiQB0e2Kb8sig/AAA=".into(),
            name: "get_weather".into(),
        },
        StreamEvent::ToolCallArgsDelta {
            choice: 0,
            index: 0,
            arguments: "{\"city\":\"Paris\"}".into(),
        },
        StreamEvent::ToolCallStart {
            choice: 0,
            index: 1,
            id: "call_1".into(),
            name: "get_weather".into(),
        },
        StreamEvent::ToolCallArgsDelta {
            choice: 0,
            index: 1,
            arguments: "{\"city\":\"Tokyo\"}".into(),
        },
        StreamEvent::Finish {
            choice: 0,
            reason: FinishReason::ToolCalls,
        },
        StreamEvent::Usage(Usage {
            reasoning_tokens: 60,
            total_tokens: 151,
            ..Usage::new(61, 30 + 60)
        }),
        StreamEvent::Done,
    ]
}

#[test]
fn a_text_stream_decodes_into_canonical_events() {
    let mut decoder = GeminiStreamDecoder::new(meta());
    let events = decode_transcript(&mut decoder, STREAM_TEXT, &[]).unwrap();
    assert_eq!(events, expected_text_stream());
    assert!(decoder.is_finished());
}

#[test]
fn a_function_call_stream_mints_ids_that_carry_the_thought_signature() {
    let mut decoder = GeminiStreamDecoder::new(meta());
    let events = decode_transcript(&mut decoder, STREAM_FUNCTION_CALL, &[]).unwrap();
    assert_eq!(events, expected_function_call_stream());
}

#[test]
fn streamed_call_ids_round_trip_into_the_next_request() {
    let mut decoder = GeminiStreamDecoder::new(meta());
    let events = decode_transcript(&mut decoder, STREAM_FUNCTION_CALL, &[]).unwrap();
    let calls: Vec<(String, String)> = events
        .iter()
        .filter_map(|event| match event {
            StreamEvent::ToolCallStart { id, name, .. } => Some((id.clone(), name.clone())),
            _ => None,
        })
        .collect();
    let assistant = Message {
        tool_calls: calls
            .iter()
            .map(|(id, name)| ToolCall {
                id: id.clone(),
                name: name.clone(),
                arguments: "{}".into(),
            })
            .collect(),
        ..Message::assistant("")
    };
    let req = request(vec![
        Message::user("weather?"),
        assistant,
        Message::tool(&calls[0].0, "{\"t\":21}"),
        Message::tool(&calls[1].0, "{\"t\":25}"),
    ]);
    let body = build_request(&req).unwrap();
    assert_eq!(
        body["contents"][1]["parts"][0]["thoughtSignature"],
        "CiQB0e2Kb8sig/AAA="
    );
    assert!(
        body["contents"][1]["parts"][1]
            .get("thoughtSignature")
            .is_none()
    );
    assert_eq!(body["contents"][2]["parts"].as_array().unwrap().len(), 2);
}

proptest! {
    #[test]
    fn streams_decode_the_same_however_the_body_is_chunked(
        cuts in proptest::collection::vec(0usize..5_000, 0..30)
    ) {
        let mut decoder = GeminiStreamDecoder::new(meta());
        prop_assert_eq!(decode_transcript(&mut decoder, STREAM_TEXT, &cuts).unwrap(), expected_text_stream());
        let mut decoder = GeminiStreamDecoder::new(meta());
        prop_assert_eq!(
            decode_transcript(&mut decoder, STREAM_FUNCTION_CALL, &cuts).unwrap(),
            expected_function_call_stream()
        );
    }

    #[test]
    fn the_decoder_never_panics_on_arbitrary_events(
        data in proptest::collection::vec(
            prop_oneof![
                "\\PC{0,40}",
                Just(r#"{"candidates":[{"index":4,"content":{"parts":[{"functionCall":{"name":"f"}}]},"finishReason":"NEW_REASON"}]}"#.to_owned()),
                Just(r#"{"candidates":null,"promptFeedback":{"blockReason":"OTHER"}}"#.to_owned()),
                Just(r#"{"error":{"message":"x"}}"#.to_owned()),
            ],
            0..10,
        )
    ) {
        let mut decoder = GeminiStreamDecoder::new(meta());
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
fn a_stream_ending_before_a_finish_reason_is_an_error() {
    let mut decoder = GeminiStreamDecoder::new(meta());
    decoder
        .decode(&chunk(
            json!({ "candidates": [{ "content": { "parts": [{ "text": "par" }] }, "index": 0 }] }),
        ))
        .unwrap();
    assert!(!decoder.is_finished());
    assert_eq!(decoder.finish().unwrap_err().status(), 502);
    let mut empty = GeminiStreamDecoder::new(meta());
    assert!(empty.finish().is_err());
}

#[test]
fn every_candidate_must_finish_before_the_stream_is_complete() {
    let mut decoder = GeminiStreamDecoder::new(meta());
    decoder
        .decode(&chunk(json!({ "candidates": [
            { "content": { "parts": [{ "text": "a" }] }, "index": 0, "finishReason": "STOP" },
            { "content": { "parts": [{ "text": "b" }] }, "index": 1 }
        ] })))
        .unwrap();
    assert!(!decoder.is_finished());
    decoder
        .decode(&chunk(
            json!({ "candidates": [{ "index": 1, "finishReason": "SAFETY" }] }),
        ))
        .unwrap();
    assert!(decoder.is_finished());
    assert_eq!(decoder.finish().unwrap(), vec![StreamEvent::Done]);
}

#[test]
fn an_error_chunk_becomes_an_error_event_and_ends_the_stream() {
    let mut decoder = GeminiStreamDecoder::new(meta());
    let events = decoder
        .decode(&chunk(serde_json::from_str(ERROR).unwrap()))
        .unwrap();
    assert!(
        matches!(&events[..], [StreamEvent::Error(err)] if err.status() == 502 && err.message.starts_with("INVALID_ARGUMENT"))
    );
    assert!(decoder.is_finished());
    assert!(decoder.finish().unwrap().is_empty());
}

#[test]
fn a_blocked_prompt_in_a_stream_finishes_with_content_filter() {
    let mut decoder = GeminiStreamDecoder::new(meta());
    let events = decoder
        .decode(&chunk(
            json!({ "promptFeedback": { "blockReason": "PROHIBITED_CONTENT" } }),
        ))
        .unwrap();
    assert_eq!(
        events[1],
        StreamEvent::Finish {
            choice: 0,
            reason: FinishReason::ContentFilter
        }
    );
    assert_eq!(decoder.finish().unwrap(), vec![StreamEvent::Done]);
}

#[test]
fn malformed_chunks_are_502s() {
    let mut decoder = GeminiStreamDecoder::new(meta());
    assert_eq!(
        decoder
            .decode(&SseEvent::new(None, "[{"))
            .unwrap_err()
            .status(),
        502
    );
}

/// A definition that refers to itself ten times once expanded to 10⁸ nodes (eight levels of inlining):
/// a request of a few hundred bytes could hold a Google target's CPU for minutes. The conversion now
/// stops at a bounded number of nodes.
#[test]
fn a_self_referencing_schema_cannot_blow_up_the_conversion() {
    let properties: serde_json::Map<String, Value> = (0..10)
        .map(|i| (format!("p{i}"), json!({"$ref": "#/$defs/node"})))
        .collect();
    let schema = json!({
        "type": "object",
        "properties": {"root": {"$ref": "#/$defs/node"}},
        "$defs": {"node": {"type": "object", "properties": properties}}
    });
    let converted = to_gemini_schema(&schema);
    fn nodes(v: &Value) -> usize {
        match v {
            Value::Object(m) => 1 + m.values().map(nodes).sum::<usize>(),
            Value::Array(a) => a.iter().map(nodes).sum(),
            _ => 0,
        }
    }
    // Each converted node is a handful of JSON objects at most (itself, `properties`, …).
    assert!(
        nodes(&converted) < 4 * super::schema::MAX_NODES,
        "{} nodes",
        nodes(&converted)
    );
    assert_eq!(converted["type"], "OBJECT");
}

#[test]
fn thought_parts_of_a_complete_answer_are_reasoning_before_the_text() {
    let body = json!({"candidates": [{"index": 0, "finishReason": "STOP", "content": {"role": "model", "parts": [
        {"text": "thinking about: ", "thought": true},
        {"text": "the weather", "thought": true},
        {"text": "It is sunny.", "thoughtSignature": "c2ln"}]}}],
        "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 3, "thoughtsTokenCount": 4, "totalTokenCount": 12}});
    let response = parse_response(body.to_string().as_bytes(), &meta()).unwrap();
    let choice = &response.choices[0];
    assert_eq!(
        choice.message.content,
        vec![
            ContentPart::Thinking {
                text: "thinking about: the weather".into(),
                signature: None
            },
            ContentPart::Text("It is sunny.".into())
        ]
    );
    assert_eq!(response.usage.unwrap().reasoning_tokens, 4);
}

#[test]
fn separate_system_blocks_stay_separate_parts_and_tool_result_blocks_keep_a_line_between() {
    let mut system = Message::system("You are terse.");
    system
        .content
        .push(ContentPart::Text("Answer in English.".into()));
    let mut result = Message::tool("call_0", "first block");
    result
        .content
        .push(ContentPart::Text("second block".into()));
    let body = build_request(&request(vec![
        system,
        Message::user("hi"),
        assistant_calling(&[("call_0", "f", "{}")]),
        result,
    ]))
    .unwrap();
    assert_eq!(
        body["systemInstruction"]["parts"],
        json!([{"text": "You are terse."}, {"text": "Answer in English."}])
    );
    assert_eq!(
        body["contents"][2]["parts"][0]["functionResponse"]["response"],
        json!({"output": "first block\nsecond block"})
    );
}
