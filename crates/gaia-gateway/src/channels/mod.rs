//! Channels managed through the admin API (specs/scale.md S-13 to S-19): a provider's extra credentials
//! and endpoints, stored in the database with their credential sealed ([`sealed`]), validated here, turned
//! into routable [`Channel`]s at every registry reload, and shown with their circuit's health.
//!
//! Channels declared in the environment or `GAIA_CONFIG` are listed beside them, read-only.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use gaia_core::{ChatRequest, GaiaError, Message};
use gaia_providers::health::CircuitView;
use gaia_providers::{Channel, ChannelSource, Provider};
use gaia_store::channels::ChannelRow;

use crate::models::Models;
use rules::{
    bad, check_base_url, check_key, check_model_map, check_models, check_name, check_range,
    check_short, clip, model_name_ok,
};
pub use stored::StoredChannels;
use stored::build_endpoint;

mod rules;
pub mod sealed;
mod stored;

/// How long a test request may take.
const TEST_TIMEOUT: Duration = Duration::from_secs(60);

/// A channel to store.
#[derive(Debug, Clone, Default)]
pub struct NewChannel {
    pub provider: String,
    pub name: String,
    /// `None`: the provider's own base URL.
    pub base_url: Option<String>,
    pub api_key: Option<String>,
    pub weight: Option<i64>,
    pub priority: Option<i64>,
    pub models: Option<Vec<String>>,
    pub model_map: Option<BTreeMap<String, String>>,
    pub ca_file: Option<String>,
    pub api_version: Option<String>,
    pub enabled: Option<bool>,
}

/// Changes to a stored channel; `None` leaves a field as it is, `Some(None)` clears a nullable one.
#[derive(Debug, Clone, Default)]
pub struct ChannelChange {
    pub name: Option<String>,
    pub base_url: Option<String>,
    pub api_key: Option<Option<String>>,
    pub weight: Option<i64>,
    pub priority: Option<i64>,
    pub models: Option<Option<Vec<String>>>,
    pub model_map: Option<BTreeMap<String, String>>,
    pub ca_file: Option<Option<String>>,
    pub api_version: Option<Option<String>>,
    /// `true` also clears the reason it was disabled for (and closes its circuit).
    pub enabled: Option<bool>,
}

/// A channel as the admin API shows it: never its credential, only a hint.
#[derive(Debug, Clone)]
pub struct ChannelView {
    pub id: String,
    pub provider: String,
    pub name: String,
    pub base_url: String,
    pub api_key_hint: Option<String>,
    pub weight: i64,
    pub priority: i64,
    pub models: Option<Vec<String>>,
    pub model_map: BTreeMap<String, String>,
    pub ca_file: Option<String>,
    pub api_version: Option<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub source: ChannelSource,
    pub health: CircuitView,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// The outcome of one test request through a channel.
#[derive(Debug, Clone)]
pub struct ChannelTest {
    pub ok: bool,
    /// The upstream model name the test asked for.
    pub model: String,
    pub latency: Duration,
    /// The failure, as a client of the gateway would have seen it.
    pub error: Option<GaiaError>,
}

impl Models {
    fn configured_view(&self, c: &Channel, now: Instant) -> ChannelView {
        let health = c.circuit.view(now);
        ChannelView {
            id: c.id.clone(),
            provider: c.provider.clone(),
            name: c.name.clone(),
            base_url: c.endpoint.base_url().to_owned(),
            api_key_hint: c
                .endpoint
                .config()
                .api_key
                .as_deref()
                .filter(|k| !k.is_empty())
                .map(sealed::hint),
            weight: i64::from(c.weight),
            priority: i64::from(c.priority),
            models: c.models.clone(),
            model_map: c.model_map.iter().cloned().collect(),
            ca_file: c
                .endpoint
                .config()
                .ca_file
                .as_ref()
                .map(|p| p.display().to_string()),
            api_version: c.endpoint.config().api_version.clone(),
            enabled: true,
            disabled_reason: health.disabled_reason.clone(),
            source: ChannelSource::Config,
            health,
            created_at: None,
            updated_at: None,
        }
    }

    fn stored_view(&self, row: ChannelRow, now: Instant) -> ChannelView {
        let health = self.health.circuit(&row.id).view(now);
        ChannelView {
            health,
            id: row.id,
            provider: row.provider,
            name: row.name,
            base_url: row.base_url,
            api_key_hint: row.api_key_hint,
            weight: i64::from(row.weight),
            priority: i64::from(row.priority),
            models: row.models,
            model_map: row.model_map.into_iter().collect(),
            ca_file: row.ca_file,
            api_version: row.api_version,
            enabled: row.enabled,
            disabled_reason: row.disabled_reason,
            source: ChannelSource::Database,
            created_at: Some(row.created_at),
            updated_at: Some(row.updated_at),
        }
    }

