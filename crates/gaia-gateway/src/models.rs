//! The model registry's life: what admins change (models, prices, aliases, an OpenRouter sync) is
//! validated here, written through the store and applied to this instance's registry snapshot at once;
//! other instances pick it up at their next reload ([`Models::reload`], every refresh interval).

use std::sync::Arc;

use arc_swap::ArcSwap;
use chrono::Utc;
use gaia_core::{GaiaError, ModelInfo, ModelKind, ModelRef, TokenPrices};
use gaia_providers::config::usd_per_mtok_to_nanos;
use gaia_providers::{Provider, Registry};
use gaia_store::models::{ModelAlias, ModelFilter};
use gaia_store::{Page, PageRequest, Store};

/// The registry: the stored models and aliases, the configured providers and the file's aliases, and
/// the snapshot the pipeline reads.
#[derive(Clone)]
pub struct Models {
    pub(crate) store: Store,
    pub(crate) snapshot: Arc<ArcSwap<Registry>>,
    pub(crate) providers: Arc<Vec<Arc<Provider>>>,
    file_aliases: Arc<Vec<(String, Vec<String>)>>,
    /// Tells the other instances when the registry changes here.
    cluster: Option<Arc<gaia_cluster::Cluster>>,
    /// Every channel's circuit, kept across snapshots (a rebuilt snapshot must not forget that a channel
    /// is failing).
    pub(crate) health: Arc<gaia_providers::health::HealthBook>,
    /// Channels declared in `GAIA_CONFIG` (`[[channels]]`), built once at start.
    config_channels: Vec<Arc<gaia_providers::Channel>>,
    /// Channels stored through the admin API, turned into endpoints at each reload.
    pub(crate) stored: Arc<crate::channels::StoredChannels>,
}

/// A model to register by hand (prices in USD per million tokens).
#[derive(Debug, Clone, Default)]
pub struct NewModel {
    pub id: String,
    pub upstream_name: Option<String>,
    pub display_name: Option<String>,
    pub context_length: Option<i64>,
    pub max_completion_tokens: Option<i64>,
    pub input_price_per_mtok: Option<f64>,
    pub output_price_per_mtok: Option<f64>,
    /// Prompt tokens read from a cache; `None`: the provider's ratio of the input price.
    pub cached_input_price_per_mtok: Option<f64>,
    /// Prompt tokens written to a cache; `None`: the provider's ratio of the input price.
    pub cache_write_price_per_mtok: Option<f64>,
    pub supports_vision: bool,
    pub supports_tools: bool,
    pub enabled: bool,
    /// `chat` or `embedding`.
    pub kind: ModelKind,
    /// An embedding model's native vector length.
    pub dimensions: Option<i64>,
}

/// Changes to a model; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ModelChange {
    pub enabled: Option<bool>,
    pub input_price_per_mtok: Option<f64>,
    pub output_price_per_mtok: Option<f64>,
    /// `Some(None)` goes back to the provider's ratio of the input price.
    pub cached_input_price_per_mtok: Option<Option<f64>>,
    pub cache_write_price_per_mtok: Option<Option<f64>>,
    pub context_length: Option<i64>,
    pub max_completion_tokens: Option<i64>,
    pub display_name: Option<String>,
    /// An embedding model's native vector length.
    pub dimensions: Option<i64>,
}

/// What a sync did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Synced {
    /// Models the list held.
    pub total: u64,
    pub inserted: u64,
    pub updated: u64,
}

/// Names shown or sent upstream hold no control characters (NUL cannot even be stored by PostgreSQL).
fn printable(field: &str, value: Option<&str>) -> Result<(), GaiaError> {
    if value.is_some_and(|v| v.chars().any(char::is_control)) {
        return Err(GaiaError::invalid_request(format!(
            "`{field}` must not contain control characters"
        ))
        .with_param(field));
    }
    Ok(())
}

/// `context_length` and `max_completion_tokens`, when given, are at least 1.
fn positive_limits(
    context_length: Option<i64>,
    max_completion_tokens: Option<i64>,
) -> Result<(), GaiaError> {
    for (name, v) in [
        ("context_length", context_length),
        ("max_completion_tokens", max_completion_tokens),
    ] {
        if v.is_some_and(|v| v < 1) {
            return Err(
                GaiaError::invalid_request(format!("`{name}` must be positive")).with_param(name),
            );
        }
    }
    Ok(())
}

