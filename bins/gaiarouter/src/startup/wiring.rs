//! Wiring: the pieces `Application::build` puts together — providers, the configuration file, the
//! listener, first-start bootstrap, credentials and limits, the shared state — and the background loop.

use super::*;

/// Builds every provider: the four built-in ones from the environment, then the configuration file's.
pub(super) fn build_providers(
    settings: &Settings,
    file: &FileConfig,
) -> Result<Vec<Arc<Provider>>, StartupError> {
    let timeouts = file.timeouts();
    let builtin = |name: &str, kind, p: &crate::configuration::ProviderSettings| {
        let mut config = ProviderConfig::new(
            name,
            kind,
            p.base_url.as_str(),
            p.api_key.as_ref().map(|k| k.expose().to_owned()),
        );
        // The built-in providers take the transport settings of `[upstream]`.
        config.http_version = file.upstream.http_version.unwrap_or_default();
        config.max_connections = file.upstream.max_connections;
        config
    };
    let mut configs = vec![
        builtin("openai", ProviderKind::OpenAi, &settings.openai),
        builtin("anthropic", ProviderKind::Anthropic, &settings.anthropic),
        builtin("google", ProviderKind::Gemini, &settings.gemini),
        builtin("openrouter", ProviderKind::OpenRouter, &settings.openrouter),
    ];
    if let Some(referer) = &settings.openrouter_http_referer {
        configs[3]
            .headers
            .push(("HTTP-Referer".to_owned(), referer.clone()));
    }
    if let Some(title) = &settings.openrouter_x_title {
        configs[3]
            .headers
            .push(("X-Title".to_owned(), title.clone()));
    }
    for extra in file.provider_configs(|var| std::env::var(var).ok()) {
        if configs.iter().any(|c| c.name == extra.name) {
            return Err(StartupError::Config(format!(
                "provider '{}' is declared twice",
                extra.name
            )));
        }
        configs.push(extra);
    }
    configs
        .into_iter()
        .map(|c| Provider::new(c, timeouts).map_err(|e| StartupError::Config(e.message)))
        .collect()
}

/// The `[[channels]]` of the configuration file, each an endpoint of a provider declared before it
/// (built in, or in the file), with its circuit from `health`.
fn file_channels(
    file: &FileConfig,
    providers: &[Arc<Provider>],
    health: &gaia_providers::health::HealthBook,
) -> Result<Vec<Arc<gaia_providers::Channel>>, StartupError> {
    let mut out: Vec<Arc<gaia_providers::Channel>> = Vec::new();
    for c in &file.channels {
        let provider_name = c.provider.to_ascii_lowercase();
        let Some(provider) = providers.iter().find(|p| p.name() == provider_name) else {
            return Err(StartupError::Config(format!(
                "channel '{}': no provider '{}'",
                c.name, c.provider
            )));
        };
        let id = format!("config:{provider_name}:{}", c.name);
        if c.name == "default" || out.iter().any(|o| o.id == id) {
            return Err(StartupError::Config(format!(
                "channel '{}' of provider '{provider_name}' is declared twice ('default' is the provider's own endpoint)",
                c.name
            )));
        }
        let mut config = provider.config().clone();
        config.base_url = c.base_url.clone();
        config.api_key = c
            .api_key
            .clone()
            .or_else(|| c.api_key_env.as_deref().and_then(|v| std::env::var(v).ok()))
            .filter(|k| !k.is_empty());
        config.ca_file = c.ca_file.clone().or(config.ca_file);
        config.api_version = c.api_version.clone().or(config.api_version);
        config.http_version = c.http_version.unwrap_or(config.http_version);
        config.max_connections = c.max_connections.or(config.max_connections);
        let endpoint = Provider::new(config, file.timeouts())
            .map_err(|e| StartupError::Config(format!("channel '{}': {}", c.name, e.message)))?;
        out.push(Arc::new(gaia_providers::Channel {
            circuit: health.circuit(&id),
            id,
            name: c.name.clone(),
            provider: provider_name,
            endpoint,
            weight: c.weight.max(1),
            priority: c.priority,
            models: c.models.clone(),
            model_map: c.model_map.clone().into_iter().collect(),
            source: gaia_providers::ChannelSource::Config,
            sealed_key: None,
        }));
    }
    Ok(out)
}

