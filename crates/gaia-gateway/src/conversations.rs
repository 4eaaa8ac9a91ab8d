//! Responses API state (specs/responses.md ): what `store: true` keeps, and the conversation a
//! `previous_response_id` continues. The rules live here, not in the handler: a caller sees only its own
//! organization's responses (the admin key sees all), a conversation is followed to its start or refused,
//! and a request's own input items are kept as the client sent them (a string becomes one user message).

use chrono::{DateTime, Utc};
use gaia_core::GaiaError;
use gaia_orgs::auth::Principal;
use gaia_store::Store;
use gaia_store::responses::StoredResponse;
use serde_json::{Value, json};

/// The longest conversation `previous_response_id` follows (responses before the one continued).
pub const MAX_PREVIOUS_RESPONSES: u32 = 200;

/// Stored responses, seen through a caller's scope. Cheap to clone.
#[derive(Clone)]
pub struct Conversations {
    store: Store,
}

/// A response to keep, as the handler knows it once answered.
pub struct Answered<'a> {
    pub id: &'a str,
    pub principal: &'a Principal,
    pub created_at: DateTime<Utc>,
    pub model: &'a str,
    pub previous_response_id: Option<&'a str>,
    /// This request's input items (see [`input_items`]).
    pub input_items: Value,
    /// The response object as answered.
    pub response: Value,
}

/// A request's `input` as items in the reference's item shapes, as `input_items` lists them: a string is
/// one user message with one `input_text` part; in a list, a message written short (a `role` without
/// `type`, or a string `content`) gets `type: "message"` and its content as parts (`output_text` on an
/// assistant message, with `status: "completed"`; `input_text` otherwise); other items are kept as sent.
/// Nothing is no items.
pub fn input_items(body: &Value) -> Value {
    match body.get("input") {
        Some(Value::String(text)) => json!([{
            "type": "message", "role": "user",
            "content": [{"type": "input_text", "text": text}]
        }]),
        Some(Value::Array(items)) => Value::Array(items.iter().map(message_item).collect()),
        _ => Value::Array(Vec::new()),
    }
}

/// One input item in the reference's shape (see [`input_items`]).
fn message_item(item: &Value) -> Value {
    let Value::Object(map) = item else {
        return item.clone();
    };
    let is_message = match map.get("type") {
        None | Some(Value::Null) => map.contains_key("role"),
        Some(kind) => kind == "message",
    };
    if !is_message {
        return item.clone();
    }
    let mut map = map.clone();
    map.insert("type".to_owned(), Value::String("message".to_owned()));
    let assistant = map.get("role").and_then(Value::as_str) == Some("assistant");
    if let Some(Value::String(text)) = map.get("content") {
        let part = if assistant {
            json!({"type": "output_text", "text": text, "annotations": []})
        } else {
            json!({"type": "input_text", "text": text})
        };
        map.insert("content".to_owned(), Value::Array(vec![part]));
    }
    if assistant && !map.contains_key("status") {
        map.insert("status".to_owned(), Value::String("completed".to_owned()));
    }
    Value::Object(map)
}

fn not_found(id: &str) -> GaiaError {
    GaiaError::not_found(format!("response '{id}' not found")).with_code("response_not_found")
}

impl Conversations {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    fn scope(principal: &Principal) -> Option<&str> {
        principal.org_scope().map(|org| org.as_str())
    }

    /// The items that come before a request continuing `previous`: for each response of its
    /// conversation, oldest first, its input items then its output items. `404` (`param`
    /// `previous_response_id`) when the caller cannot see `previous`; `400` when the conversation
    /// cannot be followed to its start (a response of it was deleted or expired) or is too long.
    pub async fn history(
        &self,
        previous: &str,
        principal: &Principal,
    ) -> Result<Vec<Value>, GaiaError> {
        let chain = self
            .store
            .responses()
            .conversation(previous, Self::scope(principal), MAX_PREVIOUS_RESPONSES)
            .await
            .map_err(|e| GaiaError::from(e).with_param("previous_response_id"))?
            .ok_or_else(|| not_found(previous).with_param("previous_response_id"))?;
        let mut items = Vec::new();
        for response in chain {
            if let Value::Array(input) = response.input_items {
                items.extend(input);
            }
            if let Some(Value::Array(output)) = response.output.get("output") {
                items.extend(output.iter().cloned());
            }
        }
        Ok(items)
    }

    /// Keeps an answered response under the caller's organization (none for the bootstrap key).
    pub async fn keep(&self, answered: Answered<'_>) -> Result<(), GaiaError> {
        let key = answered.principal.key();
        let stored = StoredResponse {
            id: answered.id.to_owned(),
            organization_id: key.map(|k| k.organization_id.clone()),
            api_key_id: key.map(|k| k.id.clone()),
            created_at: answered.created_at,
            model: answered.model.to_owned(),
            previous_response_id: answered.previous_response_id.map(str::to_owned),
            status: answered
                .response
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or("completed")
                .to_owned(),
            input_items: answered.input_items,
            output: answered.response,
        };
        Ok(self.store.responses().insert(&stored).await?)
    }

