//! The same migrations and repositories must behave identically on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::Utc;
use gaia_core::{Limits, Permission, Permissions};
use gaia_store::api_keys::NewApiKey;
use gaia_store::organizations::NewOrganization;
use gaia_store::usage::NewUsageRecord;
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
    assert_eq!(store.get_organization(&org.id).await.unwrap(), org);

    let key = store
        .create_api_key(
            NewApiKey {
                organization_id: org.id.clone(),
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
            api_key_id: Some(key.id.clone()),
            organization_id: Some(org.id.clone()),
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
        })
        .collect();
    store.insert_usage_records(&records).await.unwrap();
    assert_eq!(store.count_usage_records().await.unwrap(), 750);
    store.close().await.unwrap();
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
