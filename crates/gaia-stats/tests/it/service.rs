//! Statistics, the request log, month-to-date usage and retention over a known data set, on SQLite,
//! PostgreSQL and MySQL.

use chrono::{NaiveDate, TimeZone, Utc};
use gaia_stats::query::TimeRange;
use gaia_stats::retention::{Purged, RetentionConfig};
use gaia_stats::{
    GroupBy, NewUsageRecord, Period, Scope, StatsQuery, StatsService, StatusFilter,
    UsageRecordFilter,
};
use gaia_store::responses::StoredResponse;

use crate::helpers::{ScratchDb, at, record};

fn d(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, day).unwrap()
}

/// Org A: key a1 on two models/providers over two days, key a2 once (failed). Org B: key b1 once.
/// One record in December, outside November's month.
fn data_set() -> Vec<NewUsageRecord> {
    let mut records = Vec::new();
    let mut push = |mut r: NewUsageRecord, created: chrono::DateTime<Utc>| {
        r.created_at = created;
        records.push(r);
    };
    push(record(1, "a1", "org-a", "gpt-4o-mini", "openai"), at(2, 9));
    push(record(2, "a1", "org-a", "gpt-4o-mini", "openai"), at(2, 23));
    push(record(3, "a1", "org-a", "claude-x", "anthropic"), at(4, 0));
    let mut failed = record(4, "a2", "org-a", "claude-x", "anthropic");
    failed.status_code = 502;
    failed.prompt_tokens = 0;
    failed.completion_tokens = 0;
    failed.total_tokens = 0;
    failed.cost_nanos = 0;
    failed.total_latency_ms = 100;
    push(failed, at(4, 12));
    push(record(5, "b1", "org-b", "gpt-4o-mini", "openai"), at(3, 1));
    push(
        record(6, "a1", "org-a", "gpt-4o-mini", "openai"),
        Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap(),
    );
    records
}

async fn service_on(db: &ScratchDb) -> StatsService {
    let store = db.store().await;
    store.insert_usage_records(&data_set()).await.unwrap();
    StatsService::new(store)
}

async fn organization_statistics_add_up_per_day_model_and_provider(db: ScratchDb) {
    let stats = service_on(&db).await;
    let report = stats
        .stats(&StatsQuery {
            scope: Scope::Organization("org-a".into()),
            period: Period::new(d(1), d(7)).unwrap(),
            group_by: GroupBy::Day,
        })
        .await
        .unwrap();
    let s = report.summary;
    assert_eq!(
        (
            s.requests,
            s.errors,
            s.prompt_tokens,
            s.completion_tokens,
            s.total_tokens
        ),
        (4, 1, 30, 15, 45)
    );
    assert_eq!(s.cost_nanos, 3_000);
    assert_eq!(gaia_stats::service::avg_latency_ms(&s), 43.75);
    let by_date: Vec<_> = report
        .by_date
        .iter()
        .map(|g| (g.label.as_str(), g.totals.requests))
        .collect();
    assert_eq!(
        by_date,
        [
            ("2026-11-01", 0),
            ("2026-11-02", 2),
            ("2026-11-03", 0),
            ("2026-11-04", 2),
            ("2026-11-05", 0),
            ("2026-11-06", 0),
            ("2026-11-07", 0)
        ]
    );
    let by_model: Vec<_> = report
        .by_model
        .iter()
        .map(|g| (g.label.as_str(), g.totals.requests, g.totals.errors))
        .collect();
    assert_eq!(by_model, [("claude-x", 2, 1), ("gpt-4o-mini", 2, 0)]);
    let by_provider: Vec<_> = report
        .by_provider
        .iter()
        .map(|g| (g.label.as_str(), g.totals.cost_nanos))
        .collect();
    assert_eq!(by_provider, [("anthropic", 1_000), ("openai", 2_000)]);
    assert_eq!(report.keys, None);

    let key = stats
        .stats(&StatsQuery {
            scope: Scope::ApiKey("a1".into()),
            period: Period::new(d(1), d(30)).unwrap(),
            group_by: GroupBy::Week,
        })
        .await
        .unwrap();
    assert_eq!(key.summary.requests, 3);
    // 2026-10-26 is the Monday of the week containing 2026-11-01.
    assert_eq!(key.by_date[0].label, "2026-10-26");
    assert_eq!(key.by_date[1].label, "2026-11-02");
    assert_eq!(key.by_date[1].totals.requests, 3);
    assert_eq!(key.by_date.len(), 6);

    let global = stats
        .stats(&StatsQuery {
            scope: Scope::Global,
            period: Period::new(d(1), NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()).unwrap(),
            group_by: GroupBy::Month,
        })
        .await
        .unwrap();
    assert_eq!(global.summary.requests, 6);
    assert_eq!(global.by_date[0].label, "2026-11");
    assert_eq!(global.by_date[0].totals.requests, 5);
    assert_eq!(global.by_date[1].totals.requests, 1);
    assert_eq!(global.keys.map(|k| (k.total, k.active)), Some((0, 0)));
}

