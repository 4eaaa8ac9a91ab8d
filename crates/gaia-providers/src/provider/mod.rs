//! One provider = one pooled HTTP client + the dialect it speaks ([`crate::dialect`]: URL, credential
//! header, formats). This module owns what every kind shares: the clients, timeouts, size bounds, and
//! mapping transport and status failures.

use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use gaia_adapters::ResponseMeta;
use gaia_core::{ChatRequest, ChatResponse, GaiaError, ProviderKind, StreamEvent};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};

mod count;
mod embed;

use crate::config::{HttpVersion, ProviderConfig, Timeouts};
use crate::dialect::{Dialect, dialect};
use crate::stream::decode_stream;
use crate::timing;
use crate::upstream_error::{self, parse_retry_after};

/// A stream of canonical events; it always ends with exactly one `Done` or `Error`.
pub type EventStream = Pin<Box<dyn Stream<Item = StreamEvent> + Send>>;

/// Largest upstream error body read for its message (the rest is not needed).
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// A configured upstream.
///
/// Each thread gets its own HTTP client (and so its own connection pool). hyper runs a connection's I/O
/// on the runtime that opened it; actix-web gives every worker thread its own runtime, so a client shared
/// across workers would hand most requests to another thread and back — two cross-thread wake-ups per
/// request. Per-thread clients keep a request and its upstream connection on one thread.
pub struct Provider {
    config: ProviderConfig,
    dialect: &'static dyn Dialect,
    headers: HeaderMap,
    clients: thread_local::ThreadLocal<reqwest::Client>,
    /// The one client of every thread when connections are capped: per-thread pools would each keep
    /// idle connections the others cannot use, so the count could pass the cap.
    shared: std::sync::OnceLock<reqwest::Client>,
    /// Certificate authorities trusted besides the system's (`ca_file`).
    roots: Vec<reqwest::Certificate>,
    /// The upstream URL when it depends on neither the model nor streaming (all but Gemini), parsed once.
    fixed_url: Option<reqwest::Url>,
    timeouts: Timeouts,
    /// Base URL without a trailing slash.
    base: String,
    /// HTTP/1.1 connections in use to this endpoint, when capped (`max_connections`).
    connections: Option<Arc<tokio::sync::Semaphore>>,
}

/// An upstream answer whose headers arrived, with the connection slot it holds (when connections to the
/// endpoint are capped) until its body has been read or dropped.
pub(crate) struct Answer {
    pub response: reqwest::Response,
    pub slot: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("config", &self.config)
            .finish()
    }
}

