//! Typed, validated configuration from environment variables (a `.env` file is read first if present) and
//! command-line flags. Every value is checked at start-up; a bad one stops the process with one line naming
//! the variable. Secrets are wrapped in [`Secret`] so `Debug` cannot print them.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

mod cli;
mod parts;

pub use cli::{Cli, Command, LogFormat, ProviderArgs};
use parts::{AccessParts, ServerParts, provider_settings};

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
    /// Seals and opens stored channel credentials (`GAIA_SECRET_KEY`, `GAIA_SECRET_KEY_PREVIOUS`).
    pub sealer: Option<std::sync::Arc<gaia_gateway::channels::sealed::Sealer>>,
    /// `GAIA_REDIS_URL` and what to do without it (`GAIA_REDIS_FAILURE`, `GAIA_REDIS_PREFIX`).
    pub redis: Option<RedisSettings>,
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

/// The Redis every instance shares.
#[derive(Debug, Clone)]
pub struct RedisSettings {
    pub url: Secret,
    pub failure: gaia_cluster::FailureMode,
    pub prefix: String,
    /// For `rediss://`: `GAIA_REDIS_CA_FILE`, `GAIA_REDIS_CLIENT_CERT_FILE` and `GAIA_REDIS_CLIENT_KEY_FILE`,
    /// read at start-up (`Debug` says only which are set).
    pub tls: gaia_cluster::TlsFiles,
}

impl RedisSettings {
    fn read(cli: &mut Cli) -> Result<Option<Self>, ConfigError> {
        let failure = or_default(&cli.redis_failure, "open")
            .parse()
            .map_err(|e| err("GAIA_REDIS_FAILURE", e))?;
        let Some(url) = non_empty(cli.redis_url.take()) else {
            return Ok(None);
        };
        let tls = !url.starts_with("redis://");
        if tls && !url.starts_with("rediss://") {
            // Not echoed: it may hold a password.
            return Err(err(
                "GAIA_REDIS_URL",
                "must be a redis:// or rediss:// (TLS) URL",
            ));
        }
        let files = Self::tls_files(cli)?;
        if !tls && (files.root_ca.is_some() || files.client.is_some()) {
            return Err(err(
                "GAIA_REDIS_URL",
                "GAIA_REDIS_CA_FILE and GAIA_REDIS_CLIENT_CERT_FILE are for TLS: use a rediss:// URL",
            ));
        }
        Ok(Some(Self {
            url: Secret::new(url),
            failure,
            prefix: or_default(&cli.redis_prefix, "gaia:"),
            tls: files,
        }))
    }

