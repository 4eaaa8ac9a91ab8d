//! Stored responses of the Responses API (migration 18, `Store::responses`) on SQLite, PostgreSQL and
//! MySQL: round trips, scoping by organization, conversations, documents of megabytes, retention.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use gaia_store::responses::{ConversationError, MAX_JSON_BYTES, StoredResponse};
use gaia_store::{Backend, Store, StoreError, StoreOptions, testing};
use serde_json::{Value, json};

const ACME: &str = "0190a000-0000-7000-8000-00000000acme";
const GLOBEX: &str = "0190a000-0000-7000-8000-0000000globx";

/// Runs `scenario` on a fresh database of each backend (the servers' tests skip or fail as
/// `gaia_store::testing` says).
macro_rules! on_every_backend {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test]
            async fn sqlite() {
                let dir = tempfile::tempdir().unwrap();
                super::run(&gaia_store::testing::sqlite_file_url(dir.path()), super::$scenario).await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(url) = super::postgres().await {
                    super::run(&url, super::$scenario).await;
                }
            }

            #[tokio::test]
            async fn mysql() {
                if let Some(url) = super::mysql().await {
                    super::run(&url, super::$scenario).await;
                }
            }
        }
    )*};
}

on_every_backend!(
    round_trip_and_delete,
    another_organization_sees_nothing,
    conversations_follow_links_within_scope,
    megabytes_round_trip,
    too_large_is_refused_whole,
    purge_deletes_by_age_in_batches,
);

async fn postgres() -> Option<String> {
    let server = testing::postgres_url().unwrap()?;
    Some(testing::create_postgres_database(&server).await.unwrap())
}

async fn mysql() -> Option<String> {
    let server = testing::mysql_url().unwrap()?;
    Some(testing::create_mysql_database(&server).await.unwrap())
}

async fn run<F, Fut>(url: &str, scenario: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let store = Store::connect_and_migrate(url, &StoreOptions::default())
        .await
        .unwrap();
    // Migration 18 is applied, and applying again is a no-op.
    store.migrate().await.unwrap();
    let applied = store.applied_migrations().await.unwrap();
    assert!(
        applied
            .iter()
            .any(|m| m == "m20261205_000018_create_responses"),
        "{applied:?}"
    );
    scenario(store.clone()).await;
    store.close().await.unwrap();
}

/// A time with microseconds (what every backend keeps).
fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, day, hour, 30, 15).unwrap() + TimeDelta::microseconds(123_456)
}

fn response(id: &str, org: Option<&str>, previous: Option<&str>) -> StoredResponse {
    StoredResponse {
        id: id.to_owned(),
        organization_id: org.map(Into::into),
        api_key_id: org.map(|_| "0190a000-0000-7000-8000-0000000000k1".into()),
        created_at: at(5, 12),
        model: "anthropic/claude-sonnet-4-5".to_owned(),
        previous_response_id: previous.map(str::to_owned),
        status: "completed".to_owned(),
        input_items: json!([{"type": "message", "role": "user", "content": format!("turn {id}")}]),
        output: json!({
            "id": id, "object": "response", "status": "completed",
            "output": [{"id": format!("msg_{id}_0"), "type": "message", "role": "assistant",
                        "content": [{"type": "output_text", "text": "团队 🚀 \"quoted\"\n", "annotations": []}]}],
            "temperature": 0.5, "metadata": {}, "usage": null,
        }),
    }
}

