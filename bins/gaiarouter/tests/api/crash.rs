//! `kill -9` then restart, against the real binary: what a crash may lose is bounded as documented in
//! docs/deployment/README.md ("What a crash can lose") — at most the usage records not yet written (requests
//! that finished within the last flush interval, and requests still in flight), never a key, an
//! organization or a limit, and never a request-limit slot: slots claimed before the crash stay claimed, so
//! no key passes its monthly request limit across a crash.
//!
//! Also: the log collector going away (stderr closed) neither breaks requests nor SIGTERM. And the
//! child-process harness the secrets scan uses ([`Gateway`]).

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::helpers::{Db, fresh_database, http_client};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;

const BIN: &str = env!("CARGO_BIN_EXE_gaiarouter");
pub(crate) const ADMIN: &str = "crash-test-admin-key-0123456789abcdef";

/// The real `gaiarouter serve` as a child process on a free port, every line of its stdout and stderr
/// collected.
pub struct Gateway {
    child: Option<Child>,
    pub base: String,
    /// One client for every request (building one is slow).
    pub client: reqwest::Client,
    output: Arc<Mutex<Vec<String>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

fn collect(
    stream: impl Read + Send + 'static,
    output: Arc<Mutex<Vec<String>>>,
    port: Option<std::sync::mpsc::Sender<u16>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if let Some(tx) = &port
                && let Some(rest) =
                    line.strip_prefix("GaiaRouter is listening on http://127.0.0.1:")
                && let Ok(p) = rest.trim().parse::<u16>()
            {
                let _ = tx.send(p);
            }
            output.lock().unwrap().push(line);
        }
    })
}

impl Gateway {
    /// Starts the binary in `dir` with exactly `env` (plus `PATH` and `GAIA_BIND=127.0.0.1:0`).
    pub fn start(dir: &Path, env: &[(&str, String)]) -> Self {
        let mut cmd = Command::new(BIN);
        cmd.arg("serve")
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("GAIA_BIND", "127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let output = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let readers = vec![
            collect(child.stderr.take().unwrap(), output.clone(), Some(tx)),
            collect(child.stdout.take().unwrap(), output.clone(), None),
        ];
        let Ok(port) = rx.recv_timeout(Duration::from_secs(120)) else {
            let _ = child.kill();
            panic!(
                "the server did not start:\n{}",
                output.lock().unwrap().join("\n")
            );
        };
        Self {
            child: Some(child),
            base: format!("http://127.0.0.1:{port}"),
            client: http_client(),
            output,
            readers,
        }
    }

    /// `kill -9`: no shutdown code runs.
    pub fn kill9(mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
    }

    /// SIGTERM, then waits (bounded) for the exit; returns everything the process printed.
    pub fn terminate(mut self) -> Vec<String> {
        let mut child = self.child.take().unwrap();
        let exit = sigterm_and_wait(&mut child);
        for r in self.readers.drain(..) {
            r.join().unwrap();
        }
        let output = self.output.lock().unwrap().clone();
        assert!(exit.success(), "exit {exit:?}:\n{}", output.join("\n"));
        output
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub(crate) async fn call(
    gw: &Gateway,
    key: &str,
    m: Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let mut req = gw
        .client
        .request(m.clone(), format!("{}{path}", gw.base))
        .bearer_auth(key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    assert!(status.is_success(), "{m} {path}: {status} {text}");
    serde_json::from_str(&text).unwrap()
}

pub(crate) async fn chat(
    gw: &Gateway,
    key: &str,
    model: &str,
) -> reqwest::Result<reqwest::Response> {
    gw.client
        .post(format!("{}/v1/chat/completions", gw.base))
        .bearer_auth(key)
        .json(&json!({"model": model, "messages": [{"role": "user", "content": "hello"}]}))
        .send()
        .await
}

/// `n` concurrent chat requests with `key`, each of which must succeed.
async fn chats(gw: &Gateway, key: &str, n: usize) {
    let all = (0..n).map(|_| chat(gw, key, "openai/gpt-4o-mini"));
    for res in futures_util::future::join_all(all).await {
        assert_eq!(res.unwrap().status(), 200);
    }
}

/// The number of usage records, through the API.
async fn recorded(gw: &Gateway) -> u64 {
    call(gw, ADMIN, Method::GET, "/v1/requests?limit=1", None).await["pagination"]["total"]
        .as_u64()
        .unwrap()
}

/// Waits (bounded, generously) until the request log holds `n` records.
async fn wait_recorded(gw: &Gateway, n: u64) {
    let started = Instant::now();
    loop {
        let total = recorded(gw).await;
        if total == n {
            return;
        }
        assert!(total < n, "{total} records for {n} requests");
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "only {total} of {n} records were written"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An organization or key as the API shows it, without what legitimately moves (usage, last use).
async fn state_of(gw: &Gateway, path: &str) -> Value {
    let mut v = call(gw, ADMIN, Method::GET, path, None).await;
    let obj = v.as_object_mut().unwrap();
    obj.remove("usage");
    obj.remove("last_used_at");
    v
}

/// A provider that accepts connections, reads the request and never answers: requests to it stay in
/// flight. Returns its URL and a channel that yields once per request received.
async fn black_hole() -> (String, tokio::sync::mpsc::UnboundedReceiver<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut socket, _)) = listener.accept().await {
            let tx = tx.clone();
            held.push(tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut seen = Vec::new();
                while let Ok(n) = socket.read(&mut buf).await {
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    // Headers and the whole body arrived: one request in flight. Keep the socket open.
                    if request_complete(&seen) {
                        let _ = tx.send(());
                        seen.clear();
                    }
                }
            }));
        }
    });
    (url, rx)
}

