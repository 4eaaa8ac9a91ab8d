//! Logging and tracing.
//!
//! Logs: `tracing` to stderr, JSON or human-readable, filtered by `RUST_LOG`.
//!
//! Traces: OpenTelemetry over OTLP/HTTP (protobuf), off unless `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set. The exporter reads the standard `OTEL_*` variables
//! itself (headers, timeout; the sampler from `OTEL_TRACES_SAMPLER`). Spans are the `tracing` spans of
//! target [`SPAN_TARGET`] — one per inference request, with children for admission, each upstream attempt
//! and recording — exported by `tracing-opentelemetry`; they never reach the log, and without an
//! endpoint no subscriber wants them, so they cost nothing. The W3C `traceparent` of a request is its
//! parent, and each upstream attempt passes its own on.

use std::future::Future;
use std::pin::Pin;

use opentelemetry::trace::TracerProvider as _;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::configuration::LogFormat;

/// Default filter when `RUST_LOG` is unset: our crates at info, noisy dependencies at warn.
pub const DEFAULT_FILTER: &str =
    "info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn,actix_server=warn";

/// The target of the spans exported as traces (and only of those).
pub const SPAN_TARGET: &str = gaia_providers::trace::SPAN_TARGET;

/// Keeps the trace exporter running; dropping it (or [`Telemetry::shutdown`]) flushes the spans left.
#[derive(Default)]
pub struct Telemetry {
    traces: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Telemetry {
    /// Sends the spans still buffered (at most the exporter's timeout).
    pub fn shutdown(&mut self) {
        if let Some(p) = self.traces.take()
            && let Err(e) = p.shutdown()
        {
            tracing::warn!(error = %e, "flushing the last traces failed");
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Whether traces are asked for: an OTLP endpoint is set.
fn traces_wanted() -> bool {
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|v| std::env::var(v).is_ok_and(|v| !v.trim().is_empty()))
}

/// The OTLP exporter and its tracer provider, from the `OTEL_*` variables.
pub fn trace_provider() -> Result<Option<opentelemetry_sdk::trace::SdkTracerProvider>, String> {
    use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _};
    if !traces_wanted() {
        return Ok(None);
    }
    let protocol = std::env::var("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        .or_else(|_| std::env::var("OTEL_EXPORTER_OTLP_PROTOCOL"))
        .unwrap_or_default();
    if !matches!(protocol.trim(), "" | "http/protobuf") {
        return Err(format!(
            "OTEL_EXPORTER_OTLP_PROTOCOL: '{protocol}' is not supported; GaiaRouter exports OTLP over HTTP with protobuf ('http/protobuf', the default)"
        ));
    }
    let client = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| format!("cannot build the OTLP HTTP client: {e}"))?;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_http_client(OtlpClient(client))
        .build()
        .map_err(|e| format!("OTEL_EXPORTER_OTLP_ENDPOINT: {e}"))?;
    let service = std::env::var("OTEL_SERVICE_NAME")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "gaiarouter".to_owned());
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(service)
        .with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            env!("CARGO_PKG_VERSION"),
        ))
        .build();
    // The batch processor exports from a thread of its own: the request path only queues spans.
    Ok(Some(
        opentelemetry_sdk::trace::SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build(),
    ))
}

/// Installs the global subscriber: the log, and the trace exporter when an OTLP endpoint is set. Safe
/// to call more than once (later calls are ignored). A bad OTLP setting is returned, to stop the start.
pub fn init(format: LogFormat) -> Result<Telemetry, String> {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    let traces = trace_provider()?;
    // Each layer has its own filter and there is no global one: the log's level filter (RUST_LOG, with the
    // trace spans' target switched off) and, when traces are exported, a filter that lets only those
    // spans through. Both decide once per call site, so a call site neither wants is never even checked
    // again: a global filter layer next to per-layer filters would turn those into checks at every call
    // (hyper's and actix's `trace!` — 42 per request, 2 % of its instructions, before this was changed).
    let mut log_only =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    if let Ok(d) = format!("{SPAN_TARGET}=off").parse() {
        log_only = log_only.add_directive(d);
    }
    // A line that cannot be written (stderr closed: the log collector went away) is dropped. By default
    // tracing-subscriber reports it with `eprintln!`, which panics on that same closed stderr — inside
    // every request and the shutdown task.
    let log = tracing_subscriber::fmt::layer()
        .log_internal_errors(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let log = match format {
        LogFormat::Json => log
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_filter(log_only)
            .boxed(),
        LogFormat::Pretty => log.compact().with_filter(log_only).boxed(),
    };
    let otel = traces.as_ref().map(|p| {
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("gaiarouter"))
            .with_filter(Targets::new().with_target(SPAN_TARGET, LevelFilter::TRACE))
    });
    let _ = tracing_subscriber::registry()
        .with(log)
        .with(otel)
        .try_init();
    Ok(Telemetry { traces })
}

/// The OTLP exporter's HTTP client: reqwest's blocking client (the batch processor exports from a thread
/// of its own, outside the async runtime), so no second HTTP stack is built in.
#[derive(Debug)]
struct OtlpClient(reqwest::blocking::Client);

impl opentelemetry_http::HttpClient for OtlpClient {
    fn send_bytes<'a, 'b>(
        &'a self,
        request: opentelemetry_http::Request<opentelemetry_http::Bytes>,
    ) -> Pin<
        Box<
            dyn Future<
                    Output = Result<
                        opentelemetry_http::Response<opentelemetry_http::Bytes>,
                        opentelemetry_http::HttpError,
                    >,
                > + Send
                + 'b,
        >,
    >
    where
        'a: 'b,
        Self: 'b,
    {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let response = self
                .0
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body.to_vec())
                .send()?;
            let mut out = opentelemetry_http::Response::builder().status(response.status());
            for (k, v) in response.headers() {
                out = out.header(k, v);
            }
            Ok(out.body(response.bytes()?)?)
        })
    }
}
