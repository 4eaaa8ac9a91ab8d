//! The pipeline driven directly, without actix: an OpenAI-format upstream (wiremock, speaking the
//! provider's documented wire format), a real SQLite store, the real limiter and usage sink. Each case
//! checks what the caller gets and the one usage record the request leaves.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use futures_util::StreamExt;
use gaia_adapters::ResponseMeta;
use gaia_core::{ChatRequest, Message, ModelInfo, ProviderKind, StreamEvent};
use gaia_gateway::{Pipeline, RequestContext, Served, StreamItem};
use gaia_orgs::auth::Principal;
use gaia_orgs::limits::Limiter;
use gaia_providers::config::ProviderConfig;
use gaia_providers::router::RetryPolicy;
use gaia_providers::{Provider, Registry, Timeouts};
use gaia_stats::{SinkConfig, UsageSink};
use gaia_store::usage::{StoredUsageRecord, UsageRecordFilter};
use gaia_store::{Store, StoreOptions};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

struct World {
    pipeline: Pipeline,
    store: Store,
    usage: UsageSink,
    _dir: tempfile::TempDir,
}

fn model() -> ModelInfo {
    ModelInfo {
        id: "openai/gpt-4o-mini".into(),
        provider: "openai".into(),
        upstream_name: "gpt-4o-mini".into(),
        display_name: None,
        context_length: Some(128_000),
        max_completion_tokens: Some(16_384),
        input_price_nanos_per_mtok: 150_000_000,
        output_price_nanos_per_mtok: 600_000_000,
        cached_input_price_nanos_per_mtok: None,
        cache_write_price_nanos_per_mtok: None,
        priced: true,
        supports_vision: true,
        supports_tools: true,
        supports_streaming: true,
        enabled: true,
        source: "catalog".into(),
        kind: gaia_core::ModelKind::Chat,
        dimensions: None,
    }
}

async fn world(upstream: &MockServer) -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect_and_migrate(
        &gaia_store::testing::sqlite_file_url(dir.path()),
        &StoreOptions::default(),
    )
    .await
    .unwrap();
    let provider = Provider::new(
        ProviderConfig::new(
            "openai",
            ProviderKind::OpenAi,
            format!("{}/v1", upstream.uri()),
            Some("sk-test".into()),
        ),
        Timeouts::default(),
    )
    .unwrap();
    let registry = Arc::new(ArcSwap::from_pointee(Registry::new(
        [provider],
        [model()],
        Vec::new(),
    )));
    let usage = UsageSink::start(store.clone(), SinkConfig::default(), None);
    let pipeline = Pipeline::new(
        registry,
        Arc::new(Limiter::new(store.clone(), None)),
        usage.clone(),
        RetryPolicy::default(),
        Duration::from_secs(15),
    );
    World {
        pipeline,
        store,
        usage,
        _dir: dir,
    }
}

fn request(model: &str, stream: bool) -> ChatRequest {
    ChatRequest {
        model: model.into(),
        messages: vec![Message::user("hello")],
        stream,
        include_usage: stream,
        ..ChatRequest::default()
    }
}

fn meta() -> ResponseMeta {
    ResponseMeta::new("chatcmpl-test", "openai/gpt-4o-mini", 1)
}

/// Every record written once the sink is drained, oldest first.
async fn records(w: &World) -> Vec<StoredUsageRecord> {
    w.usage.shutdown().await;
    let mut page = w
        .store
        .list_usage_records(&UsageRecordFilter::default(), 1, 100)
        .await
        .unwrap()
        .items;
    page.reverse();
    page
}

#[tokio::test]
async fn a_complete_answer_is_served_and_recorded_once_with_its_cost_and_attempts() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "x", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi there"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})))
        .expect(1)
        .mount(&upstream)
        .await;
    let w = world(&upstream).await;
    let context = RequestContext::new("req-1".into(), &Principal::BootstrapKey);
    let Served::Complete { response, target } = w
        .pipeline
        .serve(context, request("openai/gpt-4o-mini", false), meta())
        .await
        .unwrap()
    else {
        panic!("a stream for a non-streaming request")
    };
    assert_eq!(response.choices[0].message.text_content(), "hi there");
    assert_eq!(target.model.id, "openai/gpt-4o-mini");
    let recs = records(&w).await;
    assert_eq!(recs.len(), 1);
    let r = &recs[0].record;
    assert_eq!(r.request_id, "req-1");
    assert_eq!((r.status_code, r.attempts), (200, Some(1)));
    assert_eq!((r.prompt_tokens, r.completion_tokens), (10, 5));
    assert_eq!(r.cost_nanos, 10 * 150 + 5 * 600);
    assert_eq!(r.provider.as_deref(), Some("openai"));
}

