//! Organizations, API keys, permissions, limits, users and sign-in — over HTTP against the real server.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{TestApp, assert_error_envelope, spawn_app_with_upstream};

pub async fn ok_upstream() -> MockServer {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "x", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})))
        .mount(&upstream)
        .await;
    upstream
}

pub async fn chat_as(app: &TestApp, key: &str) -> reqwest::Response {
    app.with(key).chat(&json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]})).await
}

#[tokio::test]
async fn organizations_are_created_listed_updated_and_soft_deleted() {
    let upstream = ok_upstream().await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let org = app.create_org("acme",
        json!({"description": "Acme Rockets", "monthly_cost_limit": 12.5, "rate_limit_rpm": 100}),
    )
    .await;
    assert_eq!(org["status"], "active");
    assert_eq!(org["monthly_cost_limit"], 12.5);
    assert_eq!(org["monthly_requests_limit"], Value::Null);
    assert_eq!(org["usage"]["month_requests"], 0);
    let id = org["id"].as_str().unwrap();

    // Duplicate name, bad names, negative limits, unknown fields.
    let dup = app
        .admin()
        .create_organization(json!({"name": "acme"}))
        .await;
    assert_error_envelope(dup, 409).await;
    for bad in [
        json!({"name": ""}),
        json!({"name": "x".repeat(300)}),
        json!({"name": "ok", "monthly_tokens_limit": -5}),
        json!({"name": "ok", "monthly_cost_limit": -1.0}),
        json!({"name": "ok", "rate_limit_rpm": 0}),
        json!({"name": "ok", "bogus": 1}),
        json!({"name": 42}),
        json!({"name": "ok", "status": "sleeping"}),
    ] {
        let res = app.admin().create_organization(bad.clone()).await;
        assert_error_envelope(res, 400).await;
    }

    app.create_org("globex", json!({})).await;
    let page: Value = app
        .admin()
        .list_organizations("search=Rock&limit=5")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["pagination"]["total"], 1);
    assert_eq!(page["data"][0]["id"], id);
    let page: Value = app
        .admin()
        .list_organizations("limit=1&page=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    assert!(
        page["pagination"]["pages"].as_u64().unwrap() >= 3,
        "default + acme + globex"
    );

    let patched: Value = app.admin().update_organization(id, json!({"monthly_cost_limit": null, "monthly_requests_limit": 1000, "description": "new"})).await.json().await.unwrap();
    assert_eq!(patched["monthly_cost_limit"], Value::Null);
    assert_eq!(patched["monthly_requests_limit"], 1000);
    assert_eq!(patched["rate_limit_rpm"], 100, "untouched fields stay");

    let (_, key) = app.create_key(id, json!({})).await;
    assert_eq!(chat_as(&app, &key).await.status(), 200);
    let res = app.admin().deactivate_organization(id).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.json::<Value>().await.unwrap()["message"]
            .as_str()
            .is_some()
    );
    let org: Value = app.admin().get_organization(id).await.json().await.unwrap();
    assert_eq!(org["status"], "inactive");
    assert_error_envelope(chat_as(&app, &key).await, 401).await;
    // No key can be added to it: the organization's state conflicts with the request (409).
    let refused = app
        .admin()
        .create_api_key(json!({"organization_id": id}))
        .await;
    assert_eq!(
        assert_error_envelope(refused, 409).await["code"],
        "organization_inactive"
    );
    let missing = app.admin().get_organization("nope").await;
    assert_error_envelope(missing, 404).await;
}

