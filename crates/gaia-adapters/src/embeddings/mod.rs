//! The client-facing side of OpenAI's embeddings API (`POST /v1/embeddings`, specs/embeddings.md):
//! [`parse_request`] reads the client's body into an [`EmbeddingRequest`], [`encode_response`] writes the
//! `list` of `embedding` objects back, as floats or base64 as the client asked.
//!
//! The upstream sides are in the dialect modules: `openai::encode_embeddings_request` /
//! `openai::parse_embeddings_response` (OpenAI, OpenRouter, compatible servers) and
//! `gemini::encode_embeddings_request` / `gemini::parse_embeddings_response` (`batchEmbedContents`).

pub(crate) mod base64;

#[cfg(test)]
mod tests;

use gaia_core::{
    EmbeddingEncoding, EmbeddingInput, EmbeddingRequest, EmbeddingResponse, GaiaError,
};
use serde::Serialize;
use serde_json::Value;

use crate::fields::{body_object, integral, missing, opt_string, opt_u32, take, type_error};
use crate::util::invalid;

/// OpenAI's limit on the number of inputs of one request.
pub const MAX_INPUTS: usize = 2048;

/// Parses and validates an OpenAI embeddings request body: `model`, `input` (a string, a list of strings,
/// a list of integers — one token array — or a list of token arrays), `dimensions` (≥ 1),
/// `encoding_format` (`float`, the default, or `base64`) and `user`. `null` is the same as absent;
/// unknown fields are ignored.
///
/// Errors are 400s naming the parameter the way OpenAI does (`input[3]`, `input[1][0]`).
pub fn parse_request(body: &[u8]) -> Result<EmbeddingRequest, GaiaError> {
    let mut obj = body_object(body)?;
    let model = match take(&mut obj, "model") {
        Some(Value::String(model)) if !model.trim().is_empty() => model,
        Some(Value::String(_)) | None => {
            return Err(invalid("model", "you must provide a `model` parameter"));
        }
        Some(other) => return Err(type_error("model", "a string", &other)),
    };
    let input = parse_input(take(&mut obj, "input"))?;
    let dimensions = opt_u32(&mut obj, "dimensions", 1)?;
    let encoding = match opt_string(&mut obj, "encoding_format")? {
        None => EmbeddingEncoding::Float,
        Some(format) => EmbeddingEncoding::parse(&format).ok_or_else(|| {
            invalid(
                "encoding_format",
                format!("unknown encoding_format '{format}'; expected 'float' or 'base64'"),
            )
        })?,
    };
    Ok(EmbeddingRequest {
        model,
        input,
        dimensions,
        encoding,
        user: opt_string(&mut obj, "user")?,
    })
}

fn parse_input(value: Option<Value>) -> Result<EmbeddingInput, GaiaError> {
    match value {
        None => Err(missing("input")),
        Some(Value::String(text)) => Ok(EmbeddingInput::Texts(vec![non_empty(text, "input")?])),
        Some(Value::Array(items)) => parse_list(items),
        Some(other) => Err(type_error(
            "input",
            "a string, an array of strings, an array of integers or an array of integer arrays",
            &other,
        )),
    }
}

/// A list: its first element decides which of the three list forms it is, and every other element must
/// be of the same form.
fn parse_list(items: Vec<Value>) -> Result<EmbeddingInput, GaiaError> {
    match items.first() {
        None => Err(invalid("input", "`input` must not be an empty array")),
        // One token array: its length is the model's limit to enforce (8192 tokens at OpenAI), not
        // the 2048 inputs of a batch.
        Some(Value::Number(_)) => Ok(EmbeddingInput::Tokens(vec![tokens(items, "input")?])),
        Some(_) if items.len() > MAX_INPUTS => Err(invalid(
            "input",
            format!(
                "`input` holds {} inputs; at most {MAX_INPUTS} are allowed in one request",
                items.len()
            ),
        )),
        Some(Value::String(_)) => {
            let texts = items.into_iter().enumerate().map(|(i, item)| {
                let param = format!("input[{i}]");
                match item {
                    Value::String(text) => non_empty(text, &param),
                    other => Err(type_error(&param, "a string", &other)),
                }
            });
            Ok(EmbeddingInput::Texts(texts.collect::<Result<_, _>>()?))
        }
        Some(Value::Array(_)) => {
            let arrays = items.into_iter().enumerate().map(|(i, item)| {
                let param = format!("input[{i}]");
                match item {
                    Value::Array(ids) => tokens(ids, &param),
                    other => Err(type_error(&param, "an array of integers", &other)),
                }
            });
            Ok(EmbeddingInput::Tokens(arrays.collect::<Result<_, _>>()?))
        }
        Some(other) => Err(type_error(
            "input[0]",
            "a string, an integer or an array of integers",
            other,
        )),
    }
}

