//! OpenAI's `POST /embeddings` as an upstream (OpenAI, OpenRouter and compatible servers): the body
//! written from the canonical request, and the `list` of `embedding` objects read back.

use gaia_core::{
    EmbeddingEncoding, EmbeddingInput, EmbeddingRequest, EmbeddingResponse, GaiaError, Usage,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::DIALECT;
use crate::embeddings::base64;
use crate::util::{malformed, nullable};

/// The upstream body: `{"model","input":[…],"dimensions"?,"encoding_format"?,"user"?}`.
///
/// `input` is always a list (of strings, or of token arrays), which every form the client sent is
/// equivalent to. The client's `encoding_format` is passed on (`base64` is smaller and exact; `float`,
/// the default, is left out for servers that do not know the field); [`parse_embeddings_response`] reads
/// either, so a server that ignores the field and answers floats is served too.
pub fn encode_embeddings_request(request: &EmbeddingRequest, upstream_model: &str) -> Vec<u8> {
    let body = Body {
        model: upstream_model,
        input: match &request.input {
            EmbeddingInput::Texts(texts) => Input::Texts(texts),
            EmbeddingInput::Tokens(arrays) => Input::Tokens(arrays),
        },
        dimensions: request.dimensions,
        encoding_format: (request.encoding == EmbeddingEncoding::Base64)
            .then_some(EmbeddingEncoding::Base64.as_str()),
        user: request.user.as_deref(),
    };
    // Cannot fail: every key is a string and every value serialisable.
    serde_json::to_vec(&body).unwrap_or_default()
}

/// Reads an embeddings answer: `data[i].embedding` as an array of numbers or a base64 string of
/// little-endian `f32`s, placed by `data[i].index` (the position when a server leaves it out);
/// `usage.prompt_tokens` (and `total_tokens`) as the usage, empty when the server reports none.
///
/// A body that is not such a list is a 502. The caller checks that there is one vector per input.
pub fn parse_embeddings_response(body: &[u8]) -> Result<EmbeddingResponse, GaiaError> {
    let list: List = serde_json::from_slice(body)
        .map_err(|err| malformed(DIALECT, "embeddings response", err))?;
    if let Some(error) = list.error {
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .map_or_else(|| error.to_string(), str::to_owned);
        return Err(GaiaError::upstream(format!(
            "{DIALECT} reported an error: {message}"
        )));
    }
    let Some(data) = list.data else {
        return Err(malformed(DIALECT, "embeddings response", "no `data`"));
    };
    let count = data.len();
    let mut vectors: Vec<Option<Vec<f32>>> = vec![None; count];
    for (position, item) in data.into_iter().enumerate() {
        let index = item.index.unwrap_or(position);
        let vector = match item.embedding {
            Vector::Floats(values) => values.into_iter().map(|x| x as f32).collect(),
            Vector::Base64(text) => base64::decode_f32s(&text).ok_or_else(|| {
                malformed(
                    DIALECT,
                    "embeddings response",
                    format!("data[{position}].embedding is not base64 of little-endian f32s"),
                )
            })?,
        };
        match vectors.get_mut(index) {
            Some(slot @ None) => *slot = Some(vector),
            _ => {
                return Err(malformed(
                    DIALECT,
                    "embeddings response",
                    format!("data[{position}].index {index} is repeated or out of range"),
                ));
            }
        }
    }
    let usage = list.usage.unwrap_or_default();
    let prompt = usage.prompt_tokens.unwrap_or(0);
    Ok(EmbeddingResponse {
        model: list.model.unwrap_or_default(),
        // Every slot is filled: `count` items went into `count` distinct slots.
        vectors: vectors.into_iter().flatten().collect(),
        usage: Usage {
            total_tokens: usage.total_tokens.unwrap_or(prompt).max(prompt),
            ..Usage::new(prompt, 0)
        },
    })
}

#[derive(Serialize)]
struct Body<'a> {
    model: &'a str,
    input: Input<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dimensions: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    encoding_format: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Input<'a> {
    Texts(&'a [String]),
    Tokens(&'a [Vec<u32>]),
}

#[derive(Deserialize)]
struct List {
    #[serde(default)]
    data: Option<Vec<Item>>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    index: Option<usize>,
    embedding: Vector,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Vector {
    Floats(Vec<f64>),
    Base64(String),
}

#[derive(Default, Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    total_tokens: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(input: EmbeddingInput) -> EmbeddingRequest {
        EmbeddingRequest {
            model: "openai/text-embedding-3-small".into(),
            input,
            dimensions: None,
            encoding: EmbeddingEncoding::Float,
            user: None,
        }
    }

    #[test]
    fn text_requests_are_written_exactly() {
        let minimal = encode_embeddings_request(
            &request(EmbeddingInput::Texts(vec!["hello".into()])),
            "text-embedding-3-small",
        );
        assert_eq!(
            String::from_utf8(minimal).unwrap(),
            r#"{"model":"text-embedding-3-small","input":["hello"]}"#
        );
        let full = EmbeddingRequest {
            dimensions: Some(256),
            encoding: EmbeddingEncoding::Base64,
            user: Some("u-1".into()),
            ..request(EmbeddingInput::Texts(vec!["a".into(), "b \"q\"".into()]))
        };
        assert_eq!(
            String::from_utf8(encode_embeddings_request(&full, "text-embedding-3-large")).unwrap(),
            r#"{"model":"text-embedding-3-large","input":["a","b \"q\""],"dimensions":256,"encoding_format":"base64","user":"u-1"}"#
        );
    }

    #[test]
    fn token_requests_are_written_as_token_arrays() {
        let body = encode_embeddings_request(
            &request(EmbeddingInput::Tokens(vec![
                vec![1, 2, 3],
                vec![4294967295],
            ])),
            "m",
        );
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"model":"m","input":[[1,2,3],[4294967295]]}"#
        );
    }

    #[test]
    fn float_answers_are_read_in_index_order_with_their_usage() {
        let body = json!({
            "object": "list",
            "data": [
                {"object": "embedding", "index": 1, "embedding": [0.25, -1.0]},
                {"object": "embedding", "index": 0, "embedding": [0.0023064255, 0.5]}
            ],
            "model": "text-embedding-3-small",
            "usage": {"prompt_tokens": 8, "total_tokens": 8}
        });
        let response = parse_embeddings_response(body.to_string().as_bytes()).unwrap();
        assert_eq!(response.model, "text-embedding-3-small");
        assert_eq!(
            response.vectors,
            vec![vec![0.002_306_425_5, 0.5], vec![0.25, -1.0]]
        );
        assert_eq!(response.usage, Usage::new(8, 0));
    }

    #[test]
    fn base64_answers_decode_bit_exact() {
        let vector = [0.1f32, -3.5, f32::from_bits(1), 1e-30];
        let body = json!({
            "data": [{"embedding": base64::encode_f32s(&vector)}],
            "usage": {"prompt_tokens": 3}
        });
        let response = parse_embeddings_response(body.to_string().as_bytes()).unwrap();
        assert_eq!(
            response.vectors[0]
                .iter()
                .map(|x| x.to_bits())
                .collect::<Vec<_>>(),
            vector.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
        assert_eq!(response.model, "");
        assert_eq!(response.usage, Usage::new(3, 0));
    }

    #[test]
    fn answers_without_usage_have_empty_usage() {
        for usage in [json!(null), json!({})] {
            let body = json!({"data": [{"embedding": [1.0]}], "usage": usage});
            let response = parse_embeddings_response(body.to_string().as_bytes()).unwrap();
            assert!(response.usage.is_empty(), "{usage}");
        }
    }

    #[test]
    fn unusable_answers_are_502s() {
        for body in [
            json!("not a list").to_string(),
            "{".to_owned(),
            json!({"object": "list"}).to_string(),
            json!({"data": [{"embedding": "!!!"}]}).to_string(),
            json!({"data": [{"embedding": "Zm9vYmFy"}]}).to_string(),
            json!({"data": [{"embedding": {"x": 1}}]}).to_string(),
            json!({"data": [{"index": 0, "embedding": [1.0]}, {"index": 0, "embedding": [2.0]}]})
                .to_string(),
            json!({"data": [{"index": 5, "embedding": [1.0]}]}).to_string(),
            json!({"error": {"message": "model not found"}}).to_string(),
        ] {
            let err = parse_embeddings_response(body.as_bytes()).unwrap_err();
            assert_eq!(err.status(), 502, "{body}");
        }
        let err =
            parse_embeddings_response(br#"{"error":{"message":"model not found"}}"#).unwrap_err();
        assert!(err.message.contains("model not found"), "{}", err.message);
    }
}