impl Provider {
    /// Builds the provider and its client (once; connections are pooled and kept alive).
    pub fn new(config: ProviderConfig, timeouts: Timeouts) -> Result<Arc<Self>, GaiaError> {
        let roots = match &config.ca_file {
            None => Vec::new(),
            Some(path) => read_roots(&config.name, path)?,
        };
        let mut headers = HeaderMap::new();
        for (k, v) in &config.headers {
            let name = HeaderName::from_bytes(k.as_bytes()).map_err(|_| {
                GaiaError::invalid_request(format!(
                    "provider '{}': bad header name '{k}'",
                    config.name
                ))
            })?;
            let value = HeaderValue::from_str(v).map_err(|_| {
                GaiaError::invalid_request(format!(
                    "provider '{}': bad value for header '{k}'",
                    config.name
                ))
            })?;
            headers.insert(name, value);
        }
        let dialect = dialect(config.kind);
        // An empty key (a stored channel without a credential: a self-hosted server) sends no header.
        if let Some(key) = config.api_key.as_ref().filter(|k| !k.is_empty()) {
            let (name, value) = dialect.auth_header(key);
            let mut value = HeaderValue::from_str(&value).map_err(|_| {
                GaiaError::invalid_request(format!(
                    "provider '{}': the API key has invalid characters",
                    config.name
                ))
            })?;
            value.set_sensitive(true);
            headers.insert(HeaderName::from_static(name), value);
        }
        for (name, value) in dialect.fixed_headers() {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let base = config.base_url.trim_end_matches('/').to_owned();
        let connections = config.max_connections.map(|cap| {
            Arc::new(tokio::sync::Semaphore::new(
                usize::try_from(cap).unwrap_or(usize::MAX),
            ))
        });
        let mut provider = Self {
            config,
            dialect,
            headers,
            clients: thread_local::ThreadLocal::new(),
            shared: std::sync::OnceLock::new(),
            roots,
            fixed_url: None,
            timeouts,
            base,
            connections,
        };
        // Fails early on a client that cannot be built, and on a base URL that does not parse.
        provider.client()?;
        if !dialect.url_varies() {
            let url = dialect.url(&provider.config, &provider.base, "", false);
            let parsed = reqwest::Url::parse(&url).map_err(|e| {
                GaiaError::invalid_request(format!(
                    "provider '{}': the base URL gives an invalid endpoint '{url}': {e}",
                    provider.config.name
                ))
            })?;
            provider.fixed_url = Some(parsed);
        }
        Ok(Arc::new(provider))
    }

    /// This thread's HTTP client (built on first use; connections are pooled and kept alive), or the
    /// shared one when connections are capped.
    fn client(&self) -> Result<&reqwest::Client, GaiaError> {
        if self.connections.is_none() {
            return self.clients.get_or_try(|| self.build_client());
        }
        if let Some(client) = self.shared.get() {
            return Ok(client);
        }
        let client = self.build_client()?;
        Ok(self.shared.get_or_init(|| client))
    }

    fn build_client(&self) -> Result<reqwest::Client, GaiaError> {
        let mut builder = reqwest::Client::builder();
        for root in &self.roots {
            builder = builder.add_root_certificate(root.clone());
        }
        // Outbound proxies come from HTTPS_PROXY / HTTP_PROXY / ALL_PROXY and NO_PROXY (reqwest reads
        // them for every client it builds).
        builder = match self.config.http_version {
            HttpVersion::Auto => builder,
            HttpVersion::Http1 => builder.http1_only(),
            HttpVersion::Http2 => builder.http2_prior_knowledge(),
        };
        builder
            .default_headers(self.headers.clone())
            // An HTTP/2 connection carries many requests: a ping every 30 s while requests are open
            // finds one that died silently (a NAT or load balancer dropped it) within 40 s.
            .http2_keep_alive_interval(std::time::Duration::from_secs(30))
            .http2_keep_alive_timeout(std::time::Duration::from_secs(10))
            .connect_timeout(self.timeouts.connect)
            .read_timeout(self.timeouts.idle)
            .pool_idle_timeout(std::time::Duration::from_secs(90))
            // Per client: enough to keep every connection of a 1,000-request burst for reuse; with a cap,
            // the cap.
            .pool_max_idle_per_host(
                self.config
                    .max_connections
                    .map_or(1024, |cap| usize::try_from(cap).unwrap_or(usize::MAX)),
            )
            .tcp_nodelay(true)
            .user_agent(concat!("GaiaRouter/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                GaiaError::internal(format!(
                    "cannot build the HTTP client for '{}': {e}",
                    self.config.name
                ))
            })
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    pub fn kind(&self) -> ProviderKind {
        self.config.kind
    }

    pub fn is_configured(&self) -> bool {
        self.config.is_configured()
    }

    pub fn config(&self) -> &ProviderConfig {
        &self.config
    }

