//! Typed, validated configuration from environment variables (a `.env` file is read first if present) and
//! command-line flags. Every value is checked at start-up; a bad one stops the process with one line naming
//! the variable. Secrets are wrapped in [`Secret`] so `Debug` cannot print them.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// A value that must never reach logs or responses.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself. Call only where it is used (a header, a connection string).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

const DEFAULT_DATABASE_URL: &str = "sqlite://gaiarouter.db?mode=rwc";

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// GaiaRouter: one OpenAI-compatible API in front of OpenAI, Anthropic, Google Gemini and OpenRouter.
///
/// Every option can also be set by the environment variable shown in brackets (a `.env` file in the
/// working directory is read first). See env.example for the full list.
#[derive(Debug, Parser)]
#[command(name = "gaiarouter", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Address to listen on (host:port).
    #[arg(
        long,
        env = "GAIA_BIND",
        default_value = "127.0.0.1:8000",
        global = true
    )]
    pub bind: String,

    /// Database URL: sqlite://file.db?mode=rwc, postgres://user:pass@host/db or mysql://user:pass@host/db.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://gaiarouter.db?mode=rwc",
        hide_env_values = true,
        global = true
    )]
    pub database_url: String,

    /// Bootstrap key with admin permission (optional; if unset, one is generated at first start).
    #[arg(long, env = "GAIA_ADMIN_KEY", hide_env_values = true, global = true)]
    pub admin_key: Option<String>,

    /// Secret that signs login tokens (JWT). Set it when running several instances.
    #[arg(long, env = "GAIA_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<String>,

    /// Username of the first admin user (created at first start when there are no users).
    #[arg(long, env = "GAIA_ADMIN_USERNAME", global = true)]
    pub admin_username: Option<String>,

    /// Password of the first admin user (if unset, one is generated and printed once).
    #[arg(
        long,
        env = "GAIA_ADMIN_PASSWORD",
        hide_env_values = true,
        global = true
    )]
    pub admin_password: Option<String>,

    /// Default requests-per-minute limit for keys without their own (unset: no default limit).
    #[arg(long, env = "GAIA_DEFAULT_RATE_LIMIT_RPM", global = true)]
    pub default_rate_limit_rpm: Option<String>,

    /// Log format: json or pretty.
    #[arg(long, env = "GAIA_LOG_FORMAT", default_value = "pretty", global = true)]
    pub log_format: String,

    /// Largest accepted request body, in bytes (larger bodies get 413).
    #[arg(
        long,
        env = "GAIA_MAX_BODY_BYTES",
        default_value = "20971520",
        global = true
    )]
    pub max_body_bytes: String,

    /// Seconds to let in-flight requests finish on SIGTERM/SIGINT.
    #[arg(
        long,
        env = "GAIA_SHUTDOWN_TIMEOUT",
        default_value = "30",
        global = true
    )]
    pub shutdown_timeout: String,

    /// Seconds between SSE keep-alive comments while a provider is silent mid-stream.
    #[arg(long, env = "GAIA_SSE_KEEPALIVE", default_value = "15", global = true)]
    pub sse_keepalive: String,

    /// Days raw usage records are kept (daily rollups are kept forever); 0 keeps them forever.
    #[arg(
        long,
        env = "GAIA_USAGE_RETENTION_DAYS",
        default_value = "90",
        global = true
    )]
    pub usage_retention_days: String,

    /// Origins allowed to call the API from a browser (CORS), comma-separated, or `*`. Unset: none
    /// (the admin UI is served from the same origin and needs no CORS).
    #[arg(long, env = "GAIA_CORS_ORIGINS", global = true)]
    pub cors_origins: Option<String>,

    /// Reverse proxies whose X-Forwarded-For is believed (comma-separated CIDRs or addresses): the sign-in
    /// throttle and the log then see the client behind them. Unset: the connecting peer is the client.
    #[arg(long, env = "GAIA_TRUSTED_PROXIES", global = true)]
    pub trusted_proxies: Option<String>,

    /// HTTP worker threads (default: one per CPU core).
    #[arg(long, env = "GAIA_WORKERS", global = true)]
    pub workers: Option<String>,

    /// Directory of the built admin UI (served at /). Default: frontend/dist when it exists.
    #[arg(long, env = "GAIA_STATIC_DIR", global = true)]
    pub static_dir: Option<String>,

    /// Optional TOML file declaring extra OpenAI-compatible providers, aliases and limits.
    #[arg(long, env = "GAIA_CONFIG", global = true)]
    pub config: Option<String>,

    #[command(flatten)]
    pub providers: ProviderArgs,
}

