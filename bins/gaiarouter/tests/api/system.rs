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
