//! The in-memory snapshot the hot path reads: providers by name, registered models by id, aliases.
//! The binary builds a new snapshot from the database when the registry changes (and periodically) and
//! swaps it in atomically; a request never waits for the database.

use std::collections::HashMap;
use std::sync::Arc;

use gaia_core::{CacheRatios, GaiaError, ModelInfo, ModelKind, ModelRef};

use crate::channel::Channel;
use crate::provider::Provider;

/// A model a request can be sent to.
#[derive(Debug, Clone)]
pub struct Target {
    /// The provider (name, dialect, defaults); its channels say where requests go.
    pub provider: Arc<Provider>,
    /// The provider's channels, in no particular order ([`crate::channel::order`] orders them per request).
    pub channels: Arc<[Arc<Channel>]>,
    /// Shared with the registry snapshot: resolving a model copies no strings.
    pub model: Arc<ModelInfo>,
}

/// Providers, models and aliases at one point in time.
#[derive(Debug, Default)]
pub struct Registry {
    providers: HashMap<String, Arc<Provider>>,
    /// Every enabled channel, by provider name.
    channels: HashMap<String, Arc<[Arc<Channel>]>>,
    models: HashMap<String, Arc<ModelInfo>>,
    aliases: HashMap<String, Vec<String>>,
}

/// Provider-name synonyms clients use.
fn canonical_provider(name: &str) -> &str {
    match name {
        "gemini" | "googleai" | "google-ai" => "google",
        other => other,
    }
}

fn model_not_found(id: &str, why: &str) -> GaiaError {
    GaiaError::not_found(format!("the model '{id}' {why}"))
        .with_code("model_not_found")
        .with_param("model")
}

/// The default cache-price ratios of a provider's models ([`CacheRatios::of`] its kind); reads and writes
/// at the input price for a model whose provider is not set up here (it cannot be served anyway).
pub fn cache_ratios(provider: Option<&Provider>) -> CacheRatios {
    provider.map_or(CacheRatios::AT_INPUT, |p| {
        CacheRatios::of(p.kind(), p.config().openai_compatible)
    })
}

impl Registry {
    /// A snapshot of these providers, models and aliases. Every model's unset cache prices are filled in
    /// from its provider's ratios here, once, so pricing a request looks nothing up.
    pub fn new(
        providers: impl IntoIterator<Item = Arc<Provider>>,
        models: impl IntoIterator<Item = ModelInfo>,
        aliases: impl IntoIterator<Item = (String, Vec<String>)>,
    ) -> Self {
        let providers: HashMap<String, Arc<Provider>> = providers
            .into_iter()
            .map(|p| (p.name().to_owned(), p))
            .collect();
        let models = models
            .into_iter()
            .map(|m| {
                let provider = providers.get(canonical_provider(&m.provider));
                let m = m.with_default_cache_prices(cache_ratios(provider.map(|p| &**p)));
                (m.id.clone(), Arc::new(m))
            })
            .collect();
        // Until told otherwise (`with_channels`), each configured provider has its own endpoint as its
        // one channel.
        let channels = providers
            .values()
            .filter(|p| p.is_configured())
            .map(|p| {
                let c = Arc::new(Channel::default_of(p.clone(), None));
                (p.name().to_owned(), Arc::from(vec![c]))
            })
            .collect();
        Self {
            providers,
            channels,
            models,
            aliases: aliases.into_iter().collect(),
        }
    }

    /// The same snapshot with exactly these channels (the providers' own endpoints among them, as the
    /// caller decided); channels of unknown providers are left out.
    pub fn with_channels(mut self, channels: impl IntoIterator<Item = Arc<Channel>>) -> Self {
        let mut by_provider: HashMap<String, Vec<Arc<Channel>>> = HashMap::new();
        for c in channels {
            if self.providers.contains_key(&c.provider) {
                by_provider.entry(c.provider.clone()).or_default().push(c);
            }
        }
        self.channels = by_provider
            .into_iter()
            .map(|(p, list)| (p, Arc::from(list)))
            .collect();
        self
    }

    /// The channels of provider `name` (empty when it has none).
    pub fn channels_of(&self, name: &str) -> &[Arc<Channel>] {
        self.channels
            .get(canonical_provider(name))
            .map_or(&[], |c| &c[..])
    }

    /// Every channel of every provider, by provider then name.
    pub fn channels(&self) -> Vec<&Arc<Channel>> {
        let mut all: Vec<&Arc<Channel>> = self.channels.values().flat_map(|c| c.iter()).collect();
        all.sort_by(|a, b| (&a.provider, &a.name).cmp(&(&b.provider, &b.name)));
        all
    }

