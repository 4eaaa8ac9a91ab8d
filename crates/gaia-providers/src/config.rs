//! Provider configuration: the four built-in providers come from the environment (the binary builds
//! them); any number of OpenAI-compatible providers, extra models and aliases come from an optional TOML
//! file (`GAIA_CONFIG`).

use std::time::Duration;

use gaia_core::{GaiaError, ModelInfo, ModelKind, ProviderKind};
use serde::Deserialize;

/// Time and size bounds for upstream calls (the name predates the size bound).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP + TLS connection establishment.
    pub connect: Duration,
    /// Until the response headers arrive. For non-streaming calls that is the whole generation, so it
    /// is generous by default.
    pub first_byte: Duration,
    /// Longest silence between two chunks of a stream (also bounds reading a non-streaming body).
    pub idle: Duration,
    /// The largest non-streaming body read from an upstream, and the largest single event of a stream.
    /// Streams are not bounded in total, only per event: a broken or hostile upstream cannot make the
    /// gateway buffer without limit, and a long answer still streams through.
    pub max_response_bytes: usize,
}

/// 32 MiB: a long non-streaming answer is a few hundred kilobytes; this leaves room for large tool-call
/// arguments and base64 payloads while bounding what one request can make the gateway hold.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

/// Below this an ordinary answer would not fit.
const MIN_MAX_RESPONSE_BYTES: u64 = 1024;

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            first_byte: Duration::from_secs(300),
            idle: Duration::from_secs(120),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}

/// One upstream endpoint.
#[derive(Clone)]
pub struct ProviderConfig {
    /// The name clients use as the model prefix (`openai`, `anthropic`, `google`, `openrouter`, `deepseek`).
    pub name: String,
    pub kind: ProviderKind,
    /// Base URL, e.g. `https://api.openai.com/v1` (OpenAI-format: the part before `/chat/completions`).
    pub base_url: String,
    /// `None` when not configured: the provider is then listed as unavailable.
    pub api_key: Option<String>,
    /// Extra headers sent with every request (OpenRouter attribution, custom gateways).
    pub headers: Vec<(String, String)>,
    /// Anthropic requires `max_tokens`; used when neither the client nor the registry gives one.
    pub default_max_tokens: u32,
    /// Third-party OpenAI-compatible servers get the conservative request flavour.
    pub openai_compatible: bool,
    /// A PEM file of certificate authorities trusted for this endpoint besides the system's (a private
    /// CA in front of a self-hosted model server).
    pub ca_file: Option<std::path::PathBuf>,
    /// Azure OpenAI's `api-version` query parameter.
    pub api_version: Option<String>,
    /// Which HTTP version the gateway speaks to this endpoint.
    pub http_version: HttpVersion,
    /// At most this many requests in flight to this endpoint at once over HTTP/1.1 — a connection each —
    /// per instance, and at most this many idle connections kept (`None`: no cap). A request over the cap
    /// waits for one to come free, up to the connect timeout (then `upstream_busy`, 503). A connection
    /// that just finished may still be on its way back to the pool when the next request starts, so one
    /// more can open for a moment; the pool closes it on its return. An HTTP/2 answer gives its slot back
    /// at once: its connection is shared.
    pub max_connections: Option<u32>,
}

/// The HTTP version spoken to an upstream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum HttpVersion {
    /// HTTP/2 where the server offers it when TLS is negotiated (ALPN), HTTP/1.1 otherwise — and always
    /// HTTP/1.1 over plain `http://`.
    #[default]
    #[serde(rename = "auto")]
    Auto,
    /// HTTP/1.1 only.
    #[serde(rename = "1.1")]
    Http1,
    /// HTTP/2 only: over TLS as negotiated, over plain `http://` with prior knowledge (h2c, as vLLM, SGLang
    /// or an internal gateway may serve). Many requests share one connection per worker thread.
    #[serde(rename = "2")]
    Http2,
}

impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl ProviderConfig {
    pub fn new(
        name: impl Into<String>,
        kind: ProviderKind,
        base_url: impl Into<String>,
        api_key: Option<String>,
    ) -> Self {
        Self {
            name: name.into(),
            kind,
            base_url: base_url.into(),
            api_key,
            headers: Vec::new(),
            default_max_tokens: 4096,
            openai_compatible: false,
            ca_file: None,
            api_version: None,
            http_version: HttpVersion::Auto,
            max_connections: None,
        }
    }

    pub fn is_configured(&self) -> bool {
        self.api_key.is_some()
    }
}

