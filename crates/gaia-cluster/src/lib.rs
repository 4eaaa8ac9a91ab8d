//! What several GaiaRouter instances share in real time, through Redis.
//!
//! One [`Cluster`] per process, built from `GAIA_REDIS_URL`. It owns:
//! - the **per-minute limits** shared by every instance ([`Cluster::check_rates`]: one atomic script per
//!   check, one round trip, the clock read inside Redis so instances need not agree on the time);
//! - **change events** ([`Cluster::publish`], [`Cluster::events`]): "keys changed", "models changed" —
//!   published by the instance that made the change, received by the others over pub/sub, so a revoked
//!   key is refused everywhere within a second instead of at the next periodic refresh;
//! - **health**: whether Redis answers. A failed command marks it down at once; while it is down nothing
//!   waits on it (callers fall back or refuse, by [`FailureMode`]); a probe every second marks it up again.
//!
//! Without `GAIA_REDIS_URL` there is no `Cluster` and every instance keeps its own per-minute buckets.
//!
//! Depends on none of our crates; knows nothing of keys, organizations or the database. Errors: [`Unavailable`].

mod bus;
mod rate;
pub mod testing;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::broadcast;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

pub use bus::Event;
pub use rate::{Rate, RateVerdict, gcra_parameters};

/// What an instance does with a limit it cannot check because Redis is unreachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureMode {
    /// Check it against this instance's own buckets (N instances then admit up to N times the rate).
    Open,
    /// Refuse the request (503) until Redis answers again.
    Closed,
}

impl FailureMode {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureMode::Open => "open",
            FailureMode::Closed => "closed",
        }
    }
}

impl std::str::FromStr for FailureMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "open" => Ok(FailureMode::Open),
            "closed" => Ok(FailureMode::Closed),
            other => Err(format!("'{other}' is neither 'open' nor 'closed'")),
        }
    }
}

/// How to reach Redis and what to do without it. `Debug` leaves the URL out: it may hold a password.
#[derive(Clone)]
pub struct ClusterConfig {
    /// `redis://[user:password@]host:port[/db]`, or `rediss://…` for TLS.
    pub url: String,
    /// For `rediss://`: whom to trust and who we are (the system's roots and no client certificate when
    /// empty).
    pub tls: TlsFiles,
    /// Prepended to every key and channel, so several deployments can share one Redis.
    pub prefix: String,
    pub failure: FailureMode,
    /// How long one command may take before Redis counts as down.
    pub timeout: Duration,
}

impl std::fmt::Debug for ClusterConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterConfig")
            .field("tls", &self.tls)
            .field("prefix", &self.prefix)
            .field("failure", &self.failure)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The PEM contents `rediss://` is opened with (read by the caller: this crate opens no file).
#[derive(Clone, Default)]
pub struct TlsFiles {
    /// The certificate authority (or bundle) that issued Redis' certificate. Set, it replaces the system's
    /// roots: a private Redis is trusted through its own authority only.
    pub root_ca: Option<Vec<u8>>,
    /// A client certificate chain and its private key, for a Redis that asks for one
    /// (`tls-auth-clients yes`).
    pub client: Option<ClientCertificate>,
}

/// A client certificate chain and its key (PEM); the key is never printed.
#[derive(Clone)]
pub struct ClientCertificate {
    pub chain: Vec<u8>,
    pub key: Vec<u8>,
}

impl TlsFiles {
    fn is_empty(&self) -> bool {
        self.root_ca.is_none() && self.client.is_none()
    }
}

impl std::fmt::Debug for TlsFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsFiles")
            .field("root_ca", &self.root_ca.is_some())
            .field("client_certificate", &self.client.is_some())
            .finish()
    }
}

impl ClusterConfig {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            tls: TlsFiles::default(),
            prefix: "gaia:".to_owned(),
            failure: FailureMode::Open,
            timeout: Duration::from_millis(250),
        }
    }
}