    /// Whether provider `name` has a channel to send requests through.
    pub fn is_configured(&self, name: &str) -> bool {
        !self.channels_of(name).is_empty()
    }

    /// The default cache-price ratios of the models of provider `name` (see [`cache_ratios`]).
    pub fn cache_ratios_of(&self, name: &str) -> CacheRatios {
        cache_ratios(self.provider(name).map(|p| &**p))
    }

    /// A snapshot of the providers, the stored models and aliases, and the aliases of the `GAIA_CONFIG` file.
    /// A file alias wins over a stored one of the same name: the file is the operator's deployment, read at
    /// every start, and cannot be changed through the API.
    pub fn with_file_aliases(
        providers: impl IntoIterator<Item = Arc<Provider>>,
        models: impl IntoIterator<Item = ModelInfo>,
        stored_aliases: impl IntoIterator<Item = (String, Vec<String>)>,
        file_aliases: &[(String, Vec<String>)],
    ) -> Self {
        Self::new(
            providers,
            models,
            stored_aliases
                .into_iter()
                .chain(file_aliases.iter().cloned()),
        )
    }

    pub fn provider(&self, name: &str) -> Option<&Arc<Provider>> {
        self.providers.get(canonical_provider(name))
    }

    pub fn providers(&self) -> impl Iterator<Item = &Arc<Provider>> {
        self.providers.values()
    }

    /// Whether the model can be served now: registered, enabled, and its provider configured.
    fn available(&self, m: &ModelInfo) -> bool {
        m.enabled && self.is_configured(&m.provider)
    }

    /// Enabled models of configured providers, sorted by id (what `/v1/models` lists).
    pub fn available_models(&self) -> Vec<&ModelInfo> {
        let mut list: Vec<&ModelInfo> = self
            .models
            .values()
            .map(|m| &**m)
            .filter(|m| self.available(m))
            .collect();
        list.sort_by(|a, b| a.id.cmp(&b.id));
        list
    }

    /// One available model by id (or alias: its first available target).
    pub fn available_model(&self, id: &str) -> Option<&ModelInfo> {
        self.resolve(id)
            .ok()?
            .into_iter()
            .next()
            .and_then(|t| self.models.get(&t.model.id))
            .map(|m| &**m)
    }

    pub fn aliases(&self) -> &HashMap<String, Vec<String>> {
        &self.aliases
    }

    /// Resolves one concrete model id to a target.
    fn resolve_one(&self, requested: &str) -> Result<Target, GaiaError> {
        let parsed = ModelRef::parse(requested)?;
        let provider_name = canonical_provider(&parsed.provider);
        let id = format!("{provider_name}/{}", parsed.model);
        let Some(provider) = self.providers.get(provider_name) else {
            return Err(model_not_found(
                requested,
                &format!("names an unknown provider '{}'", parsed.provider),
            ));
        };
        let Some(model) = self.models.get(&id) else {
            return Err(model_not_found(
                requested,
                "is not registered on this gateway",
            ));
        };
        if !model.enabled {
            return Err(model_not_found(requested, "is disabled on this gateway"));
        }
        let Some(channels) = self.channels.get(provider_name) else {
            return Err(GaiaError::invalid_request(format!(
                "the provider '{provider_name}' of model '{requested}' is not configured on this gateway (no API key)"
            ))
            .with_code("provider_not_configured")
            .with_param("model"));
        };
        Ok(Target {
            provider: provider.clone(),
            channels: channels.clone(),
            model: model.clone(),
        })
    }

