//! What the OpenAPI-driven fuzzer (tests/schema/run.sh, schemathesis) found, pinned by fast tests: each
//! bug it turned up is reproduced here against the real server, and the document's promise that every
//! error is documented with the envelope is checked operation by operation.

use serde_json::{Value, json};

use crate::helpers::{Db, TestApp, assert_error_envelope, spawn_app, spawn_app_on};

async fn post_admin(app: &TestApp, path: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(app.key())
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Every paginated list, as JSON and (for the request log) as CSV.
const LISTS: &[&str] = &[
    "/v1/organizations",
    "/v1/api-keys",
    "/v1/admin/users",
    "/v1/admin/models",
    "/v1/requests",
    "/v1/requests?format=csv",
];

fn with_query(path: &str, query: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}{query}")
}

/// `?page=9223372036854775808` overflowed `(page - 1) × limit` inside the database layer: the worker
/// panicked and the client saw its connection closed without an answer. Pages beyond 10⁹ are now a
/// precise 400 naming `page`; the largest allowed page is an empty page.
#[tokio::test]
async fn huge_page_numbers_are_a_400_not_a_dropped_connection() {
    let app = spawn_app().await;
    for list in LISTS {
        for page in ["9223372036854775808", "18446744073709551615", "1000000001"] {
            let res = app
                .get_authed(&with_query(list, &format!("page={page}")))
                .await;
            let error = assert_error_envelope(res, 400).await;
            assert_eq!(error["param"], "page", "{list} page={page}: {error}");
        }
        let res = app.get_authed(&with_query(list, "page=1000000000")).await;
        assert_eq!(res.status(), 200, "{list}: the last allowed page");
        if !list.contains("csv") {
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["data"], json!([]), "{list}: {body}");
            assert_eq!(
                body["pagination"]["page"], 1_000_000_000u64,
                "{list}: {body}"
            );
        }
    }
    // Nothing crashed: the server still answers.
    assert_eq!(app.get("/health").await.status(), 200);
}

/// A model id without a provider (`"k"`) was answered 404 `model_not_found` about a parameter called
/// `model` — as if the request had looked a model up. Registering is a body field check: 400 on `id`.
#[tokio::test]
async fn registering_a_model_with_a_malformed_id_is_a_400_about_id() {
    let app = spawn_app().await;
    for id in ["k", "gpt-4o", "/gpt-4o", "openai/", "", "openai/\u{7}bell"] {
        let res = post_admin(&app, "/v1/admin/models", &json!({ "id": id })).await;
        let error = assert_error_envelope(res, 400).await;
        assert_eq!(error["param"], "id", "id {id:?}: {error}");
    }
    let long = format!("openai/{}", "x".repeat(300));
    let res = post_admin(&app, "/v1/admin/models", &json!({ "id": long })).await;
    let error = assert_error_envelope(res, 400).await;
    assert_eq!(error["param"], "id", "{error}");
}

/// Registering a model accepted `context_length: 0` or a negative `max_completion_tokens` (PATCH
/// refused them): the registry then held limits no request could satisfy. Both paths now refuse them.
#[tokio::test]
async fn registering_a_model_with_non_positive_limits_is_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    for (field, value) in [
        ("context_length", 0),
        ("context_length", -342),
        ("max_completion_tokens", 0),
        ("max_completion_tokens", -1),
    ] {
        let body = json!({ "id": "openai/schema-regression", field: value });
        let res = post_admin(&app, "/v1/admin/models", &body).await;
        let error = assert_error_envelope(res, 400).await;
        assert_eq!(error["param"], field, "{field}={value}: {error}");
    }
    let res = app
        .get_authed("/v1/admin/models?search=schema-regression")
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["pagination"]["total"], 0, "{body}");
    // Positive limits are still accepted.
    let body = json!({ "id": "openai/schema-regression", "context_length": 8192, "max_completion_tokens": 1 });
    let res = post_admin(&app, "/v1/admin/models", &body).await;
    assert_eq!(res.status(), 201);
}

/// The document promises what the fuzzer checks: every error status an operation can give is listed
/// with the error envelope — 401 wherever credentials are needed, 400 wherever there is a parameter or
/// a body, 413 wherever there is a body, 503 wherever the database is used.
#[tokio::test]
async fn every_operation_documents_its_error_responses_with_the_envelope() {
    let app = spawn_app().await;
    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let what = format!("{} {path}", method.to_uppercase());
            let responses = op["responses"].as_object().unwrap();
            let secured = op["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
            let has_params = op["parameters"].as_array().is_some_and(|p| !p.is_empty());
            let has_body = op.get("requestBody").is_some();
            let mut expected = vec![];
            if secured {
                expected.push("401");
            }
            if has_params || has_body {
                expected.push("400");
            }
            if has_body {
                expected.push("413");
            }
            if path != "/health" {
                expected.push("503");
            }
            for status in expected {
                assert!(
                    responses.contains_key(status),
                    "{what} does not document {status}"
                );
            }
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let schema = &response["content"]["application/json"]["schema"]["$ref"];
                    // The Messages API answers errors in Anthropic's envelope.
                    let envelope = if path.starts_with("/v1/messages") {
                        "#/components/schemas/AnthropicErrorBody"
                    } else {
                        "#/components/schemas/ErrorBody"
                    };
                    assert_eq!(
                        schema, envelope,
                        "{what} {status} is not documented with the error envelope"
                    );
                }
            }
        }
    }
    assert!(operations >= 35, "only {operations} operations documented");
}

