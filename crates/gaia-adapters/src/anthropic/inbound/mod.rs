//! The Messages API as clients speak it to GaiaRouter (`POST /v1/messages`): [`parse_request`] (validated)
//! and [`parse_count_tokens_request`], [`encode_response`], [`AnthropicStreamEncoder`] and
//! [`error_envelope`]. The mapping, both ways, is specs/messages.md.

mod error;
mod request;
mod response;
mod stream;

#[cfg(test)]
mod tests;

pub use error::{error_envelope, error_type};
pub use request::{parse_count_tokens_request, parse_request};
pub use response::{encode_response, stop_reason};
pub use stream::AnthropicStreamEncoder;
