//! The `harness` command line: builds the images, starts the platform for a developer, sweeps
//! leftovers. Each failure class has its own exit code (see `ExitCode` below).

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use harness::images::{build_all, BuildOptions};
use harness::platform::EngineSpec;
use harness::{Platform, Topology};

/// Exit codes: 0 ok, 1 usage or unexpected error, 3 the environment could not start.
const EXIT_ENVIRONMENT: u8 = 3;

#[derive(Debug, Parser)]
#[command(
    name = "harness",
    about = "Integration-test and chaos harness of the CTP trading platform"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build (offline) every image whose inputs changed; print what was built and reused.
    Images {
        #[command(subcommand)]
        action: ImagesAction,
    },
    /// Build what is missing, start the platform, print its endpoints, wait for Ctrl-C, clean up.
    Up {
        /// Seed of the run (fault proxy randomness); random if omitted.
        #[arg(long)]
        seed: Option<u64>,
        /// Also start a PostgreSQL streaming standby.
        #[arg(long)]
        standby: bool,
        /// Start the dependencies and the mock CTP front only, without the trading engine.
        #[arg(long)]
        no_engine: bool,
        /// Test-only engine defects to switch on (comma separated, see ENGINE_CONTRACT.md).
        #[arg(long, value_delimiter = ',')]
        defects: Vec<String>,
        /// The cpuset to pin the engine to (default: the last core).
        #[arg(long)]
        engine_cpus: Option<String>,
        /// Publish the services on host ports base..base+3 (postgres, redis, kafka, proxy API).
        #[arg(long)]
        publish_base: Option<u16>,
        /// Seconds each service may take to become ready.
        #[arg(long, default_value_t = 60)]
        ready_timeout: u64,
        /// Stop after this many seconds instead of waiting for Ctrl-C (for scripts).
        #[arg(long)]
        for_seconds: Option<u64>,
        /// Start from the last built images without checking their inputs (faster).
        #[arg(long)]
        no_build: bool,
    },
    /// Remove the containers, networks and volumes of runs whose process is gone.
    Sweep,
}

#[derive(Debug, Subcommand)]
enum ImagesAction {
    Build,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("harness: {e:#}");
            if e.downcast_ref::<harness::Error>().is_some() {
                ExitCode::from(EXIT_ENVIRONMENT)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Images {
            action: ImagesAction::Build,
        } => {
            let report = build_all(&BuildOptions::default()).await?;
            for image in &report.built {
                println!("built   {image}");
            }
            for image in &report.reused {
                println!("reused  {image}");
            }
            println!("images ready in {:.1} s", report.elapsed.as_secs_f64());
            Ok(())
        }
        Command::Sweep => {
            let runs = harness::platform::sweep_dead_runs().await?;
            println!(
                "swept {} dead run(s){}",
                runs.len(),
                if runs.is_empty() {
                    String::new()
                } else {
                    format!(": {}", runs.join(", "))
                }
            );
            Ok(())
        }
        Command::Up {
            seed,
            standby,
            no_engine,
            defects,
            engine_cpus,
            publish_base,
            ready_timeout,
            for_seconds,
            no_build,
        } => {
            if !no_build {
                let report = build_all(&BuildOptions::default())
                    .await
                    .context("building images")?;
                println!(
                    "images: {} built, {} reused",
                    report.built.len(),
                    report.reused.len()
                );
            }
            let mut topology = Topology::single_dc();
            if standby {
                topology = topology.with_postgres_standby();
            }
            if !no_engine {
                let spec = EngineSpec {
                    defects,
                    cpus: engine_cpus,
                    ..EngineSpec::default()
                };
                topology = topology.with_engine_spec(spec);
            }
            let mut builder = Platform::builder()
                .topology(topology)
                .readiness_timeout(Duration::from_secs(ready_timeout));
            if let Some(seed) = seed {
                builder = builder.seed(seed);
            }
            if let Some(base) = publish_base {
                builder = builder.publish_base(base);
            }
            let started = std::time::Instant::now();
            let platform = builder.start().await?;
            println!(
                "run {} (seed {}) ready in {:.1} s",
                platform.run_id(),
                platform.seed(),
                started.elapsed().as_secs_f64()
            );
            println!("{}", serde_json::to_string_pretty(platform.endpoints())?);
            println!("ready");
            match for_seconds {
                Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
                None => {
                    println!("press Ctrl-C to stop and clean up");
                    tokio::signal::ctrl_c().await?;
                }
            }
            platform.shutdown().await?;
            println!("cleaned up");
            Ok(())
        }
    }
}