async fn round_trip_and_delete(store: Store) {
    let responses = store.responses();
    let mut first = response("resp_round", Some(ACME), None);
    // Text a database might mangle: NUL (PostgreSQL refuses it in text), other controls, astral planes.
    first.input_items = json!([{"role": "user", "content": "a\u{0}b\u{1}c\u{7f} 😀 é"}]);
    first.created_at =
        Utc.with_ymd_and_hms(2040, 6, 1, 12, 34, 56).unwrap() + TimeDelta::microseconds(7);
    responses.insert(&first).await.unwrap();
    assert_eq!(
        responses.get("resp_round", Some(ACME)).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        responses.get("resp_round", None).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        responses
            .input_items("resp_round", Some(ACME))
            .await
            .unwrap(),
        Some(first.input_items.clone())
    );

    // An id already stored is a conflict, and the stored row is untouched.
    let mut again = response("resp_round", Some(GLOBEX), None);
    again.status = "incomplete".into();
    let err = responses.insert(&again).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(
        responses.get("resp_round", None).await.unwrap(),
        Some(first.clone())
    );

    // The bootstrap admin key's response has no organization; only the admin (unscoped) sees it.
    let admin = response("resp_admin", None, None);
    responses.insert(&admin).await.unwrap();
    assert_eq!(
        responses.get("resp_admin", None).await.unwrap(),
        Some(admin)
    );
    assert_eq!(responses.get("resp_admin", Some(ACME)).await.unwrap(), None);

    assert!(responses.delete("resp_round", Some(ACME)).await.unwrap());
    assert_eq!(responses.get("resp_round", Some(ACME)).await.unwrap(), None);
    assert_eq!(
        responses.input_items("resp_round", None).await.unwrap(),
        None
    );
    assert!(!responses.delete("resp_round", Some(ACME)).await.unwrap());
    assert!(responses.delete("resp_admin", None).await.unwrap());
    // Ids that name nothing — NUL included, which PostgreSQL cannot even compare — find nothing.
    for id in ["resp_never", "", "resp_\u{0}", &"x".repeat(500)] {
        assert_eq!(responses.get(id, None).await.unwrap(), None, "{id:?}");
        assert!(!responses.delete(id, Some(ACME)).await.unwrap());
    }
}

async fn another_organization_sees_nothing(store: Store) {
    let responses = store.responses();
    responses
        .insert(&response("resp_acme", Some(ACME), None))
        .await
        .unwrap();
    // Another organization: absent, exactly like an id never stored.
    assert_eq!(
        responses.get("resp_acme", Some(GLOBEX)).await.unwrap(),
        None
    );
    assert_eq!(
        responses
            .input_items("resp_acme", Some(GLOBEX))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        responses
            .conversation("resp_acme", Some(GLOBEX), 10)
            .await
            .unwrap(),
        None
    );
    assert!(!responses.delete("resp_acme", Some(GLOBEX)).await.unwrap());
    // …and its delete changed nothing.
    assert!(
        responses
            .get("resp_acme", Some(ACME))
            .await
            .unwrap()
            .is_some()
    );
    // A scope that is a prefix, a different case, or empty is another organization too.
    for scope in ["", "0190A000-0000-7000-8000-00000000ACME", &ACME[..20]] {
        assert_eq!(
            responses.get("resp_acme", Some(scope)).await.unwrap(),
            None,
            "{scope}"
        );
    }
}

fn ids(chain: &[StoredResponse]) -> Vec<&str> {
    chain.iter().map(|r| r.id.as_str()).collect()
}

