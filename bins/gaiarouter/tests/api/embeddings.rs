//! `POST /v1/embeddings` against every provider kind that has embeddings (specs/embeddings.md): the
//! vectors must be exactly the ones the provider gives when called directly (an index built through the
//! gateway matches one built without it), in floats or base64, with usage recorded and priced, limits
//! applied, and every bad request refused with the field it is about.

use base64::Engine as _;
use serde_json::{Value, json};

use crate::client::ok_json;
use crate::helpers::{MockUpstream, TestApp, assert_error_envelope, error_of as envelope};

/// The embedding models of the test gateway and the mock endpoint that serves each directly.
const MODELS: &[(&str, &str)] = &[
    ("openai/text-embedding-3-small", "openai"),
    ("google/gemini-embedding-001", "google"),
    ("openrouter/openai/text-embedding-3-small", "openrouter"),
    ("compat/local-embed", "compat"),
];

/// A gateway on the mock with the catalog's embedding models and a config-file OpenAI-compatible server
/// with an embedding model of 16 dimensions at $0.01 per million tokens.
async fn spawn(mock: &MockUpstream) -> TestApp {
    let toml = format!(
        r#"
        [[providers]]
        name = "compat"
        kind = "openai"
        base_url = "{}/v1"
        api_key = "sk-compat"
        [[providers.models]]
        name = "local-embed"
        kind = "embedding"
        dimensions = 16
        input_price = 0.01
        [[providers.models]]
        name = "local-chat"
        input_price = 1.0
        output_price = 2.0
        "#,
        mock.url
    );
    crate::gateway::spawn_with_config_file(&mock.url, &toml).await
}

