//! Channels declared in `GAIA_CONFIG` (specs/scale.md S-13 to S-15): a provider reached through two
//! endpoints; one starts failing, its circuit opens and requests are routed around it within the window;
//! it recovers, and after its cooldown it serves again by itself.

use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "x", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}))
}

async fn hits(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

#[tokio::test]
async fn a_failing_channel_is_routed_around_and_comes_back_by_itself() {
    let (a, b) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(503).set_body_string("overloaded"))
        .mount(&a)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ok())
        .mount(&b)
        .await;
    let toml = format!(
        r#"
[upstream]
max_retries = 0
[upstream.circuit]
window_secs = 30
min_requests = 2
failure_ratio = 0.5
cooldown_secs = 1

[[providers]]
name = "pool"
base_url = "{a}/v1"
api_key = "sk-a"
[[providers.models]]
name = "m"
input_price = 1
output_price = 1

[[channels]]
provider = "pool"
name = "b"
base_url = "{b}/v1"
api_key = "sk-b"
"#,
        a = a.uri(),
        b = b.uri()
    );
    let app = crate::gateway::spawn_with_config_file(&a.uri(), &toml).await;
    let body = json!({"model": "pool/m", "messages": [{"role": "user", "content": "hi"}]});

    // Every request is answered: a failure on `default` moves to `b` at once (no retry budget needed).
    for i in 0..30 {
        let res = app.chat(&body).await;
        assert_eq!(
            res.status(),
            200,
            "request {i}: {}",
            res.text().await.unwrap()
        );
    }
    // Two failures opened `default`'s circuit; from then on it was not tried (1:1 weights would have sent
    // it about fifteen of thirty).
    let failed = hits(&a).await;
    assert!(
        (2..=3).contains(&failed),
        "{failed} requests reached the failing channel"
    );
    assert_eq!(hits(&b).await, 30);

    // It recovers; after its cooldown one probe goes through and closes the circuit.
    a.reset().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ok())
        .mount(&a)
        .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for _ in 0..40 {
        assert_eq!(app.chat(&body).await.status(), 200);
    }
    let back = hits(&a).await;
    assert!(
        back >= 8,
        "only {back} of 40 requests went to the recovered channel"
    );
}

#[tokio::test]
async fn channels_serve_only_their_models_under_their_own_names() {
    let (a, b) = (MockServer::start().await, MockServer::start().await);
    for s in [&a, &b] {
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(ok())
            .mount(s)
            .await;
    }
    let toml = format!(
        r#"
[[providers]]
name = "pool"
base_url = "{a}/v1"
api_key = "sk-a"
[[providers.models]]
name = "m"
[[providers.models]]
name = "n"

[[channels]]
provider = "pool"
name = "deployment"
base_url = "{b}/v1"
api_key = "sk-b"
priority = 5
models = ["n"]
model_map = {{ "n" = "n-deployment-7" }}
"#,
        a = a.uri(),
        b = b.uri()
    );
    let app = crate::gateway::spawn_with_config_file(&a.uri(), &toml).await;
    for model in ["pool/m", "pool/n", "pool/m", "pool/n"] {
        let body = json!({"model": model, "messages": [{"role": "user", "content": "hi"}]});
        assert_eq!(app.chat(&body).await.status(), 200);
    }
    // `n` went to the higher-priority channel that serves it, under its mapped name; `m` to `default`.
    let on_b = b.received_requests().await.unwrap();
    assert_eq!(on_b.len(), 2);
    for r in &on_b {
        let sent: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(sent["model"], "n-deployment-7");
        assert_eq!(r.headers["authorization"], "Bearer sk-b");
    }
    assert_eq!(hits(&a).await, 2);
}

// ---------------------------------------------------------------- channels managed through the admin API

const SECRET_KEY: &str = "0101010101010101010101010101010101010101010101010101010101010101";
const CHANNEL_KEY: &str = "sk-channel-secret-7f3a9c";

/// An app whose providers point at `default`, with `GAIA_SECRET_KEY` set when `sealed`.
async fn managed(default: &MockServer, sealed: bool) -> crate::helpers::TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = gaiarouter::configuration::Settings::for_tests(
        &crate::helpers::test_database_url(dir.path()).await,
    )
    .unwrap();
    crate::helpers::point_providers_at(&mut settings, &default.uri());
    if sealed {
        settings.sealer = Some(std::sync::Arc::new(
            gaia_gateway::channels::sealed::Sealer::new(SECRET_KEY, &[]).unwrap(),
        ));
    }
    crate::helpers::spawn_with(settings, dir).await
}

