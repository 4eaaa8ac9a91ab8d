//! API documentation pages served from the binary itself: Swagger UI (vendored by utoipa-swagger-ui) at
//! `/docs/`, ReDoc at `/redoc` (its standalone bundle is embedded), the OpenAPI document at `/openapi.json`.

use actix_web::HttpResponse;
use actix_web::http::header;

const REDOC_JS: &[u8] = include_bytes!("../../assets/redoc/redoc.standalone.js");

const REDOC_HTML: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>GaiaRouter API — ReDoc</title>
<style>body { margin: 0; padding: 0; }</style>
</head>
<body>
<redoc spec-url="/openapi.json" hide-download-button="false"></redoc>
<script src="/redoc/redoc.standalone.js"></script>
</body>
</html>
"#;

/// `/docs` → `/docs/` (Swagger UI lives under the trailing slash).
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

/// The ReDoc page.
pub async fn redoc_page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(REDOC_HTML)
}

/// The embedded ReDoc bundle.
pub async fn redoc_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(REDOC_JS)
}