async fn conversations_follow_links_within_scope(store: Store) {
    let responses = store.responses();
    // a ← b ← c ← d: three hops from d to the start; then GLOBEX's e continues ACME's d.
    let chain = [
        response("resp_a", Some(ACME), None),
        response("resp_b", Some(ACME), Some("resp_a")),
        response("resp_c", Some(ACME), Some("resp_b")),
        response("resp_d", Some(ACME), Some("resp_c")),
    ];
    for r in &chain {
        responses.insert(r).await.unwrap();
    }
    responses
        .insert(&response("resp_e", Some(GLOBEX), Some("resp_d")))
        .await
        .unwrap();

    let whole = responses
        .conversation("resp_d", Some(ACME), 3)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(whole, chain.to_vec(), "oldest first, whole rows");
    assert_eq!(
        ids(&responses
            .conversation("resp_d", None, 100)
            .await
            .unwrap()
            .unwrap()),
        ["resp_a", "resp_b", "resp_c", "resp_d"]
    );
    assert_eq!(
        ids(&responses
            .conversation("resp_a", Some(ACME), 0)
            .await
            .unwrap()
            .unwrap()),
        ["resp_a"]
    );
    assert_eq!(
        responses
            .conversation("resp_zz", Some(ACME), 3)
            .await
            .unwrap(),
        None
    );

    // The hop limit: three hops needed.
    let err = responses
        .conversation("resp_d", Some(ACME), 2)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            StoreError::Conversation(ConversationError::TooLong { response_id, max_hops: 2 })
                if response_id == "resp_d"
        ),
        "{err:?}"
    );

    // A link into another organization is a missing link; the admin follows it.
    let err = responses
        .conversation("resp_e", Some(GLOBEX), 10)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            StoreError::Conversation(ConversationError::MissingLink { response_id, previous_response_id })
                if response_id == "resp_e" && previous_response_id == "resp_d"
        ),
        "{err:?}"
    );
    assert_eq!(
        ids(&responses
            .conversation("resp_e", None, 10)
            .await
            .unwrap()
            .unwrap()),
        ["resp_a", "resp_b", "resp_c", "resp_d", "resp_e"]
    );

    // A deleted response in the middle breaks the chain after it, not before.
    assert!(responses.delete("resp_b", Some(ACME)).await.unwrap());
    let err = responses
        .conversation("resp_d", Some(ACME), 10)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            StoreError::Conversation(ConversationError::MissingLink { response_id, previous_response_id })
                if response_id == "resp_c" && previous_response_id == "resp_b"
        ),
        "{err:?}"
    );
    // The limit is checked before a missing link further back.
    assert!(matches!(
        responses.conversation("resp_d", Some(ACME), 1).await,
        Err(StoreError::Conversation(ConversationError::TooLong { .. }))
    ));
    assert_eq!(
        ids(&responses
            .conversation("resp_a", Some(ACME), 10)
            .await
            .unwrap()
            .unwrap()),
        ["resp_a"]
    );

    // A long conversation (and a cycle, which only a hand edit can make) stops at the limit.
    let mut previous = None;
    for i in 0..40 {
        let id = format!("resp_long_{i}");
        responses
            .insert(&response(&id, Some(ACME), previous.as_deref()))
            .await
            .unwrap();
        previous = Some(id);
    }
    let long = responses
        .conversation("resp_long_39", Some(ACME), 39)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(long.len(), 40);
    assert_eq!(
        (long[0].id.as_str(), long[39].id.as_str()),
        ("resp_long_0", "resp_long_39")
    );
    assert!(matches!(
        responses.conversation("resp_long_39", Some(ACME), 38).await,
        Err(StoreError::Conversation(ConversationError::TooLong {
            max_hops: 38,
            ..
        }))
    ));
    responses
        .insert(&response("resp_x", Some(ACME), Some("resp_y")))
        .await
        .unwrap();
    responses
        .insert(&response("resp_y", Some(ACME), Some("resp_x")))
        .await
        .unwrap();
    assert!(matches!(
        responses.conversation("resp_x", Some(ACME), 25).await,
        Err(StoreError::Conversation(ConversationError::TooLong {
            max_hops: 25,
            ..
        }))
    ));
}

/// `n` bytes of base64-looking text.
fn payload(n: usize) -> String {
    "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODkrLw=="
        .chars()
        .cycle()
        .take(n)
        .collect()
}

/// A conversation turn with an image: 5 MiB of input items, read back byte for byte on every backend.
async fn megabytes_round_trip(store: Store) {
    let responses = store.responses();
    let mut big = response("resp_big", Some(ACME), None);
    big.input_items = json!([
        {"type": "message", "role": "user", "content": [
            {"type": "input_text", "text": "What is in this picture? 图片 🖼️"},
            {"type": "input_image", "image_url": format!("data:image/png;base64,{}", payload(5 * 1024 * 1024)), "detail": "auto"},
        ]},
    ]);
    let text_len = serde_json::to_string(&big.input_items).unwrap().len();
    assert!(text_len > 5 * 1024 * 1024);
    responses.insert(&big).await.unwrap();
    assert_eq!(
        responses.get("resp_big", Some(ACME)).await.unwrap(),
        Some(big.clone())
    );
    assert_eq!(
        responses.input_items("resp_big", Some(ACME)).await.unwrap(),
        Some(big.input_items.clone())
    );
    // Continued: the big turn comes back inside the conversation too.
    responses
        .insert(&response("resp_next", Some(ACME), Some("resp_big")))
        .await
        .unwrap();
    let chain = responses
        .conversation("resp_next", Some(ACME), 5)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(chain[0], big);
}