    /// Every channel: those of the configuration (read-only), then the stored ones, by provider and name.
    pub async fn list_channels(&self) -> Result<Vec<ChannelView>, GaiaError> {
        let rows = self.store.list_channels().await?;
        let now = Instant::now();
        let snapshot = self.snapshot.load();
        let mut out: Vec<ChannelView> = snapshot
            .channels()
            .into_iter()
            .filter(|c| c.source == ChannelSource::Config)
            .map(|c| self.configured_view(c, now))
            .collect();
        out.extend(rows.into_iter().map(|r| self.stored_view(r, now)));
        Ok(out)
    }

    /// One channel, stored or configured.
    pub async fn get_channel(&self, id: &str) -> Result<ChannelView, GaiaError> {
        if let Some(c) = self.configured_channel(id) {
            return Ok(self.configured_view(&c, Instant::now()));
        }
        let row = self.store.get_channel(id).await?;
        Ok(self.stored_view(row, Instant::now()))
    }

    fn configured_channel(&self, id: &str) -> Option<Arc<Channel>> {
        if !id.starts_with("config:") {
            return None;
        }
        self.snapshot
            .load()
            .channels()
            .into_iter()
            .find(|c| c.id == id && c.source == ChannelSource::Config)
            .cloned()
    }

    fn read_only(&self, id: &str) -> Result<(), GaiaError> {
        if self.configured_channel(id).is_some() {
            return Err(GaiaError::conflict(
                "this channel comes from the environment or GAIA_CONFIG; change it there",
            )
            .with_code("channel_read_only"));
        }
        Ok(())
    }

    /// A stored channel may not take the name of a configured one of the same provider (their health,
    /// logs and metrics would be indistinguishable).
    fn name_free(&self, provider: &str, name: &str) -> Result<(), GaiaError> {
        if self
            .configured_channel(&format!("config:{provider}:{name}"))
            .is_some()
        {
            return Err(GaiaError::conflict(format!(
                "provider '{provider}' already has a channel '{name}' from the configuration"
            ))
            .with_param("name"));
        }
        Ok(())
    }

    fn provider_of(&self, name: &str) -> Result<Arc<Provider>, GaiaError> {
        self.providers
            .iter()
            .find(|p| p.name() == name)
            .cloned()
            .ok_or_else(|| {
                GaiaError::unprocessable(format!("unknown provider '{name}'"))
                    .with_param("provider")
                    .with_code("unknown_provider")
            })
    }

    /// Seals `key` for `row`, or says why it cannot be stored.
    fn seal_into(&self, row: &mut ChannelRow, key: Option<&str>) -> Result<(), GaiaError> {
        match key {
            None => {
                row.api_key_sealed = None;
                row.api_key_hint = None;
            }
            Some(key) => {
                check_key(key)?;
                row.api_key_sealed = Some(self.stored.seal(&row.id, key)?);
                row.api_key_hint = Some(sealed::hint(key));
            }
        }
        Ok(())
    }

    /// Checks that the row makes a working endpoint (its URL, its CA file, its key's characters).
    fn check_endpoint(&self, row: &ChannelRow, key: Option<String>) -> Result<(), GaiaError> {
        let provider = self.provider_of(&row.provider)?;
        build_endpoint(&provider, row, key, self.stored.timeouts()).map_err(|e| {
            let code = if e.param.as_deref() == Some("ca_file") {
                "ca_file_unreadable"
            } else {
                "channel_unusable"
            };
            GaiaError::unprocessable(e.message.clone())
                .with_param(e.param.clone().unwrap_or_else(|| "base_url".to_owned()))
                .with_code(code)
        })?;
        Ok(())
    }

