//! The `faultproxy` binary: a Toxiproxy-compatible server, e.g.
//! `faultproxy --host 0.0.0.0 --port 8474 --seed 42 --config proxies.json`.
//! The seed is printed at start so a chaos run can be replayed with the same choices.
//! Exit codes: 2 the config file is unreadable or invalid, 3 the API or a proxy could not
//! listen.

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

const EXIT_CONFIG: u8 = 2;
const EXIT_LISTEN: u8 = 3;

#[derive(Debug, Parser)]
#[command(
    version,
    about = "A TCP fault proxy serving the Toxiproxy HTTP API, with seeded randomness"
)]
struct Cli {
    /// Address the API listens on.
    #[arg(long, default_value = "0.0.0.0", env = "FAULTPROXY_HOST")]
    host: String,
    /// Port the API listens on.
    #[arg(long, default_value_t = 8474, env = "FAULTPROXY_PORT")]
    port: u16,
    /// Seed of every random choice (toxicity, jitter, slicing); from the clock if absent.
    #[arg(long, env = "FAULTPROXY_SEED")]
    seed: Option<u64>,
    /// JSON file with an array of proxies to create at start, like toxiproxy's -config.
    #[arg(long)]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, error)) => {
            eprintln!("faultproxy: {error:#}");
            ExitCode::from(code)
        }
    }
}

async fn run(cli: Cli) -> Result<(), (u8, anyhow::Error)> {
    let seed = cli.seed.unwrap_or_else(faultproxy::seed_from_time);
    println!("faultproxy seed {seed} (replay with --seed {seed})");
    let addr = tokio::net::lookup_host((cli.host.as_str(), cli.port))
        .await
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or_else(|| {
            (
                EXIT_LISTEN,
                anyhow::anyhow!("failed to resolve host {}", cli.host),
            )
        })?;
    let server = faultproxy::Server::bind(addr, seed)
        .await
        .map_err(|e| (EXIT_LISTEN, anyhow::Error::new(e)))?;
    println!("faultproxy api on {}", server.local_addr());
    if let Some(path) = &cli.config {
        let proxies = server.populate_from_file(path).await.map_err(|e| {
            let code = if e.status() == 500 && !matches!(e, faultproxy::Error::ConfigRead { .. }) {
                EXIT_LISTEN
            } else {
                EXIT_CONFIG
            };
            (code, anyhow::Error::new(e))
        })?;
        for proxy in proxies {
            tracing::info!(name = %proxy.name, listen = %proxy.listen, upstream = %proxy.upstream, "proxy from config");
        }
    }
    wait_for_signal().await;
    server.shutdown().await;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
