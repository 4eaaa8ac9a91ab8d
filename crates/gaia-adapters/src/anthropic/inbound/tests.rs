#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gaia_core::{
    ChatResponse, Choice, ContentPart, ErrorKind, FinishReason, GaiaError, Reasoning, Role,
    StreamEvent, ToolCall, ToolChoice, Usage,
};
use serde_json::{Value, json};

use super::*;
use crate::codec::StreamEncoder;
use crate::sse::SseParser;

fn parse(body: Value) -> Result<gaia_core::ChatRequest, GaiaError> {
    parse_request(body.to_string().as_bytes())
}

fn refusal(body: Value) -> GaiaError {
    let err = parse(body).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidRequest, "{err:?}");
    err
}

// ---------------------------------------------------------------- requests

#[test]
fn a_claude_code_style_request_becomes_the_canonical_conversation() {
    let request = parse(json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 32000,
        "system": [
            {"type": "text", "text": "You are Claude Code."},
            {"type": "text", "text": "Project rules.", "cache_control": {"type": "ephemeral"}}
        ],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "list files", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "I should call ls.", "signature": "sig-1"},
                {"type": "redacted_thinking", "data": "opaque"},
                {"type": "text", "text": "Listing."},
                {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}},
                {"type": "tool_use", "id": "toolu_2", "name": "Read", "input": {"path": "a"}, "cache_control": {"type": "ephemeral"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "a\nb"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "is_error": true,
                 "content": [{"type": "text", "text": "no such file"}]},
                {"type": "text", "text": "go on"}
            ]}
        ],
        "tools": [{"name": "Bash", "description": "Run", "input_schema": {"type": "object"},
                   "cache_control": {"type": "ephemeral"}},
                  {"name": "Read", "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}}}],
        "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
        "thinking": {"type": "enabled", "budget_tokens": 4096},
        "stop_sequences": ["END"],
        "top_k": 5,
        "metadata": {"user_id": "u-1"},
        "stream": true,
        "context_management": {"edits": []}
    }))
    .unwrap();
    assert_eq!(request.model, "claude-sonnet-4-5");
    assert_eq!(request.max_tokens, Some(32000));
    assert!(request.stream && request.include_usage);
    assert_eq!(request.reasoning, Some(Reasoning::Budget(4096)));
    assert_eq!(request.stop, vec!["END".to_owned()]);
    assert_eq!(request.top_k, Some(5));
    assert_eq!(request.user.as_deref(), Some("u-1"));
    assert_eq!(request.tool_choice, Some(ToolChoice::Required));
    assert_eq!(request.parallel_tool_calls, Some(false));
    assert!(request.tools[0].cache_control.is_some());
    assert!(request.tools[1].cache_control.is_none());

    let roles: Vec<Role> = request.messages.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [
            Role::System,
            Role::User,
            Role::Assistant,
            Role::Tool,
            Role::Tool,
            Role::User
        ]
    );
    let system = &request.messages[0].content;
    assert_eq!(system.len(), 3);
    assert!(matches!(system[2], ContentPart::CacheBreakpoint(_)));
    match &request.messages[1].content[1] {
        ContentPart::CacheBreakpoint(c) => assert_eq!(c.ttl.as_deref(), Some("1h")),
        other => panic!("{other:?}"),
    }
    let assistant = &request.messages[2];
    assert_eq!(
        assistant.content[0],
        ContentPart::Thinking {
            text: "I should call ls.".into(),
            signature: Some("sig-1".into())
        }
    );
    assert_eq!(
        assistant.content[1],
        ContentPart::RedactedThinking {
            data: "opaque".into()
        }
    );
    assert_eq!(assistant.content[2], ContentPart::Text("Listing.".into()));
    assert!(matches!(
        assistant.content[3],
        ContentPart::CacheBreakpoint(_)
    ));
    assert_eq!(assistant.tool_calls.len(), 2);
    assert_eq!(assistant.tool_calls[0].arguments, r#"{"command":"ls"}"#);
    assert_eq!(request.messages[3].tool_call_id.as_deref(), Some("toolu_1"));
    assert!(!request.messages[3].tool_error);
    assert!(request.messages[4].tool_error);
    assert_eq!(request.messages[4].text_content(), "no such file");
    assert_eq!(request.messages[5].text_content(), "go on");
}