    /// Stores a new channel and routes to it at once (other instances within a second with Redis).
    pub async fn create_channel(&self, new: NewChannel) -> Result<ChannelView, GaiaError> {
        let provider_name = new.provider.trim().to_ascii_lowercase();
        let provider = self.provider_of(&provider_name)?;
        check_name(&new.name)?;
        self.name_free(&provider_name, &new.name)?;
        let base_url = new
            .base_url
            .clone()
            .unwrap_or_else(|| provider.config().base_url.clone());
        check_base_url(&base_url)?;
        check_range("weight", new.weight, 1, 1000)?;
        check_range("priority", new.priority, -1000, 1000)?;
        check_models(new.models.as_ref())?;
        check_model_map(new.model_map.as_ref())?;
        check_short("ca_file", new.ca_file.as_deref(), 1024)?;
        check_short("api_version", new.api_version.as_deref(), 32)?;
        if let Some(k) = &new.api_key {
            check_key(k)?;
        }
        let now = Utc::now();
        let mut row = ChannelRow {
            id: uuid::Uuid::new_v4().to_string(),
            provider: provider_name,
            name: new.name,
            base_url: base_url.trim().to_owned(),
            api_key_sealed: None,
            api_key_hint: None,
            weight: new.weight.map_or(1, |w| w as i32),
            priority: new.priority.map_or(0, |p| p as i32),
            models: new.models,
            model_map: new.model_map.unwrap_or_default().into_iter().collect(),
            ca_file: new.ca_file,
            api_version: new.api_version,
            enabled: new.enabled.unwrap_or(true),
            disabled_reason: None,
            created_at: now,
            updated_at: now,
        };
        self.check_endpoint(&row, new.api_key.clone())?;
        self.seal_into(&mut row, new.api_key.as_deref())?;
        self.store.insert_channel(&row).await?;
        self.channels_changed().await?;
        tracing::info!(channel = %row.id, provider = %row.provider, name = %row.name, "channel created");
        self.get_channel(&row.id).await
    }

    /// Edits a stored channel (configured ones: 409 `channel_read_only`).
    pub async fn change_channel(
        &self,
        id: &str,
        change: ChannelChange,
    ) -> Result<ChannelView, GaiaError> {
        self.read_only(id)?;
        let mut row = self.store.get_channel(id).await?;
        if let Some(n) = &change.name {
            check_name(n)?;
            self.name_free(&row.provider, n)?;
        }
        if let Some(u) = &change.base_url {
            check_base_url(u)?;
        }
        check_range("weight", change.weight, 1, 1000)?;
        check_range("priority", change.priority, -1000, 1000)?;
        check_models(change.models.as_ref().and_then(Option::as_ref))?;
        check_model_map(change.model_map.as_ref())?;
        check_short(
            "ca_file",
            change.ca_file.as_ref().and_then(Option::as_deref),
            1024,
        )?;
        check_short(
            "api_version",
            change.api_version.as_ref().and_then(Option::as_deref),
            32,
        )?;
        if let Some(Some(k)) = &change.api_key {
            check_key(k)?;
        }
        if let Some(n) = change.name {
            row.name = n;
        }
        if let Some(u) = change.base_url {
            row.base_url = u.trim().to_owned();
        }
        if let Some(w) = change.weight {
            row.weight = w as i32;
        }
        if let Some(p) = change.priority {
            row.priority = p as i32;
        }
        if let Some(m) = change.models {
            row.models = m;
        }
        if let Some(m) = change.model_map {
            row.model_map = m.into_iter().collect();
        }
        if let Some(c) = change.ca_file {
            row.ca_file = c;
        }
        if let Some(v) = change.api_version {
            row.api_version = v;
        }
        if let Some(e) = change.enabled {
            row.enabled = e;
            if e {
                row.disabled_reason = None;
            }
        }
        // The endpoint is checked with the key it will have.
        let key = match &change.api_key {
            Some(k) => k.clone(),
            None => self.open_key(&row)?,
        };
        self.check_endpoint(&row, key)?;
        if let Some(k) = &change.api_key {
            self.seal_into(&mut row, k.as_deref())?;
        }
        row.updated_at = Utc::now();
        self.store.update_channel(&row).await?;
        if change.enabled == Some(true) {
            // Re-enabled: forget the failures that disabled it.
            self.health.circuit(&row.id).set_disabled(None);
        }
        self.channels_changed().await?;
        self.get_channel(&row.id).await
    }

    /// The stored credential of `row`, opened.
    fn open_key(&self, row: &ChannelRow) -> Result<Option<String>, GaiaError> {
        self.stored.open(row)
    }

    /// Deletes a stored channel (configured ones: 409 `channel_read_only`).
    pub async fn delete_channel(&self, id: &str) -> Result<(), GaiaError> {
        self.read_only(id)?;
        self.store.delete_channel(id).await?;
        self.channels_changed().await?;
        tracing::info!(channel = %id, "channel deleted");
        Ok(())
    }

