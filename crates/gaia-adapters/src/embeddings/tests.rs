use gaia_core::{EmbeddingEncoding, EmbeddingInput, EmbeddingResponse, GaiaError, Usage};
use serde_json::{Value, json};

use super::*;

fn parse(body: Value) -> Result<EmbeddingRequest, GaiaError> {
    parse_request(body.to_string().as_bytes())
}

fn with_input(input: Value) -> Value {
    json!({ "model": "openai/text-embedding-3-small", "input": input })
}

/// The `param` and message of a refusal, asserting it is a 400.
fn refusal(body: Value) -> (String, String) {
    let err = parse(body).unwrap_err();
    assert_eq!(err.status(), 400, "{err}");
    (err.param.unwrap_or_default(), err.message)
}

#[test]
fn a_full_request_parses_every_field() {
    let request = parse(json!({
        "model": "openai/text-embedding-3-large",
        "input": ["first", "second"],
        "dimensions": 256,
        "encoding_format": "base64",
        "user": "user-42",
        "some_future_field": {"x": 1}
    }))
    .unwrap();
    assert_eq!(request.model, "openai/text-embedding-3-large");
    assert_eq!(
        request.input,
        EmbeddingInput::Texts(vec!["first".into(), "second".into()])
    );
    assert_eq!(request.dimensions, Some(256));
    assert_eq!(request.encoding, EmbeddingEncoding::Base64);
    assert_eq!(request.user.as_deref(), Some("user-42"));
}

#[test]
fn every_input_form_parses() {
    let cases = [
        (json!("hello"), EmbeddingInput::Texts(vec!["hello".into()])),
        (
            json!(["a", "b", "c"]),
            EmbeddingInput::Texts(vec!["a".into(), "b".into(), "c".into()]),
        ),
        (
            json!([1, 2, 3]),
            EmbeddingInput::Tokens(vec![vec![1, 2, 3]]),
        ),
        (
            json!([[1, 2], [3], [4294967295u32]]),
            EmbeddingInput::Tokens(vec![vec![1, 2], vec![3], vec![u32::MAX]]),
        ),
        // Integers written as floats are integers (JavaScript clients send them).
        (json!([0.0, 5.0]), EmbeddingInput::Tokens(vec![vec![0, 5]])),
    ];
    for (input, expected) in cases {
        let request = parse(with_input(input.clone())).unwrap();
        assert_eq!(request.input, expected, "{input}");
    }
}

#[test]
fn defaults_and_nulls_are_absent_fields() {
    let request = parse(json!({
        "model": "m", "input": "x", "dimensions": null, "encoding_format": null, "user": null
    }))
    .unwrap();
    assert_eq!(request.dimensions, None);
    assert_eq!(request.encoding, EmbeddingEncoding::Float);
    assert_eq!(request.user, None);
    let float = parse(json!({"model": "m", "input": "x", "encoding_format": "float"})).unwrap();
    assert_eq!(float.encoding, EmbeddingEncoding::Float);
}

#[test]
fn at_most_2048_inputs_are_taken_but_one_token_array_may_be_longer() {
    let texts: Vec<String> = (0..MAX_INPUTS).map(|i| format!("t{i}")).collect();
    assert_eq!(
        parse(with_input(json!(texts))).unwrap().input.len(),
        MAX_INPUTS
    );

    let too_many: Vec<String> = (0..=MAX_INPUTS).map(|i| format!("t{i}")).collect();
    let (param, message) = refusal(with_input(json!(too_many)));
    assert_eq!(param, "input");
    assert!(
        message.contains("2049") && message.contains("2048"),
        "{message}"
    );
    let arrays = vec![vec![1u32]; MAX_INPUTS + 1];
    assert_eq!(refusal(with_input(json!(arrays))).0, "input");

    // 8191 tokens, as OpenAI's cookbook sends a long text cut to the model's context.
    let long = vec![7u32; 8191];
    assert_eq!(
        parse(with_input(json!(long))).unwrap().input,
        EmbeddingInput::Tokens(vec![vec![7; 8191]])
    );
}