/// Provider credentials and base URLs.
#[derive(Debug, clap::Args)]
pub struct ProviderArgs {
    #[arg(long, env = "OPENAI_API_KEY", hide_env_values = true, global = true)]
    pub openai_api_key: Option<String>,
    #[arg(
        long,
        env = "OPENAI_BASE_URL",
        default_value = "https://api.openai.com/v1",
        global = true
    )]
    pub openai_base_url: String,
    #[arg(long, env = "ANTHROPIC_API_KEY", hide_env_values = true, global = true)]
    pub anthropic_api_key: Option<String>,
    #[arg(
        long,
        env = "ANTHROPIC_BASE_URL",
        default_value = "https://api.anthropic.com",
        global = true
    )]
    pub anthropic_base_url: String,
    #[arg(long, env = "GEMINI_API_KEY", hide_env_values = true, global = true)]
    pub gemini_api_key: Option<String>,
    /// Used when GEMINI_API_KEY is unset.
    #[arg(long, env = "GOOGLE_API_KEY", hide_env_values = true, global = true)]
    pub google_api_key: Option<String>,
    #[arg(
        long,
        env = "GEMINI_BASE_URL",
        default_value = "https://generativelanguage.googleapis.com",
        global = true
    )]
    pub gemini_base_url: String,
    #[arg(
        long,
        env = "OPENROUTER_API_KEY",
        hide_env_values = true,
        global = true
    )]
    pub openrouter_api_key: Option<String>,
    #[arg(
        long,
        env = "OPENROUTER_BASE_URL",
        default_value = "https://openrouter.ai/api/v1",
        global = true
    )]
    pub openrouter_base_url: String,
    /// Sent to OpenRouter as HTTP-Referer (app attribution).
    #[arg(long, env = "OPENROUTER_HTTP_REFERER", global = true)]
    pub openrouter_http_referer: Option<String>,
    /// Sent to OpenRouter as X-Title (app attribution).
    #[arg(long, env = "OPENROUTER_X_TITLE", global = true)]
    pub openrouter_x_title: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Migrate the database and serve the API (the default).
    Serve,
    /// Apply database migrations, then exit.
    Migrate,
}

/// A configured upstream provider endpoint.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    pub api_key: Option<Secret>,
    pub base_url: url::Url,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: SocketAddr,
    pub database_url: Secret,
    /// The SHA-256 (hex) of `GAIA_ADMIN_KEY`: the key itself is hashed as it is read and not kept.
    pub admin_key_hash: Option<Secret>,
    pub jwt_secret: Option<Secret>,
    pub admin_username: Option<String>,
    pub admin_password: Option<Secret>,
    pub default_rate_limit_rpm: Option<u32>,
    pub log_format: LogFormat,
    pub max_body_bytes: usize,
    pub shutdown_timeout_secs: u64,
    pub sse_keepalive_secs: u64,
    pub usage_retention_days: u32,
    /// Allowed CORS origins; empty = CORS closed; `["*"]` = any origin.
    pub cors_origins: Vec<String>,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: crate::client_addr::TrustedProxies,
    pub workers: Option<usize>,
    pub static_dir: Option<PathBuf>,
    pub config_file: Option<PathBuf>,
    pub openai: ProviderSettings,
    pub anthropic: ProviderSettings,
    pub gemini: ProviderSettings,
    pub openrouter: ProviderSettings,
    pub openrouter_http_referer: Option<String>,
    pub openrouter_x_title: Option<String>,
}

/// A configuration value that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

fn err(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        message: message.into(),
    }
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// An empty variable (`GAIA_BIND=`) means "use the default", as if it were unset.
fn or_default(value: &str, default: &str) -> String {
    let v = value.trim();
    if v.is_empty() {
        default.to_owned()
    } else {
        v.to_owned()
    }
}

fn parse_base_url(
    variable: &'static str,
    raw: &str,
    default: &str,
) -> Result<url::Url, ConfigError> {
    let raw = &or_default(raw, default);
    let url = url::Url::parse(raw.trim())
        .map_err(|e| err(variable, format!("'{raw}' is not a valid URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(err(
            variable,
            format!("'{raw}' must be an http:// or https:// URL"),
        ));
    }
    Ok(url)
}

fn parse_number<T: std::str::FromStr>(
    variable: &'static str,
    raw: &str,
    what: &str,
) -> Result<T, ConfigError> {
    raw.trim()
        .parse()
        .map_err(|_| err(variable, format!("'{raw}' is not {what}")))
}

