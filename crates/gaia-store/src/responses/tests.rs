//! The checks and the chain's decision, without a database (the repository on every backend:
//! `tests/responses.rs`).

use chrono::Utc;
use serde_json::{Value, json};

use super::chain::{ConversationError, Link, complete};
use super::checks::{depth, fits_mysql_packet, storable};
use super::{MAX_JSON_BYTES, MAX_JSON_DEPTH, StoredResponse};
use crate::StoreError;

fn nested(levels: usize) -> Value {
    (0..levels).fold(json!(1), |inner, _| json!([inner]))
}

fn response() -> StoredResponse {
    StoredResponse {
        id: "resp_1".into(),
        organization_id: Some("org".into()),
        api_key_id: Some("key".into()),
        created_at: Utc::now(),
        model: "openai/gpt-4o".into(),
        previous_response_id: None,
        status: "completed".into(),
        input_items: json!([]),
        output: json!({}),
    }
}

#[test]
fn depth_counts_levels_of_arrays_and_objects() {
    assert_eq!(depth(&json!("text")), 0);
    assert_eq!(depth(&json!([])), 1);
    assert_eq!(depth(&json!({"a": [1, {"b": []}], "c": 2})), 4);
    assert_eq!(depth(&nested(500)), 500);
}

/// The depth bound is serde_json's own: the deepest document stored is read back, one level more is not.
#[test]
fn the_deepest_document_stored_is_the_deepest_serde_json_reads() {
    let deepest = serde_json::to_string(&nested(MAX_JSON_DEPTH)).unwrap();
    assert!(serde_json::from_str::<Value>(&deepest).is_ok());
    let deeper = serde_json::to_string(&nested(MAX_JSON_DEPTH + 1)).unwrap();
    assert!(serde_json::from_str::<Value>(&deeper).is_err());

    let mut r = response();
    r.output = nested(MAX_JSON_DEPTH);
    assert!(storable(&r).is_ok());
    r.output = nested(MAX_JSON_DEPTH + 1);
    let err = storable(&r).unwrap_err();
    assert!(
        matches!(&err, StoreError::TooLarge(m) if m.contains("output is nested")),
        "{err}"
    );
}

#[test]
fn documents_and_fields_past_their_columns_are_refused_not_cut() {
    let mut r = response();
    // A string of exactly MAX_JSON_BYTES of JSON (two bytes of quotes) is stored; one byte more is not.
    r.input_items = json!("x".repeat(MAX_JSON_BYTES - 2));
    assert!(storable(&r).is_ok());
    r.input_items = json!("x".repeat(MAX_JSON_BYTES - 1));
    assert!(matches!(storable(&r), Err(StoreError::TooLarge(m)) if m.contains("input_items")));

    for (field, change) in [
        (
            "id",
            (|r: &mut StoredResponse| r.id = "r".repeat(65)) as fn(&mut StoredResponse),
        ),
        ("organization_id", |r| {
            r.organization_id = Some("o".repeat(37).into())
        }),
        ("api_key_id", |r| r.api_key_id = Some("k".repeat(37).into())),
        ("model", |r| r.model = "m".repeat(257)),
        ("previous_response_id", |r| {
            r.previous_response_id = Some("p".repeat(65))
        }),
        ("status", |r| r.status = "s".repeat(33)),
    ] {
        let mut r = response();
        change(&mut r);
        let err = storable(&r).unwrap_err();
        assert!(
            matches!(&err, StoreError::TooLarge(m) if m.contains(&format!("'s {field} has"))),
            "{field}: {err}"
        );
    }
    // Widths count characters, as the columns do: 64 four-byte characters fit an id.
    let mut r = response();
    r.id = "🚀".repeat(64);
    assert!(storable(&r).is_ok());
}

#[test]
fn a_mysql_row_must_fit_the_servers_packet() {
    let sixteen_mib = 16 * 1024 * 1024;
    assert!(fits_mysql_packet(5 * 1024 * 1024, sixteen_mib).is_ok());
    let err = fits_mysql_packet(sixteen_mib as usize - 1000, sixteen_mib).unwrap_err();
    assert!(
        matches!(&err, StoreError::TooLarge(m) if m.contains("max_allowed_packet = 16777216")),
        "{err}"
    );
    assert!(fits_mysql_packet(usize::MAX, 1 << 30).is_err());
}

fn link(id: &str, previous: Option<&str>) -> Link {
    Link {
        id: id.into(),
        previous: previous.map(Into::into),
    }
}

#[test]
fn a_walk_is_complete_broken_or_too_long() {
    assert_eq!(complete("c", &[], 10), Ok(None));
    let whole = [link("c", Some("b")), link("b", Some("a")), link("a", None)];
    assert_eq!(
        complete("c", &whole, 2),
        Ok(Some(vec!["c".into(), "b".into(), "a".into()]))
    );
    // Two hops needed, one allowed: the walk stopped at the limit with a link left.
    assert_eq!(
        complete("c", &whole[..2], 1),
        Err(ConversationError::TooLong {
            response_id: "c".into(),
            max_hops: 1
        })
    );
    // The walk stopped before the limit: "a" is not visible.
    assert_eq!(
        complete("c", &whole[..2], 5),
        Err(ConversationError::MissingLink {
            response_id: "b".into(),
            previous_response_id: "a".into()
        })
    );
    assert_eq!(
        complete("a", &[link("a", Some("z"))], 0),
        Err(ConversationError::TooLong {
            response_id: "a".into(),
            max_hops: 0
        })
    );
    assert_eq!(
        complete("a", &[link("a", None)], 0),
        Ok(Some(vec!["a".into()]))
    );
}

#[test]
fn conversation_errors_are_400s_naming_previous_response_id() {
    let missing: gaia_core::GaiaError = StoreError::from(ConversationError::MissingLink {
        response_id: "resp_b".into(),
        previous_response_id: "resp_a".into(),
    })
    .into();
    assert_eq!(missing.kind, gaia_core::ErrorKind::InvalidRequest);
    assert_eq!(missing.param.as_deref(), Some("previous_response_id"));
    assert_eq!(missing.code.as_deref(), Some("previous_response_not_found"));
    let too_large: gaia_core::GaiaError = StoreError::TooLarge("x".into()).into();
    assert_eq!(too_large.kind, gaia_core::ErrorKind::PayloadTooLarge);
}
