//! The inbound APIs: which of GaiaRouter's client-facing endpoints a request came in through. Every usage
//! record names one, so statistics and the request log can tell an OpenAI chat completion from an
//! Anthropic message sent through the same gateway to the same model.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An inbound API, named on the wire (usage records, the request log's `api` field and filter) by
/// [`as_str`](Self::as_str).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum InboundApi {
    /// OpenAI `POST /v1/chat/completions`.
    #[default]
    #[serde(rename = "chat.completions")]
    ChatCompletions,
    /// Anthropic `POST /v1/messages`.
    #[serde(rename = "messages")]
    Messages,
    /// OpenAI `POST /v1/responses`.
    #[serde(rename = "responses")]
    Responses,
    /// OpenAI `POST /v1/embeddings`.
    #[serde(rename = "embeddings")]
    Embeddings,
}

impl InboundApi {
    pub const ALL: [InboundApi; 4] = [
        InboundApi::ChatCompletions,
        InboundApi::Messages,
        InboundApi::Responses,
        InboundApi::Embeddings,
    ];

    /// The wire name: `chat.completions`, `messages`, `responses` or `embeddings`.
    pub const fn as_str(self) -> &'static str {
        match self {
            InboundApi::ChatCompletions => "chat.completions",
            InboundApi::Messages => "messages",
            InboundApi::Responses => "responses",
            InboundApi::Embeddings => "embeddings",
        }
    }

    /// The API a wire name stands for (exactly as [`as_str`](Self::as_str) writes it), or `None`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|api| api.as_str() == s)
    }
}

impl fmt::Display for InboundApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_api_parses_back_from_its_wire_name() {
        for api in InboundApi::ALL {
            assert_eq!(InboundApi::parse(api.as_str()), Some(api));
            assert_eq!(api.to_string(), api.as_str());
        }
        assert_eq!(InboundApi::ChatCompletions.as_str(), "chat.completions");
        assert_eq!(InboundApi::Messages.as_str(), "messages");
        assert_eq!(InboundApi::Responses.as_str(), "responses");
        assert_eq!(InboundApi::Embeddings.as_str(), "embeddings");
    }

    #[test]
    fn unknown_or_differently_written_names_do_not_parse() {
        for bad in [
            "",
            "bogus",
            "chat",
            "chat_completions",
            "Chat.Completions",
            "MESSAGES",
            " messages",
        ] {
            assert_eq!(InboundApi::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn serde_uses_the_wire_names() {
        for api in InboundApi::ALL {
            let json = serde_json::to_string(&api).unwrap();
            assert_eq!(json, format!("\"{}\"", api.as_str()));
            assert_eq!(serde_json::from_str::<InboundApi>(&json).unwrap(), api);
        }
        assert!(serde_json::from_str::<InboundApi>("\"ChatCompletions\"").is_err());
    }

    #[test]
    fn a_request_is_a_chat_completion_unless_said_otherwise() {
        assert_eq!(InboundApi::default(), InboundApi::ChatCompletions);
    }
}
