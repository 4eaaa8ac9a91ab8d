//! Secrets never reach the logs or an API response. The real binary runs a whole session — sign-in with a
//! password, keys created, key login, chats with good, wrong and revoked keys and tokens, providers that
//! answer with their own API key echoed in error bodies, bad input — with every log line our crates can
//! emit switched on, in JSON and in text; then every line it printed is searched for every secret, and every
//! response body and header for the secrets the caller must never be shown.

use reqwest::Method;
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::crash::Gateway;
use crate::helpers::{Db, fresh_database, http_client};

const ADMIN_KEY: &str = "secret-admin-key-Zq8wX1vB7nM3kL9p";
const JWT_SECRET: &str = "secret-jwt-signing-key-Hc4Tg7Yb2Rv9Pw6Ks1Dm5Nx8";
const ROOT_PASSWORD: &str = "secret-root-password-Jf3Ws8Qa";
const USER_PASSWORD: &str = "secret-user-password-Lp5Ve2Zc";
const NEW_PASSWORD: &str = "secret-changed-password-Rt7Ub4Hy";
const WRONG_PASSWORD: &str = "secret-wrong-password-Ox2Ni6Em";
const OPENAI_KEY: &str = "sk-secret-openai-Gm2Kd8Rw4Tz6";
const ANTHROPIC_KEY: &str = "sk-ant-secret-Bq5Nv1Xs7Yh3";
const GEMINI_KEY: &str = "secret-gemini-key-Pc9Lf3Jw6Ud2";
const OPENROUTER_KEY: &str = "sk-or-secret-Wa4Ek8Mq1Vt5";

fn header(req: &Request, name: &str) -> String {
    req.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The four providers at one wiremock server. OpenAI answers (JSON and SSE); the others fail, echoing the
/// credentials they were sent in their error bodies — the worst a provider can do.
async fn providers() -> MockServer {
    let upstream = MockServer::start().await;
    let sse = concat!(
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}\n\n",
        "data: [DONE]\n\n",
    );
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_partial_json(json!({"stream": true})))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/event-stream")
                .set_body_string(sse),
        )
        .mount(&upstream)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "x", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}})))
        .mount(&upstream)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(|req: &Request| {
            ResponseTemplate::new(401).set_body_json(json!({"type": "error", "error": {
                "type": "authentication_error",
                "message": format!("invalid x-api-key: {}", header(req, "x-api-key"))}}))
        })
        .mount(&upstream)
        .await;
    Mock::given(method("POST"))
        .and(path_regex("^/v1beta/models/.*"))
        .respond_with(|req: &Request| {
            ResponseTemplate::new(400).set_body_json(json!({"error": {
                "code": 400, "status": "INVALID_ARGUMENT",
                "message": format!("API key not valid: {}", header(req, "x-goog-api-key"))}}))
        })
        .mount(&upstream)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/chat/completions"))
        .respond_with(|req: &Request| {
            ResponseTemplate::new(500).set_body_json(json!({"error": {
                "code": 500,
                "message": format!("upstream failed for {}", header(req, "authorization"))}}))
        })
        .mount(&upstream)
        .await;
    upstream
}

/// Every request of the session and what came back.
struct Session {
    base: String,
    client: reqwest::Client,
    /// Status, headers and body of every response.
    seen: Vec<String>,
}

