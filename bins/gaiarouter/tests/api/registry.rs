//! The model registry through the admin API: listing, toggling, registering, OpenRouter sync, aliases
//! with fallbacks — and that each change takes effect on the gateway at once.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{assert_error_envelope, spawn_app_with_upstream};

fn openai_answer(text: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "x", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}))
}

#[tokio::test]
async fn admins_page_and_filter_the_registry() {
    let upstream = MockServer::start().await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let res = app
        .admin()
        .list_admin_models("provider=anthropic&limit=2&page=1")
        .await;
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
    assert!(
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["provider"] == "anthropic")
    );
    let p = &page["pagination"];
    assert_eq!(
        (p["page"].as_u64(), p["limit"].as_u64()),
        (Some(1), Some(2))
    );
    assert!(p["total"].as_u64().unwrap() >= 4);
    assert_eq!(
        p["pages"].as_u64().unwrap(),
        p["total"].as_u64().unwrap().div_ceil(2)
    );
    let res = app.admin().list_admin_models("limit=1000").await;
    assert_eq!(assert_error_envelope(res, 400).await["param"], "limit");
    let res = app.admin().list_admin_models("enabled=maybe").await;
    assert_error_envelope(res, 400).await;
}

#[tokio::test]
async fn a_disabled_model_is_refused_and_listed_again_once_enabled() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(openai_answer("ok"))
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let chat = json!({"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "x"}]});
    assert_eq!(app.chat(&chat).await.status(), 200);

    let res = app
        .admin()
        .update_model("openai/gpt-4o", json!({"enabled": false}))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["enabled"], false);
    assert_eq!(
        assert_error_envelope(app.chat(&chat).await, 404).await["code"],
        "model_not_found"
    );
    let models: Value = app.get_authed("/v1/models").await.json().await.unwrap();
    assert!(
        !models["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == "openai/gpt-4o")
    );

    let res = app
        .admin()
        .bulk_toggle_models(json!({"ids": ["openai/gpt-4o", "nope/x"], "enabled": true}))
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["updated"], 1);
    assert_eq!(app.chat(&chat).await.status(), 200);
    let res = app
        .admin()
        .update_model("openai/unknown", json!({"enabled": false}))
        .await;
    assert_error_envelope(res, 404).await;
}

#[tokio::test]
async fn a_manually_registered_model_can_be_called() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(openai_answer("fine-tuned"))
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let res = app
        .admin().create_model(json!({"id": "openai/ft:gpt-4o-mini:acme", "input_price_per_mtok": 0.3, "output_price_per_mtok": 1.2}))
        .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["source"], "manual");
    assert_eq!(created["input_price_per_mtok"], 0.3);
    let res = app.chat(&json!({"model": "openai/ft:gpt-4o-mini:acme", "messages": [{"role": "user", "content": "x"}]})).await;
    assert_eq!(res.status(), 200);
    let sent: Value =
        serde_json::from_slice(&upstream.received_requests().await.unwrap()[0].body).unwrap();
    assert_eq!(sent["model"], "ft:gpt-4o-mini:acme");
    let again = app
        .admin()
        .create_model(json!({"id": "openai/ft:gpt-4o-mini:acme"}))
        .await;
    assert_error_envelope(again, 409).await;
    let bad = app.admin().create_model(json!({"id": "nowhere/x"})).await;
    assert_eq!(
        assert_error_envelope(bad, 422).await["code"],
        "unknown_provider"
    );
    let bad = app
        .admin()
        .create_model(json!({"id": "openai/y", "input_price_per_mtok": -1}))
        .await;
    assert_error_envelope(bad, 400).await;
}

#[tokio::test]
async fn openrouter_sync_imports_models_with_prices() {
    let upstream = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/models"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
            {"id": "mistralai/mistral-small", "name": "Mistral Small", "context_length": 32000,
             "pricing": {"prompt": "0.0000002", "completion": "0.0000006", "input_cache_read": "0.00000005"},
             "architecture": {"input_modalities": ["text"]}, "top_provider": {"max_completion_tokens": 8192},
             "supported_parameters": ["tools"]},
            {"id": "meta-llama/llama-3.1-8b-instruct", "name": "Llama", "context_length": 131072,
             "pricing": {"prompt": "0.00000002", "completion": "0.00000003"}}]})))
        .expect(1)
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let res = app.admin().sync_openrouter_models().await;
    assert_eq!(res.status(), 200);
    let result: Value = res.json().await.unwrap();
    assert_eq!(result["total"], 2);
    // Mistral is new; Llama was in the built-in catalog and is refreshed from OpenRouter's list.
    assert_eq!(result["inserted"], 1);
    assert_eq!(result["updated"], 1);
    let models: Value = app
        .get_authed("/v1/models/openrouter/mistralai/mistral-small")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(models["input_price_per_mtok"], 0.2);
    // The cache-read price of OpenRouter's list; no write price listed: the input price.
    assert_eq!(models["cached_input_price_per_mtok"], 0.05);
    assert_eq!(models["cache_write_price_per_mtok"], 0.2);
    assert_eq!(models["context_length"], 32000);
}

