//! Several instances, one test: three real `gaiarouter serve` processes on one PostgreSQL database and one
//! Redis, driven round-robin as a load balancer would (specs/scale.md S-1…S-6). And the same without Redis,
//! and with a Redis that goes away, to hold the documented fallbacks.
//!
//! Run in the first pass of `make test` only (`--skip cluster::` in the reruns): the processes always use
//! PostgreSQL, whatever `GAIA_TEST_BACKEND` says.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::crash::{ADMIN, Gateway, call, chat};
use crate::helpers::{Db, fresh_database};
use gaia_cluster::testing::{self, RedisServer};

const MODEL: &str = "openai/gpt-4o-mini";

/// Instances sharing one database (and, when given, one Redis under a prefix of their own).
struct Instances {
    gws: Vec<Gateway>,
    env: Vec<(&'static str, String)>,
    dir: tempfile::TempDir,
    _upstream: wiremock::MockServer,
}

impl Instances {
    /// `n` instances on a fresh PostgreSQL database; `None` when PostgreSQL or Redis tests are skipped
    /// (never under `make test`).
    async fn start(n: usize, redis: Redis<'_>) -> Option<Self> {
        let upstream = crate::tenancy::ok_upstream().await;
        let dir = tempfile::tempdir().unwrap();
        let url = fresh_database(Db::Postgres, dir.path()).await?;
        let mut env = vec![
            ("DATABASE_URL", url),
            ("GAIA_ADMIN_KEY", ADMIN.to_owned()),
            (
                "GAIA_JWT_SECRET",
                "cluster-test-jwt-secret-0123456789abcdef".to_owned(),
            ),
            ("GAIA_LOG_FORMAT", "json".to_owned()),
            ("OPENAI_API_KEY", "sk-openai-test".to_owned()),
            ("OPENAI_BASE_URL", format!("{}/v1", upstream.uri())),
            (
                "GAIA_SECRET_KEY",
                "0202020202020202020202020202020202020202020202020202020202020202".to_owned(),
            ),
        ];
        match redis {
            Redis::None => {}
            Redis::Shared => {
                env.push(("GAIA_REDIS_URL", testing::redis_url().unwrap()?));
                env.push((
                    "GAIA_REDIS_PREFIX",
                    format!("t{}:", uuid::Uuid::new_v4().simple()),
                ));
            }
            Redis::Own(server, failure) => {
                env.push(("GAIA_REDIS_URL", server.url()));
                env.push(("GAIA_REDIS_FAILURE", failure.to_owned()));
            }
            Redis::Tls(server, ca_file) => {
                env.push((
                    "GAIA_REDIS_URL",
                    format!("rediss://localhost:{}", server.port),
                ));
                env.push(("GAIA_REDIS_CA_FILE", ca_file.display().to_string()));
                env.push(("GAIA_REDIS_FAILURE", "closed".to_owned()));
            }
        }
        // One after the other: the first migrates the database.
        let gws = (0..n).map(|_| Gateway::start(dir.path(), &env)).collect();
        Some(Self {
            gws,
            env,
            dir,
            _upstream: upstream,
        })
    }

    fn at(&self, i: usize) -> &Gateway {
        &self.gws[i % self.gws.len()]
    }

    /// An organization with `org` fields, and a key in it with `key` fields (created on instance 0);
    /// returns (organization id, key id, key).
    async fn tenant(&self, org: Value, key: Value) -> (String, String, String) {
        let mut body = json!({"name": format!("org-{}", uuid::Uuid::new_v4().simple())});
        body.as_object_mut()
            .unwrap()
            .extend(org.as_object().unwrap().clone());
        let o = call(
            self.at(0),
            ADMIN,
            Method::POST,
            "/v1/organizations",
            Some(body),
        )
        .await;
        let org_id = o["id"].as_str().unwrap().to_owned();
        let (id, secret) = self.key(&org_id, key).await;
        (org_id, id, secret)
    }

    async fn key(&self, org_id: &str, extra: Value) -> (String, String) {
        let mut body = json!({"organization_id": org_id, "permissions": ["read", "write"]});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let k = call(self.at(0), ADMIN, Method::POST, "/v1/api-keys", Some(body)).await;
        (
            k["id"].as_str().unwrap().to_owned(),
            k["key"].as_str().unwrap().to_owned(),
        )
    }