pub(super) fn read_file_config(settings: &Settings) -> Result<FileConfig, StartupError> {
    let Some(path) = &settings.config_file else {
        return Ok(FileConfig::default());
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        StartupError::Config(format!("GAIA_CONFIG: cannot read {}: {e}", path.display()))
    })?;
    FileConfig::parse(&text)
        .map_err(|e| StartupError::Config(format!("GAIA_CONFIG {}: {}", path.display(), e.message)))
}

/// Binds the listener first: if the port is taken, nothing (such as a generated admin key) is created in
/// vain.
pub(super) fn bind(settings: &Settings) -> Result<TcpListener, StartupError> {
    let listener = TcpListener::bind(settings.bind).map_err(|source| StartupError::Bind {
        addr: settings.bind,
        source,
    })?;
    // std listens with a backlog of 128: a burst of new connections (thousands of clients starting at
    // once) would overflow it and wait for SYN retransmits. Ask for 4,096 (the kernel caps it at
    // net.core.somaxconn); listening again on a listening socket only changes the backlog.
    if let Err(e) = socket2::SockRef::from(&listener).listen(4096) {
        tracing::warn!(error = %e, "could not raise the listen backlog; keeping the default");
    }
    Ok(listener)
}

/// What the first start creates and prints once.
pub(super) struct Bootstrapped {
    pub(super) generated_admin_key: Option<String>,
    pub(super) generated_admin_user: Option<(String, String)>,
}

/// The admin key, the model catalog and file models, the first admin user; and the slow one-time work
/// started on the blocking pool rather than by the first request that needs it (the tokenizer tables of
/// token estimates, the dummy hash unknown usernames are checked against).
pub(super) async fn bootstrap(
    store: &Store,
    settings: &Settings,
    file: &FileConfig,
) -> Result<Bootstrapped, StartupError> {
    let bootstrap = ensure_admin_key(store, settings.admin_key_hash.is_some())
        .await
        .map_err(StartupError::Bootstrap)?;
    let generated_admin_key = match bootstrap {
        AdminKeyBootstrap::Generated(key) => Some(key.full),
        AdminKeyBootstrap::Existing => None,
    };
    let mut seed =
        gaia_providers::catalog::builtin().map_err(|e| StartupError::Config(e.message))?;
    seed.extend(file.models());
    store
        .seed_models(&seed, chrono::Utc::now())
        .await
        .map_err(StartupError::Database)?;
    let generated_admin_user = gaia_orgs::users::ensure_admin_user(
        store,
        settings.admin_username.as_deref(),
        settings.admin_password.as_ref().map(|p| p.expose()),
        chrono::Utc::now(),
    )
    .await
    .map_err(StartupError::Bootstrap)?;
    tokio::task::spawn_blocking(gaia_stats::estimate::warm_up);
    tokio::spawn(async {
        if let Err(e) = gaia_orgs::users::warm_up().await {
            tracing::warn!(error = %e, "could not prepare password hashing ahead");
        }
    });
    Ok(Bootstrapped {
        generated_admin_key,
        generated_admin_user,
    })
}

/// The secret login tokens are signed with: `GAIA_JWT_SECRET`, or a random one for this process.
pub(super) fn jwt_secret(settings: &Settings) -> Vec<u8> {
    match &settings.jwt_secret {
        Some(s) => s.expose().as_bytes().to_vec(),
        None => {
            tracing::warn!(
                "GAIA_JWT_SECRET is unset: login tokens are signed with a random per-process secret (they end at restart and do not work across instances)"
            );
            let mut bytes = vec![0u8; 32];
            rand::Rng::fill(&mut rand::rng(), &mut bytes[..]);
            bytes
        }
    }
}

/// The Redis every instance shares (`GAIA_REDIS_URL`), when set. Start-up waits a moment for it so the
/// first requests already share their limits, but never fails for it: an instance starts while Redis is
/// down and uses it once it answers.
pub(super) async fn cluster(settings: &Settings) -> Result<Option<Arc<Cluster>>, StartupError> {
    let Some(redis) = &settings.redis else {
        return Ok(None);
    };
    let cluster = Cluster::start(ClusterConfig {
        prefix: redis.prefix.clone(),
        failure: redis.failure,
        tls: redis.tls.clone(),
        ..ClusterConfig::new(redis.url.expose())
    })
    .map_err(|e| StartupError::Config(e.to_string()))?;
    if !cluster.wait_up(Duration::from_secs(3)).await {
        tracing::warn!(
            failure = redis.failure.as_str(),
            "redis does not answer yet: per-minute limits are {} until it does",
            match redis.failure {
                gaia_cluster::FailureMode::Open => "checked per instance",
                gaia_cluster::FailureMode::Closed => "refused",
            }
        );
    }
    Ok(Some(cluster))
}

