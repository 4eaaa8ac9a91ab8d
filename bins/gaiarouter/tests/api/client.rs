//! The API as tests speak it: one method per endpoint, named after its OpenAPI `operationId`, on a caller
//! that carries its credential — `app.admin().update_api_key(&id, body)`, `app.with(&key).chat(&body)`,
//! `app.anonymous().login(body)` — plus a few typed shortcuts for the steps most tests start with
//! (`app.create_org(..)`, `app.create_key(..)`).
//!
//! Each endpoint method returns the raw `reqwest::Response`: tests assert on status, headers and the
//! error envelope as a client would see them. [`Caller::send`] remains for tables that walk many routes.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// A client of a running app with one credential (an API key, a session token, or none).
#[derive(Clone, Copy)]
pub struct Caller<'a> {
    app: &'a TestApp,
    token: Option<&'a str>,
}

impl TestApp {
    /// Calls with the bootstrap admin key.
    pub fn admin(&self) -> Caller<'_> {
        Caller {
            app: self,
            token: Some(self.key()),
        }
    }

    /// Calls with `token` (a GaiaRouter key or an admin-UI session token) as the bearer credential.
    pub fn with<'a>(&'a self, token: &'a str) -> Caller<'a> {
        Caller {
            app: self,
            token: Some(token),
        }
    }

    /// Calls with `token` if there is one, without any credential otherwise.
    pub fn caller<'a>(&'a self, token: Option<&'a str>) -> Caller<'a> {
        Caller { app: self, token }
    }

    /// Calls without any credential.
    pub fn anonymous(&self) -> Caller<'_> {
        Caller {
            app: self,
            token: None,
        }
    }

    /// Creates an organization named `name` (with `extra` fields) as the admin; asserts 201.
    pub async fn create_org(&self, name: &str, extra: Value) -> Value {
        self.admin().create_org(name, extra).await
    }

    /// Creates a key in `org_id` (with `extra` fields) as the admin; asserts 201, returns (id, secret).
    pub async fn create_key(&self, org_id: &str, extra: Value) -> (String, String) {
        self.admin().create_key(org_id, extra).await
    }
}

/// Asserts a 200 answer and returns its JSON body.
pub async fn ok_json(res: reqwest::Response) -> Value {
    let status = res.status();
    let url = res.url().clone();
    let text = res.text().await.unwrap();
    assert_eq!(status, 200, "GET {url}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// `base` with the fields of `extra` (an object) added.
fn merged(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        b.extend(e);
    }
    base
}

/// `path` with `?query` appended when the query is not empty.
fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.trim_start_matches('?'))
    }
}