/// Only an embedding model has `dimensions` (at least 1), and it is billed for its input alone: an output
/// or cache price above 0 would be a price no request can ever incur, so it is refused rather than shown.
fn fits_kind(
    kind: ModelKind,
    dimensions: Option<i64>,
    unused_prices: [(&str, Option<f64>); 3],
) -> Result<(), GaiaError> {
    if let Some(d) = dimensions {
        if kind != ModelKind::Embedding {
            // Well-formed, but not for this kind of model (a relation no schema states): 422.
            return Err(GaiaError::unprocessable(
                "`dimensions` is for embedding models only (`kind: \"embedding\"`)",
            )
            .with_param("dimensions")
            .with_code("dimensions_unsupported"));
        }
        if d < 1 {
            return Err(GaiaError::invalid_request("`dimensions` must be positive")
                .with_param("dimensions"));
        }
    }
    if kind == ModelKind::Embedding
        && let Some((name, _)) = unused_prices
            .iter()
            .find(|(_, v)| v.is_some_and(|v| v != 0.0))
    {
        return Err(GaiaError::unprocessable(format!(
            "an embedding model is billed for its input tokens only; `{name}` must be 0 or absent"
        ))
        .with_param(*name)
        .with_code("price_unused"));
    }
    Ok(())
}

/// The largest price per million tokens, in USD (as the API documents it).
const MAX_PRICE_USD: f64 = 9e9;

/// Prices, when given, are non-negative amounts that fit in nano-dollars (the cache prices too: all four
/// token classes follow one rule). A larger one would be stored as 0 — free — by the conversion.
fn prices(
    input: Option<f64>,
    output: Option<f64>,
    cached_input: Option<f64>,
    cache_write: Option<f64>,
) -> Result<(), GaiaError> {
    for (name, v) in [
        ("input_price_per_mtok", input),
        ("output_price_per_mtok", output),
        ("cached_input_price_per_mtok", cached_input),
        ("cache_write_price_per_mtok", cache_write),
    ] {
        // 9e9 (the documented maximum) fits in nano-dollars with room to spare.
        if v.is_some_and(|v| !v.is_finite() || !(0.0..=MAX_PRICE_USD).contains(&v)) {
            return Err(GaiaError::invalid_request(format!(
                "`{name}` must be a non-negative number (USD per million tokens, at most 9e9)"
            ))
            .with_param(name));
        }
    }
    Ok(())
}

impl Models {
    pub fn new(
        store: Store,
        snapshot: Arc<ArcSwap<Registry>>,
        providers: Arc<Vec<Arc<Provider>>>,
        file_aliases: Arc<Vec<(String, Vec<String>)>>,
    ) -> Self {
        Self {
            store,
            snapshot,
            providers,
            file_aliases,
            cluster: None,
            health: Arc::new(gaia_providers::health::HealthBook::new(
                gaia_providers::health::CircuitConfig::default(),
                None,
            )),
            config_channels: Vec::new(),
            stored: Arc::default(),
        }
    }

    /// Opens stored credentials with `sealer` (none: only channels without a credential can be stored)
    /// and builds their endpoints with `timeouts`.
    pub fn with_stored_channels(
        mut self,
        sealer: Option<Arc<crate::channels::sealed::Sealer>>,
        timeouts: gaia_providers::Timeouts,
    ) -> Self {
        self.stored = Arc::new(crate::channels::StoredChannels::new(sealer, timeouts));
        self
    }

    /// Circuits from `health`, and the channels of the configuration file (built with its circuits).
    pub fn with_channels(
        mut self,
        health: Arc<gaia_providers::health::HealthBook>,
        config_channels: Vec<Arc<gaia_providers::Channel>>,
    ) -> Self {
        self.health = health;
        self.config_channels = config_channels;
        self
    }

    /// The circuits of the channels.
    pub fn health(&self) -> &Arc<gaia_providers::health::HealthBook> {
        &self.health
    }

    /// Announces registry changes to the other instances of the cluster.
    pub fn with_cluster(mut self, cluster: Arc<gaia_cluster::Cluster>) -> Self {
        self.cluster = Some(cluster);
        self
    }

