//! Settings read by concern — server, access, providers — each with its own checks.

use std::net::SocketAddr;

use super::*;

/// How the server listens, logs and stops.
pub(super) struct ServerParts {
    pub(super) bind: SocketAddr,
    pub(super) database_url: Secret,
    pub(super) log_format: LogFormat,
    pub(super) max_body_bytes: usize,
    pub(super) shutdown_timeout_secs: u64,
    pub(super) sse_keepalive_secs: u64,
    pub(super) workers: Option<usize>,
}

impl ServerParts {
    pub(super) fn read(cli: &mut Cli) -> Result<Self, ConfigError> {
        let bind = bind_address(&cli.bind)?;
        let database_url = database_url(&cli.database_url)?;
        let log_format = log_format(&cli.log_format)?;
        let max_body_bytes: usize = parse_number(
            "GAIA_MAX_BODY_BYTES",
            &or_default(&cli.max_body_bytes, "20971520"),
            "a number of bytes",
        )?;
        if max_body_bytes < 1024 {
            return Err(err("GAIA_MAX_BODY_BYTES", "must be at least 1024"));
        }
        let shutdown_timeout_secs = parse_number(
            "GAIA_SHUTDOWN_TIMEOUT",
            &or_default(&cli.shutdown_timeout, "30"),
            "a number of seconds",
        )?;
        let sse_keepalive_secs: u64 = parse_number(
            "GAIA_SSE_KEEPALIVE",
            &or_default(&cli.sse_keepalive, "15"),
            "a number of seconds",
        )?;
        if sse_keepalive_secs == 0 {
            return Err(err("GAIA_SSE_KEEPALIVE", "must be at least 1"));
        }
        let workers = positive(
            "GAIA_WORKERS",
            non_empty(cli.workers.take()),
            "must be at least 1",
        )?;
        Ok(Self {
            bind,
            database_url,
            log_format,
            max_body_bytes,
            shutdown_timeout_secs,
            sse_keepalive_secs,
            workers,
        })
    }
}

fn bind_address(raw: &str) -> Result<SocketAddr, ConfigError> {
    let bind_raw = or_default(raw, "127.0.0.1:8000");
    bind_raw.parse().map_err(|_| {
        err(
            "GAIA_BIND",
            format!(
                "'{bind_raw}' is not a socket address (expected host:port, e.g. 127.0.0.1:8000)"
            ),
        )
    })
}

fn database_url(raw: &str) -> Result<Secret, ConfigError> {
    let url = or_default(raw, DEFAULT_DATABASE_URL);
    if gaia_store::Backend::from_url(&url).is_none() {
        // Never echo the URL: it may contain a password.
        return Err(err(
            "DATABASE_URL",
            "must start with sqlite:, postgres:// or mysql://",
        ));
    }
    Ok(Secret::new(url))
}

fn log_format(raw: &str) -> Result<LogFormat, ConfigError> {
    match or_default(raw, "pretty").to_ascii_lowercase().as_str() {
        "json" => Ok(LogFormat::Json),
        "pretty" | "text" => Ok(LogFormat::Pretty),
        other => Err(err(
            "GAIA_LOG_FORMAT",
            format!("'{other}' is not json or pretty"),
        )),
    }
}

/// Who may call, and from where.
pub(super) struct AccessParts {
    pub(super) admin_key_hash: Option<Secret>,
    pub(super) jwt_secret: Option<Secret>,
    pub(super) admin_password: Option<Secret>,
    pub(super) cors_origins: Vec<String>,
    pub(super) trusted_proxies: crate::client_addr::TrustedProxies,
}

impl AccessParts {
    pub(super) fn read(cli: &mut Cli) -> Result<Self, ConfigError> {
        let admin_key = non_empty(cli.admin_key.take());
        if admin_key.as_ref().is_some_and(|k| k.len() < 16) {
            return Err(err("GAIA_ADMIN_KEY", "must be at least 16 characters"));
        }
        let jwt_secret = non_empty(cli.jwt_secret.take());
        if jwt_secret.as_ref().is_some_and(|s| s.len() < 32) {
            return Err(err("GAIA_JWT_SECRET", "must be at least 32 characters"));
        }
        let admin_password = non_empty(cli.admin_password.take());
        if admin_password
            .as_ref()
            .is_some_and(|pw| pw.chars().count() < 8)
        {
            return Err(err("GAIA_ADMIN_PASSWORD", "must be at least 8 characters"));
        }
        let cors_origins: Vec<String> = non_empty(cli.cors_origins.take())
            .map(|s| {
                s.split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_owned())
                    .filter(|o| !o.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        for origin in &cors_origins {
            let ok = origin == "*"
                || url::Url::parse(origin)
                    .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if !ok {
                return Err(err(
                    "GAIA_CORS_ORIGINS",
                    format!("'{origin}' is not an origin like https://app.example.com (or *)"),
                ));
            }
        }
        let trusted_proxies = match non_empty(cli.trusted_proxies.take()) {
            Some(list) => crate::client_addr::TrustedProxies::parse(&list)
                .map_err(|e| err("GAIA_TRUSTED_PROXIES", e))?,
            None => crate::client_addr::TrustedProxies::default(),
        };
        Ok(Self {
            // Hashed as it is read: the key itself is not kept.
            admin_key_hash: admin_key
                .as_deref()
                .map(gaia_orgs::keys::hash_secret)
                .map(Secret::new),
            jwt_secret: jwt_secret.map(Secret::new),
            admin_password: admin_password.map(Secret::new),
            cors_origins,
            trusted_proxies,
        })
    }
}

/// The four built-in providers' keys and base URLs: OpenAI, Anthropic, Gemini, OpenRouter.
pub(super) fn provider_settings(
    p: &mut ProviderArgs,
) -> Result<[ProviderSettings; 4], ConfigError> {
    let provider = |key: Option<String>,
                    var: &'static str,
                    raw: &str,
                    default: &str|
     -> Result<ProviderSettings, ConfigError> {
        Ok(ProviderSettings {
            api_key: non_empty(key).map(Secret::new),
            base_url: parse_base_url(var, raw, default)?,
        })
    };
    Ok([
        provider(
            p.openai_api_key.take(),
            "OPENAI_BASE_URL",
            &p.openai_base_url,
            "https://api.openai.com/v1",
        )?,
        provider(
            p.anthropic_api_key.take(),
            "ANTHROPIC_BASE_URL",
            &p.anthropic_base_url,
            "https://api.anthropic.com",
        )?,
        provider(
            non_empty(p.gemini_api_key.take()).or(non_empty(p.google_api_key.take())),
            "GEMINI_BASE_URL",
            &p.gemini_base_url,
            "https://generativelanguage.googleapis.com",
        )?,
        provider(
            p.openrouter_api_key.take(),
            "OPENROUTER_BASE_URL",
            &p.openrouter_base_url,
            "https://openrouter.ai/api/v1",
        )?,
    ])
}
