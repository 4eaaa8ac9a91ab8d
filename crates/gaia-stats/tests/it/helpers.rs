//! Scratch databases and record builders.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use gaia_stats::NewUsageRecord;
use gaia_store::{Store, StoreOptions, testing};
use sea_orm::{ConnectionTrait, Database};

/// A scratch database: its URL, and the directory a SQLite file lives in.
pub struct ScratchDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl ScratchDb {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self {
            url: testing::sqlite_file_url(dir.path()),
            _dir: Some(dir),
        }
    }

    /// `None` when PostgreSQL tests are skipped.
    pub async fn postgres() -> Option<Self> {
        let server = testing::postgres_url().unwrap()?;
        Some(Self {
            url: testing::create_postgres_database(&server).await.unwrap(),
            _dir: None,
        })
    }

    /// `None` when MySQL tests are skipped.
    pub async fn mysql() -> Option<Self> {
        let server = testing::mysql_url().unwrap()?;
        Some(Self {
            url: testing::create_mysql_database(&server).await.unwrap(),
            _dir: None,
        })
    }

    /// The PostgreSQL server's maintenance database (to administer scratch databases).
    pub fn postgres_server() -> Option<Self> {
        Some(Self {
            url: testing::postgres_url().unwrap()?,
            _dir: None,
        })
    }

    pub async fn store(&self) -> Store {
        Store::connect_and_migrate(
            &self.url,
            &StoreOptions {
                max_connections: 4,
                connect_timeout: Duration::from_secs(2),
            },
        )
        .await
        .unwrap()
    }

    /// Runs raw SQL on a separate connection (to break and repair the database under a running store).
    pub async fn execute(&self, sql: &str) {
        let db = Database::connect(self.url.as_str()).await.unwrap();
        db.execute_unprepared(sql).await.unwrap();
        db.close().await.unwrap();
    }
}

pub fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
}

/// A successful request of `key` in `org` on `model`/`provider`.
pub fn record(i: u64, key: &str, org: &str, model: &str, provider: &str) -> NewUsageRecord {
    NewUsageRecord {
        request_id: format!("req-{i}"),
        created_at: Utc::now(),
        api_key_id: Some(key.to_owned()),
        organization_id: Some(org.to_owned()),
        model_requested: format!("{provider}/{model}"),
        model_served: Some(model.to_owned()),
        provider: Some(provider.to_owned()),
        stream: false,
        status_code: 200,
        error_code: None,
        prompt_tokens: 10,
        completion_tokens: 5,
        cached_tokens: 0,
        total_tokens: 15,
        cost_nanos: 1_000,
        estimated: false,
        upstream_latency_ms: Some(20),
        ttft_ms: None,
        total_latency_ms: 25,
        attempts: Some(1),
        unpriced: false,
        api: gaia_core::InboundApi::ChatCompletions,
        cache_creation_tokens: 0,
        reasoning_tokens: 0,
    }
}

pub fn simple(i: u64) -> NewUsageRecord {
    record(i, "key-a", "org-a", "gpt-4o-mini", "openai")
}