impl Settings {
    /// Reads `.env` (if any), the environment and the command line. Help and version requests print and
    /// exit here, as clap does.
    pub fn from_env_and_args() -> Result<(Command, Self), ConfigError> {
        // A missing .env is normal; a malformed one is reported.
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(e) if e.not_found() => {}
            Err(e) => return Err(err(".env", e.to_string())),
        }
        let cli = Cli::parse();
        let command = cli.command.unwrap_or(Command::Serve);
        Ok((command, Self::from_cli(cli)?))
    }

    /// Validates parsed arguments.
    pub fn from_cli(mut cli: Cli) -> Result<Self, ConfigError> {
        let server = ServerParts::read(&mut cli)?;
        let access = AccessParts::read(&mut cli)?;
        let usage_retention_days: u32 = parse_number(
            "GAIA_USAGE_RETENTION_DAYS",
            &or_default(&cli.usage_retention_days, "90"),
            "a number of days",
        )?;
        let default_rate_limit_rpm = positive(
            "GAIA_DEFAULT_RATE_LIMIT_RPM",
            non_empty(cli.default_rate_limit_rpm.take()),
            "must be at least 1 (unset it to disable)",
        )?;
        let [openai, anthropic, gemini, openrouter] = provider_settings(&mut cli.providers)?;
        Ok(Self {
            bind: server.bind,
            database_url: server.database_url,
            admin_key_hash: access.admin_key_hash,
            jwt_secret: access.jwt_secret,
            admin_username: non_empty(cli.admin_username),
            admin_password: access.admin_password,
            default_rate_limit_rpm,
            log_format: server.log_format,
            max_body_bytes: server.max_body_bytes,
            shutdown_timeout_secs: server.shutdown_timeout_secs,
            sse_keepalive_secs: server.sse_keepalive_secs,
            usage_retention_days,
            cors_origins: access.cors_origins,
            trusted_proxies: access.trusted_proxies,
            workers: server.workers,
            static_dir: non_empty(cli.static_dir).map(PathBuf::from),
            config_file: non_empty(cli.config).map(PathBuf::from),
            openai,
            anthropic,
            gemini,
            openrouter,
            openrouter_http_referer: non_empty(cli.providers.openrouter_http_referer),
            openrouter_x_title: non_empty(cli.providers.openrouter_x_title),
        })
    }

    /// Settings for tests and embedding: defaults, an explicit database, port 0 on loopback.
    pub fn for_tests(database_url: &str) -> Result<Self, ConfigError> {
        let cli = Cli::try_parse_from([
            "gaiarouter",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            database_url,
        ])
        .map_err(|e| err("arguments", e.to_string()))?;
        Self::from_cli(cli)
    }
}

/// A positive number, or `None` when unset; 0 is refused with `zero`.
fn positive<T: std::str::FromStr + PartialEq + Default>(
    variable: &'static str,
    raw: Option<String>,
    zero: &str,
) -> Result<Option<T>, ConfigError> {
    match raw {
        None => Ok(None),
        Some(raw) => {
            let n: T = parse_number(variable, &raw, "a positive number")?;
            if n == T::default() {
                return Err(err(variable, zero));
            }
            Ok(Some(n))
        }
    }
}

/// How the server listens, logs and stops.
struct ServerParts {
    bind: SocketAddr,
    database_url: Secret,
    log_format: LogFormat,
    max_body_bytes: usize,
    shutdown_timeout_secs: u64,
    sse_keepalive_secs: u64,
    workers: Option<usize>,
}

impl ServerParts {
    fn read(cli: &mut Cli) -> Result<Self, ConfigError> {
        let bind_raw = or_default(&cli.bind, "127.0.0.1:8000");
        let bind: SocketAddr = bind_raw.parse().map_err(|_| {
            err(
                "GAIA_BIND",
                format!(
                    "'{bind_raw}' is not a socket address (expected host:port, e.g. 127.0.0.1:8000)"
                ),
            )
        })?;
        let database_url = or_default(&cli.database_url, DEFAULT_DATABASE_URL);
        if gaia_store::Backend::from_url(&database_url).is_none() {
            // Never echo the URL: it may contain a password.
            return Err(err(
                "DATABASE_URL",
                "must start with sqlite:, postgres:// or mysql://",
            ));
        }
        let log_format = match or_default(&cli.log_format, "pretty")
            .to_ascii_lowercase()
            .as_str()
        {
            "json" => LogFormat::Json,
            "pretty" | "text" => LogFormat::Pretty,
            other => {
                return Err(err(
                    "GAIA_LOG_FORMAT",
                    format!("'{other}' is not json or pretty"),
                ));
            }
        };
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
            database_url: Secret::new(database_url),
            log_format,
            max_body_bytes,
            shutdown_timeout_secs,
            sse_keepalive_secs,
            workers,
        })
    }
}