    /// After a change here: the snapshot is rebuilt at once, and the other instances are told to rebuild
    /// theirs (within a second through Redis; without it, at their next refresh).
    async fn changed(&self) -> Result<(), GaiaError> {
        self.reload().await?;
        if let Some(cluster) = &self.cluster
            && let Err(e) = cluster.publish(gaia_cluster::Event::Models).await
        {
            tracing::debug!(error = %e, "could not announce a registry change; other instances see it at their next refresh");
        }
        Ok(())
    }

    /// After a channel changed here: as [`Self::changed`], announced as a channel change.
    pub(crate) async fn channels_changed(&self) -> Result<(), GaiaError> {
        self.reload().await?;
        if let Some(cluster) = &self.cluster
            && let Err(e) = cluster.publish(gaia_cluster::Event::Channels).await
        {
            tracing::debug!(error = %e, "could not announce a channel change; other instances see it at their next refresh");
        }
        Ok(())
    }

    /// The snapshot the pipeline reads.
    pub fn snapshot(&self) -> &Arc<ArcSwap<Registry>> {
        &self.snapshot
    }

    /// Rebuilds the snapshot from the database (after a change here, and every refresh interval).
    pub async fn reload(&self) -> Result<(), GaiaError> {
        let models = self.store.list_models().await?;
        let stored = self.store.list_model_aliases().await?;
        let rows = self.store.list_channels().await?;
        let stored_channels = self.stored.build(&rows, &self.providers, &self.health);
        // Each configured provider's own endpoint is its channel `default`, with the circuit it had.
        let channels = self
            .providers
            .iter()
            .filter(|p| p.is_configured())
            .map(|p| {
                let id = format!("config:{}:default", p.name());
                Arc::new(gaia_providers::Channel::default_of(
                    p.clone(),
                    Some(self.health.circuit(&id)),
                ))
            })
            .chain(self.config_channels.iter().cloned())
            .chain(stored_channels);
        let registry = Registry::with_file_aliases(
            self.providers.iter().cloned(),
            models,
            stored.into_iter().map(|a| (a.alias, a.targets)),
            &self.file_aliases,
        )
        .with_channels(channels);
        self.snapshot.store(Arc::new(registry));
        Ok(())
    }

    /// The price of every token class of a model as requests are billed: its own prices, and for an unset
    /// cache price its provider's ratio of the input price ([`gaia_core::CacheRatios::of`]).
    pub fn token_prices(&self, model: &ModelInfo) -> TokenPrices {
        model.token_prices(self.snapshot.load().cache_ratios_of(&model.provider))
    }

    /// Whether the provider of a model has a channel (credentials) on this gateway.
    pub fn provider_configured(&self, provider: &str) -> bool {
        self.snapshot.load().is_configured(provider)
    }

    /// A page of the registry.
    pub async fn list(
        &self,
        filter: &ModelFilter,
        page: PageRequest,
    ) -> Result<Page<ModelInfo>, GaiaError> {
        Ok(self.store.list_models_page(filter, page).await?)
    }