    /// The HTTP client (for auxiliary calls such as model-list sync).
    pub fn http(&self) -> Result<&reqwest::Client, GaiaError> {
        self.client()
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Sends the request and returns the response once its headers arrived with a success status.
    async fn send(
        &self,
        request: &ChatRequest,
        upstream_model: &str,
        max_tokens_default: u32,
        stream: bool,
    ) -> Result<Answer, GaiaError> {
        self.require_configured()?;
        if let Some(tool) = request.anthropic.first_server_tool()
            && self.config.kind != ProviderKind::Anthropic
        {
            // Well-formed, but for a provider that cannot run it: a rule no schema states (422).
            return Err(GaiaError::unprocessable(format!(
                "the server tool '{tool}' runs only on Anthropic models; '{}' is served by '{}'",
                upstream_model, self.config.name
            ))
            .with_param("tools")
            .with_code("server_tool_unsupported"));
        }
        let mut stream_request;
        let request = if request.stream != stream {
            stream_request = request.clone();
            stream_request.stream = stream;
            &stream_request
        } else {
            request
        };
        // Written straight to bytes, without a `Value` tree that would copy the prompt.
        let body =
            self.dialect
                .encode(&self.config, request, upstream_model, max_tokens_default)?;
        let url = self.url(upstream_model, stream)?;
        let mut builder = self.client()?.post(url).body(body);
        for (name, value) in self.dialect.request_headers(request) {
            builder = builder.header(name, value);
        }
        self.exchange(builder).await
    }

    /// Sends a request and returns the response once its headers arrived with a success status, within
    /// the first-byte timeout; an error status is mapped by [`refusal`](Self::refusal). With a cap on
    /// connections, a slot is taken first (waiting up to the connect timeout) and kept with an HTTP/1.1
    /// answer; an HTTP/2 answer shares its connection, so it gives the slot back at once.
    pub(crate) async fn exchange(
        &self,
        builder: reqwest::RequestBuilder,
    ) -> Result<Answer, GaiaError> {
        let slot = match &self.connections {
            None => None,
            Some(slots) => Some(self.slot(slots).await?),
        };
        // The attempt's trace context, when traces are exported.
        let builder = match crate::trace::context_headers() {
            Some(h) => builder.headers(h),
            None => builder,
        };
        let send = builder.send();
        let response =
            match timing::waited(tokio::time::timeout(self.timeouts.first_byte, send)).await {
                Err(_) => return Err(upstream_error::timeout(&self.config.name)),
                Ok(Err(e)) => return Err(upstream_error::from_transport(&self.config.name, &e)),
                Ok(Ok(r)) => r,
            };
        if response.status().is_success() {
            let slot = slot.filter(|_| response.version() < reqwest::Version::HTTP_2);
            return Ok(Answer { response, slot });
        }
        Err(self.refusal(response).await)
    }

    /// A connection slot, within the connect timeout.
    async fn slot(
        &self,
        slots: &Arc<tokio::sync::Semaphore>,
    ) -> Result<tokio::sync::OwnedSemaphorePermit, GaiaError> {
        if let Ok(slot) = Arc::clone(slots).try_acquire_owned() {
            return Ok(slot);
        }
        match tokio::time::timeout(self.timeouts.connect, Arc::clone(slots).acquire_owned()).await {
            Ok(Ok(slot)) => Ok(slot),
            // The semaphore is never closed; a closed one is as good as a full one.
            Ok(Err(_)) | Err(_) => Err(upstream_error::busy(
                &self.config.name,
                self.config.max_connections.unwrap_or_default(),
            )),
        }
    }

    /// A successful answer's whole body, up to the response size bound.
    async fn read_body(&self, response: reqwest::Response) -> Result<Bytes, GaiaError> {
        let limit = self.timeouts.max_response_bytes;
        timing::waited(read_limited(response, limit))
            .await
            .map_err(|e| match e {
                ReadError::TooLarge => upstream_error::too_large(&self.config.name, limit),
                ReadError::Transport(e) => upstream_error::from_transport(&self.config.name, &e),
            })
    }

    /// Where a request for `upstream_model` goes.
    fn url(&self, upstream_model: &str, stream: bool) -> Result<reqwest::Url, GaiaError> {
        match &self.fixed_url {
            Some(url) => Ok(url.clone()),
            None => reqwest::Url::parse(&self.dialect.url(
                &self.config,
                &self.base,
                upstream_model,
                stream,
            ))
            .map_err(|e| {
                GaiaError::invalid_request(format!(
                    "provider '{}': invalid upstream URL for model '{upstream_model}': {e}",
                    self.config.name
                ))
            }),
        }
    }

    /// The error an unsuccessful upstream answer maps to (its body read up to a bound, the key redacted).
    async fn refusal(&self, response: reqwest::Response) -> GaiaError {
        let status = response.status();
        let retry_after = parse_retry_after(
            response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
        );
        let body = read_limited(response, MAX_ERROR_BODY_BYTES)
            .await
            .unwrap_or_default();
        let err = upstream_error::from_status(
            &self.config.name,
            self.config.kind,
            status.as_u16(),
            retry_after,
            &body,
        );
        let err = self.redact(err);
        tracing::warn!(provider = %self.config.name, status = status.as_u16(), error = %err.message, "upstream error");
        err
    }

    /// The error with the provider key scrubbed from its message (see [`upstream_error::redact`]).
    fn redact(&self, err: GaiaError) -> GaiaError {
        upstream_error::redact(err, self.config.api_key.as_deref())
    }

    /// The 400 for a provider without credentials on this gateway.
    fn require_configured(&self) -> Result<(), GaiaError> {
        if self.is_configured() {
            return Ok(());
        }
        Err(GaiaError::invalid_request(format!(
            "provider '{}' is not configured on this gateway (no API key)",
            self.config.name
        ))
        .with_code("provider_not_configured"))
    }

    /// A non-streaming completion.
    pub async fn chat(
        &self,
        request: &ChatRequest,
        upstream_model: &str,
        max_tokens_default: u32,
        meta: &ResponseMeta,
    ) -> Result<ChatResponse, GaiaError> {
        let answer = self
            .send(request, upstream_model, max_tokens_default, false)
            .await?;
        let content_type = content_type(&answer.response);
        let body = self.read_body(answer.response).await?;
        drop(answer.slot);
        let parsed = self.dialect.parse_response(&body, meta);
        let unusable = |detail: &str| {
            let err = upstream_error::bad_response(
                &self.config.name,
                self.config.kind,
                content_type.as_deref(),
                &body,
                detail,
            );
            tracing::warn!(provider = %self.config.name, code = err.code(), "unusable upstream response");
            self.redact(err)
        };
        match parsed {
            Err(e) => Err(unusable(&e.message)),
            // A completion must have something to complete; `{}` is not an answer.
            Ok(response) if response.choices.is_empty() => {
                Err(unusable("the response has no choices"))
            }
            Ok(response) => Ok(response),
        }
    }

    /// A streaming completion. An `Err` means nothing was received (safe to fall back); once a stream is
    /// returned, failures arrive as its final `Error` event.
    pub async fn chat_stream(
        &self,
        request: &ChatRequest,
        upstream_model: &str,
        max_tokens_default: u32,
        meta: ResponseMeta,
    ) -> Result<EventStream, GaiaError> {
        let Answer { response, slot } = self
            .send(request, upstream_model, max_tokens_default, true)
            .await?;
        // An HTML page (a proxy, a captive portal) or a JSON body is not a stream: say so, instead of
        // finding no events in it.
        if let Some(ct) = content_type(&response).filter(|ct| {
            let ct = ct.to_ascii_lowercase();
            ct.starts_with("text/html") || ct.starts_with("application/json")
        }) {
            let body = read_limited(response, MAX_ERROR_BODY_BYTES)
                .await
                .unwrap_or_default();
            let err = upstream_error::not_a_stream(&self.config.name, self.config.kind, &ct, &body);
            tracing::warn!(provider = %self.config.name, code = err.code(), "unusable upstream stream");
            return Err(self.redact(err));
        }
        let decoder = self.dialect.stream_decoder(meta);
        let body = match slot {
            None => response.bytes_stream().boxed(),
            // The slot is held as long as the stream is (to its end, or until the client leaves).
            Some(slot) => response
                .bytes_stream()
                .map(move |chunk| {
                    let _held = &slot;
                    chunk
                })
                .boxed(),
        };
        Ok(decode_stream(
            self.config.name.clone(),
            self.config.api_key.clone(),
            body,
            decoder,
            self.timeouts.idle,
            self.timeouts.max_response_bytes,
        ))
    }
}

/// The certificates of a PEM file, checked when the provider is built (a bad file stops the start, or
/// the channel's creation, with its path named).
fn read_roots(
    provider: &str,
    path: &std::path::Path,
) -> Result<Vec<reqwest::Certificate>, GaiaError> {
    let pem = std::fs::read(path).map_err(|e| {
        GaiaError::unprocessable(format!(
            "provider '{provider}': cannot read ca_file {}: {e}",
            path.display()
        ))
        .with_param("ca_file")
    })?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
        GaiaError::unprocessable(format!(
            "provider '{provider}': ca_file {} holds no usable PEM certificate: {e}",
            path.display()
        ))
        .with_param("ca_file")
    })?;
    if certs.is_empty() {
        return Err(GaiaError::unprocessable(format!(
            "provider '{provider}': ca_file {} holds no certificate",
            path.display()
        ))
        .with_param("ca_file"));
    }
    Ok(certs)
}

fn content_type(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

enum ReadError {
    TooLarge,
    Transport(reqwest::Error),
}

async fn read_limited(response: reqwest::Response, limit: usize) -> Result<Bytes, ReadError> {
    // A declared length over the bound is refused before reading a byte of the body; otherwise the
    // body is read chunk by chunk with a running count, so at most `limit` bytes are ever held.
    if response
        .content_length()
        .is_some_and(|len| usize::try_from(len).map_or(true, |len| len > limit))
    {
        return Err(ReadError::TooLarge);
    }
    let mut response = response;
    let mut buf = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(ReadError::Transport)? {
        if buf.len() + chunk.len() > limit {
            return Err(ReadError::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buf))
}
