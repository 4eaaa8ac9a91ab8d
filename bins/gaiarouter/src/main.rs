//! The `gaiarouter` command: parse configuration, then serve or migrate. Everything else lives in the lib.

use std::process::ExitCode;

use gaiarouter::configuration::{Command, Settings};
use gaiarouter::startup::{Application, run_migrations};
use gaiarouter::telemetry;

fn main() -> ExitCode {
    let (command, settings) = match Settings::from_env_and_args() {
        Ok(parsed) => parsed,
        Err(err) => {
            // One clear line naming the variable; no backtrace.
            eprintln!("gaiarouter: configuration error: {err}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(settings.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("gaiarouter: cannot start the async runtime: {err}");
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
            eprintln!("gaiarouter: {err}");
            ExitCode::from(2)
        }
        Err(err) => {
            tracing::error!(error = %err, "gaiarouter stopped with an error");
            eprintln!("gaiarouter: {err}");
            ExitCode::FAILURE
        }
    }
}