    /// Registers a model by hand (`source: manual`). A model given neither price is unpriced.
    pub async fn register(&self, new: NewModel) -> Result<ModelInfo, GaiaError> {
        // A registered id is always `provider/model`; a bare name is a malformed field (400), not an
        // unknown model (404).
        if !new.id.contains('/') {
            return Err(
                GaiaError::invalid_request("`id` must be 'provider/model'").with_param("id")
            );
        }
        let parsed = ModelRef::parse(&new.id).map_err(|_| {
            GaiaError::invalid_request(format!(
                "`id` must be 'provider/model', at most {} printable characters",
                ModelRef::MAX_LEN
            ))
            .with_param("id")
        })?;
        if self.snapshot.load().provider(&parsed.provider).is_none() {
            // Well-formed, but no such provider here: 422 (a schema cannot list them).
            return Err(GaiaError::unprocessable(format!(
                "unknown provider '{}'",
                parsed.provider
            ))
            .with_param("id")
            .with_code("unknown_provider"));
        }
        prices(
            new.input_price_per_mtok,
            new.output_price_per_mtok,
            new.cached_input_price_per_mtok,
            new.cache_write_price_per_mtok,
        )?;
        positive_limits(new.context_length, new.max_completion_tokens)?;
        fits_kind(
            new.kind,
            new.dimensions,
            [
                ("output_price_per_mtok", new.output_price_per_mtok),
                (
                    "cached_input_price_per_mtok",
                    new.cached_input_price_per_mtok,
                ),
                ("cache_write_price_per_mtok", new.cache_write_price_per_mtok),
            ],
        )?;
        let no_embeddings = self
            .snapshot
            .load()
            .provider(&parsed.provider)
            .is_some_and(|p| !p.has_embeddings());
        if new.kind == ModelKind::Embedding && no_embeddings {
            // Well-formed, but this provider cannot serve it (a rule of the provider): 422.
            return Err(GaiaError::unprocessable(format!(
                "the provider '{}' has no embeddings API (Anthropic's has none)",
                parsed.provider
            ))
            .with_param("kind")
            .with_code("embeddings_unsupported"));
        }
        printable("upstream_name", new.upstream_name.as_deref())?;
        printable("display_name", new.display_name.as_deref())?;
        let model = ModelInfo {
            id: format!("{}/{}", parsed.provider, parsed.model),
            upstream_name: new.upstream_name.unwrap_or(parsed.model),
            provider: parsed.provider,
            display_name: new.display_name,
            context_length: new.context_length,
            max_completion_tokens: new.max_completion_tokens,
            input_price_nanos_per_mtok: usd_per_mtok_to_nanos(
                new.input_price_per_mtok.unwrap_or(0.0),
            ),
            output_price_nanos_per_mtok: usd_per_mtok_to_nanos(
                new.output_price_per_mtok.unwrap_or(0.0),
            ),
            cached_input_price_nanos_per_mtok: new
                .cached_input_price_per_mtok
                .map(usd_per_mtok_to_nanos),
            cache_write_price_nanos_per_mtok: new
                .cache_write_price_per_mtok
                .map(usd_per_mtok_to_nanos),
            // Only the input and output prices make a model priced: cache prices alone say nothing of
            // what its other tokens cost.
            priced: new.input_price_per_mtok.is_some() || new.output_price_per_mtok.is_some(),
            supports_vision: new.supports_vision,
            supports_tools: new.supports_tools,
            supports_streaming: new.kind == ModelKind::Chat,
            enabled: new.enabled,
            source: "manual".to_owned(),
            kind: new.kind,
            dimensions: new.dimensions,
        };
        let created = self.store.create_model(&model, Utc::now()).await?;
        self.changed().await?;
        Ok(created)
    }

    /// Enables or disables a model, or corrects its prices (a price given makes it priced; 0 is free),
    /// limits and display name.
    pub async fn change(&self, id: &str, change: ModelChange) -> Result<ModelInfo, GaiaError> {
        let mut model = self.store.get_model(id).await?;
        prices(
            change.input_price_per_mtok,
            change.output_price_per_mtok,
            change.cached_input_price_per_mtok.flatten(),
            change.cache_write_price_per_mtok.flatten(),
        )?;
        positive_limits(change.context_length, change.max_completion_tokens)?;
        fits_kind(
            model.kind,
            change.dimensions,
            [
                ("output_price_per_mtok", change.output_price_per_mtok),
                (
                    "cached_input_price_per_mtok",
                    change.cached_input_price_per_mtok.flatten(),
                ),
                (
                    "cache_write_price_per_mtok",
                    change.cache_write_price_per_mtok.flatten(),
                ),
            ],
        )?;
        printable("display_name", change.display_name.as_deref())?;
        if let Some(e) = change.enabled {
            model.enabled = e;
        }
        if let Some(v) = change.input_price_per_mtok {
            model.input_price_nanos_per_mtok = usd_per_mtok_to_nanos(v);
        }
        if let Some(v) = change.output_price_per_mtok {
            model.output_price_nanos_per_mtok = usd_per_mtok_to_nanos(v);
        }
        if let Some(v) = change.cached_input_price_per_mtok {
            model.cached_input_price_nanos_per_mtok = v.map(usd_per_mtok_to_nanos);
        }
        if let Some(v) = change.cache_write_price_per_mtok {
            model.cache_write_price_nanos_per_mtok = v.map(usd_per_mtok_to_nanos);
        }
        if change.input_price_per_mtok.is_some() || change.output_price_per_mtok.is_some() {
            // A price given by an operator is a known price (0: free).
            model.priced = true;
        }
        if change.context_length.is_some() {
            model.context_length = change.context_length;
        }
        if change.max_completion_tokens.is_some() {
            model.max_completion_tokens = change.max_completion_tokens;
        }
        if change.dimensions.is_some() {
            model.dimensions = change.dimensions;
        }
        if let Some(d) = change.display_name {
            model.display_name = Some(d).filter(|d| !d.trim().is_empty());
        }
        let model = self.store.update_model(&model, Utc::now()).await?;
        self.changed().await?;
        Ok(model)
    }

