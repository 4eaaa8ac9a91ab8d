//! When each key was last used: kept in memory on every request, written in batches.

use chrono::{DateTime, Utc};
use gaia_core::GaiaError;

use super::KeyCache;

impl KeyCache {
    /// The last use of a key seen by this instance and not yet written, if any.
    pub fn pending_last_used(&self, key_id: &str) -> Option<DateTime<Utc>> {
        self.last_used.lock().ok()?.get(key_id).copied()
    }

    /// Writes the collected last-use times (called periodically and at shutdown).
    pub async fn flush_last_used(&self) -> Result<usize, GaiaError> {
        let batch: Vec<(String, DateTime<Utc>)> = match self.last_used.lock() {
            Ok(mut map) => map.drain().collect(),
            Err(_) => return Ok(0),
        };
        if batch.is_empty() {
            return Ok(0);
        }
        if let Err(e) = self.store.touch_api_keys(&batch).await {
            // Keep them for the next flush rather than lose them.
            if let Ok(mut map) = self.last_used.lock() {
                for (id, at) in batch {
                    let slot = map.entry(id).or_insert(at);
                    *slot = (*slot).max(at);
                }
            }
            return Err(e.into());
        }
        Ok(batch.len())
    }

    /// Notes that `key_id` was used at `now`.
    pub(super) fn touch(&self, key_id: &str, now: DateTime<Utc>) {
        if let Ok(mut map) = self.last_used.lock() {
            match map.get_mut(key_id) {
                Some(at) => *at = now,
                None => {
                    map.insert(key_id.to_owned(), now);
                }
            }
        }
    }
}
