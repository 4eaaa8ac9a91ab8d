use chrono::Duration;
use gaia_core::Limits;

use super::*;

async fn limiter() -> Arc<Limiter> {
    let store = Store::connect_and_migrate("sqlite::memory:", &Default::default())
        .await
        .unwrap();
    Arc::new(Limiter::new(store, None))
}

fn limits(key: Limits, org: Limits) -> AppliedLimits {
    AppliedLimits {
        key,
        organization: org,
    }
}

/// A limiter whose key `k` (of organization `o`) has a rate limit of `rpm`, after `n` of its requests
/// were admitted at `now`; and those limits.
async fn burst(rpm: i32, n: usize, now: DateTime<Utc>) -> (Arc<Limiter>, AppliedLimits) {
    let l = limiter().await;
    let lim = limits(
        Limits {
            rate_limit_rpm: Some(rpm),
            ..Default::default()
        },
        Limits::default(),
    );
    for _ in 0..n {
        l.admit(&"k".into(), &"o".into(), &lim, now).await.unwrap();
    }
    (l, lim)
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[tokio::test]
async fn a_request_limit_admits_exactly_the_limit_then_refuses_until_next_month() {
    let l = limiter().await;
    let lim = limits(
        Limits {
            monthly_requests: Some(10),
            ..Default::default()
        },
        Limits::default(),
    );
    let now = at("2026-11-30T23:59:00Z");
    for _ in 0..10 {
        l.admit(&"k".into(), &"o".into(), &lim, now).await.unwrap();
    }
    let err = l
        .admit(&"k".into(), &"o".into(), &lim, now)
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (429, "organization_limit_error")
    );
    assert!(
        err.message.contains("2026-12-01T00:00:00Z"),
        "{}",
        err.message
    );
    assert_eq!(err.retry_after, Some(60));
    // The month rolls over: a fresh budget.
    l.admit(&"k".into(), &"o".into(), &lim, at("2026-12-01T00:00:01Z"))
        .await
        .unwrap();
}

#[tokio::test]
async fn concurrent_requests_cannot_pass_a_request_limit() {
    let l = limiter().await;
    let lim = limits(
        Limits::default(),
        Limits {
            monthly_requests: Some(37),
            ..Default::default()
        },
    );
    let now = Utc::now();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let l = l.clone();
        tasks.push(tokio::spawn(async move {
            l.admit(&format!("k{}", i % 7).into(), &"o".into(), &lim, now)
                .await
                .is_ok()
        }));
    }
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap() {
            ok += 1;
        }
    }
    assert_eq!(ok, 37);
}

