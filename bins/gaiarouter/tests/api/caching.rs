//! Prompt caching from Chat Completions, and every token class priced as billed, per provider
//! (specs/messages.md M-17, M-18; specs/gateway.md G-33). Each provider is played by wiremock answering
//! in its own wire format with cache reads, cache writes and reasoning tokens; the usage record must hold
//! each class and cost exactly their sum at the catalog's prices.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::spawn_app_with_upstream;
use crate::recording::records;

/// USD per million tokens → nano-dollars per token, times `tokens`.
fn nanos(tokens: i64, usd_per_mtok: f64) -> i64 {
    (tokens as f64 * usd_per_mtok * 1000.0).round() as i64
}

#[tokio::test]
async fn cache_control_from_chat_completions_reaches_anthropic_and_every_class_is_priced() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn",
            "usage": {"input_tokens": 100, "cache_creation_input_tokens": 2000,
                      "cache_read_input_tokens": 5000, "output_tokens": 300}})))
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let body: Value = app
        .chat(&json!({"model": "anthropic/claude-sonnet-4-5",
            "messages": [
                {"role": "system", "content": [
                    {"type": "text", "text": "Long rules.", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]},
                {"role": "user", "content": [
                    {"type": "text", "text": "A long document.", "cache_control": {"type": "ephemeral"}},
                    {"type": "text", "text": "The question."}]}],
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}},
                       "cache_control": {"type": "ephemeral"}}]}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["usage"]["prompt_tokens_details"],
        json!({"cached_tokens": 5000, "cache_write_tokens": 2000}),
        "{body}"
    );
    assert_eq!(body["usage"]["prompt_tokens"], 7100);

    let sent: Value = upstream.received_requests().await.unwrap()[0]
        .body_json()
        .unwrap();
    assert_eq!(
        sent["system"],
        json!([{"type": "text", "text": "Long rules.", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]),
        "{sent}"
    );
    assert_eq!(
        sent["messages"][0]["content"],
        json!([{"type": "text", "text": "A long document.", "cache_control": {"type": "ephemeral"}},
               {"type": "text", "text": "The question."}]),
        "{sent}"
    );
    assert_eq!(
        sent["tools"][0]["cache_control"],
        json!({"type": "ephemeral"}),
        "{sent}"
    );

    let r = &records(&app, 1).await[0].record;
    assert_eq!(
        (
            r.prompt_tokens,
            r.cached_tokens,
            r.cache_creation_tokens,
            r.completion_tokens
        ),
        (7100, 5000, 2000, 300)
    );
    // Claude Sonnet 4.5: $3 input, $0.30 cache reads, $3.75 cache writes, $15 output per million.
    let want = nanos(100, 3.0) + nanos(5000, 0.30) + nanos(2000, 3.75) + nanos(300, 15.0);
    assert_eq!(r.cost_nanos, want);
    assert_eq!(r.cost_nanos, 13_800_000, "$0.0138");
}

#[tokio::test]
async fn openai_gemini_and_openrouter_token_classes_are_priced_exactly() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "c", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10000, "completion_tokens": 2000, "total_tokens": 12000,
                      "prompt_tokens_details": {"cached_tokens": 8000},
                      "completion_tokens_details": {"reasoning_tokens": 1500}}})))
        .mount(&upstream)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1beta/models/gemini-2.5-flash:generateContent"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "candidates": [{"index": 0, "finishReason": "STOP",
                            "content": {"role": "model", "parts": [{"text": "ok"}]}}],
            "usageMetadata": {"promptTokenCount": 10000, "cachedContentTokenCount": 6000,
                              "candidatesTokenCount": 500, "thoughtsTokenCount": 1500,
                              "totalTokenCount": 12000}})))
        .mount(&upstream)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "gen-1", "object": "chat.completion", "created": 1, "model": "anthropic/claude-sonnet-4.5",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10000, "completion_tokens": 400, "total_tokens": 10400,
                      "prompt_tokens_details": {"cached_tokens": 7000, "cache_write_tokens": 2500},
                      "completion_tokens_details": {"reasoning_tokens": 100}}})))
        .mount(&upstream)
        .await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    for model in [
        "openai/gpt-4o-mini",
        "google/gemini-2.5-flash",
        "openrouter/anthropic/claude-sonnet-4.5",
    ] {
        let res = app
            .chat(&json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}))
            .await;
        assert_eq!(res.status(), 200, "{model}: {}", res.text().await.unwrap());
    }
    let mut got = records(&app, 3).await;
    got.sort_by_key(|s| s.id);
    let classes = |i: usize| {
        let r = &got[i].record;
        (
            r.prompt_tokens,
            r.cached_tokens,
            r.cache_creation_tokens,
            r.completion_tokens,
            r.reasoning_tokens,
        )
    };
    // gpt-4o-mini: $0.15 input, $0.075 cached (OpenAI's half), $0.60 output; reasoning is output.
    assert_eq!(classes(0), (10000, 8000, 0, 2000, 1500));
    assert_eq!(
        got[0].record.cost_nanos,
        nanos(2000, 0.15) + nanos(8000, 0.075) + nanos(2000, 0.60)
    );
    // gemini-2.5-flash: $0.30 input, $0.03 cached, $2.50 output; thoughts are output.
    assert_eq!(classes(1), (10000, 6000, 0, 2000, 1500));
    assert_eq!(
        got[1].record.cost_nanos,
        nanos(4000, 0.30) + nanos(6000, 0.03) + nanos(2000, 2.50)
    );
    // Claude Sonnet 4.5 through OpenRouter: its imported cache prices, $0.30 reads and $3.75 writes.
    assert_eq!(classes(2), (10000, 7000, 2500, 400, 100));
    assert_eq!(
        got[2].record.cost_nanos,
        nanos(500, 3.0) + nanos(7000, 0.30) + nanos(2500, 3.75) + nanos(400, 15.0)
    );
}
