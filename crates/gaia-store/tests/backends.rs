//! The same migrations and repositories must behave identically on SQLite, PostgreSQL and MySQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{TimeDelta, TimeZone, Utc};
use gaia_core::{Limits, Permission, Permissions};
use gaia_store::api_keys::NewApiKey;
use gaia_store::organizations::NewOrganization;
use gaia_store::usage::{
    DailyDimension, DailyFilter, NewUsageRecord, StatusFilter, UsageRecordFilter,
};
use gaia_store::{Store, StoreError, StoreOptions, testing};

async fn exercise(url: &str) {
    let store = Store::connect_and_migrate(url, &StoreOptions::default())
        .await
        .unwrap();
    // Migrating again is a no-op.
    store.migrate().await.unwrap();
    let applied = store.applied_migrations().await.unwrap();
    assert!(applied.len() >= 6, "{applied:?}");
    store.ping().await.unwrap();

    let org = store
        .create_organization(
            NewOrganization {
                name: "acme".into(),
                description: Some("Acme Rockets".into()),
                limits: Limits {
                    monthly_cost_nanos: Some(5_000_000_000),
                    ..Limits::default()
                },
            },
            Utc::now(),
        )
        .await
        .unwrap();
    let dup = store
        .create_organization(
            NewOrganization {
                name: "acme".into(),
                ..Default::default()
            },
            Utc::now(),
        )
        .await
        .unwrap_err();
    assert!(matches!(dup, StoreError::Conflict(_)), "{dup:?}");
    assert_eq!(store.get_organization(org.id.as_str()).await.unwrap(), org);

    let key = store
        .create_api_key(
            NewApiKey {
                organization_id: org.id.to_string(),
                lookup: "lookup000001".into(),
                secret_hash: "ab".repeat(32),
                hint: "gaia_lookup000001_…abcd".into(),
                name: Some("ci".into()),
                description: None,
                permissions: Permissions::from_slice(&[Permission::Read, Permission::Write]),
                limits: Limits::default(),
                expires_at: None,
            },
            Utc::now(),
        )
        .await
        .unwrap();
    let found = store
        .find_api_key_by_lookup("lookup000001")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, key.id);
    // Timestamps survive the round trip to the second on every backend.
    assert_eq!(found.created_at.timestamp(), key.created_at.timestamp());

    let records: Vec<NewUsageRecord> = (0..750)
        .map(|i| NewUsageRecord {
            request_id: format!("r{i}"),
            created_at: Utc::now(),
            api_key_id: Some(key.id.to_string()),
            organization_id: Some(org.id.to_string()),
            model_requested: "openai/gpt-4o-mini".into(),
            model_served: Some("gpt-4o-mini".into()),
            provider: Some("openai".into()),
            stream: false,
            status_code: 200,
            error_code: None,
            prompt_tokens: 10,
            completion_tokens: 20,
            cached_tokens: 0,
            total_tokens: 30,
            cost_nanos: 1234,
            estimated: false,
            upstream_latency_ms: Some(12),
            ttft_ms: None,
            total_latency_ms: 13,
            attempts: Some(1),
            unpriced: false,
            api: gaia_core::InboundApi::ChatCompletions,
            cache_creation_tokens: 0,
            reasoning_tokens: 0,
        })
        .collect();
    store.insert_usage_records(&records).await.unwrap();
    assert_eq!(store.count_usage_records().await.unwrap(), 750);
    rollup_reads_agree(&store, org.id.as_str()).await;
    store.close().await.unwrap();
}

/// The rollup's grouped reads and the request log's total (partly counted from the rollup) on the 750
/// records `exercise` wrote today.
async fn rollup_reads_agree(store: &Store, org_id: &str) {
    let today = Utc::now().date_naive();
    let all = DailyFilter {
        first_day: today - chrono::Days::new(1),
        last_day: today + chrono::Days::new(1),
        organization_id: None,
        api_key_id: None,
    };
    let by_model = store
        .usage_daily_totals(&all, DailyDimension::Model)
        .await
        .unwrap();
    assert_eq!(by_model.len(), 1);
    assert_eq!(by_model[0].0, "gpt-4o-mini");
    assert_eq!(by_model[0].1.requests, 750);
    assert_eq!(by_model[0].1.cost_nanos, 750 * 1234);
    let breakdown = store.usage_daily_breakdown(&all).await.unwrap();
    assert_eq!(breakdown.len(), 1);
    assert_eq!(breakdown[0].totals.total_tokens, 750 * 30);
    let owners = store
        .usage_daily_by_owner(&DailyFilter {
            organization_id: Some(org_id.to_owned()),
            ..all
        })
        .await
        .unwrap();
    assert_eq!(owners.len(), 1);
    assert_eq!(owners[0].totals.requests, 750);
    let whole_days = UsageRecordFilter {
        organization_id: Some(org_id.to_owned()),
        status: Some(StatusFilter::Success),
        ..Default::default()
    };
    let page = store.list_usage_records(&whole_days, 1, 5).await.unwrap();
    assert_eq!((page.total, page.items.len()), (750, 5));
}