#[test]
fn what_only_anthropic_understands_is_kept_for_anthropic() {
    let search = json!({"type": "web_search_20250305", "name": "web_search", "max_uses": 3});
    let request = parse(json!({
        "model": "m", "max_tokens": 10,
        "messages": [{"role": "user", "content": "news?"}],
        "tools": [search, {"type": "custom", "name": "f", "input_schema": {"type": "object"}}],
        "tool_choice": {"type": "tool", "name": "web_search"},
        "service_tier": "auto", "context_management": {"edits": []}
    }))
    .unwrap();
    assert_eq!(request.tools.len(), 1);
    assert_eq!(request.tools[0].name, "f");
    assert_eq!(request.anthropic.server_tools, vec![search.clone()]);
    assert_eq!(
        request.anthropic.first_server_tool(),
        Some("web_search_20250305")
    );
    assert_eq!(
        Value::Object(request.anthropic.fields.clone()),
        json!({"service_tier": "auto", "context_management": {"edits": []}})
    );
    assert_eq!(
        request.tool_choice,
        Some(ToolChoice::Function("web_search".into()))
    );

    // And the Anthropic encoder writes them back: server tools after the custom ones, fields at the top.
    let body: Value =
        serde_json::from_slice(&crate::anthropic::encode_request(&request, "claude", 100).unwrap())
            .unwrap();
    assert_eq!(body["tools"][1], search);
    assert_eq!(body["tools"][0]["name"], "f");
    assert_eq!(body["service_tier"], "auto");
    assert_eq!(body["context_management"], json!({"edits": []}));
    assert_eq!(
        body["tool_choice"],
        json!({"type": "tool", "name": "web_search"})
    );
}

#[test]
fn images_and_documents_become_urls() {
    let request = parse(json!({
        "model": "m", "max_tokens": 10,
        "messages": [{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"}},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/a.jpg"}},
            {"type": "document", "title": "Spec", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBE"}},
            {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "plain words"}}
        ]}]
    }))
    .unwrap();
    let parts = &request.messages[0].content;
    assert_eq!(
        parts[0],
        ContentPart::Image {
            url: "data:image/png;base64,iVBO".into(),
            detail: None
        }
    );
    assert_eq!(
        parts[1],
        ContentPart::Image {
            url: "https://example.com/a.jpg".into(),
            detail: None
        }
    );
    assert_eq!(
        parts[2],
        ContentPart::Document {
            url: "data:application/pdf;base64,JVBE".into(),
            name: Some("Spec".into())
        }
    );
    assert_eq!(parts[3], ContentPart::Text("plain words".into()));
}

/// Empty base64 data made `data:image/png;base64,`, which is no data URL: Anthropic and Gemini models
/// then refused it naming a field the caller never sent. It is refused here, naming the field, as the
/// published schema says (`minLength: 1`); an empty plain-text document stays valid.
#[test]
fn an_empty_base64_source_is_refused_at_its_data() {
    let with = |block: Value| json!({"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": [block]}]});
    for (block, param) in [
        (
            json!({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": ""}}),
            "messages.0.content.0.source.data",
        ),
        (
            json!({"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": ""}}),
            "messages.0.content.0.source.data",
        ),
        (
            json!({"type": "tool_result", "tool_use_id": "t", "content": [
                {"type": "image", "source": {"type": "base64", "media_type": "image/gif", "data": ""}}]}),
            "messages.0.content.0.content.0.source.data",
        ),
    ] {
        let err = refusal(with(block.clone()));
        assert_eq!(err.param.as_deref(), Some(param), "{block}: {err:?}");
    }
    let text = parse(with(
        json!({"type": "document", "source": {"type": "text", "data": ""}}),
    ))
    .unwrap();
    assert_eq!(
        text.messages[0].content,
        vec![ContentPart::Text(String::new())]
    );
}

#[test]
fn an_empty_signature_is_no_signature() {
    let request = parse(json!({
        "model": "m", "max_tokens": 10,
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"type": "thinking", "thinking": "hm", "signature": ""}]},
            {"role": "user", "content": "and?"}
        ]
    }))
    .unwrap();
    assert_eq!(
        request.messages[1].content[0],
        ContentPart::Thinking {
            text: "hm".into(),
            signature: None
        }
    );
}

