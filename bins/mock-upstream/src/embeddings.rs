//! Embeddings as the providers serve them: OpenAI's `POST /v1/embeddings` (OpenRouter's
//! `/api/v1/embeddings` is the same format) and Gemini's `:batchEmbedContents`.
//!
//! Vectors are deterministic: component `i` of the vector of a text is drawn from FNV-1a-64 of the text
//! and `i`, as a multiple of 1/1024 in [-1, 1) — exact in `f32` and in short decimals, so a test can compute
//! the vector it expects. The native length is [`NATIVE_DIMENSIONS`]; `dimensions` /
//! `outputDimensionality` asks for another. A token array is embedded as the text `tokens:<id> <id> …`.
//! Usage (OpenAI format only; Gemini reports none): each text counts its whitespace words (at least 1), a
//! token array its ids.

use serde_json::{Value, json};

/// The length of a vector when the request asks for none.
pub const NATIVE_DIMENSIONS: usize = 16;
/// The most vectors one request may ask for (OpenAI's limit on inputs).
const MAX_INPUTS: usize = 2048;
/// Gemini's `batchEmbedContents` takes at most this many requests.
pub const GEMINI_MAX_BATCH: usize = 100;
/// The longest vector the mock makes.
const MAX_DIMENSIONS: u64 = 4096;

/// Component `i` of the vector of `text`.
fn component(text: &str, i: usize) -> f32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes().chain((i as u64).to_le_bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // 2048 steps of 1/1024 from -1: exact in f32.
    ((hash >> 20) % 2048) as f32 / 1024.0 - 1.0
}

/// The vector of `text`, `dimensions` long.
pub fn vector(text: &str, dimensions: usize) -> Vec<f32> {
    (0..dimensions).map(|i| component(text, i)).collect()
}

/// The text a token array is embedded as.
fn token_text(ids: &[Value]) -> String {
    let ids: Vec<String> = ids.iter().map(Value::to_string).collect();
    format!("tokens:{}", ids.join(" "))
}

/// One input of an OpenAI embeddings request: its text, and what it counts for usage.
fn openai_inputs(input: &Value) -> Result<Vec<(String, u64)>, String> {
    let word_count = |t: &str| (t.split_whitespace().count() as u64).max(1);
    let text = |t: &str| -> Result<(String, u64), String> {
        if t.is_empty() {
            return Err("'$.input' is invalid: an input must not be an empty string.".into());
        }
        Ok((t.to_owned(), word_count(t)))
    };
    let tokens = |ids: &[Value]| -> Result<(String, u64), String> {
        if ids.is_empty() || !ids.iter().all(|id| id.as_u64().is_some()) {
            return Err("'$.input' is invalid: a token array must hold token ids.".into());
        }
        Ok((token_text(ids), ids.len() as u64))
    };
    match input {
        Value::String(t) => Ok(vec![text(t)?]),
        Value::Array(items) if items.is_empty() => {
            Err("'$.input' is invalid: it must not be empty.".into())
        }
        Value::Array(items) if items.len() > MAX_INPUTS => Err(format!(
            "'$.input' is invalid: at most {MAX_INPUTS} inputs per request."
        )),
        Value::Array(items) if items[0].is_number() => Ok(vec![tokens(items)?]),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(t) => text(t),
                Value::Array(ids) => tokens(ids),
                _ => Err("'$.input' is invalid: mixed input types.".into()),
            })
            .collect(),
        _ => Err("'$.input' is invalid: expected a string or an array.".into()),
    }
}

/// The requested length: `field` of `request`, or the native one.
fn dimensions_of(request: &Value, field: &str) -> Result<usize, String> {
    match &request[field] {
        Value::Null => Ok(NATIVE_DIMENSIONS),
        v => v
            .as_u64()
            .filter(|d| (1..=MAX_DIMENSIONS).contains(d))
            .and_then(|d| usize::try_from(d).ok())
            .ok_or_else(|| format!("'{field}' must be an integer from 1 to {MAX_DIMENSIONS}.")),
    }
}

/// The answer to an OpenAI-format embeddings request, or the message of its 400.
pub fn openai_answer(request: &Value) -> Result<Value, String> {
    let model = request["model"]
        .as_str()
        .ok_or("you must provide a model parameter")?;
    let inputs = openai_inputs(&request["input"])?;
    let dimensions = dimensions_of(request, "dimensions")?;
    let base64 = match request["encoding_format"].as_str() {
        None | Some("float") => false,
        Some("base64") => true,
        Some(other) => {
            return Err(format!(
                "'{other}' is not one of ['float', 'base64'] - 'encoding_format'"
            ));
        }
    };
    let tokens: u64 = inputs.iter().map(|(_, count)| count).sum();
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(index, (text, _))| {
            let values = vector(text, dimensions);
            let embedding = if base64 {
                json!(base64_f32s(&values))
            } else {
                json!(values)
            };
            json!({"object": "embedding", "index": index, "embedding": embedding})
        })
        .collect();
    Ok(json!({
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }))
}