async fn admin(
    app: &crate::helpers::TestApp,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> reqwest::Response {
    let mut req = app
        .client
        .request(method, app.url(path))
        .bearer_auth(app.key());
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

/// `GET /v1/admin/channels/{id}` as JSON.
async fn channel_view(app: &crate::helpers::TestApp, id: &str) -> serde_json::Value {
    admin(
        app,
        reqwest::Method::GET,
        &format!("/v1/admin/channels/{id}"),
        None,
    )
    .await
    .json()
    .await
    .unwrap()
}

async fn ok_server() -> MockServer {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ok())
        .mount(&s)
        .await;
    s
}

fn mini() -> serde_json::Value {
    json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
}

fn enc(id: &str) -> String {
    id.replace(':', "%3A")
}

#[tokio::test]
async fn stored_channels_are_managed_sealed_and_routed() {
    let (a, b) = (ok_server().await, ok_server().await);
    let app = managed(&a, true).await;
    let res = admin(
        &app,
        reqwest::Method::POST,
        "/v1/admin/channels",
        Some(json!({"provider": "openai", "name": "eu-2", "base_url": format!("{}/v1", b.uri()),
                    "api_key": CHANNEL_KEY, "priority": 10, "model_map": {"gpt-4o-mini": "mini-eu"}})),
    )
    .await;
    assert_eq!(res.status(), 201);
    let text = res.text().await.unwrap();
    assert!(!text.contains(CHANNEL_KEY), "the key came back: {text}");
    let created: serde_json::Value = serde_json::from_str(&text).unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["api_key_hint"], "…3a9c");
    assert_eq!(created["source"], "database");
    assert_eq!(created["health"]["state"], "closed");
    assert_eq!(created["weight"], 1);

    // At rest the credential is sealed: neither it nor a recognisable part of it is in the row.
    let store = gaia_store::Store::connect(&app.database_url, &gaia_store::StoreOptions::default())
        .await
        .unwrap();
    let row = store.get_channel(&id).await.unwrap();
    let sealed = row.api_key_sealed.unwrap();
    assert!(sealed.starts_with("v1.") && !sealed.contains("channel-secret"));

    // The higher priority group takes the traffic, with its own key and mapped model name.
    for _ in 0..3 {
        assert_eq!(app.chat(&mini()).await.status(), 200);
    }
    let on_b = b.received_requests().await.unwrap();
    assert_eq!(on_b.len(), 3);
    assert_eq!(
        on_b[0].headers["authorization"],
        format!("Bearer {CHANNEL_KEY}")
    );
    let sent: serde_json::Value = serde_json::from_slice(&on_b[0].body).unwrap();
    assert_eq!(sent["model"], "mini-eu");
    assert_eq!(hits(&a).await, 0);

    // Listed beside the provider's own endpoint, which is read-only.
    let list: Vec<serde_json::Value> =
        admin(&app, reqwest::Method::GET, "/v1/admin/channels", None)
            .await
            .json()
            .await
            .unwrap();
    let ours = list.iter().find(|c| c["id"] == id.as_str()).unwrap();
    assert_eq!(ours["health"]["successes"], 3);
    let default = list
        .iter()
        .find(|c| c["id"] == "config:openai:default")
        .unwrap();
    assert_eq!(default["source"], "config");
    assert_eq!(default["api_key_hint"], "…test");
    for (m, body) in [
        (reqwest::Method::PATCH, Some(json!({"weight": 2}))),
        (reqwest::Method::DELETE, None),
    ] {
        let res = admin(
            &app,
            m,
            &format!("/v1/admin/channels/{}", enc("config:openai:default")),
            body,
        )
        .await;
        let e = crate::helpers::assert_error_envelope(res, 409).await;
        assert_eq!(e["code"], "channel_read_only");
    }

    // Disabled: traffic goes back to the provider's own endpoint; enabled again: to the channel.
    let res = admin(
        &app,
        reqwest::Method::PATCH,
        &format!("/v1/admin/channels/{id}"),
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(res.status(), 200);
    let off: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        (off["enabled"].clone(), off["health"]["state"].clone()),
        (json!(false), json!("disabled"))
    );
    assert_eq!(app.chat(&mini()).await.status(), 200);
    assert_eq!((hits(&a).await, hits(&b).await), (1, 3));
    let res = admin(
        &app,
        reqwest::Method::PATCH,
        &format!("/v1/admin/channels/{id}"),
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.chat(&mini()).await.status(), 200);
    assert_eq!((hits(&a).await, hits(&b).await), (1, 4));

    // One test request, whatever the circuit: it reaches the channel and is not counted as traffic.
    let res = admin(
        &app,
        reqwest::Method::POST,
        &format!("/v1/admin/channels/{id}/test"),
        Some(json!({"model": "gpt-4o-mini"})),
    )
    .await;
    assert_eq!(res.status(), 200);
    let t: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        (t["ok"].clone(), t["model"].clone(), t["error"].clone()),
        (json!(true), json!("gpt-4o-mini"), json!(null))
    );
    let tested = b.received_requests().await.unwrap();
    assert_eq!(tested.len(), 5);
    let sent: serde_json::Value = serde_json::from_slice(&tested[4].body).unwrap();
    assert_eq!(
        sent["model"], "mini-eu",
        "the test goes by the channel's model map"
    );

    // A new key replaces the old one; the hint follows.
    let res = admin(
        &app,
        reqwest::Method::PATCH,
        &format!("/v1/admin/channels/{id}"),
        Some(json!({"api_key": "sk-rotated-key-000111"})),
    )
    .await;
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["api_key_hint"], "…0111");
    assert_eq!(app.chat(&mini()).await.status(), 200);
    let last = b.received_requests().await.unwrap().pop().unwrap();
    assert_eq!(
        last.headers["authorization"],
        "Bearer sk-rotated-key-000111"
    );

    // Deleted: gone from the list and from routing.
    let res = admin(
        &app,
        reqwest::Method::DELETE,
        &format!("/v1/admin/channels/{id}"),
        None,
    )
    .await;
    assert_eq!(res.status(), 204);
    let res = admin(
        &app,
        reqwest::Method::GET,
        &format!("/v1/admin/channels/{id}"),
        None,
    )
    .await;
    crate::helpers::assert_error_envelope(res, 404).await;
    assert_eq!(app.chat(&mini()).await.status(), 200);
    assert_eq!(hits(&a).await, 2);
}