#[tokio::test]
async fn organization_statistics_add_up_per_day_model_and_provider_on_sqlite() {
    organization_statistics_add_up_per_day_model_and_provider(ScratchDb::sqlite().await).await;
}

#[tokio::test]
async fn organization_statistics_add_up_per_day_model_and_provider_on_postgres() {
    if let Some(db) = ScratchDb::postgres().await {
        organization_statistics_add_up_per_day_model_and_provider(db).await;
    }
}

#[tokio::test]
async fn organization_statistics_add_up_per_day_model_and_provider_on_mysql() {
    if let Some(db) = ScratchDb::mysql().await {
        organization_statistics_add_up_per_day_model_and_provider(db).await;
    }
}

async fn month_usage_counts_each_organization_and_key_in_its_calendar_month(db: ScratchDb) {
    let stats = service_on(&db).await;
    let november = stats.month_usage(d(17)).await.unwrap();
    assert_eq!(november.month, Some(d(1)));
    let a = november.organization("org-a");
    assert_eq!((a.requests, a.tokens, a.cost_nanos), (4, 45, 3_000));
    assert_eq!(november.key("a1").requests, 3);
    assert_eq!(november.key("a2").requests, 1);
    assert_eq!(november.organization("org-b").requests, 1);
    assert_eq!(november.organization("org-z").requests, 0);
    let december = stats
        .month_usage_of(
            &Scope::ApiKey("a1".into()),
            NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(december.requests, 1);
    let org_b = stats
        .month_usage_of(&Scope::Organization("org-b".into()), d(1))
        .await
        .unwrap();
    assert_eq!((org_b.requests, org_b.tokens), (1, 15));
}

#[tokio::test]
async fn month_usage_counts_each_organization_and_key_in_its_calendar_month_on_sqlite() {
    month_usage_counts_each_organization_and_key_in_its_calendar_month(ScratchDb::sqlite().await)
        .await;
}

#[tokio::test]
async fn month_usage_counts_each_organization_and_key_in_its_calendar_month_on_postgres() {
    if let Some(db) = ScratchDb::postgres().await {
        month_usage_counts_each_organization_and_key_in_its_calendar_month(db).await;
    }
}

#[tokio::test]
async fn month_usage_counts_each_organization_and_key_in_its_calendar_month_on_mysql() {
    if let Some(db) = ScratchDb::mysql().await {
        month_usage_counts_each_organization_and_key_in_its_calendar_month(db).await;
    }
}

async fn the_request_log_filters_and_pages_newest_first(db: ScratchDb) {
    let stats = service_on(&db).await;
    let all = stats
        .requests(&UsageRecordFilter::default(), 1, 4)
        .await
        .unwrap();
    assert_eq!((all.total, all.pages()), (6, 2));
    let ids: Vec<_> = all
        .items
        .iter()
        .map(|r| r.record.request_id.as_str())
        .collect();
    assert_eq!(ids, ["req-6", "req-4", "req-3", "req-5"]);

    let range = TimeRange::parse(Some("2026-11-02"), Some("2026-11-03")).unwrap();
    let filtered = stats
        .requests(
            &UsageRecordFilter {
                organization_id: Some("org-a".into()),
                model: Some("gpt-4o-mini".into()),
                provider: Some("openai".into()),
                status: Some(StatusFilter::Success),
                start: range.start,
                end_before: range.end_before,
                ..Default::default()
            },
            1,
            20,
        )
        .await
        .unwrap();
    let ids: Vec<_> = filtered
        .items
        .iter()
        .map(|r| r.record.request_id.as_str())
        .collect();
    assert_eq!(ids, ["req-2", "req-1"]);
    let errors = stats
        .requests(
            &UsageRecordFilter {
                api_key_id: Some("a2".into()),
                status: Some(StatusFilter::Code(502)),
                ..Default::default()
            },
            1,
            20,
        )
        .await
        .unwrap();
    assert_eq!(errors.total, 1);
    assert_eq!(errors.items[0].record.created_at, at(4, 12));
}

#[tokio::test]
async fn the_request_log_filters_and_pages_newest_first_on_sqlite() {
    the_request_log_filters_and_pages_newest_first(ScratchDb::sqlite().await).await;
}

#[tokio::test]
async fn the_request_log_filters_and_pages_newest_first_on_postgres() {
    if let Some(db) = ScratchDb::postgres().await {
        the_request_log_filters_and_pages_newest_first(db).await;
    }
}

#[tokio::test]
async fn the_request_log_filters_and_pages_newest_first_on_mysql() {
    if let Some(db) = ScratchDb::mysql().await {
        the_request_log_filters_and_pages_newest_first(db).await;
    }
}

/// A stored response of organization `org-a` created at `created_at`.
fn stored_response(id: &str, created_at: chrono::DateTime<Utc>) -> StoredResponse {
    StoredResponse {
        id: id.to_owned(),
        organization_id: Some("org-a".into()),
        api_key_id: Some("a1".into()),
        created_at,
        model: "openai/gpt-4o-mini".to_owned(),
        previous_response_id: None,
        status: "completed".to_owned(),
        input_items: serde_json::json!([{"role": "user", "content": "hi"}]),
        output: serde_json::json!({"id": id, "object": "response", "output": []}),
    }
}

async fn retention_deletes_old_raw_records_and_statistics_still_add_up(db: ScratchDb) {
    let stats = service_on(&db).await;
    let store = db.store().await;
    let responses = store.responses();
    for (id, created_at) in [
        ("resp_nov_2", at(2, 9)),
        (
            "resp_nov_29",
            Utc.with_ymd_and_hms(2026, 11, 29, 23, 59, 59).unwrap(),
        ),
        (
            "resp_nov_30",
            Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap(),
        ),
        (
            "resp_dec_1",
            Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap(),
        ),
    ] {
        responses
            .insert(&stored_response(id, created_at))
            .await
            .unwrap();
    }
    let now = Utc.with_ymd_and_hms(2026, 12, 5, 0, 0, 0).unwrap();
    // Keep 5 days (from November 30): everything earlier in November goes, December 1 stays — raw records
    // and stored responses alike.
    let deleted = gaia_stats::retention::purge(&store, 5, now).await.unwrap();
    assert_eq!(
        deleted,
        Purged {
            usage_records: 5,
            responses: 2
        }
    );
    assert_eq!(store.count_usage_records().await.unwrap(), 1);
    for (id, kept) in [
        ("resp_nov_2", false),
        ("resp_nov_29", false),
        ("resp_nov_30", true),
        ("resp_dec_1", true),
    ] {
        assert_eq!(
            responses.get(id, None).await.unwrap().is_some(),
            kept,
            "{id}"
        );
    }
    let report = stats
        .stats(&StatsQuery {
            scope: Scope::Global,
            period: Period::new(d(1), d(30)).unwrap(),
            group_by: GroupBy::Day,
        })
        .await
        .unwrap();
    assert_eq!(report.summary.requests, 5);
    // 0 keeps everything.
    assert_eq!(
        gaia_stats::retention::purge(&store, 0, now).await.unwrap(),
        Purged::default()
    );
    assert!(responses.get("resp_nov_30", None).await.unwrap().is_some());
}

/// The task started with the server deletes old stored responses at once (its first pass is at start-up)
/// and keeps the rest.
async fn the_retention_task_deletes_old_stored_responses(db: ScratchDb) {
    let store = db.store().await;
    let responses = store.responses();
    let now = Utc::now();
    responses
        .insert(&stored_response(
            "resp_old",
            now - chrono::TimeDelta::days(31),
        ))
        .await
        .unwrap();
    responses
        .insert(&stored_response(
            "resp_new",
            now - chrono::TimeDelta::days(29),
        ))
        .await
        .unwrap();
    let task = gaia_stats::retention::spawn(
        store.clone(),
        RetentionConfig {
            days: 30,
            ..RetentionConfig::default()
        },
    );
    let mut gone = false;
    for _ in 0..100 {
        if responses.get("resp_old", None).await.unwrap().is_none() {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    task.abort();
    assert!(
        gone,
        "the retention task did not delete the old stored response"
    );
    assert!(responses.get("resp_new", None).await.unwrap().is_some());
}

#[tokio::test]
async fn the_retention_task_deletes_old_stored_responses_on_sqlite() {
    the_retention_task_deletes_old_stored_responses(ScratchDb::sqlite().await).await;
}

#[tokio::test]
async fn the_retention_task_deletes_old_stored_responses_on_postgres() {
    if let Some(db) = ScratchDb::postgres().await {
        the_retention_task_deletes_old_stored_responses(db).await;
    }
}

#[tokio::test]
async fn the_retention_task_deletes_old_stored_responses_on_mysql() {
    if let Some(db) = ScratchDb::mysql().await {
        the_retention_task_deletes_old_stored_responses(db).await;
    }
}

#[tokio::test]
async fn retention_deletes_old_raw_records_and_statistics_still_add_up_on_sqlite() {
    retention_deletes_old_raw_records_and_statistics_still_add_up(ScratchDb::sqlite().await).await;
}

#[tokio::test]
async fn retention_deletes_old_raw_records_and_statistics_still_add_up_on_postgres() {
    if let Some(db) = ScratchDb::postgres().await {
        retention_deletes_old_raw_records_and_statistics_still_add_up(db).await;
    }
}

#[tokio::test]
async fn retention_deletes_old_raw_records_and_statistics_still_add_up_on_mysql() {
    if let Some(db) = ScratchDb::mysql().await {
        retention_deletes_old_raw_records_and_statistics_still_add_up(db).await;
    }
}