#[tokio::test]
async fn repositories_work_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    exercise(&testing::sqlite_file_url(dir.path())).await;
}

#[tokio::test]
async fn repositories_work_on_postgres() {
    let Some(server) = testing::postgres_url().unwrap() else {
        return;
    };
    let url = testing::create_postgres_database(&server).await.unwrap();
    exercise(&url).await;
}

#[tokio::test]
async fn repositories_work_on_mysql() {
    let Some(server) = testing::mysql_url().unwrap() else {
        return;
    };
    let url = testing::create_mysql_database(&server).await.unwrap();
    exercise(&url).await;
}

/// A MySQL database created before migration 11, in MariaDB's default `latin1`: upgrading converts it to
/// `utf8mb4`, keeps the text already stored, and then stores any Unicode.
#[tokio::test]
async fn a_latin1_mysql_database_upgrades_to_utf8mb4_keeping_its_text() {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::{ConnectionTrait, Database};

    let Some(server) = testing::mysql_url().unwrap() else {
        return;
    };
    let name = format!("gaia_test_latin1_{}", uuid::Uuid::new_v4().simple());
    testing::execute_on_server(
        &server,
        &format!("CREATE DATABASE `{name}` CHARACTER SET latin1 COLLATE latin1_swedish_ci"),
    )
    .await
    .unwrap();
    let url = server.replace("/mysql", &format!("/{name}"));
    let db = Database::connect(url.as_str()).await.unwrap();
    Migrator::up(&db, Some(10)).await.unwrap();
    db.execute_unprepared(
        "INSERT INTO organizations (id, name, description, status, created_at, updated_at) \
         VALUES ('00000000-0000-7000-8000-000000000001', 'Café Müller', 'crème brûlée', 'active', \
         '2026-11-01 00:00:00', '2026-11-01 00:00:00')",
    )
    .await
    .unwrap();
    let emoji = db
        .execute_unprepared("UPDATE organizations SET description = 'rocket 🚀'")
        .await;
    assert!(
        emoji.is_err(),
        "latin1 took an emoji: the test no longer starts from latin1"
    );
    db.close().await.unwrap();

    let store = Store::connect_and_migrate(&url, &StoreOptions::default())
        .await
        .unwrap();
    let org = store
        .get_organization("00000000-0000-7000-8000-000000000001")
        .await
        .unwrap();
    assert_eq!(org.name, "Café Müller");
    assert_eq!(org.description.as_deref(), Some("crème brûlée"));
    assert_eq!(
        org.created_at,
        Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
    );
    let created = store
        .create_organization(
            NewOrganization {
                name: "团队 🚀".into(),
                description: Some("emoji 😀".into()),
                ..Default::default()
            },
            Utc::now(),
        )
        .await
        .unwrap();
    let read = store.get_organization(created.id.as_str()).await.unwrap();
    assert_eq!(
        (read.name.as_str(), read.description.as_deref()),
        ("团队 🚀", Some("emoji 😀"))
    );
    // The foreign key dropped around the conversion is back: a key cannot name a missing organization.
    let orphan = store
        .create_api_key(
            NewApiKey {
                organization_id: "no-such-organization".into(),
                lookup: "lookup000002".into(),
                secret_hash: "cd".repeat(32),
                hint: "gaia_lookup000002_…abcd".into(),
                name: None,
                description: None,
                permissions: Permissions::from_slice(&[Permission::Read]),
                limits: Limits::default(),
                expires_at: None,
            },
            Utc::now(),
        )
        .await;
    assert!(
        orphan.is_err(),
        "an api key without its organization was stored"
    );

    // Times past 2038 and below a second survive (MySQL's TIMESTAMP held neither).
    let now =
        Utc.with_ymd_and_hms(2026, 11, 27, 9, 30, 15).unwrap() + TimeDelta::microseconds(123_456);
    let expires =
        Utc.with_ymd_and_hms(2040, 6, 1, 12, 34, 56).unwrap() + TimeDelta::microseconds(789_012);
    let key = store
        .create_api_key(
            NewApiKey {
                organization_id: created.id.to_string(),
                lookup: "lookup000003".into(),
                secret_hash: "ef".repeat(32),
                hint: "gaia_lookup000003_…abcd".into(),
                name: None,
                description: None,
                permissions: Permissions::from_slice(&[Permission::Read]),
                limits: Limits::default(),
                expires_at: Some(expires),
            },
            now,
        )
        .await
        .unwrap();
    let read = store.get_api_key(key.id.as_str()).await.unwrap();
    assert_eq!((read.expires_at, read.created_at), (Some(expires), now));
    store.close().await.unwrap();
}

