//! Liveness, readiness and request ids, on SQLite and PostgreSQL.

use crate::helpers::{Db, spawn_app, spawn_app_on};

async fn health_and_ready_answer(db: Db, expected_backend: &str) {
    let Some(app) = spawn_app_on(db).await else {
        return;
    };
    let res = app.get("/health").await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");

    let res = app.get("/ready").await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"], expected_backend);
}

#[tokio::test]
async fn health_and_ready_answer_on_sqlite() {
    health_and_ready_answer(Db::Sqlite, "sqlite").await;
}

#[tokio::test]
async fn health_and_ready_answer_on_postgres() {
    health_and_ready_answer(Db::Postgres, "postgres").await;
}

#[tokio::test]
async fn health_and_ready_answer_on_mysql() {
    health_and_ready_answer(Db::MySql, "mysql").await;
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let res = app.get("/health").await;
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(id.len() >= 16, "{id}");
    // Errors too.
    let res = app.get("/nope").await;
    assert!(res.headers().contains_key("x-request-id"));
}

#[tokio::test]
async fn an_incoming_request_id_is_honoured() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "trace-abc_123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-abc_123");
}

#[tokio::test]
async fn an_unsafe_incoming_request_id_is_replaced() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    assert_ne!(res.headers()["x-request-id"], "bad id with spaces");
}

#[tokio::test]
async fn cors_is_closed_by_default() {
    let app = spawn_app().await;
    let res = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/v1/models"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
    let res = app
        .client
        .get(app.url("/health"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn configured_origins_may_call_the_api_from_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = gaiarouter::configuration::Settings::for_tests(
        &crate::helpers::test_database_url(dir.path()).await,
    )
    .unwrap();
    settings.cors_origins = vec!["https://app.example.com".to_owned()];
    let app = crate::helpers::spawn_with(settings, dir).await;
    let res = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/v1/chat/completions"))
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let res = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/v1/chat/completions"))
        .header("origin", "https://other.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn responses_carry_security_headers() {
    let app = spawn_app().await;
    let res = app.get("/health").await;
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    assert_eq!(res.headers()["referrer-policy"], "no-referrer");
}