#[tokio::test]
async fn token_and_cost_limits_count_actual_usage() {
    let l = limiter().await;
    let lim = limits(
        Limits {
            monthly_tokens: Some(100),
            ..Default::default()
        },
        Limits {
            monthly_cost_nanos: Some(1_000),
            ..Default::default()
        },
    );
    let now = Utc::now();
    let a = l.admit(&"k".into(), &"o".into(), &lim, now).await.unwrap();
    l.add_usage(&a, 60, 400, now);
    let a = l.admit(&"k".into(), &"o".into(), &lim, now).await.unwrap();
    l.add_usage(&a, 60, 400, now);
    let err = l
        .admit(&"k".into(), &"o".into(), &lim, now)
        .await
        .unwrap_err();
    assert!(err.message.contains("token"), "{}", err.message);
    assert_eq!(l.month_totals(Scope::Organization, "o", now).requests, 2);
    // Another key of the same organization hits the organization's cost limit.
    let other = limits(
        Limits::default(),
        Limits {
            monthly_cost_nanos: Some(800),
            ..Default::default()
        },
    );
    let err = l
        .admit(&"k2".into(), &"o".into(), &other, now)
        .await
        .unwrap_err();
    assert!(
        err.message.contains("cost") && err.message.contains("organization"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn confirmed_usage_never_makes_the_total_dip() {
    let l = limiter().await;
    let now = Utc::now();
    let a = l
        .admit(&"k".into(), &"o".into(), &AppliedLimits::default(), now)
        .await
        .unwrap();
    l.add_usage(&a, 50, 7, now);
    assert_eq!(l.month_totals(Scope::Key, "k", now).tokens, 50);
    l.confirm_usage(&a, 50, 7, now);
    assert_eq!(l.month_totals(Scope::Key, "k", now).tokens, 50);
    assert_eq!(l.month_totals(Scope::Organization, "o", now).requests, 1);
}

#[tokio::test]
async fn requests_recorded_before_a_limit_count_against_it() {
    let l = limiter().await;
    let now = Utc::now();
    for _ in 0..3 {
        let a = l
            .admit(&"k".into(), &"o".into(), &AppliedLimits::default(), now)
            .await
            .unwrap();
        l.add_usage(&a, 1, 1, now);
    }
    let lim = limits(
        Limits::default(),
        Limits {
            monthly_requests: Some(4),
            ..Default::default()
        },
    );
    l.admit(&"k".into(), &"o".into(), &lim, now).await.unwrap();
    assert_eq!(
        l.admit(&"k".into(), &"o".into(), &lim, now)
            .await
            .unwrap_err()
            .status(),
        429
    );
}

#[tokio::test]
async fn rpm_refusals_carry_retry_after() {
    let now = Utc::now();
    let (l, lim) = burst(3, 3, now).await;
    let err = l
        .admit(&"k".into(), &"o".into(), &lim, now)
        .await
        .unwrap_err();
    assert_eq!((err.status(), err.code()), (429, "rate_limit_error"));
    assert!(err.retry_after.is_some_and(|s| (1..=20).contains(&s)));
    l.admit(&"k".into(), &"o".into(), &lim, now + Duration::seconds(21))
        .await
        .unwrap();
}

#[tokio::test]
async fn very_high_rates_are_not_capped_at_one_per_millisecond() {
    // 600,000/min = 10 per millisecond: a burst of 5,000 at one instant is within the burst allowance.
    burst(600_000, 5_000, Utc::now()).await;
}

#[tokio::test]
async fn a_default_rpm_applies_to_keys_without_their_own() {
    let store = Store::connect_and_migrate("sqlite::memory:", &Default::default())
        .await
        .unwrap();
    let l = Arc::new(Limiter::new(store, Some(1)));
    let now = Utc::now();
    l.admit(&"k".into(), &"o".into(), &AppliedLimits::default(), now)
        .await
        .unwrap();
    assert_eq!(
        l.admit(&"k".into(), &"o".into(), &AppliedLimits::default(), now)
            .await
            .unwrap_err()
            .status(),
        429
    );
}

#[tokio::test]
async fn a_request_the_organization_refuses_costs_its_key_nothing() {
    let l = limiter().await;
    let rpm = |n| Limits {
        rate_limit_rpm: Some(n),
        ..Default::default()
    };
    let both = limits(rpm(2), rpm(1));
    let now = Utc::now();
    l.admit(&"k".into(), &"o".into(), &both, now).await.unwrap();
    // The organization's one request a minute is spent: refused twice, by the organization.
    for _ in 0..2 {
        let err = l
            .admit(&"k".into(), &"o".into(), &both, now)
            .await
            .unwrap_err();
        assert!(err.message.contains("organization"), "{}", err.message);
    }
    // Without the organization's limit, the key still has its second request of the minute: the two
    // refusals did not charge it.
    let key_only = limits(rpm(2), Limits::default());
    l.admit(&"k".into(), &"o".into(), &key_only, now)
        .await
        .unwrap();
    assert_eq!(
        l.admit(&"k".into(), &"o".into(), &key_only, now)
            .await
            .unwrap_err()
            .status(),
        429
    );
}
