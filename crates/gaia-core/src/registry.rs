//! The model registry's view of a model: where it is served and what it costs.

use serde::{Deserialize, Serialize};

/// One registered model. Prices are nano-dollars per million tokens (1 USD per 1M tokens = 1_000_000_000).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// `provider/model`, the id clients send.
    pub id: String,
    pub provider: String,
    pub upstream_name: String,
    pub display_name: Option<String>,
    pub context_length: Option<i64>,
    pub max_completion_tokens: Option<i64>,
    pub input_price_nanos_per_mtok: i64,
    pub output_price_nanos_per_mtok: i64,
    /// Whether the prices are known. `false`: nobody said what the model costs (an OpenRouter "variable"
    /// price, a model registered without prices), so its cost of 0 is not a real cost and a monthly cost
    /// limit cannot be enforced on it. Prices of 0 with `priced` mean free.
    pub priced: bool,
    pub supports_vision: bool,
    pub supports_tools: bool,
    pub supports_streaming: bool,
    pub enabled: bool,
    /// `catalog`, `openrouter` or `manual`.
    pub source: String,
}

impl ModelInfo {
    /// Cost in nano-dollars of a request with these token counts, rounded to the nearest nano-dollar.
    pub fn cost_nanos(&self, prompt_tokens: u64, completion_tokens: u64) -> i64 {
        let input = i128::from(prompt_tokens) * i128::from(self.input_price_nanos_per_mtok);
        let output = i128::from(completion_tokens) * i128::from(self.output_price_nanos_per_mtok);
        let total = (input + output + 500_000) / 1_000_000;
        i64::try_from(total).unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_is_exact_in_nano_dollars() {
        let m = ModelInfo {
            id: "openai/gpt-4o-mini".into(),
            provider: "openai".into(),
            upstream_name: "gpt-4o-mini".into(),
            display_name: None,
            context_length: None,
            max_completion_tokens: None,
            input_price_nanos_per_mtok: 150_000_000, // $0.15 / M
            output_price_nanos_per_mtok: 600_000_000, // $0.60 / M
            priced: true,
            supports_vision: true,
            supports_tools: true,
            supports_streaming: true,
            enabled: true,
            source: "catalog".into(),
        };
        // 1000 * 0.15e-6 + 500 * 0.6e-6 = 0.00045 USD = 450_000 nanos
        assert_eq!(m.cost_nanos(1000, 500), 450_000);
        assert_eq!(m.cost_nanos(0, 0), 0);
    }
}
