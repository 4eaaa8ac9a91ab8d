//! Start-up, migrations, bootstrap, configuration errors and shutdown of the real binary.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gaiarouter::configuration::Settings;
use gaiarouter::startup::Application;

use crate::helpers::{Db, MockUpstream, fresh_database};

const BIN: &str = env!("CARGO_BIN_EXE_gaiarouter");

async fn starting_twice_is_idempotent(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = fresh_database(db, dir.path()).await else {
        return;
    };
    let first = Application::build(Settings::for_tests(&url).unwrap())
        .await
        .unwrap();
    let key = first.generated_admin_key().map(str::to_owned);
    assert!(
        key.as_deref().is_some_and(|k| k.starts_with("gaia_")),
        "first start generates an admin key"
    );
    drop(first);
    let second = Application::build(Settings::for_tests(&url).unwrap())
        .await
        .unwrap();
    assert_eq!(
        second.generated_admin_key(),
        None,
        "the second start must not generate another key"
    );
    let store = gaia_store::Store::connect(&url, &Default::default())
        .await
        .unwrap();
    let applied = store.applied_migrations().await.unwrap();
    let mut unique = applied.clone();
    unique.dedup();
    assert_eq!(applied, unique);
    assert!(applied.len() >= 6);
    assert_eq!(store.count_active_admin_keys().await.unwrap(), 1);
}

#[tokio::test]
async fn starting_twice_on_one_sqlite_database_is_idempotent() {
    starting_twice_is_idempotent(Db::Sqlite).await;
}

#[tokio::test]
async fn starting_twice_on_one_postgres_database_is_idempotent() {
    starting_twice_is_idempotent(Db::Postgres).await;
}

#[tokio::test]
async fn starting_twice_on_one_mysql_database_is_idempotent() {
    starting_twice_is_idempotent(Db::MySql).await;
}

fn run_with_env(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/t.db?mode=rwc", dir.path().display()),
        );
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn an_invalid_bind_address_fails_with_one_line_naming_gaia_bind() {
    let out = run_with_env(&["serve"], &[("GAIA_BIND", "not-an-address")]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("GAIA_BIND"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn an_unparsable_provider_url_fails_naming_its_variable() {
    let out = run_with_env(&[], &[("OPENAI_BASE_URL", "::nope::")]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("OPENAI_BASE_URL"), "{stderr}");
}

#[test]
fn an_otlp_protocol_other_than_http_protobuf_fails_naming_it() {
    let out = run_with_env(
        &["serve"],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("OTEL_EXPORTER_OTLP_PROTOCOL"), "{stderr}");
}

#[test]
fn help_lists_the_commands_and_variables() {
    let out = run_with_env(&["--help"], &[]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "serve",
        "migrate",
        "GAIA_BIND",
        "DATABASE_URL",
        "ANTHROPIC_BASE_URL",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}:\n{help}");
    }
}

#[test]
fn migrate_applies_the_schema_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.db");
    let out = Command::new(BIN)
        .arg("migrate")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", db.display()),
        )
        .env("GAIA_LOG_FORMAT", "json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(db.exists());
}

#[test]
fn sigterm_stops_the_server_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .current_dir(dir.path())
        .env("GAIA_BIND", "127.0.0.1:0")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/s.db?mode=rwc", dir.path().display()),
        )
        .env("GAIA_LOG_FORMAT", "json")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Wait for the banner with the port.
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let port = loop {
        let line = lines.next().expect("server printed its address").unwrap();
        if let Some(rest) = line.strip_prefix("GaiaRouter is listening on http://127.0.0.1:") {
            break rest.trim().parse::<u16>().unwrap();
        }
    };
    // Keep draining stderr so the child never blocks on a full pipe.
    let drain = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
    let health = std::net::TcpStream::connect(("127.0.0.1", port));
    assert!(health.is_ok());
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "server did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "exit status {exit:?}");
    let log = drain.join().unwrap().join("\n");
    assert!(log.contains("GaiaRouter stopped"), "{log}");
}

#[test]
fn a_generated_admin_key_is_printed_once_and_never_logged_in_json() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/k.db?mode=rwc", dir.path().display());
    let run = || {
        let mut child = Command::new(BIN)
            .current_dir(dir.path())
            .env("GAIA_BIND", "127.0.0.1:0")
            .env("DATABASE_URL", &url)
            .env("GAIA_LOG_FORMAT", "json")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut seen = Vec::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            let done = line.contains("Admin key:") || line.contains("(Only its hash is stored.");
            seen.push(line);
            if done {
                break;
            }
        }
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        seen.extend(lines.map_while(Result::ok));
        child.wait().unwrap();
        seen
    };
    let first = run();
    let keys: Vec<&String> = first
        .iter()
        .filter(|l| l.trim().starts_with("gaia_"))
        .collect();
    assert_eq!(keys.len(), 1, "{first:#?}");
    let key = keys[0].trim().to_owned();
    // The key appears only in the banner line, never inside a structured log record.
    assert!(
        first
            .iter()
            .filter(|l| l.starts_with('{'))
            .all(|l| !l.contains(&key))
    );
    let second = run();
    assert!(second.iter().all(|l| !l.contains("gaia_")), "{second:#?}");
}