    /// Sends one small completion through the channel — whatever its circuit or enabled state — and says
    /// how it went. It does not count against the circuit, nor in usage statistics.
    pub async fn test_channel(
        &self,
        id: &str,
        model: Option<String>,
    ) -> Result<ChannelTest, GaiaError> {
        let (endpoint, models, map) = match self.configured_channel(id) {
            Some(c) => (c.endpoint.clone(), c.models.clone(), c.model_map.clone()),
            None => {
                let row = self.store.get_channel(id).await?;
                let provider = self.provider_of(&row.provider)?;
                let key = self.open_key(&row)?;
                let endpoint = build_endpoint(&provider, &row, key, self.stored.timeouts())
                    .map_err(|e| {
                        GaiaError::unprocessable(e.message).with_code("channel_unusable")
                    })?;
                (endpoint, row.models, row.model_map)
            }
        };
        if let Some(m) = &model
            && !model_name_ok(m)
        {
            return Err(bad(
                "model",
                "`model` is an upstream model name: 1 to 256 printable characters",
            ));
        }
        let provider_name = endpoint.name().to_owned();
        let model = model
            .or_else(|| models.as_ref().and_then(|m| m.first().cloned()))
            .or_else(|| {
                self.snapshot
                    .load()
                    .available_models()
                    .into_iter()
                    .find(|m| {
                        m.provider == provider_name && m.kind == gaia_core::ModelKind::Chat
                    })
                    .map(|m| m.upstream_name.clone())
            })
            .ok_or_else(|| {
                GaiaError::unprocessable(
                    "no model to test with: name one in `model` (this provider has no enabled chat model)",
                )
                .with_param("model")
                .with_code("model_required")
            })?;
        let sent = map
            .iter()
            .find(|(from, _)| *from == model)
            .map_or(model.as_str(), |(_, to)| to.as_str())
            .to_owned();
        let request = ChatRequest {
            model: model.clone(),
            messages: vec![Message::user("Reply with one word: ok")],
            max_tokens: Some(8),
            ..ChatRequest::default()
        };
        let meta = gaia_adapters::ResponseMeta::new("chatcmpl-test", model.clone(), 0);
        let started = Instant::now();
        let outcome =
            tokio::time::timeout(TEST_TIMEOUT, endpoint.chat(&request, &sent, 8, &meta)).await;
        let latency = started.elapsed();
        let error = match outcome {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(e),
            Err(_) => Some(
                GaiaError::new(
                    gaia_core::ErrorKind::UpstreamTimeout,
                    format!("no answer within {} s", TEST_TIMEOUT.as_secs()),
                )
                .with_code("upstream_timeout"),
            ),
        };
        Ok(ChannelTest {
            ok: error.is_none(),
            model,
            latency,
            error,
        })
    }

    /// The provider refused a stored channel's credential (`sealed_key`, as the channel was built from it):
    /// it is disabled in the database, with the reason, on every instance — until an operator re-enables it.
    ///
    /// Only while the row still holds that credential, and without rewriting the rest of the row: an
    /// operator who replaced the key while a request with the old one was on its way keeps the channel
    /// enabled with the new key (this instance's circuit, disabled by the refusal, is rebuilt from the row),
    /// and a concurrent edit of another field is not overwritten.
    pub async fn channel_refused(
        &self,
        id: &str,
        reason: &str,
        sealed_key: Option<&str>,
    ) -> Result<(), GaiaError> {
        let disabled = self
            .store
            .disable_refused_channel(id, sealed_key, &clip(reason), Utc::now())
            .await?;
        if disabled {
            return self.channels_changed().await;
        }
        tracing::info!(channel = %id, "a refused credential is no longer the channel's (replaced, or the channel disabled or deleted meanwhile); the row is left as it is");
        self.reload().await
    }

    /// Seals again, with the current key, every credential sealed with a previous one (at start).
    pub async fn reseal_channels(&self) -> Result<u64, GaiaError> {
        let Some(sealer) = self.stored.sealer() else {
            return Ok(0);
        };
        let mut resealed = 0;
        for row in self.store.list_channels().await? {
            let Some(s) = &row.api_key_sealed else {
                continue;
            };
            match sealer.open(&row.id, s) {
                Ok((key, true)) => {
                    let fresh = sealer.seal(&row.id, &key)?;
                    // Only if no operator set another key since the list was read.
                    if self.store.reseal_channel_key(&row.id, s, &fresh).await? {
                        resealed += 1;
                    }
                }
                Ok((_, false)) => {}
                Err(e) => {
                    tracing::error!(channel = %row.id, name = %row.name, error = %e.message, "a stored channel credential cannot be opened; the channel is unusable until its key is set again");
                }
            }
        }
        if resealed > 0 {
            tracing::info!(
                resealed,
                "channel credentials sealed again with the current GAIA_SECRET_KEY"
            );
        }
        Ok(resealed)
    }

    /// Another instance opened a channel's circuit: keep it open here too.
    pub fn channel_opened_elsewhere(&self, id: &str, cooldown: Duration) {
        if let Some(c) = self.health.get(id) {
            c.open_for(Instant::now(), cooldown);
        }
    }
}
