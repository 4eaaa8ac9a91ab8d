//! Against a real Redis: `GAIA_TEST_REDIS_URL` (scripts/ensure-redis.sh provides one; `make test` sets it).
//! Without it these tests say so and pass, unless `GAIA_REQUIRE_REDIS=1` (as in `make test`) makes that
//! a failure. Every test uses its own key prefix, so they run in parallel on one server.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::broadcast;

use super::*;

fn redis_url() -> Option<String> {
    testing::redis_url().unwrap()
}

fn config(url: &str, prefix: &str) -> ClusterConfig {
    ClusterConfig {
        prefix: format!("test:{prefix}:"),
        ..ClusterConfig::new(url)
    }
}

async fn started(url: &str, prefix: &str) -> Arc<Cluster> {
    started_listening(url, prefix).await.0
}

/// Started, with a receiver of its events taken before its subscription could announce itself.
async fn started_listening(url: &str, prefix: &str) -> (Arc<Cluster>, broadcast::Receiver<Event>) {
    let c = Cluster::start(config(url, prefix)).unwrap();
    let events = c.events();
    assert!(
        c.wait_up(Duration::from_secs(5)).await,
        "redis did not answer"
    );
    (c, events)
}

fn unique() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn key(id: &str, per_minute: u32) -> Rate<'_> {
    Rate {
        scope: "key",
        id,
        per_minute,
    }
}

fn org(id: &str, per_minute: u32) -> Rate<'_> {
    Rate {
        scope: "org",
        id,
        per_minute,
    }
}

#[tokio::test]
async fn a_burst_admits_exactly_the_rate_then_says_how_long_to_wait() {
    let Some(url) = redis_url() else { return };
    let c = started(&url, &unique()).await;
    for i in 0..5 {
        assert_eq!(
            c.check_rates("o", &[key("k1", 5)]).await.unwrap(),
            RateVerdict::Admitted,
            "request {i}"
        );
    }
    let RateVerdict::Refused { index, retry_after } =
        c.check_rates("o", &[key("k1", 5)]).await.unwrap()
    else {
        panic!("the sixth request in a minute was admitted")
    };
    assert_eq!(index, 0);
    // 5 a minute: one every 12 s; the burst is spent, so the next slot frees in just under 12 s.
    assert!(
        retry_after > Duration::from_secs(11) && retry_after <= Duration::from_secs(12),
        "{retry_after:?}"
    );
    // Another key is not affected.
    assert_eq!(
        c.check_rates("o", &[key("k2", 5)]).await.unwrap(),
        RateVerdict::Admitted
    );
}

#[tokio::test]
async fn instances_share_one_bucket() {
    let Some(url) = redis_url() else { return };
    let prefix = unique();
    let a = started(&url, &prefix).await;
    let b = started(&url, &prefix).await;
    let mut admitted = 0;
    for i in 0..30 {
        let c = if i % 2 == 0 { &a } else { &b };
        if c.check_rates("o", &[key("shared", 10), org("o", 1000)])
            .await
            .unwrap()
            == RateVerdict::Admitted
        {
            admitted += 1;
        }
    }
    assert_eq!(admitted, 10);
}

#[tokio::test]
async fn a_request_refused_by_its_organization_costs_its_key_nothing() {
    let Some(url) = redis_url() else { return };
    let c = started(&url, &unique()).await;
    let both = [key("k", 2), org("o", 1)];
    assert_eq!(
        c.check_rates("o", &both).await.unwrap(),
        RateVerdict::Admitted
    );
    assert!(matches!(
        c.check_rates("o", &both).await.unwrap(),
        RateVerdict::Refused { index: 1, .. }
    ));
    // The key was charged once: one more fits in its bucket of two.
    assert_eq!(
        c.check_rates("o", &[key("k", 2)]).await.unwrap(),
        RateVerdict::Admitted
    );
    assert!(matches!(
        c.check_rates("o", &[key("k", 2)]).await.unwrap(),
        RateVerdict::Refused { index: 0, .. }
    ));
}

