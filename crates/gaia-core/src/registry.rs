//! The model registry's view of a model: where it is served and what it costs.
//!
//! # Prices
//!
//! A request is billed per **token class**, each at its own price (nano-dollars per million tokens):
//!
//! | class | tokens ([`Usage`]) | price |
//! |---|---|---|
//! | input | `prompt − cached − cache_creation` | `input_price_nanos_per_mtok` |
//! | cached input (cache read) | `cached_tokens` | `cached_input_price_nanos_per_mtok` |
//! | cache write | `cache_creation_tokens` | `cache_write_price_nanos_per_mtok` |
//! | output (reasoning included) | `completion_tokens` | `output_price_nanos_per_mtok` |
//!
//! A model need not set the two cache prices: unset, they are its provider's published ratio of the input
//! price, [`CacheRatios::of`] — the one place that rule lives.

use serde::{Deserialize, Serialize};

use crate::error::GaiaError;
use crate::model::ProviderKind;
use crate::usage::Usage;

/// What a provider charges for prompt-cache reads and writes, as a fraction of a model's input price, in
/// per mille (1000 = the input price). Used for a model that sets no cache price of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CacheRatios {
    /// Tokens read from a cache (`cached_tokens`).
    pub read_per_mille: u32,
    /// Tokens written to a cache (`cache_creation_tokens`).
    pub write_per_mille: u32,
}

impl CacheRatios {
    /// Reads and writes at the input price: no discount, no premium.
    pub const AT_INPUT: Self = Self {
        read_per_mille: 1000,
        write_per_mille: 1000,
    };

    /// The default cache prices of a provider's models, from the providers' published price lists:
    ///
    /// - **Anthropic**: cache reads 0.1× the input price, cache writes 1.25× (the default 5-minute TTL;
    ///   1-hour writes cost 2×, set `cache_write_price` for a model that uses them).
    /// - **OpenAI** (its own API): cached input 0.5× — the gpt-4o / o1 generation's discount, and the
    ///   highest, so a model without a price of its own is never under-charged (gpt-4.1, o3 and o4-mini are
    ///   0.25×, the gpt-5 family 0.1×: the built-in catalog sets those explicitly). No charge for writes:
    ///   they cost the input price.
    /// - **Gemini**: cached input 0.25× (Gemini 2.0; the 2.5 models are 0.1×, set in the catalog); writes
    ///   at the input price (explicit context caches also bill storage per hour, which is not per token and
    ///   not counted here).
    /// - **OpenRouter** and **OpenAI-compatible** servers (`openai_compatible`): reads and writes at the
    ///   input price, since their discounts vary by model and upstream; OpenRouter's list gives the real
    ///   prices per model (imported by a sync).
    pub const fn of(kind: ProviderKind, openai_compatible: bool) -> Self {
        match kind {
            ProviderKind::Anthropic => Self {
                read_per_mille: 100,
                write_per_mille: 1250,
            },
            // Azure OpenAI bills OpenAI's models as OpenAI does.
            ProviderKind::Azure => Self {
                read_per_mille: 500,
                write_per_mille: 1000,
            },
            ProviderKind::OpenAi if !openai_compatible => Self {
                read_per_mille: 500,
                write_per_mille: 1000,
            },
            ProviderKind::Gemini => Self {
                read_per_mille: 250,
                write_per_mille: 1000,
            },
            ProviderKind::OpenAi | ProviderKind::OpenRouter => Self::AT_INPUT,
        }
    }

    /// `price × per_mille / 1000`, rounded to the nearest nano-dollar per million tokens (exact for every
    /// published price: they are whole multiples of 10 nano-dollars per million tokens and more).
    fn apply(price: i64, per_mille: u32) -> i64 {
        let scaled = i128::from(price.max(0)) * i128::from(per_mille);
        i64::try_from((scaled + 500) / 1000).unwrap_or(i64::MAX)
    }
}

/// The price of each token class of a model, nano-dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TokenPrices {
    pub input: i64,
    pub cached_input: i64,
    pub cache_write: i64,
    pub output: i64,
}

