#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gaia_core::{
    ChatResponse, Choice, ContentPart, ErrorKind, FinishReason, GaiaError, Message, Reasoning,
    ReasoningEffort, ResponseFormat, Role, StreamEvent, ToolCall, ToolChoice, Usage,
};
use serde_json::{Value, json};

use super::*;
use crate::codec::{ResponseMeta, StreamEncoder};
use crate::sse::SseParser;

fn parse(body: Value) -> Result<ResponsesRequest, GaiaError> {
    parse_request(body.to_string().as_bytes())
}

/// The request `{"model":"m","input":[item]}` plus `extra` top-level fields.
fn with_input(input: Value, extra: Value) -> Value {
    let mut body = json!({"model": "m", "input": input});
    for (key, value) in extra.as_object().unwrap() {
        body[key] = value.clone();
    }
    body
}

/// The `param` of the 400 `body` is refused with.
fn refused_at(body: Value) -> String {
    let err = parse(body).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidRequest, "{err:?}");
    err.param.unwrap_or_default()
}

/// The `param` of the 422 `body` is refused with (a rule between fields, which no schema states).
fn unprocessable_at(body: Value) -> String {
    let err = parse(body).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unprocessable, "{err:?}");
    err.param.unwrap_or_default()
}

fn call(id: &str, name: &str, arguments: &str) -> ToolCall {
    ToolCall {
        id: id.into(),
        name: name.into(),
        arguments: arguments.into(),
    }
}

fn thinking(text: &str, signature: Option<&str>) -> ContentPart {
    ContentPart::Thinking {
        text: text.into(),
        signature: signature.map(Into::into),
    }
}

// ---------------------------------------------------------------- requests

#[test]
fn a_codex_style_request_becomes_the_canonical_conversation() {
    let search = json!({"type": "web_search", "search_context_size": "low"});
    let shell = json!({"type": "function", "name": "shell", "description": "Run a command",
                       "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}},
                       "strict": false});
    let request = parse(json!({
        "model": "anthropic/claude-sonnet-4-5",
        "instructions": "You are a coding agent.",
        "input": [
            {"role": "developer", "content": "Sandbox: read-only."},
            {"type": "message", "role": "user", "content": [
                {"type": "input_text", "text": "What is in this picture and file?"},
                {"type": "input_image", "image_url": "https://example.com/a.png", "detail": "low"},
                {"type": "input_file", "filename": "spec.pdf", "file_data": "data:application/pdf;base64,JVBE"}
            ]},
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Look first."}],
             "encrypted_content": "SIG"},
            {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
             "content": [{"type": "output_text", "text": "Checking.", "annotations": []}]},
            {"type": "function_call", "id": "fc_1", "call_id": "call_a", "name": "shell",
             "arguments": "{\"cmd\":\"ls\"}", "status": "completed"},
            {"type": "function_call", "call_id": "call_b", "name": "shell", "arguments": "{\"cmd\":\"pwd\"}"},
            {"type": "function_call_output", "call_id": "call_a", "output": "a.png\nspec.pdf"},
            {"type": "function_call_output", "call_id": "call_b", "output": [
                {"type": "input_text", "text": "/work"},
                {"type": "input_image", "image_url": "data:image/png;base64,iVBO"}
            ]},
            {"role": "user", "content": "Go on."}
        ],
        "tools": [shell.clone(), search.clone()],
        "tool_choice": "auto",
        "parallel_tool_calls": false,
        "reasoning": {"effort": "high", "summary": "auto"},
        "text": {"format": {"type": "json_schema", "name": "answer", "strict": true,
                            "schema": {"type": "object"}}, "verbosity": "low"},
        "max_output_tokens": 4096,
        "temperature": 0.5,
        "top_p": 0.9,
        "store": true,
        "previous_response_id": "resp_prev",
        "metadata": {"session": "s-1"},
        "user": "u-1",
        "stream": true,
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "k-1",
        "service_tier": "auto",
        "truncation": "disabled"
    }))
    .unwrap();

    let chat = &request.chat;
    assert_eq!(chat.model, "anthropic/claude-sonnet-4-5");
    let roles: Vec<Role> = chat.messages.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [
            Role::Developer,
            Role::Developer,
            Role::User,
            Role::Assistant,
            Role::Tool,
            Role::Tool,
            Role::User
        ]
    );
    assert_eq!(chat.messages[0].text_content(), "You are a coding agent.");
    assert_eq!(
        chat.messages[2].content,
        vec![
            ContentPart::Text("What is in this picture and file?".into()),
            ContentPart::Image {
                url: "https://example.com/a.png".into(),
                detail: Some("low".into())
            },
            ContentPart::Document {
                url: "data:application/pdf;base64,JVBE".into(),
                name: Some("spec.pdf".into())
            },
        ]
    );
    let turn = &chat.messages[3];
    assert_eq!(
        turn.content,
        vec![
            thinking("Look first.", Some("SIG")),
            ContentPart::Text("Checking.".into())
        ]
    );
    assert_eq!(
        turn.tool_calls,
        vec![
            call("call_a", "shell", "{\"cmd\":\"ls\"}"),
            call("call_b", "shell", "{\"cmd\":\"pwd\"}")
        ]
    );
    assert_eq!(chat.messages[4], Message::tool("call_a", "a.png\nspec.pdf"));
    assert_eq!(chat.messages[5].tool_call_id.as_deref(), Some("call_b"));
    assert!(chat.messages[5].has_images());
    assert_eq!(chat.messages[6].text_content(), "Go on.");

    assert_eq!(chat.tools.len(), 1);
    assert_eq!(chat.tools[0].name, "shell");
    assert_eq!(chat.tools[0].strict, Some(false));
    assert_eq!(request.builtin_tools, vec![search]);
    assert_eq!(chat.tool_choice, Some(ToolChoice::Auto));
    assert_eq!(chat.parallel_tool_calls, Some(false));
    assert_eq!(
        chat.reasoning,
        Some(Reasoning::Effort(ReasoningEffort::High))
    );
    assert_eq!(
        chat.response_format,
        Some(ResponseFormat::JsonSchema {
            name: "answer".into(),
            description: None,
            schema: Some(json!({"type": "object"})),
            strict: Some(true)
        })
    );
    assert_eq!(chat.max_tokens, Some(4096));
    assert_eq!((chat.temperature, chat.top_p), (Some(0.5), Some(0.9)));
    assert_eq!(chat.user.as_deref(), Some("u-1"));
    assert!(chat.stream && chat.include_usage);
    // Fields Chat Completions shares reach OpenAI-format upstreams; the rest stays here.
    assert_eq!(
        Value::Object(chat.extra.clone()),
        json!({"verbosity": "low", "prompt_cache_key": "k-1", "service_tier": "auto"})
    );
    assert_eq!(
        Value::Object(request.extra.clone()),
        json!({"include": ["reasoning.encrypted_content"], "truncation": "disabled"})
    );
    assert!(request.store);
    assert_eq!(request.previous_response_id.as_deref(), Some("resp_prev"));
    assert_eq!(
        request.instructions.as_deref(),
        Some("You are a coding agent.")
    );
    assert_eq!(
        Value::Object(request.metadata.clone()),
        json!({"session": "s-1"})
    );

    let echo = request.echo();
    assert_eq!(
        echo.tools,
        vec![
            shell,
            json!({"type": "web_search", "search_context_size": "low"})
        ]
    );
    assert_eq!(echo.tool_choice, Some(json!("auto")));
    assert_eq!(
        echo.reasoning,
        Some(json!({"effort": "high", "summary": "auto"}))
    );
    assert_eq!(echo.max_output_tokens, Some(4096));
    assert!(echo.store);
}

