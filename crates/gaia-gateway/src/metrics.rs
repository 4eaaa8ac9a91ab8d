//! What the gateway counts about the requests it serves, for `/metrics` (the `prometheus` crate's
//! registry and text encoder).
//!
//! Every answered inference request is observed once, from the same facts as its usage record, so the two
//! always agree. Labels are of bounded cardinality by design: the API, the provider, the registered model
//! that served (never the name a client sent, which is unbounded), the channel's name and the status
//! class — never a key, user or organization id. Histograms carry only the API and the provider.

use gaia_providers::router::Attempts;
use gaia_store::usage::NewUsageRecord;
use prometheus::{CounterVec, Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

/// Latency buckets in seconds: 5 ms to 2 minutes.
const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

/// The request families.
pub struct GatewayMetrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
    ttft: HistogramVec,
    tokens: IntCounterVec,
    cost: CounterVec,
    upstream_errors: IntCounterVec,
    retries: IntCounterVec,
    fallbacks: IntCounterVec,
}

impl std::fmt::Debug for GatewayMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayMetrics").finish_non_exhaustive()
    }
}

impl Default for GatewayMetrics {
    fn default() -> Self {
        Self::new()
    }
}

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

impl GatewayMetrics {
    pub fn new() -> Self {
        // The names and help texts are constants: registering them cannot fail except by a bug, and a
        // bug here must not stop the gateway — a family that fails to register is simply not exported.
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels)
                .unwrap_or_else(|e| unreachable_family(name, &e));
            let _ = registry.register(Box::new(c.clone()));
            c
        };
        let histogram = |name: &str, help: &str| {
            let h = HistogramVec::new(
                HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec()),
                &["api", "provider"],
            )
            .unwrap_or_else(|e| unreachable_family(name, &e));
            let _ = registry.register(Box::new(h.clone()));
            h
        };
        let requests = counter(
            "gaia_requests_total",
            "Inference requests answered, by API, provider, served model, channel and status class (provider, model and channel are \"none\" when the request was refused before routing).",
            &["api", "provider", "model", "channel", "status"],
        );
        let duration = histogram(
            "gaia_request_duration_seconds",
            "Time from receiving an inference request to its last byte, by API and provider.",
        );
        let ttft = histogram(
            "gaia_time_to_first_token_seconds",
            "Streamed requests: time from receiving the request to the first event from the provider, by API and provider.",
        );
        let tokens = counter(
            "gaia_tokens_total",
            "Tokens billed, by provider, model and class: input (uncached prompt), cached_input, cache_write, output (reasoning included) and reasoning (the part of output spent reasoning).",
            &["provider", "model", "class"],
        );
        let cost = CounterVec::new(
            Opts::new(
                "gaia_cost_usd_total",
                "Cost of the requests served, in USD, by provider and model (registry prices).",
            ),
            &["provider", "model"],
        )
        .unwrap_or_else(|e| unreachable_family("gaia_cost_usd_total", &e));
        let _ = registry.register(Box::new(cost.clone()));
        let upstream_errors = counter(
            "gaia_upstream_errors_total",
            "Failed upstream calls, by provider, channel and kind: timeout, connect, rate_limited, auth, not_found, bad_request, server_error, busy (the channel's max_connections all in use), other.",
            &["provider", "channel", "kind"],
        );
        let retries = counter(
            "gaia_upstream_retries_total",
            "Upstream calls made for a target after its first (on another channel, or the same after a backoff), by API.",
            &["api"],
        );
        let fallbacks = counter(
            "gaia_fallbacks_total",
            "Times a request left a model for the next target of its alias, by API.",
            &["api"],
        );
        // Counters whose label values are known start at zero: a series that first appears at 1 hides its
        // first increment from rate() and increase().
        for api in gaia_core::InboundApi::ALL {
            retries.with_label_values(&[api.as_str()]);
            fallbacks.with_label_values(&[api.as_str()]);
        }
        Self {
            registry,
            requests,
            duration,
            ttft,
            tokens,
            cost,
            upstream_errors,
            retries,
            fallbacks,
        }
    }

    /// Counts one answered request: `record` is its usage record, `attempts` what routing did.
    pub fn observe(&self, record: &NewUsageRecord, attempts: &Attempts) {
        let api = record.api.as_str();
        let provider = record.provider.as_deref().unwrap_or("none");
        let model = record.model_served.as_deref().unwrap_or("none");
        let channel = attempts
            .channel
            .as_ref()
            .map_or("none", |c| c.name.as_str());
        self.requests
            .with_label_values(&[
                api,
                provider,
                model,
                channel,
                status_class(record.status_code),
            ])
            .inc();
        self.duration
            .with_label_values(&[api, provider])
            .observe(f64::from(record.total_latency_ms) / 1000.0);
        if let Some(ttft) = record.ttft_ms {
            self.ttft
                .with_label_values(&[api, provider])
                .observe(f64::from(ttft) / 1000.0);
        }
        if record.model_served.is_some() && record.total_tokens > 0 {
            let uncached = record
                .prompt_tokens
                .saturating_sub(record.cached_tokens)
                .saturating_sub(record.cache_creation_tokens);
            for (class, n) in [
                ("input", uncached),
                ("cached_input", record.cached_tokens),
                ("cache_write", record.cache_creation_tokens),
                ("output", record.completion_tokens),
                ("reasoning", record.reasoning_tokens),
            ] {
                if n > 0 {
                    self.tokens
                        .with_label_values(&[provider, model, class])
                        .inc_by(n);
                }
            }
        }
        if record.cost_nanos > 0 {
            self.cost
                .with_label_values(&[provider, model])
                .inc_by(record.cost_nanos as f64 / 1e9);
        }
        for (ch, kind) in &attempts.failures {
            self.upstream_errors
                .with_label_values(&[ch.provider.as_str(), ch.name.as_str(), kind])
                .inc();
        }
        if attempts.retries > 0 {
            self.retries
                .with_label_values(&[api])
                .inc_by(u64::from(attempts.retries));
        }
        if attempts.fallbacks > 0 {
            self.fallbacks
                .with_label_values(&[api])
                .inc_by(u64::from(attempts.fallbacks));
        }
    }

    /// Starts the upstream-error counters of these channels (provider, channel name) at zero for every
    /// failure kind, so the first failure of a kind shows in rate() and increase() (a series that first
    /// appears at 1 hides it). Called with the channel list on each scrape; known series are left as they
    /// are.
    pub fn know_channels<'a>(&self, channels: impl IntoIterator<Item = (&'a str, &'a str)>) {
        for (provider, channel) in channels {
            for kind in gaia_providers::router::FAILURE_KINDS {
                self.upstream_errors
                    .with_label_values(&[provider, channel, kind]);
            }
        }
    }

    /// The families in the Prometheus text format, appended to `out`.
    pub fn write_prometheus(&self, out: &mut String) {
        let mut buf = Vec::with_capacity(8 * 1024);
        if prometheus::TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .is_ok()
        {
            out.push_str(&String::from_utf8_lossy(&buf));
        }
    }
}