impl Session {
    async fn send(
        &mut self,
        token: Option<&str>,
        m: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.client.request(m, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        self.record(res).await
    }

    async fn raw(&mut self, token: &str, body: &'static str) -> (u16, Value) {
        let res = self
            .client
            .post(format!("{}/v1/chat/completions", self.base))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        self.record(res).await
    }

    async fn record(&mut self, res: reqwest::Response) -> (u16, Value) {
        let status = res.status().as_u16();
        let headers = format!("{:?}", res.headers());
        let text = res.text().await.unwrap();
        self.seen.push(format!("{status} {headers} {text}"));
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn chat(&mut self, token: &str, model: &str, stream: bool) -> u16 {
        let body = json!({"model": model, "stream": stream,
            "messages": [{"role": "user", "content": "hello"}]});
        self.send(
            Some(token),
            Method::POST,
            "/v1/chat/completions",
            Some(body),
        )
        .await
        .0
    }
}

async fn no_secret_reaches_the_logs_or_a_response(db: Db, format: &str, rust_log: &str) {
    let upstream = providers().await;
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = fresh_database(db, dir.path()).await else {
        return;
    };
    let u = upstream.uri();
    let env = vec![
        ("DATABASE_URL", url),
        ("GAIA_ADMIN_KEY", ADMIN_KEY.to_owned()),
        ("GAIA_JWT_SECRET", JWT_SECRET.to_owned()),
        ("GAIA_ADMIN_USERNAME", "root".to_owned()),
        ("GAIA_ADMIN_PASSWORD", ROOT_PASSWORD.to_owned()),
        ("GAIA_LOG_FORMAT", format.to_owned()),
        ("RUST_LOG", rust_log.to_owned()),
        ("OPENAI_API_KEY", OPENAI_KEY.to_owned()),
        ("OPENAI_BASE_URL", format!("{u}/v1")),
        ("ANTHROPIC_API_KEY", ANTHROPIC_KEY.to_owned()),
        ("ANTHROPIC_BASE_URL", u.clone()),
        ("GEMINI_API_KEY", GEMINI_KEY.to_owned()),
        ("GEMINI_BASE_URL", u.clone()),
        ("OPENROUTER_API_KEY", OPENROUTER_KEY.to_owned()),
        ("OPENROUTER_BASE_URL", format!("{u}/api/v1")),
    ];
    let gw = Gateway::start(dir.path(), &env);
    let mut s = Session {
        base: gw.base.clone(),
        client: http_client(),
        seen: Vec::new(),
    };
    // Secrets that exist only once the session made them: (what, value).
    let mut made: Vec<(String, String)> = Vec::new();

    // Sign-in: a wrong password, then the right one.
    let login = |password: &str| json!({"username": "root", "password": password});
    let (st, _) = s
        .send(
            None,
            Method::POST,
            "/v1/admin/login",
            Some(login(WRONG_PASSWORD)),
        )
        .await;
    assert_eq!(st, 401);
    let (st, v) = s
        .send(
            None,
            Method::POST,
            "/v1/admin/login",
            Some(login(ROOT_PASSWORD)),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let root_jwt = v["token"].as_str().unwrap().to_owned();
    made.push(("root's JWT".into(), root_jwt.clone()));

    // An organization, keys and a user.
    let (st, org) = s
        .send(
            Some(&root_jwt),
            Method::POST,
            "/v1/organizations",
            Some(json!({"name": "secrets", "monthly_requests_limit": 1000})),
        )
        .await;
    assert_eq!(st, 201, "{org}");
    let org_id = org["id"].as_str().unwrap().to_owned();
    let mut keys = Vec::new();
    for (name, perms) in [
        ("writer", json!(["read", "write"])),
        ("reader", json!(["read"])),
    ] {
        let (st, k) = s
            .send(
                Some(ADMIN_KEY),
                Method::POST,
                "/v1/api-keys",
                Some(json!({"organization_id": org_id, "name": name, "permissions": perms})),
            )
            .await;
        assert_eq!(st, 201, "{k}");
        let full = k["key"].as_str().unwrap().to_owned();
        let secret = full.rsplit('_').next().unwrap().to_owned();
        assert!(secret.len() >= 32, "{full}");
        made.push((format!("{name} key"), full.clone()));
        made.push((format!("{name} key's secret part"), secret));
        keys.push((k["id"].as_str().unwrap().to_owned(), full));
    }
    let (writer_id, writer) = keys[0].clone();
    let (reader_id, reader) = keys[1].clone();
    let (st, user) = s
        .send(
            Some(&root_jwt),
            Method::POST,
            "/v1/admin/users",
            Some(json!({"username": "alice", "password": USER_PASSWORD})),
        )
        .await;
    assert_eq!(st, 201, "{user}");
    let (st, v) = s
        .send(
            None,
            Method::POST,
            "/v1/admin/login",
            Some(json!({"username": "alice", "password": USER_PASSWORD})),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    made.push((
        "alice's JWT".into(),
        v["token"].as_str().unwrap().to_owned(),
    ));
    let (st, _) = s
        .send(
            Some(&root_jwt),
            Method::PATCH,
            &format!("/v1/admin/users/{}", user["id"].as_str().unwrap()),
            Some(json!({"password": NEW_PASSWORD})),
        )
        .await;
    assert_eq!(st, 200);

    // Key login, right and wrong.
    let (st, v) = s
        .send(
            None,
            Method::POST,
            "/v1/auth/key-login",
            Some(json!({"api_key": writer})),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let key_jwt = v["token"].as_str().unwrap().to_owned();
    made.push(("the writer key's JWT".into(), key_jwt.clone()));
    let forged = format!("{}{}", &writer[..writer.len() - 4], "AAAA");
    let (st, _) = s
        .send(
            None,
            Method::POST,
            "/v1/auth/key-login",
            Some(json!({"api_key": forged})),
        )
        .await;
    assert_eq!(st, 401);

    // Chats: every provider (OpenAI answers; the others fail echoing their credentials), streaming, an
    // unknown model, bad JSON, tokens as credentials, wrong and forged keys.
    assert_eq!(s.chat(&writer, "openai/gpt-4o-mini", false).await, 200);
    assert_eq!(s.chat(&writer, "openai/gpt-4o-mini", true).await, 200);
    assert_eq!(
        s.chat(&writer, "anthropic/claude-sonnet-4-5", false).await,
        502
    );
    assert_eq!(
        s.chat(&writer, "anthropic/claude-sonnet-4-5", true).await,
        502
    );
    let gemini = json!({"model": "google/gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]});
    let (st, v) = s
        .send(
            Some(&writer),
            Method::POST,
            "/v1/chat/completions",
            Some(gemini),
        )
        .await;
    assert_eq!(st, 400, "{v}");
    // The provider's message, which echoed its key, reached the caller — scrubbed.
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("API key not valid"),
        "{v}"
    );
    assert_eq!(
        s.chat(
            &writer,
            "openrouter/meta-llama/llama-3.1-8b-instruct",
            false
        )
        .await,
        502
    );
    assert_eq!(s.chat(&writer, "openai/no-such-model", false).await, 404);
    assert_eq!(s.raw(&writer, "{\"model\": ").await.0, 400);
    s.chat(&key_jwt, "openai/gpt-4o-mini", false).await;
    s.chat(&root_jwt, "openai/gpt-4o-mini", false).await;
    assert_eq!(s.chat(&forged, "openai/gpt-4o-mini", false).await, 401);
    assert_eq!(
        s.chat(&format!("{ADMIN_KEY}x"), "openai/gpt-4o-mini", false)
            .await,
        401
    );
    assert_eq!(
        s.chat("not-a-key-at-all", "openai/gpt-4o-mini", false)
            .await,
        401
    );

    // Reads with every kind of credential.
    for token in [
        ADMIN_KEY,
        root_jwt.as_str(),
        key_jwt.as_str(),
        writer.as_str(),
        reader.as_str(),
    ] {
        s.send(Some(token), Method::GET, "/v1/auth/me", None).await;
        s.send(Some(token), Method::GET, "/v1/api-keys", None).await;
        s.send(
            Some(token),
            Method::GET,
            &format!("/v1/api-keys/{writer_id}"),
            None,
        )
        .await;
    }
    s.send(Some(ADMIN_KEY), Method::GET, "/v1/requests", None)
        .await;
    s.send(
        Some(ADMIN_KEY),
        Method::GET,
        "/v1/requests?format=csv",
        None,
    )
    .await;

    // Revoked: the key and its login token stop working.
    let (st, _) = s
        .send(
            Some(ADMIN_KEY),
            Method::DELETE,
            &format!("/v1/api-keys/{reader_id}"),
            None,
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(s.chat(&reader, "openai/gpt-4o-mini", false).await, 401);
    let (st, _) = s
        .send(
            None,
            Method::POST,
            "/v1/auth/key-login",
            Some(json!({"api_key": reader})),
        )
        .await;
    assert_eq!(st, 401);

    let output = gw.terminate();
    assert!(
        output.iter().any(|l| l.contains("request finished")),
        "the request log lines were captured"
    );

    // Every line the process printed, searched for every secret.
    let never_shown: Vec<(String, String)> = vec![
        ("the admin key".into(), ADMIN_KEY.into()),
        ("the JWT secret".into(), JWT_SECRET.into()),
        ("root's password".into(), ROOT_PASSWORD.into()),
        ("alice's password".into(), USER_PASSWORD.into()),
        ("alice's new password".into(), NEW_PASSWORD.into()),
        ("a wrong password".into(), WRONG_PASSWORD.into()),
        ("the OpenAI key".into(), OPENAI_KEY.into()),
        ("the Anthropic key".into(), ANTHROPIC_KEY.into()),
        ("the Gemini key".into(), GEMINI_KEY.into()),
        ("the OpenRouter key".into(), OPENROUTER_KEY.into()),
    ];
    let mut secrets = never_shown.clone();
    secrets.push(("a forged key".into(), forged));
    secrets.extend(made);
    for (what, value) in &secrets {
        if let Some(line) = output.iter().find(|l| l.contains(value.as_str())) {
            panic!("{what} is in the {format} log:\n{line}");
        }
    }
    // Every response: the provider keys, the JWT secret, passwords and the admin key are never shown.
    for (what, value) in &never_shown {
        if let Some(res) = s.seen.iter().find(|r| r.contains(value.as_str())) {
            panic!("{what} is in a response:\n{res}");
        }
    }
}

/// Every target of ours at `trace`, everything else at `debug`.
const OURS_AT_TRACE: &str = "debug,gaiarouter=trace,gaia_core=trace,gaia_adapters=trace,gaia_providers=trace,gaia_orgs=trace,gaia_stats=trace,gaia_store=trace";

#[tokio::test]
async fn no_secret_reaches_the_json_logs_or_a_response_on_sqlite() {
    no_secret_reaches_the_logs_or_a_response(Db::Sqlite, "json", OURS_AT_TRACE).await;
}

#[tokio::test]
async fn no_secret_reaches_the_text_logs_or_a_response_on_sqlite() {
    no_secret_reaches_the_logs_or_a_response(Db::Sqlite, "pretty", OURS_AT_TRACE).await;
}

#[tokio::test]
async fn no_secret_reaches_the_json_logs_or_a_response_on_postgres() {
    no_secret_reaches_the_logs_or_a_response(Db::Postgres, "json", OURS_AT_TRACE).await;
}

#[tokio::test]
async fn no_secret_reaches_the_json_logs_or_a_response_on_mysql() {
    no_secret_reaches_the_logs_or_a_response(Db::MySql, "json", OURS_AT_TRACE).await;
}