#[test]
fn input_is_a_string_or_a_list_and_may_be_empty_only_when_continuing() {
    let request = parse(json!({"model": "m", "input": "Hello"})).unwrap();
    assert_eq!(request.chat.messages, vec![Message::user("Hello")]);
    assert!(!request.store, "nothing is kept unless the client asks");

    // Required (with something to answer) unless `previous_response_id` is set: a relation between
    // fields (422), checked once the rest of the body is valid, so a 400 for a malformed field comes first.
    assert_eq!(unprocessable_at(json!({"model": "m"})), "input");
    assert_eq!(
        unprocessable_at(json!({"model": "m", "input": null})),
        "input"
    );
    assert_eq!(
        unprocessable_at(json!({"model": "m", "input": []})),
        "input"
    );
    // Items that say nothing leave nothing to answer.
    assert_eq!(
        unprocessable_at(json!({"model": "m", "instructions": "be brief",
                                "input": [{"type": "reasoning", "summary": []},
                                          {"role": "assistant", "content": []}]})),
        "input"
    );
    assert_eq!(
        refused_at(json!({"model": "m", "temperature": 5})),
        "temperature"
    );
    assert_eq!(refused_at(json!({"model": "m", "input": 3})), "input");
    assert_eq!(
        refused_at(json!({"model": "m", "input": [], "previous_response_id": ""})),
        "previous_response_id"
    );

    let continued = parse(json!({"model": "m", "previous_response_id": "resp_1"})).unwrap();
    assert!(continued.chat.messages.is_empty());
    let continued =
        parse(json!({"model": "m", "previous_response_id": "resp_1", "input": []})).unwrap();
    assert!(continued.chat.messages.is_empty());
}

#[test]
fn reasoning_items_become_thinking_or_redacted_thinking() {
    let item = |item: Value| {
        let request = parse(with_input(
            json!([{"role": "user", "content": "q"}, item]),
            json!({}),
        ))
        .unwrap();
        request
            .chat
            .messages
            .get(1)
            .map(|m| m.content.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        item(json!({"type": "reasoning", "summary": [{"type": "summary_text", "text": "a"}]})),
        vec![thinking("a", None)]
    );
    assert_eq!(
        item(json!({"type": "reasoning", "summary": [], "encrypted_content": "ENC"})),
        vec![ContentPart::RedactedThinking { data: "ENC".into() }]
    );
    // One summary part, even empty, is a thinking block: its encrypted content is a signature.
    assert_eq!(
        item(
            json!({"type": "reasoning", "summary": [{"type": "summary_text", "text": ""}],
                    "encrypted_content": "SIG"})
        ),
        vec![thinking("", Some("SIG"))]
    );
    assert_eq!(
        item(json!({"type": "reasoning", "summary": [
            {"type": "summary_text", "text": "one"}, {"type": "summary_text", "text": "two"}]})),
        vec![thinking("one\n\ntwo", None)]
    );
    assert_eq!(
        item(json!({"type": "reasoning", "summary": [],
                    "content": [{"type": "reasoning_text", "text": "raw"}]})),
        vec![thinking("raw", None)]
    );
    assert!(
        item(json!({"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": null}))
            .is_empty()
    );
}

#[test]
fn assistant_turns_merge_until_a_call_is_followed_by_more_words() {
    let request = parse(with_input(
        json!([
            {"role": "user", "content": "q"},
            {"type": "function_call", "call_id": "a", "name": "f", "arguments": "{}"},
            {"role": "assistant", "content": "after the call"},
            {"type": "function_call", "call_id": "b", "name": "f", "arguments": {"x": 1}},
            {"role": "assistant", "content": []}
        ]),
        json!({}),
    ))
    .unwrap();
    let messages = &request.chat.messages;
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[1].tool_calls, vec![call("a", "f", "{}")]);
    assert!(messages[1].content.is_empty());
    assert_eq!(messages[2].text_content(), "after the call");
    assert_eq!(messages[2].tool_calls, vec![call("b", "f", "{\"x\":1}")]);
}