/// The cases of [`nul_characters_are_refused_with_a_400_never_a_500`]: lookups and filters whose value
/// holds a NUL character (`%00`).
const NUL_LOOKUPS: &[&str] = &[
    "/v1/organizations?search=a%00b",
    "/v1/organizations/a%00b",
    "/v1/organizations/a%00b/stats",
    "/v1/api-keys?search=a%00b",
    "/v1/api-keys?organization_id=a%00b",
    "/v1/api-keys/a%00b",
    "/v1/api-keys/a%00b/stats",
    "/v1/admin/users?search=a%00b",
    "/v1/admin/users/a%00b",
    "/v1/admin/models?search=a%00b",
    "/v1/admin/models?provider=a%00b",
    "/v1/requests?model=a%00b",
    "/v1/requests?provider=a%00b",
    "/v1/requests?key_id=a%00b",
    "/v1/requests?organization_id=a%00b",
    "/v1/requests?format=csv&model=a%00b",
];

/// PostgreSQL cannot hold NUL in text, even to compare: a `%00` in any filter or id, or a `\u0000` in a
/// stored field, was a 500 there (SQLite took it). Stored fields now refuse control characters on every
/// engine (400 naming the field); a lookup with NUL finds nothing on every engine — never a 500.
async fn nul_characters_are_refused_with_a_400_never_a_500(db: Db) {
    let Some(app) = spawn_app_on(db).await else {
        return;
    };
    for (path, body, param) in [
        (
            "/v1/organizations",
            json!({"name": "nul", "description": "a\u{0}b"}),
            "description",
        ),
        (
            "/v1/admin/models",
            json!({"id": "openai/nul-test", "display_name": "a\u{0}b"}),
            "display_name",
        ),
        (
            "/v1/admin/models",
            json!({"id": "openai/nul-test", "upstream_name": "a\u{0}b"}),
            "upstream_name",
        ),
    ] {
        let error = assert_error_envelope(post_admin(&app, path, &body).await, 400).await;
        assert_eq!(error["param"], param, "{path} {body}: {error}");
    }
    let org = post_admin(&app, "/v1/organizations", &json!({"name": "nul-patch"})).await;
    let org: Value = org.json().await.unwrap();
    let res = app
        .client
        .patch(app.url(&format!(
            "/v1/organizations/{}",
            org["id"].as_str().unwrap()
        )))
        .bearer_auth(app.key())
        .json(&json!({"description": "a\u{0}b"}))
        .send()
        .await
        .unwrap();
    let error = assert_error_envelope(res, 400).await;
    assert_eq!(error["param"], "description", "{error}");

    // A lookup with NUL finds nothing, on every engine: PostgreSQL (which cannot even compare such text,
    // and answered 400 `invalid_text`, though the document allows any text there) as SQLite and MySQL.
    let _ = db;
    for path in NUL_LOOKUPS {
        let res = app.get_authed(path).await;
        let status = res.status().as_u16();
        let body = res.text().await.unwrap();
        assert!([200, 404].contains(&status), "{path}: {status} {body}");
        if status == 200 && !path.contains("format=csv") {
            let v: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v["pagination"]["total"], 0, "{path}: {body}");
        }
    }
    // Signing in with a NUL in the username: refused, not an internal error.
    let res = app
        .client
        .post(app.url("/v1/admin/login"))
        .json(&json!({"username": "ad\u{0}min", "password": "whatever-password"}))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    assert!([400, 401].contains(&status), "login: {status}");
    assert_error_envelope(res, status).await;
    assert_eq!(app.get("/health").await.status(), 200);
}

#[tokio::test]
async fn nul_characters_are_refused_with_a_400_never_a_500_on_sqlite() {
    nul_characters_are_refused_with_a_400_never_a_500(Db::Sqlite).await;
}

#[tokio::test]
async fn nul_characters_are_refused_with_a_400_never_a_500_on_postgres() {
    nul_characters_are_refused_with_a_400_never_a_500(Db::Postgres).await;
}

#[tokio::test]
async fn nul_characters_are_refused_with_a_400_never_a_500_on_mysql() {
    nul_characters_are_refused_with_a_400_never_a_500(Db::MySql).await;
}
