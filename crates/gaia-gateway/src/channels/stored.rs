//! Stored channels made routable: each enabled row becomes a [`Channel`] over its provider's dialect, its
//! credential opened with the [`Sealer`], its endpoint (HTTP clients and pools) kept until the row changes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use gaia_core::GaiaError;
use gaia_providers::{Channel, ChannelSource, Provider, Timeouts};
use gaia_store::channels::ChannelRow;

use super::rules::no_secret_key;
use super::sealed::Sealer;

/// Turns stored rows into routable channels, keeping each endpoint (its HTTP clients and pools) until its
/// row changes.
pub struct StoredChannels {
    sealer: Option<Arc<Sealer>>,
    timeouts: Timeouts,
    /// Row id → (the row's `updated_at`, its endpoint).
    endpoints: Mutex<HashMap<String, Built>>,
}

/// An endpoint built from a row, and the row's `updated_at` it was built from.
type Built = (DateTime<Utc>, Arc<Provider>);

impl std::fmt::Debug for StoredChannels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredChannels")
            .field("sealer", &self.sealer)
            .finish_non_exhaustive()
    }
}

impl Default for StoredChannels {
    fn default() -> Self {
        Self::new(None, Timeouts::default())
    }
}

impl StoredChannels {
    /// The stored credential of `row`, opened (`None`: it has none).
    pub(crate) fn open(&self, row: &ChannelRow) -> Result<Option<String>, GaiaError> {
        match (&row.api_key_sealed, &self.sealer) {
            (None, _) => Ok(None),
            (Some(_), None) => Err(no_secret_key()),
            (Some(s), Some(sealer)) => Ok(Some(sealer.open(&row.id, s)?.0)),
        }
    }

    /// Seals `key` for the row `row_id`; `secret_key_required` without `GAIA_SECRET_KEY`.
    pub(crate) fn seal(&self, row_id: &str, key: &str) -> Result<String, GaiaError> {
        self.sealer
            .as_ref()
            .ok_or_else(no_secret_key)?
            .seal(row_id, key)
    }

    pub(crate) fn sealer(&self) -> Option<&Sealer> {
        self.sealer.as_deref()
    }

    pub(crate) fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    pub fn new(sealer: Option<Arc<Sealer>>, timeouts: Timeouts) -> Self {
        Self {
            sealer,
            timeouts,
            endpoints: Mutex::default(),
        }
    }

    /// The endpoint of `row` over `provider`'s dialect and defaults (built, or reused while the row is
    /// unchanged).
    fn endpoint(&self, row: &ChannelRow, provider: &Provider) -> Result<Arc<Provider>, String> {
        let mut cache = self.endpoints.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, endpoint)) = cache.get(&row.id)
            && *at == row.updated_at
        {
            return Ok(endpoint.clone());
        }
        let api_key = self.open(row).map_err(|e| e.message)?;
        let endpoint =
            build_endpoint(provider, row, api_key, self.timeouts).map_err(|e| e.message)?;
        cache.insert(row.id.clone(), (row.updated_at, endpoint.clone()));
        Ok(endpoint)
    }

    /// Routable channels of the enabled rows; each row's circuit says why one is not routable.
    pub(crate) fn build(
        &self,
        rows: &[ChannelRow],
        providers: &[Arc<Provider>],
        health: &gaia_providers::health::HealthBook,
    ) -> Vec<Arc<Channel>> {
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let circuit = health.circuit(&row.id);
            if !row.enabled {
                circuit.set_disabled(Some(
                    row.disabled_reason
                        .clone()
                        .unwrap_or_else(|| "disabled by an operator".to_owned()),
                ));
                continue;
            }
            let endpoint = match providers.iter().find(|p| p.name() == row.provider) {
                None => Err(format!(
                    "the provider '{}' is not defined on this instance",
                    row.provider
                )),
                Some(p) => self.endpoint(row, p),
            };
            match endpoint {
                Err(why) => {
                    tracing::warn!(channel = %row.id, name = %row.name, reason = %why, "stored channel cannot be used");
                    circuit.set_disabled(Some(format!("cannot be used: {why}")));
                }
                Ok(endpoint) => {
                    circuit.set_disabled(None);
                    out.push(Arc::new(Channel {
                        id: row.id.clone(),
                        name: row.name.clone(),
                        provider: row.provider.clone(),
                        endpoint,
                        weight: u32::try_from(row.weight.clamp(1, 1000)).unwrap_or(1),
                        priority: row.priority,
                        models: row.models.clone(),
                        model_map: row.model_map.clone(),
                        source: ChannelSource::Database,
                        sealed_key: row.api_key_sealed.clone(),
                        circuit,
                    }));
                }
            }
        }
        let mut cache = self.endpoints.lock().unwrap_or_else(|p| p.into_inner());
        cache.retain(|id, _| rows.iter().any(|r| &r.id == id));
        out
    }
}

pub(super) fn build_endpoint(
    provider: &Provider,
    row: &ChannelRow,
    api_key: Option<String>,
    timeouts: Timeouts,
) -> Result<Arc<Provider>, GaiaError> {
    let mut config = provider.config().clone();
    config.base_url = row.base_url.clone();
    // No credential: a server that needs none (the empty key sends no header).
    config.api_key = Some(api_key.unwrap_or_default());
    config.ca_file = row.ca_file.as_ref().map(std::path::PathBuf::from);
    if row.api_version.is_some() {
        config.api_version = row.api_version.clone();
    }
    Provider::new(config, timeouts)
}
