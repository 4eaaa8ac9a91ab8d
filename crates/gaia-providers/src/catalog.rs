//! The built-in model catalog (`catalog/models.json`): current models of the four providers with prices
//! and limits. It seeds the registry at start; operators change the registry through the admin API, and
//! maintainers update the file (see docs/maintenance).

use gaia_core::{GaiaError, ModelInfo, ModelKind};
use serde::Deserialize;

use crate::config::usd_per_mtok_to_nanos;

const CATALOG: &str = include_str!("../catalog/models.json");

#[derive(Deserialize)]
struct CatalogFile {
    models: Vec<CatalogModel>,
}

#[derive(Deserialize)]
struct CatalogModel {
    id: String,
    provider: String,
    upstream_name: String,
    display_name: Option<String>,
    context_length: Option<i64>,
    max_completion_tokens: Option<i64>,
    input_price_usd_per_mtok: f64,
    /// Prompt tokens read from a cache; absent: the provider's ratio of the input price.
    #[serde(default)]
    cached_input_price_usd_per_mtok: Option<f64>,
    /// Prompt tokens written to a cache; absent: the provider's ratio of the input price.
    #[serde(default)]
    cache_write_price_usd_per_mtok: Option<f64>,
    output_price_usd_per_mtok: f64,
    vision: bool,
    tools: bool,
    /// `chat` (absent) or `embedding`.
    #[serde(default)]
    kind: ModelKind,
    /// An embedding model's native vector length.
    #[serde(default)]
    dimensions: Option<i64>,
}

/// Parses a catalog document.
pub fn parse(text: &str) -> Result<Vec<ModelInfo>, GaiaError> {
    let file: CatalogFile = serde_json::from_str(text)
        .map_err(|e| GaiaError::internal(format!("model catalog: {e}")))?;
    Ok(file
        .models
        .into_iter()
        .map(|m| ModelInfo {
            id: m.id,
            provider: m.provider,
            upstream_name: m.upstream_name,
            display_name: m.display_name,
            context_length: m.context_length,
            max_completion_tokens: m.max_completion_tokens,
            input_price_nanos_per_mtok: usd_per_mtok_to_nanos(m.input_price_usd_per_mtok),
            output_price_nanos_per_mtok: usd_per_mtok_to_nanos(m.output_price_usd_per_mtok),
            cached_input_price_nanos_per_mtok: m
                .cached_input_price_usd_per_mtok
                .map(usd_per_mtok_to_nanos),
            cache_write_price_nanos_per_mtok: m
                .cache_write_price_usd_per_mtok
                .map(usd_per_mtok_to_nanos),
            priced: true,
            supports_vision: m.vision,
            supports_tools: m.tools,
            supports_streaming: true,
            enabled: true,
            source: "catalog".to_owned(),
            kind: m.kind,
            dimensions: m.dimensions,
        })
        .collect())
}

/// The built-in catalog.
pub fn builtin() -> Result<Vec<ModelInfo>, GaiaError> {
    parse(CATALOG)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalog_is_valid_and_consistent() {
        let models = builtin().unwrap();
        assert!(models.len() >= 15);
        let mut ids = std::collections::HashSet::new();
        for m in &models {
            assert!(ids.insert(m.id.clone()), "duplicate {}", m.id);
            assert_eq!(m.id, format!("{}/{}", m.provider, m.upstream_name));
            assert!(
                ["openai", "anthropic", "google", "openrouter"].contains(&m.provider.as_str()),
                "{}",
                m.id
            );
            match m.kind {
                ModelKind::Chat => assert!(
                    m.input_price_nanos_per_mtok > 0 && m.output_price_nanos_per_mtok > 0,
                    "{}",
                    m.id
                ),
                // Billed for input only; never served by Anthropic, which has no embeddings.
                ModelKind::Embedding => {
                    assert!(m.input_price_nanos_per_mtok > 0, "{}", m.id);
                    assert_eq!(m.output_price_nanos_per_mtok, 0, "{}", m.id);
                    assert!(m.dimensions.is_some_and(|d| d > 0), "{}", m.id);
                    assert_ne!(m.provider, "anthropic");
                }
            }
        }
        let small = models
            .iter()
            .find(|m| m.id == "openai/text-embedding-3-small")
            .unwrap();
        assert_eq!(
            (
                small.kind,
                small.dimensions,
                small.input_price_nanos_per_mtok
            ),
            (ModelKind::Embedding, Some(1536), 20_000_000)
        );
        assert!(
            models
                .iter()
                .any(|m| m.id == "google/gemini-embedding-001" && m.kind == ModelKind::Embedding)
        );
        let mini = models
            .iter()
            .find(|m| m.id == "openai/gpt-4o-mini")
            .unwrap();
        assert_eq!(mini.input_price_nanos_per_mtok, 150_000_000);
    }

    /// The published cache prices: reads below the input price (Anthropic's writes above it), the gpt-5
    /// family at a tenth, gpt-4.1 at a quarter, Gemini 2.5 at a tenth; the others follow the ratio rule.
    #[test]
    fn the_catalog_gives_the_published_cache_prices() {
        let models = builtin().unwrap();
        let get = |id: &str| {
            models
                .iter()
                .find(|m| m.id == id)
                .unwrap_or_else(|| panic!("{id}"))
        };
        for m in &models {
            if let Some(read) = m.cached_input_price_nanos_per_mtok {
                assert!(read < m.input_price_nanos_per_mtok, "{}", m.id);
            }
            if let Some(write) = m.cache_write_price_nanos_per_mtok {
                assert!(write > m.input_price_nanos_per_mtok, "{}", m.id);
            }
        }
        let prices = |id: &str| {
            let m = get(id);
            (
                m.cached_input_price_nanos_per_mtok,
                m.cache_write_price_nanos_per_mtok,
            )
        };
        assert_eq!(prices("openai/gpt-5"), (Some(125_000_000), None));
        assert_eq!(prices("openai/gpt-4.1"), (Some(500_000_000), None));
        assert_eq!(prices("openai/gpt-4o-mini"), (Some(75_000_000), None));
        assert_eq!(prices("openai/o4-mini"), (Some(275_000_000), None));
        assert_eq!(
            prices("anthropic/claude-sonnet-4-5"),
            (Some(300_000_000), Some(3_750_000_000))
        );
        assert_eq!(prices("google/gemini-2.5-flash"), (Some(30_000_000), None));
        assert_eq!(prices("google/gemini-2.0-flash"), (Some(25_000_000), None));
        assert_eq!(
            prices("openrouter/meta-llama/llama-3.1-8b-instruct"),
            (None, None)
        );
        // What the ratio rule gives is what Anthropic publishes: the catalog agrees with it.
        let haiku = get("anthropic/claude-haiku-4-5");
        let by_ratio = ModelInfo {
            cached_input_price_nanos_per_mtok: None,
            cache_write_price_nanos_per_mtok: None,
            ..haiku.clone()
        }
        .token_prices(gaia_core::CacheRatios::of(
            gaia_core::ProviderKind::Anthropic,
            false,
        ));
        assert_eq!(
            (
                haiku.cached_input_price_nanos_per_mtok,
                haiku.cache_write_price_nanos_per_mtok
            ),
            (Some(by_ratio.cached_input), Some(by_ratio.cache_write))
        );
    }
}