    /// The stored response `id`, if the caller may see it.
    pub async fn get(&self, id: &str, principal: &Principal) -> Result<StoredResponse, GaiaError> {
        self.store
            .responses()
            .get(id, Self::scope(principal))
            .await?
            .ok_or_else(|| not_found(id))
    }

    /// Deletes the stored response `id`, if the caller may see it.
    pub async fn delete(&self, id: &str, principal: &Principal) -> Result<(), GaiaError> {
        if self
            .store
            .responses()
            .delete(id, Self::scope(principal))
            .await?
        {
            Ok(())
        } else {
            Err(not_found(id))
        }
    }
}

/// A page of a stored response's input items, as OpenAI lists them: `{"object":"list","data",
/// "first_id","last_id","has_more"}`. Items without an `id` get `<response id>_in_<n>` (their position),
/// so `after` can point at any of them. `limit` 1–100 (default 20), `order` `asc` or `desc` (default,
/// newest first); an `after` that names no item gives an empty page.
pub fn list_input_items(
    stored: &StoredResponse,
    limit: Option<u32>,
    order: Option<&str>,
    after: Option<&str>,
) -> Result<Value, GaiaError> {
    let limit = limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(
            GaiaError::invalid_request("`limit` must be between 1 and 100").with_param("limit"),
        );
    }
    let ascending = match order.unwrap_or("desc") {
        "asc" => true,
        "desc" => false,
        _ => {
            return Err(
                GaiaError::invalid_request("`order` must be 'asc' or 'desc'").with_param("order"),
            );
        }
    };
    let mut items: Vec<Value> = match &stored.input_items {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(n, item)| {
                let mut item = item.clone();
                if let Value::Object(map) = &mut item
                    && !map.contains_key("id")
                {
                    map.insert(
                        "id".to_owned(),
                        Value::String(format!("{}_in_{n}", stored.id)),
                    );
                }
                item
            })
            .collect(),
        _ => Vec::new(),
    };
    if !ascending {
        items.reverse();
    }
    // A cursor that names no item (one of another response, say) is past the end: an empty page.
    let start = match after {
        None => 0,
        Some(after) => items
            .iter()
            .position(|item| item.get("id").and_then(Value::as_str) == Some(after))
            .map_or(items.len(), |at| at + 1),
    };
    let rest = items.get(start..).unwrap_or_default();
    let page: Vec<Value> = rest.iter().take(limit as usize).cloned().collect();
    let id_of = |item: Option<&Value>| {
        item.and_then(|i| i.get("id"))
            .cloned()
            .unwrap_or(Value::Null)
    };
    Ok(json!({
        "object": "list",
        "first_id": id_of(page.first()),
        "last_id": id_of(page.last()),
        "has_more": rest.len() > page.len(),
        "data": page,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(items: Value) -> StoredResponse {
        StoredResponse {
            id: "resp_1".into(),
            organization_id: None,
            api_key_id: None,
            created_at: Utc::now(),
            model: "m".into(),
            previous_response_id: None,
            status: "completed".into(),
            input_items: items,
            output: json!({}),
        }
    }

    #[test]
    fn a_string_input_is_one_user_message_and_a_list_is_kept() {
        assert_eq!(
            input_items(&json!({"input": "hi"})),
            json!([{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}])
        );
        let list = json!([{"type": "function_call_output", "call_id": "c", "output": "x"}]);
        assert_eq!(input_items(&json!({"input": list.clone()})), list);
        // Messages written short are listed in the reference's item shape.
        assert_eq!(
            input_items(&json!({"input": [
                {"role": "user", "content": "first"},
                {"role": "assistant", "content": "then"},
                {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "x"}]}]})),
            json!([
                {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "first"}]},
                {"type": "message", "role": "assistant", "status": "completed",
                 "content": [{"type": "output_text", "text": "then", "annotations": []}]},
                {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "x"}]}])
        );
        assert_eq!(input_items(&json!({})), json!([]));
    }

    #[test]
    fn input_items_are_listed_newest_first_in_pages_with_cursors() {
        let s = stored(
            json!([{"role": "user", "content": "a"}, {"id": "mine", "role": "user", "content": "b"},
                              {"role": "user", "content": "c"}]),
        );
        let page = list_input_items(&s, Some(2), None, None).unwrap();
        assert_eq!(page["first_id"], "resp_1_in_2");
        assert_eq!(page["last_id"], "mine");
        assert_eq!(page["has_more"], true);
        let next = list_input_items(&s, Some(2), None, Some("mine")).unwrap();
        assert_eq!(
            next["data"],
            json!([{"id": "resp_1_in_0", "role": "user", "content": "a"}])
        );
        assert_eq!(next["has_more"], false);
        let oldest = list_input_items(&s, None, Some("asc"), None).unwrap();
        assert_eq!(oldest["first_id"], "resp_1_in_0");
        assert_eq!(
            list_input_items(&s, None, None, Some("elsewhere")).unwrap()["data"],
            json!([])
        );
        assert_eq!(
            list_input_items(&s, Some(0), None, None)
                .unwrap_err()
                .param
                .as_deref(),
            Some("limit")
        );
        assert_eq!(
            list_input_items(&s, None, Some("up"), None)
                .unwrap_err()
                .param
                .as_deref(),
            Some("order")
        );
    }
}
