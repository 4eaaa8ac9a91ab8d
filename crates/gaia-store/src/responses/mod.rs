//! Responses of the Responses API kept with `store: true` (specs/responses.md ): the table
//! `responses`, reached through [`Store::responses`].
//!
//! - every read and delete is **scoped**: `scope` is the caller's organization id, and a response of
//!   another organization (or of the bootstrap admin key, stored without one) reads as absent — `None`,
//!   `false` — exactly as an id never stored does, so the handler answers 404 without telling the two apart;
//!   `scope: None` (the admin key) reaches every row;
//! - `input_items` and `output` are JSON documents in the API and JSON text in the database. A row is
//!   written whole or refused ([`StoreError::TooLarge`]), never cut: see [`MAX_JSON_BYTES`] and `checks`;
//! - [`Responses::conversation`] follows `previous_response_id` links, each scoped, in one recursive query
//!   (`chain`);
//! - retention deletes by `created_at`, in batches ([`Responses::purge_older_than`]).
//!
//! Errors: a duplicate id is [`StoreError::Conflict`] (409); a row too large for some backend
//! [`StoreError::TooLarge`] (413); a conversation that cannot be followed to its start
//! [`StoreError::Conversation`] (400).

mod chain;
mod checks;

#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use gaia_core::{ApiKeyId, OrganizationId};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select, Set,
};

use crate::entity::response::{self, ActiveModel, Column, Entity};
use crate::rows::conflict_if_unique;
use crate::{Backend, Store, StoreError};

pub use chain::ConversationError;
pub use checks::{MAX_JSON_BYTES, MAX_JSON_DEPTH};

/// Widest `id` and `previous_response_id` (characters).
pub const ID_CHARS: usize = 64;

/// Rows deleted per statement by [`Responses::purge_older_than`]: a row can hold megabytes, so a purge
/// after a long pause never becomes one huge transaction.
const PURGE_BATCH: u64 = 500;

/// A response as stored: what [`Responses::insert`] takes and [`Responses::get`] gives back.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    /// `resp_…`, at most [`ID_CHARS`] characters.
    pub id: String,
    /// The caller's organization; `None` for the bootstrap admin key (then only an unscoped read finds it).
    pub organization_id: Option<OrganizationId>,
    /// The key that created it; `None` for the bootstrap admin key.
    pub api_key_id: Option<ApiKeyId>,
    /// Stored to the microsecond (what every backend keeps).
    pub created_at: DateTime<Utc>,
    /// The registry id of the model that served (at most 256 characters).
    pub model: String,
    /// The response this one continued (at most [`ID_CHARS`] characters).
    pub previous_response_id: Option<String>,
    /// `completed`, `incomplete`, `failed`, … (at most 32 characters).
    pub status: String,
    /// The request's input items as the client sent them after normalisation: a JSON array.
    pub input_items: serde_json::Value,
    /// The response object as answered.
    pub output: serde_json::Value,
}

/// What [`Responses::insert`] takes: the same fields as a stored response.
pub type NewStoredResponse = StoredResponse;

/// The repository of stored responses, borrowed from a [`Store`] (`store.responses()`).
#[derive(Debug, Clone, Copy)]
pub struct Responses<'a> {
    store: &'a Store,
}

impl Store {
    /// Stored responses of the Responses API.
    pub fn responses(&self) -> Responses<'_> {
        Responses { store: self }
    }
}

/// `select` limited to what `scope` may see: an organization's own rows, or every row for `None`.
fn scoped<E: EntityTrait>(select: Select<E>, scope: Option<&str>) -> Select<E> {
    match scope {
        Some(org) => select.filter(Column::OrganizationId.eq(org)),
        None => select,
    }
}

fn by_id(id: &str, scope: Option<&str>) -> Condition {
    let cond = Condition::all().add(Column::Id.eq(id));
    match scope {
        Some(org) => cond.add(Column::OrganizationId.eq(org)),
        None => cond,
    }
}

fn parse_json(id: &str, column: &str, text: &str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(text).map_err(|e| {
        StoreError::Corrupt(format!(
            "{column} of stored response '{id}' is not JSON: {e}"
        ))
    })
}

fn to_stored(m: response::Model) -> Result<StoredResponse, StoreError> {
    let input_items = parse_json(&m.id, "input_items", &m.input_items)?;
    let output = parse_json(&m.id, "output", &m.output)?;
    Ok(StoredResponse {
        id: m.id,
        organization_id: m.organization_id.map(OrganizationId::from),
        api_key_id: m.api_key_id.map(ApiKeyId::from),
        created_at: m.created_at,
        model: m.model,
        previous_response_id: m.previous_response_id,
        status: m.status,
        input_items,
        output,
    })
}