/// Whether `bytes` hold a whole HTTP/1.1 request with a `content-length` body.
fn request_complete(bytes: &[u8]) -> bool {
    let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&bytes[..end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    bytes.len() >= end + 4 + length
}

async fn a_crash_loses_at_most_unwritten_usage_and_no_key_passes_its_limit(db: Db) {
    let upstream = crate::tenancy::ok_upstream().await;
    let (hole, mut in_flight) = black_hole().await;
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = fresh_database(db, dir.path()).await else {
        return;
    };
    let env = vec![
        ("DATABASE_URL", url.clone()),
        ("GAIA_ADMIN_KEY", ADMIN.to_owned()),
        ("GAIA_LOG_FORMAT", "json".to_owned()),
        ("OPENAI_API_KEY", "sk-openai-test".to_owned()),
        ("OPENAI_BASE_URL", format!("{}/v1", upstream.uri())),
        ("ANTHROPIC_API_KEY", "sk-ant-test".to_owned()),
        ("ANTHROPIC_BASE_URL", hole),
    ];
    let store = gaia_store::Store::connect(&url, &Default::default())
        .await
        .unwrap();
    let period = gaia_orgs::limits::period(chrono::Utc::now());

    // A tenant: an unlimited key and one with a monthly limit of 200 requests.
    let gw = Gateway::start(dir.path(), &env);
    let org = call(
        &gw,
        ADMIN,
        Method::POST,
        "/v1/organizations",
        Some(json!({"name": "crash"})),
    )
    .await;
    let org_id = org["id"].as_str().unwrap().to_owned();
    let key = |extra: Value| {
        let mut body = json!({"organization_id": org_id, "permissions": ["read", "write"]});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    let free = call(
        &gw,
        ADMIN,
        Method::POST,
        "/v1/api-keys",
        Some(key(json!({}))),
    )
    .await;
    let limited = call(
        &gw,
        ADMIN,
        Method::POST,
        "/v1/api-keys",
        Some(key(json!({"monthly_requests_limit": 200}))),
    )
    .await;
    let (free_id, free_key) = (free["id"].as_str().unwrap(), free["key"].as_str().unwrap());
    let (limited_id, limited_key) = (
        limited["id"].as_str().unwrap(),
        limited["key"].as_str().unwrap(),
    );
    let paths = [
        format!("/v1/organizations/{org_id}"),
        format!("/v1/api-keys/{free_id}"),
        format!("/v1/api-keys/{limited_id}"),
    ];

    // (a) Requests whose records are known to be written, then kill -9.
    chats(&gw, free_key, 12).await;
    chats(&gw, limited_key, 3).await;
    wait_recorded(&gw, 15).await;
    let mut before = Vec::new();
    for p in &paths {
        before.push(state_of(&gw, p).await);
    }
    let claimed = store.admitted("key", limited_id, &period).await.unwrap();
    assert!(claimed >= 3, "3 admitted, {claimed} slots claimed");
    gw.kill9();

    let gw = Gateway::start(dir.path(), &env);
    assert_eq!(recorded(&gw).await, 15, "written records survive kill -9");
    for (p, was) in paths.iter().zip(&before) {
        assert_eq!(&state_of(&gw, p).await, was, "{p} changed across kill -9");
    }
    assert!(
        store.admitted("key", limited_id, &period).await.unwrap() >= claimed,
        "claimed request-limit slots survive kill -9"
    );

    // (b) More requests, some still in flight, and kill -9 at once: their records may be lost, no more.
    let stuck: Vec<_> = (0..5)
        .map(|_| {
            let (base, key, client) = (gw.base.clone(), free_key.to_owned(), gw.client.clone());
            tokio::spawn(async move {
                client
                    .post(format!("{base}/v1/chat/completions"))
                    .bearer_auth(key)
                    .json(&json!({"model": "anthropic/claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}]}))
                    .send()
                    .await
            })
        })
        .collect();
    chats(&gw, free_key, 20).await;
    for _ in 0..5 {
        tokio::time::timeout(Duration::from_secs(30), in_flight.recv())
            .await
            .expect("every stuck request reached the provider");
    }
    gw.kill9();
    for s in stuck {
        assert!(
            s.await.unwrap().is_err(),
            "a request in flight at kill -9 got an answer"
        );
    }

    let gw = Gateway::start(dir.path(), &env);
    let total = recorded(&gw).await;
    assert!(
        (15..=35).contains(&total),
        "{total} records: between the 15 written before and all 35 finished requests"
    );
    // Consistent: the rollup the reports read holds exactly the raw records (they are written in one
    // transaction), and the organization's month-to-date count agrees.
    let stats = call(&gw, ADMIN, Method::GET, "/v1/stats", None).await;
    assert_eq!(stats["summary"]["total_requests"], total);
    let org_stats = call(
        &gw,
        ADMIN,
        Method::GET,
        &format!("/v1/organizations/{org_id}/stats"),
        None,
    )
    .await;
    assert_eq!(org_stats["summary"]["total_requests"], total);
    let org_now = call(&gw, ADMIN, Method::GET, &paths[0], None).await;
    assert_eq!(org_now["usage"]["month_requests"], total);

    // (c) The limited key: its unused claimed slots died with the process and count as used, so across the
    // crash it is admitted at most its limit — exactly the limit minus the slots claimed before the crash.
    let claimed = store.admitted("key", limited_id, &period).await.unwrap();
    // Eight clients, each until it is refused.
    let workers = (0..8).map(|_| async {
        let mut admitted = 0i64;
        loop {
            let res = chat(&gw, limited_key, "openai/gpt-4o-mini").await.unwrap();
            match res.status().as_u16() {
                200 => admitted += 1,
                429 => {
                    let error = crate::helpers::assert_error_envelope(res, 429).await;
                    assert_eq!(error["code"], "organization_limit_error");
                    return admitted;
                }
                s => panic!("unexpected {s}: {}", res.text().await.unwrap()),
            }
            assert!(admitted <= 200, "the limited key is never refused");
        }
    });
    let admitted_after: i64 = futures_util::future::join_all(workers).await.iter().sum();
    assert_eq!(
        admitted_after,
        200 - claimed,
        "slots claimed before the crash stay claimed"
    );
    assert!(
        3 + admitted_after <= 200,
        "the key passed its limit across the crash"
    );
    gw.terminate();
}

#[tokio::test]
async fn kill_9_on_sqlite_loses_only_unwritten_usage_and_never_lets_a_key_pass_its_limit() {
    a_crash_loses_at_most_unwritten_usage_and_no_key_passes_its_limit(Db::Sqlite).await;
}

#[tokio::test]
async fn kill_9_on_postgres_loses_only_unwritten_usage_and_never_lets_a_key_pass_its_limit() {
    a_crash_loses_at_most_unwritten_usage_and_no_key_passes_its_limit(Db::Postgres).await;
}

#[tokio::test]
async fn kill_9_on_mysql_loses_only_unwritten_usage_and_never_lets_a_key_pass_its_limit() {
    a_crash_loses_at_most_unwritten_usage_and_no_key_passes_its_limit(Db::MySql).await;
}

/// The log collector dies (stderr becomes a closed pipe): requests are still served and SIGTERM still stops
/// the server — log lines that cannot be written are dropped, never turned into a panic.
#[tokio::test]
async fn a_closed_stderr_neither_breaks_requests_nor_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .arg("serve")
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GAIA_BIND", "127.0.0.1:0")
        .env(
            "DATABASE_URL",
            gaia_store::testing::sqlite_file_url(dir.path()),
        )
        .env("GAIA_ADMIN_KEY", ADMIN)
        .env("GAIA_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let port = loop {
        let line = lines
            .next()
            .expect("the server printed its address")
            .unwrap();
        if let Some(rest) = line.strip_prefix("GaiaRouter is listening on http://127.0.0.1:") {
            break rest.trim().parse::<u16>().unwrap();
        }
    };
    drop(lines); // the reading end goes away: every later log line meets a broken pipe
    let client = http_client();
    for _ in 0..3 {
        let res = client
            .get(format!("http://127.0.0.1:{port}/v1/organizations"))
            .bearer_auth(ADMIN)
            .send()
            .await
            .expect("the server answers with nowhere to log");
        assert_eq!(res.status(), 200);
    }
    let exit = tokio::task::spawn_blocking(move || sigterm_and_wait(&mut child))
        .await
        .unwrap();
    assert!(exit.success(), "{exit:?}");
}

/// Sends SIGTERM and waits (at most 60 s) for the process to exit.
fn sigterm_and_wait(child: &mut std::process::Child) -> std::process::ExitStatus {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let started = Instant::now();
    loop {
        if let Some(exit) = child.try_wait().unwrap() {
            return exit;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("the server did not stop within 60 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
