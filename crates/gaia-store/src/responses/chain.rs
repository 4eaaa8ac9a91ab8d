//! Following a conversation: one recursive query walks the `previous_response_id` links from a response
//! back to its start (ids and links only, each hop scoped), then [`complete`] decides whether the chain
//! reached its start, broke, or was too long.
//!
//! `WITH RECURSIVE` runs the same on SQLite, PostgreSQL ≥ 8.4, MySQL ≥ 8.0 and MariaDB ≥ 10.2; only the
//! placeholders differ (`$n` on PostgreSQL, `?` elsewhere). Each step joins on the primary key, so it adds
//! at most one row, and `depth < max_hops` bounds the recursion whatever the links (a cycle included).

use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

use crate::{Store, StoreError};

/// Why a stored conversation cannot be continued. The handler answers 400 (`previous_response_id`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConversationError {
    /// `response_id` continues `previous_response_id`, which the caller cannot see: deleted, removed by
    /// retention, or another organization's.
    #[error(
        "response '{previous_response_id}', which '{response_id}' continues, is not stored (deleted, expired or another organization's)"
    )]
    MissingLink {
        response_id: String,
        previous_response_id: String,
    },
    /// The conversation ending with `response_id` has more than `max_hops` previous responses.
    #[error("the conversation of '{response_id}' has more than {max_hops} previous responses")]
    TooLong { response_id: String, max_hops: u32 },
}

/// One row of the walk: a response and the one it continued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Link {
    pub id: String,
    pub previous: Option<String>,
}

fn walk_sql(backend: DbBackend, scoped: bool) -> String {
    let (id, org, max) = match backend {
        DbBackend::Postgres if scoped => ("$1", "$2", "$3"),
        DbBackend::Postgres => ("$1", "", "$2"),
        _ => ("?", "?", "?"),
    };
    let (anchor_scope, step_scope) = if scoped {
        (
            format!(" AND organization_id = {org}"),
            format!(" AND r.organization_id = {org}"),
        )
    } else {
        (String::new(), String::new())
    };
    format!(
        "WITH RECURSIVE chain (id, previous_response_id, depth) AS (\
         SELECT id, previous_response_id, 0 FROM responses WHERE id = {id}{anchor_scope} \
         UNION ALL \
         SELECT r.id, r.previous_response_id, chain.depth + 1 FROM responses r \
         JOIN chain ON r.id = chain.previous_response_id \
         WHERE chain.depth < {max}{step_scope}) \
         SELECT id, previous_response_id FROM chain ORDER BY depth"
    )
}

/// The links from `id` back towards the start, newest first (row `i` is `i` hops from `id`); empty when
/// `scope` cannot see `id`.
pub(super) async fn links(
    store: &Store,
    id: &str,
    scope: Option<&str>,
    max_hops: u32,
) -> Result<Vec<Link>, StoreError> {
    let db = store.conn();
    let backend = db.get_database_backend();
    let max = Value::BigInt(Some(i64::from(max_hops)));
    let id = Value::String(Some(id.to_owned()));
    let values = match (scope, backend) {
        (None, _) => vec![id, max],
        (Some(org), DbBackend::Postgres) => vec![id, org.into(), max],
        (Some(org), _) => vec![id, org.into(), max, org.into()],
    };
    let sql = walk_sql(backend, scope.is_some());
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    rows.into_iter()
        .map(|row| {
            Ok(Link {
                id: row.try_get("", "id")?,
                previous: row.try_get("", "previous_response_id")?,
            })
        })
        .collect()
}

/// The ids of the whole conversation, `id` first, when the walk reached a response that continues none;
/// `None` when `id` was not found; the reason otherwise.
pub(super) fn complete(
    id: &str,
    links: &[Link],
    max_hops: u32,
) -> Result<Option<Vec<String>>, ConversationError> {
    let Some(oldest) = links.last() else {
        return Ok(None);
    };
    match &oldest.previous {
        None => Ok(Some(links.iter().map(|l| l.id.clone()).collect())),
        Some(_) if links.len() > max_hops as usize => Err(ConversationError::TooLong {
            response_id: id.to_owned(),
            max_hops,
        }),
        Some(previous) => Err(ConversationError::MissingLink {
            response_id: oldest.id.clone(),
            previous_response_id: previous.clone(),
        }),
    }
}
