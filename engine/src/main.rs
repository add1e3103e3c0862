//! The `engine` binary: reads the environment, exits 2 naming the variable when it is
//! malformed, 3 when the engine cannot start (database, ports), 0 after a graceful shutdown.

use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() {
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
            std::process::exit(2);
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
        std::process::exit(3);
    }
}
