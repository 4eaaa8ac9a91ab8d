//! The built-in model catalog (`catalog/models.json`): current models of the four providers with prices
//! and limits. It seeds the registry at start; operators change the registry through the admin API, and
//! maintainers update the file (see docs/maintenance).

use gaia_core::{GaiaError, ModelInfo};
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
    output_price_usd_per_mtok: f64,
    vision: bool,
    tools: bool,
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
            priced: true,
            supports_vision: m.vision,
            supports_tools: m.tools,
            supports_streaming: true,
            enabled: true,
            source: "catalog".to_owned(),
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
            assert!(
                m.input_price_nanos_per_mtok > 0 && m.output_price_nanos_per_mtok > 0,
                "{}",
                m.id
            );
        }
        let mini = models
            .iter()
            .find(|m| m.id == "openai/gpt-4o-mini")
            .unwrap();
        assert_eq!(mini.input_price_nanos_per_mtok, 150_000_000);
    }
}
