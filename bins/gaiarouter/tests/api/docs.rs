//! Swagger UI, ReDoc and the OpenAPI document are served from the binary itself.

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_openapi_document_is_valid_3_1_with_a_bearer_scheme() {
    let app = spawn_app().await;
    let res = app.get("/openapi.json").await;
    assert_eq!(res.status(), 200);
    let doc: serde_json::Value = res.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "GaiaRouter API");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let paths = doc["paths"].as_object().unwrap();
    for path in ["/health", "/ready"] {
        assert!(paths.contains_key(path), "{path} missing from the document");
    }
    // Every operation documents at least one response and names a tag.
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path}"
            );
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{method} {path}"
            );
        }
    }
}

#[tokio::test]
async fn swagger_ui_is_served_offline_with_and_without_trailing_slash() {
    let app = spawn_app().await;
    let res = app.get("/docs").await;
    assert_eq!(res.status(), 308);
    assert_eq!(res.headers()["location"], "/docs/");
    let res = app.get("/docs/").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(
        !html.contains("cdn."),
        "Swagger UI must not load from a CDN"
    );
    // Its assets come from the binary.
    let js = app.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(js.status(), 200);
    assert!(js.bytes().await.unwrap().len() > 100_000);
    // And it points at our document.
    let init = app
        .get("/docs/swagger-initializer.js")
        .await
        .text()
        .await
        .unwrap();
    assert!(init.contains("/openapi.json"), "{init}");
}

#[tokio::test]
async fn redoc_is_served_offline() {
    let app = spawn_app().await;
    let res = app.get("/redoc").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("/openapi.json"));
    assert!(html.contains("/redoc/redoc.standalone.js"));
    assert!(!html.contains("https://"), "ReDoc must not load from a CDN");
    let js = app.get("/redoc/redoc.standalone.js").await;
    assert_eq!(js.status(), 200);
    assert!(js.bytes().await.unwrap().len() > 500_000);
}