async fn embed(app: &TestApp, token: &str, body: &Value) -> (u16, Value) {
    let res = app
        .client
        .post(app.url("/v1/embeddings"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

/// The vectors of the texts as the mock serves them when called directly, in its own format.
async fn direct(
    mock: &MockUpstream,
    provider: &str,
    texts: &[&str],
    dimensions: Option<u32>,
) -> Vec<Vec<f64>> {
    let client = reqwest::Client::builder().build().unwrap();
    if provider == "google" {
        let requests: Vec<Value> = texts
            .iter()
            .map(|t| {
                let mut r = json!({"model": "models/gemini-embedding-001", "content": {"parts": [{"text": t}]}});
                if let Some(d) = dimensions {
                    r["outputDimensionality"] = json!(d);
                }
                r
            })
            .collect();
        let body: Value = client
            .post(format!(
                "{}/v1beta/models/gemini-embedding-001:batchEmbedContents",
                mock.url
            ))
            .header("x-goog-api-key", "k")
            .json(&json!({"requests": requests}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        return body["embeddings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| floats(&e["values"]))
            .collect();
    }
    let path = if provider == "openrouter" {
        "/api/v1/embeddings"
    } else {
        "/v1/embeddings"
    };
    let mut request = json!({"model": "m", "input": texts});
    if let Some(d) = dimensions {
        request["dimensions"] = json!(d);
    }
    let body: Value = client
        .post(format!("{}{path}", mock.url))
        .bearer_auth("k")
        .json(&request)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| floats(&d["embedding"]))
        .collect()
}

/// The numbers as a JSON reader reads them: `f64`s, not narrowed (a float answer must read back as the
/// exact values a base64 one decodes to).
fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn from_base64(v: &Value) -> Vec<f64> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(v.as_str().unwrap())
        .unwrap();
    bytes
        .chunks_exact(4)
        .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
        .collect()
}

/// The vectors of an answer, checking the list's shape: `object`s, `index` in order, one per input.
fn vectors(answer: &Value, inputs: usize, base64: bool) -> Vec<Vec<f64>> {
    assert_eq!(answer["object"], "list", "{answer}");
    let data = answer["data"].as_array().unwrap();
    assert_eq!(data.len(), inputs, "{answer}");
    data.iter()
        .enumerate()
        .map(|(i, d)| {
            assert_eq!(d["object"], "embedding");
            assert_eq!(d["index"], i);
            if base64 {
                from_base64(&d["embedding"])
            } else {
                floats(&d["embedding"])
            }
        })
        .collect()
}

#[tokio::test]
async fn every_provider_gives_the_vectors_it_gives_directly_in_floats_and_base64() {
    let mock = MockUpstream::start(&[]);
    let app = spawn(&mock).await;
    let texts = [
        "the first text",
        "a second, longer text about embeddings",
        "third",
    ];
    for (model, provider) in MODELS {
        let expected = direct(&mock, provider, &texts, None).await;
        assert_eq!(expected.len(), 3);
        assert_ne!(expected[0], expected[1]);
        for (format, base64) in [("float", false), ("base64", true)] {
            let (status, answer) = embed(
                &app,
                app.key(),
                &json!({"model": model, "input": texts, "encoding_format": format}),
            )
            .await;
            assert_eq!(status, 200, "{model} {format}: {answer}");
            assert_eq!(vectors(&answer, 3, base64), expected, "{model} {format}");
            assert_eq!(answer["model"], *model);
            let usage = &answer["usage"];
            assert_eq!(usage["prompt_tokens"], usage["total_tokens"], "{answer}");
            // The mock counts words (OpenAI format); Gemini reports none and the tokenizer counts.
            let words = 3 + 6 + 1;
            if *provider == "google" {
                assert!(usage["prompt_tokens"].as_u64().unwrap() >= 10, "{answer}");
            } else {
                assert_eq!(usage["prompt_tokens"], words, "{model}: {answer}");
            }
        }
        // A lone string is a list of one; `dimensions` reaches the provider.
        let (status, answer) = embed(
            &app,
            app.key(),
            &json!({"model": model, "input": "third", "dimensions": 8}),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        let got = vectors(&answer, 1, false);
        assert_eq!(
            got,
            direct(&mock, provider, &["third"], Some(8)).await,
            "{model}"
        );
        assert_eq!(got[0].len(), 8);
    }
}

#[tokio::test]
async fn token_arrays_reach_openai_format_providers_and_gemini_refuses_them_with_a_422() {
    let mock = MockUpstream::start(&[]);
    let app = spawn(&mock).await;
    for input in [json!([5, 6, 7]), json!([[5, 6, 7], [8]])] {
        let (status, answer) = embed(
            &app,
            app.key(),
            &json!({"model": "openai/text-embedding-3-small", "input": input}),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        let arrays = if input[0].is_array() {
            input.as_array().unwrap().len()
        } else {
            1
        };
        assert_eq!(vectors(&answer, arrays, false).len(), arrays);
        assert_eq!(
            answer["usage"]["prompt_tokens"],
            if arrays == 1 { 3 } else { 4 },
            "a token array counts its ids: {answer}"
        );
    }
    let (status, answer) = embed(
        &app,
        app.key(),
        &json!({"model": "google/gemini-embedding-001", "input": [[1, 2]]}),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    let error = envelope(&answer);
    assert_eq!(error["param"], "input");
    assert_eq!(error["code"], "token_input_unsupported");
}

#[tokio::test]
async fn more_inputs_than_gemini_takes_in_one_call_are_sent_in_batches_and_joined_in_order() {
    let mock = MockUpstream::start(&[]);
    let app = spawn(&mock).await;
    let texts: Vec<String> = (0..230).map(|i| format!("text number {i}")).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let (status, answer) = embed(
        &app,
        app.key(),
        &json!({"model": "google/gemini-embedding-001", "input": texts, "encoding_format": "base64"}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let mut expected = Vec::new();
    for chunk in refs.chunks(100) {
        expected.extend(direct(&mock, "google", chunk, None).await);
    }
    assert_eq!(vectors(&answer, 230, true), expected);
}

#[tokio::test]
async fn a_model_of_the_other_kind_is_a_422_on_every_route_before_any_limit_is_charged() {
    let mock = MockUpstream::start(&[]);
    let app = spawn(&mock).await;
    let org = app.create_org("kinds", json!({})).await;
    let (_, key) = app
        .create_key(org["id"].as_str().unwrap(), json!({"rate_limit_rpm": 1}))
        .await;
    for chat_model in ["openai/gpt-4o-mini", "compat/local-chat"] {
        let (status, answer) = embed(&app, &key, &json!({"model": chat_model, "input": "x"})).await;
        assert_eq!(status, 422, "{answer}");
        let error = envelope(&answer);
        assert_eq!(
            (error["param"].clone(), error["code"].clone()),
            (json!("model"), json!("model_kind_mismatch"))
        );
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("is a chat model"),
            "{answer}"
        );
    }
    let embedding = "openai/text-embedding-3-small";
    let caller = app.with(&key);
    let chat = caller
        .chat(&json!({"model": embedding, "messages": [{"role": "user", "content": "hi"}]}))
        .await;
    let responses = caller
        .send(
            reqwest::Method::POST,
            "/v1/responses",
            Some(json!({"model": embedding, "input": "hi"})),
        )
        .await;
    let messages = caller
        .messages(&json!({"model": embedding, "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}))
        .await;
    let count = caller
        .count_tokens(&json!({"model": embedding, "messages": [{"role": "user", "content": "hi"}]}))
        .await;
    for res in [chat, responses, messages, count] {
        let path = res.url().path().to_owned();
        assert_eq!(res.status().as_u16(), 422, "{path}");
        let body: Value = res.json().await.unwrap();
        let text = body.to_string();
        assert!(
            text.contains("model_kind_mismatch") || text.contains("is an embedding model"),
            "{path}: {text}"
        );
        assert!(text.contains("/v1/embeddings"), "{path}: {text}");
    }
    // None of the refusals used the key's one request a minute.
    let (status, answer) = embed(&app, &key, &json!({"model": embedding, "input": "x"})).await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = embed(&app, &key, &json!({"model": embedding, "input": "x"})).await;
    assert_eq!(status, 429, "the second within the minute: {answer}");
    envelope(&answer);
}

#[tokio::test]
async fn bad_requests_are_400s_naming_the_field_and_422s_for_the_models_rules() {
    let mock = MockUpstream::start(&[]);
    let app = spawn(&mock).await;
    let model = "openai/text-embedding-3-small";
    let cases = [
        (json!({"input": "x"}), 400, "model"),
        (json!({"model": model}), 400, "input"),
        (json!({"model": model, "input": []}), 400, "input"),
        (json!({"model": model, "input": ""}), 400, "input"),
        (json!({"model": model, "input": ["a", ""]}), 400, "input[1]"),
        (json!({"model": model, "input": ["a", 1]}), 400, "input[1]"),
        (
            json!({"model": model, "input": [[1, -1]]}),
            400,
            "input[0][1]",
        ),
        (
            json!({"model": model, "input": "x", "dimensions": 0}),
            400,
            "dimensions",
        ),
        (
            json!({"model": model, "input": "x", "dimensions": "8"}),
            400,
            "dimensions",
        ),
        (
            json!({"model": model, "input": "x", "encoding_format": "binary"}),
            400,
            "encoding_format",
        ),
        (
            json!({"model": model, "input": "x", "user": 5}),
            400,
            "user",
        ),
        (
            json!({"model": model, "input": vec!["a"; 2049]}),
            400,
            "input",
        ),
        // text-embedding-3-small has 1536 dimensions: providers shorten vectors, never lengthen them.
        (
            json!({"model": model, "input": "x", "dimensions": 1537}),
            422,
            "dimensions",
        ),
        (
            json!({"model": "openai/no-such-embedding", "input": "x"}),
            404,
            "model",
        ),
    ];
    for (body, status, param) in cases {
        let (got, answer) = embed(&app, app.key(), &body).await;
        assert_eq!(got, status, "{body}: {answer}");
        let error = envelope(&answer);
        assert_eq!(error["param"], param, "{body}: {answer}");
    }
    let (got, answer) = embed(
        &app,
        app.key(),
        &json!({"model": model, "input": "x", "dimensions": 1536}),
    )
    .await;
    assert_eq!(got, 200, "the model's own length: {answer}");
    let res = app
        .client
        .post(app.url("/v1/embeddings"))
        .bearer_auth(app.key())
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_error_envelope(res, 400).await;
    let (got, _) = embed(&app, "gaia-wrong", &json!({"model": model, "input": "x"})).await;
    assert_eq!(got, 401);
}

#[tokio::test]
async fn an_upstream_failure_is_a_502_and_an_unusable_answer_too() {
    for (fault, status) in [("status-500", 502), ("malformed", 502)] {
        let mock = MockUpstream::start(&["--fault", fault]);
        let app = spawn(&mock).await;
        for (model, _) in MODELS {
            let (got, answer) =
                embed(&app, app.key(), &json!({"model": model, "input": "x"})).await;
            assert_eq!(got, status, "{fault} {model}: {answer}");
            envelope(&answer);
        }
    }
}

#[tokio::test]
async fn every_request_is_recorded_under_embeddings_with_its_tokens_and_cost() {
    let mock = MockUpstream::start(&[]);
    let app = spawn(&mock).await;
    let org = app.create_org("vectors", json!({})).await;
    let (_, key) = app.create_key(org["id"].as_str().unwrap(), json!({})).await;
    let input = ["one two three four", "five"];
    let mut answers = Vec::new();
    for (model, _) in MODELS {
        let (status, answer) = embed(&app, &key, &json!({"model": model, "input": input})).await;
        assert_eq!(status, 200, "{answer}");
        answers.push(answer);
    }
    let (status, _) = embed(
        &app,
        &key,
        &json!({"model": "openai/gpt-4o-mini", "input": "x"}),
    )
    .await;
    assert_eq!(status, 422);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let log = loop {
        let log = ok_json(app.admin().request_log("api=embeddings&limit=100").await).await;
        if log["pagination"]["total"] == MODELS.len() + 1 {
            break log;
        }
        assert!(std::time::Instant::now() < deadline, "{log}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let rows = log["data"].as_array().unwrap();
    let refused = rows.iter().find(|r| r["status_code"] == 422).unwrap();
    assert_eq!(refused["error_code"], "model_kind_mismatch");
    // $ per million input tokens of each model; embeddings have no output tokens.
    let prices = [0.02, 0.15, 0.02, 0.01];
    for (((model, provider), answer), price) in MODELS.iter().zip(&answers).zip(prices) {
        let row = rows
            .iter()
            .find(|r| r["model"] == *model && r["status_code"] == 200)
            .unwrap_or_else(|| panic!("{model}: {log}"));
        assert_eq!(row["api"], "embeddings");
        assert_eq!(
            row["prompt_tokens"], answer["usage"]["prompt_tokens"],
            "{row}"
        );
        assert_eq!(row["completion_tokens"], 0);
        assert_eq!(row["stream"], false);
        assert_eq!(row["estimated"], *provider == "google", "{row}");
        let tokens = row["prompt_tokens"].as_f64().unwrap();
        let cost = row["cost"].as_f64().unwrap();
        assert!((cost - tokens * price / 1e6).abs() < 1e-12, "{row}");
        assert_eq!(row["unpriced"], false);
    }
}

#[tokio::test]
async fn embedding_models_are_listed_with_their_kind_and_dimensions_and_registered_by_admins() {
    let mock = MockUpstream::start(&[]);
    let app = spawn(&mock).await;
    let list = ok_json(app.admin().list_models().await).await;
    let find = |id: &str| {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .cloned()
            .unwrap()
    };
    let small = find("openai/text-embedding-3-small");
    assert_eq!(
        (small["kind"].clone(), small["dimensions"].clone()),
        (json!("embedding"), json!(1536))
    );
    assert_eq!(small["input_price_per_mtok"], 0.02);
    assert_eq!(find("compat/local-embed")["dimensions"], 16);
    let chat = find("openai/gpt-4o-mini");
    assert_eq!(chat["kind"], "chat");
    assert!(chat.get("dimensions").is_none(), "{chat}");

    let admin = app.admin();
    let kinds = ok_json(admin.list_admin_models("kind=embedding&limit=100").await).await;
    assert!(
        kinds["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["kind"] == "embedding"),
        "{kinds}"
    );
    assert!(
        kinds["pagination"]["total"].as_u64().unwrap() >= 5,
        "{kinds}"
    );

    let res = admin
        .create_model(json!({"id": "openai/my-embed", "kind": "embedding", "dimensions": 12, "input_price_per_mtok": 0.05}))
        .await;
    assert_eq!(res.status().as_u16(), 201);
    let created: Value = res.json().await.unwrap();
    assert_eq!(
        (created["kind"].clone(), created["dimensions"].clone()),
        (json!("embedding"), json!(12))
    );
    let (status, answer) = embed(
        &app,
        app.key(),
        &json!({"model": "openai/my-embed", "input": "x", "dimensions": 13}),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    let (status, answer) = embed(
        &app,
        app.key(),
        &json!({"model": "openai/my-embed", "input": "x"}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");

    for (body, status, param) in [
        (
            json!({"id": "anthropic/embed", "kind": "embedding"}),
            422,
            "kind",
        ),
        (
            json!({"id": "openai/e2", "kind": "embedding", "output_price_per_mtok": 1.0}),
            422,
            "output_price_per_mtok",
        ),
        (
            json!({"id": "openai/c2", "dimensions": 8}),
            422,
            "dimensions",
        ),
        (
            json!({"id": "openai/e3", "kind": "embedding", "dimensions": 0}),
            400,
            "dimensions",
        ),
    ] {
        let res = admin.create_model(body.clone()).await;
        assert_eq!(res.status().as_u16(), status, "{body}");
        let answer: Value = res.json().await.unwrap();
        assert_eq!(envelope(&answer)["param"], param, "{body}: {answer}");
    }
    let res = admin
        .create_model(json!({"id": "openai/e4", "kind": "vector"}))
        .await;
    assert_eq!(res.status().as_u16(), 400, "an unknown kind");
    let res = admin
        .update_model("openai/my-embed", json!({"dimensions": 24}))
        .await;
    assert_eq!(ok_json(res).await["dimensions"], 24);
}
