//! Token usage, normalised across providers.
//!
//! Providers count differently (Anthropic reports cache reads *outside* `input_tokens`, Gemini reports
//! thinking tokens *outside* `candidatesTokenCount`); adapters fold those into one shape so that budgets,
//! prices and statistics are computed once, the OpenAI way: `prompt_tokens` is everything the model read,
//! `completion_tokens` everything it wrote, and the detail counters are *subsets* of those two.

use serde::{Deserialize, Serialize};

/// Tokens consumed by one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Usage {
    /// All input tokens, including the cached ones and the ones written to a cache.
    pub prompt_tokens: u64,
    /// All output tokens, including reasoning/thinking tokens.
    pub completion_tokens: u64,
    /// `prompt_tokens + completion_tokens` unless the provider reports a different total.
    pub total_tokens: u64,
    /// Part of `prompt_tokens` served from a prompt cache (OpenAI `cached_tokens`, Anthropic
    /// `cache_read_input_tokens`, Gemini `cachedContentTokenCount`); usually billed at a discount.
    #[serde(default)]
    pub cached_tokens: u64,
    /// Part of `prompt_tokens` written to a prompt cache (Anthropic `cache_creation_input_tokens`);
    /// usually billed at a premium.
    #[serde(default)]
    pub cache_creation_tokens: u64,
    /// Part of `completion_tokens` spent on hidden reasoning (OpenAI `reasoning_tokens`, Gemini
    /// `thoughtsTokenCount`).
    #[serde(default)]
    pub reasoning_tokens: u64,
}

impl Usage {
    /// Usage with only the two main counters; the total is their sum.
    pub const fn new(prompt_tokens: u64, completion_tokens: u64) -> Self {
        Self {
            prompt_tokens,
            completion_tokens,
            total_tokens: prompt_tokens.saturating_add(completion_tokens),
            cached_tokens: 0,
            cache_creation_tokens: 0,
            reasoning_tokens: 0,
        }
    }

    /// Whether nothing was counted at all (a provider that sent no usage).
    pub const fn is_empty(&self) -> bool {
        self.prompt_tokens == 0 && self.completion_tokens == 0 && self.total_tokens == 0
    }

    /// Adds another request's usage (e.g. the attempts of a retried request), saturating.
    pub fn accumulate(&mut self, other: &Usage) {
        self.prompt_tokens = self.prompt_tokens.saturating_add(other.prompt_tokens);
        self.completion_tokens = self
            .completion_tokens
            .saturating_add(other.completion_tokens);
        self.total_tokens = self.total_tokens.saturating_add(other.total_tokens);
        self.cached_tokens = self.cached_tokens.saturating_add(other.cached_tokens);
        self.cache_creation_tokens = self
            .cache_creation_tokens
            .saturating_add(other.cache_creation_tokens);
        self.reasoning_tokens = self.reasoning_tokens.saturating_add(other.reasoning_tokens);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_usage_totals_prompt_and_completion() {
        let usage = Usage::new(10, 5);
        assert_eq!(usage.total_tokens, 15);
        assert!(!usage.is_empty());
        assert!(Usage::default().is_empty());
    }

    #[test]
    fn accumulating_usage_adds_every_counter_and_saturates() {
        let mut total = Usage {
            cached_tokens: 2,
            reasoning_tokens: 1,
            ..Usage::new(10, 5)
        };
        total.accumulate(&Usage {
            cache_creation_tokens: 3,
            ..Usage::new(1, 1)
        });
        assert_eq!(total.prompt_tokens, 11);
        assert_eq!(total.completion_tokens, 6);
        assert_eq!(total.total_tokens, 17);
        assert_eq!(total.cached_tokens, 2);
        assert_eq!(total.cache_creation_tokens, 3);
        assert_eq!(total.reasoning_tokens, 1);

        let mut big = Usage::new(u64::MAX, 0);
        big.accumulate(&Usage::new(1, 0));
        assert_eq!(big.prompt_tokens, u64::MAX);
    }

    #[test]
    fn usage_deserializes_without_the_detail_counters() {
        let usage: Usage =
            serde_json::from_str(r#"{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}"#)
                .unwrap();
        assert_eq!(usage, Usage::new(3, 4));
    }
}