#[test]
fn bad_requests_name_the_field_at_fault() {
    let base = || json!({"model": "m", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]});
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}),
            "max_tokens",
        ),
        (json!({"max_tokens": 1, "messages": []}), "model"),
        (
            json!({"model": "m", "max_tokens": 1, "messages": []}),
            "messages",
        ),
        (
            json!({"model": "m", "max_tokens": 1, "messages": [{"role": "system", "content": "x"}]}),
            "messages.0.role",
        ),
        (
            json!({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "text/html", "data": "x"}}]}]}),
            "messages.0.content.0.source.media_type",
        ),
        (
            json!({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": [{"type": "video"}]}]}),
            "messages.0.content.0.type",
        ),
        (
            json!({"model": "m", "max_tokens": 1, "messages": [{"role": "assistant", "content": [
            {"type": "tool_use", "id": "t", "name": "f", "input": [1]}]}]}),
            "messages.0.content.0.input",
        ),
        (
            json!({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": "x"}],
                "tools": [{"type": 7, "name": "web_search"}]}),
            "tools.0.type",
        ),
        (
            json!({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": "x"}],
                "tools": [{"name": "f"}]}),
            "tools.0.input_schema",
        ),
        (
            json!({"model": "m", "max_tokens": 5000, "messages": [{"role": "user", "content": "x"}],
                "thinking": {"type": "enabled", "budget_tokens": 100}}),
            "thinking.budget_tokens",
        ),
        (
            json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}],
                "temperature": 1.5}),
            "temperature",
        ),
        (
            json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}],
                "system": [{"type": "image"}]}),
            "system.0.type",
        ),
        (
            json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [
            {"type": "text", "text": "x", "cache_control": "yes"}]}]}),
            "messages.0.content.0.cache_control",
        ),
    ];
    for (body, param) in cases {
        let err = refusal(body.clone());
        assert_eq!(err.param.as_deref(), Some(param), "{body}: {err:?}");
    }
    // Rules between fields, which no schema states, are 422s.
    for (body, param) in [
        (
            json!({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": "x"}],
                "tool_choice": {"type": "tool", "name": "g"}}),
            "tool_choice.name",
        ),
        (
            json!({"model": "m", "max_tokens": 2000, "messages": [{"role": "user", "content": "x"}],
                "thinking": {"type": "enabled", "budget_tokens": 2000}}),
            "thinking.budget_tokens",
        ),
    ] {
        let err = parse(body.clone()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unprocessable, "{body}");
        assert_eq!(err.param.as_deref(), Some(param), "{body}: {err:?}");
    }
    assert!(parse(base()).is_ok());
    // count_tokens does not need max_tokens.
    assert!(
        parse_count_tokens_request(
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
                .to_string()
                .as_bytes()
        )
        .is_ok()
    );
    assert_eq!(
        parse_request(b"{not json").unwrap_err().kind,
        ErrorKind::InvalidRequest
    );
}

// ---------------------------------------------------------------- responses

fn answer(parts: Vec<ContentPart>, calls: Vec<ToolCall>, reason: FinishReason) -> ChatResponse {
    let mut choice = Choice::assistant(0, String::new(), calls, Some(reason));
    choice.message.content = parts;
    ChatResponse {
        id: "up".into(),
        created: 1,
        model: "upstream-model".into(),
        choices: vec![choice],
        usage: Some(Usage {
            prompt_tokens: 1000,
            completion_tokens: 50,
            total_tokens: 1050,
            cached_tokens: 600,
            cache_creation_tokens: 300,
            reasoning_tokens: 20,
        }),
    }
}