#[tokio::test]
async fn an_alias_falls_back_to_its_next_target_when_the_first_fails() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(ResponseTemplate::new(529).set_body_json(json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})))
        .expect(2) // first try + one retry
        .mount(&upstream)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(openai_answer("from the fallback"))
        .expect(1)
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let res = app
        .admin()
        .put_alias(
            "smart",
            json!({"targets": ["anthropic/claude-sonnet-4-5", "openai/gpt-4o"]}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .chat(&json!({"model": "smart", "messages": [{"role": "user", "content": "x"}]}))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-gaia-provider"], "openai");
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "from the fallback"
    );
    assert_eq!(body["model"], "openai/gpt-4o");

    let aliases: Value = app.admin().list_aliases().await.json().await.unwrap();
    assert_eq!(aliases[0]["alias"], "smart");
    let bad = app
        .admin()
        .put_alias("x", json!({"targets": ["openai/not-registered"]}))
        .await;
    assert_eq!(
        assert_error_envelope(bad, 422).await["code"],
        "model_not_found"
    );
    assert_eq!(app.admin().delete_alias("smart").await.status(), 200);
    let gone = app
        .chat(&json!({"model": "smart", "messages": [{"role": "user", "content": "x"}]}))
        .await;
    assert_error_envelope(gone, 404).await;
}

#[tokio::test]
async fn a_client_error_is_not_retried_or_failed_over() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"type": "error", "error": {"type": "invalid_request_error", "message": "prompt is too long"}})))
        .expect(1)
        .mount(&upstream)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(openai_answer("no"))
        .expect(0)
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    app.admin()
        .put_alias(
            "smart",
            json!({"targets": ["anthropic/claude-sonnet-4-5", "openai/gpt-4o"]}),
        )
        .await;
    let res = app
        .chat(&json!({"model": "smart", "messages": [{"role": "user", "content": "x"}]}))
        .await;
    let error = assert_error_envelope(res, 400).await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("prompt is too long")
    );
}

#[tokio::test]
async fn registry_administration_needs_the_admin_permission() {
    let upstream = MockServer::start().await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let res = app
        .client
        .get(app.url("/v1/admin/models"))
        .send()
        .await
        .unwrap();
    assert_error_envelope(res, 401).await;
}

/// One bad entry in an upstream's model list never stops the others: a display name with NUL, control
/// characters, emoji and 400 characters is stored escaped and cut; an id with a NUL (which would be sent
/// upstream as is) is skipped; the good entry is imported — on every backend.
#[tokio::test]
async fn an_openrouter_list_with_hostile_entries_imports_the_rest() {
    let upstream = MockServer::start().await;
    let long_name = format!("Bad\u{0}\u{1b}[31m 🚀 {}", "n".repeat(400));
    Mock::given(method("GET"))
        .and(path("/api/v1/models"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
            {"id": "acme/good", "name": "Good", "pricing": {"prompt": "0.000001", "completion": "0.000002"}},
            {"id": "acme/odd-name", "name": long_name, "pricing": {"prompt": "0.000001", "completion": "0.000002"}},
            {"id": "acme/bad\u{0}id", "name": "Bad id", "pricing": {"prompt": "0.000001", "completion": "0.000002"}}]})))
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let res = app.admin().sync_openrouter_models().await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let good = app.get_authed("/v1/models/openrouter/acme/good").await;
    assert_eq!(good.status(), 200);
    let odd: Value = app
        .get_authed("/v1/admin/models?search=odd-name")
        .await
        .json()
        .await
        .unwrap();
    let name = odd["data"][0]["display_name"].as_str().unwrap().to_owned();
    assert!(name.starts_with("Bad\\u{0}\\u{1b}[31m 🚀 nnn"), "{name}");
    assert_eq!(name.chars().count(), 256);
    let all: Value = app
        .get_authed("/v1/admin/models?search=acme/bad")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["pagination"]["total"], 0, "{all}");
}