/// The key cache and the limiter, loaded.
pub(super) async fn credentials_and_limits(
    store: &Store,
    settings: &Settings,
    cluster: Option<&Arc<Cluster>>,
) -> Result<(Arc<KeyCache>, Arc<gaia_orgs::limits::Limiter>), StartupError> {
    let admin_key_hash = settings
        .admin_key_hash
        .as_ref()
        .map(|h| h.expose().to_owned());
    let mut keys = KeyCache::new(store.clone(), admin_key_hash).with_tokens(
        gaia_orgs::tokens::TokenSigner::new(&jwt_secret(settings), TOKEN_TTL_SECS),
    );
    let mut limiter =
        gaia_orgs::limits::Limiter::new(store.clone(), settings.default_rate_limit_rpm);
    if let Some(c) = cluster {
        keys = keys.with_cluster(c.clone());
        limiter = limiter.with_cluster(c.clone());
    }
    let (keys, limiter) = (Arc::new(keys), Arc::new(limiter));
    limiter
        .refresh(chrono::Utc::now())
        .await
        .map_err(StartupError::Bootstrap)?;
    keys.refresh().await.map_err(StartupError::Bootstrap)?;
    Ok((keys, limiter))
}

/// Everything handlers share: the store, the caches, the usage sink, the registry and the pipeline over
/// them, with the registry snapshot loaded.
pub(super) async fn build_state(
    settings: Settings,
    store: Store,
    file: &FileConfig,
    providers: Vec<Arc<gaia_providers::Provider>>,
) -> Result<AppState, StartupError> {
    let cluster = cluster(&settings).await?;
    let (keys, limiter) = credentials_and_limits(&store, &settings, cluster.as_ref()).await?;
    let retry = RetryPolicy {
        max_retries: file
            .upstream
            .max_retries
            .unwrap_or(RetryPolicy::default().max_retries),
        ..RetryPolicy::default()
    };
    let usage = gaia_stats::UsageSink::start(
        store.clone(),
        gaia_stats::SinkConfig::default(),
        Some(Arc::new(LimitsObserver(limiter.clone())) as Arc<dyn gaia_stats::UsageObserver>),
    );
    let keepalive = Duration::from_secs(settings.sse_keepalive_secs);
    let registry = Arc::new(ArcSwap::from_pointee(Registry::default()));
    let pipeline = gaia_gateway::Pipeline::new(
        registry.clone(),
        limiter.clone(),
        usage.clone(),
        retry,
        keepalive,
    );
    let providers = Arc::new(providers);
    let file_aliases: Arc<Vec<(String, Vec<String>)>> = Arc::new(
        file.aliases
            .iter()
            .map(|a| (a.name.clone(), a.targets.clone()))
            .collect(),
    );
    let mut models = gaia_gateway::models::Models::new(
        store.clone(),
        registry.clone(),
        providers.clone(),
        file_aliases.clone(),
    );
    if let Some(c) = &cluster {
        models = models.with_cluster(c.clone());
    }
    let (reports, health_reports) = tokio::sync::mpsc::unbounded_channel();
    let health = Arc::new(gaia_providers::health::HealthBook::new(
        file.circuit()
            .map_err(|e| StartupError::Config(e.message))?,
        Some(reports),
    ));
    let config_channels = file_channels(file, &providers, &health)?;
    models = models
        .with_channels(health, config_channels)
        .with_stored_channels(settings.sealer.clone(), file.timeouts());
    if let Err(e) = models.reseal_channels().await {
        tracing::warn!(error = %e.message, "sealing channel credentials again with the current GAIA_SECRET_KEY failed; retried at the next start");
    }
    let state = AppState {
        usage,
        stats: Arc::new(gaia_stats::StatsService::new(store.clone())),
        conversations: gaia_gateway::conversations::Conversations::new(store.clone()),
        store,
        settings: Arc::new(settings),
        keys,
        limiter,
        login_guard: Arc::new(gaia_orgs::users::LoginGuard::default()),
        registry,
        retry,
        keepalive,
        file_aliases,
        providers,
        overhead: Arc::default(),
        pipeline,
        models,
        cluster,
    };
    state
        .reload_registry()
        .await
        .map_err(StartupError::Bootstrap)?;
    tokio::spawn(channel_health(state.clone(), health_reports));
    Ok(state)
}