/// Starts the real binary against `upstream` on the SQLite file `db`; returns it and its port.
fn start_binary(dir: &std::path::Path, db: &str, upstream: &str) -> (std::process::Child, u16) {
    let mut child = Command::new(BIN)
        .current_dir(dir)
        .env("GAIA_BIND", "127.0.0.1:0")
        .env("DATABASE_URL", db)
        .env("GAIA_ADMIN_KEY", "restart-test-admin-key-0123456789")
        .env("GAIA_LOG_FORMAT", "json")
        .env("OPENAI_API_KEY", "sk-test")
        .env("OPENAI_BASE_URL", format!("{upstream}/v1"))
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let port = loop {
        let line = lines.next().expect("server printed its address").unwrap();
        if let Some(rest) = line.strip_prefix("GaiaRouter is listening on http://127.0.0.1:") {
            break rest.trim().parse::<u16>().unwrap();
        }
    };
    std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
    (child, port)
}

#[tokio::test]
async fn usage_records_queued_at_sigterm_are_written_before_exit() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "id": "x", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}})))
        .mount(&upstream)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/restart.db?mode=rwc", dir.path().display());
    let (mut child, port) = start_binary(dir.path(), &db, &upstream.uri());
    let client = crate::helpers::http_client();
    let n = 25;
    let sends = (0..n).map(|_| {
        client
            .post(format!("http://127.0.0.1:{port}/v1/chat/completions"))
            .bearer_auth("restart-test-admin-key-0123456789")
            .json(&serde_json::json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]}))
            .send()
    });
    for res in futures_util::future::join_all(sends).await {
        assert_eq!(res.unwrap().status(), 200);
    }
    // Stop at once: whatever is still queued must be written before the process exits.
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let exit = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(exit.success(), "{exit:?}");
    let store = gaia_store::Store::connect(&db, &Default::default())
        .await
        .unwrap();
    assert_eq!(store.count_usage_records().await.unwrap(), n);

    // And a restart on the same database serves and keeps counting.
    let (mut child, port) = start_binary(dir.path(), &db, &upstream.uri());
    let res = client
        .post(format!("http://127.0.0.1:{port}/v1/chat/completions"))
        .bearer_auth("restart-test-admin-key-0123456789")
        .json(&serde_json::json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert_eq!(store.count_usage_records().await.unwrap(), n + 1);
}

#[tokio::test]
async fn sigterm_during_200_streams_lets_them_finish_and_records_every_one() {
    // Each stream: 30 chunks 100 ms apart, about three seconds.
    let mock = MockUpstream::start(&["--chunk-ms", "100", "--chunks", "30"]);
    let upstream = mock.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/streams.db?mode=rwc", dir.path().display());
    let (mut child, port) = start_binary(dir.path(), &db, &upstream);
    let client = crate::helpers::http_client();
    let n: u64 = 200;
    let mut streams = Vec::new();
    // Each stream reports when its answer has started (status and headers received: it is in flight).
    let (started_tx, mut started) = tokio::sync::mpsc::channel::<()>(200);
    for _ in 0..n {
        let client = client.clone();
        let started_tx = started_tx.clone();
        streams.push(tokio::spawn(async move {
            let mut res = client
                .post(format!("http://127.0.0.1:{port}/v1/chat/completions"))
                .bearer_auth("restart-test-admin-key-0123456789")
                .json(
                    &serde_json::json!({"model": "openai/gpt-4o-mini", "stream": true,
                    "messages": [{"role": "user", "content": "tell me a long story please"}]}),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            started_tx.send(()).await.unwrap();
            let mut body = String::new();
            while let Some(chunk) = res.chunk().await.unwrap() {
                body.push_str(&String::from_utf8_lossy(&chunk));
            }
            body
        }));
    }
    // Once every stream has started, ask the server to stop while they are all in flight.
    for _ in 0..n {
        started.recv().await.unwrap();
    }
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let mut finished = 0;
    for s in streams {
        let body = s.await.unwrap();
        assert!(
            body.trim_end().ends_with("data: [DONE]"),
            "a stream was cut: {body}"
        );
        finished += 1;
    }
    assert_eq!(finished, n);
    let exit = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(exit.success(), "{exit:?}");
    drop(mock);
    let store = gaia_store::Store::connect(&db, &Default::default())
        .await
        .unwrap();
    assert_eq!(
        store.count_usage_records().await.unwrap(),
        n,
        "every stream is recorded before exit"
    );
}