/// What does not fit is refused whole — nothing written, the store still usable. Past 16 MiB of JSON on
/// every backend; on MySQL also a row past the server's `max_allowed_packet`.
async fn too_large_is_refused_whole(store: Store) {
    let responses = store.responses();
    let mut huge = response("resp_huge", Some(ACME), None);
    huge.output = Value::String(payload(MAX_JSON_BYTES));
    let err = responses.insert(&huge).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::TooLarge(m) if m.contains("output")),
        "{err:?}"
    );
    assert_eq!(responses.get("resp_huge", None).await.unwrap(), None);

    // Two documents of 9 MiB each: within the columns everywhere; on MySQL, within the packet or refused.
    let mut pair = response("resp_pair", Some(ACME), None);
    pair.input_items = json!([payload(9 * 1024 * 1024)]);
    pair.output = Value::String(payload(9 * 1024 * 1024));
    let packet = mysql_packet(&store).await;
    match responses.insert(&pair).await {
        Ok(()) => {
            assert!(packet.is_none_or(|p| p > 18 * 1024 * 1024), "{packet:?}");
            assert_eq!(responses.get("resp_pair", None).await.unwrap(), Some(pair));
        }
        Err(StoreError::TooLarge(m)) => {
            assert!(packet.is_some_and(|p| p <= 18 * 1024 * 1024 + 65536), "{m}");
            assert!(m.contains("max_allowed_packet"), "{m}");
            assert_eq!(responses.get("resp_pair", None).await.unwrap(), None);
        }
        Err(e) => panic!("{e:?}"),
    }
    responses
        .insert(&response("resp_after", Some(ACME), None))
        .await
        .unwrap();
    assert!(
        responses
            .get("resp_after", Some(ACME))
            .await
            .unwrap()
            .is_some()
    );
}

/// MySQL's `max_allowed_packet`; `None` on the other backends.
async fn mysql_packet(store: &Store) -> Option<u64> {
    if store.backend() != Backend::MySql {
        return None;
    }
    let url = std::env::var("GAIA_TEST_MYSQL_URL").unwrap();
    use sea_orm::{ConnectionTrait, Database, Statement};
    let db = Database::connect(url.as_str()).await.unwrap();
    let row = db
        .query_one_raw(Statement::from_string(
            sea_orm::DbBackend::MySql,
            "SELECT CAST(@@max_allowed_packet AS SIGNED) AS n",
        ))
        .await
        .unwrap()
        .unwrap();
    let n: i64 = row.try_get("", "n").unwrap();
    db.close().await.unwrap();
    Some(n as u64)
}

async fn purge_deletes_by_age_in_batches(store: Store) {
    let responses = store.responses();
    // 1,100 responses of December 1 (more than two batches), 3 of December 4, one on the cut-off, one of 2040.
    for i in 0..1100 {
        let mut r = response(&format!("resp_old_{i}"), Some(ACME), None);
        r.created_at = at(1, 0) + TimeDelta::seconds(i);
        responses.insert(&r).await.unwrap();
    }
    for (id, created_at) in [
        ("resp_recent_1", at(4, 1)),
        ("resp_recent_2", at(4, 2)),
        ("resp_recent_3", at(4, 3)),
        ("resp_cutoff", at(3, 0)),
        (
            "resp_future",
            Utc.with_ymd_and_hms(2040, 1, 1, 0, 0, 0).unwrap(),
        ),
    ] {
        let mut r = response(id, Some(GLOBEX), None);
        r.created_at = created_at;
        responses.insert(&r).await.unwrap();
    }
    // Created before the cut-off goes, whatever the organization; at or after it stays.
    assert_eq!(responses.purge_older_than(at(3, 0)).await.unwrap(), 1100);
    assert_eq!(responses.get("resp_old_0", None).await.unwrap(), None);
    assert_eq!(responses.get("resp_old_1099", None).await.unwrap(), None);
    for id in [
        "resp_recent_1",
        "resp_recent_3",
        "resp_cutoff",
        "resp_future",
    ] {
        assert!(responses.get(id, None).await.unwrap().is_some(), "{id}");
    }
    assert_eq!(responses.purge_older_than(at(3, 0)).await.unwrap(), 0);
    assert_eq!(responses.purge_older_than(at(4, 2)).await.unwrap(), 2);
    assert!(
        responses
            .get("resp_recent_2", None)
            .await
            .unwrap()
            .is_some()
    );
    // A cut-off past 2038 works on MySQL too (DATETIME(6)).
    assert_eq!(
        responses
            .purge_older_than(Utc.with_ymd_and_hms(2040, 1, 1, 0, 0, 1).unwrap())
            .await
            .unwrap(),
        3
    );
}