    /// Enables or disables models in bulk (at most 1,000 ids; unknown ones are ignored).
    pub async fn set_enabled(&self, ids: &[String], enabled: bool) -> Result<u64, GaiaError> {
        if ids.len() > 1000 {
            return Err(GaiaError::invalid_request("at most 1000 ids per call").with_param("ids"));
        }
        let updated = self
            .store
            .set_models_enabled(ids, enabled, Utc::now())
            .await?;
        self.changed().await?;
        Ok(updated)
    }

    /// Imports OpenRouter's public model list with its prices.
    pub async fn sync_openrouter(&self) -> Result<Synced, GaiaError> {
        let provider = self
            .snapshot
            .load()
            .provider("openrouter")
            .cloned()
            .ok_or_else(|| GaiaError::invalid_request("the openrouter provider is not set up"))?;
        let models = gaia_providers::openrouter::fetch_models(&provider).await?;
        let total = models.len() as u64;
        let (inserted, updated) = self.store.seed_models(&models, Utc::now()).await?;
        self.changed().await?;
        Ok(Synced {
            total,
            inserted,
            updated,
        })
    }

    /// Every stored alias.
    pub async fn aliases(&self) -> Result<Vec<ModelAlias>, GaiaError> {
        Ok(self.store.list_model_aliases().await?)
    }

    /// Creates or replaces an alias: 1–128 of `A-Z a-z 0-9 - _ . :`, 1 to 10 registered targets.
    pub async fn put_alias(
        &self,
        alias: &str,
        targets: &[String],
    ) -> Result<ModelAlias, GaiaError> {
        let valid_name = !alias.is_empty()
            && alias.len() <= 128
            && alias
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
        if !valid_name {
            return Err(GaiaError::invalid_request(
                "alias names use letters, digits, '-', '_', '.', ':' (at most 128)",
            )
            .with_param("alias"));
        }
        if targets.is_empty() || targets.len() > 10 {
            return Err(
                GaiaError::invalid_request("an alias needs 1 to 10 targets").with_param("targets")
            );
        }
        for t in targets {
            if self.store.get_model(t).await.is_err() {
                // Well-formed, but not in the registry: 422 (a schema cannot list the registry).
                return Err(GaiaError::unprocessable(format!(
                    "target '{t}' is not a registered model id"
                ))
                .with_param("targets")
                .with_code("model_not_found"));
            }
        }
        let saved = self
            .store
            .put_model_alias(alias, targets, Utc::now())
            .await?;
        self.changed().await?;
        Ok(saved)
    }

    /// Deletes an alias (404 when there is none).
    pub async fn delete_alias(&self, alias: &str) -> Result<(), GaiaError> {
        self.store.delete_model_alias(alias).await?;
        self.changed().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_price_given_is_a_non_negative_number() {
        assert!(prices(Some(3.0), Some(15.0), Some(0.3), Some(3.75)).is_ok());
        assert!(prices(None, None, None, None).is_ok());
        assert!(prices(Some(0.0), Some(0.0), Some(0.0), Some(0.0)).is_ok());
        for (args, param) in [
            ((Some(-1.0), None, None, None), "input_price_per_mtok"),
            (
                (None, Some(f64::INFINITY), None, None),
                "output_price_per_mtok",
            ),
            (
                (None, None, Some(-0.3), None),
                "cached_input_price_per_mtok",
            ),
            (
                (None, None, None, Some(f64::NAN)),
                "cache_write_price_per_mtok",
            ),
            (
                (None, None, Some(1e300), None),
                "cached_input_price_per_mtok",
            ),
        ] {
            let e = prices(args.0, args.1, args.2, args.3).unwrap_err();
            assert_eq!((e.status(), e.param.as_deref()), (400, Some(param)));
        }
    }
}
