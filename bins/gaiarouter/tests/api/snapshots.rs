//! One answer of every endpoint, kept as an `insta` snapshot (`tests/api/snapshots/*.snap`), so that a
//! change of a public response shape — a field renamed, dropped, added or retyped — shows in review as a
//! changed snapshot. The OpenAPI document itself is kept the same way in `docs/api/openapi.json` (see
//! `docs::the_committed_openapi_document_is_the_one_served`).
//!
//! Values that differ from run to run (ids, secrets, times, latencies) are replaced by placeholders
//! named after what they stand for; everything else is the server's answer as it is.
//! After an intended change: `INSTA_UPDATE=always cargo test -p gaiarouter --test api snapshots`, then
//! review the diff of the `.snap` files.

use serde_json::{Map, Value, json};

use crate::gateway::spawn_with_config_file;
use crate::helpers::{MockUpstream, TestApp};

/// Keys whose values are generated per run.
const GENERATED: &[&str] = &[
    "id",
    "key",
    "key_hint",
    "token",
    "request_id",
    "created",
    "created_at",
    "updated_at",
    "last_used_at",
    "expires_at",
    "start_date",
    "end_date",
    "date",
    "period",
    "day",
    "system_fingerprint",
    // The backend the suite runs on (`make test` runs it on SQLite, PostgreSQL and MySQL).
    "database",
];

fn placeholder(key: &str, value: &Value) -> Option<Value> {
    if value.is_null() {
        return None;
    }
    let generated = GENERATED.contains(&key)
        || key.ends_with("_id")
        || key.ends_with("_ms")
        || key.ends_with("_at");
    generated.then(|| json!(format!("[{key}]")))
}

/// The answer with every generated value replaced by `"[<key>]"`.
fn redact(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = placeholder(&k, &v).unwrap_or_else(|| redact(v));
                    (k, v)
                })
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(redact).collect()),
        // Messages that name a key by its hint (`gaia_<lookup>_…<last four>`).
        Value::String(text) if text.contains("gaia_") => Value::String(
            text.split(' ')
                .map(|word| {
                    if word.starts_with("gaia_") {
                        "[key_hint]"
                    } else {
                        word
                    }
                })
                .collect::<Vec<_>>()
                .join(" "),
        ),
        other => other,
    }
}

/// Asserts the status and snapshots `{status, body}` under `name`; returns the body unredacted.
async fn snap(name: &str, res: reqwest::Response, status: u16) -> Value {
    let got = res.status().as_u16();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "{name}: {text}");
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    insta::assert_json_snapshot!(name, json!({"status": got, "body": redact(body.clone())}));
    body
}

async fn app_with_mock() -> (MockUpstream, TestApp) {
    let mock = MockUpstream::start(&[]);
    let app = spawn_with_config_file(&mock.url, "").await;
    (mock, app)
}