#[tokio::test]
async fn bad_channel_input_gets_a_precise_4xx() {
    let a = ok_server().await;
    let app = managed(&a, true).await;
    let good = json!({"provider": "openai", "name": "one", "base_url": "http://127.0.0.1:9/v1"});
    assert_eq!(
        admin(
            &app,
            reqwest::Method::POST,
            "/v1/admin/channels",
            Some(good.clone())
        )
        .await
        .status(),
        201
    );
    let with = |k: &str, v: serde_json::Value| {
        let mut b = good.clone();
        b[k] = v;
        b
    };
    for (body, status, param, code) in [
        (with("name", json!("one")), 409, None, None),
        (with("name", json!("default")), 409, Some("name"), None),
        (with("name", json!("has space")), 400, Some("name"), None),
        (with("name", json!("")), 400, Some("name"), None),
        (
            with("provider", json!("nope")),
            422,
            Some("provider"),
            Some("unknown_provider"),
        ),
        (
            with("base_url", json!("ftp://x/v1")),
            400,
            Some("base_url"),
            None,
        ),
        (
            with("base_url", json!("not a url")),
            400,
            Some("base_url"),
            None,
        ),
        (with("weight", json!(0)), 400, Some("weight"), None),
        (with("weight", json!(1001)), 400, Some("weight"), None),
        (with("priority", json!(5000)), 400, Some("priority"), None),
        (
            with("api_key", json!("sk-with\nnewline")),
            400,
            Some("api_key"),
            None,
        ),
        (with("api_key", json!("")), 400, Some("api_key"), None),
        (with("models", json!([""])), 400, Some("models"), None),
        (
            with("model_map", json!({"a": ""})),
            400,
            Some("model_map"),
            None,
        ),
        (
            with("ca_file", json!("/nonexistent/ca.pem")),
            422,
            Some("ca_file"),
            Some("ca_file_unreadable"),
        ),
        (with("colour", json!("red")), 400, None, None),
        (with("weight", json!("heavy")), 400, None, None),
    ] {
        let res = admin(
            &app,
            reqwest::Method::POST,
            "/v1/admin/channels",
            Some(body.clone()),
        )
        .await;
        let e = crate::helpers::assert_error_envelope(res, status).await;
        let err = e;
        if let Some(p) = param {
            assert_eq!(err["param"], p, "{body}");
        }
        if let Some(c) = code {
            assert_eq!(err["code"], c, "{body}");
        }
    }
    // PATCH and test on unknown ids, malformed test bodies.
    let res = admin(
        &app,
        reqwest::Method::PATCH,
        "/v1/admin/channels/nope",
        Some(json!({"weight": 2})),
    )
    .await;
    crate::helpers::assert_error_envelope(res, 404).await;
    let res = admin(
        &app,
        reqwest::Method::POST,
        "/v1/admin/channels/nope/test",
        None,
    )
    .await;
    crate::helpers::assert_error_envelope(res, 404).await;
    let res = app
        .client
        .post(app.url(&format!(
            "/v1/admin/channels/{}/test",
            enc("config:openai:default")
        )))
        .bearer_auth(app.key())
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    crate::helpers::assert_error_envelope(res, 400).await;
    // Only admins.
    let res = app
        .client
        .get(app.url("/v1/admin/channels"))
        .send()
        .await
        .unwrap();
    crate::helpers::assert_error_envelope(res, 401).await;
}