/// Any Unicode text is stored as sent, names compare exactly, and times far ahead are kept — on every
/// backend (`make test` runs this suite on SQLite, PostgreSQL and MySQL; MariaDB's default `latin1`
/// tables answered a 500 here, and its `TIMESTAMP` range lost the expiry, before migration 11).
#[tokio::test]
async fn names_keep_any_unicode_text_and_compare_exactly_and_times_keep_their_range() {
    let upstream = ok_upstream().await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let name = "团队 🚀 équipe";
    let description = "Ünïcödé, emoji 😀 and 中文 – stored as sent";
    let org = app
        .create_org(name, json!({"description": description}))
        .await;
    let id = org["id"].as_str().unwrap();
    let res = app.admin().get_organization(id).await;
    assert_eq!(res.status(), 200);
    let read: Value = res.json().await.unwrap();
    assert_eq!(
        (read["name"].as_str(), read["description"].as_str()),
        (Some(name), Some(description))
    );

    // Search finds it by a non-ASCII substring.
    let res = app.admin().list_organizations("search=%F0%9F%9A%80").await;
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["pagination"]["total"], 1, "{page}");
    assert_eq!(page["data"][0]["id"], id);

    // Names differing only in an emoji, an accent or letter case are different names (a `_ci` collation
    // on MySQL would refuse them as duplicates); the same name again is a 409.
    for other in ["团队 😀 équipe", "团队 🚀 equipe", "团队 🚀 ÉQUIPE"] {
        app.create_org(other, json!({})).await;
    }
    let dup = app.admin().create_organization(json!({"name": name})).await;
    assert_error_envelope(dup, 409).await;

    // A key's name, too.
    let res = app
        .admin()
        .create_api_key(json!({"organization_id": id, "name": "ключ 🔑"}))
        .await;
    assert_eq!(res.status(), 201);
    let key: Value = res.json().await.unwrap();
    assert_eq!(key["name"], "ключ 🔑");

    // An expiry past 2038 is kept (MySQL's TIMESTAMP, and MariaDB's reading of sqlx's parameters, ended
    // there: the key was stored as never expiring).
    let res = app.admin().create_api_key(json!({"organization_id": id, "name": "long-lived", "expires_at": "2100-01-01T00:00:00Z"}))
    .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let key_id = created["id"].as_str().unwrap();
    let res = app.admin().get_api_key(key_id).await;
    let read: Value = res.json().await.unwrap();
    assert_eq!(read["expires_at"], "2100-01-01T00:00:00Z", "{read}");
    assert_eq!(read["status"], "active");
}