/// The defect: the fallback chain stopped on an upstream 401/403 (a bad or revoked provider key) and on a
/// 404 (model retired or unknown there), so an alias whose first target had a broken credential never
/// reached its second. Now such a target is left at once — no retry — for the next, streaming or not, and
/// the request log names the target that answered and the attempts it took.
#[tokio::test]
async fn an_alias_moves_past_a_refused_credential_or_an_unknown_model_without_retrying_it() {
    for (status, stream) in [(401, false), (403, false), (404, false), (401, true)] {
        let upstream = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/messages"))
            .respond_with(ResponseTemplate::new(status).set_body_json(
                json!({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}),
            ))
            .expect(1)
            .mount(&upstream)
            .await;
        let answer = if stream {
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/event-stream")
                .set_body_string(concat!(
                    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"from the fallback\"},\"finish_reason\":null}]}\n\n",
                    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
                    "data: [DONE]\n\n"
                ))
        } else {
            openai_answer("from the fallback")
        };
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(answer)
            .expect(1)
            .mount(&upstream)
            .await;
        let app = spawn_app_with_upstream(&upstream.uri()).await;
        app.admin()
            .put_alias(
                "smart",
                json!({"targets": ["anthropic/claude-sonnet-4-5", "openai/gpt-4o"]}),
            )
            .await;
        let res = app
            .chat(&json!({"model": "smart", "stream": stream, "messages": [{"role": "user", "content": "x"}]}))
            .await;
        assert_eq!(res.status(), 200, "upstream {status}");
        assert_eq!(res.headers()["x-gaia-provider"], "openai");
        let body = res.text().await.unwrap();
        assert!(body.contains("from the fallback"), "{body}");
        let log = crate::recording::records(&app, 1).await;
        let r = &log[0].record;
        assert_eq!(r.provider.as_deref(), Some("openai"), "upstream {status}");
        assert_eq!(r.model_served.as_deref(), Some("openai/gpt-4o"));
        assert_eq!(r.attempts, Some(2), "upstream {status}");
        // The request log shows them too.
        let entries: Value = app.get_authed("/v1/requests").await.json().await.unwrap();
        assert_eq!(entries["data"][0]["attempts"], 2, "{entries}");
        assert_eq!(entries["data"][0]["provider"], "openai");
        upstream.verify().await;
    }
}

/// A request the first target refuses as malformed stops the chain (no other target would take it), and
/// its record names that target and one attempt; an alias whose every target fails for its credential
/// answers 502 `upstream_auth_error` after one attempt each.
#[tokio::test]
async fn a_bad_request_stops_the_chain_and_refused_credentials_everywhere_give_502() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"type": "error", "error": {"type": "invalid_request_error", "message": "prompt is too long"}})))
        .expect(1)
        .mount(&upstream)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"error": {"message": "bad key", "type": "invalid_request_error"}}),
        ))
        .expect(2)
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    for (alias, targets) in [
        (
            "smart",
            json!(["anthropic/claude-sonnet-4-5", "openai/gpt-4o"]),
        ),
        ("broken", json!(["openai/gpt-4o", "openai/gpt-4o-mini"])),
    ] {
        app.admin()
            .put_alias(alias, json!({ "targets": targets }))
            .await;
    }
    let res = app
        .chat(&json!({"model": "smart", "messages": [{"role": "user", "content": "x"}]}))
        .await;
    assert_error_envelope(res, 400).await;
    let res = app
        .chat(&json!({"model": "broken", "messages": [{"role": "user", "content": "x"}]}))
        .await;
    let error = assert_error_envelope(res, 502).await;
    assert_eq!(error["code"], "upstream_auth_error");
    let log = crate::recording::records(&app, 2).await;
    let by_model = |m: &str| {
        log.iter()
            .find(|r| r.record.model_requested == m)
            .map(|r| r.record.clone())
            .unwrap()
    };
    let smart = by_model("smart");
    assert_eq!(
        (smart.provider.as_deref(), smart.attempts),
        (Some("anthropic"), Some(1))
    );
    let broken = by_model("broken");
    assert_eq!(broken.model_served.as_deref(), Some("openai/gpt-4o-mini"));
    assert_eq!(broken.attempts, Some(2));
    upstream.verify().await;
}