#[test]
fn reasoning_efforts_map_onto_the_canonical_scale() {
    let effort = |effort: Value| {
        parse(with_input(
            json!("q"),
            json!({"reasoning": {"effort": effort}}),
        ))
        .map(|r| r.chat.reasoning)
    };
    assert_eq!(effort(json!("none")).unwrap(), Some(Reasoning::Off));
    for (name, level) in [
        ("minimal", ReasoningEffort::Minimal),
        ("low", ReasoningEffort::Low),
        ("medium", ReasoningEffort::Medium),
        ("high", ReasoningEffort::High),
        ("xhigh", ReasoningEffort::High),
        ("max", ReasoningEffort::High),
    ] {
        assert_eq!(effort(json!(name)).unwrap(), Some(Reasoning::Effort(level)));
    }
    assert_eq!(effort(Value::Null).unwrap(), None);
    let err = effort(json!("extreme")).unwrap_err();
    assert_eq!(
        (err.status(), err.param.as_deref()),
        (400, Some("reasoning.effort"))
    );
}

#[test]
fn tool_choices_are_canonical_or_kept_for_openai() {
    let tools = json!([
        {"type": "function", "name": "a", "parameters": null, "strict": null},
        {"type": "function", "name": "b"},
        {"type": "mcp", "server_label": "deepwiki"}
    ]);
    let choose = |choice: Value| {
        parse(with_input(
            json!("q"),
            json!({"tools": tools.clone(), "tool_choice": choice}),
        ))
    };
    let request = choose(json!({"type": "function", "name": "b"})).unwrap();
    assert_eq!(
        request.chat.tool_choice,
        Some(ToolChoice::Function("b".into()))
    );
    assert_eq!(request.chat.tools[0].parameters, None);
    assert_eq!(request.builtin_tools.len(), 1);

    let request = choose(json!({"type": "allowed_tools", "mode": "required",
                                "tools": [{"type": "function", "name": "b"}]}))
    .unwrap();
    assert_eq!(request.chat.tool_choice, Some(ToolChoice::Required));
    let names: Vec<&str> = request.chat.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["b"]);

    let with_builtin = json!({"type": "allowed_tools", "mode": "auto",
                              "tools": [{"type": "function", "name": "a"}, {"type": "mcp", "server_label": "deepwiki"}]});
    let request = choose(with_builtin.clone()).unwrap();
    assert_eq!(request.chat.tool_choice, None);
    assert_eq!(request.builtin_tool_choice, Some(with_builtin));
    assert_eq!(request.chat.tools.len(), 2);

    let request = choose(json!({"type": "web_search_preview"})).unwrap();
    assert_eq!(
        request.builtin_tool_choice,
        Some(json!({"type": "web_search_preview"}))
    );
    assert_eq!(request.chat.tool_choice, None);

    for (choice, param) in [
        (json!("sometimes"), "tool_choice"),
        (
            json!({"type": "allowed_tools", "mode": "any", "tools": []}),
            "tool_choice.mode",
        ),
        (json!(3), "tool_choice"),
    ] {
        let err = choose(choice.clone()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidRequest, "{choice}");
        assert_eq!(err.param.as_deref(), Some(param), "{choice}");
    }
    // A well-formed choice naming a function `tools` lacks: a rule between fields (422).
    for (choice, param) in [
        (
            json!({"type": "function", "name": "zzz"}),
            "tool_choice.name",
        ),
        (
            json!({"type": "allowed_tools", "mode": "auto", "tools": [{"type": "function", "name": "zzz"}]}),
            "tool_choice.tools[0].name",
        ),
    ] {
        let err = choose(choice.clone()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unprocessable, "{choice}");
        assert_eq!(err.param.as_deref(), Some(param), "{choice}");
    }
}

#[test]
fn text_formats_become_response_formats() {
    let format = |text: Value| parse(with_input(json!("q"), json!({"text": text})));
    assert_eq!(
        format(json!({"format": {"type": "json_object"}}))
            .unwrap()
            .chat
            .response_format,
        Some(ResponseFormat::JsonObject)
    );
    assert_eq!(
        format(json!({"format": {"type": "text"}}))
            .unwrap()
            .chat
            .response_format,
        Some(ResponseFormat::Text)
    );
    assert_eq!(format(json!({})).unwrap().chat.response_format, None);
    for (text, param) in [
        (json!({"format": {"type": "yaml"}}), "text.format.type"),
        (
            json!({"format": {"type": "json_schema", "schema": {}}}),
            "text.format.name",
        ),
        (
            json!({"format": {"type": "json_schema", "name": "n", "schema": 1}}),
            "text.format.schema",
        ),
        (json!({"format": "json"}), "text.format"),
        (json!("json"), "text"),
    ] {
        let err = format(text.clone()).unwrap_err();
        assert_eq!(err.param.as_deref(), Some(param), "{text}");
    }
}