#[tokio::test]
async fn keys_show_their_secret_once_and_only_a_hint_afterwards() {
    let upstream = ok_upstream().await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let org = app.create_org("acme", json!({})).await;
    let org_id = org["id"].as_str().unwrap();
    let res = app
        .admin()
        .create_api_key(json!({"organization_id": org_id, "name": "ci"}))
        .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let secret = created["key"].as_str().unwrap();
    assert!(secret.starts_with("gaia_") && secret.len() > 40);
    assert_eq!(created["permissions"], json!(["read", "write"]));
    assert_eq!(created["organization_name"], "acme");
    assert_eq!(created["status"], "active");
    let id = created["id"].as_str().unwrap();
    let read: Value = app.admin().get_api_key(id).await.json().await.unwrap();
    assert_eq!(read["key"], Value::Null);
    let hint = read["key_hint"].as_str().unwrap();
    assert!(hint.ends_with(&secret[secret.len() - 4..]));
    assert!(!hint.contains(&secret[20..40]));
    let listed: Value = app
        .admin()
        .list_api_keys(&format!("organization_id={org_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["pagination"]["total"], 1);
    assert!(
        !listed.to_string().contains(secret),
        "a listing must never contain a secret"
    );

    // last_used_at appears without a database write per request.
    assert_eq!(chat_as(&app, secret).await.status(), 200);
    let read: Value = app.admin().get_api_key(id).await.json().await.unwrap();
    assert!(read["last_used_at"].is_string(), "{read}");

    // Revoke: 401 everywhere, reads as revoked, cannot be edited back.
    assert_eq!(app.admin().revoke_api_key(id).await.status(), 200);
    assert_error_envelope(chat_as(&app, secret).await, 401).await;
    let me = app.with(secret).me().await;
    assert_error_envelope(me, 401).await;
    let read: Value = app.admin().get_api_key(id).await.json().await.unwrap();
    assert_eq!(read["status"], "revoked");
    let revive = app
        .admin()
        .update_api_key(id, json!({"status": "active"}))
        .await;
    assert_error_envelope(revive, 409).await;
}

#[tokio::test]
async fn disabled_and_expired_keys_are_refused() {
    let upstream = ok_upstream().await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let org = app.create_org("acme", json!({})).await;
    let org_id = org["id"].as_str().unwrap();
    let (id, key) = app.create_key(org_id, json!({})).await;
    app.admin()
        .update_api_key(&id, json!({"status": "inactive"}))
        .await;
    assert_error_envelope(chat_as(&app, &key).await, 401).await;
    app.admin()
        .update_api_key(&id, json!({"status": "active"}))
        .await;
    assert_eq!(chat_as(&app, &key).await.status(), 200);

    let soon = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let (exp_id, exp_key) = app.create_key(org_id, json!({"expires_at": soon})).await;
    assert_eq!(chat_as(&app, &exp_key).await.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    let err = assert_error_envelope(chat_as(&app, &exp_key).await, 401).await;
    assert_eq!(err["code"], "expired_api_key");
    let read: Value = app.admin().get_api_key(&exp_id).await.json().await.unwrap();
    assert_eq!(read["status"], "expired");
    let past = app
        .admin()
        .create_api_key(json!({"organization_id": org_id, "expires_at": "2001-01-01T00:00:00Z"}))
        .await;
    // Well-formed, but in the past: 422 (a rule no schema can state), naming the field.
    assert_eq!(
        assert_error_envelope(past, 422).await["param"],
        "expires_at"
    );
}

#[tokio::test]
async fn a_key_can_never_grant_more_than_it_has_nor_reach_another_organization() {
    let upstream = ok_upstream().await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let a = app.create_org("a", json!({})).await;
    let b = app.create_org("b", json!({})).await;
    let (a_id, b_id) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let (_, writer) = app
        .create_key(a_id, json!({"permissions": ["read", "write"]}))
        .await;
    let (_, reader) = app.create_key(a_id, json!({"permissions": ["read"]})).await;
    let (b_key_id, _) = app.create_key(b_id, json!({})).await;
    let (admin_key_id, _) = app
        .create_key(a_id, json!({"permissions": ["admin"]}))
        .await;

    // write: can create read/write keys in its own organization…
    let (_, _) = app
        .with(&writer)
        .create_key(a_id, json!({"permissions": ["read"]}))
        .await;
    // …but not an admin key, and not in another organization (404: no existence leak).
    let res = app
        .with(&writer)
        .create_api_key(json!({"organization_id": a_id, "permissions": ["admin"]}))
        .await;
    assert_error_envelope(res, 403).await;
    let res = app
        .with(&writer)
        .create_api_key(json!({"organization_id": b_id}))
        .await;
    assert_error_envelope(res, 404).await;
    // Nor edit or revoke an admin key of its own organization.
    let res = app.with(&writer).revoke_api_key(&admin_key_id).await;
    assert_error_envelope(res, 403).await;
    // read: sees its organization and keys, cannot create.
    let res = app
        .with(&reader)
        .create_api_key(json!({"organization_id": a_id}))
        .await;
    assert_error_envelope(res, 403).await;
    let orgs: Value = app
        .with(&reader)
        .list_organizations("")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(orgs["pagination"]["total"], 1);
    assert_eq!(orgs["data"][0]["id"], a_id);
    let keys: Value = app
        .with(&reader)
        .list_api_keys("")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        keys["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["organization_id"] == a_id)
    );
    let other: Value = app
        .with(&reader)
        .list_api_keys(&format!("organization_id={b_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(other["pagination"]["total"], 0);
    assert_error_envelope(app.with(&reader).get_organization(b_id).await, 404).await;
    assert_error_envelope(app.with(&reader).get_api_key(&b_key_id).await, 404).await;
    // Organization management and the registry are admin-only.
    assert_error_envelope(
        app.with(&writer)
            .create_organization(json!({"name": "c"}))
            .await,
        403,
    )
    .await;
    assert_error_envelope(
        app.with(&writer)
            .update_organization(a_id, json!({"name": "z"}))
            .await,
        403,
    )
    .await;
    assert_error_envelope(app.with(&writer).list_admin_models("").await, 403).await;
    assert_error_envelope(app.with(&writer).list_users("").await, 403).await;
    // Every active key may call inference.
    assert_eq!(chat_as(&app, &reader).await.status(), 200);
    assert_eq!(app.with(&reader).list_models().await.status(), 200);
}

#[tokio::test]
async fn a_key_request_limit_answers_429_with_the_reset_time() {
    let upstream = ok_upstream().await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let org = app.create_org("acme", json!({})).await;
    let (_, key) = app
        .create_key(
            org["id"].as_str().unwrap(),
            json!({"monthly_requests_limit": 3}),
        )
        .await;
    for _ in 0..3 {
        assert_eq!(chat_as(&app, &key).await.status(), 200);
    }
    let res = chat_as(&app, &key).await;
    assert!(res.headers().contains_key("retry-after"));
    let err = assert_error_envelope(res, 429).await;
    assert_eq!(err["code"], "organization_limit_error");
    assert!(
        err["message"].as_str().unwrap().contains("resets at"),
        "{err}"
    );
    // Refused before anything went upstream: exactly three calls reached the provider.
    assert_eq!(upstream.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn an_organization_token_limit_counts_what_the_provider_reported() {
    let upstream = ok_upstream().await; // 15 tokens per answer
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let org = app
        .create_org("acme", json!({"monthly_tokens_limit": 40}))
        .await;
    let org_id = org["id"].as_str().unwrap();
    let (_, k1) = app.create_key(org_id, json!({})).await;
    let (_, k2) = app.create_key(org_id, json!({})).await;
    assert_eq!(chat_as(&app, &k1).await.status(), 200); // 15
    assert_eq!(chat_as(&app, &k2).await.status(), 200); // 30
    assert_eq!(chat_as(&app, &k1).await.status(), 200); // 45 ≥ 40 now
    let err = assert_error_envelope(chat_as(&app, &k2).await, 429).await;
    assert!(err["message"].as_str().unwrap().contains("token"));
    let org: Value = app
        .admin()
        .get_organization(org_id)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(org["usage"]["month_tokens"], 45);
    assert_eq!(
        org["usage"]["month_requests"], 4,
        "the refused request is recorded too"
    );
}

#[tokio::test]
async fn a_cost_limit_uses_registry_prices() {
    let upstream = ok_upstream().await; // 10 prompt + 5 completion tokens of gpt-4o-mini ($0.15 / $0.60 per M)
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let org = app.create_org("acme", json!({})).await;
    // 10 * 0.15e-6 + 5 * 0.6e-6 = 4.5e-6 USD per request.
    let (id, key) = app
        .create_key(
            org["id"].as_str().unwrap(),
            json!({"monthly_cost_limit": 0.000009}),
        )
        .await;
    assert_eq!(chat_as(&app, &key).await.status(), 200);
    assert_eq!(chat_as(&app, &key).await.status(), 200);
    let err = assert_error_envelope(chat_as(&app, &key).await, 429).await;
    assert!(err["message"].as_str().unwrap().contains("cost"));
    let read: Value = app.admin().get_api_key(&id).await.json().await.unwrap();
    assert!(
        (read["usage"]["month_cost"].as_f64().unwrap() - 0.000009).abs() < 1e-12,
        "{read}"
    );
}

#[tokio::test]
async fn a_per_minute_limit_answers_429_with_retry_after() {
    let upstream = ok_upstream().await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let org = app.create_org("acme", json!({})).await;
    let (_, key) = app
        .create_key(org["id"].as_str().unwrap(), json!({"rate_limit_rpm": 2}))
        .await;
    assert_eq!(chat_as(&app, &key).await.status(), 200);
    assert_eq!(chat_as(&app, &key).await.status(), 200);
    let res = chat_as(&app, &key).await;
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(
        assert_error_envelope(res, 429).await["code"],
        "rate_limit_error"
    );
}

#[tokio::test]
async fn a_concurrent_burst_cannot_pass_a_request_limit() {
    let upstream = ok_upstream().await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let org = app
        .create_org("acme", json!({"monthly_requests_limit": 25}))
        .await;
    let (_, key) = app.create_key(org["id"].as_str().unwrap(), json!({})).await;
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for _ in 0..80 {
        let app = app.clone();
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            chat_as(&app, &key).await.status().as_u16()
        }));
    }
    let mut ok = 0;
    let mut limited = 0;
    for t in tasks {
        match t.await.unwrap() {
            200 => ok += 1,
            429 => limited += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((ok, limited), (25, 55));
}

#[tokio::test]
async fn users_sign_in_manage_the_gateway_and_brute_force_is_slowed_down() {
    let upstream = ok_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = gaiarouter::configuration::Settings::for_tests(
        &crate::helpers::test_database_url(dir.path()).await,
    )
    .unwrap();
    crate::helpers::point_providers_at(&mut settings, &upstream.uri());
    settings.admin_username = Some("root".into());
    settings.admin_password = Some(gaiarouter::configuration::Secret::new("s3cret-pass"));
    settings.jwt_secret = Some(gaiarouter::configuration::Secret::new(
        "0123456789abcdef0123456789abcdef",
    ));
    let app = crate::helpers::spawn_with(settings, dir).await;

    let res = app
        .anonymous()
        .login(json!({"username": "root", "password": "s3cret-pass"}))
        .await;
    assert_eq!(res.status(), 200);
    let login: Value = res.json().await.unwrap();
    assert_eq!(login["role"], "admin");
    let token = login["token"].as_str().unwrap().to_owned();
    let me: Value = app.with(&token).me().await.json().await.unwrap();
    assert_eq!(
        (me["kind"].as_str(), me["username"].as_str()),
        (Some("user"), Some("root"))
    );
    // The token manages the gateway.
    let res = app
        .with(&token)
        .create_organization(json!({"name": "via-ui"}))
        .await;
    assert_eq!(res.status(), 201);
    let org_id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Users CRUD; a `user` role reads but cannot write.
    let res = app
        .with(&token)
        .create_user(json!({"username": "viewer", "password": "viewer-pass", "role": "user"}))
        .await;
    assert_eq!(res.status(), 201);
    let viewer_id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let users: Value = app.with(&token).list_users("").await.json().await.unwrap();
    assert_eq!(users["pagination"]["total"], 2);
    assert!(
        !users.to_string().contains("argon2"),
        "password hashes never leave the server"
    );
    let viewer: Value = app
        .anonymous()
        .login(json!({"username": "viewer", "password": "viewer-pass"}))
        .await
        .json()
        .await
        .unwrap();
    let vt = viewer["token"].as_str().unwrap();
    assert_eq!(app.with(vt).list_organizations("").await.status(), 200);
    assert_error_envelope(
        app.with(vt)
            .create_organization(json!({"name": "nope"}))
            .await,
        403,
    )
    .await;
    // Deactivated users' tokens stop working.
    app.with(&token).delete_user(&viewer_id).await;
    assert_error_envelope(app.with(vt).list_organizations("").await, 401).await;
    // The last admin cannot be demoted.
    let root_id = login["user_id"].as_str().unwrap();
    let res = app
        .with(&token)
        .update_user(root_id, json!({"role": "user"}))
        .await;
    assert_error_envelope(res, 409).await;

    // Key login: scoped to the key, refused once revoked.
    let (key_id, key) = app
        .create_key(&org_id, json!({"permissions": ["read"]}))
        .await;
    let kl: Value = app
        .anonymous()
        .key_login(json!({"api_key": key}))
        .await
        .json()
        .await
        .unwrap();
    let kt = kl["token"].as_str().unwrap().to_owned();
    assert_eq!(kl["permissions"], json!(["read"]));
    let orgs: Value = app
        .with(&kt)
        .list_organizations("")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(orgs["pagination"]["total"], 1);
    app.admin().revoke_api_key(&key_id).await;
    assert_error_envelope(app.with(&kt).list_organizations("").await, 401).await;

    // Tampered tokens are refused.
    let mut tampered = token.clone();
    tampered.push('x');
    assert_error_envelope(app.with(&tampered).me().await, 401).await;

    // Wrong credentials: 401 without a hint, then 429 after repeated failures.
    let wrong_user = app
        .anonymous()
        .login(json!({"username": "ghost", "password": "whatever1"}))
        .await;
    let e1 = assert_error_envelope(wrong_user, 401).await;
    let wrong_pass = app
        .anonymous()
        .login(json!({"username": "root", "password": "whatever1"}))
        .await;
    let e2 = assert_error_envelope(wrong_pass, 401).await;
    assert_eq!(e1["message"], e2["message"]);
    let mut throttled = false;
    for _ in 0..6 {
        let res = app
            .anonymous()
            .login(json!({"username": "root", "password": "nope-nope"}))
            .await;
        if res.status() == 429 {
            assert!(res.headers().contains_key("retry-after"));
            throttled = true;
            break;
        }
    }
    assert!(throttled, "repeated failures must be slowed down");
}

/// Behind a reverse proxy every sign-in comes from the proxy: the throttle counted all users as one
/// client, so five wrong passwords from anyone locked every administrator out. With the proxy listed in
/// `GAIA_TRUSTED_PROXIES`, the client its `X-Forwarded-For` names is counted instead; without it (or from
/// any other peer) the header is ignored, so a client cannot dodge the throttle by forging it.
#[tokio::test]
async fn the_sign_in_throttle_counts_the_client_behind_a_trusted_proxy_only() {
    async fn sign_in(app: &TestApp, forwarded_for: &str, password: &str) -> u16 {
        app.client
            .post(app.url("/v1/admin/login"))
            .header("x-forwarded-for", forwarded_for)
            .json(&json!({"username": "root", "password": password}))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
    for trusted in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = gaiarouter::configuration::Settings::for_tests(
            &crate::helpers::test_database_url(dir.path()).await,
        )
        .unwrap();
        settings.admin_username = Some("root".into());
        settings.admin_password = Some(gaiarouter::configuration::Secret::new("root-password"));
        if trusted {
            settings.trusted_proxies =
                gaiarouter::client_addr::TrustedProxies::parse("127.0.0.0/8, ::1").unwrap();
        }
        let app = crate::helpers::spawn_with(settings, dir).await;
        // An attacker behind the proxy fails five times, then is slowed down.
        for _ in 0..5 {
            assert_eq!(sign_in(&app, "198.51.100.66", "wrong-password").await, 401);
        }
        assert_eq!(sign_in(&app, "198.51.100.66", "wrong-password").await, 429);
        // An administrator behind the same proxy signs in — unless the proxy is not trusted, when the
        // header means nothing and both are the proxy's one address.
        let admin = sign_in(&app, "203.0.113.5", "root-password").await;
        assert_eq!(admin, if trusted { 200 } else { 429 }, "trusted: {trusted}");
        // The attacker cannot step around the throttle by prepending a made-up hop.
        if trusted {
            assert_eq!(
                sign_in(&app, "1.1.1.1, 198.51.100.66", "wrong-password").await,
                429
            );
        }
    }
}
