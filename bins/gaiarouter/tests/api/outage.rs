//! The database going away: inference with cached keys goes on (no database round-trip on the hot path),
//! usage records wait in memory, and they are all written once the database is back.

use std::time::Duration;

use gaia_store::testing;
use serde_json::json;

use crate::helpers::{Db, fresh_database, point_providers_at, spawn_with};
use crate::tenancy::{chat_as, ok_upstream};

#[tokio::test]
async fn inference_with_a_cached_key_survives_a_database_outage_and_no_usage_is_lost() {
    let upstream = ok_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = fresh_database(Db::Postgres, dir.path()).await else {
        return;
    };
    let server = testing::postgres_url().unwrap().unwrap();
    let db = testing::database_name(&url).unwrap().to_owned();
    let mut settings = gaiarouter::configuration::Settings::for_tests(&url).unwrap();
    point_providers_at(&mut settings, &upstream.uri());
    let app = spawn_with(settings, dir).await;
    let org = app.create_org("outage", json!({})).await;
    let (_, key) = app.create_key(org["id"].as_str().unwrap(), json!({})).await;
    assert_eq!(chat_as(&app, &key).await.status(), 200);
    crate::recording::records(&app, 1).await;

    // Take the database away: no new connections, and every open one is killed.
    testing::execute_on_server(
        &server,
        &format!("ALTER DATABASE \"{db}\" ALLOW_CONNECTIONS false"),
    )
    .await
    .unwrap();
    testing::execute_on_server(
        &server,
        &format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}' AND pid <> pg_backend_pid()"),
    )
    .await
    .unwrap();

    // The gateway keeps serving with the cached key: nothing on the request path needs the database.
    for _ in 0..10 {
        assert_eq!(chat_as(&app, &key).await.status(), 200);
    }
    // Readiness reports the outage.
    assert_eq!(app.get("/ready").await.status(), 503);
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Bring it back: the queued records are written.
    testing::execute_on_server(
        &server,
        &format!("ALTER DATABASE \"{db}\" ALLOW_CONNECTIONS true"),
    )
    .await
    .unwrap();
    let recs = crate::recording::records(&app, 11).await;
    assert_eq!(recs.len(), 11);
    assert!(recs.iter().all(|r| r.record.status_code == 200));
    assert_eq!(app.get("/ready").await.status(), 200);
}