#[tokio::test]
async fn one_answer_of_every_endpoint_keeps_its_shape() {
    let (_mock, app) = app_with_mock().await;
    let admin = app.admin();
    snap("health", app.get("/health").await, 200).await;
    snap("ready", app.get("/ready").await, 200).await;

    // Organizations and keys.
    let org = snap(
        "create_organization",
        admin
            .create_organization(json!({"name": "acme", "description": "Acme Rockets",
                "monthly_cost_limit": 50.0, "rate_limit_rpm": 100}))
            .await,
        201,
    )
    .await;
    let org_id = org["id"].as_str().unwrap();
    snap(
        "list_organizations",
        admin.list_organizations("search=acme").await,
        200,
    )
    .await;
    snap(
        "get_organization",
        admin.get_organization(org_id).await,
        200,
    )
    .await;
    snap(
        "update_organization",
        admin
            .update_organization(org_id, json!({"monthly_tokens_limit": 100000}))
            .await,
        200,
    )
    .await;
    let key = snap(
        "create_api_key",
        admin
            .create_api_key(json!({"organization_id": org_id, "name": "ci",
                "permissions": ["read", "write"], "monthly_requests_limit": 1000}))
            .await,
        201,
    )
    .await;
    let (key_id, secret) = (key["id"].as_str().unwrap(), key["key"].as_str().unwrap());
    snap(
        "list_api_keys",
        admin
            .list_api_keys(&format!("organization_id={org_id}"))
            .await,
        200,
    )
    .await;
    snap("get_api_key", admin.get_api_key(key_id).await, 200).await;
    snap(
        "update_api_key",
        admin
            .update_api_key(key_id, json!({"description": "builds"}))
            .await,
        200,
    )
    .await;

    // Inference with that key, then what it left in the statistics.
    let caller = app.with(secret);
    snap(
        "chat_completions",
        caller
            .chat(&json!({"model": "openai/gpt-4o-mini",
                "messages": [{"role": "user", "content": "hello there"}]}))
            .await,
        200,
    )
    .await;
    let models = snap("list_models", caller.list_models().await, 200).await;
    assert!(!models["data"].as_array().unwrap().is_empty());
    snap(
        "get_model",
        caller
            .send(reqwest::Method::GET, "/v1/models/openai/gpt-4o-mini", None)
            .await,
        200,
    )
    .await;
    wait_for_one_record(&app).await;
    snap("request_log", admin.request_log("limit=5").await, 200).await;
    snap("global_stats", admin.global_stats("").await, 200).await;
    snap(
        "organization_stats",
        admin.organization_stats(org_id, "").await,
        200,
    )
    .await;
    snap("key_stats", admin.key_stats(key_id, "").await, 200).await;
    snap(
        "messages",
        caller
            .messages(&json!({"model": "openai/gpt-4o-mini", "max_tokens": 50,
                "messages": [{"role": "user", "content": "hello there"}]}))
            .await,
        200,
    )
    .await;
    snap(
        "count_tokens",
        caller
            .count_tokens(&json!({"model": "openai/gpt-4o-mini",
                "messages": [{"role": "user", "content": "hello there"}]}))
            .await,
        200,
    )
    .await;

    // Sign-in and users.
    snap(
        "key_login",
        app.anonymous().key_login(json!({"api_key": secret})).await,
        200,
    )
    .await;
    let user = snap(
        "create_user",
        admin
            .create_user(
                json!({"username": "viewer", "password": "correct horse battery", "role": "user"}),
            )
            .await,
        201,
    )
    .await;
    let user_id = user["id"].as_str().unwrap();
    let login = snap(
        "login",
        app.anonymous()
            .login(json!({"username": "viewer", "password": "correct horse battery"}))
            .await,
        200,
    )
    .await;
    snap(
        "me",
        app.with(login["token"].as_str().unwrap()).me().await,
        200,
    )
    .await;
    snap("list_users", admin.list_users("").await, 200).await;
    snap(
        "get_user",
        admin
            .send(
                reqwest::Method::GET,
                &format!("/v1/admin/users/{user_id}"),
                None,
            )
            .await,
        200,
    )
    .await;
    snap(
        "update_user",
        admin.update_user(user_id, json!({"role": "admin"})).await,
        200,
    )
    .await;
    snap("delete_user", admin.delete_user(user_id).await, 200).await;

    // The model registry.
    snap(
        "list_admin_models",
        admin.list_admin_models("search=gpt-4o-mini&limit=2").await,
        200,
    )
    .await;
    snap(
        "create_model",
        admin
            .create_model(
                json!({"id": "openai/house-model", "input_price_per_mtok": 1.0,
                "output_price_per_mtok": 2.0}),
            )
            .await,
        201,
    )
    .await;
    snap(
        "update_model",
        admin
            .update_model("openai/house-model", json!({"enabled": false}))
            .await,
        200,
    )
    .await;
    snap(
        "bulk_toggle_models",
        admin
            .bulk_toggle_models(json!({"ids": ["openai/house-model"], "enabled": true}))
            .await,
        200,
    )
    .await;
    snap(
        "sync_openrouter_models",
        admin.sync_openrouter_models().await,
        200,
    )
    .await;
    snap(
        "put_alias",
        admin
            .put_alias(
                "smart",
                json!({"targets": ["openai/house-model", "openai/gpt-4o-mini"]}),
            )
            .await,
        200,
    )
    .await;
    snap("list_aliases", admin.list_aliases().await, 200).await;
    snap("delete_alias", admin.delete_alias("smart").await, 200).await;

    // Prometheus text: the metric families and their types (their values change with every run).
    let res = app.get_authed("/metrics").await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    let families: Vec<&str> = text.lines().filter(|l| l.starts_with("# TYPE ")).collect();
    insta::assert_json_snapshot!("metrics", families);

    // The end of a key and of an organization.
    snap("revoke_api_key", admin.revoke_api_key(key_id).await, 200).await;
    snap(
        "deactivate_organization",
        admin.deactivate_organization(org_id).await,
        200,
    )
    .await;
}

#[tokio::test]
async fn the_error_envelope_keeps_its_shape() {
    let (_mock, app) = app_with_mock().await;
    snap(
        "error_unauthenticated",
        app.anonymous().list_organizations("").await,
        401,
    )
    .await;
    snap(
        "error_invalid_body",
        app.admin()
            .create_organization(json!({"name": "x", "bogus": 1}))
            .await,
        400,
    )
    .await;
    snap(
        "error_unknown_model",
        app.admin()
            .chat(&json!({"model": "openai/no-such-model", "messages": [{"role": "user", "content": "hi"}]}))
            .await,
        404,
    )
    .await;
    snap(
        "error_messages_unknown_model",
        app.admin()
            .messages(&json!({"model": "openai/no-such-model", "max_tokens": 10,
                "messages": [{"role": "user", "content": "hi"}]}))
            .await,
        404,
    )
    .await;
}

async fn wait_for_one_record(app: &TestApp) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let log = crate::client::ok_json(app.admin().request_log("limit=1").await).await;
        if log["pagination"]["total"] == 1 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the chat was not recorded: {log}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