#[tokio::test]
async fn many_concurrent_checks_admit_exactly_the_rate() {
    let Some(url) = redis_url() else { return };
    let prefix = unique();
    let a = started(&url, &prefix).await;
    let b = started(&url, &prefix).await;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let c = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            c.check_rates("o", &[key("busy", 60)]).await.unwrap() == RateVerdict::Admitted
        }));
    }
    let mut admitted = 0;
    for t in tasks {
        admitted += usize::from(t.await.unwrap());
    }
    // 60 at once; at most one more if the run crosses a one-second slot.
    assert!((60..=61).contains(&admitted), "{admitted}");
}

#[tokio::test]
async fn events_reach_the_other_instances_and_not_the_sender() {
    let Some(url) = redis_url() else { return };
    let prefix = unique();
    let (a, mut at_a) = started_listening(&url, &prefix).await;
    let (b, mut at_b) = started_listening(&url, &prefix).await;
    // Wait until both subscriptions are up (each announces itself with a Resync).
    for rx in [&mut at_a, &mut at_b] {
        let first = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
        assert_eq!(first.unwrap().unwrap(), Event::Resync);
    }
    a.publish(Event::Keys).await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(2), at_b.recv()).await;
    assert_eq!(got.unwrap().unwrap(), Event::Keys);
    b.publish(Event::Models).await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(2), at_a.recv()).await;
    // a sees b's event but never its own Keys.
    assert_eq!(got.unwrap().unwrap(), Event::Models);
    assert!(at_a.try_recv().is_err());
    assert_eq!(a.stats().events_published, 1);
    assert_eq!(a.stats().events_received, 1);
    // A circuit opening carries its channel and cooldown (ids may hold ':' and spaces).
    let opened = Event::ChannelOpened {
        channel: "config:pool:eu west".into(),
        cooldown_ms: 5000,
    };
    a.publish(opened.clone()).await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(2), at_b.recv()).await;
    assert_eq!(got.unwrap().unwrap(), opened);
    // Another deployment (another prefix) on the same Redis hears nothing.
    let (_other, mut at_other) = started_listening(&url, &unique()).await;
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(5), at_other.recv())
            .await
            .unwrap()
            .unwrap(),
        Event::Resync
    );
    a.publish(Event::Keys).await.unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(300), at_other.recv())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn an_unreachable_redis_is_down_and_never_waited_on() {
    if redis_url().is_none() {
        return;
    }
    let port = testing::free_port().unwrap();
    let c = Cluster::start(config(&format!("redis://127.0.0.1:{port}"), "down")).unwrap();
    assert!(!c.wait_up(Duration::from_millis(1500)).await);
    let started = Instant::now();
    for _ in 0..100 {
        assert!(c.check_rates("o", &[key("k", 1)]).await.is_err());
    }
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "checks against a down redis waited: {:?}",
        started.elapsed()
    );
    assert!(c.publish(Event::Keys).await.is_err());
    assert!(!c.stats().up);
    assert!(c.stats().errors >= 1, "the probe's failures are counted");
}

#[tokio::test]
async fn comes_back_by_itself_when_redis_does() {
    if redis_url().is_none() {
        return;
    }
    let port = testing::free_port().unwrap();
    let server = testing::RedisServer::start(port).unwrap();
    let (c, mut events) = started_listening(&format!("redis://127.0.0.1:{port}"), "flap").await;
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(5), events.recv())
            .await
            .unwrap()
            .unwrap(),
        Event::Resync
    );
    assert_eq!(
        c.check_rates("o", &[key("k", 1)]).await.unwrap(),
        RateVerdict::Admitted
    );
    server.kill();
    // The next command fails, and from then on it is down without waiting.
    assert!(c.check_rates("o", &[key("k", 1)]).await.is_err());
    assert!(!c.is_up());
    let server = testing::RedisServer::start(port).unwrap();
    assert!(
        c.wait_up(Duration::from_secs(4)).await,
        "not up again within the probe's period"
    );
    // A fresh server: the bucket is empty again.
    assert_eq!(
        c.check_rates("o", &[key("k", 1)]).await.unwrap(),
        RateVerdict::Admitted
    );
    // The subscription is back too, and says events may have been missed.
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(5), events.recv())
            .await
            .unwrap()
            .unwrap(),
        Event::Resync
    );
    server.kill();
}