/// Unpriced is not free: a model registered without prices is `priced: false`; a key (or organization)
/// with a monthly cost limit is refused on it with 403 `model_not_priced` naming the model and how to
/// price it, an alias skips it for them, and other callers are served with the request marked unpriced
/// and counted in the statistics. Pricing it at 0 declares it free and lifts the refusal.
#[tokio::test]
async fn an_unpriced_model_is_refused_under_a_cost_limit_and_counted_for_everyone_else() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(openai_answer("ok"))
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let res = app
        .admin()
        .create_model(json!({"id": "openai/local-x"}))
        .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["priced"], false);
    let listed: Value = app
        .get_authed("/v1/models/openai/local-x")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["priced"], false);
    let catalog: Value = app
        .get_authed("/v1/models/openai/gpt-4o")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(catalog["priced"], true);

    let org = app.create_org("capped", json!({})).await;
    let org_id = org["id"].as_str().unwrap();
    let (_, capped) = app
        .create_key(org_id, json!({"monthly_cost_limit": 5.0}))
        .await;
    let (_, free) = app.create_key(org_id, json!({})).await;
    let ask = |model: &str| json!({"model": model, "messages": [{"role": "user", "content": "x"}]});
    let call = |key: String, body: Value| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/v1/chat/completions"))
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let res = call(capped.clone(), ask("openai/local-x")).await;
    let error = assert_error_envelope(res, 403).await;
    assert_eq!(error["code"], "model_not_priced");
    assert_eq!(error["param"], "model");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("openai/local-x")
            && message.contains("PATCH /v1/admin/models/openai/local-x"),
        "{message}"
    );
    // An alias skips the unpriced target for a capped caller.
    app.admin()
        .put_alias(
            "cheap",
            json!({"targets": ["openai/local-x", "openai/gpt-4o-mini"]}),
        )
        .await;
    let res = call(capped.clone(), ask("cheap")).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["model"], "openai/gpt-4o-mini");
    // A key without a cost limit is served, and the request is marked and counted as unpriced.
    assert_eq!(
        call(free.clone(), ask("openai/local-x")).await.status(),
        200
    );
    let log = crate::recording::records(&app, 3).await;
    let unpriced: Vec<_> = log.iter().filter(|r| r.record.unpriced).collect();
    assert_eq!(unpriced.len(), 1, "{log:?}");
    assert_eq!(unpriced[0].record.status_code, 200);
    let stats: Value = app.get_authed("/v1/stats").await.json().await.unwrap();
    assert_eq!(stats["summary"]["unpriced_requests"], 1, "{stats}");
    let entries: Value = app
        .get_authed("/v1/requests?status=success")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        entries["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["unpriced"] == true),
        "{entries}"
    );

    // An organization's cost limit binds its keys the same way.
    app.admin()
        .update_organization(org_id, json!({"monthly_cost_limit": 100.0}))
        .await;
    let res = call(free.clone(), ask("openai/local-x")).await;
    assert_eq!(
        assert_error_envelope(res, 403).await["code"],
        "model_not_priced"
    );

    // Priced at 0: free, and served.
    let res = app
        .admin()
        .update_model(
            "openai/local-x",
            json!({"input_price_per_mtok": 0, "output_price_per_mtok": 0}),
        )
        .await;
    let patched: Value = res.json().await.unwrap();
    assert_eq!(patched["priced"], true);
    assert_eq!(
        call(capped.clone(), ask("openai/local-x")).await.status(),
        200
    );
}

