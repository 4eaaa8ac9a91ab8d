//! CSV renderings (RFC 4180, CRLF line ends, header row) of a statistics report and of the request log.
//! Costs are exact decimal US dollars from the integer nano-dollars. Text that a spreadsheet would run as a
//! formula (`=`, `+`, `-`, `@` first — model names come from clients) is prefixed with `'`.

use gaia_core::GaiaError;
use gaia_store::usage::{StoredUsageRecord, UsageTotals};

use crate::query::GroupBy;
use crate::service::{StatsReport, avg_latency_ms};

/// The representation a caller asked for with `?format=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExportFormat {
    #[default]
    Json,
    Csv,
}

impl ExportFormat {
    /// Parses `format` (`json` or `csv`, default `json`).
    pub fn parse(value: Option<&str>) -> Result<Self, GaiaError> {
        match value.map(str::trim).filter(|s| !s.is_empty()) {
            None | Some("json") => Ok(ExportFormat::Json),
            Some("csv") => Ok(ExportFormat::Csv),
            Some(other) => Err(GaiaError::invalid_request(format!(
                "`format` must be 'json' or 'csv', got '{other}'"
            ))
            .with_param("format")),
        }
    }
}

/// Nano-dollars as an exact decimal (`1234567` → `0.001234567`).
pub fn usd_decimal(nanos: i64) -> String {
    let sign = if nanos < 0 { "-" } else { "" };
    let abs = nanos.unsigned_abs();
    format!("{sign}{}.{:09}", abs / 1_000_000_000, abs % 1_000_000_000)
}