/// Redis could not answer (down, unreachable, too slow, or it refused the command).
#[derive(Debug, thiserror::Error)]
#[error("redis is unavailable: {0}")]
pub struct Unavailable(pub String);

/// A URL Redis cannot be reached at, whatever is running.
#[derive(Debug, thiserror::Error)]
#[error("GAIA_REDIS_URL: {0}")]
pub struct BadUrl(String);

/// Counters for `/metrics`; they start at zero with the process.
#[derive(Debug, Default)]
struct Counters {
    errors: AtomicU64,
    events_published: AtomicU64,
    events_received: AtomicU64,
    reconnects: AtomicU64,
}

/// A snapshot of the counters and the health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterStats {
    pub up: bool,
    /// Commands that failed or timed out.
    pub errors: u64,
    pub events_published: u64,
    pub events_received: u64,
    /// Times the event subscription was (re)established.
    pub subscriptions: u64,
}

/// The shared state of several instances (one per process).
pub struct Cluster {
    client: redis::Client,
    conn: ConnectionManager,
    prefix: String,
    failure: FailureMode,
    timeout: Duration,
    /// Random per process: an instance ignores the events it published itself.
    instance: String,
    up: AtomicBool,
    counters: Counters,
    events: broadcast::Sender<Event>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the URL: it may hold a password.
        f.debug_struct("Cluster")
            .field("prefix", &self.prefix)
            .field("failure", &self.failure)
            .field("up", &self.is_up())
            .finish()
    }
}

impl Cluster {
    /// Prepares the connection and starts the health probe and the event subscription (call inside a
    /// Tokio runtime). Never waits for Redis: an instance starts while Redis is down, counts it as down,
    /// and uses it once it answers.
    pub fn start(config: ClusterConfig) -> Result<Arc<Self>, BadUrl> {
        let client = client(&config.url, &config.tls)?;
        let manager = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.timeout.max(Duration::from_millis(500))))
            .set_response_timeout(Some(config.timeout))
            // Reconnecting is the probe's job: a command never waits through a series of retries.
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), manager)
            .map_err(|e| BadUrl(e.to_string()))?;
        let (events, _) = broadcast::channel(256);
        let cluster = Arc::new(Self {
            client,
            conn,
            prefix: config.prefix,
            failure: config.failure,
            timeout: config.timeout,
            instance: uuid::Uuid::new_v4().simple().to_string(),
            up: AtomicBool::new(false),
            counters: Counters::default(),
            events,
        });
        tokio::spawn(probe(Arc::downgrade(&cluster)));
        tokio::spawn(bus::subscribe(Arc::downgrade(&cluster)));
        Ok(cluster)
    }

    /// Whether Redis answered the last command or probe.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    pub fn failure_mode(&self) -> FailureMode {
        self.failure
    }

    pub fn stats(&self) -> ClusterStats {
        let c = &self.counters;
        ClusterStats {
            up: self.is_up(),
            errors: c.errors.load(Ordering::Relaxed),
            events_published: c.events_published.load(Ordering::Relaxed),
            events_received: c.events_received.load(Ordering::Relaxed),
            subscriptions: c.reconnects.load(Ordering::Relaxed),
        }
    }

    /// Waits until Redis answers, up to `within` (for start-up logs and tests).
    pub async fn wait_up(&self, within: Duration) -> bool {
        let until = tokio::time::Instant::now() + within;
        while tokio::time::Instant::now() < until {
            if self.is_up() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.is_up()
    }

    fn key(&self, parts: std::fmt::Arguments<'_>) -> String {
        let mut k = String::with_capacity(self.prefix.len() + 48);
        k.push_str(&self.prefix);
        let _ = std::fmt::Write::write_fmt(&mut k, parts);
        k
    }

    /// Runs one command with the timeout; a failure marks Redis down.
    async fn run<T, F>(&self, what: &'static str, f: F) -> Result<T, Unavailable>
    where
        F: std::future::Future<Output = redis::RedisResult<T>>,
    {
        match tokio::time::timeout(self.timeout, f).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.failed(what, e.to_string())),
            Err(_) => Err(self.failed(what, format!("no answer within {:?}", self.timeout))),
        }
    }

    fn failed(&self, what: &'static str, why: String) -> Unavailable {
        self.counters.errors.fetch_add(1, Ordering::Relaxed);
        if self.up.swap(false, Ordering::Relaxed) {
            tracing::warn!(command = what, error = %why, "redis is unavailable; shared limits fall back until it answers");
        }
        Unavailable(why)
    }

    fn connection(&self) -> ConnectionManager {
        self.conn.clone()
    }
}

