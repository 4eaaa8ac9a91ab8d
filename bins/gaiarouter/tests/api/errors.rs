//! Errors always leave in the OpenAI envelope with the right status.

use crate::helpers::{assert_error_envelope, spawn_app};

#[tokio::test]
async fn unknown_routes_get_a_404_envelope() {
    let app = spawn_app().await;
    let error = assert_error_envelope(app.get("/v1/does-not-exist").await, 404).await;
    assert_eq!(error["type"], "invalid_request_error");
    assert_eq!(error["code"], "unknown_route");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("/v1/does-not-exist")
    );
}

#[tokio::test]
async fn a_wrong_method_gets_a_405_envelope() {
    let app = spawn_app().await;
    let res = app.client.delete(app.url("/health")).send().await.unwrap();
    let error = assert_error_envelope(res, 405).await;
    assert_eq!(error["code"], "method_not_allowed");
}