/// One text field, quoted when needed and defused against formula injection.
fn text(s: &str) -> String {
    let defused = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

fn line(out: &mut String, fields: &[String]) {
    out.push_str(&fields.join(","));
    out.push_str("\r\n");
}

fn totals_fields(t: &UsageTotals) -> [String; 11] {
    [
        t.requests.to_string(),
        t.prompt_tokens.to_string(),
        t.completion_tokens.to_string(),
        t.total_tokens.to_string(),
        usd_decimal(t.cost_nanos),
        t.errors.to_string(),
        avg_latency_ms(t).to_string(),
        t.unpriced_requests.to_string(),
        t.cached_tokens.to_string(),
        t.cache_creation_tokens.to_string(),
        t.reasoning_tokens.to_string(),
    ]
}

/// The report's breakdown chosen by its `group_by`: `by_date` rows for day/week/month, `by_model` or
/// `by_provider` rows otherwise.
pub fn stats_csv(report: &StatsReport) -> String {
    let (label, groups) = match report.query.group_by {
        GroupBy::Day | GroupBy::Week | GroupBy::Month => ("date", &report.by_date),
        GroupBy::Model => ("model", &report.by_model),
        GroupBy::Provider => ("provider", &report.by_provider),
    };
    let mut out = String::new();
    let header = [
        label,
        "requests",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "cost",
        "errors",
        "avg_latency_ms",
        // Added last, so existing column positions hold.
        "unpriced_requests",
        "cached_tokens",
        "cache_creation_tokens",
        "reasoning_tokens",
    ];
    line(&mut out, &header.map(str::to_owned));
    for g in groups {
        let mut fields = vec![text(&g.label)];
        fields.extend(totals_fields(&g.totals));
        line(&mut out, &fields);
    }
    out
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The request log, one record per row, in the given order.
pub fn requests_csv(records: &[StoredUsageRecord]) -> String {
    let mut out = String::with_capacity(200 * (records.len() + 1));
    let header = [
        "id",
        "request_id",
        "created_at",
        "api_key_id",
        "organization_id",
        "model",
        "model_served",
        "provider",
        "stream",
        "status_code",
        "error_code",
        "prompt_tokens",
        "completion_tokens",
        "cached_tokens",
        "total_tokens",
        "cost",
        "estimated",
        "upstream_latency_ms",
        "ttft_ms",
        "total_latency_ms",
        // Added last, so existing column positions hold.
        "attempts",
        "unpriced",
        "api",
        "cache_creation_tokens",
        "reasoning_tokens",
    ];
    line(&mut out, &header.map(str::to_owned));
    for s in records {
        let r = &s.record;
        let fields = [
            s.id.to_string(),
            text(&r.request_id),
            r.created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            text(r.api_key_id.as_deref().unwrap_or("")),
            text(r.organization_id.as_deref().unwrap_or("")),
            text(&r.model_requested),
            text(r.model_served.as_deref().unwrap_or("")),
            text(r.provider.as_deref().unwrap_or("")),
            r.stream.to_string(),
            r.status_code.to_string(),
            text(r.error_code.as_deref().unwrap_or("")),
            r.prompt_tokens.to_string(),
            r.completion_tokens.to_string(),
            r.cached_tokens.to_string(),
            r.total_tokens.to_string(),
            usd_decimal(r.cost_nanos),
            r.estimated.to_string(),
            opt(r.upstream_latency_ms),
            opt(r.ttft_ms),
            r.total_latency_ms.to_string(),
            opt(r.attempts),
            r.unpriced.to_string(),
            r.api.as_str().to_owned(),
            r.cache_creation_tokens.to_string(),
            r.reasoning_tokens.to_string(),
        ];
        line(&mut out, &fields);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::{Period, Scope};
    use crate::service::{Group, StatsQuery};
    use chrono::NaiveDate;

    #[test]
    fn costs_are_exact_decimals() {
        assert_eq!(usd_decimal(0), "0.000000000");
        assert_eq!(usd_decimal(450_000), "0.000450000");
        assert_eq!(usd_decimal(12_345_678_901), "12.345678901");
        assert_eq!(usd_decimal(-5), "-0.000000005");
    }

    #[test]
    fn text_fields_are_quoted_and_defused() {
        assert_eq!(text("gpt-4o"), "gpt-4o");
        assert_eq!(text("a,b"), "\"a,b\"");
        assert_eq!(text("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(text("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(text("-1"), "'-1");
    }

    #[test]
    fn a_report_exports_one_row_per_date_bucket_under_a_header() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let report = StatsReport {
            query: StatsQuery {
                scope: Scope::Global,
                period: Period::new(day, day).unwrap(),
                group_by: GroupBy::Day,
            },
            summary: UsageTotals::default(),
            keys: None,
            by_date: vec![Group {
                label: "2026-11-01".into(),
                totals: UsageTotals {
                    requests: 2,
                    errors: 1,
                    prompt_tokens: 10,
                    completion_tokens: 5,
                    cached_tokens: 0,
                    total_tokens: 15,
                    cost_nanos: 1_500,
                    total_latency_ms_sum: 30,
                    unpriced_requests: 0,
                    cache_creation_tokens: 0,
                    reasoning_tokens: 0,
                },
            }],
            by_model: vec![],
            by_provider: vec![],
        };
        assert_eq!(
            stats_csv(&report),
            "date,requests,prompt_tokens,completion_tokens,total_tokens,cost,errors,avg_latency_ms,unpriced_requests,\
             cached_tokens,cache_creation_tokens,reasoning_tokens\r\n\
             2026-11-01,2,10,5,15,0.000001500,1,15,0,0,0,0\r\n"
        );
    }

    #[test]
    fn the_request_log_appends_the_api_and_the_token_breakdown_as_its_last_columns() {
        use chrono::TimeZone;
        use gaia_core::InboundApi;
        use gaia_store::usage::NewUsageRecord;
        let record = StoredUsageRecord {
            id: 7,
            record: NewUsageRecord {
                request_id: "req-7".into(),
                created_at: chrono::Utc.with_ymd_and_hms(2026, 12, 5, 10, 0, 0).unwrap(),
                api_key_id: None,
                organization_id: None,
                model_requested: "anthropic/claude-sonnet-4-5".into(),
                model_served: Some("anthropic/claude-sonnet-4-5".into()),
                provider: Some("anthropic".into()),
                stream: true,
                status_code: 200,
                error_code: None,
                prompt_tokens: 1000,
                completion_tokens: 200,
                cached_tokens: 300,
                total_tokens: 1200,
                cost_nanos: 1_500,
                estimated: false,
                upstream_latency_ms: Some(40),
                ttft_ms: Some(12),
                total_latency_ms: 50,
                attempts: Some(1),
                unpriced: false,
                api: InboundApi::Messages,
                cache_creation_tokens: 100,
                reasoning_tokens: 60,
            },
        };
        let csv = requests_csv(&[record]);
        let mut lines = csv.split("\r\n");
        assert_eq!(
            lines.next(),
            Some(
                "id,request_id,created_at,api_key_id,organization_id,model,model_served,provider,stream,\
                 status_code,error_code,prompt_tokens,completion_tokens,cached_tokens,total_tokens,cost,\
                 estimated,upstream_latency_ms,ttft_ms,total_latency_ms,attempts,unpriced,api,\
                 cache_creation_tokens,reasoning_tokens"
            )
        );
        assert_eq!(
            lines.next(),
            Some(
                "7,req-7,2026-12-05T10:00:00.000Z,,,anthropic/claude-sonnet-4-5,anthropic/claude-sonnet-4-5,\
                 anthropic,true,200,,1000,200,300,1200,0.000001500,false,40,12,50,1,false,messages,100,60"
            )
        );
        assert_eq!(lines.next(), Some(""));
    }

    #[test]
    fn the_export_format_is_json_or_csv() {
        assert_eq!(ExportFormat::parse(None).unwrap(), ExportFormat::Json);
        assert_eq!(ExportFormat::parse(Some("csv")).unwrap(), ExportFormat::Csv);
        assert_eq!(
            ExportFormat::parse(Some("xml"))
                .unwrap_err()
                .param
                .as_deref(),
            Some("format")
        );
    }
}