    /// The targets for a requested model id or alias, in fallback order. For an alias, targets that are
    /// unavailable are skipped; if none is left, the first target's error is returned.
    pub fn resolve(&self, requested: &str) -> Result<Vec<Target>, GaiaError> {
        let requested = requested.trim();
        if let Some(targets) = self.aliases.get(requested) {
            let mut first_error = None;
            let mut out = Vec::with_capacity(targets.len());
            for id in targets {
                match self.resolve_one(id) {
                    Ok(t) => out.push(t),
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
            return match (out.is_empty(), first_error) {
                (false, _) => Ok(out),
                (true, Some(e)) => Err(e),
                (true, None) => Err(model_not_found(requested, "is an alias without targets")),
            };
        }
        self.resolve_one(requested).map(|t| vec![t])
    }

    /// [`resolve`](Self::resolve), keeping the targets whose model is of `kind` (an alias may mix kinds);
    /// none left is the 422 `model_kind_mismatch` of the first target's kind (E-13).
    pub fn resolve_kind(&self, requested: &str, kind: ModelKind) -> Result<Vec<Target>, GaiaError> {
        let targets = self.resolve(requested)?;
        let other = targets.first().map(|t| t.model.kind);
        let fitting: Vec<Target> = targets
            .into_iter()
            .filter(|t| t.model.kind == kind)
            .collect();
        match other {
            Some(other) if fitting.is_empty() => Err(other.mismatch(requested.trim(), kind)),
            _ => Ok(fitting),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ProviderConfig, Timeouts};
    use gaia_core::ProviderKind;

    fn model(id: &str, enabled: bool) -> ModelInfo {
        let (provider, name) = id.split_once('/').unwrap();
        ModelInfo {
            id: id.into(),
            provider: provider.into(),
            upstream_name: name.into(),
            display_name: None,
            context_length: None,
            max_completion_tokens: None,
            input_price_nanos_per_mtok: 1_000_000_000, // $1 per million tokens
            output_price_nanos_per_mtok: 0,
            cached_input_price_nanos_per_mtok: None,
            cache_write_price_nanos_per_mtok: None,
            priced: true,
            supports_vision: false,
            supports_tools: true,
            supports_streaming: true,
            enabled,
            source: "catalog".into(),
            kind: ModelKind::Chat,
            dimensions: None,
        }
    }

    fn embedding(id: &str) -> ModelInfo {
        ModelInfo {
            kind: ModelKind::Embedding,
            dimensions: Some(1536),
            ..model(id, true)
        }
    }

    #[test]
    fn a_route_resolves_only_models_of_its_kind() {
        let openai = Provider::new(
            ProviderConfig::new(
                "openai",
                ProviderKind::OpenAi,
                "http://127.0.0.1:9",
                Some("k".into()),
            ),
            Timeouts::default(),
        )
        .unwrap();
        let r = Registry::new(
            [openai],
            [
                model("openai/gpt-4o-mini", true),
                embedding("openai/text-embedding-3-small"),
                embedding("openai/text-embedding-3-large"),
            ],
            [
                (
                    "mixed".to_owned(),
                    vec![
                        "openai/gpt-4o-mini".to_owned(),
                        "openai/text-embedding-3-large".to_owned(),
                    ],
                ),
                (
                    "vectors".to_owned(),
                    vec!["openai/text-embedding-3-small".to_owned()],
                ),
            ],
        );
        let ids = |targets: Vec<Target>| -> Vec<String> {
            targets.into_iter().map(|t| t.model.id.clone()).collect()
        };
        assert_eq!(
            ids(r
                .resolve_kind("openai/text-embedding-3-small", ModelKind::Embedding)
                .unwrap()),
            ["openai/text-embedding-3-small"]
        );
        assert_eq!(
            ids(r.resolve_kind("mixed", ModelKind::Embedding).unwrap()),
            ["openai/text-embedding-3-large"]
        );
        assert_eq!(
            ids(r.resolve_kind("mixed", ModelKind::Chat).unwrap()),
            ["openai/gpt-4o-mini"]
        );
        let e = r
            .resolve_kind("openai/gpt-4o-mini", ModelKind::Embedding)
            .unwrap_err();
        assert_eq!((e.status(), e.code()), (422, "model_kind_mismatch"));
        assert!(
            e.message.contains("'openai/gpt-4o-mini' is a chat model"),
            "{}",
            e.message
        );
        let e = r.resolve_kind("vectors", ModelKind::Chat).unwrap_err();
        assert!(e.message.contains("use /v1/embeddings"), "{}", e.message);
        // Unknown models stay 404s.
        let e = r
            .resolve_kind("openai/nope", ModelKind::Embedding)
            .unwrap_err();
        assert_eq!(e.status(), 404);
    }

    fn registry() -> Registry {
        let p = |name: &str, kind, key: Option<&str>| {
            Provider::new(
                ProviderConfig::new(name, kind, "http://127.0.0.1:9", key.map(str::to_owned)),
                Timeouts::default(),
            )
            .unwrap()
        };
        Registry::new(
            [
                p("openai", ProviderKind::OpenAi, Some("k")),
                p("anthropic", ProviderKind::Anthropic, None),
                p("google", ProviderKind::Gemini, Some("k")),
            ],
            [
                model("openai/gpt-4o-mini", true),
                model("openai/gpt-old", false),
                model("anthropic/claude-sonnet-4-5", true),
                model("google/gemini-2.5-flash", true),
            ],
            [(
                "fast".to_owned(),
                vec![
                    "anthropic/claude-sonnet-4-5".to_owned(),
                    "google/gemini-2.5-flash".to_owned(),
                    "openai/gpt-4o-mini".to_owned(),
                ],
            )],
        )
    }

    #[test]
    fn a_file_alias_wins_over_a_stored_one_of_the_same_name() {
        let openai = Provider::new(
            ProviderConfig::new(
                "openai",
                ProviderKind::OpenAi,
                "http://127.0.0.1:9",
                Some("k".into()),
            ),
            Timeouts::default(),
        )
        .unwrap();
        let r = Registry::with_file_aliases(
            [openai],
            [
                model("openai/gpt-4o-mini", true),
                model("openai/gpt-4o", true),
            ],
            [("fast".to_owned(), vec!["openai/gpt-4o".to_owned()])],
            &[("fast".to_owned(), vec!["openai/gpt-4o-mini".to_owned()])],
        );
        assert_eq!(r.resolve("fast").unwrap()[0].model.id, "openai/gpt-4o-mini");
    }

    #[test]
    fn bare_and_prefixed_names_resolve_to_the_same_model() {
        let r = registry();
        assert_eq!(
            r.resolve("gpt-4o-mini").unwrap()[0].model.id,
            "openai/gpt-4o-mini"
        );
        assert_eq!(
            r.resolve("openai/gpt-4o-mini").unwrap()[0].model.id,
            "openai/gpt-4o-mini"
        );
        assert_eq!(
            r.resolve("gemini/gemini-2.5-flash").unwrap()[0].model.id,
            "google/gemini-2.5-flash"
        );
    }

    #[test]
    fn unknown_and_disabled_models_are_model_not_found() {
        let r = registry();
        for id in ["openai/nope", "openai/gpt-old", "mystery/x"] {
            let e = r.resolve(id).unwrap_err();
            assert_eq!((e.status(), e.code()), (404, "model_not_found"), "{id}");
        }
    }

    #[test]
    fn an_unconfigured_provider_is_reported_as_such() {
        let e = registry()
            .resolve("anthropic/claude-sonnet-4-5")
            .unwrap_err();
        assert_eq!((e.status(), e.code()), (400, "provider_not_configured"));
    }

    #[test]
    fn aliases_skip_unavailable_targets_in_order() {
        let targets = registry().resolve("fast").unwrap();
        let ids: Vec<_> = targets.iter().map(|t| t.model.id.as_str()).collect();
        assert_eq!(ids, ["google/gemini-2.5-flash", "openai/gpt-4o-mini"]);
    }

    #[test]
    fn only_enabled_models_of_configured_providers_are_listed() {
        let r = registry();
        let ids: Vec<_> = r.available_models().iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["google/gemini-2.5-flash", "openai/gpt-4o-mini"]);
    }

    #[test]
    fn the_snapshot_fills_in_unset_cache_prices_from_the_providers_kind() {
        let p = |name: &str, kind, compatible: bool| {
            let mut config =
                ProviderConfig::new(name, kind, "http://127.0.0.1:9", Some("k".to_owned()));
            config.openai_compatible = compatible;
            Provider::new(config, Timeouts::default()).unwrap()
        };
        let mut own = model("anthropic/own", true);
        own.cached_input_price_nanos_per_mtok = Some(7);
        let r = Registry::new(
            [
                p("openai", ProviderKind::OpenAi, false),
                p("anthropic", ProviderKind::Anthropic, false),
                p("google", ProviderKind::Gemini, false),
                p("openrouter", ProviderKind::OpenRouter, false),
                p("deepseek", ProviderKind::OpenAi, true),
            ],
            [
                model("openai/a", true),
                model("anthropic/b", true),
                own,
                model("google/c", true),
                model("openrouter/x/d", true),
                model("deepseek/e", true),
                model("gone/f", true),
            ],
            [],
        );
        let cache = |id: &str| {
            let m = &r.models[id];
            (
                m.cached_input_price_nanos_per_mtok,
                m.cache_write_price_nanos_per_mtok,
            )
        };
        // Every model's input price is $1 per million tokens.
        assert_eq!(cache("openai/a"), (Some(500_000_000), Some(1_000_000_000)));
        assert_eq!(
            cache("anthropic/b"),
            (Some(100_000_000), Some(1_250_000_000))
        );
        assert_eq!(cache("anthropic/own"), (Some(7), Some(1_250_000_000)));
        assert_eq!(cache("google/c"), (Some(250_000_000), Some(1_000_000_000)));
        for at_input in ["openrouter/x/d", "deepseek/e", "gone/f"] {
            assert_eq!(
                cache(at_input),
                (Some(1_000_000_000), Some(1_000_000_000)),
                "{at_input}"
            );
        }
        assert_eq!(
            r.cache_ratios_of("gemini"),
            CacheRatios::of(ProviderKind::Gemini, false)
        );
        assert_eq!(r.cache_ratios_of("nowhere"), CacheRatios::AT_INPUT);
    }
}