#[test]
fn every_refusal_names_its_field_the_openai_way() {
    let user = |parts: Value| json!([{"role": "user", "content": parts}]);
    let cases: Vec<(Value, &str)> = vec![
        (
            with_input(
                user(json!([{"type": "input_image", "file_id": "file-1"}])),
                json!({}),
            ),
            "input[0].content[0].file_id",
        ),
        (
            with_input(
                user(json!([{"type": "input_image", "detail": "low"}])),
                json!({}),
            ),
            "input[0].content[0].image_url",
        ),
        (
            with_input(
                user(json!([{"type": "input_image", "image_url": "ftp://x/y.png"}])),
                json!({}),
            ),
            "input[0].content[0].image_url",
        ),
        (
            with_input(
                user(json!([{"type": "input_file", "file_id": "file-1"}])),
                json!({}),
            ),
            "input[0].content[0].file_id",
        ),
        (
            with_input(
                user(json!([{"type": "input_file", "file_data": "JVBE"}])),
                json!({}),
            ),
            "input[0].content[0].file_data",
        ),
        (
            with_input(
                user(json!([{"type": "input_file", "file_url": "file:///etc/passwd"}])),
                json!({}),
            ),
            "input[0].content[0].file_url",
        ),
        (
            with_input(user(json!([{"type": "input_audio"}])), json!({})),
            "input[0].content[0].type",
        ),
        (
            with_input(user(json!([{"type": "input_text"}])), json!({})),
            "input[0].content[0].text",
        ),
        (
            with_input(
                json!(["hi", {"role": "user", "content": [{"type": "output_text", "text": "x"}]}]),
                json!({}),
            ),
            "input[0]",
        ),
        (
            with_input(
                json!([{"role": "user", "content": "a"}, {"role": "user", "content": [{"type": "output_text", "text": "x"}]}]),
                json!({}),
            ),
            "input[1].content[0].type",
        ),
        (
            with_input(
                json!([{"role": "assistant", "content": [{"type": "input_image", "image_url": "https://x/y.png"}]}]),
                json!({}),
            ),
            "input[0].content[0].type",
        ),
        (
            with_input(json!([{"role": "tool", "content": "x"}]), json!({})),
            "input[0].role",
        ),
        (
            with_input(json!([{"content": "x"}]), json!({})),
            "input[0].role",
        ),
        (
            with_input(json!([{"role": "user"}]), json!({})),
            "input[0].content",
        ),
        (
            with_input(json!([{"role": "user", "content": 5}]), json!({})),
            "input[0].content",
        ),
        (
            with_input(
                json!([{"type": "web_search_call", "id": "ws_1"}]),
                json!({}),
            ),
            "input[0].type",
        ),
        (
            with_input(
                json!([{"type": "item_reference", "id": "msg_1"}]),
                json!({}),
            ),
            "input[0].type",
        ),
        (
            with_input(
                json!([{"type": "function_call_output", "output": "x"}]),
                json!({}),
            ),
            "input[0].call_id",
        ),
        (
            with_input(
                json!([{"type": "function_call_output", "call_id": "c"}]),
                json!({}),
            ),
            "input[0].output",
        ),
        (
            with_input(
                json!([{"type": "function_call", "call_id": "c", "name": "f", "arguments": 3}]),
                json!({}),
            ),
            "input[0].arguments",
        ),
        (
            with_input(
                json!([{"type": "function_call", "call_id": "c", "arguments": "{}"}]),
                json!({}),
            ),
            "input[0].name",
        ),
        (
            with_input(
                json!([{"type": "reasoning", "summary": [{"type": "reasoning_text", "text": "x"}]}]),
                json!({}),
            ),
            "input[0].summary[0].type",
        ),
        (
            with_input(json!([{"type": "reasoning", "summary": "x"}]), json!({})),
            "input[0].summary",
        ),
        (
            with_input(
                json!([{"type": "reasoning", "summary": [], "encrypted_content": 1}]),
                json!({}),
            ),
            "input[0].encrypted_content",
        ),
        (json!({"input": "q"}), "model"),
        (json!({"model": "", "input": "q"}), "model"),
        (
            with_input(
                json!("q"),
                json!({"tools": [{"type": "function", "name": "has space"}]}),
            ),
            "tools[0].name",
        ),
        (
            with_input(json!("q"), json!({"tools": [{"name": "f"}]})),
            "tools[0].type",
        ),
        (
            with_input(
                json!("q"),
                json!({"tools": [{"type": "function", "name": "f", "parameters": "x"}]}),
            ),
            "tools[0].parameters",
        ),
        (
            with_input(json!("q"), json!({"tools": {"type": "function"}})),
            "tools",
        ),
        (
            with_input(json!("q"), json!({"metadata": {"k": 1}})),
            "metadata.k",
        ),
        (
            with_input(json!("q"), json!({"metadata": {"k": "v".repeat(513)}})),
            "metadata.k",
        ),
        (
            with_input(
                json!("q"),
                json!({"metadata": (0..17).map(|i| (i.to_string(), json!("v"))).collect::<serde_json::Map<_, _>>()}),
            ),
            "metadata",
        ),
        (
            with_input(json!("q"), json!({"conversation": "conv_1"})),
            "conversation",
        ),
        (
            with_input(json!("q"), json!({"prompt": {"id": "pmpt_1"}})),
            "prompt",
        ),
        (
            with_input(json!("q"), json!({"background": true})),
            "background",
        ),
        (
            with_input(json!("q"), json!({"temperature": 3})),
            "temperature",
        ),
        (with_input(json!("q"), json!({"top_p": -1})), "top_p"),
        (
            with_input(json!("q"), json!({"max_output_tokens": 0})),
            "max_output_tokens",
        ),
        (
            with_input(json!("q"), json!({"previous_response_id": ""})),
            "previous_response_id",
        ),
        (with_input(json!("q"), json!({"store": "yes"})), "store"),
        (
            with_input(json!("q"), json!({"instructions": ["x"]})),
            "instructions",
        ),
    ];
    for (body, param) in cases {
        assert_eq!(refused_at(body.clone()), param, "{body}");
    }
    // Not JSON, not an object: no field to name.
    assert!(parse_request(b"{").is_err());
    assert_eq!(refused_at(json!([1])), "");
    // Background off and a null conversation are simply absent.
    assert!(
        parse(with_input(
            json!("q"),
            json!({"background": false, "conversation": null})
        ))
        .is_ok()
    );
}

// ---------------------------------------------------------------- responses

fn meta() -> ResponseMeta {
    ResponseMeta::new("resp_abc", "openai/gpt-5", 1_700_000_000)
}