/// The optional configuration file.
///
/// ```toml
/// [upstream]
/// connect_timeout_secs = 10
/// timeout_secs = 300
/// stream_idle_timeout_secs = 120
/// max_retries = 2
/// max_response_bytes = 33554432         # non-streaming body, and one stream event
/// http_version = "auto"                # "1.1", or "2" (h2c over http://); per provider or channel too
/// max_connections = 512                # HTTP/1.1 connections in use per endpoint (default: no cap)
///
/// [[providers]]
/// name = "deepseek"
/// kind = "openai"                      # openai | anthropic | gemini | openrouter
/// base_url = "https://api.deepseek.com/v1"
/// api_key_env = "DEEPSEEK_API_KEY"     # or api_key = "…" (prefer the environment)
/// headers = { "X-Team" = "research" }
/// [[providers.models]]
/// name = "deepseek-chat"
/// input_price = 0.27                   # USD per million tokens
/// output_price = 1.10
/// cached_input_price = 0.07            # optional: prompt tokens read from a cache
/// cache_write_price = 0.27             # optional: prompt tokens written to a cache
/// context_length = 65536
///
/// [[channels]]                         # one more key or endpoint for a provider
/// provider = "openai"
/// name = "second-key"
/// base_url = "https://api.openai.com/v1"
/// api_key_env = "OPENAI_API_KEY_2"
/// weight = 2                           # priority = 0, models = [...], model_map = { … }, ca_file = "…"
///                                      # http_version = "auto" | "1.1" | "2", max_connections = 256
///
/// [[aliases]]
/// name = "fast"
/// targets = ["google/gemini-2.5-flash", "openai/gpt-4o-mini"]
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub upstream: UpstreamSection,
    #[serde(default)]
    pub providers: Vec<FileProvider>,
    #[serde(default)]
    pub aliases: Vec<FileAlias>,
    /// More channels (credentials and endpoints) for providers declared here or built in.
    #[serde(default)]
    pub channels: Vec<FileChannel>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamSection {
    pub connect_timeout_secs: Option<u64>,
    pub timeout_secs: Option<u64>,
    pub stream_idle_timeout_secs: Option<u64>,
    pub max_retries: Option<u32>,
    pub max_response_bytes: Option<u64>,
    /// When a channel's circuit opens (`crate::health::CircuitConfig`).
    pub circuit: Option<FileCircuit>,
    /// The HTTP version for every provider and channel that does not set its own (default `auto`).
    pub http_version: Option<HttpVersion>,
    /// The cap on HTTP/1.1 connections in use per endpoint for every provider and channel that does not
    /// set its own (default: none).
    pub max_connections: Option<u32>,
}

/// `[upstream.circuit]`: every field optional, the defaults of [`crate::health::CircuitConfig`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileCircuit {
    pub window_secs: Option<u64>,
    pub min_requests: Option<u32>,
    pub failure_ratio: Option<f64>,
    pub cooldown_secs: Option<f64>,
    pub max_cooldown_secs: Option<f64>,
}

/// `[[channels]]`: one more credential and endpoint for a provider.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileChannel {
    pub provider: String,
    pub name: String,
    pub base_url: String,
    pub api_key: Option<String>,
    pub api_key_env: Option<String>,
    #[serde(default = "one")]
    pub weight: u32,
    #[serde(default)]
    pub priority: i32,
    pub models: Option<Vec<String>>,
    #[serde(default)]
    pub model_map: std::collections::BTreeMap<String, String>,
    pub ca_file: Option<std::path::PathBuf>,
    /// Azure OpenAI's `api-version` (default: the provider's).
    pub api_version: Option<String>,
    /// Default: the provider's.
    pub http_version: Option<HttpVersion>,
    /// Default: the provider's.
    pub max_connections: Option<u32>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileProvider {
    pub name: String,
    #[serde(default = "default_kind")]
    pub kind: String,
    pub base_url: String,
    pub api_key: Option<String>,
    pub api_key_env: Option<String>,
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    /// A PEM file of certificate authorities trusted for this endpoint besides the system's.
    pub ca_file: Option<std::path::PathBuf>,
    /// Azure OpenAI's `api-version` (kind `azure`; default 2024-10-21).
    pub api_version: Option<String>,
    /// `auto` (default: `[upstream]`'s), `1.1` or `2`.
    pub http_version: Option<HttpVersion>,
    /// The cap on HTTP/1.1 connections in use to this endpoint (default: `[upstream]`'s).
    pub max_connections: Option<u32>,
    #[serde(default)]
    pub models: Vec<FileModel>,
}

