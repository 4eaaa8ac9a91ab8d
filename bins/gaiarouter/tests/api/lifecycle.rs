//! Start-up, migrations, bootstrap, configuration errors and shutdown of the real binary.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gaiarouter::configuration::Settings;
use gaiarouter::startup::Application;

use crate::helpers::{Db, fresh_database};

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
