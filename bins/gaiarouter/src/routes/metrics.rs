//! `GET /metrics` — the gateway's counters in the Prometheus text format, for operators' scrapers.

use std::fmt::Write as _;

use actix_web::{HttpResponse, web};

use crate::auth::AdminOnly;
use crate::error::ApiError;
use crate::state::AppState;

/// Operational counters in the Prometheus text exposition format (version 0.0.4).
///
/// Needs the admin permission (a scraper sends `Authorization: Bearer <admin key>`). Counters are per
/// instance and start at zero when it starts:
/// `gaia_db_statements_total{path="request"}` — database statements run while serving
/// `/v1/chat/completions` or `/v1/models` (0 once keys are cached and limit blocks are claimed ahead);
/// `gaia_db_statements_total{path="other"}` — everything else (usage writer, refresh loops, management);
/// `gaia_usage_records_written_total`, `gaia_usage_records_dropped_total`, `gaia_usage_records_queued`,
/// `gaia_usage_records_rejected_total` (refused by the database even alone; kept in `usage_rejects`),
/// `gaia_auth_unknown_keys_total{answered="memory"|"database"}` (made-up keys, and how they were refused),
/// `gaia_usage_write_failures_total`, `gaia_usage_batches_written_total` — the usage sink;
/// `gaia_request_overhead_seconds` (histogram) — per answered inference request, the time GaiaRouter itself
/// added: from the route receiving the request to handing back the response (its headers, for a stream),
/// minus the time spent waiting on the provider (and between retries);
/// `gaia_limiter_refusals_total{scope="key"|"organization",limit="rate"|"quota"}` — requests refused by a
/// per-minute (`rate`) or monthly (`quota`) limit; `gaia_limiter_local_fallbacks_total` — per-minute checks
/// made on this instance's own buckets because Redis was unreachable (`GAIA_REDIS_FAILURE=open`);
/// `gaia_limiter_unavailable_refusals_total` — requests refused for that reason (`closed`);
/// `gaia_database_up`; with `GAIA_REDIS_URL`: `gaia_redis_up`, `gaia_redis_errors_total`,
/// `gaia_cluster_events_total{direction="published"|"received"}`, `gaia_cluster_subscriptions_total`;
/// `gaia_channel_state{provider,channel,state}` (1 for the circuit's current state) and
/// `gaia_channel_opened_total{provider,channel}`;
/// `gaia_requests_total{api,provider,model,channel,status}` (status class `2xx`, `4xx`, `5xx`),
/// `gaia_request_duration_seconds{api,provider}` and `gaia_time_to_first_token_seconds{api,provider}`
/// (histograms), `gaia_tokens_total{provider,model,class}` (`input`, `cached_input`, `cache_write`,
/// `output`, `reasoning`), `gaia_cost_usd_total{provider,model}`,
/// `gaia_upstream_errors_total{provider,channel,kind}`, `gaia_upstream_retries_total{api}`,
/// `gaia_fallbacks_total{api}`. No label ever holds a key, user or organization id (docs/api/metrics.md).
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "system",
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain; version=0.0.4", body = String),
        (status = 401, description = "Missing or invalid credentials", body = crate::routes::schemas::ErrorBody),
        (status = 403, description = "The caller lacks the admin permission", body = crate::routes::schemas::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn metrics(
    _admin: AdminOnly,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut out = Exposition(String::with_capacity(1024));
    database_and_auth(&state, &mut out);
    usage_sink(&state, &mut out);
    limits_and_health(&state, &mut out).await;
    channels(&state, &mut out).await;
    state.pipeline.metrics().write_prometheus(&mut out.0);
    state.overhead.write_prometheus(
        &mut out.0,
        "gaia_request_overhead_seconds",
        "Time GaiaRouter itself added to each answered inference request: time on the route minus time waiting on the provider.",
    );
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(out.0))
}

/// A label value escaped as the text format wants it.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Each channel's circuit: its state (1 for the current one of `closed`, `open`, `half_open`, `disabled`)
/// and how often it opened. Each channel's upstream-error counters start at zero for every kind.
async fn channels(state: &AppState, out: &mut Exposition) {
    let Ok(all) = state.models.list_channels().await else {
        return;
    };
    state
        .pipeline
        .metrics()
        .know_channels(all.iter().map(|c| (c.provider.as_str(), c.name.as_str())));
    let mut states = Vec::with_capacity(all.len() * 4);
    let mut opened = Vec::with_capacity(all.len());
    for c in &all {
        let l = format!(
            "provider=\"{}\",channel=\"{}\"",
            label(&c.provider),
            label(&c.name)
        );
        for s in ["closed", "open", "half_open", "disabled"] {
            states.push((
                format!("{{{l},state=\"{s}\"}}"),
                u64::from(c.health.state == s),
            ));
        }
        opened.push((format!("{{{l}}}"), c.health.opened));
    }
    out.family(
        "gaia_channel_state",
        "gauge",
        "Each channel's circuit: 1 for its current state (closed: healthy; open: failing, not used until its cooldown ends; half_open: one probe may go through; disabled).",
        &as_refs(&states),
    );
    out.family(
        "gaia_channel_opened_total",
        "counter",
        "Times each channel's circuit opened on this instance.",
        &as_refs(&opened),
    );
}

