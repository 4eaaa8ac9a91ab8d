//! Token counts when a provider reported none (a stream cut short, a client that left): counted with a
//! real BPE tokenizer (`o200k_base`, the encoding of OpenAI's current models, shipped inside the
//! `tiktoken-rs` crate), and the record is marked `estimated`. For Anthropic and Gemini models the count is
//! an approximation of their own tokenizers — good to a few percent on ordinary text.

use std::sync::OnceLock;

use gaia_core::{ChatRequest, ContentPart, Usage};
use tiktoken_rs::CoreBPE;

fn bpe() -> Option<&'static CoreBPE> {
    static BPE: OnceLock<Option<CoreBPE>> = OnceLock::new();
    BPE.get_or_init(|| tiktoken_rs::o200k_base().ok()).as_ref()
}

/// Loads the tokenizer tables (about 200k merges; tens of milliseconds, far more in a debug build). Call at
/// start, on the blocking pool, so no request pays for it.
pub fn warm_up() {
    let _ = bpe();
}

/// Counting runs on tokio's blocking pool, at most this many at once (the machine's cores): a long prompt
/// takes milliseconds to encode, which must not stall a request thread, and a burst of cut streams must not
/// take more than the machine.
fn counting_permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        tokio::sync::Semaphore::new(cores)
    })
}

/// The usage of a request whose provider reported none: its prompt and the `completion` text it produced,
/// counted on the blocking pool (bounded). Falls back to counting here if the pool cannot run it.
pub async fn usage_off_thread(request: ChatRequest, completion: String) -> Usage {
    let count = move || Usage::new(prompt_tokens(&request), text_tokens(&completion));
    let Ok(_permit) = counting_permits().acquire().await else {
        return count();
    };
    // A panic in the tokenizer (there is none known) loses only the estimate.
    tokio::task::spawn_blocking(count).await.unwrap_or_default()
}

/// Tokens in `texts` (the inputs of an embeddings request whose provider reported no usage), counted on
/// the blocking pool like [`usage_off_thread`].
pub async fn texts_off_thread(texts: Vec<String>) -> u64 {
    let count = move || texts.iter().map(|t| text_tokens(t)).sum();
    let Ok(_permit) = counting_permits().acquire().await else {
        return count();
    };
    let texts_count = tokio::task::spawn_blocking(count).await;
    texts_count.unwrap_or_default()
}

/// Tokens in a piece of text (falls back to ~4 characters a token if the tables failed to load).
pub fn text_tokens(text: &str) -> u64 {
    if text.is_empty() {
        return 0;
    }
    match bpe() {
        Some(bpe) => bpe.encode_ordinary(text).len() as u64,
        None => text.chars().count().div_ceil(4) as u64,
    }
}

/// Tokens a request's prompt uses: message texts, tool-call arguments and tool definitions, plus the
/// per-message framing OpenAI documents (about 3 tokens a message and 3 to prime the answer). Images are
/// counted at a flat 85 tokens each (OpenAI's low-detail cost), since their real cost depends on size.
pub fn prompt_tokens(request: &ChatRequest) -> u64 {
    let mut total = 3;
    for m in &request.messages {
        total += 3;
        for part in &m.content {
            total += match part {
                ContentPart::Text(t) => text_tokens(t),
                ContentPart::Thinking { text, .. } => text_tokens(text),
                ContentPart::Image { .. } => 85,
                // A PDF page costs about as much as a high-detail image; its size is unknown here.
                ContentPart::Document { .. } => 1_500,
                // Encrypted reasoning: its size in tokens is roughly its size in bytes over 4.
                ContentPart::RedactedThinking { data } => (data.len() / 4) as u64,
                ContentPart::CacheBreakpoint(_) => 0,
            };
        }
        for call in &m.tool_calls {
            total += text_tokens(&call.name) + text_tokens(&call.arguments);
        }
    }
    for tool in &request.tools {
        total += text_tokens(&tool.name);
        if let Some(d) = &tool.description {
            total += text_tokens(d);
        }
        if let Some(p) = &tool.parameters {
            total += text_tokens(&p.to_string());
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use gaia_core::Message;

    #[test]
    fn text_is_counted_with_the_real_tokenizer() {
        assert_eq!(text_tokens(""), 0);
        // "hello world" is two tokens in o200k_base.
        assert_eq!(text_tokens("hello world"), 2);
        let long = "The quick brown fox jumps over the lazy dog. ".repeat(50);
        let n = text_tokens(&long);
        assert!((450..=560).contains(&n), "{n}");
    }

    #[test]
    fn a_prompt_counts_messages_and_framing() {
        let req = ChatRequest::new(
            "m",
            vec![
                Message::system("You are terse."),
                Message::user("hello world"),
            ],
        );
        let n = prompt_tokens(&req);
        assert!((10..=20).contains(&n), "{n}");
    }
}