fn answer(parts: Vec<ContentPart>, calls: Vec<ToolCall>, reason: FinishReason) -> ChatResponse {
    let mut choice = Choice::assistant(0, String::new(), calls, Some(reason));
    choice.message.content = parts;
    ChatResponse {
        id: "up".into(),
        created: 1,
        model: "up".into(),
        choices: vec![choice],
        usage: Some(Usage {
            cached_tokens: 4,
            cache_creation_tokens: 2,
            reasoning_tokens: 3,
            ..Usage::new(20, 10)
        }),
    }
}

fn encode(response: &ChatResponse, echo: &Echo) -> Value {
    serde_json::from_slice(&encode_response(response, &meta(), echo).unwrap()).unwrap()
}

#[test]
fn a_text_answer_is_a_completed_response_with_one_message() {
    let response = answer(
        vec![ContentPart::Text("Hello.".into())],
        Vec::new(),
        FinishReason::Stop,
    );
    let body = encode(&response, &Echo::default());
    assert_eq!(
        body,
        json!({
            "id": "resp_abc",
            "object": "response",
            "created_at": 1_700_000_000,
            "status": "completed",
            "error": null,
            "incomplete_details": null,
            "instructions": null,
            "max_output_tokens": null,
            "model": "openai/gpt-5",
            "output": [{
                "id": "msg_abc_0", "type": "message", "status": "completed", "role": "assistant",
                "content": [{"type": "output_text", "text": "Hello.", "annotations": []}]
            }],
            "parallel_tool_calls": true,
            "previous_response_id": null,
            "reasoning": null,
            "store": false,
            "temperature": null,
            "text": {"format": {"type": "text"}},
            "tool_choice": "auto",
            "tools": [],
            "top_p": null,
            "usage": {
                "input_tokens": 20,
                "input_tokens_details": {"cached_tokens": 4, "cache_write_tokens": 2},
                "output_tokens": 10,
                "output_tokens_details": {"reasoning_tokens": 3},
                "total_tokens": 30
            },
            "user": null,
            "metadata": {}
        })
    );
    // `output_text` is computed by the SDKs, not sent.
    assert!(body.get("output_text").is_none());
}

#[test]
fn the_response_repeats_the_request_fields() {
    let request = parse(with_input(
        json!("q"),
        json!({"instructions": "Be brief.", "max_output_tokens": 100, "parallel_tool_calls": false,
               "previous_response_id": "resp_0", "reasoning": {"effort": "low"}, "store": true,
               "temperature": 0.2, "text": {"format": {"type": "json_object"}},
               "tools": [{"type": "function", "name": "f"}], "tool_choice": "required",
               "top_p": 0.5, "metadata": {"a": "b"}, "user": "u"}),
    ))
    .unwrap();
    let body = encode(&answer(vec![], vec![], FinishReason::Stop), &request.echo());
    for (field, value) in [
        ("instructions", json!("Be brief.")),
        ("max_output_tokens", json!(100)),
        ("parallel_tool_calls", json!(false)),
        ("previous_response_id", json!("resp_0")),
        ("reasoning", json!({"effort": "low"})),
        ("store", json!(true)),
        ("temperature", json!(0.2)),
        ("text", json!({"format": {"type": "json_object"}})),
        ("tools", json!([{"type": "function", "name": "f"}])),
        ("tool_choice", json!("required")),
        ("top_p", json!(0.5)),
        ("metadata", json!({"a": "b"})),
        ("user", json!("u")),
    ] {
        assert_eq!(body[field], value, "{field}");
    }
    assert_eq!(body["output"], json!([]));
}

#[test]
fn reasoning_and_tool_calls_are_items_in_order() {
    let response = answer(
        vec![
            thinking("Plan.", Some("SIG")),
            ContentPart::RedactedThinking { data: "ENC".into() },
            thinking("Unsigned.", None),
            ContentPart::Text("Calling.".into()),
        ],
        vec![call("call_1", "f", "{\"a\":1}"), call("call_2", "g", "{}")],
        FinishReason::ToolCalls,
    );
    let body = encode(&response, &Echo::default());
    assert_eq!(body["status"], "completed");
    assert_eq!(
        body["output"],
        json!([
            {"id": "rs_abc_0", "type": "reasoning",
             "summary": [{"type": "summary_text", "text": "Plan."}], "encrypted_content": "SIG"},
            {"id": "rs_abc_1", "type": "reasoning", "summary": [], "encrypted_content": "ENC"},
            {"id": "rs_abc_2", "type": "reasoning",
             "summary": [{"type": "summary_text", "text": "Unsigned."}]},
            {"id": "msg_abc_3", "type": "message", "status": "completed", "role": "assistant",
             "content": [{"type": "output_text", "text": "Calling.", "annotations": []}]},
            {"id": "fc_abc_4", "type": "function_call", "status": "completed", "call_id": "call_1",
             "name": "f", "arguments": "{\"a\":1}"},
            {"id": "fc_abc_5", "type": "function_call", "status": "completed", "call_id": "call_2",
             "name": "g", "arguments": "{}"}
        ])
    );
}

#[test]
fn a_cut_off_answer_is_incomplete_with_its_reason() {
    let response = answer(
        vec![ContentPart::Text("Half a sen".into())],
        vec![],
        FinishReason::Length,
    );
    let body = encode(&response, &Echo::default());
    assert_eq!(body["status"], "incomplete");
    assert_eq!(
        body["incomplete_details"],
        json!({"reason": "max_output_tokens"})
    );
    assert_eq!(body["output"][0]["status"], "incomplete");

    let mut filtered = answer(
        vec![ContentPart::Text("a".into()), ContentPart::Text("b".into())],
        vec![call("c", "f", "{")],
        FinishReason::ContentFilter,
    );
    filtered.usage = None;
    let body = encode(&filtered, &Echo::default());
    assert_eq!(
        body["incomplete_details"],
        json!({"reason": "content_filter"})
    );
    // Consecutive texts are one message; only the last item is incomplete.
    assert_eq!(body["output"][0]["content"].as_array().unwrap().len(), 2);
    assert_eq!(body["output"][0]["status"], "completed");
    assert_eq!(body["output"][1]["status"], "incomplete");
    assert_eq!(body["usage"], Value::Null);

    let empty = ChatResponse {
        choices: vec![],
        ..answer(vec![], vec![], FinishReason::Stop)
    };
    let body = encode(&empty, &Echo::default());
    assert_eq!(
        (body["status"].clone(), body["output"].clone()),
        (json!("completed"), json!([]))
    );
}

