//! The admin UI (the built `frontend/dist`) at `/`, with history-mode fallback to `index.html` for
//! extension-less paths. Hashed assets under `/assets/` are cached for a year; `index.html` never is.

use std::path::{Path, PathBuf};

use actix_files::{Files, NamedFile};
use actix_web::dev::{ServiceRequest, ServiceResponse, fn_service};
use actix_web::http::header::{self, HeaderValue};

use crate::error::{ApiError, envelope_for_status};

pub fn service(dir: &Path) -> Files {
    let index: PathBuf = dir.join("index.html");
    Files::new("/", dir)
        .index_file("index.html")
        .use_etag(true)
        .use_last_modified(true)
        .default_handler(fn_service(move |req: ServiceRequest| {
            let index = index.clone();
            async move {
                let (req, _) = req.into_parts();
                let path = req.path().to_owned();
                // API-looking and asset-looking paths get a real 404, not the SPA shell.
                let is_api = path.starts_with("/v1/") || path == "/v1";
                let has_extension = path.rsplit('/').next().is_some_and(|seg| seg.contains('.'));
                if is_api || has_extension {
                    let err = ApiError(envelope_for_status(
                        actix_web::http::StatusCode::NOT_FOUND,
                        req.method().as_str(),
                        &path,
                    ));
                    let res = actix_web::ResponseError::error_response(&err);
                    return Ok(ServiceResponse::new(req, res));
                }
                let file = NamedFile::open(&index)?;
                let mut res = file.into_response(&req);
                res.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
                Ok(ServiceResponse::new(req, res))
            }
        }))
}