fn default_kind() -> String {
    "openai".to_owned()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileModel {
    pub name: String,
    /// USD per million input tokens. A model given neither price is unpriced (a cost limit refuses it);
    /// give `0` for a free one.
    pub input_price: Option<f64>,
    /// USD per million output tokens (0 when only `input_price` is given).
    pub output_price: Option<f64>,
    /// USD per million prompt tokens read from a cache; absent: the provider's ratio of the input price
    /// (`gaia_core::CacheRatios::of`).
    #[serde(alias = "cached_input_price_per_mtok")]
    pub cached_input_price: Option<f64>,
    /// USD per million prompt tokens written to a cache; absent: the provider's ratio of the input price.
    #[serde(alias = "cache_write_price_per_mtok")]
    pub cache_write_price: Option<f64>,
    pub context_length: Option<i64>,
    pub max_completion_tokens: Option<i64>,
    #[serde(default)]
    pub vision: bool,
    #[serde(default = "yes")]
    pub tools: bool,
    /// `chat` (the default) or `embedding`.
    #[serde(default)]
    pub kind: ModelKind,
    /// An embedding model's native vector length.
    pub dimensions: Option<i64>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileAlias {
    pub name: String,
    pub targets: Vec<String>,
}

/// USD per million tokens → nano-dollars per million tokens.
pub fn usd_per_mtok_to_nanos(usd: f64) -> i64 {
    if usd > 0.0 {
        gaia_core::Nanos::from_usd(usd).map_or(0, |n| n.0)
    } else {
        0
    }
}

impl FileConfig {
    pub fn parse(text: &str) -> Result<Self, GaiaError> {
        let cfg: FileConfig =
            toml::from_str(text).map_err(|e| GaiaError::invalid_request(e.to_string()))?;
        if let Some(max) = cfg.upstream.max_response_bytes
            && max < MIN_MAX_RESPONSE_BYTES
        {
            return Err(GaiaError::invalid_request(format!(
                "upstream.max_response_bytes is {max}; it must be at least {MIN_MAX_RESPONSE_BYTES}"
            )));
        }
        let caps = std::iter::once(("[upstream]", cfg.upstream.max_connections))
            .chain(
                cfg.providers
                    .iter()
                    .map(|p| (p.name.as_str(), p.max_connections)),
            )
            .chain(
                cfg.channels
                    .iter()
                    .map(|c| (c.name.as_str(), c.max_connections)),
            );
        for (owner, cap) in caps {
            if cap == Some(0) {
                return Err(GaiaError::invalid_request(format!(
                    "{owner}: max_connections must be at least 1 (leave it out for no cap)"
                )));
            }
        }
        for p in &cfg.providers {
            if p.name.is_empty() || p.name.contains('/') {
                return Err(GaiaError::invalid_request(format!(
                    "provider name '{}' must be non-empty and contain no '/'",
                    p.name
                )));
            }
            if ProviderKind::parse(&p.kind).is_none() {
                return Err(GaiaError::invalid_request(format!(
                    "provider '{}': unknown kind '{}' (openai, anthropic, gemini, openrouter, azure)",
                    p.name, p.kind
                )));
            }
            url::Url::parse(&p.base_url).map_err(|e| {
                GaiaError::invalid_request(format!("provider '{}': base_url: {e}", p.name))
            })?;
            for m in &p.models {
                if m.kind == ModelKind::Embedding
                    && ProviderKind::parse(&p.kind) == Some(ProviderKind::Anthropic)
                {
                    return Err(GaiaError::invalid_request(format!(
                        "provider '{}', model '{}': Anthropic has no embeddings API, so no embedding model can be served by it",
                        p.name, m.name
                    )));
                }
                if m.dimensions.is_some_and(|d| d < 1) {
                    return Err(GaiaError::invalid_request(format!(
                        "provider '{}', model '{}': dimensions must be positive",
                        p.name, m.name
                    )));
                }
                for (key, price) in [
                    ("cached_input_price", m.cached_input_price),
                    ("cache_write_price", m.cache_write_price),
                ] {
                    let fits = |usd: f64| usd >= 0.0 && gaia_core::Nanos::from_usd(usd).is_some();
                    if price.is_some_and(|usd| !fits(usd)) {
                        return Err(GaiaError::invalid_request(format!(
                            "provider '{}', model '{}': {key} must be a non-negative number (USD per million tokens, at most 9e9)",
                            p.name, m.name
                        )));
                    }
                }
            }
        }
        Ok(cfg)
    }

    /// The declared providers, with keys resolved through `lookup_env`.
    pub fn provider_configs(
        &self,
        lookup_env: impl Fn(&str) -> Option<String>,
    ) -> Vec<ProviderConfig> {
        self.providers
            .iter()
            .map(|p| {
                let kind = ProviderKind::parse(&p.kind).unwrap_or(ProviderKind::OpenAi);
                let api_key = p
                    .api_key
                    .clone()
                    .or_else(|| p.api_key_env.as_deref().and_then(&lookup_env))
                    .filter(|k| !k.is_empty());
                let mut cfg = ProviderConfig::new(
                    p.name.to_ascii_lowercase(),
                    kind,
                    p.base_url.clone(),
                    api_key,
                );
                cfg.headers = p
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                cfg.openai_compatible = kind == ProviderKind::OpenAi;
                cfg.ca_file = p.ca_file.clone();
                cfg.api_version = p.api_version.clone();
                cfg.http_version = p
                    .http_version
                    .or(self.upstream.http_version)
                    .unwrap_or_default();
                cfg.max_connections = p.max_connections.or(self.upstream.max_connections);
                cfg
            })
            .collect()
    }

    /// The models the file declares, as registry entries.
    pub fn models(&self) -> Vec<ModelInfo> {
        self.providers
            .iter()
            .flat_map(|p| {
                let provider = p.name.to_ascii_lowercase();
                p.models.iter().map(move |m| ModelInfo {
                    id: format!("{provider}/{}", m.name),
                    provider: provider.clone(),
                    upstream_name: m.name.clone(),
                    display_name: None,
                    context_length: m.context_length,
                    max_completion_tokens: m.max_completion_tokens,
                    input_price_nanos_per_mtok: usd_per_mtok_to_nanos(m.input_price.unwrap_or(0.0)),
                    output_price_nanos_per_mtok: usd_per_mtok_to_nanos(
                        m.output_price.unwrap_or(0.0),
                    ),
                    cached_input_price_nanos_per_mtok: m
                        .cached_input_price
                        .map(usd_per_mtok_to_nanos),
                    cache_write_price_nanos_per_mtok: m
                        .cache_write_price
                        .map(usd_per_mtok_to_nanos),
                    priced: (m.input_price.is_some() || m.output_price.is_some())
                        && [m.input_price, m.output_price]
                            .into_iter()
                            .flatten()
                            .all(|usd| usd.is_finite() && usd >= 0.0),
                    supports_vision: m.vision,
                    supports_tools: m.tools,
                    supports_streaming: true,
                    enabled: true,
                    source: "config".to_owned(),
                    kind: m.kind,
                    dimensions: m.dimensions,
                })
            })
            .collect()
    }

    /// The circuit settings, `[upstream.circuit]` over the defaults; nonsense values are refused.
    pub fn circuit(&self) -> Result<crate::health::CircuitConfig, GaiaError> {
        let mut c = crate::health::CircuitConfig::default();
        let Some(f) = &self.upstream.circuit else {
            return Ok(c);
        };
        let secs = |v: f64, what: &str| {
            if v.is_finite() && v > 0.0 && v <= 86_400.0 {
                Ok(Duration::from_secs_f64(v))
            } else {
                Err(GaiaError::invalid_request(format!(
                    "[upstream.circuit] {what} must be between 0 and 86400 seconds"
                )))
            }
        };
        if let Some(w) = f.window_secs {
            c.window = secs(w as f64, "window_secs")?;
        }
        if let Some(n) = f.min_requests {
            c.min_requests = n.max(1);
        }
        if let Some(r) = f.failure_ratio {
            if !(r > 0.0 && r <= 1.0) {
                return Err(GaiaError::invalid_request(
                    "[upstream.circuit] failure_ratio must be in (0, 1]",
                ));
            }
            c.failure_ratio = r;
        }
        if let Some(v) = f.cooldown_secs {
            c.cooldown = secs(v, "cooldown_secs")?;
        }
        if let Some(v) = f.max_cooldown_secs {
            c.max_cooldown = secs(v, "max_cooldown_secs")?;
        }
        c.max_cooldown = c.max_cooldown.max(c.cooldown);
        Ok(c)
    }

    pub fn timeouts(&self) -> Timeouts {
        let d = Timeouts::default();
        Timeouts {
            connect: self
                .upstream
                .connect_timeout_secs
                .map_or(d.connect, Duration::from_secs),
            first_byte: self
                .upstream
                .timeout_secs
                .map_or(d.first_byte, Duration::from_secs),
            idle: self
                .upstream
                .stream_idle_timeout_secs
                .map_or(d.idle, Duration::from_secs),
            max_response_bytes: self
                .upstream
                .max_response_bytes
                .map_or(d.max_response_bytes, |n| {
                    usize::try_from(n).unwrap_or(usize::MAX)
                }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_file_declares_providers_models_and_aliases() {
        let cfg = FileConfig::parse(
            r#"
            [upstream]
            timeout_secs = 60
            [[providers]]
            name = "DeepSeek"
            base_url = "https://api.deepseek.com/v1"
            api_key_env = "DEEPSEEK_API_KEY"
            headers = { "X-Team" = "research" }
            [[providers.models]]
            name = "deepseek-chat"
            input_price = 0.27
            output_price = 1.10
            [[aliases]]
            name = "fast"
            targets = ["google/gemini-2.5-flash", "openai/gpt-4o-mini"]
            "#,
        )
        .unwrap();
        let providers =
            cfg.provider_configs(|k| (k == "DEEPSEEK_API_KEY").then(|| "sk-x".to_owned()));
        assert_eq!(providers[0].name, "deepseek");
        assert_eq!(providers[0].api_key.as_deref(), Some("sk-x"));
        assert!(providers[0].openai_compatible);
        assert_eq!(
            providers[0].headers,
            vec![("X-Team".to_owned(), "research".to_owned())]
        );
        let models = cfg.models();
        assert_eq!(models[0].id, "deepseek/deepseek-chat");
        assert_eq!(models[0].input_price_nanos_per_mtok, 270_000_000);
        assert_eq!(cfg.aliases[0].targets.len(), 2);
        assert_eq!(cfg.timeouts().first_byte, Duration::from_secs(60));
        assert_eq!(
            cfg.timeouts().max_response_bytes,
            DEFAULT_MAX_RESPONSE_BYTES
        );
    }

    #[test]
    fn a_config_model_may_price_cache_reads_and_writes() {
        let cfg = FileConfig::parse(
            r#"
            [[providers]]
            name = "deepseek"
            base_url = "https://api.deepseek.com/v1"
            [[providers.models]]
            name = "deepseek-chat"
            input_price = 0.27
            output_price = 1.10
            cached_input_price = 0.07
            [[providers.models]]
            name = "deepseek-reasoner"
            input_price = 0.55
            cached_input_price_per_mtok = 0.14
            cache_write_price_per_mtok = 0.55
            "#,
        )
        .unwrap();
        let models = cfg.models();
        assert_eq!(
            (
                models[0].cached_input_price_nanos_per_mtok,
                models[0].cache_write_price_nanos_per_mtok
            ),
            (Some(70_000_000), None)
        );
        assert_eq!(
            (
                models[1].cached_input_price_nanos_per_mtok,
                models[1].cache_write_price_nanos_per_mtok
            ),
            (Some(140_000_000), Some(550_000_000))
        );
        for bad in [
            "cached_input_price = -0.1",
            "cache_write_price = nan",
            "cache_write_price = 1e300",
        ] {
            let err = FileConfig::parse(&format!(
                "[[providers]]\nname='x'\nbase_url='http://x'\n[[providers.models]]\nname='m'\n{bad}"
            ))
            .unwrap_err();
            assert!(err.message.contains("non-negative"), "{}", err.message);
        }
    }

    #[test]
    fn the_response_size_bound_is_configurable_but_not_absurdly_small() {
        let cfg = FileConfig::parse("[upstream]\nmax_response_bytes = 1048576").unwrap();
        assert_eq!(cfg.timeouts().max_response_bytes, 1_048_576);
        let err = FileConfig::parse("[upstream]\nmax_response_bytes = 10").unwrap_err();
        assert!(
            err.message.contains("max_response_bytes"),
            "{}",
            err.message
        );
        assert!(FileConfig::parse("[upstream]\nmax_response_bytes = -1").is_err());
    }

    #[test]
    fn unknown_keys_and_kinds_are_rejected() {
        assert!(FileConfig::parse("bogus = 1").is_err());
        assert!(
            FileConfig::parse("[[providers]]\nname='x'\nkind='cobol'\nbase_url='http://x'")
                .is_err()
        );
        assert!(FileConfig::parse("[[providers]]\nname='a/b'\nbase_url='http://x'").is_err());
    }

    #[test]
    fn debug_output_redacts_the_api_key() {
        let cfg = ProviderConfig::new(
            "openai",
            ProviderKind::OpenAi,
            "http://x",
            Some("sk-secret".into()),
        );
        assert!(!format!("{cfg:?}").contains("sk-secret"));
    }
}
