//! The OpenAI Responses API as clients speak it to GaiaRouter (`POST /v1/responses`): [`parse_request`]
//! (validated), [`encode_response`] and [`ResponsesStreamEncoder`]. The mapping is specs/responses.md;
//! field names follow openai-python's `types/responses` models.
//!
//! Where the canonical model has no exact slot, these choices were made:
//!
//! - **`instructions`** become a leading `developer` message (OpenAI upstreams keep the role; every other
//!   dialect reads it as the system prompt) and are kept as sent for the response's echo.
//! - **Reasoning items ↔ reasoning parts.** One output `reasoning` item per canonical reasoning part.
//!   [`ContentPart::Thinking`](gaia_core::ContentPart::Thinking) is an item with exactly one
//!   `summary_text` part (its text, empty or not) and its signature as `encrypted_content`;
//!   [`ContentPart::RedactedThinking`](gaia_core::ContentPart::RedactedThinking) is an item with
//!   `summary: []` and its data as `encrypted_content`. Read back, an item with any summary (or, without
//!   one, `reasoning_text` content) is `Thinking` — summaries joined by a blank line, the encrypted content
//!   as its signature — and an item with neither but with `encrypted_content` is `RedactedThinking`; an
//!   item with nothing is dropped. So a response's items sent back as input give the provider back its own
//!   reasoning byte for byte (Anthropic signatures and redacted blocks included).
//! - **An assistant turn** is the run of `reasoning`, assistant `message` and `function_call` items
//!   between other items: one canonical assistant message (reasoning and text in order, then the calls).
//!   A reasoning or message item after a `function_call` starts the next turn.
//! - **Item ids** are derived from the response id (no randomness here): output item `n` of
//!   `resp_X` is `rs_X_n`, `msg_X_n` or `fc_X_n`; the call's `call_id` is the canonical tool-call id.
//!   Ids on input items are not read.
//! - **Status**: `completed`, or `incomplete` with `incomplete_details.reason` `max_output_tokens`
//!   (finish reason `length`) or `content_filter`; then the last output item is `incomplete` too.
//!   Reasoning items carry no `status` (OpenAI's do not either).
//! - **`reasoning.effort`**: `none` is off; `minimal`…`high` map one to one; OpenAI's `xhigh` and `max`
//!   are above the canonical scale and become `high`; anything else is a 400. `reasoning.summary` is
//!   echoed only: reasoning text is always returned.
//! - **Built-in tools** (any tool whose `type` is not `function`: `web_search`, `file_search`,
//!   `code_interpreter`, `computer_use_preview`, `image_generation`, `mcp`, `custom`, …) and a
//!   `tool_choice` naming one are kept verbatim ([`ResponsesRequest::builtin_tools`],
//!   [`ResponsesRequest::builtin_tool_choice`]): only OpenAI can run them, so the handler refuses them
//!   for any other target. `allowed_tools` over functions narrows the canonical tools to those named.
//! - **`store`** is `false` unless the client sends `true` (issue 17: without `store`, nothing is kept —
//!   OpenAI's own default is `true`; see the spec's open questions).
//! - **Top-level fields**: `service_tier`, `prompt_cache_key`, `safety_identifier`,
//!   `prompt_cache_retention` and `text.verbosity` mean the same in Chat Completions and go to
//!   [`ChatRequest::extra`] for OpenAI-format upstreams; `conversation`, `prompt` and `background: true`
//!   need OpenAI-side state and are refused (400); the rest (`include`, `truncation`, `max_tool_calls`,
//!   `top_logprobs`, `stream_options`, …) is kept in [`ResponsesRequest::extra`] and not sent anywhere.
//! - **Errors mid-stream**: an `error` event (`code`, `message`, `param`, as the reference types it),
//!   then `response.failed` whose `error.code` is one of the reference's codes (`rate_limit_exceeded`,
//!   `invalid_prompt`, `server_error`); the gateway's precise code is in the `error` event.

mod input;
mod output;
mod request;
mod stream;

#[cfg(test)]
mod tests;

use gaia_core::ChatRequest;
use serde_json::{Map, Value};

pub use output::encode_response;
pub use request::parse_request;
pub use stream::ResponsesStreamEncoder;

/// A `POST /v1/responses` body: the canonical request plus what only the Responses API has.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResponsesRequest {
    /// The conversation and sampling settings; `instructions` are its leading `developer` message. Its
    /// messages are empty only when `previous_response_id` continues a stored conversation.
    pub chat: ChatRequest,
    /// Whether to keep the response for `previous_response_id` and `GET /v1/responses/{id}`.
    pub store: bool,
    pub previous_response_id: Option<String>,
    /// Up to 16 string pairs, as sent.
    pub metadata: Map<String, Value>,
    pub instructions: Option<String>,
    /// Tools only OpenAI runs, each as the client wrote it.
    pub builtin_tools: Vec<Value>,
    /// A `tool_choice` naming a built-in tool (or listing one in `allowed_tools`), as written.
    pub builtin_tool_choice: Option<Value>,
    /// Responses-only fields not modelled, as sent (not forwarded to any upstream).
    pub extra: Map<String, Value>,
    /// Request fields the response repeats exactly as the client wrote them.
    pub(crate) sent: Sent,
}

/// Fields kept as written, for the echo.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Sent {
    pub tools: Vec<Value>,
    pub tool_choice: Option<Value>,
    pub text: Option<Value>,
    pub reasoning: Option<Value>,
}

impl ResponsesRequest {
    /// What the response object repeats of this request. Taken before [`chat`](Self::chat) is handed to
    /// the pipeline, and given to [`encode_response`] or [`ResponsesStreamEncoder::new`].
    pub fn echo(&self) -> Echo {
        Echo {
            instructions: self.instructions.clone(),
            max_output_tokens: self.chat.max_tokens,
            parallel_tool_calls: self.chat.parallel_tool_calls,
            previous_response_id: self.previous_response_id.clone(),
            reasoning: self.sent.reasoning.clone(),
            store: self.store,
            temperature: self.chat.temperature,
            text: self.sent.text.clone(),
            tool_choice: self.sent.tool_choice.clone(),
            tools: self.sent.tools.clone(),
            top_p: self.chat.top_p,
            metadata: self.metadata.clone(),
            user: self.chat.user.clone(),
        }
    }
}

/// The request fields a `response` object repeats. `None` is written as OpenAI writes an absent field:
/// `parallel_tool_calls` `true`, `tool_choice` `"auto"`, `text` `{"format":{"type":"text"}}`, the rest
/// `null`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Echo {
    pub instructions: Option<String>,
    pub max_output_tokens: Option<u32>,
    pub parallel_tool_calls: Option<bool>,
    pub previous_response_id: Option<String>,
    pub reasoning: Option<Value>,
    pub store: bool,
    pub temperature: Option<f64>,
    pub text: Option<Value>,
    pub tool_choice: Option<Value>,
    pub tools: Vec<Value>,
    pub top_p: Option<f64>,
    pub metadata: Map<String, Value>,
    pub user: Option<String>,
}