#[test]
fn a_response_is_a_message_with_its_blocks_in_order_and_usage_split_by_class() {
    let response = answer(
        vec![
            ContentPart::Thinking {
                text: "think".into(),
                signature: Some("sig".into()),
            },
            ContentPart::RedactedThinking { data: "enc".into() },
            ContentPart::Text("Hello".into()),
        ],
        vec![ToolCall {
            id: "toolu_9".into(),
            name: "get_weather".into(),
            arguments: r#"{"city":"Paris"}"#.into(),
        }],
        FinishReason::ToolCalls,
    );
    let body: Value =
        serde_json::from_slice(&encode_response(&response, "anthropic/claude", "msg_1").unwrap())
            .unwrap();
    assert_eq!(
        body,
        json!({
            "id": "msg_1", "type": "message", "role": "assistant", "model": "anthropic/claude",
            "content": [
                {"type": "thinking", "thinking": "think", "signature": "sig"},
                {"type": "redacted_thinking", "data": "enc"},
                {"type": "text", "text": "Hello"},
                {"type": "tool_use", "id": "toolu_9", "name": "get_weather", "input": {"city": "Paris"}}
            ],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 100, "output_tokens": 50,
                      "cache_creation_input_tokens": 300, "cache_read_input_tokens": 600}
        })
    );
}

#[test]
fn stop_reasons_follow_anthropic() {
    assert_eq!(stop_reason(Some(FinishReason::Stop), None), "end_turn");
    assert_eq!(
        stop_reason(Some(FinishReason::Stop), Some("END")),
        "stop_sequence"
    );
    assert_eq!(stop_reason(Some(FinishReason::Length), None), "max_tokens");
    assert_eq!(stop_reason(Some(FinishReason::ToolCalls), None), "tool_use");
    assert_eq!(
        stop_reason(Some(FinishReason::ContentFilter), None),
        "refusal"
    );
    assert_eq!(stop_reason(None, None), "end_turn");

    let mut response = answer(
        vec![ContentPart::Text("a".into())],
        vec![],
        FinishReason::Stop,
    );
    response.choices[0].stop_sequence = Some("END".into());
    let body: Value =
        serde_json::from_slice(&encode_response(&response, "m", "msg_2").unwrap()).unwrap();
    assert_eq!(body["stop_reason"], "stop_sequence");
    assert_eq!(body["stop_sequence"], "END");
}

#[test]
fn unsigned_reasoning_gets_an_empty_signature_and_broken_arguments_are_kept_as_text() {
    let response = answer(
        vec![ContentPart::Thinking {
            text: "from a compatible server".into(),
            signature: None,
        }],
        vec![ToolCall {
            id: "c1".into(),
            name: "f".into(),
            arguments: r#"{"city":"Par"#.into(),
        }],
        FinishReason::Length,
    );
    let body: Value =
        serde_json::from_slice(&encode_response(&response, "m", "msg_3").unwrap()).unwrap();
    assert_eq!(body["content"][0]["signature"], "");
    assert_eq!(
        body["content"][1]["input"],
        json!({"arguments": "{\"city\":\"Par"})
    );
    assert_eq!(body["stop_reason"], "max_tokens");
}

// ---------------------------------------------------------------- streams

/// The encoded stream as (event name, data) pairs, checking every frame's `type` matches its name.
fn frames(events: &[StreamEvent]) -> Vec<(String, Value)> {
    let mut encoder = AnthropicStreamEncoder::new("msg_s", "claude");
    let mut out = String::new();
    for event in events {
        encoder.encode(event, &mut out);
    }
    let mut parser = SseParser::new();
    let parsed = parser.push(out.as_bytes()).unwrap();
    parsed
        .into_iter()
        .map(|e| {
            let name = e.event.clone().unwrap_or_default();
            let data: Value = serde_json::from_str(&e.data).unwrap();
            assert_eq!(data["type"], name.as_str(), "{data}");
            (name, data)
        })
        .collect()
}

fn names(frames: &[(String, Value)]) -> Vec<&str> {
    frames.iter().map(|(n, _)| n.as_str()).collect()
}

fn start() -> StreamEvent {
    StreamEvent::Start {
        id: "up".into(),
        model: "up".into(),
        created: 0,
    }
}