// ---------------------------------------------------------------- streams

/// The encoded stream as (event name, data) pairs, checking every frame's `type` matches its name and
/// that sequence numbers count up from 0 without a gap.
fn frames(events: &[StreamEvent]) -> Vec<(String, Value)> {
    let mut encoder = ResponsesStreamEncoder::new(meta(), Echo::default());
    let mut out = String::new();
    for event in events {
        encoder.encode(event, &mut out);
    }
    let parsed = SseParser::new().push(out.as_bytes()).unwrap();
    parsed
        .into_iter()
        .enumerate()
        .map(|(n, e)| {
            let name = e.event.clone().unwrap_or_default();
            let data: Value = serde_json::from_str(&e.data).unwrap();
            assert_eq!(data["type"], name.as_str(), "{data}");
            assert_eq!(data["sequence_number"], n, "{data}");
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

fn text(text: &str) -> StreamEvent {
    StreamEvent::TextDelta {
        choice: 0,
        text: text.into(),
    }
}

fn finish(reason: FinishReason) -> StreamEvent {
    StreamEvent::Finish { choice: 0, reason }
}

fn tool_start(index: u32, id: &str, name: &str) -> StreamEvent {
    StreamEvent::ToolCallStart {
        choice: 0,
        index,
        id: id.into(),
        name: name.into(),
    }
}

fn tool_args(index: u32, arguments: &str) -> StreamEvent {
    StreamEvent::ToolCallArgsDelta {
        choice: 0,
        index,
        arguments: arguments.into(),
    }
}

#[test]
fn a_text_answer_streams_as_openai_does() {
    let usage = Usage::new(12, 3);
    let f = frames(&[
        start(),
        text("Hel"),
        text("lo."),
        finish(FinishReason::Stop),
        StreamEvent::Usage(usage),
        StreamEvent::Done,
    ]);
    assert_eq!(
        names(&f),
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed"
        ]
    );
    for created in [&f[0].1, &f[1].1] {
        let response = &created["response"];
        assert_eq!(response["status"], "in_progress");
        assert_eq!(response["output"], json!([]));
        assert_eq!(response["usage"], Value::Null);
        assert_eq!(response["id"], "resp_abc");
    }
    assert_eq!(
        f[2].1,
        json!({"type": "response.output_item.added", "sequence_number": 2, "output_index": 0,
               "item": {"id": "msg_abc_0", "type": "message", "status": "in_progress",
                        "role": "assistant", "content": []}})
    );
    assert_eq!(
        f[3].1,
        json!({"type": "response.content_part.added", "sequence_number": 3, "item_id": "msg_abc_0",
               "output_index": 0, "content_index": 0,
               "part": {"type": "output_text", "text": "", "annotations": []}})
    );
    assert_eq!(
        f[4].1,
        json!({"type": "response.output_text.delta", "sequence_number": 4, "item_id": "msg_abc_0",
               "output_index": 0, "content_index": 0, "delta": "Hel", "logprobs": []})
    );
    assert_eq!(f[6].1["text"], "Hello.");
    assert_eq!(f[7].1["part"]["text"], "Hello.");
    assert_eq!(f[8].1["item"]["status"], "completed");
    let done = &f[9].1["response"];
    assert_eq!(done["status"], "completed");
    assert_eq!(done["usage"]["total_tokens"], 15);
    assert_eq!(done["output"][0]["content"][0]["text"], "Hello.");
}

#[test]
fn a_tool_call_streams_its_arguments() {
    let f = frames(&[
        start(),
        tool_start(0, "call_1", "get_weather"),
        tool_args(0, "{\"city\":"),
        tool_args(0, "\"Paris\"}"),
        finish(FinishReason::ToolCalls),
        StreamEvent::Done,
    ]);
    assert_eq!(
        names(&f),
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.completed"
        ]
    );
    assert_eq!(
        f[2].1["item"],
        json!({"id": "fc_abc_0", "type": "function_call", "status": "in_progress",
               "call_id": "call_1", "name": "get_weather", "arguments": ""})
    );
    assert_eq!(
        f[3].1,
        json!({"type": "response.function_call_arguments.delta", "sequence_number": 3,
               "item_id": "fc_abc_0", "output_index": 0, "delta": "{\"city\":"})
    );
    assert_eq!(
        f[5].1,
        json!({"type": "response.function_call_arguments.done", "sequence_number": 5,
               "item_id": "fc_abc_0", "output_index": 0, "name": "get_weather",
               "arguments": "{\"city\":\"Paris\"}"})
    );
    assert_eq!(f[6].1["item"]["arguments"], "{\"city\":\"Paris\"}");
    assert_eq!(f[6].1["item"]["status"], "completed");
}

#[test]
fn interleaved_tool_calls_arrive_whole_and_in_order() {
    let f = frames(&[
        start(),
        tool_start(0, "a", "f"),
        tool_args(0, "{\"x\":"),
        tool_start(1, "b", "g"),
        tool_args(1, "{\"y\":"),
        tool_args(0, "1}"),
        tool_args(1, "2}"),
        finish(FinishReason::ToolCalls),
        StreamEvent::Done,
    ]);
    // Reassemble as a client does: items never overlap and are numbered in order.
    let mut calls: Vec<(String, String)> = Vec::new();
    let mut open: Option<usize> = None;
    for (name, data) in &f {
        match name.as_str() {
            "response.output_item.added" => {
                assert!(open.is_none(), "items never overlap");
                assert_eq!(data["output_index"], calls.len());
                calls.push((
                    data["item"]["call_id"].as_str().unwrap().to_owned(),
                    String::new(),
                ));
                open = Some(calls.len() - 1);
            }
            "response.function_call_arguments.delta" => {
                assert_eq!(data["output_index"], open.unwrap());
                calls[open.unwrap()]
                    .1
                    .push_str(data["delta"].as_str().unwrap());
            }
            "response.output_item.done" => {
                assert_eq!(data["item"]["arguments"], calls[open.unwrap()].1.as_str());
                open = None;
            }
            _ => {}
        }
    }
    assert_eq!(
        calls,
        [
            ("a".to_owned(), "{\"x\":1}".to_owned()),
            ("b".to_owned(), "{\"y\":2}".to_owned())
        ]
    );
    let output = &f.last().unwrap().1["response"]["output"];
    assert_eq!(output[1]["id"], "fc_abc_1");
    assert_eq!(output[1]["arguments"], "{\"y\":2}");
}

#[test]
fn reasoning_then_text_streams_summaries_and_keeps_signatures() {
    let f = frames(&[
        start(),
        StreamEvent::ReasoningDelta {
            choice: 0,
            text: "Think ".into(),
        },
        StreamEvent::ReasoningDelta {
            choice: 0,
            text: "hard.".into(),
        },
        StreamEvent::ReasoningSignature {
            choice: 0,
            signature: "SIG".into(),
        },
        StreamEvent::RedactedReasoning {
            choice: 0,
            data: "ENC".into(),
        },
        text("Answer."),
        finish(FinishReason::Stop),
        StreamEvent::Done,
    ]);
    assert_eq!(
        names(&f),
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.reasoning_summary_part.added",
            "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.done",
            "response.reasoning_summary_part.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.output_item.done",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed"
        ]
    );
    assert_eq!(
        f[2].1["item"],
        json!({"id": "rs_abc_0", "type": "reasoning", "summary": []})
    );
    assert_eq!(
        f[3].1,
        json!({"type": "response.reasoning_summary_part.added", "sequence_number": 3,
               "item_id": "rs_abc_0", "output_index": 0, "summary_index": 0,
               "part": {"type": "summary_text", "text": ""}})
    );
    assert_eq!(
        f[4].1,
        json!({"type": "response.reasoning_summary_text.delta", "sequence_number": 4,
               "item_id": "rs_abc_0", "output_index": 0, "summary_index": 0, "delta": "Think "})
    );
    assert_eq!(f[6].1["text"], "Think hard.");
    assert_eq!(
        f[8].1["item"],
        json!({"id": "rs_abc_0", "type": "reasoning",
               "summary": [{"type": "summary_text", "text": "Think hard."}],
               "encrypted_content": "SIG"})
    );
    assert_eq!(
        f[10].1["item"],
        json!({"id": "rs_abc_1", "type": "reasoning", "summary": [], "encrypted_content": "ENC"})
    );
    assert_eq!(f[11].1["output_index"], 2);
    assert_eq!(f[13].1["item_id"], "msg_abc_2");
}