impl TokenPrices {
    /// Cost in nano-dollars of a request's usage: every token class at its price,
    /// `(prompt − cached − cache_creation) × input + cached × cached_input + cache_creation × cache_write +
    /// completion × output`, summed exactly and rounded once to the nearest nano-dollar (halves up).
    ///
    /// Never negative and never overflowing: cached tokens count at most the prompt, cache writes at most
    /// what is left of it (a provider reporting more is clamped), a negative price counts as 0, and a sum
    /// beyond `i64` saturates.
    pub fn cost_nanos(&self, usage: &Usage) -> i64 {
        let prompt = usage.prompt_tokens;
        let cached = usage.cached_tokens.min(prompt);
        let written = usage.cache_creation_tokens.min(prompt - cached);
        let uncached = prompt - cached - written;
        let classes = [
            (uncached, self.input),
            (cached, self.cached_input),
            (written, self.cache_write),
            (usage.completion_tokens, self.output),
        ];
        let micro = classes.iter().fold(0i128, |sum, &(tokens, price)| {
            // u64 × i64 always fits in i128; only the sum can overflow.
            sum.saturating_add(i128::from(tokens) * i128::from(price.max(0)))
        });
        i64::try_from(micro.saturating_add(500_000) / 1_000_000).unwrap_or(i64::MAX)
    }
}

/// What a model does, which decides the routes that serve it (specs/embeddings.md, E-12, E-13).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// Generates text: chat completions, messages, responses.
    #[default]
    Chat,
    /// Turns text into vectors: embeddings.
    Embedding,
}

impl ModelKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            ModelKind::Chat => "chat",
            ModelKind::Embedding => "embedding",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "chat" => Some(ModelKind::Chat),
            "embedding" => Some(ModelKind::Embedding),
            _ => None,
        }
    }

    /// The route that serves models of this kind, for error messages.
    pub const fn route(self) -> &'static str {
        match self {
            ModelKind::Chat => "/v1/chat/completions, /v1/messages or /v1/responses",
            ModelKind::Embedding => "/v1/embeddings",
        }
    }

    /// The 422 for a model of this kind named on a route that serves `wanted` models, before any limit is
    /// charged (E-13): the request is well-formed, and which kind a model is cannot be in any schema, so it
    /// is refused like the other rules of a model (`max_tokens_too_large`), not as a malformed body (400).
    pub fn mismatch(self, model: &str, wanted: ModelKind) -> GaiaError {
        let article = |kind: ModelKind| match kind {
            ModelKind::Chat => "a chat",
            ModelKind::Embedding => "an embedding",
        };
        GaiaError::unprocessable(format!(
            "the model '{model}' is {} model and this route serves {} models; use {}",
            article(self),
            article(wanted)
                .trim_start_matches("a ")
                .trim_start_matches("an "),
            self.route()
        ))
        .with_param("model")
        .with_code("model_kind_mismatch")
    }
}

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
    /// Prompt tokens read from a cache; `None`: the provider's ratio of the input price ([`CacheRatios`]).
    /// In the registry snapshot requests read, it is always filled in.
    #[serde(default)]
    pub cached_input_price_nanos_per_mtok: Option<i64>,
    /// Prompt tokens written to a cache; `None`: the provider's ratio of the input price.
    #[serde(default)]
    pub cache_write_price_nanos_per_mtok: Option<i64>,
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
    /// What the model does (`chat` for every model registered before kinds existed).
    #[serde(default)]
    pub kind: ModelKind,
    /// An embedding model's native vector length, when known; the most `dimensions` a request may ask.
    #[serde(default)]
    pub dimensions: Option<i64>,
}

