//! Trace context for upstream calls: each attempt is a span (see [`attempt_span`]) whose W3C
//! `traceparent` goes with the request, so a provider's own traces join the caller's. Without a trace
//! exporter (no `OTEL_EXPORTER_OTLP_ENDPOINT`) the spans are disabled and nothing is added.

use opentelemetry::propagation::Injector;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// The `tracing` target of every span exported as a trace.
pub const SPAN_TARGET: &str = "gaia_trace";

/// The span of one upstream call (an OpenTelemetry client span with GenAI attributes).
pub fn attempt_span(operation: &str, system: &str, model: &str, channel: &str) -> tracing::Span {
    tracing::info_span!(
        target: "gaia_trace",
        "upstream",
        otel.name = %format_args!("{operation} {model}"),
        otel.kind = "client",
        gen_ai.operation.name = operation,
        gen_ai.system = system,
        gen_ai.provider.name = system,
        gen_ai.request.model = model,
        gaia.channel = channel,
        error.type = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
    )
}

/// Marks `span` failed with `code`.
pub fn failed(span: &tracing::Span, code: &str) {
    span.record("error.type", code);
    span.record("otel.status_code", "ERROR");
}

struct Headers<'a>(&'a mut HeaderMap);

impl Injector for Headers<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// The current span's trace context as headers (`traceparent`, `tracestate`); none when tracing is off.
pub fn context_headers() -> Option<HeaderMap> {
    let span = tracing::Span::current();
    if span.is_disabled() {
        return None;
    }
    let cx = span.context();
    let mut headers = HeaderMap::new();
    opentelemetry::global::get_text_map_propagator(|p| {
        p.inject_context(&cx, &mut Headers(&mut headers));
    });
    (!headers.is_empty()).then_some(headers)
}