fn non_empty(text: String, param: &str) -> Result<String, GaiaError> {
    if text.is_empty() {
        return Err(invalid(
            param,
            format!("`{param}` must not be an empty string"),
        ));
    }
    Ok(text)
}

/// A non-empty token array named `param`; each id an integer from 0 to `u32::MAX`.
fn tokens(ids: Vec<Value>, param: &str) -> Result<Vec<u32>, GaiaError> {
    if ids.is_empty() {
        return Err(invalid(
            param,
            format!("`{param}` must not be an empty array"),
        ));
    }
    ids.iter()
        .enumerate()
        .map(|(j, id)| {
            let at = format!("{param}[{j}]");
            match integral(id) {
                Some(n) => u32::try_from(n).map_err(|_| {
                    invalid(
                        &at,
                        format!("`{at}` must be a token id from 0 to {}, got {n}", u32::MAX),
                    )
                }),
                None => Err(type_error(&at, "an integer", id)),
            }
        })
        .collect()
}

/// The client-facing body: `{"object":"list","data":[{"object":"embedding","index":i,"embedding":…}],
/// "model":…,"usage":{"prompt_tokens","total_tokens"}}`, `model` as the client should see it and each
/// vector a JSON array of numbers (each the exact value of its `f32`, as the shortest decimal of the widened
/// `f64`, so a float answer equals a base64 one as clients read them) or,
/// with [`EmbeddingEncoding::Base64`], its little-endian `f32` bytes in standard base64.
pub fn encode_response(
    response: &EmbeddingResponse,
    model: &str,
    encoding: EmbeddingEncoding,
) -> Vec<u8> {
    let data = response
        .vectors
        .iter()
        .enumerate()
        .map(|(index, vector)| OutEmbedding {
            object: "embedding",
            index,
            embedding: match encoding {
                EmbeddingEncoding::Float => OutVector::Float(Exact(vector)),
                EmbeddingEncoding::Base64 => OutVector::Base64(base64::encode_f32s(vector)),
            },
        })
        .collect();
    let prompt_tokens = response.usage.prompt_tokens;
    let body = OutList {
        object: "list",
        data,
        model,
        usage: OutUsage {
            prompt_tokens,
            total_tokens: response.usage.total_tokens.max(prompt_tokens),
        },
    };
    // Cannot fail: every key is a string and every value serialisable.
    serde_json::to_vec(&body).unwrap_or_default()
}

#[derive(Serialize)]
struct OutList<'a> {
    object: &'static str,
    data: Vec<OutEmbedding<'a>>,
    model: &'a str,
    usage: OutUsage,
}

#[derive(Serialize)]
struct OutEmbedding<'a> {
    object: &'static str,
    index: usize,
    embedding: OutVector<'a>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum OutVector<'a> {
    Float(Exact<'a>),
    Base64(String),
}

/// A vector written as numbers whose `f64` reading is exactly each `f32` (the shortest decimal of the
/// widened value). Clients read JSON numbers as `f64` (Python, JavaScript) and the SDKs widen a base64
/// vector's `f32`s to `f64`: written this way, a vector asked for in floats is the very vector asked for
/// in base64. (The shortest `f32` form, `0.1` for `0.1f32`, would read back as a different `f64`.)
struct Exact<'a>(&'a [f32]);

impl Serialize for Exact<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|x| f64::from(*x)))
    }
}

#[derive(Serialize)]
struct OutUsage {
    prompt_tokens: u64,
    total_tokens: u64,
}
