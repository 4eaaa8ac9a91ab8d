//! Gemini's `models/{model}:batchEmbedContents` as an upstream: one `EmbedContentRequest` per input in
//! the body, `embeddings[i].values` in the same order in the answer.

use gaia_core::{EmbeddingInput, EmbeddingRequest, EmbeddingResponse, GaiaError, Usage};
use serde::{Deserialize, Serialize};

use super::{DIALECT, error_message, wire};
use crate::util::{invalid, malformed};

/// The `batchEmbedContents` body for `upstream_model` (the model goes in the URL too):
/// `{"requests":[{"model":"models/{m}","content":{"parts":[{"text":…}]},"outputDimensionality"?}]}`.
///
/// Gemini embeds text only: token-array input is a 400 naming `input`. `taskType` is not sent (OpenAI's
/// API has no such field; Gemini then uses its default), nor is `user` (Gemini has no equivalent).
pub fn encode_embeddings_request(
    request: &EmbeddingRequest,
    upstream_model: &str,
) -> Result<Vec<u8>, GaiaError> {
    let EmbeddingInput::Texts(texts) = &request.input else {
        return Err(invalid(
            "input",
            "Gemini embedding models take text only: send `input` as a string or an array of strings, not token ids",
        ));
    };
    let model = format!("models/{upstream_model}");
    let body = Body {
        requests: texts
            .iter()
            .map(|text| EmbedContent {
                model: &model,
                content: Content {
                    parts: [Part { text }],
                },
                output_dimensionality: request.dimensions,
            })
            .collect(),
    };
    serde_json::to_vec(&body)
        .map_err(|e| GaiaError::internal(format!("serialising the upstream body: {e}")))
}

/// Reads a `batchEmbedContents` answer, which must hold one embedding per input (`input_count`).
///
/// Gemini reports no token usage in this answer: the usage is left empty, and the caller counts the
/// input with its own tokenizer (as for any provider that reports none) before recording and pricing it.
pub fn parse_embeddings_response(
    body: &[u8],
    input_count: usize,
) -> Result<EmbeddingResponse, GaiaError> {
    let answer: Answer = serde_json::from_slice(body)
        .map_err(|err| malformed(DIALECT, "embeddings response", err))?;
    if let Some(error) = answer.error {
        return Err(GaiaError::upstream(error_message(error)));
    }
    let embeddings = answer.embeddings.unwrap_or_default();
    if embeddings.len() != input_count {
        return Err(malformed(
            DIALECT,
            "embeddings response",
            format!("{} embeddings for {input_count} inputs", embeddings.len()),
        ));
    }
    Ok(EmbeddingResponse {
        model: String::new(),
        vectors: embeddings.into_iter().map(|e| e.values).collect(),
        usage: Usage::default(),
    })
}

#[derive(Serialize)]
struct Body<'a> {
    requests: Vec<EmbedContent<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EmbedContent<'a> {
    model: &'a str,
    content: Content<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_dimensionality: Option<u32>,
}

#[derive(Serialize)]
struct Content<'a> {
    parts: [Part<'a>; 1],
}

#[derive(Serialize)]
struct Part<'a> {
    text: &'a str,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    embeddings: Option<Vec<Embedding>>,
    #[serde(default)]
    error: Option<wire::ErrorBody>,
}

#[derive(Deserialize)]
struct Embedding {
    values: Vec<f32>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use gaia_core::EmbeddingEncoding;
    use serde_json::json;

    fn request(input: EmbeddingInput, dimensions: Option<u32>) -> EmbeddingRequest {
        EmbeddingRequest {
            model: "google/gemini-embedding-001".into(),
            input,
            dimensions,
            encoding: EmbeddingEncoding::Base64,
            user: Some("u-1".into()),
        }
    }

    #[test]
    fn texts_become_one_embed_request_each() {
        let body = encode_embeddings_request(
            &request(
                EmbeddingInput::Texts(vec!["first".into(), "second \"q\"".into()]),
                Some(768),
            ),
            "gemini-embedding-001",
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(body).unwrap(),
            concat!(
                r#"{"requests":["#,
                r#"{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"first"}]},"outputDimensionality":768},"#,
                r#"{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"second \"q\""}]},"outputDimensionality":768}"#,
                r#"]}"#
            )
        );
        let without_dimensions = encode_embeddings_request(
            &request(EmbeddingInput::Texts(vec!["x".into()]), None),
            "text-embedding-004",
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(without_dimensions).unwrap(),
            r#"{"requests":[{"model":"models/text-embedding-004","content":{"parts":[{"text":"x"}]}}]}"#
        );
    }

    #[test]
    fn token_input_is_refused_naming_input() {
        let err = encode_embeddings_request(
            &request(EmbeddingInput::Tokens(vec![vec![1, 2]]), None),
            "gemini-embedding-001",
        )
        .unwrap_err();
        assert_eq!(err.status(), 400);
        assert_eq!(err.param.as_deref(), Some("input"));
        assert!(err.message.contains("text only"), "{}", err.message);
    }

    #[test]
    fn answers_give_one_vector_per_input_in_order_and_no_usage() {
        let body = json!({"embeddings": [{"values": [0.5, -0.25]}, {"values": [1.0, 0.0]}]});
        let response = parse_embeddings_response(body.to_string().as_bytes(), 2).unwrap();
        assert_eq!(response.vectors, vec![vec![0.5, -0.25], vec![1.0, 0.0]]);
        assert!(response.usage.is_empty());
        assert_eq!(response.model, "");
    }

    #[test]
    fn unusable_answers_are_502s() {
        let cases = [
            (json!({"embeddings": [{"values": [1.0]}]}).to_string(), 2),
            (json!({}).to_string(), 1),
            (json!({"embeddings": [{}]}).to_string(), 1),
            (json!({"embeddings": [{"values": "x"}]}).to_string(), 1),
            ("[".to_owned(), 1),
            (
                json!({"error": {"code": 400, "message": "bad model", "status": "INVALID_ARGUMENT"}})
                    .to_string(),
                1,
            ),
        ];
        for (body, count) in cases {
            let err = parse_embeddings_response(body.as_bytes(), count).unwrap_err();
            assert_eq!(err.status(), 502, "{body}");
        }
        let err = parse_embeddings_response(
            br#"{"error":{"message":"bad model","status":"INVALID_ARGUMENT"}}"#,
            1,
        )
        .unwrap_err();
        assert_eq!(err.message, "INVALID_ARGUMENT: bad model");
    }
}
