//! The `mock-ctp` binary: the mock CTP front with its trade front, market-data front and admin
//! API, configured by flags or environment variables.
//!
//! Exit codes: 0 on Ctrl-C or SIGTERM, 2 for bad arguments (clap), 3 when the fronts could not
//! start (fixtures or bind).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mock_ctp::server::{FrontConfig, MockServer};

/// The mock CTP front.
#[derive(Debug, Parser)]
#[command(name = "mock-ctp", version, about)]
struct Args {
    /// Trade front listen address.
    #[arg(long, env = "MOCK_CTP_TRADE_ADDR", default_value = "0.0.0.0:41205")]
    trade_addr: SocketAddr,
    /// Market-data front listen address.
    #[arg(long, env = "MOCK_CTP_MD_ADDR", default_value = "0.0.0.0:41213")]
    md_addr: SocketAddr,
    /// Admin HTTP API listen address.
    #[arg(long, env = "MOCK_CTP_ADMIN_ADDR", default_value = "0.0.0.0:8080")]
    admin_addr: SocketAddr,
    /// Bearer token of the admin API.
    #[arg(long, env = "MOCK_CTP_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: String,
    /// Every investor's login password, instead of accounts.json's.
    #[arg(long, env = "MOCK_CTP_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Every investor's AuthCode (ReqAuthenticate), instead of accounts.json's.
    #[arg(long, env = "MOCK_CTP_AUTH_CODE", hide_env_values = true)]
    auth_code: Option<String>,
    /// Directory holding instruments.json, accounts.json and ticks/.
    #[arg(long, env = "MOCK_CTP_FIXTURES", default_value = "/fixtures")]
    fixtures: PathBuf,
    /// Seed of matching's randomness (random when absent; printed either way).
    #[arg(long, env = "MOCK_CTP_SEED")]
    seed: Option<u64>,
    /// Replayed market-data snapshots per second, all instruments together (0: off).
    #[arg(long, env = "MOCK_CTP_MD_RATE", default_value_t = 2.0)]
    md_rate: f64,
    /// Orders and cancels a second per session (CTP's front-wide request limit, FTDMaxCommFlux):
    /// requests beyond it wait for the next second, as on CTP. Brokers raise it for busy
    /// firms; 0 turns it off.
    #[arg(long, env = "MOCK_CTP_ORDERS_PER_SECOND", default_value_t = 6)]
    orders_per_second: u32,
    /// Trading day (YYYYMMDD); today in China Standard Time when absent.
    #[arg(long, env = "MOCK_CTP_TRADING_DAY")]
    trading_day: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args = Args::parse();
    let seed = args.seed.unwrap_or_else(rand::random);
    let mut builder = MockServer::builder()
        .trade_addr(args.trade_addr)
        .md_addr(args.md_addr)
        .admin_addr(args.admin_addr)
        .admin_token(args.admin_token)
        .fixtures(&args.fixtures)
        .md_rate(args.md_rate)
        .credentials(args.password, args.auth_code)
        .front_config(FrontConfig {
            orders_per_second: (args.orders_per_second > 0).then_some(args.orders_per_second),
            ..FrontConfig::default()
        })
        .seed(seed);
    if let Some(day) = args.trading_day {
        builder = builder.trading_day(day);
    }
    let server = match builder.start().await {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "mock-ctp: failed to start: {}",
                anyhow::Error::from(e)
                    .chain()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(": ")
            );
            return ExitCode::from(3);
        }
    };
    println!("mock-ctp seed={seed}");
    println!("trade front listening on {}", server.trade_addr);
    println!("md front listening on {}", server.md_addr);
    println!("admin listening on {}", server.admin_addr);
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mock-ctp: failed to install SIGTERM handler: {e}");
            return ExitCode::from(3);
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    server.shutdown().await;
    ExitCode::SUCCESS
}