impl ModelInfo {
    /// The price of every token class: the model's own, or for an unset cache price `ratios` of its input
    /// price.
    pub fn token_prices(&self, ratios: CacheRatios) -> TokenPrices {
        let input = self.input_price_nanos_per_mtok;
        TokenPrices {
            input,
            cached_input: self
                .cached_input_price_nanos_per_mtok
                .unwrap_or_else(|| CacheRatios::apply(input, ratios.read_per_mille)),
            cache_write: self
                .cache_write_price_nanos_per_mtok
                .unwrap_or_else(|| CacheRatios::apply(input, ratios.write_per_mille)),
            output: self.output_price_nanos_per_mtok,
        }
    }

    /// The model with its unset cache prices filled in from its provider's `ratios` (the registry
    /// snapshot does this for every model, so a request is priced without looking anything up).
    pub fn with_default_cache_prices(mut self, ratios: CacheRatios) -> Self {
        let prices = self.token_prices(ratios);
        self.cached_input_price_nanos_per_mtok = Some(prices.cached_input);
        self.cache_write_price_nanos_per_mtok = Some(prices.cache_write);
        self
    }

    /// Cost in nano-dollars of a request's usage, every token class at its price
    /// ([`TokenPrices::cost_nanos`]). A cache price not filled in is charged at the input price.
    pub fn cost_nanos(&self, usage: &Usage) -> i64 {
        self.token_prices(CacheRatios::AT_INPUT).cost_nanos(usage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Thousandths of a dollar per million tokens → nano-dollars per million tokens (`usd(150)` is $0.15).
    const fn usd(thousandths_of_a_dollar: i64) -> i64 {
        thousandths_of_a_dollar * 1_000_000
    }

    fn model(provider: &str, input: i64, output: i64) -> ModelInfo {
        ModelInfo {
            id: format!("{provider}/m"),
            provider: provider.into(),
            upstream_name: "m".into(),
            display_name: None,
            context_length: None,
            max_completion_tokens: None,
            input_price_nanos_per_mtok: input,
            output_price_nanos_per_mtok: output,
            cached_input_price_nanos_per_mtok: None,
            cache_write_price_nanos_per_mtok: None,
            priced: true,
            supports_vision: true,
            supports_tools: true,
            supports_streaming: true,
            enabled: true,
            source: "catalog".into(),
            kind: ModelKind::Chat,
            dimensions: None,
        }
    }

    #[test]
    fn a_kind_mismatch_is_a_422_naming_the_model_and_the_right_route() {
        assert_eq!(ModelKind::parse("embedding"), Some(ModelKind::Embedding));
        assert_eq!(
            ModelKind::parse(ModelKind::Chat.as_str()),
            Some(ModelKind::Chat)
        );
        assert_eq!(ModelKind::parse("Chat"), None);
        assert_eq!(ModelKind::default(), ModelKind::Chat);
        let e = ModelKind::Chat.mismatch("openai/gpt-4o", ModelKind::Embedding);
        assert_eq!(e.status(), 422);
        assert_eq!(e.code(), "model_kind_mismatch");
        assert_eq!(e.param.as_deref(), Some("model"));
        assert_eq!(
            e.message,
            "the model 'openai/gpt-4o' is a chat model and this route serves embedding models; use \
             /v1/chat/completions, /v1/messages or /v1/responses"
        );
        let e = ModelKind::Embedding.mismatch("e", ModelKind::Chat);
        assert_eq!(
            e.message,
            "the model 'e' is an embedding model and this route serves chat models; use /v1/embeddings"
        );
    }

    /// `prompt` input tokens of which `cached` were read from and `written` written to a cache;
    /// `completion` output tokens of which `reasoning` were reasoning.
    fn usage(prompt: u64, cached: u64, written: u64, completion: u64, reasoning: u64) -> Usage {
        Usage {
            cached_tokens: cached,
            cache_creation_tokens: written,
            reasoning_tokens: reasoning,
            ..Usage::new(prompt, completion)
        }
    }

    #[test]
    fn cost_is_exact_in_nano_dollars() {
        let m = model("openai", usd(150), usd(600)); // $0.15 / $0.60 per M
        // 1000 * 0.15e-6 + 500 * 0.6e-6 = 0.00045 USD = 450_000 nanos
        assert_eq!(m.cost_nanos(&Usage::new(1000, 500)), 450_000);
        assert_eq!(m.cost_nanos(&Usage::default()), 0);
    }

    #[test]
    fn an_anthropic_model_bills_cache_reads_at_a_tenth_and_writes_at_five_quarters() {
        // Claude Sonnet 4.5 at $3 / $15: reads $0.30, writes $3.75 by Anthropic's ratios.
        let m = model("anthropic", usd(3_000), usd(15_000))
            .with_default_cache_prices(CacheRatios::of(ProviderKind::Anthropic, false));
        assert_eq!(m.cached_input_price_nanos_per_mtok, Some(usd(300)));
        assert_eq!(m.cache_write_price_nanos_per_mtok, Some(usd(3_750)));
        // 1,000 input incl. 600 read and 200 written, 500 output incl. 100 reasoning:
        // 200 × $3 + 600 × $0.30 + 200 × $3.75 + 500 × $15 per million
        // = $0.0006 + $0.00018 + $0.00075 + $0.0075 = $0.00903.
        assert_eq!(m.cost_nanos(&usage(1_000, 600, 200, 500, 100)), 9_030_000);
    }

    #[test]
    fn an_openai_model_bills_cached_input_at_its_own_price_and_writes_at_the_input_price() {
        // gpt-4.1 at $2 / $8 with its published cached price of $0.50 (0.25×).
        let mut m = model("openai", usd(2_000), usd(8_000));
        m.cached_input_price_nanos_per_mtok = Some(usd(500));
        let m = m.with_default_cache_prices(CacheRatios::of(ProviderKind::OpenAi, false));
        assert_eq!(m.cached_input_price_nanos_per_mtok, Some(usd(500)), "kept");
        assert_eq!(m.cache_write_price_nanos_per_mtok, Some(usd(2_000)));
        // 2,000 input incl. 1,500 cached and 100 written, 300 output incl. 200 reasoning:
        // 400 × $2 + 1,500 × $0.50 + 100 × $2 + 300 × $8 per million = $0.00415.
        assert_eq!(m.cost_nanos(&usage(2_000, 1_500, 100, 300, 200)), 4_150_000);

        // gpt-4o-mini without a cached price of its own: OpenAI's default ratio, 0.5× of $0.15.
        let mini = model("openai", usd(150), usd(600))
            .with_default_cache_prices(CacheRatios::of(ProviderKind::OpenAi, false));
        assert_eq!(mini.cached_input_price_nanos_per_mtok, Some(75_000_000));
        // 600 × $0.15 + 400 × $0.075 + 100 × $0.60 per million = $0.00018.
        assert_eq!(mini.cost_nanos(&usage(1_000, 400, 0, 100, 40)), 180_000);
    }

    #[test]
    fn a_gemini_model_bills_cached_input_at_a_quarter_by_default() {
        // Gemini 2.0 Flash at $0.10 / $0.40: cached $0.025; writes at the input price.
        let m = model("google", usd(100), usd(400))
            .with_default_cache_prices(CacheRatios::of(ProviderKind::Gemini, false));
        assert_eq!(m.cached_input_price_nanos_per_mtok, Some(25_000_000));
        assert_eq!(m.cache_write_price_nanos_per_mtok, Some(usd(100)));
        // 10,000 input incl. 8,000 cached and 1,000 written, 2,000 output incl. 1,500 thoughts:
        // 1,000 × $0.10 + 8,000 × $0.025 + 1,000 × $0.10 + 2,000 × $0.40 per million = $0.0012.
        assert_eq!(
            m.cost_nanos(&usage(10_000, 8_000, 1_000, 2_000, 1_500)),
            1_200_000
        );
    }

    #[test]
    fn an_openrouter_model_bills_its_imported_cache_prices_or_else_the_input_price() {
        // anthropic/claude-sonnet-4.5 through OpenRouter, with the cache prices its list publishes.
        let mut sonnet = model("openrouter", usd(3_000), usd(15_000));
        sonnet.cached_input_price_nanos_per_mtok = Some(usd(300));
        sonnet.cache_write_price_nanos_per_mtok = Some(usd(3_750));
        let ratios = CacheRatios::of(ProviderKind::OpenRouter, false);
        let sonnet = sonnet.with_default_cache_prices(ratios);
        assert_eq!(
            sonnet.cost_nanos(&usage(1_000, 600, 200, 500, 100)),
            9_030_000
        );
        // A model whose list gives no cache prices: every prompt token at the input price.
        // 1,000 × $0.02 + 500 × $0.03 per million = $0.000035.
        let llama = model("openrouter", usd(20), usd(30)).with_default_cache_prices(ratios);
        assert_eq!(llama.cost_nanos(&usage(1_000, 600, 200, 500, 100)), 35_000);
        // So does an OpenAI-compatible server.
        assert_eq!(
            CacheRatios::of(ProviderKind::OpenAi, true),
            CacheRatios::AT_INPUT
        );
    }

    #[test]
    fn a_cache_price_not_filled_in_is_charged_at_the_input_price() {
        let m = model("anthropic", usd(3_000), usd(15_000));
        // 1,000 × $3 + 500 × $15 per million.
        assert_eq!(m.cost_nanos(&usage(1_000, 600, 200, 500, 0)), 10_500_000);
    }

    #[test]
    fn cost_rounds_once_to_the_nearest_nano_dollar_halves_up() {
        let m = model("openai", 1, 3); // 1 and 3 nano-dollars per million tokens
        assert_eq!(m.cost_nanos(&Usage::new(499_999, 0)), 0);
        assert_eq!(m.cost_nanos(&Usage::new(500_000, 0)), 1);
        // 250,000 × 1 + 250,000 × 3 = 1,000,000 → exactly 1, not 0 + 1 (each rounded) or 0.25 + 0.75.
        assert_eq!(m.cost_nanos(&Usage::new(250_000, 250_000)), 1);
        // Default ratios round to the nearest nano-dollar per million tokens.
        assert_eq!(CacheRatios::apply(2, 250), 1);
        assert_eq!(CacheRatios::apply(1, 250), 0);
        assert_eq!(CacheRatios::apply(4, 1250), 5);
    }

    #[test]
    fn cost_saturates_and_is_never_negative() {
        let m = model("anthropic", usd(3_000), usd(15_000))
            .with_default_cache_prices(CacheRatios::of(ProviderKind::Anthropic, false));
        // More cached and written than the whole prompt: cached counts at most the prompt, writes at most
        // the rest. 800 × $0.30 + 200 × $3.75 per million.
        assert_eq!(m.cost_nanos(&usage(1_000, 800, 500, 0, 0)), 990_000);
        assert_eq!(m.cost_nanos(&usage(1_000, 5_000, 5_000, 0, 0)), 300_000);
        assert_eq!(m.cost_nanos(&usage(0, 10, 10, 0, 0)), 0);

        let huge = model("openai", i64::MAX, i64::MAX).with_default_cache_prices(CacheRatios {
            read_per_mille: u32::MAX,
            write_per_mille: u32::MAX,
        });
        assert_eq!(huge.cached_input_price_nanos_per_mtok, Some(i64::MAX));
        assert_eq!(
            huge.cost_nanos(&usage(u64::MAX, 1, 1, u64::MAX, 0)),
            i64::MAX
        );

        let negative = model("openai", -5_000, -5_000);
        assert_eq!(negative.cost_nanos(&Usage::new(1_000, 1_000)), 0);
        assert_eq!(negative.token_prices(CacheRatios::AT_INPUT).cached_input, 0);
    }

    #[test]
    fn model_info_reads_without_the_cache_prices() {
        let mut json = serde_json::to_value(model("openai", 1, 2)).unwrap();
        let object = json.as_object_mut().unwrap();
        object.remove("cached_input_price_nanos_per_mtok");
        object.remove("cache_write_price_nanos_per_mtok");
        let back: ModelInfo = serde_json::from_value(json).unwrap();
        assert_eq!(back, model("openai", 1, 2));
    }
}