fn as_refs(v: &[(String, u64)]) -> Vec<(&str, u64)> {
    v.iter().map(|(l, n)| (l.as_str(), *n)).collect()
}

/// Prometheus text exposition, one metric family at a time.
struct Exposition(String);

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str, samples: &[(&str, u64)]) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(self.0, "{name}{labels} {value}");
        }
    }
}

fn database_and_auth(state: &AppState, out: &mut Exposition) {
    let db = state.store.statement_counts();
    out.family(
        "gaia_db_statements_total",
        "counter",
        "Database statements executed, by where they ran (request = while serving an inference request).",
        &[
            ("{path=\"request\"}", db.request_path),
            ("{path=\"other\"}", db.other),
        ],
    );
    let unknown = state.keys.unknown_keys();
    out.family(
        "gaia_auth_unknown_keys_total",
        "counter",
        "Well-formed API keys that exist nowhere, by how they were refused: from memory (remembered as absent, or past the lookup budget) or after a database lookup.",
        &[
            ("{answered=\"memory\"}", unknown.from_memory),
            ("{answered=\"database\"}", unknown.from_database),
        ],
    );
}

fn usage_sink(state: &AppState, out: &mut Exposition) {
    let usage = state.usage.counters();
    let families: [(&str, &str, &str, u64); 6] = [
        (
            "gaia_usage_records_written_total",
            "counter",
            "Usage records written to the database.",
            usage.written,
        ),
        (
            "gaia_usage_batches_written_total",
            "counter",
            "Batches of usage records written.",
            usage.batches,
        ),
        (
            "gaia_usage_records_dropped_total",
            "counter",
            "Usage records dropped because the queue was full (statistics and limits under-count).",
            usage.dropped,
        ),
        (
            "gaia_usage_records_rejected_total",
            "counter",
            "Usage records the database refused even alone, set aside in the usage_rejects table (the others are written).",
            usage.rejected,
        ),
        (
            "gaia_usage_write_failures_total",
            "counter",
            "Failed attempts to write a batch (transient ones are retried; refused rows split the batch).",
            usage.failed_attempts,
        ),
        (
            "gaia_usage_records_queued",
            "gauge",
            "Usage records waiting to be written, including the batch being written.",
            usage.queued + usage.in_flight,
        ),
    ];
    for (name, kind, help, value) in families {
        out.family(name, kind, help, &[("", value)]);
    }
}

async fn limits_and_health(state: &AppState, out: &mut Exposition) {
    let l = state.limiter.stats();
    out.family(
        "gaia_limiter_refusals_total",
        "counter",
        "Requests refused by a limit, by whose limit (key or organization) and which (rate: per minute; quota: monthly requests, tokens or cost).",
        &[
            ("{scope=\"key\",limit=\"rate\"}", l.rate_refusals.0),
            ("{scope=\"organization\",limit=\"rate\"}", l.rate_refusals.1),
            ("{scope=\"key\",limit=\"quota\"}", l.quota_refusals.0),
            ("{scope=\"organization\",limit=\"quota\"}", l.quota_refusals.1),
        ],
    );
    out.family(
        "gaia_limiter_local_fallbacks_total",
        "counter",
        "Per-minute checks made on this instance's own buckets because Redis was unreachable (GAIA_REDIS_FAILURE=open).",
        &[("", l.local_fallbacks)],
    );
    out.family(
        "gaia_limiter_unavailable_refusals_total",
        "counter",
        "Requests refused because Redis was unreachable and GAIA_REDIS_FAILURE=closed.",
        &[("", l.shared_unavailable)],
    );
    let db_up = tokio::time::timeout(std::time::Duration::from_secs(2), state.store.ping())
        .await
        .is_ok_and(|r| r.is_ok());
    out.family(
        "gaia_database_up",
        "gauge",
        "1 when the database answered this scrape's ping within 2 s.",
        &[("", u64::from(db_up))],
    );
    let Some(cluster) = &state.cluster else {
        return;
    };
    let c = cluster.stats();
    out.family(
        "gaia_redis_up",
        "gauge",
        "1 while Redis answers (probed every second); 0 while per-minute limits fall back or refuse.",
        &[("", u64::from(c.up))],
    );
    out.family(
        "gaia_redis_errors_total",
        "counter",
        "Redis commands that failed or timed out.",
        &[("", c.errors)],
    );
    out.family(
        "gaia_cluster_events_total",
        "counter",
        "Change events (keys, models, channels) announced to or received from other instances.",
        &[
            ("{direction=\"published\"}", c.events_published),
            ("{direction=\"received\"}", c.events_received),
        ],
    );
    out.family(
        "gaia_cluster_subscriptions_total",
        "counter",
        "Times the change-event subscription was established (more than 1: it dropped and came back).",
        &[("", c.subscriptions)],
    );
}