/// The two cache prices through the admin API: set on registration, read back (with the prices that
/// apply in `effective_prices`), changed, reset to the provider's ratio with `null`, listed by
/// `/v1/models`; a negative one is a 400 in the envelope naming it.
#[tokio::test]
async fn cache_prices_are_set_read_back_and_reset_through_the_admin_api() {
    let upstream = MockServer::start().await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let admin = app.admin();
    let res = admin
        .create_model(
            json!({"id": "anthropic/claude-house", "input_price_per_mtok": 3.0,
            "output_price_per_mtok": 15.0, "cached_input_price_per_mtok": 0.25}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["cached_input_price_per_mtok"], 0.25);
    assert_eq!(created["cache_write_price_per_mtok"], Value::Null);
    // The unset write price is Anthropic's 1.25× of the input price.
    assert_eq!(
        created["effective_prices"],
        json!({"input_price_per_mtok": 3.0, "cached_input_price_per_mtok": 0.25,
            "cache_write_price_per_mtok": 3.75, "output_price_per_mtok": 15.0})
    );

    let res = admin
        .update_model(
            "anthropic/claude-house",
            json!({"cache_write_price_per_mtok": 6.0}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let listed: Value = admin
        .list_admin_models("search=claude-house")
        .await
        .json()
        .await
        .unwrap();
    let m = &listed["data"][0];
    assert_eq!(
        (
            &m["cached_input_price_per_mtok"],
            &m["cache_write_price_per_mtok"]
        ),
        (&json!(0.25), &json!(6.0))
    );
    assert_eq!(m["effective_prices"]["cache_write_price_per_mtok"], 6.0);
    let public: Value = app
        .get_authed("/v1/models/anthropic/claude-house")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            &public["cached_input_price_per_mtok"],
            &public["cache_write_price_per_mtok"]
        ),
        (&json!(0.25), &json!(6.0))
    );

    // `null` goes back to the provider's ratio; a field left out stays.
    let res = admin
        .update_model(
            "anthropic/claude-house",
            json!({"cached_input_price_per_mtok": null}),
        )
        .await;
    let m: Value = res.json().await.unwrap();
    assert_eq!(m["cached_input_price_per_mtok"], Value::Null);
    assert_eq!(m["cache_write_price_per_mtok"], 6.0);
    assert_eq!(m["effective_prices"]["cached_input_price_per_mtok"], 0.3);
    let public: Value = app
        .get_authed("/v1/models/anthropic/claude-house")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(public["cached_input_price_per_mtok"], 0.3);

    // A catalog model without cache prices of its own shows its provider's defaults: OpenAI's 0.5×.
    let public: Value = app
        .get_authed("/v1/models/openai/gpt-4o-mini")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            &public["input_price_per_mtok"],
            &public["cached_input_price_per_mtok"],
            &public["cache_write_price_per_mtok"]
        ),
        (&json!(0.15), &json!(0.075), &json!(0.15))
    );

    for (field, body) in [
        (
            "cached_input_price_per_mtok",
            json!({"cached_input_price_per_mtok": -0.1}),
        ),
        (
            "cache_write_price_per_mtok",
            json!({"cache_write_price_per_mtok": -3}),
        ),
    ] {
        let res = admin.update_model("anthropic/claude-house", body).await;
        assert_eq!(assert_error_envelope(res, 400).await["param"], field);
    }
    let res = admin
        .create_model(json!({"id": "openai/neg", "cache_write_price_per_mtok": -1}))
        .await;
    assert_eq!(
        assert_error_envelope(res, 400).await["param"],
        "cache_write_price_per_mtok"
    );
    let res = admin
        .update_model(
            "anthropic/claude-house",
            json!({"cached_input_price_per_mtok": "cheap"}),
        )
        .await;
    assert_error_envelope(res, 400).await;
    // Nothing of the refused changes was applied.
    let listed: Value = admin
        .list_admin_models("search=claude-house")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["data"][0]["cache_write_price_per_mtok"], 6.0);
}

/// A request that read from and wrote to Anthropic's prompt cache is billed per token class at the
/// catalog's Claude Sonnet 4.5 prices.
#[tokio::test]
async fn cache_reads_and_writes_are_billed_at_their_prices() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn",
            "usage": {"input_tokens": 200, "cache_creation_input_tokens": 200,
                "cache_read_input_tokens": 600, "output_tokens": 500}})))
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let res = app
        .chat(&json!({"model": "anthropic/claude-sonnet-4-5", "messages": [{"role": "user", "content": "x"}]}))
        .await;
    assert_eq!(res.status(), 200);
    let r = &crate::recording::records(&app, 1).await[0].record;
    assert_eq!((r.prompt_tokens, r.cached_tokens), (1_000, 600));
    // 200 × $3 + 600 × $0.30 + 200 × $3.75 + 500 × $15 per million = $0.00903.
    assert_eq!(r.cost_nanos, 9_030_000);
}

/// `GAIA_CONFIG` models take the two cache prices too; an OpenAI-compatible server's default is the input
/// price.
#[tokio::test]
async fn config_file_models_take_cache_prices() {
    let upstream = MockServer::start().await;
    let toml = format!(
        r#"
        [[providers]]
        name = "deepseek"
        base_url = "{}/v1"
        api_key = "sk-deepseek"
        [[providers.models]]
        name = "deepseek-chat"
        input_price = 0.27
        output_price = 1.10
        cached_input_price = 0.07
        [[providers.models]]
        name = "deepseek-plain"
        input_price = 0.27
        output_price = 1.10
        "#,
        upstream.uri()
    );
    let app = crate::gateway::spawn_with_config_file(&upstream.uri(), &toml).await;
    let chat: Value = app
        .get_authed("/v1/models/deepseek/deepseek-chat")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            &chat["cached_input_price_per_mtok"],
            &chat["cache_write_price_per_mtok"]
        ),
        (&json!(0.07), &json!(0.27))
    );
    let plain: Value = app
        .get_authed("/v1/models/deepseek/deepseek-plain")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(plain["cached_input_price_per_mtok"], 0.27);
    let listed: Value = app
        .admin()
        .list_admin_models("provider=deepseek")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["data"][0]["cached_input_price_per_mtok"], 0.07);
    assert_eq!(
        listed["data"][1]["cached_input_price_per_mtok"],
        Value::Null
    );
}