    fn tls_files(cli: &mut Cli) -> Result<gaia_cluster::TlsFiles, ConfigError> {
        let read = |variable: &'static str, path: Option<String>| -> Result<_, ConfigError> {
            non_empty(path)
                .map(|p| {
                    std::fs::read(&p).map_err(|e| err(variable, format!("cannot read {p}: {e}")))
                })
                .transpose()
        };
        let root_ca = read("GAIA_REDIS_CA_FILE", cli.redis_ca_file.take())?;
        let chain = read(
            "GAIA_REDIS_CLIENT_CERT_FILE",
            cli.redis_client_cert_file.take(),
        )?;
        let key = read(
            "GAIA_REDIS_CLIENT_KEY_FILE",
            cli.redis_client_key_file.take(),
        )?;
        let client = match (chain, key) {
            (Some(chain), Some(key)) => Some(gaia_cluster::ClientCertificate { chain, key }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(err(
                    "GAIA_REDIS_CLIENT_KEY_FILE",
                    "must be set with GAIA_REDIS_CLIENT_CERT_FILE",
                ));
            }
            (None, Some(_)) => {
                return Err(err(
                    "GAIA_REDIS_CLIENT_CERT_FILE",
                    "must be set with GAIA_REDIS_CLIENT_KEY_FILE",
                ));
            }
        };
        Ok(gaia_cluster::TlsFiles { root_ca, client })
    }
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
        let redis = RedisSettings::read(&mut cli)?;
        let sealer = sealer(cli.secret_key.take(), cli.secret_key_previous.take())?;
        let [openai, anthropic, gemini, openrouter] = provider_settings(&mut cli.providers)?;
        Ok(Self {
            bind: server.bind,
            database_url: server.database_url,
            admin_key_hash: access.admin_key_hash,
            jwt_secret: access.jwt_secret,
            admin_username: non_empty(cli.admin_username),
            admin_password: access.admin_password,
            default_rate_limit_rpm,
            sealer,
            redis,
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

/// The sealer of channel credentials, when `GAIA_SECRET_KEY` is set; a previous key without a current one
/// is refused (nothing could be sealed again).
fn sealer(
    current: Option<String>,
    previous: Option<String>,
) -> Result<Option<std::sync::Arc<gaia_gateway::channels::sealed::Sealer>>, ConfigError> {
    let previous = non_empty(previous);
    let Some(current) = non_empty(current) else {
        if previous.is_some() {
            return Err(err(
                "GAIA_SECRET_KEY_PREVIOUS",
                "is set but GAIA_SECRET_KEY is not: set the new key in GAIA_SECRET_KEY",
            ));
        }
        return Ok(None);
    };
    let previous: Vec<&str> = previous
        .as_deref()
        .map_or_else(Vec::new, |p| p.split(',').collect());
    gaia_gateway::channels::sealed::Sealer::new(&current, &previous)
        .map(|s| Some(std::sync::Arc::new(s)))
        .map_err(|message| {
            // The message names the variable first ("GAIA_SECRET_KEY: …").
            let (variable, message) = match message.split_once(": ") {
                Some(("GAIA_SECRET_KEY_PREVIOUS", m)) => ("GAIA_SECRET_KEY_PREVIOUS", m.to_owned()),
                Some((_, m)) => ("GAIA_SECRET_KEY", m.to_owned()),
                None => ("GAIA_SECRET_KEY", message),
            };
            err(variable, message)
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Settings, ConfigError> {
        let mut all = vec!["gaiarouter"];
        all.extend_from_slice(args);
        Settings::from_cli(Cli::try_parse_from(all).unwrap())
    }

    #[test]
    fn secret_keys_are_checked_and_never_echoed() {
        let good = "0101010101010101010101010101010101010101010101010101010101010101";
        assert!(parse(&[]).unwrap().sealer.is_none());
        assert!(parse(&["--secret-key", good]).unwrap().sealer.is_some());
        let e = parse(&["--secret-key", "too-short-secret"]).unwrap_err();
        assert_eq!(e.variable, "GAIA_SECRET_KEY");
        assert!(!e.to_string().contains("too-short-secret"));
        let e = parse(&["--secret-key", good, "--secret-key-previous", "nope-nope"]).unwrap_err();
        assert_eq!(e.variable, "GAIA_SECRET_KEY_PREVIOUS");
        assert!(!e.to_string().contains("nope-nope"));
        // A previous key alone would leave nothing to seal again with.
        let e = parse(&["--secret-key-previous", good]).unwrap_err();
        assert_eq!(e.variable, "GAIA_SECRET_KEY_PREVIOUS");
        // The sealer's debug output names the key by its id only.
        let s = parse(&["--secret-key", good]).unwrap();
        assert!(!format!("{s:?}").contains(good));
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
    fn redis_settings_are_checked_and_the_url_never_echoed() {
        let s = parse(&["--redis-url", "redis://:pw-123@127.0.0.1:6379/2"]).unwrap();
        let redis = s.redis.as_ref().unwrap();
        assert_eq!(redis.failure, gaia_cluster::FailureMode::Open);
        assert_eq!(redis.prefix, "gaia:");
        assert!(!format!("{s:?}").contains("pw-123"));
        let tls = parse(&["--redis-url", "rediss://:pw-123@h:6380"]).unwrap();
        let tls = tls.redis.unwrap();
        assert!(tls.tls.root_ca.is_none() && tls.tls.client.is_none());
        let e = parse(&[
            "--redis-url",
            "rediss://h:6380",
            "--redis-ca-file",
            "/nonexistent/ca.pem",
        ])
        .unwrap_err();
        assert_eq!(e.variable, "GAIA_REDIS_CA_FILE");
        let pem = std::env::temp_dir().join(format!("gaia-redis-ca-{}.pem", std::process::id()));
        std::fs::write(&pem, "-----BEGIN CERTIFICATE-----\n").unwrap();
        let pem_path = pem.to_string_lossy().into_owned();
        let s = parse(&["--redis-url", "rediss://h", "--redis-ca-file", &pem_path]).unwrap();
        assert!(s.redis.unwrap().tls.root_ca.is_some());
        let e = parse(&["--redis-url", "redis://h", "--redis-ca-file", &pem_path]).unwrap_err();
        assert!(e.message.contains("rediss://"));
        let e = parse(&[
            "--redis-url",
            "rediss://h",
            "--redis-client-cert-file",
            &pem_path,
        ])
        .unwrap_err();
        assert_eq!(e.variable, "GAIA_REDIS_CLIENT_KEY_FILE");
        let _ = std::fs::remove_file(&pem);
        let e = parse(&["--redis-url", "http://:pw-123@h"]).unwrap_err();
        assert_eq!(e.variable, "GAIA_REDIS_URL");
        assert!(!e.to_string().contains("pw-123"));
        let e = parse(&["--redis-failure", "sometimes"]).unwrap_err();
        assert_eq!(e.variable, "GAIA_REDIS_FAILURE");
        let s = parse(&["--redis-url", "redis://h", "--redis-failure", "Closed"]).unwrap();
        assert_eq!(
            s.redis.map(|r| r.failure),
            Some(gaia_cluster::FailureMode::Closed)
        );
        assert!(parse(&[]).unwrap().redis.is_none());
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