#[test]
fn a_failure_mid_stream_is_an_error_then_a_failed_response() {
    let f = frames(&[
        start(),
        text("partial"),
        StreamEvent::Error(GaiaError::upstream("the provider failed")),
        text("ignored"),
        StreamEvent::Done,
    ]);
    assert_eq!(
        names(&f),
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "error",
            "response.failed"
        ]
    );
    assert_eq!(
        f[5].1,
        json!({"type": "error", "sequence_number": 5, "code": "upstream_error",
               "message": "the provider failed", "param": null})
    );
    let response = &f[6].1["response"];
    assert_eq!(response["status"], "failed");
    assert_eq!(
        response["error"],
        json!({"code": "server_error", "message": "the provider failed"})
    );
    assert_eq!(response["output"][0]["status"], "incomplete");
    assert_eq!(response["output"][0]["content"][0]["text"], "partial");
    // No top-level `error` key outside the error event: the SDKs would raise on any event that has one.
    assert!(
        f.iter()
            .filter(|(n, _)| n != "error")
            .all(|(_, d)| d.get("error").is_none())
    );

    let limited = frames(&[StreamEvent::Error(
        GaiaError::new(ErrorKind::RateLimited, "slow down").with_code("rate_limit_error"),
    )]);
    assert_eq!(
        names(&limited),
        [
            "response.created",
            "response.in_progress",
            "error",
            "response.failed"
        ]
    );
    assert_eq!(
        limited[3].1["response"]["error"]["code"],
        "rate_limit_exceeded"
    );
    assert_eq!(limited[3].1["response"]["output"], json!([]));
}

#[test]
fn a_cut_off_stream_ends_incomplete() {
    let f = frames(&[
        start(),
        text("Half"),
        finish(FinishReason::Length),
        StreamEvent::Usage(Usage::new(5, 1)),
        StreamEvent::Done,
    ]);
    assert_eq!(f.last().unwrap().0, "response.incomplete");
    let response = &f.last().unwrap().1["response"];
    assert_eq!(response["status"], "incomplete");
    assert_eq!(
        response["incomplete_details"],
        json!({"reason": "max_output_tokens"})
    );
    assert_eq!(response["output"][0]["status"], "incomplete");
    let item_done = f
        .iter()
        .find(|(n, _)| n == "response.output_item.done")
        .unwrap();
    assert_eq!(item_done.1["item"]["status"], "incomplete");
}