/// The client for `url`: plain for `redis://`; for `rediss://`, TLS through rustls with the system's roots,
/// or only `tls.root_ca` when given, and `tls.client` when Redis asks for a client certificate.
fn client(url: &str, tls: &TlsFiles) -> Result<redis::Client, BadUrl> {
    let not_a_url = |e: redis::RedisError| BadUrl(format!("not a Redis URL ({:?})", e.kind()));
    if !url.starts_with("rediss://") {
        if !tls.is_empty() {
            return Err(BadUrl(
                "a certificate authority or client certificate needs a rediss:// URL".to_owned(),
            ));
        }
        return redis::Client::open(url).map_err(not_a_url);
    }
    // redis builds its rustls configuration with the process' default crypto provider; the tree has two
    // (aws-lc-rs for reqwest, ring for sqlx), so none is chosen by itself. Ours, unless one is installed.
    let _ = tokio_rustls::rustls::crypto::aws_lc_rs::default_provider().install_default();
    if tls.is_empty() {
        return redis::Client::open(url).map_err(not_a_url);
    }
    // What redis would only find at each connection (a bundle that trusts nobody, a key rustls cannot
    // sign with) stops the start instead.
    if let Some(pem) = &tls.root_ca
        && certificates(pem)?.is_empty()
    {
        return Err(BadUrl(
            "the certificate authority file holds no PEM certificate".to_owned(),
        ));
    }
    if let Some(client) = &tls.client {
        check_client_certificate(client)?;
    }
    let info = redis::IntoConnectionInfo::into_connection_info(url).map_err(not_a_url)?;
    let certificates = redis::TlsCertificates {
        client_tls: tls.client.as_ref().map(|c| redis::ClientTlsConfig {
            client_cert: c.chain.clone(),
            client_key: c.key.clone(),
        }),
        root_cert: tls.root_ca.clone(),
    };
    // The errors left are the certificates' (PEM that does not parse); they quote no secret.
    redis::Client::build_with_tls(info, certificates)
        .map_err(|e| BadUrl(format!("the TLS certificates cannot be used ({e})")))
}

fn certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, BadUrl> {
    CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| BadUrl(format!("a certificate file does not parse as PEM ({e})")))
}

fn check_client_certificate(client: &ClientCertificate) -> Result<(), BadUrl> {
    if certificates(&client.chain)?.is_empty() {
        return Err(BadUrl(
            "the client certificate file holds no PEM certificate".to_owned(),
        ));
    }
    // Not the parser's message: it could quote the key.
    let key = PrivateKeyDer::from_pem_slice(&client.key)
        .map_err(|_| BadUrl("the client key file holds no PEM private key".to_owned()))?;
    tokio_rustls::rustls::crypto::aws_lc_rs::default_provider()
        .key_provider
        .load_private_key(key)
        .map_err(|_| BadUrl("the client key is not a private key TLS can sign with".to_owned()))?;
    Ok(())
}

/// Marks Redis up or down every second (at once when a command fails), so a request never waits on a
/// Redis that is down and the instance recovers by itself.
async fn probe(cluster: std::sync::Weak<Cluster>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(c) = cluster.upgrade() else { return };
        let mut conn = c.connection();
        let answer = c
            .run("PING", async move {
                redis::cmd("PING").query_async::<String>(&mut conn).await
            })
            .await;
        if answer.is_ok() && !c.up.swap(true, Ordering::Relaxed) {
            tracing::info!("redis answers: limits and events are shared between instances");
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tls_tests;
