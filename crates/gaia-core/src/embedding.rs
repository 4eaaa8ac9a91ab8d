//! The canonical embeddings request and response (specs/embeddings.md): what `POST /v1/embeddings` asks
//! for, whichever provider answers it. Each provider's wire format converts to and from these in
//! `gaia-adapters`.

use serde::{Deserialize, Serialize};

use crate::usage::Usage;

/// A request for one embedding vector per input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbeddingRequest {
    /// The model as the client named it (`provider/model` or an alias).
    pub model: String,
    /// What to embed: at least one input, each non-empty.
    pub input: EmbeddingInput,
    /// The length of the vectors the client wants (OpenAI `dimensions`, Gemini `outputDimensionality`);
    /// `None` for the model's own.
    pub dimensions: Option<u32>,
    /// How the client wants the vectors written back.
    pub encoding: EmbeddingEncoding,
    /// The client's end-user id (OpenAI `user`), passed on where the provider takes one.
    pub user: Option<String>,
}

/// The inputs of an embeddings request: texts, or texts the client already tokenized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmbeddingInput {
    /// One vector per text (a lone string is a list of one).
    Texts(Vec<String>),
    /// One vector per token array (a flat list of integers is a list of one); only providers that take
    /// token ids (OpenAI and compatible servers) can serve it.
    Tokens(Vec<Vec<u32>>),
}

impl EmbeddingInput {
    /// How many vectors the answer must hold.
    pub fn len(&self) -> usize {
        match self {
            EmbeddingInput::Texts(texts) => texts.len(),
            EmbeddingInput::Tokens(arrays) => arrays.len(),
        }
    }

    /// Whether there is nothing to embed (a parsed request never is).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How the vectors are written to the client (OpenAI `encoding_format`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmbeddingEncoding {
    /// A JSON array of numbers.
    #[default]
    Float,
    /// The little-endian IEEE 754 `f32` bytes of the vector, in standard base64.
    Base64,
}

impl EmbeddingEncoding {
    pub const fn as_str(self) -> &'static str {
        match self {
            EmbeddingEncoding::Float => "float",
            EmbeddingEncoding::Base64 => "base64",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "float" => Some(EmbeddingEncoding::Float),
            "base64" => Some(EmbeddingEncoding::Base64),
            _ => None,
        }
    }
}

/// The vectors a provider returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingResponse {
    /// The model the provider says answered (may be empty when it did not say).
    pub model: String,
    /// One vector per input, in the order of the inputs.
    pub vectors: Vec<Vec<f32>>,
    /// Only `prompt_tokens` (and `total_tokens`, equal to it) count for embeddings. Empty when the
    /// provider reports no usage (Gemini): the caller then counts the input itself.
    pub usage: Usage,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_input_counts_its_vectors() {
        let texts = EmbeddingInput::Texts(vec!["a".into(), "b".into()]);
        assert_eq!(texts.len(), 2);
        assert!(!texts.is_empty());
        let tokens = EmbeddingInput::Tokens(vec![vec![1, 2, 3]]);
        assert_eq!(tokens.len(), 1);
        assert!(EmbeddingInput::Texts(Vec::new()).is_empty());
    }

    #[test]
    fn encodings_are_named_as_openai_names_them_and_float_is_the_default() {
        assert_eq!(EmbeddingEncoding::default(), EmbeddingEncoding::Float);
        for encoding in [EmbeddingEncoding::Float, EmbeddingEncoding::Base64] {
            assert_eq!(EmbeddingEncoding::parse(encoding.as_str()), Some(encoding));
        }
        assert_eq!(EmbeddingEncoding::parse("Float"), None);
        assert_eq!(EmbeddingEncoding::parse("binary"), None);
    }

    #[test]
    fn requests_and_responses_round_trip_through_serde() {
        let request = EmbeddingRequest {
            model: "openai/text-embedding-3-small".into(),
            input: EmbeddingInput::Tokens(vec![vec![1, 2], vec![3]]),
            dimensions: Some(256),
            encoding: EmbeddingEncoding::Base64,
            user: Some("u-1".into()),
        };
        let json = serde_json::to_string(&request).unwrap();
        assert_eq!(
            serde_json::from_str::<EmbeddingRequest>(&json).unwrap(),
            request
        );

        let response = EmbeddingResponse {
            model: "text-embedding-3-small".into(),
            vectors: vec![vec![0.5, -1.25]],
            usage: Usage::new(4, 0),
        };
        let json = serde_json::to_string(&response).unwrap();
        assert_eq!(
            serde_json::from_str::<EmbeddingResponse>(&json).unwrap(),
            response
        );
    }
}