#[allow(
    clippy::panic,
    reason = "names and label sets are constants: only a programming error, caught by the unit test, gets here"
)]
fn unreachable_family(name: &str, e: &prometheus::Error) -> ! {
    // Only a malformed constant name or label set gets here: a programming error caught by the tests.
    panic!("metric family {name} is malformed: {e}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use gaia_core::InboundApi;

    fn record(status: u16) -> NewUsageRecord {
        NewUsageRecord {
            request_id: "r".into(),
            created_at: chrono::Utc::now(),
            api_key_id: Some("key-secret-id".into()),
            organization_id: Some("org-id".into()),
            model_requested: "whatever-the-client-sent".into(),
            model_served: Some("openai/gpt-4o-mini".into()),
            provider: Some("openai".into()),
            stream: true,
            status_code: status,
            error_code: None,
            prompt_tokens: 100,
            completion_tokens: 20,
            cached_tokens: 30,
            cache_creation_tokens: 10,
            reasoning_tokens: 5,
            api: InboundApi::Messages,
            total_tokens: 120,
            cost_nanos: 1_500_000,
            estimated: false,
            upstream_latency_ms: Some(40),
            ttft_ms: Some(12),
            total_latency_ms: 50,
            attempts: Some(1),
            unpriced: false,
        }
    }

    #[test]
    fn a_request_is_counted_in_every_family_without_ids_as_labels() {
        let m = GatewayMetrics::new();
        m.observe(&record(200), &Attempts::default());
        m.observe(&record(429), &Attempts::default());
        let mut out = String::new();
        m.write_prometheus(&mut out);
        for line in [
            r#"gaia_requests_total{api="messages",channel="none",model="openai/gpt-4o-mini",provider="openai",status="2xx"} 1"#,
            r#"gaia_requests_total{api="messages",channel="none",model="openai/gpt-4o-mini",provider="openai",status="4xx"} 1"#,
            r#"gaia_tokens_total{class="input",model="openai/gpt-4o-mini",provider="openai"} 120"#,
            r#"gaia_tokens_total{class="cached_input",model="openai/gpt-4o-mini",provider="openai"} 60"#,
            r#"gaia_tokens_total{class="reasoning",model="openai/gpt-4o-mini",provider="openai"} 10"#,
            r#"gaia_cost_usd_total{model="openai/gpt-4o-mini",provider="openai"} 0.003"#,
            r#"gaia_time_to_first_token_seconds_bucket{api="messages",provider="openai",le="0.025"} 2"#,
            r#"gaia_request_duration_seconds_count{api="messages",provider="openai"} 2"#,
        ] {
            assert!(out.contains(line), "{line} missing from\n{out}");
        }
        assert!(!out.contains("key-secret-id") && !out.contains("org-id"));
        assert!(!out.contains("whatever-the-client-sent"));
    }

    #[test]
    fn counters_with_known_labels_start_at_zero_so_a_first_increment_shows_in_rate() {
        let m = GatewayMetrics::new();
        m.know_channels([("openai", "default"), ("openai", "eu-key-2")]);
        let mut out = String::new();
        m.write_prometheus(&mut out);
        for api in InboundApi::ALL {
            for family in ["gaia_upstream_retries_total", "gaia_fallbacks_total"] {
                let line = format!("{family}{{api=\"{}\"}} 0", api.as_str());
                assert!(out.contains(&line), "{line} missing from\n{out}");
            }
        }
        for channel in ["default", "eu-key-2"] {
            for kind in gaia_providers::router::FAILURE_KINDS {
                let line = format!(
                    "gaia_upstream_errors_total{{channel=\"{channel}\",kind=\"{kind}\",provider=\"openai\"}} 0"
                );
                assert!(out.contains(&line), "{line} missing from\n{out}");
            }
        }
        // Knowing a channel again leaves its counts as they are.
        m.upstream_errors
            .with_label_values(&["openai", "default", "auth"])
            .inc();
        m.know_channels([("openai", "default")]);
        let mut out = String::new();
        m.write_prometheus(&mut out);
        assert!(out.contains(
            r#"gaia_upstream_errors_total{channel="default",kind="auth",provider="openai"} 1"#
        ));
    }
}
