//! The `engine` binary: reads the environment, exits 2 naming the variable when it is
//! malformed, 3 when the engine cannot start (database, ports), 0 after a graceful shutdown.

use std::time::Duration;

use tracing_subscriber::EnvFilter;

/// How long the runtime may take to drop its tasks after `run` returned. The drain has already
/// committed, confirmed and relayed everything by then; what is left is destructors (the Kafka
/// client's among them, which was seen to block for minutes), and a pod must exit.
const EXIT_GRACE: Duration = Duration::from_secs(2);

fn main() {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("engine: failed to start the tokio runtime: {e}");
            std::process::exit(3);
        }
    };
    let code = runtime.block_on(serve());
    runtime.shutdown_timeout(EXIT_GRACE);
    std::process::exit(code);
}

/// Runs the engine; the process's exit code.
async fn serve() -> i32 {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let cfg = match engine::Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("engine: failed to {e}");
            tracing::error!(variable = e.variable(), "malformed environment");
            return 2;
        }
    };
    if let Err(e) = engine::run::run(cfg).await {
        let mut msg = format!("engine: failed to {e}");
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            msg.push_str(&format!(": {s}"));
            src = s.source();
        }
        eprintln!("{msg}");
        return 3;
    }
    0
}
