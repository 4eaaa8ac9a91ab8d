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
    // Every operation documents at least one response, names a tag and has an operationId of its own
    // (generated clients name their functions and types after it).
    let mut operation_ids = std::collections::HashMap::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_default();
            assert!(!id.is_empty(), "{method} {path} has no operationId");
            if let Some(other) = operation_ids.insert(id.to_owned(), format!("{method} {path}")) {
                panic!("operationId {id} names both {other} and {method} {path}");
            }
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

#[tokio::test]
async fn the_admin_ui_is_served_with_a_strict_content_security_policy() {
    // A minimal built UI: index.html plus a hashed asset.
    let ui = tempfile::tempdir().unwrap();
    std::fs::write(
        ui.path().join("index.html"),
        "<!doctype html><title>GaiaRouter</title><div id=app></div>",
    )
    .unwrap();
    std::fs::create_dir(ui.path().join("assets")).unwrap();
    std::fs::write(ui.path().join("assets/app-1a2b3c.js"), "console.log(1)").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut settings = gaiarouter::configuration::Settings::for_tests(
        &crate::helpers::test_database_url(dir.path()).await,
    )
    .unwrap();
    settings.static_dir = Some(ui.path().to_path_buf());
    let app = crate::helpers::spawn_with(settings, dir).await;
    // The SPA shell at / and at a deep link, with a CSP; API routes unaffected.
    for path in ["/", "/organizations/list"] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        let csp = res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        assert!(res.text().await.unwrap().contains("GaiaRouter"));
    }
    let asset = app.get("/assets/app-1a2b3c.js").await;
    assert_eq!(asset.status(), 200);
    assert!(
        asset.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=31536000")
    );
    let missing = app.get("/assets/missing.js").await;
    crate::helpers::assert_error_envelope(missing, 404).await;
    let api = app.get("/v1/nope").await;
    crate::helpers::assert_error_envelope(api, 404).await;
    // Swagger UI is left without the UI's CSP (it ships its own inline bootstrap).
    assert!(
        app.get("/docs/")
            .await
            .headers()
            .get("content-security-policy")
            .is_none()
    );
}

/// The OpenAPI document is committed (`docs/api/openapi.json`): a change to the public API shows in review
/// as a change to that file, and the admin UI's TypeScript types are generated from it
/// (`frontend/src/api/schema.d.ts`, `npm run gen:api`). The served document must equal it; after an
/// intended change, `GAIA_UPDATE_OPENAPI=1 cargo test -p gaiarouter --test api committed_openapi` rewrites
/// it (then run `npm run gen:api` in `frontend/`).
#[tokio::test]
async fn the_committed_openapi_document_is_the_one_served() {
    let app = spawn_app().await;
    let served: serde_json::Value = app.get("/openapi.json").await.json().await.unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/api/openapi.json");
    let pretty = serde_json::to_string_pretty(&served).unwrap() + "\n";
    if std::env::var_os("GAIA_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &pretty).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let committed: serde_json::Value = serde_json::from_str(&committed).unwrap_or_default();
    if committed != served {
        let changed: Vec<String> = served["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(p, v)| committed["paths"][p.as_str()] != **v)
            .map(|(p, _)| p.clone())
            .collect();
        panic!(
            "the served OpenAPI document differs from docs/api/openapi.json (paths changed: {changed:?}; \
             schemas may differ too). If the change is intended: GAIA_UPDATE_OPENAPI=1 cargo test -p \
             gaiarouter --test api committed_openapi, then `npm run gen:api` in frontend/"
        );
    }
}