/// Migration 15 on a registry made before it: the catalog's entries keep known prices (free ones too),
/// an entry from another source with both prices at 0 — which meant "nobody said" as often as "free" —
/// becomes unpriced, and a priced manual entry stays priced. Migration 17 then adds the cache prices.
async fn models_without_prices_become_unpriced_on_upgrade(url: &str) {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::{ConnectionTrait, Database};

    let db = Database::connect(url).await.unwrap();
    Migrator::up(&db, Some(14)).await.unwrap();
    for (id, source, input, output) in [
        ("openai/catalog-free", "catalog", 0, 0),
        ("openai/manual-zero", "manual", 0, 0),
        ("openrouter/a/variable", "openrouter", 0, 0),
        ("openai/manual-priced", "manual", 150_000_000, 0),
    ] {
        let (provider, name) = id.split_once('/').unwrap();
        db.execute_unprepared(&format!(
            "INSERT INTO models (id, provider, upstream_name, input_price_nanos_per_mtok, \
             output_price_nanos_per_mtok, supports_vision, supports_tools, supports_streaming, enabled, \
             source, created_at, updated_at) VALUES ('{id}', '{provider}', '{name}', {input}, {output}, \
             false, true, true, true, '{source}', '2026-11-01 00:00:00', '2026-11-01 00:00:00')"
        ))
        .await
        .unwrap();
    }
    db.close().await.unwrap();
    let store = Store::connect_and_migrate(url, &StoreOptions::default())
        .await
        .unwrap();
    let priced = |id: &'static str| {
        let store = store.clone();
        async move { store.get_model(id).await.unwrap().priced }
    };
    assert!(priced("openai/catalog-free").await);
    assert!(!priced("openai/manual-zero").await);
    assert!(!priced("openrouter/a/variable").await);
    assert!(priced("openai/manual-priced").await);

    // Migration 17: an entry made before it has no cache prices of its own (its provider's ratio of the
    // input price applies) and can be given any, up to the largest amount.
    let mut manual = store.get_model("openai/manual-priced").await.unwrap();
    assert_eq!(
        (
            manual.cached_input_price_nanos_per_mtok,
            manual.cache_write_price_nanos_per_mtok
        ),
        (None, None)
    );
    manual.cached_input_price_nanos_per_mtok = Some(75_000_000);
    manual.cache_write_price_nanos_per_mtok = Some(i64::MAX);
    store.update_model(&manual, Utc::now()).await.unwrap();
    assert_eq!(
        store.get_model("openai/manual-priced").await.unwrap(),
        manual
    );
}

#[tokio::test]
async fn models_without_prices_become_unpriced_on_upgrade_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    models_without_prices_become_unpriced_on_upgrade(&testing::sqlite_file_url(dir.path())).await;
}

#[tokio::test]
async fn models_without_prices_become_unpriced_on_upgrade_on_postgres() {
    let Some(server) = testing::postgres_url().unwrap() else {
        return;
    };
    let url = testing::create_postgres_database(&server).await.unwrap();
    models_without_prices_become_unpriced_on_upgrade(&url).await;
}

#[tokio::test]
async fn models_without_prices_become_unpriced_on_upgrade_on_mysql() {
    let Some(server) = testing::mysql_url().unwrap() else {
        return;
    };
    let url = testing::create_mysql_database(&server).await.unwrap();
    models_without_prices_become_unpriced_on_upgrade(&url).await;
}