/// Acts on what circuits report: a refused credential disables the stored channel for every instance (in
/// the database); an opened circuit is announced so the other instances route around the channel too.
async fn channel_health(
    state: AppState,
    mut reports: tokio::sync::mpsc::UnboundedReceiver<gaia_providers::health::HealthReport>,
) {
    use gaia_providers::health::HealthReport;
    while let Some(report) = reports.recv().await {
        match report {
            HealthReport::Disabled {
                channel,
                reason,
                sealed_key,
            } => {
                if channel.starts_with("config:") {
                    continue;
                }
                if let Err(e) = state
                    .models
                    .channel_refused(&channel, &reason, sealed_key.as_deref())
                    .await
                {
                    tracing::warn!(channel = %channel, error = %e.message, "could not record that a channel was disabled; it stays disabled on this instance");
                }
            }
            HealthReport::Opened { channel, cooldown } => {
                if let Some(cluster) = &state.cluster {
                    let event = gaia_cluster::Event::ChannelOpened {
                        channel,
                        cooldown_ms: u64::try_from(cooldown.as_millis()).unwrap_or(u64::MAX),
                    };
                    if let Err(e) = cluster.publish(event).await {
                        tracing::debug!(error = %e, "could not announce an opened circuit");
                    }
                }
            }
        }
    }
}

/// Tells the limiter which served requests have reached the rollup (so they are not counted twice).
pub(super) struct LimitsObserver(Arc<gaia_orgs::limits::Limiter>);

impl gaia_stats::UsageObserver for LimitsObserver {
    fn observed(&self, batch: &[gaia_store::usage::NewUsageRecord]) {
        for r in batch {
            if let (Some(key_id), Some(organization_id)) = (&r.api_key_id, &r.organization_id) {
                let admission = gaia_orgs::limits::Admission {
                    key_id: key_id.clone().into(),
                    organization_id: organization_id.clone().into(),
                };
                self.0.confirm_usage(
                    &admission,
                    i64::try_from(r.total_tokens).unwrap_or(i64::MAX),
                    r.cost_nanos,
                    r.created_at,
                );
            }
        }
    }
}

/// Reloads the key cache and the registry snapshot periodically.
pub(super) async fn refresh_loop(state: AppState) {
    let mut tick = tokio::time::interval(REFRESH_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        if let Err(e) = state.keys.refresh().await {
            tracing::warn!(error = %e.message, "refreshing API keys failed; keeping the previous ones");
        }
        if let Err(e) = state.keys.flush_last_used().await {
            tracing::warn!(error = %e.message, "recording key last-use times failed; will retry");
        }
        if let Err(e) = state.limiter.refresh(chrono::Utc::now()).await {
            tracing::warn!(error = %e.message, "refreshing month-to-date usage failed; keeping the previous totals");
        }
        if let Err(e) = state.reload_registry().await {
            tracing::warn!(error = %e.message, "refreshing the model registry failed; keeping the previous one");
        }
    }
}

/// Applies the changes other instances announce (through Redis) as they arrive: a revoked key or a new
/// limit within a second instead of at the next periodic refresh. After a (re)subscription, or when
/// events were lost to a slow reader, everything is reloaded.
pub(super) async fn cluster_events(
    state: AppState,
    mut events: tokio::sync::broadcast::Receiver<gaia_cluster::Event>,
) {
    use gaia_cluster::Event;
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let (keys, models) = match events.recv().await {
            Ok(Event::Keys) => (true, false),
            Ok(Event::Models | Event::Channels) => (false, true),
            Ok(Event::ChannelOpened {
                channel,
                cooldown_ms,
            }) => {
                state
                    .models
                    .channel_opened_elsewhere(&channel, Duration::from_millis(cooldown_ms));
                (false, false)
            }
            Ok(Event::Resync) | Err(RecvError::Lagged(_)) => (true, true),
            Err(RecvError::Closed) => return,
        };
        if keys && let Err(e) = state.keys.refresh().await {
            tracing::warn!(error = %e.message, "reloading API keys after a change elsewhere failed; the periodic refresh will retry");
        }
        if models && let Err(e) = state.reload_registry().await {
            tracing::warn!(error = %e.message, "reloading the model registry after a change elsewhere failed; the periodic refresh will retry");
        }
    }
}
