//! Model ids and provider kinds.
//!
//! A model is addressed as `provider/model` (`openai/gpt-4o-mini`, `anthropic/claude-sonnet-4-5`,
//! `google/gemini-2.5-flash`, `openrouter/meta-llama/llama-3.1-8b-instruct`): the first segment names the
//! provider, the rest — slashes included — is the upstream model name. Bare well-known names (`gpt-…`,
//! `o1…`, `claude-…`, `gemini-…`) resolve to their provider.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::GaiaError;

/// The wire dialect a provider speaks. A provider (an instance with a name, base URL and credentials) is one
/// of these kinds; any number of OpenAI-compatible providers may exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    OpenAi,
    Anthropic,
    Gemini,
    OpenRouter,
    /// Azure OpenAI: OpenAI's formats per deployment URL, with an `api-key` header.
    Azure,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 5] = [
        ProviderKind::OpenAi,
        ProviderKind::Anthropic,
        ProviderKind::Gemini,
        ProviderKind::OpenRouter,
        ProviderKind::Azure,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Gemini => "gemini",
            ProviderKind::OpenRouter => "openrouter",
            ProviderKind::Azure => "azure",
        }
    }

    /// Parses a kind name as used in configuration files.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "openai" | "openai-compatible" | "openai_compatible" => Some(ProviderKind::OpenAi),
            "anthropic" => Some(ProviderKind::Anthropic),
            "gemini" | "google" => Some(ProviderKind::Gemini),
            "openrouter" => Some(ProviderKind::OpenRouter),
            "azure" | "azure-openai" | "azure_openai" => Some(ProviderKind::Azure),
            _ => None,
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed model id: the provider's name and the upstream model name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelRef {
    /// The provider's name as configured (`openai`, `anthropic`, `google`, `openrouter`, `deepseek`, …).
    pub provider: String,
    /// The model name the upstream knows (may contain slashes, e.g. `meta-llama/llama-3.1-8b-instruct`).
    pub model: String,
}

impl ModelRef {
    /// Maximum length of a model id we accept.
    pub const MAX_LEN: usize = 256;

    /// Parses `provider/model`, or a bare well-known name (`gpt-4o`, `claude-…`, `gemini-…`).
    pub fn parse(id: &str) -> Result<Self, GaiaError> {
        let id = id.trim();
        if id.is_empty() {
            return Err(GaiaError::invalid_request("`model` must not be empty").with_param("model"));
        }
        if id.len() > Self::MAX_LEN || id.chars().any(char::is_control) {
            return Err(GaiaError::invalid_request(
                "`model` must be at most 256 printable characters",
            )
            .with_param("model"));
        }
        if let Some((provider, model)) = id.split_once('/') {
            if provider.is_empty() || model.is_empty() {
                return Err(GaiaError::invalid_request(format!(
                    "model id '{id}' must look like 'provider/model'"
                ))
                .with_param("model"));
            }
            return Ok(Self {
                provider: provider.to_ascii_lowercase(),
                model: model.to_owned(),
            });
        }
        match well_known_provider(id) {
            Some(provider) => Ok(Self {
                provider: provider.to_owned(),
                model: id.to_owned(),
            }),
            None => Err(GaiaError::not_found(format!(
                "model '{id}' does not exist; use 'provider/model' (e.g. 'openai/gpt-4o-mini') or an alias"
            ))
            .with_code("model_not_found")
            .with_param("model")),
        }
    }

    /// `provider/model`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.provider, self.model)
    }
}

impl fmt::Display for ModelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.provider, self.model)
    }
}

/// The provider of a bare well-known model name, if any.
pub fn well_known_provider(model: &str) -> Option<&'static str> {
    let m = model.to_ascii_lowercase();
    let is_o_series =
        m.len() > 1 && m.starts_with('o') && m[1..].starts_with(|c: char| c.is_ascii_digit());
    if m.starts_with("gpt-")
        || m.starts_with("chatgpt-")
        || m.starts_with("text-embedding-")
        || is_o_series
    {
        Some("openai")
    } else if m.starts_with("claude-") {
        Some("anthropic")
    } else if m.starts_with("gemini-") || m.starts_with("gemma-") {
        Some("google")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_prefixed_ids_split_at_the_first_slash() {
        let m = ModelRef::parse("openrouter/meta-llama/llama-3.1-8b-instruct").unwrap();
        assert_eq!(m.provider, "openrouter");
        assert_eq!(m.model, "meta-llama/llama-3.1-8b-instruct");
        assert_eq!(m.id(), "openrouter/meta-llama/llama-3.1-8b-instruct");
    }

    #[test]
    fn bare_well_known_names_resolve_to_their_provider() {
        assert_eq!(ModelRef::parse("gpt-4o-mini").unwrap().provider, "openai");
        assert_eq!(ModelRef::parse("o3-mini").unwrap().provider, "openai");
        assert_eq!(
            ModelRef::parse("claude-sonnet-4-5").unwrap().provider,
            "anthropic"
        );
        assert_eq!(
            ModelRef::parse("gemini-2.5-flash").unwrap().provider,
            "google"
        );
    }

    #[test]
    fn unknown_bare_names_are_model_not_found() {
        let err = ModelRef::parse("llama3").unwrap_err();
        assert_eq!(err.status(), 404);
        assert_eq!(err.code(), "model_not_found");
    }

    #[test]
    fn malformed_ids_are_rejected() {
        for bad in ["", "  ", "/gpt", "openai/", "a\u{0}b"] {
            assert!(ModelRef::parse(bad).is_err(), "{bad:?}");
        }
        assert!(ModelRef::parse(&"x".repeat(300)).is_err());
    }

    #[test]
    fn provider_kinds_round_trip_through_their_names() {
        for kind in ProviderKind::ALL {
            assert_eq!(ProviderKind::parse(kind.as_str()), Some(kind));
        }
    }
}
