//! The command line and environment variables as clap reads them, before any check.

use clap::{Parser, Subcommand};

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

    /// Days raw usage records and stored responses are kept (daily rollups are kept forever); 0 keeps
    /// them forever.
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

    /// Redis shared by every instance (redis://[user:password@]host:port[/db], or rediss:// for TLS): per-minute
    /// limits exact across instances, changes announced to all within a second. Unset: per instance.
    #[arg(long, env = "GAIA_REDIS_URL", hide_env_values = true, global = true)]
    pub redis_url: Option<String>,

    /// With a rediss:// GAIA_REDIS_URL: the certificate authority (PEM) that issued Redis' certificate,
    /// trusted instead of the system's roots. Unset: the system's roots.
    #[arg(long, env = "GAIA_REDIS_CA_FILE", global = true)]
    pub redis_ca_file: Option<String>,

    /// With a rediss:// GAIA_REDIS_URL: a client certificate chain (PEM), for a Redis that asks for one
    /// (`tls-auth-clients yes`). Needs GAIA_REDIS_CLIENT_KEY_FILE.
    #[arg(long, env = "GAIA_REDIS_CLIENT_CERT_FILE", global = true)]
    pub redis_client_cert_file: Option<String>,

    /// The private key (PEM) of GAIA_REDIS_CLIENT_CERT_FILE.
    #[arg(long, env = "GAIA_REDIS_CLIENT_KEY_FILE", global = true)]
    pub redis_client_key_file: Option<String>,

    /// With GAIA_REDIS_URL, what to do while Redis is unreachable: `open` (check per-minute limits on this
    /// instance's own buckets) or `closed` (refuse requests that have a per-minute limit, 503).
    #[arg(
        long,
        env = "GAIA_REDIS_FAILURE",
        default_value = "open",
        global = true
    )]
    pub redis_failure: String,

    /// Prefix of every Redis key and channel, so several deployments can share one Redis.
    #[arg(
        long,
        env = "GAIA_REDIS_PREFIX",
        default_value = "gaia:",
        global = true
    )]
    pub redis_prefix: String,

    /// 32 random bytes (hex or base64, e.g. `openssl rand -base64 32`) that seal the upstream credentials
    /// of channels stored through the admin API. Unset: channels can be stored without a credential only.
    #[arg(long, env = "GAIA_SECRET_KEY", hide_env_values = true, global = true)]
    pub secret_key: Option<String>,

    /// Former values of GAIA_SECRET_KEY (comma-separated) during a rotation: they still open credentials,
    /// which are sealed again with the current key when the instance starts.
    #[arg(
        long,
        env = "GAIA_SECRET_KEY_PREVIOUS",
        hide_env_values = true,
        global = true
    )]
    pub secret_key_previous: Option<String>,

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