/// Who may call, and from where.
struct AccessParts {
    admin_key_hash: Option<Secret>,
    jwt_secret: Option<Secret>,
    admin_password: Option<Secret>,
    cors_origins: Vec<String>,
    trusted_proxies: crate::client_addr::TrustedProxies,
}

impl AccessParts {
    fn read(cli: &mut Cli) -> Result<Self, ConfigError> {
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
fn provider_settings(p: &mut ProviderArgs) -> Result<[ProviderSettings; 4], ConfigError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Settings, ConfigError> {
        let mut all = vec!["gaiarouter"];
        all.extend_from_slice(args);
        Settings::from_cli(Cli::try_parse_from(all).unwrap())
    }

    #[test]
    fn a_bad_bind_address_names_gaia_bind() {
        let e = parse(&["--bind", "localhost"]).unwrap_err();
        assert_eq!(e.variable, "GAIA_BIND");
    }

    #[test]
    fn a_bad_base_url_names_its_variable() {
        let e = parse(&["--anthropic-base-url", "not a url"]).unwrap_err();
        assert_eq!(e.variable, "ANTHROPIC_BASE_URL");
        let e = parse(&["--openai-base-url", "ftp://x"]).unwrap_err();
        assert_eq!(e.variable, "OPENAI_BASE_URL");
    }

    #[test]
    fn database_url_errors_never_echo_the_url() {
        let e = parse(&["--database-url", "oracle://u:hunter2@h/db"]).unwrap_err();
        assert_eq!(e.variable, "DATABASE_URL");
        assert!(!e.to_string().contains("hunter2"));
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let s = parse(&["--admin-key", "super-secret-admin-key-123"]).unwrap();
        assert!(!format!("{s:?}").contains("super-secret-admin-key-123"));
    }

    /// The README promises `GAIA_ADMIN_KEY` is kept as a hash only; the settings once held the key itself
    /// for the life of the process.
    #[test]
    fn the_admin_key_is_kept_as_its_hash_only() {
        let key = "super-secret-admin-key-123";
        let s = parse(&["--admin-key", key]).unwrap();
        let hash = s.admin_key_hash.as_ref().map(Secret::expose);
        assert_eq!(hash, Some(gaia_orgs::keys::hash_secret(key).as_str()));
        // No secret the settings hold is the key.
        let held = [
            Some(&s.database_url),
            s.admin_key_hash.as_ref(),
            s.jwt_secret.as_ref(),
            s.admin_password.as_ref(),
        ];
        assert!(
            held.into_iter()
                .flatten()
                .all(|h| !h.expose().contains(key))
        );
    }

    #[test]
    fn trusted_proxies_are_cidrs_or_addresses() {
        let s = parse(&["--trusted-proxies", "10.0.0.0/8, ::1"]).unwrap();
        assert!(!s.trusted_proxies.is_empty());
        let e = parse(&["--trusted-proxies", "10.0.0.0/33"]).unwrap_err();
        assert_eq!(e.variable, "GAIA_TRUSTED_PROXIES");
    }

    #[test]
    fn empty_values_mean_the_default() {
        let s = parse(&[
            "--bind",
            "",
            "--database-url",
            " ",
            "--openai-base-url",
            "",
            "--static-dir",
            "",
        ])
        .unwrap();
        assert_eq!(s.bind.to_string(), "127.0.0.1:8000");
        assert_eq!(s.database_url.expose(), "sqlite://gaiarouter.db?mode=rwc");
        assert_eq!(s.openai.base_url.as_str(), "https://api.openai.com/v1");
        assert_eq!(s.static_dir, None);
    }

    #[test]
    fn defaults_match_the_documented_values() {
        let s = parse(&[]).unwrap();
        assert_eq!(s.bind.to_string(), "127.0.0.1:8000");
        assert_eq!(s.database_url.expose(), "sqlite://gaiarouter.db?mode=rwc");
        assert_eq!(s.anthropic.base_url.as_str(), "https://api.anthropic.com/");
        assert_eq!(s.log_format, LogFormat::Pretty);
    }
}
