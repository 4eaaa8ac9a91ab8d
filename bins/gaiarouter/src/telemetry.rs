//! Logging: `tracing` to stderr, JSON or human-readable, filtered by `RUST_LOG`.

use tracing_subscriber::EnvFilter;

use crate::configuration::LogFormat;

/// Default filter when `RUST_LOG` is unset: our crates at info, noisy dependencies at warn.
pub const DEFAULT_FILTER: &str =
    "info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn,actix_server=warn";

/// Installs the global subscriber. Safe to call more than once (later calls are ignored).
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    // A line that cannot be written (stderr closed: the log collector went away) is dropped. By default
    // tracing-subscriber reports it with `eprintln!`, which panics on that same closed stderr — inside
    // every request and the shutdown task.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .log_internal_errors(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}
