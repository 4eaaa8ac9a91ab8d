//! Importing OpenRouter's public model list (`GET {OPENROUTER_BASE_URL}/models`) into the registry, with
//! prices, as the original GaiaRouter did.

use gaia_core::{GaiaError, ModelInfo, ModelKind};
use serde::Deserialize;

use crate::provider::Provider;
use crate::upstream_error;

#[derive(Deserialize)]
struct ModelList {
    data: Vec<OrModel>,
}

#[derive(Deserialize)]
struct OrModel {
    id: String,
    name: Option<String>,
    context_length: Option<i64>,
    #[serde(default)]
    pricing: Pricing,
    #[serde(default)]
    architecture: Architecture,
    #[serde(default)]
    top_provider: TopProvider,
    #[serde(default)]
    supported_parameters: Vec<String>,
}

/// USD per token, as decimal strings. `internal_reasoning` is not read: reasoning tokens are output tokens
/// and billed at the output price.
#[derive(Deserialize, Default)]
struct Pricing {
    prompt: Option<String>,
    completion: Option<String>,
    /// Prompt tokens read from a cache, where the model has a cache price (a string, though a number is
    /// taken too: the field is newer and one odd entry must not fail the whole sync).
    #[serde(default)]
    input_cache_read: Option<serde_json::Value>,
    /// Prompt tokens written to a cache.
    #[serde(default)]
    input_cache_write: Option<serde_json::Value>,
}