/// Cached prompt tokens are billed at the cached price — here OpenAI's default, half of gpt-4o-mini's
/// $0.15 — and reasoning tokens as output.
#[tokio::test]
async fn cached_tokens_are_billed_at_the_cached_price() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "x", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100,
                "prompt_tokens_details": {"cached_tokens": 400},
                "completion_tokens_details": {"reasoning_tokens": 40}}})))
        .mount(&upstream)
        .await;
    let w = world(&upstream).await;
    let context = RequestContext::new("req-cached".into(), &Principal::BootstrapKey);
    w.pipeline
        .serve(context, request("openai/gpt-4o-mini", false), meta())
        .await
        .unwrap();
    let r = &records(&w).await[0].record;
    assert_eq!((r.prompt_tokens, r.cached_tokens), (1000, 400));
    // 600 × $0.15 + 400 × $0.075 + 100 × $0.60 per million = $0.00018.
    assert_eq!(r.cost_nanos, 600 * 150 + 400 * 75 + 100 * 600);
}

#[tokio::test]
async fn a_stream_is_recorded_when_it_ends_and_a_refusal_at_once() {
    let upstream = MockServer::start().await;
    let body = [
        json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": "hi"}, "finish_reason": null}]}),
        json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
        json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini", "choices": [],
            "usage": {"prompt_tokens": 4, "completion_tokens": 1, "total_tokens": 5}}),
    ]
    .iter()
    .map(|v| format!("data: {v}\n\n"))
    .collect::<String>()
        + "data: [DONE]\n\n";
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/event-stream")
                .set_body_string(body),
        )
        .mount(&upstream)
        .await;
    let w = world(&upstream).await;
    let admin = Principal::BootstrapKey;
    let Served::Stream(stream) = w
        .pipeline
        .serve(
            RequestContext::new("req-stream".into(), &admin),
            request("openai/gpt-4o-mini", true),
            meta(),
        )
        .await
        .unwrap()
    else {
        panic!("no stream for a streaming request")
    };
    let items: Vec<StreamItem> = stream.collect().await;
    let text: String = items
        .iter()
        .filter_map(|i| match i {
            StreamItem::Event(StreamEvent::TextDelta { text, .. }) => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(text, "hi");
    // A model nobody registered: 404, recorded without a target.
    let refused = w
        .pipeline
        .serve(
            RequestContext::new("req-404".into(), &admin),
            request("openai/nope", false),
            meta(),
        )
        .await;
    assert_eq!(refused.err().map(|e| e.status()), Some(404));
    let recs = records(&w).await;
    let by_id = |id: &str| {
        recs.iter()
            .find(|r| r.record.request_id == id)
            .map(|r| r.record.clone())
            .unwrap()
    };
    let streamed = by_id("req-stream");
    assert!(streamed.stream && !streamed.estimated);
    assert_eq!((streamed.status_code, streamed.total_tokens), (200, 5));
    assert!(streamed.ttft_ms.is_some());
    let missing = by_id("req-404");
    assert_eq!(
        (missing.status_code, missing.model_served, missing.attempts),
        (404, None, Some(0))
    );
}

#[tokio::test]
async fn a_stream_dropped_before_its_end_is_recorded_as_the_client_leaving() {
    let upstream = MockServer::start().await;
    let first = json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": "partial answer"}, "finish_reason": null}]});
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/event-stream")
                .set_body_string(format!("data: {first}\n\n")),
        )
        .mount(&upstream)
        .await;
    let w = world(&upstream).await;
    let Served::Stream(mut stream) = w
        .pipeline
        .serve(
            RequestContext::new("req-gone".into(), &Principal::BootstrapKey),
            request("openai/gpt-4o-mini", true),
            meta(),
        )
        .await
        .unwrap()
    else {
        panic!("no stream")
    };
    // Read until the first text arrives, then leave, as a client that closes its connection.
    loop {
        match stream.next().await {
            Some(StreamItem::Event(StreamEvent::TextDelta { .. })) => break,
            Some(_) => {}
            None => panic!("the stream ended before its text"),
        }
    }
    drop(stream);
    // The tokens are counted in the background: the record arrives once they are.
    for _ in 0..100 {
        if w.usage.counters().written + w.usage.counters().queued > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let recs = records(&w).await;
    assert_eq!(recs.len(), 1);
    let r = &recs[0].record;
    assert_eq!(
        (r.status_code, r.error_code.as_deref()),
        (499, Some("client_disconnected"))
    );
    assert!(r.estimated && r.completion_tokens > 0, "{r:?}");
}