impl Caller<'_> {
    /// Any request: `method path` with an optional JSON body.
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> reqwest::Response {
        let mut req = self.app.client.request(method, self.app.url(path));
        if let Some(t) = self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.send(Method::GET, path, None).await
    }

    // ---------------------------------------------------------------- organizations

    pub async fn create_organization(&self, body: Value) -> reqwest::Response {
        self.send(Method::POST, "/v1/organizations", Some(body))
            .await
    }

    /// `query` without the `?`, e.g. `search=acme&limit=5`; empty for none.
    pub async fn list_organizations(&self, query: &str) -> reqwest::Response {
        self.get(&with_query("/v1/organizations", query)).await
    }

    pub async fn get_organization(&self, id: &str) -> reqwest::Response {
        self.get(&format!("/v1/organizations/{id}")).await
    }

    pub async fn update_organization(&self, id: &str, body: Value) -> reqwest::Response {
        self.send(
            Method::PATCH,
            &format!("/v1/organizations/{id}"),
            Some(body),
        )
        .await
    }

    pub async fn deactivate_organization(&self, id: &str) -> reqwest::Response {
        self.send(Method::DELETE, &format!("/v1/organizations/{id}"), None)
            .await
    }

    pub async fn organization_stats(&self, id: &str, query: &str) -> reqwest::Response {
        self.get(&with_query(&format!("/v1/organizations/{id}/stats"), query))
            .await
    }

    /// Creates an organization named `name` with `extra` fields; asserts 201 and returns it.
    pub async fn create_org(&self, name: &str, extra: Value) -> Value {
        let res = self
            .create_organization(merged(json!({"name": name}), extra))
            .await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        res.json().await.unwrap()
    }

    // ---------------------------------------------------------------- API keys

    pub async fn create_api_key(&self, body: Value) -> reqwest::Response {
        self.send(Method::POST, "/v1/api-keys", Some(body)).await
    }

    pub async fn list_api_keys(&self, query: &str) -> reqwest::Response {
        self.get(&with_query("/v1/api-keys", query)).await
    }

    pub async fn get_api_key(&self, id: &str) -> reqwest::Response {
        self.get(&format!("/v1/api-keys/{id}")).await
    }

    pub async fn update_api_key(&self, id: &str, body: Value) -> reqwest::Response {
        self.send(Method::PATCH, &format!("/v1/api-keys/{id}"), Some(body))
            .await
    }

    pub async fn revoke_api_key(&self, id: &str) -> reqwest::Response {
        self.send(Method::DELETE, &format!("/v1/api-keys/{id}"), None)
            .await
    }

    pub async fn key_stats(&self, id: &str, query: &str) -> reqwest::Response {
        self.get(&with_query(&format!("/v1/api-keys/{id}/stats"), query))
            .await
    }

    /// Creates a key in `org_id` with `extra` fields; asserts 201 and returns (id, secret).
    pub async fn create_key(&self, org_id: &str, extra: Value) -> (String, String) {
        let res = self
            .create_api_key(merged(json!({"organization_id": org_id}), extra))
            .await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        let v: Value = res.json().await.unwrap();
        (
            v["id"].as_str().unwrap().to_owned(),
            v["key"].as_str().unwrap().to_owned(),
        )
    }

    // ---------------------------------------------------------------- sign-in and users

    pub async fn login(&self, body: Value) -> reqwest::Response {
        self.send(Method::POST, "/v1/admin/login", Some(body)).await
    }

    pub async fn key_login(&self, body: Value) -> reqwest::Response {
        self.send(Method::POST, "/v1/auth/key-login", Some(body))
            .await
    }

    pub async fn me(&self) -> reqwest::Response {
        self.get("/v1/auth/me").await
    }

    pub async fn create_user(&self, body: Value) -> reqwest::Response {
        self.send(Method::POST, "/v1/admin/users", Some(body)).await
    }

    pub async fn list_users(&self, query: &str) -> reqwest::Response {
        self.get(&with_query("/v1/admin/users", query)).await
    }

    pub async fn update_user(&self, id: &str, body: Value) -> reqwest::Response {
        self.send(Method::PATCH, &format!("/v1/admin/users/{id}"), Some(body))
            .await
    }

    pub async fn delete_user(&self, id: &str) -> reqwest::Response {
        self.send(Method::DELETE, &format!("/v1/admin/users/{id}"), None)
            .await
    }

    // ---------------------------------------------------------------- models, inference, statistics

    pub async fn list_models(&self) -> reqwest::Response {
        self.get("/v1/models").await
    }

    pub async fn list_admin_models(&self, query: &str) -> reqwest::Response {
        self.get(&with_query("/v1/admin/models", query)).await
    }

    pub async fn create_model(&self, body: Value) -> reqwest::Response {
        self.send(Method::POST, "/v1/admin/models", Some(body))
            .await
    }

    /// `id` is `provider/model`.
    pub async fn update_model(&self, id: &str, body: Value) -> reqwest::Response {
        self.send(Method::PATCH, &format!("/v1/admin/models/{id}"), Some(body))
            .await
    }

    pub async fn bulk_toggle_models(&self, body: Value) -> reqwest::Response {
        self.send(Method::POST, "/v1/admin/models/bulk", Some(body))
            .await
    }

    pub async fn sync_openrouter_models(&self) -> reqwest::Response {
        self.send(Method::POST, "/v1/admin/models/sync", None).await
    }

    pub async fn list_aliases(&self) -> reqwest::Response {
        self.get("/v1/admin/aliases").await
    }

    pub async fn put_alias(&self, alias: &str, body: Value) -> reqwest::Response {
        self.send(
            Method::PUT,
            &format!("/v1/admin/aliases/{alias}"),
            Some(body),
        )
        .await
    }

    pub async fn delete_alias(&self, alias: &str) -> reqwest::Response {
        self.send(Method::DELETE, &format!("/v1/admin/aliases/{alias}"), None)
            .await
    }

    pub async fn chat(&self, body: &Value) -> reqwest::Response {
        self.send(Method::POST, "/v1/chat/completions", Some(body.clone()))
            .await
    }

    /// `POST /v1/messages` as the Anthropic SDKs send it: the credential in `x-api-key`, with
    /// `anthropic-version`.
    pub async fn messages(&self, body: &Value) -> reqwest::Response {
        self.anthropic("/v1/messages", body).await
    }

    /// `POST /v1/messages/count_tokens`, as [`messages`](Self::messages).
    pub async fn count_tokens(&self, body: &Value) -> reqwest::Response {
        self.anthropic("/v1/messages/count_tokens", body).await
    }

    async fn anthropic(&self, path: &str, body: &Value) -> reqwest::Response {
        let mut req = self
            .app
            .client
            .post(self.app.url(path))
            .header("anthropic-version", "2023-06-01")
            .json(body);
        if let Some(t) = self.token {
            req = req.header("x-api-key", t);
        }
        req.send().await.unwrap()
    }

    pub async fn global_stats(&self, query: &str) -> reqwest::Response {
        self.get(&with_query("/v1/stats", query)).await
    }

    pub async fn request_log(&self, query: &str) -> reqwest::Response {
        self.get(&with_query("/v1/requests", query)).await
    }
}
