//! `TestApp`: a running GaiaRouter on port 0 with its own database, plus typed request helpers.

use std::time::Duration;

use gaia_store::testing;
use gaiarouter::configuration::Settings;
use gaiarouter::startup::Application;

/// Which database a test app runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
    MySql,
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    /// The admin key generated at first start.
    pub admin_key: Option<String>,
    /// The app's database, for tests that inspect what was stored.
    pub database_url: String,
    _dir: tempfile::TempDir,
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A fresh database URL for `db`, or `None` when PostgreSQL tests are skipped (never under `make test`).
pub async fn fresh_database(db: Db, dir: &std::path::Path) -> Option<String> {
    match db {
        Db::Sqlite => Some(testing::sqlite_file_url(dir)),
        Db::Postgres => {
            let server = testing::postgres_url().unwrap()?;
            Some(testing::create_postgres_database(&server).await.unwrap())
        }
        Db::MySql => {
            let server = testing::mysql_url().unwrap()?;
            Some(testing::create_mysql_database(&server).await.unwrap())
        }
    }
}

/// The database API tests run on: SQLite, or PostgreSQL / MySQL when `GAIA_TEST_BACKEND=postgres` /
/// `mysql` (`make test` runs the whole API suite once on each).
pub fn default_db() -> Db {
    match std::env::var("GAIA_TEST_BACKEND").as_deref() {
        Ok("postgres") => Db::Postgres,
        Ok("mysql") => Db::MySql,
        _ => Db::Sqlite,
    }
}

/// A fresh database URL on the default backend.
pub async fn test_database_url(dir: &std::path::Path) -> String {
    fresh_database(default_db(), dir)
        .await
        .expect("GAIA_TEST_BACKEND=postgres/mysql needs GAIA_TEST_POSTGRES_URL/GAIA_TEST_MYSQL_URL")
}

/// Starts an app on the default backend.
pub async fn spawn_app() -> TestApp {
    spawn_app_on(default_db())
        .await
        .expect("the test database is available")
}

/// Starts an app on the given database; `None` if that database is unavailable and not required.
pub async fn spawn_app_on(db: Db) -> Option<TestApp> {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(db, dir.path()).await?;
    Some(spawn_with(Settings::for_tests(&url).unwrap(), dir).await)
}

/// Starts an app on SQLite whose four providers all point at `upstream` (a wiremock server):
/// OpenAI at `/v1`, Anthropic at `/`, Gemini at `/`, OpenRouter at `/api/v1`.
pub async fn spawn_app_with_upstream(upstream: &str) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let url = test_database_url(dir.path()).await;
    let mut settings = Settings::for_tests(&url).unwrap();
    point_providers_at(&mut settings, upstream);
    spawn_with(settings, dir).await
}

pub fn point_providers_at(settings: &mut Settings, upstream: &str) {
    use gaiarouter::configuration::Secret;
    let url = |path: &str| format!("{upstream}{path}").parse().unwrap();
    settings.openai.base_url = url("/v1");
    settings.openai.api_key = Some(Secret::new("sk-openai-test"));
    settings.anthropic.base_url = url("/");
    settings.anthropic.api_key = Some(Secret::new("sk-ant-test"));
    settings.gemini.base_url = url("/");
    settings.gemini.api_key = Some(Secret::new("gemini-test-key"));
    settings.openrouter.base_url = url("/api/v1");
    settings.openrouter.api_key = Some(Secret::new("sk-or-test"));
    settings.openrouter_http_referer = Some("https://example.test/app".to_owned());
    settings.openrouter_x_title = Some("GaiaRouter tests".to_owned());
}

/// Starts an app with explicit settings (bind is forced to 127.0.0.1:0).
pub async fn spawn_with(mut settings: Settings, dir: tempfile::TempDir) -> TestApp {
    settings.bind = "127.0.0.1:0".parse().unwrap();
    let database_url = settings.database_url.expose().to_owned();
    let app = Application::build(settings).await.expect("the app starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let admin_key = app.generated_admin_key().map(str::to_owned);
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: http_client(),
        admin_key,
        database_url,
        _dir: dir,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// The bootstrap admin key generated at first start.
    pub fn key(&self) -> &str {
        self.admin_key
            .as_deref()
            .expect("the app generated an admin key")
    }

    /// `POST /v1/chat/completions` with the admin key.
    pub async fn chat(&self, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url("/v1/chat/completions"))
            .bearer_auth(self.key())
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// `GET` with the admin key.
    pub async fn get_authed(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(self.key())
            .send()
            .await
            .unwrap()
    }
}

/// Asserts the OpenAI error envelope and returns `error`.
pub async fn assert_error_envelope(res: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(res.status().as_u16(), status, "unexpected status");
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(ct.starts_with("application/json"), "content-type was {ct}");
    let body: serde_json::Value = res.json().await.unwrap();
    error_of(&body)
}

/// The `error` of an OpenAI error envelope, checking that it has a message, a type and a code.
pub fn error_of(body: &serde_json::Value) -> serde_json::Value {
    let error = body
        .get("error")
        .unwrap_or_else(|| panic!("no error in {body}"))
        .clone();
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(error["type"].as_str().is_some(), "{body}");
    assert!(error["code"].as_str().is_some(), "{body}");
    error
}

/// bins/mock-upstream (built with the workspace) running as a process: the OpenAI, Anthropic, Gemini and
/// OpenRouter wire formats on one port. Killed when dropped.
pub struct MockUpstream {
    child: std::process::Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
}

impl MockUpstream {
    /// Starts it on a free port with the given flags (see `mock-upstream --help`).
    pub fn start(args: &[&str]) -> Self {
        use std::io::{BufRead, BufReader};
        use std::process::{Command, Stdio};
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/debug/mock-upstream");
        assert!(
            path.exists(),
            "{} is missing: build the workspace (cargo build --workspace)",
            path.display()
        );
        let mut child = Command::new(path)
            .args(["--bind", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let url = first
            .trim()
            .strip_prefix("mock-upstream listening on ")
            .unwrap()
            .to_owned();
        Self { child, url }
    }
}

impl Drop for MockUpstream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `data:` payloads of an SSE body, `[DONE]` included.
pub fn sse_data(body: &str) -> Vec<String> {
    body.split("\n\n")
        .filter_map(|frame| {
            frame
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .map(str::to_owned)
        })
        .collect()
}

/// The JSON chunks of an SSE body (`[DONE]` left out).
pub fn chunks(body: &str) -> Vec<serde_json::Value> {
    sse_data(body)
        .into_iter()
        .filter(|d| d != "[DONE]")
        .map(|d| serde_json::from_str(&d).unwrap())
        .collect()
}