/// The answer to a Gemini `batchEmbedContents` request for `model` (from the path), or the message of its
/// 400.
pub fn gemini_answer(model: &str, request: &Value) -> Result<Value, String> {
    let requests = request["requests"]
        .as_array()
        .filter(|r| !r.is_empty())
        .ok_or("* BatchEmbedContentsRequest.requests: requests is not specified\n")?;
    if requests.len() > GEMINI_MAX_BATCH {
        return Err(format!(
            "* BatchEmbedContentsRequest.requests: at most {GEMINI_MAX_BATCH} requests can be in one batch\n"
        ));
    }
    let path_model = format!("models/{model}");
    let mut embeddings = Vec::with_capacity(requests.len());
    for (i, one) in requests.iter().enumerate() {
        if one["model"].as_str() != Some(path_model.as_str()) {
            return Err(format!(
                "* BatchEmbedContentsRequest.requests[{i}].model: the model must be the batch's, {path_model}\n"
            ));
        }
        let text: String = one["content"]["parts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|part| part["text"].as_str())
            .collect();
        if text.is_empty() {
            return Err(format!(
                "* BatchEmbedContentsRequest.requests[{i}].content: contents must not be empty\n"
            ));
        }
        let dimensions = dimensions_of(one, "outputDimensionality")?;
        embeddings.push(json!({"values": vector(&text, dimensions)}));
    }
    Ok(json!({"embeddings": embeddings}))
}

/// Little-endian `f32` bytes in standard padded base64, as OpenAI writes `encoding_format: "base64"`.
fn base64_f32s(values: &[f32]) -> String {
    use base64::Engine as _;
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn vectors_are_deterministic_exact_and_differ_by_text() {
        let a = vector("hello", 16);
        assert_eq!(a, vector("hello", 16));
        assert_ne!(a, vector("hello!", 16));
        assert_eq!(vector("hello", 4), a[..4]);
        assert!(
            a.iter()
                .all(|v| (-1.0..1.0).contains(v) && (v * 1024.0).fract() == 0.0)
        );
    }

    #[test]
    fn openai_answers_every_input_form_in_floats_or_base64() {
        let answer = openai_answer(&json!({"model": "m", "input": ["a b", "c"]})).unwrap();
        assert_eq!(answer["usage"]["prompt_tokens"], 3);
        assert_eq!(answer["data"][1]["index"], 1);
        assert_eq!(answer["data"][1]["embedding"], json!(vector("c", 16)));

        let answer = openai_answer(
            &json!({"model": "m", "input": [[1, 2], [3]], "dimensions": 2,
            "encoding_format": "base64"}),
        )
        .unwrap();
        assert_eq!(answer["usage"]["total_tokens"], 3);
        assert_eq!(
            answer["data"][0]["embedding"],
            json!(base64_f32s(&vector("tokens:1 2", 2)))
        );

        for bad in [
            json!({"model": "m", "input": ""}),
            json!({"model": "m", "input": []}),
            json!({"model": "m", "input": ["a", 1]}),
            json!({"model": "m", "input": [[-1]]}),
            json!({"model": "m", "input": "a", "dimensions": 0}),
            json!({"model": "m", "input": "a", "encoding_format": "binary"}),
            json!({"input": "a"}),
        ] {
            assert!(openai_answer(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn gemini_answers_one_vector_per_request_and_checks_the_batch() {
        let request = json!({"requests": [
            {"model": "models/e", "content": {"parts": [{"text": "x"}]}, "outputDimensionality": 3},
            {"model": "models/e", "content": {"parts": [{"text": "y"}]}}]});
        let answer = gemini_answer("e", &request).unwrap();
        assert_eq!(answer["embeddings"][0]["values"], json!(vector("x", 3)));
        assert_eq!(answer["embeddings"][1]["values"], json!(vector("y", 16)));
        assert!(gemini_answer("other", &request).is_err());
        let one = json!({"model": "models/e", "content": {"parts": [{"text": "x"}]}});
        let too_many = json!({"requests": vec![one; GEMINI_MAX_BATCH + 1]});
        assert!(gemini_answer("e", &too_many).is_err());
    }
}
