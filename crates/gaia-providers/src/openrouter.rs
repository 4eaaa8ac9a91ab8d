//! Importing OpenRouter's public model list (`GET {OPENROUTER_BASE_URL}/models`) into the registry, with
//! prices, as the original GaiaRouter did.

use gaia_core::{GaiaError, ModelInfo};
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

#[derive(Deserialize, Default)]
struct Pricing {
    prompt: Option<String>,
    completion: Option<String>,
}

#[derive(Deserialize, Default)]
struct Architecture {
    #[serde(default)]
    input_modalities: Vec<String>,
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
        assert_eq!(models[0].cost_nanos(1000, 1000), 0);
        assert!(!models[1].priced);
        assert!(!models[2].priced);
    }

    #[test]
    fn a_malformed_list_is_an_upstream_error() {
        assert_eq!(parse_models(b"<html>").unwrap_err().status(), 502);
    }
}
