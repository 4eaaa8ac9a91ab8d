//! Per-request context: request id, one structured log line, and error-body normalisation.
//!
//! - `x-request-id`: an incoming one is honoured when it is short printable ASCII, else a UUIDv7 is made;
//!   it is echoed on the response and attached to every log line of the request (via a span).
//! - Errors produced outside our handlers (actix's own 404/405/413, a panic-free 500 …) arrive without a
//!   JSON body; they are rewritten into the OpenAI envelope so clients see one error format everywhere.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use tracing::Instrument;

use crate::error::{JSON, envelope_for_status};

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");

const UI_CSP: HeaderValue = HeaderValue::from_static(
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; \
     connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
);

/// The request's id, available to handlers through request extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The client's address (behind trusted proxies, the one they name: `client_addr`), available to
/// handlers through request extensions; `None` when the connection has no peer address.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<std::net::IpAddr>);

fn client_addr(req: &ServiceRequest) -> ClientAddr {
    let peer = req.peer_addr().map(|a| a.ip());
    let Some(state) = req.app_data::<actix_web::web::Data<crate::state::AppState>>() else {
        return ClientAddr(peer);
    };
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok());
    ClientAddr(state.settings.trusted_proxies.client(peer, forwarded))
}

fn acceptable_request_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    ok.then(|| s.to_owned())
}

/// A client address for the log, `-` when unknown.
struct DisplayClient(Option<std::net::IpAddr>);

impl std::fmt::Display for DisplayClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(ip) => ip.fmt(f),
            None => f.write_str("-"),
        }
    }
}

pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(acceptable_request_id)
        .unwrap_or_else(|| uuid::Uuid::now_v7().simple().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let client = client_addr(&req);
    req.extensions_mut().insert(client);
    let method = req.method().as_str().to_owned();
    let path = req.path().to_owned();
    let span = tracing::info_span!("request", request_id = %request_id, method = %method, path = %path,
        client = tracing::field::display(DisplayClient(client.0)));

    let res = next.call(req).instrument(span.clone()).await?;
    let status = res.status();
    let mut res = with_error_envelope(res, &method, &path);
    add_page_headers(&mut res, &path);
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(X_REQUEST_ID.clone(), v);
    }
    let latency_us = started.elapsed().as_micros() as u64;
    span.in_scope(|| {
        if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), latency_us, "request finished");
        } else {
            tracing::info!(status = status.as_u16(), latency_us, "request finished");
        }
    });
    Ok(res)
}

fn content_type_starts_with(res: &ServiceResponse<impl MessageBody>, prefix: &str) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(prefix))
}

/// A 4xx or 5xx that is not JSON (actix's own answers: no route, wrong method, …) gets the error
/// envelope, so every error a client sees has the same shape.
fn with_error_envelope(
    res: ServiceResponse<impl MessageBody + 'static>,
    method: &str,
    path: &str,
) -> ServiceResponse<BoxBody> {
    let status = res.status();
    let needs_envelope = status.is_client_error() || status.is_server_error();
    if !needs_envelope || content_type_starts_with(&res, "application/json") {
        return res.map_into_boxed_body();
    }
    let error = envelope_for_status(status, method, path);
    // The Messages API routes answer in Anthropic's envelope, like their handlers.
    let envelope = if path.starts_with("/v1/messages") {
        gaia_adapters::anthropic::inbound::error_envelope(&error, None)
    } else {
        error.to_envelope()
    }
    .to_string();
    let mut res = res.map_body(|_, _| BoxBody::new(envelope));
    res.headers_mut().insert(header::CONTENT_TYPE, JSON);
    res.headers_mut().remove(header::CONTENT_LENGTH);
    res
}

/// The admin UI's pages get a strict content security policy (the API docs pages load their own
/// bundles and workers and are left as their authors built them); the UI's build output under
/// `/assets/` is content-hashed, so it is cached for a year.
fn add_page_headers(res: &mut ServiceResponse<BoxBody>, path: &str) {
    let is_html = content_type_starts_with(res, "text/html");
    if is_html && !path.starts_with("/docs") && !path.starts_with("/redoc") {
        res.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, UI_CSP);
    }
    if path.starts_with("/assets/") && res.status().is_success() {
        res.headers_mut().insert(header::CACHE_CONTROL, IMMUTABLE);
    }
}

/// Marks everything an inference request does while it is served — extractors (authentication) and the
/// handler — so database statements executed on its path are counted apart (`gaia_db_statements_total`
/// on `GET /metrics`; there should be none once keys are cached).
pub async fn on_request_path(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let span = server_span(&req);
    let res = gaia_store::metrics::on_request_path(next.call(req))
        .instrument(span.clone())
        .await;
    if !span.is_disabled()
        && let Ok(r) = &res
    {
        span.record("http.response.status_code", i64::from(r.status().as_u16()));
        if r.status().is_server_error() {
            span.record("otel.status_code", "ERROR");
        }
    }
    res
}

/// The trace span of an inference request (an OpenTelemetry server span), child of the caller's
/// `traceparent` when it sent one. Disabled — and free — unless traces are exported. The pipeline fills in
/// the GenAI attributes once it knows them.
fn server_span(req: &ServiceRequest) -> tracing::Span {
    use tracing::field::Empty;
    let span = tracing::info_span!(
        target: "gaia_trace",
        "request",
        otel.name = %format_args!("{} {}", req.method(), req.match_pattern().as_deref().unwrap_or(req.path())),
        otel.kind = "server",
        http.request.method = %req.method(),
        url.path = %req.path(),
        http.response.status_code = Empty,
        gen_ai.operation.name = Empty,
        gen_ai.system = Empty,
        gen_ai.provider.name = Empty,
        gen_ai.request.model = Empty,
        gen_ai.response.model = Empty,
        gen_ai.usage.input_tokens = Empty,
        gen_ai.usage.output_tokens = Empty,
        gaia.request_id = Empty,
        gaia.channel = Empty,
        gaia.attempts = Empty,
        error.type = Empty,
        otel.status_code = Empty,
    );
    if !span.is_disabled() {
        use tracing_opentelemetry::OpenTelemetrySpanExt as _;
        let parent = opentelemetry::global::get_text_map_propagator(|p| {
            p.extract(&RequestHeaders(req.headers()))
        });
        let _ = span.set_parent(parent);
    }
    span
}

/// A request's headers as the trace propagator reads them.
struct RequestHeaders<'a>(&'a actix_web::http::header::HeaderMap);

impl opentelemetry::propagation::Extractor for RequestHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}