    /// `n` chat completions at once, request `i` to instance `i % N` (round-robin); the statuses.
    async fn round_robin(&self, keys: &[&str], n: usize) -> Vec<u16> {
        let all = (0..n).map(|i| async move {
            let res = chat(self.at(i), keys[i % keys.len()], MODEL).await.unwrap();
            let status = res.status().as_u16();
            if status == 429 {
                assert!(res.headers().contains_key("retry-after"));
                let error = crate::helpers::assert_error_envelope(res, 429).await;
                assert_eq!(error["code"], "rate_limit_error");
            }
            status
        });
        futures_util::future::join_all(all).await
    }

    /// Waits (bounded) until the request log holds `n` records, as instance `i` reads it.
    async fn wait_recorded(&self, i: usize, n: u64) -> u64 {
        let started = Instant::now();
        loop {
            let total = recorded(self.at(i)).await;
            if total >= n || started.elapsed() > Duration::from_secs(30) {
                return total;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

enum Redis<'a> {
    None,
    /// The test run's Redis, under a prefix of this test's own.
    Shared,
    /// A server of the test's own (it may stop it), with GAIA_REDIS_FAILURE.
    Own(&'a RedisServer, &'static str),
    /// A server of the test's own speaking only TLS, and the authority's certificate file.
    Tls(&'a RedisServer, &'a std::path::Path),
}

async fn recorded(gw: &Gateway) -> u64 {
    call(gw, ADMIN, Method::GET, "/v1/requests?limit=1", None).await["pagination"]["total"]
        .as_u64()
        .unwrap()
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

/// A GCRA bucket of `rpm` a minute admits `rpm` at once and one more every 60/rpm s: what a run that took
/// `elapsed` may admit at most (plus one for a refill landing mid-run).
fn at_most(rpm: usize, elapsed: Duration) -> usize {
    rpm + (elapsed.as_secs_f64() * rpm as f64 / 60.0).ceil() as usize + 1
}

#[tokio::test]
async fn per_minute_limits_hold_across_three_instances_and_statistics_add_up() {
    let Some(cluster) = Instances::start(3, Redis::Shared).await else {
        return;
    };
    // A key of 60 a minute, asked 150 times round-robin: 60 in all, not 60 per instance.
    let (_, _, key) = cluster
        .tenant(json!({}), json!({"rate_limit_rpm": 60}))
        .await;
    let started = Instant::now();
    let statuses = cluster.round_robin(&[&key], 150).await;
    let (ok, limited) = (count(&statuses, 200), count(&statuses, 429));
    assert_eq!(ok + limited, 150, "{statuses:?}");
    assert!(
        (60..=at_most(60, started.elapsed())).contains(&ok),
        "{ok} admitted in {:?}",
        started.elapsed()
    );

    // An organization of 30 a minute with two unlimited keys: 30 between them, on every instance.
    let (org_id, _, a) = cluster
        .tenant(json!({"rate_limit_rpm": 30}), json!({}))
        .await;
    let (_, b) = cluster.key(&org_id, json!({})).await;
    let started = Instant::now();
    let statuses = cluster.round_robin(&[&a, &b], 90).await;
    let ok_org = count(&statuses, 200);
    assert_eq!(ok_org + count(&statuses, 429), 90);
    assert!(
        (30..=at_most(30, started.elapsed())).contains(&ok_org),
        "{ok_org} admitted in {:?}",
        started.elapsed()
    );

    // Statistics add up exactly: every request, admitted or refused, is one record, whichever instance
    // served it, and every instance reads the same totals.
    assert_eq!(cluster.wait_recorded(0, 240).await, 240);
    for i in 0..3 {
        let stats = call(cluster.at(i), ADMIN, Method::GET, "/v1/stats", None).await;
        assert_eq!(stats["summary"]["total_requests"], 240, "instance {i}");
        assert_eq!(
            stats["summary"]["total_tokens"],
            15 * (ok + ok_org) as u64,
            "instance {i}: 15 tokens per admitted request"
        );
    }
    // The refusals are counted where they happened, by scope.
    let mut refused = (0, 0);
    for i in 0..3 {
        let m = metrics(cluster.at(i)).await;
        refused.0 += sample(
            &m,
            "gaia_limiter_refusals_total{scope=\"key\",limit=\"rate\"}",
        );
        refused.1 += sample(
            &m,
            "gaia_limiter_refusals_total{scope=\"organization\",limit=\"rate\"}",
        );
        assert_eq!(sample(&m, "gaia_redis_up"), 1);
        assert_eq!(sample(&m, "gaia_limiter_local_fallbacks_total"), 0);
    }
    assert_eq!(refused, ((150 - ok) as u64, (90 - ok_org) as u64));
    for gw in cluster.gws {
        gw.terminate();
    }
}

#[tokio::test]
async fn instances_share_their_limits_through_a_tls_only_redis_trusted_through_its_own_authority() {
    if testing::redis_url().unwrap().is_none() {
        return;
    }
    // A redis-server that speaks only TLS, with a certificate from an authority of the test's own.
    let pki = crate::upstream_tls::pki();
    let files = tempfile::tempdir().unwrap();
    let file = |name: &str, pem: &str| {
        let path = files.path().join(name);
        std::fs::write(&path, pem).unwrap();
        path
    };
    let (ca, cert, key) = (
        file("ca.pem", &pki.ca_pem),
        file("redis.pem", &pki.cert_pem),
        file("redis.key", &pki.key_pem),
    );
    let server =
        RedisServer::start_tls(testing::free_port().unwrap(), &cert, &key, &ca, false).unwrap();
    // GAIA_REDIS_FAILURE=closed: a request admitted below was checked in Redis, not locally.
    let Some(cluster) = Instances::start(2, Redis::Tls(&server, &ca)).await else {
        return;
    };
    for i in 0..2 {
        until_ready_says(cluster.at(i), "shared").await;
        assert_eq!(ready(cluster.at(i)).await["redis"], "up", "instance {i}");
    }
    let (_, _, key) = cluster
        .tenant(json!({}), json!({"rate_limit_rpm": 6}))
        .await;
    let started = Instant::now();
    let statuses = cluster.round_robin(&[&key], 14).await;
    let ok = count(&statuses, 200);
    assert_eq!(ok + count(&statuses, 429), 14, "{statuses:?}");
    assert!(
        (6..=at_most(6, started.elapsed())).contains(&ok),
        "{ok} admitted in {:?}",
        started.elapsed()
    );
    for i in 0..2 {
        let m = metrics(cluster.at(i)).await;
        assert_eq!(sample(&m, "gaia_redis_up"), 1, "instance {i}");
        assert_eq!(sample(&m, "gaia_limiter_unavailable_refusals_total"), 0);
    }
    for gw in cluster.gws {
        gw.terminate();
    }
}

#[tokio::test]
async fn without_redis_each_instance_holds_the_limit_on_its_own() {
    let Some(cluster) = Instances::start(3, Redis::None).await else {
        return;
    };
    let (_, _, key) = cluster
        .tenant(json!({}), json!({"rate_limit_rpm": 10}))
        .await;
    let started = Instant::now();
    let statuses = cluster.round_robin(&[&key], 90).await;
    let ok = count(&statuses, 200);
    // Documented (docs/api/limits.md): three instances without Redis admit up to three times the rate.
    assert!(
        (30..=3 * at_most(10, started.elapsed())).contains(&ok),
        "{ok} admitted in {:?}",
        started.elapsed()
    );
    let ready = call(cluster.at(1), ADMIN, Method::GET, "/ready", None).await;
    assert_eq!(ready["rate_limits"], "local");
    assert!(ready.get("redis").is_none());
}

#[tokio::test]
async fn a_monthly_request_limit_admits_exactly_its_number_across_instances() {
    let Some(cluster) = Instances::start(3, Redis::Shared).await else {
        return;
    };
    let (_, _, key) = cluster
        .tenant(json!({}), json!({"monthly_requests_limit": 50}))
        .await;
    // Six clients per instance, each until it is refused.
    let workers = (0..18).map(|w| {
        let (gw, key) = (cluster.at(w), key.as_str());
        async move {
            let mut admitted = 0;
            loop {
                let res = chat(gw, key, MODEL).await.unwrap();
                match res.status().as_u16() {
                    200 => admitted += 1,
                    429 => return admitted,
                    s => panic!("unexpected {s}"),
                }
            }
        }
    });
    let admitted: usize = futures_util::future::join_all(workers).await.iter().sum();
    assert_eq!(admitted, 50);
}

/// Polls `gw` with `key` until a request gets `status`; how long that took.
async fn until_status(gw: &Gateway, key: &str, status: u16, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let got = chat(gw, key, MODEL).await.unwrap().status().as_u16();
        if got == status {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "no {status} within {within:?} (last: {got})"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_limit_change_and_a_revocation_on_one_instance_apply_on_the_others_within_a_second() {
    let Some(cluster) = Instances::start(3, Redis::Shared).await else {
        return;
    };
    let (_, key_id, key) = cluster.tenant(json!({}), json!({})).await;
    // Cached on every instance.
    assert_eq!(cluster.round_robin(&[&key], 6).await, vec![200; 6]);

    // A limit set on instance 0 holds on 1 and 2 within a second (the periodic refresh takes 5 s).
    call(
        cluster.at(0),
        ADMIN,
        Method::PATCH,
        &format!("/v1/api-keys/{key_id}"),
        Some(json!({"rate_limit_rpm": 1})),
    )
    .await;
    let changed = Instant::now();
    let (on_1, on_2) = tokio::join!(
        until_status(cluster.at(1), &key, 429, Duration::from_secs(3)),
        until_status(cluster.at(2), &key, 429, Duration::from_secs(3)),
    );
    assert!(
        on_1.max(on_2) < Duration::from_secs(1),
        "the new limit took {on_1:?} / {on_2:?} to apply ({:?} in all)",
        changed.elapsed()
    );

    // Revoked on instance 0: refused on 1 and 2 within a second.
    call(
        cluster.at(0),
        ADMIN,
        Method::DELETE,
        &format!("/v1/api-keys/{key_id}"),
        None,
    )
    .await;
    let (on_1, on_2) = tokio::join!(
        until_status(cluster.at(1), &key, 401, Duration::from_secs(3)),
        until_status(cluster.at(2), &key, 401, Duration::from_secs(3)),
    );
    assert!(
        on_1.max(on_2) < Duration::from_secs(1),
        "the revocation took {on_1:?} / {on_2:?} to apply"
    );
    for i in 1..3 {
        let m = metrics(cluster.at(i)).await;
        assert!(sample(&m, "gaia_cluster_events_total{direction=\"received\"}") >= 2);
        // The Redis families the Grafana dashboard queries are exported with Redis.
        for family in crate::observability::dashboard_families() {
            if family.starts_with("gaia_redis_") || family.starts_with("gaia_cluster_") {
                assert!(m.contains(&format!("# TYPE {family} ")), "{family}");
            }
        }
    }
}

async fn metrics(gw: &Gateway) -> String {
    gw.client
        .get(format!("{}/metrics", gw.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The value of one sample line (`name{labels} value`); 0 when absent.
fn sample(metrics: &str, series: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0, |v| v.trim().parse().unwrap())
}

async fn ready(gw: &Gateway) -> Value {
    gw.client
        .get(format!("{}/ready", gw.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Polls `/ready` until `rate_limits` says `want`; how long that took.
async fn until_ready_says(gw: &Gateway, want: &str) -> Duration {
    let started = Instant::now();
    loop {
        if ready(gw).await["rate_limits"] == want {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "/ready never said {want}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn when_redis_goes_away_limits_fall_back_or_refuse_as_configured_and_recover_by_themselves() {
    if testing::redis_url().unwrap().is_none() {
        return;
    }
    let port = testing::free_port().unwrap();
    let server = RedisServer::start(port).unwrap();
    let Some(open) = Instances::start(1, Redis::Own(&server, "open")).await else {
        return;
    };
    // The closed instance shares the open one's database (and Redis).
    let mut env = open.env.clone();
    env.retain(|(k, _)| *k != "GAIA_REDIS_FAILURE");
    env.push(("GAIA_REDIS_FAILURE", "closed".to_owned()));
    let closed = Gateway::start(open.dir.path(), &env);
    let (org_id, _, limited) = open.tenant(json!({}), json!({"rate_limit_rpm": 3})).await;
    let (_, unlimited) = open.key(&org_id, json!({})).await;
    for gw in [open.at(0), &closed] {
        let r = ready(gw).await;
        assert_eq!(
            (r["redis"].as_str(), r["rate_limits"].as_str()),
            (Some("up"), Some("shared"))
        );
    }
    // Shared: 3 in all between the two instances.
    let mut ok = 0;
    for i in 0..6 {
        let gw = if i % 2 == 0 { open.at(0) } else { &closed };
        ok += usize::from(chat(gw, &limited, MODEL).await.unwrap().status() == 200);
    }
    assert_eq!(ok, 3);

    server.kill();
    // Open: the instance goes on with buckets of its own (3 a minute, fresh), and says so.
    until_ready_says(open.at(0), "local").await;
    let statuses: Vec<u16> = futures_util::future::join_all((0..5).map(|_| async {
        chat(open.at(0), &limited, MODEL)
            .await
            .unwrap()
            .status()
            .as_u16()
    }))
    .await;
    assert_eq!(count(&statuses, 200), 3, "{statuses:?}");
    assert_eq!(count(&statuses, 429), 2, "{statuses:?}");
    let m = metrics(open.at(0)).await;
    assert_eq!(sample(&m, "gaia_redis_up"), 0);
    assert!(sample(&m, "gaia_limiter_local_fallbacks_total") >= 5);
    assert_eq!(ready(open.at(0)).await["redis"], "down");

    // Closed: a request with a per-minute limit is refused with 503; one without is served.
    until_ready_says(&closed, "refusing").await;
    let res = chat(&closed, &limited, MODEL).await.unwrap();
    assert!(res.headers().contains_key("retry-after"));
    let error = crate::helpers::assert_error_envelope(res, 503).await;
    assert_eq!(error["code"], "rate_limiter_unavailable");
    assert_eq!(
        chat(&closed, &unlimited, MODEL).await.unwrap().status(),
        200
    );
    let m = metrics(&closed).await;
    assert_eq!(sample(&m, "gaia_limiter_unavailable_refusals_total"), 1);

    // Redis comes back (empty): both instances share it again by themselves, within a few seconds.
    let server = RedisServer::start(port).unwrap();
    until_ready_says(open.at(0), "shared").await;
    until_ready_says(&closed, "shared").await;
    let mut ok = 0;
    for i in 0..6 {
        let gw = if i % 2 == 0 { open.at(0) } else { &closed };
        ok += usize::from(chat(gw, &limited, MODEL).await.unwrap().status() == 200);
    }
    assert_eq!(ok, 3, "shared again: 3 in all");
    closed.terminate();
    drop(server);
}

#[tokio::test]
async fn kill_9_of_one_instance_under_load_loses_at_most_its_unwritten_records_and_the_others_keep_serving()
 {
    let Some(mut cluster) = Instances::start(3, Redis::Shared).await else {
        return;
    };
    let (_, _, key) = cluster.tenant(json!({}), json!({})).await;
    let victim = cluster.gws.pop().unwrap();
    let victim_base = victim.base.clone();
    let stop = Arc::new(AtomicBool::new(false));
    // Four clients per instance, each sending requests one after the other until told to stop (or, on
    // the victim, until its connection breaks). Each answer: (instance, status, when it arrived).
    let clients = cluster.at(0).client.clone();
    let bases: Vec<String> = cluster
        .gws
        .iter()
        .map(|g| g.base.clone())
        .chain([victim_base])
        .collect();
    let workers = (0..12).map(|w| {
        let (base, key, client, stop) = (
            bases[w % 3].clone(),
            key.clone(),
            clients.clone(),
            stop.clone(),
        );
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut errors = 0;
            while !stop.load(Ordering::Relaxed) {
                let res = client
                    .post(format!("{base}/v1/chat/completions"))
                    .bearer_auth(&key)
                    .json(&json!({"model": MODEL, "messages": [{"role": "user", "content": "hello"}]}))
                    .send()
                    .await;
                match res {
                    Ok(r) => seen.push((w % 3, r.status().as_u16(), Instant::now())),
                    Err(_) if w % 3 == 2 => break,
                    Err(_) => errors += 1,
                }
            }
            (seen, errors)
        })
    });
    let workers: Vec<_> = workers.collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let at = Instant::now();
    tokio::task::spawn_blocking(move || victim.kill9())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut answered = Vec::new();
    for w in workers {
        let (seen, errors) = w.await.unwrap();
        assert_eq!(errors, 0, "a surviving instance failed a request");
        answered.extend(seen);
    }
    assert!(answered.iter().all(|(_, s, _)| *s == 200));
    let after_kill = answered
        .iter()
        .filter(|(i, _, t)| *i < 2 && *t > at)
        .count();
    assert!(after_kill > 10, "the survivors kept serving: {after_kill}");
    // What the victim answered in its last second (a batch is written within 200 ms of its first record;
    // a second is the bound with room for a slow write) may be lost; everything else is recorded. A request
    // the victim finished but whose answer never arrived may be recorded too (at most one per client).
    let total = answered.len() as u64;
    let recent = answered
        .iter()
        .filter(|(i, _, t)| *i == 2 && at.duration_since(*t) < Duration::from_secs(1))
        .count() as u64;
    cluster.wait_recorded(0, total - recent).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let records = recorded(cluster.at(0)).await;
    assert!(
        records + recent >= total && records <= total + 4,
        "{records} records for {total} answers ({recent} by the victim in its last second)"
    );
    for gw in cluster.gws.drain(..) {
        gw.terminate();
    }
}

/// The channel `id` as instance `gw` shows it, or `None` while it does not know it.
async fn channel_on(gw: &Gateway, id: &str) -> Option<Value> {
    let res = gw
        .client
        .get(format!("{}/v1/admin/channels/{id}", gw.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    if res.status() == 404 {
        return None;
    }
    assert_eq!(res.status(), 200);
    Some(res.json().await.unwrap())
}

/// Polls `check` on instance `gw` for up to `within`; the time it took.
async fn until(
    gw: &Gateway,
    id: &str,
    within: Duration,
    check: impl Fn(&Value) -> bool,
) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < within {
        if channel_on(gw, id).await.is_some_and(|v| check(&v)) {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    None
}

#[tokio::test]
async fn a_channel_added_or_opened_on_one_instance_is_seen_by_the_others_within_a_second() {
    let Some(cluster) = Instances::start(3, Redis::Shared).await else {
        return;
    };
    let failing = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(503).set_body_string("overloaded"))
        .mount(&failing)
        .await;
    let created = call(
        cluster.at(0),
        ADMIN,
        Method::POST,
        "/v1/admin/channels",
        Some(json!({"provider": "openai", "name": "flaky", "base_url": format!("{}/v1", failing.uri()),
                    "api_key": "sk-flaky-channel-key-42", "priority": 10})),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    for i in 1..3 {
        let took = until(cluster.at(i), &id, Duration::from_secs(1), |_| true).await;
        assert!(
            took.is_some(),
            "instance {i} did not see the new channel within 1 s"
        );
    }

    // Instance 0 alone sees it fail: five failures in the window open its circuit (each request is still
    // answered by the provider's own endpoint).
    for _ in 0..5 {
        assert_eq!(
            chat(cluster.at(0), ADMIN, MODEL).await.unwrap().status(),
            200
        );
    }
    let on_0 = channel_on(cluster.at(0), &id).await.unwrap();
    assert_eq!(on_0["health"]["state"], "open", "{on_0}");
    // The others learn it within a second and stop sending it traffic, without having failed once.
    for i in 1..3 {
        let took = until(cluster.at(i), &id, Duration::from_secs(1), |v| {
            v["health"]["state"] == "open"
        })
        .await;
        assert!(
            took.is_some(),
            "instance {i} did not see the circuit open within 1 s"
        );
    }
    let failed = failing.received_requests().await.unwrap().len();
    for i in 0..12 {
        assert_eq!(
            chat(cluster.at(1 + i % 2), ADMIN, MODEL)
                .await
                .unwrap()
                .status(),
            200
        );
    }
    assert_eq!(
        failing.received_requests().await.unwrap().len(),
        failed,
        "an instance sent traffic to a channel another had opened"
    );
    let on_1 = channel_on(cluster.at(1), &id).await.unwrap();
    assert_eq!(on_1["health"]["failures"], 0);
}
