//! The `gaiarouter` command: parse configuration, then serve or migrate. Everything else lives in the lib.

use std::process::ExitCode;

use gaiarouter::configuration::{Command, Settings};
use gaiarouter::startup::{Application, run_migrations};
use gaiarouter::telemetry;

/// mimalloc rather than the system allocator: a request makes a few hundred small allocations, and
/// glibc's malloc and free took 17 % of its instructions (docs/performance.md, "Profiling").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One line on stderr for the operator; a closed stderr is not worth a panic (`eprintln!` would).
fn say(message: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{message}");
}

fn main() -> ExitCode {
    let (command, settings) = match Settings::from_env_and_args() {
        Ok(parsed) => parsed,
        Err(err) => {
            // One clear line naming the variable; no backtrace.
            say(format_args!("gaiarouter: configuration error: {err}"));
            return ExitCode::from(2);
        }
    };
    // Flushes the last traces when main returns (after the runtime is gone).
    let _telemetry = match telemetry::init(settings.log_format) {
        Ok(t) => t,
        Err(err) => {
            say(format_args!("gaiarouter: configuration error: {err}"));
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            say(format_args!(
                "gaiarouter: cannot start the async runtime: {err}"
            ));
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match command {
            Command::Migrate => run_migrations(&settings).await,
            Command::Serve => {
                let app = Application::build(settings).await?;
                app.announce();
                app.run_until_stopped().await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err @ gaiarouter::startup::StartupError::Config(_)) => {
            say(format_args!("gaiarouter: {err}"));
            ExitCode::from(2)
        }
        Err(err) => {
            tracing::error!(error = %err, "gaiarouter stopped with an error");
            say(format_args!("gaiarouter: {err}"));
            ExitCode::FAILURE
        }
    }
}