#[test]
fn other_choices_are_ignored_and_an_empty_stream_still_completes() {
    let f = frames(&[
        start(),
        StreamEvent::TextDelta {
            choice: 1,
            text: "other".into(),
        },
        StreamEvent::StopSequence {
            choice: 0,
            sequence: "END".into(),
        },
        finish(FinishReason::Stop),
        StreamEvent::Done,
        StreamEvent::Done,
    ]);
    assert_eq!(
        names(&f),
        [
            "response.created",
            "response.in_progress",
            "response.completed"
        ]
    );
    assert_eq!(f[2].1["response"]["output"], json!([]));
}

/// The response a stream ends with is the one the same answer gets without streaming.
#[test]
fn a_streamed_response_ends_as_the_same_answer_not_streamed() {
    let usage = Usage::new(9, 8);
    let f = frames(&[
        start(),
        StreamEvent::ReasoningDelta {
            choice: 0,
            text: "Plan.".into(),
        },
        StreamEvent::ReasoningSignature {
            choice: 0,
            signature: "SIG".into(),
        },
        text("Calling."),
        tool_start(0, "call_1", "f"),
        tool_args(0, "{\"a\":1}"),
        tool_start(1, "call_2", "g"),
        finish(FinishReason::ToolCalls),
        StreamEvent::Usage(usage),
        StreamEvent::Done,
    ]);
    let mut response = answer(
        vec![
            thinking("Plan.", Some("SIG")),
            ContentPart::Text("Calling.".into()),
        ],
        vec![call("call_1", "f", "{\"a\":1}"), call("call_2", "g", "")],
        FinishReason::ToolCalls,
    );
    response.usage = Some(usage);
    assert_eq!(
        f.last().unwrap().1["response"],
        encode(&response, &Echo::default())
    );
}

// ---------------------------------------------------------------- round trips

/// The next request of a stateless conversation: the question, the previous output items as they came,
/// and one output per call.
fn next_turn(output: &Value) -> ResponsesRequest {
    let mut input = vec![json!({"role": "user", "content": "q"})];
    input.extend(output.as_array().unwrap().iter().cloned());
    for item in output.as_array().unwrap() {
        if item["type"] == "function_call" {
            input.push(
                json!({"type": "function_call_output", "call_id": item["call_id"], "output": "ok"}),
            );
        }
    }
    parse(json!({"model": "m", "input": input})).unwrap()
}

#[test]
fn output_items_sent_back_reproduce_the_assistant_turn() {
    let response = answer(
        vec![
            thinking("Plan.", Some("SIG-1")),
            ContentPart::RedactedThinking { data: "ENC".into() },
            thinking("", Some("SIG-2")),
            thinking("Unsigned.", None),
            ContentPart::Text("Calling.".into()),
        ],
        vec![
            call("toolu_1", "f", "{\"a\":1}"),
            call("toolu_2", "g", "{}"),
        ],
        FinishReason::ToolCalls,
    );
    let body = encode(&response, &Echo::default());
    let request = next_turn(&body["output"]);
    let messages = &request.chat.messages;
    assert_eq!(messages[1], response.choices[0].message);
    assert_eq!(messages[2], Message::tool("toolu_1", "ok"));
    assert_eq!(messages[3], Message::tool("toolu_2", "ok"));
}

#[test]
fn streamed_output_items_sent_back_reproduce_the_assistant_turn() {
    let f = frames(&[
        start(),
        StreamEvent::ReasoningDelta {
            choice: 0,
            text: "Plan.".into(),
        },
        StreamEvent::ReasoningSignature {
            choice: 0,
            signature: "SIG".into(),
        },
        StreamEvent::RedactedReasoning {
            choice: 0,
            data: "ENC".into(),
        },
        text("Calling."),
        tool_start(0, "toolu_1", "f"),
        tool_args(0, "{}"),
        finish(FinishReason::ToolCalls),
        StreamEvent::Done,
    ]);
    // What a client keeps: the items of `response.output_item.done`.
    let items: Vec<Value> = f
        .iter()
        .filter(|(n, _)| n == "response.output_item.done")
        .map(|(_, d)| d["item"].clone())
        .collect();
    let request = next_turn(&Value::Array(items));
    let turn = &request.chat.messages[1];
    assert_eq!(
        turn.content,
        vec![
            thinking("Plan.", Some("SIG")),
            ContentPart::RedactedThinking { data: "ENC".into() },
            ContentPart::Text("Calling.".into())
        ]
    );
    assert_eq!(turn.tool_calls, vec![call("toolu_1", "f", "{}")]);
}

#[test]
fn the_final_response_is_kept_once_a_stream_ends_cleanly_and_not_after_a_failure() {
    let events = [
        StreamEvent::Start {
            id: "up".into(),
            model: "up".into(),
            created: 0,
        },
        StreamEvent::TextDelta {
            choice: 0,
            text: "hello".into(),
        },
        StreamEvent::Finish {
            choice: 0,
            reason: FinishReason::Stop,
        },
        StreamEvent::Usage(Usage::new(3, 1)),
        StreamEvent::Done,
    ];
    let mut encoder = ResponsesStreamEncoder::new(meta(), Echo::default());
    let mut out = String::new();
    for event in &events[..4] {
        encoder.encode(event, &mut out);
        assert!(encoder.take_final_response().is_none());
    }
    encoder.encode(&events[4], &mut out);
    let kept = encoder.take_final_response().unwrap();
    let completed = frames(&events).pop().unwrap();
    assert_eq!(completed.0, "response.completed");
    assert_eq!(
        kept, completed.1["response"],
        "the document the stream ended with"
    );
    assert!(encoder.take_final_response().is_none(), "taken once");

    let mut failing = ResponsesStreamEncoder::new(meta(), Echo::default());
    let mut out = String::new();
    failing.encode(&events[0], &mut out);
    failing.encode(&StreamEvent::Error(GaiaError::upstream("cut")), &mut out);
    assert!(failing.take_final_response().is_none());
}