impl Responses<'_> {
    /// Stores `response`. An id already stored (by any organization) is [`StoreError::Conflict`]; a row
    /// some backend could not hold whole is [`StoreError::TooLarge`] and nothing is written.
    pub async fn insert(&self, response: &StoredResponse) -> Result<(), StoreError> {
        let (input_items, output) = checks::storable(response)?;
        if self.store.backend() == Backend::MySql {
            checks::fits_mysql_packet(
                input_items.len() + output.len(),
                self.store.mysql_max_packet().await?,
            )?;
        }
        let row = ActiveModel {
            id: Set(response.id.clone()),
            organization_id: Set(response
                .organization_id
                .as_ref()
                .map(|o| o.as_str().to_owned())),
            api_key_id: Set(response.api_key_id.as_ref().map(|k| k.as_str().to_owned())),
            created_at: Set(response.created_at),
            model: Set(response.model.clone()),
            previous_response_id: Set(response.previous_response_id.clone()),
            status: Set(response.status.clone()),
            input_items: Set(input_items),
            output: Set(output),
        };
        let taken = || format!("a response with id '{}' is already stored", response.id);
        Entity::insert(row)
            .exec_without_returning(self.store.conn())
            .await
            .map_err(conflict_if_unique(taken))?;
        Ok(())
    }

    /// The response `id` if `scope` may see it (`None`: any organization's).
    pub async fn get(
        &self,
        id: &str,
        scope: Option<&str>,
    ) -> Result<Option<StoredResponse>, StoreError> {
        Entity::find()
            .filter(by_id(id, scope))
            .one(self.store.conn())
            .await?
            .map(to_stored)
            .transpose()
    }

    /// Only the input items of the response `id` (a JSON array), if `scope` may see it: what
    /// `GET /v1/responses/{id}/input_items` lists, without reading the output.
    pub async fn input_items(
        &self,
        id: &str,
        scope: Option<&str>,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let text: Option<String> = Entity::find()
            .select_only()
            .column(Column::InputItems)
            .filter(by_id(id, scope))
            .into_tuple()
            .one(self.store.conn())
            .await?;
        text.map(|t| parse_json(id, "input_items", &t)).transpose()
    }

    /// Deletes the response `id` if `scope` may see it; whether it did. The responses that continued it
    /// are kept (their conversation then stops at a missing link: see [`Responses::conversation`]).
    pub async fn delete(&self, id: &str, scope: Option<&str>) -> Result<bool, StoreError> {
        // PostgreSQL cannot even compare text holding NUL, and nothing stored holds it (see `conn`'s
        // `finds_nothing`, which answers reads so; a delete is not a read).
        if id.contains('\0') || scope.is_some_and(|s| s.contains('\0')) {
            return Ok(false);
        }
        let res = Entity::delete_many()
            .filter(by_id(id, scope))
            .exec(self.store.conn())
            .await?;
        Ok(res.rows_affected > 0)
    }

    /// The conversation that ends with the response `id`: its chain of `previous_response_id` links,
    /// **oldest first, `id` last**, every response in it visible to `scope`.
    ///
    /// - `Ok(None)`: `id` itself is not visible to `scope` (never stored, deleted, expired, another
    ///   organization's) — the handler's 404 for `previous_response_id`.
    /// - [`StoreError::Conversation`]`(`[`ConversationError::MissingLink`]`)`: a response of the chain names
    ///   a previous response that is not visible (deleted, expired, another organization's).
    /// - [`StoreError::Conversation`]`(`[`ConversationError::TooLong`]`)`: reaching the start would follow
    ///   more than `max_hops` links, i.e. the conversation holds more than `max_hops + 1` responses (a
    ///   cycle of links, which only a hand edit can make, ends here too). `max_hops = 0` accepts only a
    ///   response that continues none. On MySQL 8, keep it below 1000 (`cte_max_recursion_depth`).
    ///
    /// Two statements: one recursive query over ids and links only, then the rows themselves, so a chain
    /// that is refused never reads its documents.
    pub async fn conversation(
        &self,
        id: &str,
        scope: Option<&str>,
        max_hops: u32,
    ) -> Result<Option<Vec<StoredResponse>>, StoreError> {
        let links = chain::links(self.store, id, scope, max_hops).await?;
        let Some(ids) = chain::complete(id, &links, max_hops)? else {
            return Ok(None);
        };
        let mut rows = scoped(Entity::find(), scope)
            .filter(Column::Id.is_in(ids.iter().map(String::as_str)))
            .all(self.store.conn())
            .await?;
        // Oldest first; a row deleted between the two statements is a missing link like any other.
        let mut chain = Vec::with_capacity(ids.len());
        for (i, wanted) in ids.iter().enumerate() {
            let Some(at) = rows.iter().position(|r| &r.id == wanted) else {
                return match i.checked_sub(1).and_then(|newer| ids.get(newer)) {
                    None => Ok(None),
                    Some(newer) => Err(ConversationError::MissingLink {
                        response_id: newer.clone(),
                        previous_response_id: wanted.clone(),
                    }
                    .into()),
                };
            };
            chain.push(to_stored(rows.swap_remove(at))?);
        }
        chain.reverse();
        Ok(Some(chain))
    }

    /// Deletes every response created before `cutoff` (retention), 500 rows per statement (oldest first);
    /// how many it deleted.
    pub async fn purge_older_than(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        let db = self.store.conn();
        let mut deleted = 0;
        loop {
            let ids: Vec<String> = Entity::find()
                .select_only()
                .column(Column::Id)
                .filter(Column::CreatedAt.lt(cutoff))
                .order_by_asc(Column::CreatedAt)
                .limit(PURGE_BATCH)
                .into_tuple()
                .all(db)
                .await?;
            let found = ids.len() as u64;
            if found == 0 {
                break;
            }
            let res = Entity::delete_many()
                .filter(Column::Id.is_in(ids))
                .filter(Column::CreatedAt.lt(cutoff))
                .exec(db)
                .await?;
            deleted += res.rows_affected;
            if found < PURGE_BATCH {
                break;
            }
        }
        Ok(deleted)
    }
}