#[tokio::test]
async fn without_a_secret_key_only_keyless_channels_can_be_stored() {
    let (a, b) = (ok_server().await, ok_server().await);
    let app = managed(&a, false).await;
    let body = json!({"provider": "openai", "name": "vllm", "base_url": format!("{}/v1", b.uri()),
                      "api_key": CHANNEL_KEY, "priority": 1});
    let res = admin(
        &app,
        reqwest::Method::POST,
        "/v1/admin/channels",
        Some(body),
    )
    .await;
    let e = crate::helpers::assert_error_envelope(res, 422).await;
    assert_eq!(e["code"], "secret_key_required");
    let body = json!({"provider": "openai", "name": "vllm", "base_url": format!("{}/v1", b.uri()), "priority": 1});
    let res = admin(
        &app,
        reqwest::Method::POST,
        "/v1/admin/channels",
        Some(body),
    )
    .await;
    assert_eq!(res.status(), 201);
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["api_key_hint"], json!(null));
    assert_eq!(app.chat(&mini()).await.status(), 200);
    let sent = b.received_requests().await.unwrap();
    assert_eq!(sent.len(), 1);
    assert!(
        !sent[0].headers.contains_key("authorization"),
        "a keyless channel sends no credential"
    );
}

#[tokio::test]
async fn a_refused_credential_disables_a_stored_channel_until_an_operator_enables_it() {
    let (a, b) = (ok_server().await, MockServer::start().await);
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"}}),
        ))
        .mount(&b)
        .await;
    let app = managed(&a, true).await;
    let res = admin(
        &app,
        reqwest::Method::POST,
        "/v1/admin/channels",
        Some(json!({
        "provider": "openai", "name": "revoked", "base_url": format!("{}/v1", b.uri()),
        "api_key": CHANNEL_KEY, "priority": 10})),
    )
    .await;
    let id = res.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The client never sees the refusal: the request moves to the next channel.
    for _ in 0..3 {
        assert_eq!(app.chat(&mini()).await.status(), 200);
    }
    assert_eq!(hits(&b).await, 1, "a refused channel is not tried again");
    // Disabled in the database with the reason, and shown so.
    let mut v = serde_json::Value::Null;
    for _ in 0..40 {
        v = channel_view(&app, &id).await;
        if v["enabled"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(v["enabled"], false, "{v}");
    assert_eq!(v["health"]["state"], "disabled");
    assert!(
        v["disabled_reason"].as_str().unwrap().contains("refused"),
        "{v}"
    );
    assert_eq!(
        v["health"]["recent_errors"][0]["code"],
        "upstream_auth_error"
    );
    let text = v.to_string();
    assert!(!text.contains(CHANNEL_KEY));

    // A test says what is wrong.
    let t: serde_json::Value = admin(
        &app,
        reqwest::Method::POST,
        &format!("/v1/admin/channels/{id}/test"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(t["ok"], false);
    assert_eq!(t["error"]["code"], "upstream_auth_error");

    // The operator fixes the key and enables it: traffic comes back.
    b.reset().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ok())
        .mount(&b)
        .await;
    let res = admin(
        &app,
        reqwest::Method::PATCH,
        &format!("/v1/admin/channels/{id}"),
        Some(json!({"enabled": true, "api_key": "sk-fixed-key-1234567"})),
    )
    .await;
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        (
            v["enabled"].clone(),
            v["disabled_reason"].clone(),
            v["health"]["state"].clone()
        ),
        (json!(true), json!(null), json!("closed"))
    );
    assert_eq!(app.chat(&mini()).await.status(), 200);
    assert_eq!(hits(&b).await, 1);
}

/// The race an operator meets when rotating a revoked key under traffic: a request sent with the old key is
/// refused after the operator has set the new one. The refusal must not disable the channel (its new key has
/// not been tried) nor undo the operator's edit; this instance's circuit, disabled by the refusal, comes back.
#[tokio::test]
async fn a_refusal_of_a_key_the_operator_has_since_replaced_does_not_disable_the_channel() {
    use wiremock::matchers::header;
    const ROTATED: &str = "sk-rotated-key-7654321";
    let (a, b) = (ok_server().await, MockServer::start().await);
    // The old key is refused, slowly enough for the operator to act meanwhile; the new one is served.
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", format!("Bearer {CHANNEL_KEY}").as_str()))
        .respond_with(
            ResponseTemplate::new(401)
                .set_delay(Duration::from_millis(1500))
                .set_body_json(json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"}})),
        )
        .mount(&b)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header(
            "authorization",
            format!("Bearer {ROTATED}").as_str(),
        ))
        .respond_with(ok())
        .mount(&b)
        .await;
    let app = managed(&a, true).await;
    let res = admin(
        &app,
        reqwest::Method::POST,
        "/v1/admin/channels",
        Some(json!({
        "provider": "openai", "name": "rotating", "base_url": format!("{}/v1", b.uri()),
        "api_key": CHANNEL_KEY, "priority": 10, "weight": 2})),
    )
    .await;
    let id = res.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = mini();
    let (answer, patched) = tokio::join!(app.chat(&body), async {
        // The request is on its way to the old key when the operator rotates it.
        tokio::time::sleep(Duration::from_millis(400)).await;
        admin(
            &app,
            reqwest::Method::PATCH,
            &format!("/v1/admin/channels/{id}"),
            Some(json!({"api_key": ROTATED, "weight": 5})),
        )
        .await
        .status()
    });
    assert_eq!(patched, 200);
    // The client never sees the refusal: the request moved to the default channel.
    assert_eq!(answer.status(), 200);
    // The refusal is handled in the background; once it is, this instance's circuit is closed again.
    let mut v = serde_json::Value::Null;
    for _ in 0..60 {
        v = channel_view(&app, &id).await;
        if v["health"]["state"] == "closed"
            && v["health"]["recent_errors"][0]["code"] == "upstream_auth_error"
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        (
            v["enabled"].clone(),
            v["disabled_reason"].clone(),
            v["health"]["state"].clone(),
            v["weight"].clone()
        ),
        (json!(true), json!(null), json!("closed"), json!(5)),
        "{v}"
    );
    assert_eq!(
        v["health"]["recent_errors"][0]["code"], "upstream_auth_error",
        "the refusal was seen: {v}"
    );
    // The new key is tried — and served.
    assert_eq!(app.chat(&mini()).await.status(), 200);
    let sent = b.received_requests().await.unwrap();
    let rotated = format!("Bearer {ROTATED}");
    assert!(
        sent.iter().any(|r| r
            .headers
            .get("authorization")
            .is_some_and(|h| h.to_str().ok() == Some(rotated.as_str()))),
        "the rotated key was never used"
    );
}

// ---------------------------------------------------------------- Azure OpenAI

#[tokio::test]
async fn azure_openai_deployments_are_reached_by_url_api_version_and_api_key() {
    use wiremock::matchers::{header, query_param};
    let azure = MockServer::start().await;
    // Two deployments in one resource: one from the file, one through a stored channel's model map.
    for (deployment, version, key) in [
        ("prod-4o-mini", "2024-10-21", "az-file-key-0123456789"),
        ("eu-4o-mini", "2025-01-01-preview", "az-channel-key-98765"),
    ] {
        Mock::given(method("POST"))
            .and(path(format!(
                "/openai/deployments/{deployment}/chat/completions"
            )))
            .and(query_param("api-version", version))
            .and(header("api-key", key))
            .respond_with(ok())
            .mount(&azure)
            .await;
    }
    Mock::given(method("POST"))
        .and(path("/openai/deployments/prod-embed/embeddings"))
        .and(header("api-key", "az-file-key-0123456789"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list", "model": "text-embedding-3-small",
            "data": [{"object": "embedding", "index": 0, "embedding": [0.5, -0.25]}],
            "usage": {"prompt_tokens": 2, "total_tokens": 2}})))
        .mount(&azure)
        .await;
    let toml = format!(
        r#"
[[providers]]
name = "azure"
kind = "azure"
base_url = "{uri}"
api_key = "az-file-key-0123456789"
[[providers.models]]
name = "prod-4o-mini"
input_price = 0.15
output_price = 0.6
[[providers.models]]
name = "prod-embed"
kind = "embedding"
input_price = 0.02
"#,
        uri = azure.uri()
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("gaiarouter.toml");
    std::fs::write(&cfg, toml).unwrap();
    let mut settings = gaiarouter::configuration::Settings::for_tests(
        &crate::helpers::test_database_url(dir.path()).await,
    )
    .unwrap();
    settings.config_file = Some(cfg);
    settings.sealer = Some(std::sync::Arc::new(
        gaia_gateway::channels::sealed::Sealer::new(SECRET_KEY, &[]).unwrap(),
    ));
    let app = crate::helpers::spawn_with(settings, dir).await;
    let body =
        json!({"model": "azure/prod-4o-mini", "messages": [{"role": "user", "content": "hi"}]});
    let res = app.chat(&body).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let res = app
        .client
        .post(app.url("/v1/embeddings"))
        .bearer_auth(app.key())
        .json(&json!({"model": "azure/prod-embed", "input": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());

    // A second region as a stored channel: its own key, api-version and deployment name.
    let res = admin(&app, reqwest::Method::POST, "/v1/admin/channels", Some(json!({
        "provider": "azure", "name": "eu", "base_url": azure.uri(), "api_key": "az-channel-key-98765",
        "api_version": "2025-01-01-preview", "priority": 5, "models": ["prod-4o-mini"],
        "model_map": {"prod-4o-mini": "eu-4o-mini"}}))).await;
    assert_eq!(res.status(), 201);
    assert_eq!(app.chat(&body).await.status(), 200);
    let paths: Vec<String> = azure
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect();
    assert_eq!(
        paths,
        [
            "/openai/deployments/prod-4o-mini/chat/completions",
            "/openai/deployments/prod-embed/embeddings",
            "/openai/deployments/eu-4o-mini/chat/completions"
        ]
    );
    // Only `api-key` carries the credential.
    for r in azure.received_requests().await.unwrap() {
        assert!(!r.headers.contains_key("authorization"));
    }
}

// ---------------------------------------------------------------- key rotation and a lost key

const NEW_SECRET_KEY: &str = "0303030303030303030303030303030303030303030303030303030303030303";

/// Another instance on the database of `first` (and its admin key), with these secret keys.
async fn instance(
    first: &crate::helpers::TestApp,
    default: &MockServer,
    current: Option<&str>,
    previous: &[&str],
) -> crate::helpers::TestApp {
    let mut settings = gaiarouter::configuration::Settings::for_tests(&first.database_url).unwrap();
    crate::helpers::point_providers_at(&mut settings, &default.uri());
    settings.sealer = current.map(|k| {
        std::sync::Arc::new(gaia_gateway::channels::sealed::Sealer::new(k, previous).unwrap())
    });
    let mut app = crate::helpers::spawn_with(settings, tempfile::tempdir().unwrap()).await;
    app.admin_key = first.admin_key.clone();
    app
}

/// The key id a sealer puts in what it seals.
fn key_id(key: &str) -> String {
    let sealed = gaia_gateway::channels::sealed::Sealer::new(key, &[])
        .unwrap()
        .seal("row", "x")
        .unwrap();
    sealed.split('.').nth(1).unwrap().to_owned()
}

#[tokio::test]
async fn credentials_are_sealed_again_after_a_key_rotation_and_a_lost_key_is_a_422_until_set_again()
{
    let (a, b) = (ok_server().await, ok_server().await);
    let first = managed(&a, true).await;
    let url = first.database_url.clone();
    let res = admin(
        &first,
        reqwest::Method::POST,
        "/v1/admin/channels",
        Some(json!({
        "provider": "openai", "name": "rotated", "base_url": format!("{}/v1", b.uri()),
        "api_key": CHANNEL_KEY, "priority": 10})),
    )
    .await;
    let id = res.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let store = gaia_store::Store::connect(&url, &gaia_store::StoreOptions::default())
        .await
        .unwrap();
    let sealed_with = |s: &str| s.split('.').nth(1).unwrap().to_owned();
    let row = store.get_channel(&id).await.unwrap();
    assert_eq!(
        sealed_with(row.api_key_sealed.as_deref().unwrap()),
        key_id(SECRET_KEY)
    );

    // Rotation: the new key current, the old one previous. Starting seals the credential again.
    let rotated = instance(&first, &a, Some(NEW_SECRET_KEY), &[SECRET_KEY]).await;
    let row = store.get_channel(&id).await.unwrap();
    assert_eq!(
        sealed_with(row.api_key_sealed.as_deref().unwrap()),
        key_id(NEW_SECRET_KEY)
    );
    assert_eq!(rotated.chat(&mini()).await.status(), 200);
    // Then without the old key at all: still opens.
    let after = instance(&first, &a, Some(NEW_SECRET_KEY), &[]).await;
    assert_eq!(after.chat(&mini()).await.status(), 200);
    let sent = b.received_requests().await.unwrap();
    assert_eq!(sent.len(), 2);
    for r in &sent {
        assert_eq!(r.headers["authorization"], format!("Bearer {CHANNEL_KEY}"));
    }

    // An instance with neither key: the channel is shown unusable and skipped; whatever needs the
    // credential is a 422 naming it, until a new one is set.
    let lost = instance(
        &first,
        &a,
        Some("0404040404040404040404040404040404040404040404040404040404040404"),
        &[],
    )
    .await;
    let v: serde_json::Value = admin(
        &lost,
        reqwest::Method::GET,
        &format!("/v1/admin/channels/{id}"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(v["health"]["state"], "disabled", "{v}");
    assert!(
        v["disabled_reason"]
            .as_str()
            .unwrap()
            .starts_with("cannot be used"),
        "{v}"
    );
    assert_eq!(
        lost.chat(&mini()).await.status(),
        200,
        "served by the provider's own endpoint"
    );
    assert_eq!(hits(&b).await, 2);
    for (m, path, body) in [
        (
            reqwest::Method::PATCH,
            format!("/v1/admin/channels/{id}"),
            Some(json!({"weight": 2})),
        ),
        (
            reqwest::Method::POST,
            format!("/v1/admin/channels/{id}/test"),
            None,
        ),
    ] {
        let e =
            crate::helpers::assert_error_envelope(admin(&lost, m, &path, body).await, 422).await;
        assert_eq!(
            (e["code"].clone(), e["param"].clone()),
            (json!("credential_unreadable"), json!("api_key"))
        );
    }
    let res = admin(
        &lost,
        reqwest::Method::PATCH,
        &format!("/v1/admin/channels/{id}"),
        Some(json!({"api_key": "sk-set-again-after-loss"})),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(lost.chat(&mini()).await.status(), 200);
    let last = b.received_requests().await.unwrap().pop().unwrap();
    assert_eq!(
        last.headers["authorization"],
        "Bearer sk-set-again-after-loss"
    );
}

#[tokio::test]
async fn a_stored_channel_cannot_take_a_configured_channels_name() {
    let a = ok_server().await;
    let toml = r#"
[[channels]]
provider = "openai"
name = "eu"
base_url = "http://127.0.0.1:9/v1"
api_key = "sk-configured-eu-key"
"#;
    let app = crate::gateway::spawn_with_config_file(&a.uri(), toml).await;
    let body = |name: &str| json!({"provider": "openai", "name": name, "base_url": "http://127.0.0.1:9/v1"});
    let e = crate::helpers::assert_error_envelope(
        admin(
            &app,
            reqwest::Method::POST,
            "/v1/admin/channels",
            Some(body("eu")),
        )
        .await,
        409,
    )
    .await;
    assert_eq!(e["param"], "name");
    let res = admin(
        &app,
        reqwest::Method::POST,
        "/v1/admin/channels",
        Some(body("spare")),
    )
    .await;
    assert_eq!(res.status(), 201);
    let id = res.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Nor be renamed to one.
    let res = admin(
        &app,
        reqwest::Method::PATCH,
        &format!("/v1/admin/channels/{id}"),
        Some(json!({"name": "eu"})),
    )
    .await;
    crate::helpers::assert_error_envelope(res, 409).await;
}