#[test]
fn text_then_a_tool_call_streams_as_anthropic_does() {
    let usage = Usage {
        prompt_tokens: 30,
        completion_tokens: 12,
        total_tokens: 42,
        cached_tokens: 10,
        cache_creation_tokens: 0,
        reasoning_tokens: 0,
    };
    let f = frames(&[
        start(),
        StreamEvent::Usage(Usage::new(30, 0)),
        StreamEvent::TextDelta {
            choice: 0,
            text: "Let me check.".into(),
        },
        StreamEvent::ToolCallStart {
            choice: 0,
            index: 0,
            id: "toolu_1".into(),
            name: "get_weather".into(),
        },
        StreamEvent::ToolCallArgsDelta {
            choice: 0,
            index: 0,
            arguments: "{\"city\":".into(),
        },
        StreamEvent::ToolCallArgsDelta {
            choice: 0,
            index: 0,
            arguments: "\"Paris\"}".into(),
        },
        StreamEvent::Finish {
            choice: 0,
            reason: FinishReason::ToolCalls,
        },
        StreamEvent::Usage(usage),
        StreamEvent::Done,
    ]);
    assert_eq!(
        names(&f),
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    let message = &f[0].1["message"];
    assert_eq!(message["id"], "msg_s");
    assert_eq!(message["model"], "claude");
    assert_eq!(message["content"], json!([]));
    // The input tokens the provider reported up front are in message_start.
    assert_eq!(message["usage"]["input_tokens"], 30);
    assert_eq!(f[1].1["content_block"], json!({"type": "text", "text": ""}));
    assert_eq!(
        f[2].1["delta"],
        json!({"type": "text_delta", "text": "Let me check."})
    );
    assert_eq!(f[3].1["index"], 0);
    assert_eq!(f[4].1["index"], 1);
    assert_eq!(
        f[4].1["content_block"],
        json!({"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}})
    );
    assert_eq!(
        f[5].1["delta"],
        json!({"type": "input_json_delta", "partial_json": "{\"city\":"})
    );
    assert_eq!(f[7].1["index"], 1);
    assert_eq!(
        f[8].1["delta"],
        json!({"stop_reason": "tool_use", "stop_sequence": null})
    );
    assert_eq!(
        f[8].1["usage"],
        json!({"input_tokens": 20, "output_tokens": 12, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 10})
    );
}

#[test]
fn interleaved_parallel_tool_calls_arrive_whole_and_in_order() {
    let f = frames(&[
        start(),
        StreamEvent::ToolCallStart {
            choice: 0,
            index: 0,
            id: "a".into(),
            name: "f".into(),
        },
        StreamEvent::ToolCallArgsDelta {
            choice: 0,
            index: 0,
            arguments: "{\"x\":".into(),
        },
        StreamEvent::ToolCallStart {
            choice: 0,
            index: 1,
            id: "b".into(),
            name: "g".into(),
        },
        StreamEvent::ToolCallArgsDelta {
            choice: 0,
            index: 1,
            arguments: "{\"y\":".into(),
        },
        StreamEvent::ToolCallArgsDelta {
            choice: 0,
            index: 0,
            arguments: "1}".into(),
        },
        StreamEvent::ToolCallArgsDelta {
            choice: 0,
            index: 1,
            arguments: "2}".into(),
        },
        StreamEvent::Finish {
            choice: 0,
            reason: FinishReason::ToolCalls,
        },
        StreamEvent::Done,
    ]);
    // Reassemble each block's arguments as a client does.
    let mut blocks: Vec<(String, String)> = Vec::new();
    let mut open: Option<usize> = None;
    for (name, data) in &f {
        match name.as_str() {
            "content_block_start" => {
                assert!(open.is_none(), "blocks never overlap");
                assert_eq!(data["index"].as_u64().unwrap() as usize, blocks.len());
                blocks.push((
                    data["content_block"]["id"].as_str().unwrap().to_owned(),
                    String::new(),
                ));
                open = Some(blocks.len() - 1);
            }
            "content_block_delta" => {
                assert_eq!(data["index"].as_u64().unwrap() as usize, open.unwrap());
                blocks[open.unwrap()]
                    .1
                    .push_str(data["delta"]["partial_json"].as_str().unwrap());
            }
            "content_block_stop" => open = None,
            _ => {}
        }
    }
    assert_eq!(
        blocks,
        [
            ("a".to_owned(), "{\"x\":1}".to_owned()),
            ("b".to_owned(), "{\"y\":2}".to_owned())
        ]
    );
}

#[test]
fn interleaved_thinking_and_text_keep_their_signatures() {
    let f = frames(&[
        start(),
        StreamEvent::ReasoningDelta {
            choice: 0,
            text: "first ".into(),
        },
        StreamEvent::ReasoningDelta {
            choice: 0,
            text: "thought".into(),
        },
        StreamEvent::ReasoningSignature {
            choice: 0,
            signature: "SIG1".into(),
        },
        StreamEvent::TextDelta {
            choice: 0,
            text: "Answer".into(),
        },
        StreamEvent::RedactedReasoning {
            choice: 0,
            data: "ENC".into(),
        },
        StreamEvent::ReasoningDelta {
            choice: 0,
            text: "second".into(),
        },
        StreamEvent::ReasoningSignature {
            choice: 0,
            signature: "SIG2".into(),
        },
        StreamEvent::Finish {
            choice: 0,
            reason: FinishReason::Stop,
        },
        StreamEvent::Done,
    ]);
    let starts: Vec<&Value> = f
        .iter()
        .filter(|(n, _)| n == "content_block_start")
        .map(|(_, d)| &d["content_block"])
        .collect();
    assert_eq!(
        starts,
        [
            &json!({"type": "thinking", "thinking": "", "signature": ""}),
            &json!({"type": "text", "text": ""}),
            &json!({"type": "redacted_thinking", "data": "ENC"}),
            &json!({"type": "thinking", "thinking": "", "signature": ""}),
        ]
    );
    let deltas: Vec<&Value> = f
        .iter()
        .filter(|(n, _)| n == "content_block_delta")
        .map(|(_, d)| &d["delta"])
        .collect();
    assert_eq!(
        deltas,
        [
            &json!({"type": "thinking_delta", "thinking": "first "}),
            &json!({"type": "thinking_delta", "thinking": "thought"}),
            &json!({"type": "signature_delta", "signature": "SIG1"}),
            &json!({"type": "text_delta", "text": "Answer"}),
            &json!({"type": "thinking_delta", "thinking": "second"}),
            &json!({"type": "signature_delta", "signature": "SIG2"}),
        ]
    );
    let stops = f.iter().filter(|(n, _)| n == "content_block_stop").count();
    assert_eq!(stops, 4);
    assert_eq!(f.last().unwrap().0, "message_stop");
}

#[test]
fn a_stop_sequence_and_a_failure_mid_stream() {
    let f = frames(&[
        start(),
        StreamEvent::TextDelta {
            choice: 0,
            text: "a".into(),
        },
        StreamEvent::StopSequence {
            choice: 0,
            sequence: "END".into(),
        },
        StreamEvent::Finish {
            choice: 0,
            reason: FinishReason::Stop,
        },
        StreamEvent::Done,
    ]);
    let delta = &f[f.len() - 2].1;
    assert_eq!(
        delta["delta"],
        json!({"stop_reason": "stop_sequence", "stop_sequence": "END"})
    );

    let f = frames(&[
        start(),
        StreamEvent::TextDelta {
            choice: 0,
            text: "partial".into(),
        },
        StreamEvent::Error(GaiaError::upstream("the provider failed")),
        StreamEvent::TextDelta {
            choice: 0,
            text: "ignored".into(),
        },
        StreamEvent::Done,
    ]);
    assert_eq!(
        names(&f),
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "error"
        ]
    );
    assert_eq!(
        f[3].1["error"],
        json!({"type": "api_error", "message": "the provider failed"})
    );
}

#[test]
fn ping_comes_after_message_start() {
    let mut encoder = AnthropicStreamEncoder::new("msg_p", "m");
    let mut out = String::new();
    encoder.encode(&start(), &mut out);
    assert!(out.is_empty());
    encoder.ping(&mut out);
    encoder.ping(&mut out);
    let events = SseParser::new().push(out.as_bytes()).unwrap();
    let names: Vec<_> = events.iter().map(|e| e.event.clone().unwrap()).collect();
    assert_eq!(names, ["message_start", "ping", "ping"]);
}

#[test]
fn other_choices_are_ignored_and_an_empty_answer_still_ends_properly() {
    let f = frames(&[
        start(),
        StreamEvent::TextDelta {
            choice: 1,
            text: "other".into(),
        },
        StreamEvent::Finish {
            choice: 0,
            reason: FinishReason::Stop,
        },
        StreamEvent::Done,
    ]);
    assert_eq!(
        names(&f),
        ["message_start", "message_delta", "message_stop"]
    );
}

// ---------------------------------------------------------------- errors

#[test]
fn errors_use_anthropic_types_and_name_the_field() {
    let cases = [
        (GaiaError::invalid_request("bad"), "invalid_request_error"),
        (GaiaError::unauthorized("no"), "authentication_error"),
        (GaiaError::forbidden("no"), "permission_error"),
        (GaiaError::not_found("no"), "not_found_error"),
        (
            GaiaError::new(ErrorKind::PayloadTooLarge, "big"),
            "request_too_large",
        ),
        (
            GaiaError::new(ErrorKind::RateLimited, "slow"),
            "rate_limit_error",
        ),
        (
            GaiaError::new(ErrorKind::QuotaExceeded, "quota"),
            "rate_limit_error",
        ),
        (GaiaError::upstream("x"), "api_error"),
        (GaiaError::internal("secret detail"), "api_error"),
        (
            GaiaError::new(ErrorKind::Unavailable, "busy"),
            "overloaded_error",
        ),
        (
            GaiaError::new(ErrorKind::UpstreamTimeout, "slow"),
            "timeout_error",
        ),
        (GaiaError::unprocessable("x"), "invalid_request_error"),
    ];
    for (error, kind) in cases {
        let envelope = error_envelope(&error, None);
        assert_eq!(envelope["type"], "error");
        assert_eq!(envelope["error"]["type"], kind, "{error:?}");
        assert!(envelope.get("request_id").is_none());
    }
    let internal = error_envelope(&GaiaError::internal("secret detail"), Some("req_1"));
    assert_eq!(internal["error"]["message"], "internal server error");
    assert_eq!(internal["request_id"], "req_1");

    let err = refusal(json!({"model": "m", "messages": [{"role": "user", "content": "x"}]}));
    let envelope = error_envelope(&err, None);
    assert!(
        envelope["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("max_tokens: "),
        "{envelope}"
    );
    let coded = GaiaError::not_found("model 'x' not found").with_code("model_not_found");
    assert_eq!(
        error_envelope(&coded, None)["error"]["message"],
        "model 'x' not found [model_not_found]"
    );
    // A kind's default code adds nothing to its type.
    let quota = GaiaError::new(ErrorKind::QuotaExceeded, "monthly token limit reached");
    assert_eq!(
        error_envelope(&quota, None)["error"]["message"],
        "monthly token limit reached"
    );
}

#[test]
fn an_anthropic_upstream_is_sent_the_clients_own_body_with_the_fewest_changes() {
    let client = json!({
        "model": "claude-sonnet-4-5", "max_tokens": 32000, "stream": true,
        "thinking": {"type": "enabled", "budget_tokens": 20000},
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "hi", "citations": [{"type": "char_location", "cited_text": "x"}],
             "some_future_field": 1}]}],
        "unknown_top_level": {"a": [1, 2]}
    });
    let bytes = client.to_string().into_bytes();
    let mut request = parse_request(&bytes).unwrap();
    request.anthropic.raw = Some(gaia_core::RawBody::new(bytes));
    // The gateway lowered the ceiling to the model's limit and calls without streaming.
    request.max_tokens = Some(16000);
    request.stream = false;
    let sent: Value = serde_json::from_slice(
        &crate::anthropic::encode_request(&request, "claude-up", 1).unwrap(),
    )
    .unwrap();
    assert_eq!(sent["model"], "claude-up");
    assert_eq!(sent["max_tokens"], 16000);
    assert!(sent.get("stream").is_none());
    // The budget kept below the lowered max_tokens.
    assert_eq!(
        sent["thinking"],
        json!({"type": "enabled", "budget_tokens": 15999})
    );
    assert_eq!(
        sent["messages"], client["messages"],
        "blocks as the client wrote them"
    );
    assert_eq!(sent["unknown_top_level"], client["unknown_top_level"]);
}