#[test]
fn each_refusal_names_the_offending_parameter() {
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({"input": "x"}), "model", "`model`"),
        (json!({"model": " ", "input": "x"}), "model", "`model`"),
        (json!({"model": 3, "input": "x"}), "model", "a string"),
        (json!({"model": "m"}), "input", "missing"),
        (json!({"model": "m", "input": null}), "input", "missing"),
        (with_input(json!("")), "input", "empty string"),
        (with_input(json!([])), "input", "empty array"),
        (with_input(json!({"text": "x"})), "input", "not an object"),
        (with_input(json!(42)), "input", "not a number"),
        (
            with_input(json!(["a", "b", "c", 4])),
            "input[3]",
            "a string",
        ),
        (with_input(json!(["a", ""])), "input[1]", "empty string"),
        (with_input(json!([1, "two"])), "input[1]", "an integer"),
        (with_input(json!([1, -2])), "input[1]", "token id"),
        (with_input(json!([1, 2.5])), "input[1]", "an integer"),
        (with_input(json!([4294967296u64])), "input[0]", "token id"),
        (
            with_input(json!([[1], [2, "x"]])),
            "input[1][1]",
            "an integer",
        ),
        (with_input(json!([[1], []])), "input[1]", "empty array"),
        (
            with_input(json!([[1], 2])),
            "input[1]",
            "an array of integers",
        ),
        (
            with_input(json!([true])),
            "input[0]",
            "a string, an integer",
        ),
        (with_input(json!([null, "a"])), "input[0]", "not null"),
        (
            json!({"model": "m", "input": "x", "dimensions": 0}),
            "dimensions",
            "between 1",
        ),
        (
            json!({"model": "m", "input": "x", "dimensions": "256"}),
            "dimensions",
            "an integer",
        ),
        (
            json!({"model": "m", "input": "x", "encoding_format": "binary"}),
            "encoding_format",
            "'float' or 'base64'",
        ),
        (
            json!({"model": "m", "input": "x", "encoding_format": 1}),
            "encoding_format",
            "a string",
        ),
        (
            json!({"model": "m", "input": "x", "user": 1}),
            "user",
            "a string",
        ),
    ];
    for (body, param, fragment) in cases {
        let (got_param, message) = refusal(body.clone());
        assert_eq!(got_param, param, "{body}");
        assert!(message.contains(fragment), "{body}: {message}");
    }
}

#[test]
fn bodies_that_are_not_json_objects_are_400s() {
    for body in [&b"not json"[..], b"[1]", b"\"input\""] {
        let err = parse_request(body).unwrap_err();
        assert_eq!(err.status(), 400);
        assert_eq!(err.param, None);
    }
}

fn response() -> EmbeddingResponse {
    EmbeddingResponse {
        model: "text-embedding-3-small".into(),
        vectors: vec![vec![0.5, -1.25, 0.1], vec![0.0, 3.0, -0.0]],
        usage: Usage::new(9, 0),
    }
}

#[test]
fn float_responses_are_openai_lists() {
    let body = encode_response(
        &response(),
        "openai/text-embedding-3-small",
        EmbeddingEncoding::Float,
    );
    let value: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        value,
        json!({
            "object": "list",
            "data": [
                {"object": "embedding", "index": 0, "embedding": [0.5, -1.25, f64::from(0.1f32)]},
                {"object": "embedding", "index": 1, "embedding": [0.0, 3.0, -0.0]}
            ],
            "model": "openai/text-embedding-3-small",
            "usage": {"prompt_tokens": 9, "total_tokens": 9}
        })
    );
    // Each float is the exact value of the f32, as an f64 reader (Python, JavaScript) reads it.
    assert!(
        std::str::from_utf8(&body)
            .unwrap()
            .contains("[0.5,-1.25,0.10000000149011612]"),
        "{}",
        String::from_utf8_lossy(&body)
    );
}

#[test]
fn base64_responses_carry_little_endian_f32s_that_decode_bit_exact() {
    let original = response();
    let body = encode_response(&original, "m", EmbeddingEncoding::Base64);
    let value: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(value["data"][0]["embedding"], json!("AAAAPwAAoL/NzMw9"));
    for (i, vector) in original.vectors.iter().enumerate() {
        let text = value["data"][i]["embedding"].as_str().unwrap();
        let decoded = base64::decode_f32s(text).unwrap();
        assert_eq!(
            decoded.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            vector.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
    }
    assert_eq!(
        value["usage"],
        json!({"prompt_tokens": 9, "total_tokens": 9})
    );
}

#[test]
fn a_response_without_usage_reports_zero_tokens() {
    let empty = EmbeddingResponse {
        usage: Usage::default(),
        ..response()
    };
    let value: Value =
        serde_json::from_slice(&encode_response(&empty, "m", EmbeddingEncoding::Float)).unwrap();
    assert_eq!(
        value["usage"],
        json!({"prompt_tokens": 0, "total_tokens": 0})
    );
}