/// A per-token price given as a string or a number, as text.
fn price_text(value: Option<&serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[derive(Deserialize, Default)]
struct Architecture {
    #[serde(default)]
    input_modalities: Vec<String>,
    /// `["embeddings"]` for an embedding model.
    #[serde(default)]
    output_modalities: Vec<String>,
}

#[derive(Deserialize, Default)]
struct TopProvider {
    max_completion_tokens: Option<i64>,
}

/// USD per token (as a decimal string) → nano-dollars per million tokens; `None` when the price is not
/// known: missing, unreadable, or negative (OpenRouter's "variable" price, e.g. of its router models).
fn per_token_to_nanos_per_mtok(price: Option<&str>) -> Option<i64> {
    price
        .and_then(|p| p.trim().parse::<f64>().ok())
        .filter(|p| p.is_finite() && *p >= 0.0)
        .map(|p| (p * 1e15).round() as i64)
}

/// Parses OpenRouter's `/models` answer into registry entries (`openrouter/<vendor>/<model>`).
pub fn parse_models(body: &[u8]) -> Result<Vec<ModelInfo>, GaiaError> {
    let list: ModelList = serde_json::from_slice(body)
        .map_err(|e| GaiaError::upstream(format!("openrouter: unexpected /models answer: {e}")))?;
    Ok(list
        .data
        .into_iter()
        .filter(|m| !m.id.is_empty())
        .map(|m| {
            let input = per_token_to_nanos_per_mtok(m.pricing.prompt.as_deref());
            let output = per_token_to_nanos_per_mtok(m.pricing.completion.as_deref());
            (m, input, output)
        })
        .map(|(m, input, output)| ModelInfo {
            // Unknown (missing, "variable") cache prices fall back to OpenRouter's ratio: the input price.
            cached_input_price_nanos_per_mtok: per_token_to_nanos_per_mtok(
                price_text(m.pricing.input_cache_read.as_ref()).as_deref(),
            ),
            cache_write_price_nanos_per_mtok: per_token_to_nanos_per_mtok(
                price_text(m.pricing.input_cache_write.as_ref()).as_deref(),
            ),
            id: format!("openrouter/{}", m.id),
            provider: "openrouter".to_owned(),
            upstream_name: m.id,
            display_name: m.name,
            context_length: m.context_length,
            max_completion_tokens: m.top_provider.max_completion_tokens,
            input_price_nanos_per_mtok: input.unwrap_or(0),
            output_price_nanos_per_mtok: output.unwrap_or(0),
            // Both prices known ("0" is free); a "variable" or missing one leaves the model unpriced.
            priced: input.is_some() && output.is_some(),
            supports_vision: m.architecture.input_modalities.iter().any(|x| x == "image"),
            supports_tools: m.supported_parameters.iter().any(|x| x == "tools"),
            supports_streaming: true,
            enabled: true,
            source: "openrouter".to_owned(),
            kind: if m
                .architecture
                .output_modalities
                .iter()
                .any(|x| x == "embeddings")
            {
                ModelKind::Embedding
            } else {
                ModelKind::Chat
            },
            dimensions: None,
        })
        .collect())
}

/// Fetches and parses the list through the OpenRouter provider's client.
pub async fn fetch_models(provider: &Provider) -> Result<Vec<ModelInfo>, GaiaError> {
    let url = format!("{}/models", provider.base_url());
    let response = provider
        .http()?
        .get(url)
        .send()
        .await
        .map_err(|e| upstream_error::from_transport(provider.name(), &e))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| upstream_error::from_transport(provider.name(), &e))?;
    if !status.is_success() {
        return Err(upstream_error::from_status(
            provider.name(),
            provider.kind(),
            status.as_u16(),
            None,
            &body,
        ));
    }
    parse_models(&body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openrouter_models_are_converted_with_prices() {
        let body = br#"{"data":[{"id":"meta-llama/llama-3.1-8b-instruct","name":"Meta: Llama 3.1 8B Instruct",
            "context_length":131072,"pricing":{"prompt":"0.00000002","completion":"0.00000003"},
            "architecture":{"input_modalities":["text"]},"top_provider":{"max_completion_tokens":16384},
            "supported_parameters":["tools","temperature"]},
            {"id":"openrouter/auto","pricing":{"prompt":"-1","completion":"-1"}}]}"#;
        let models = parse_models(body).unwrap();
        assert_eq!(models.len(), 2);
        let m = &models[0];
        assert_eq!(m.id, "openrouter/meta-llama/llama-3.1-8b-instruct");
        assert_eq!(m.upstream_name, "meta-llama/llama-3.1-8b-instruct");
        assert_eq!(m.input_price_nanos_per_mtok, 20_000_000);
        assert_eq!(m.output_price_nanos_per_mtok, 30_000_000);
        assert!(m.supports_tools && !m.supports_vision);
        assert!(m.priced);
        // "Variable" (negative) prices are not known prices: unpriced, not free.
        assert_eq!(models[1].input_price_nanos_per_mtok, 0);
        assert!(!models[1].priced);
    }

    #[test]
    fn a_price_of_zero_is_free_and_a_missing_one_is_unknown() {
        let body = br#"{"data":[{"id":"a/free","pricing":{"prompt":"0","completion":"0"}},
            {"id":"a/half","pricing":{"prompt":"0.000001"}}, {"id":"a/none"}]}"#;
        let models = parse_models(body).unwrap();
        assert!(models[0].priced);
        assert_eq!(models[0].cost_nanos(&gaia_core::Usage::new(1000, 1000)), 0);
        assert!(!models[1].priced);
        assert!(!models[2].priced);
    }

    #[test]
    fn cache_read_and_write_prices_are_imported_where_the_list_has_them() {
        let body = br#"{"data":[
            {"id":"anthropic/claude-sonnet-4.5","pricing":{"prompt":"0.000003","completion":"0.000015",
             "input_cache_read":"0.0000003","input_cache_write":"0.00000375","internal_reasoning":"0.000015"}},
            {"id":"openai/gpt-4o-mini","pricing":{"prompt":"0.00000015","completion":"0.0000006",
             "input_cache_read":0.000000075}},
            {"id":"a/odd","pricing":{"prompt":"0.000001","completion":"0.000002",
             "input_cache_read":"-1","input_cache_write":{"per":"token"}}}]}"#;
        let models = parse_models(body).unwrap();
        let cache = |m: &ModelInfo| {
            (
                m.cached_input_price_nanos_per_mtok,
                m.cache_write_price_nanos_per_mtok,
            )
        };
        assert_eq!(cache(&models[0]), (Some(300_000_000), Some(3_750_000_000)));
        assert_eq!(cache(&models[1]), (Some(75_000_000), None));
        // A "variable" or unreadable cache price is unknown: the input price applies.
        assert_eq!(cache(&models[2]), (None, None));
        assert!(models.iter().all(|m| m.priced));
        // 1,000 input incl. 600 read and 200 written, 500 output incl. 100 reasoning:
        // 200 × $3 + 600 × $0.30 + 200 × $3.75 + 500 × $15 per million = $0.00903.
        let usage = gaia_core::Usage {
            cached_tokens: 600,
            cache_creation_tokens: 200,
            reasoning_tokens: 100,
            ..gaia_core::Usage::new(1_000, 500)
        };
        assert_eq!(models[0].cost_nanos(&usage), 9_030_000);
    }

    #[test]
    fn a_malformed_list_is_an_upstream_error() {
        assert_eq!(parse_models(b"<html>").unwrap_err().status(), 502);
    }
}
