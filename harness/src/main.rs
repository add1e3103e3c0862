//! The `harness` command line: builds the images, starts the platform for a developer, sweeps
//! leftovers. Each failure class has its own exit code (see `ExitCode` below).

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use harness::chaos::{ChaosError, FaultMix, NightlyOptions};
use harness::check::Outcome;
use harness::images::{build_all, BuildOptions};
use harness::platform::{Dc, EngineSpec, Replication};
use harness::{Platform, Topology};

/// Exit codes: 0 ok (a run judged valid), 1 usage or unexpected error, 2 a run judged invalid,
/// 3 the environment could not start, 4 a run judged unknown (neither proven safe nor broken).
const EXIT_ENVIRONMENT: u8 = 3;
const EXIT_INVALID: u8 = 2;
const EXIT_UNKNOWN: u8 = 4;

/// A run's verdict, carried to the exit code.
#[derive(Debug)]
struct Judged(Outcome);

impl std::fmt::Display for Judged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the run was judged {:?}", self.0)
    }
}

impl std::error::Error for Judged {}

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
        /// `single-dc`, or `two-dc`: a DR site (dc2) with a PostgreSQL standby streaming
        /// across the inter-DC line and a standby engine.
        #[arg(long, value_enum, default_value_t = TopologyArg::SingleDc)]
        topology: TopologyArg,
        /// How dc1's PostgreSQL replicates to dc2's (two-dc only): `sync` (remote_apply) or
        /// `async`.
        #[arg(long, default_value = "sync", value_parser = parse_replication)]
        replication: Replication,
        /// The inter-DC line's delay each way in ms (two-dc only); 0 for neighbouring sites.
        #[arg(long, default_value_t = harness::platform::DEFAULT_LINE_LATENCY_MS)]
        line_latency_ms: u32,
        /// Also start a PostgreSQL streaming standby (single-dc only).
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
    /// The nightly chaos run: a random fault schedule and order flow for DURATION drawn from
    /// SEED, on fresh containers; then heal, converge, check and report.
    Chaos {
        /// How long the flow and the fault schedule last, e.g. 60s, 10m.
        #[arg(long, value_parser = parse_duration)]
        duration: Duration,
        /// The seed that draws the case; the same seed draws the same case.
        #[arg(long)]
        seed: u64,
        /// A fault mix file (TOML or JSON: `[per_minute]` rates per fault kind).
        #[arg(long)]
        mix: Option<std::path::PathBuf>,
        /// The CTP investor the engine trades.
        #[arg(long, default_value = harness::chaos::DEFAULT_INVESTOR)]
        investor: String,
        /// Test-only engine defects to switch on (comma separated, see ENGINE_CONTRACT.md).
        #[arg(long, value_delimiter = ',')]
        defects: Vec<String>,
        /// Start from the last built images without checking their inputs (faster).
        #[arg(long)]
        no_build: bool,
    },
    /// The release's DR certificate: run the DR drills (each on a fresh two-datacenter
    /// platform under an open-loop order workload), measure RTO and RPO against the targets,
    /// write certificate.json and certificate.md; exit 0 only if every drill meets every target.
    Certify {
        /// The release being certified, named in the certificate.
        #[arg(long, default_value = "unreleased")]
        release: String,
        /// The engine image to certify (default: the reference engine built here).
        #[arg(long)]
        engine_image: Option<String>,
        /// `sync` (remote_apply) or `async` replication between the sites.
        #[arg(long, default_value = "sync", value_parser = parse_replication)]
        replication: Replication,
        /// The drills, comma separated: switchover, dc-loss, slow-line-loss, isolation, failback
        /// (default: all).
        #[arg(long, default_value = "")]
        drills: String,
        /// The inter-DC line's delay each way in ms.
        #[arg(long, default_value_t = harness::platform::DEFAULT_LINE_LATENCY_MS)]
        line_latency_ms: u32,
        /// Orders per second of each drill's workload.
        #[arg(long, default_value_t = 100.0)]
        rate: f64,
        /// Tier-1 (orders, trades) RTO target, e.g. 5m.
        #[arg(long, default_value = "5m")]
        tier1_rto: String,
        /// Tier-1 RPO target, e.g. 1s.
        #[arg(long, default_value = "1s")]
        tier1_rpo: String,
        /// Tier-2 (positions) RTO target.
        #[arg(long, default_value = "15m")]
        tier2_rto: String,
        /// Tier-2 RPO target.
        #[arg(long, default_value = "5s")]
        tier2_rpo: String,
        /// Accept a replication loss within the RPO targets instead of requiring RPO = 0.
        #[arg(long)]
        allow_loss: bool,
        /// Certify an engine that does not run with least privilege (as root, with
        /// capabilities or a writable root filesystem); refused by default.
        #[arg(long)]
        allow_privileged_engine: bool,
        /// The seed of the first drill (each later drill takes the next).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Where the certificate goes (default: target/harness/runs/certify-<release>).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// Start from the last built images without checking their inputs (faster).
        #[arg(long)]
        no_build: bool,
    },
    /// The perf gate: tier 1 compares the hot paths' instruction counts (callgrind) with the
    /// committed baselines. Exit 0 pass, 2 regression, 4 inconclusive (no baseline, another
    /// toolchain), 3 the machine cannot measure (valgrind or gungraun-runner missing).
    PerfGate {
        /// The tier to run (only 1 exists yet).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=1))]
        tier: u8,
        /// The baseline file (default: perf/baselines/tier1.json).
        #[arg(long)]
        baseline: Option<std::path::PathBuf>,
        /// Record this run's counts as the baseline (with the toolchain and commit), then judge.
        #[arg(long)]
        update_baseline: bool,
        /// The threshold in percent (default: the baseline's).
        #[arg(long)]
        threshold_pct: Option<f64>,
        /// Test only: the hot paths do this many percent more work, to prove the gate.
        #[arg(long, hide = true)]
        inject_pct: Option<f64>,
        /// Where the table goes as JSON, Markdown and JUnit (default: target/perf-gate).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Replay the chaos case saved in a run directory (its case.json) against fresh containers.
    Repro {
        /// The run directory, e.g. target/harness/runs/chaos-42.
        run_dir: std::path::PathBuf,
        /// Start from the last built images without checking their inputs (faster).
        #[arg(long)]
        no_build: bool,
    },
}

/// The topologies `harness up` starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum TopologyArg {
    SingleDc,
    TwoDc,
}

fn parse_replication(text: &str) -> Result<Replication, String> {
    text.parse().map_err(|e: harness::Error| e.to_string())
}

/// `90s`, `10m`, `1h` or plain seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or((text, "s"), |i| text.split_at(i));
    let n: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 90s, 10m or 1h"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        other => return Err(format!("unknown unit {other:?} in {text:?}: ms, s, m or h")),
    };
    if !(secs > 0.0 && secs <= 86_400.0) {
        return Err(format!(
            "{text:?}: a duration must be above 0 and at most 24h"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A DR target such as `5m` or `1s`, refused naming its flag.
fn parse_target(flag: &str, text: &str) -> anyhow::Result<Duration> {
    harness::dr::parse_target(flag, text).map_err(usage)
}

/// A usage error: exit code 1 with the message that names the field.
fn usage(e: harness::dr::DrError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

async fn build_images(no_build: bool) -> anyhow::Result<()> {
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
    Ok(())
}

/// Prints a case's report and turns its verdict into the exit code.
fn conclude(run: &harness::chaos::CaseRun) -> anyhow::Result<()> {
    println!("{}", run.judged.report.summary());
    println!(
        "case took {:.1} s; case file {}",
        run.elapsed.as_secs_f64(),
        run.judged.dir.join(harness::chaos::CASE_FILE).display()
    );
    match run.judged.report.outcome() {
        Outcome::Valid => Ok(()),
        other => Err(Judged(other).into()),
    }
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
            if let Some(Judged(outcome)) = e.downcast_ref::<Judged>() {
                ExitCode::from(match outcome {
                    Outcome::Invalid => EXIT_INVALID,
                    _ => EXIT_UNKNOWN,
                })
            } else if e.downcast_ref::<harness::Error>().is_some()
                || matches!(
                    e.downcast_ref::<ChaosError>(),
                    Some(ChaosError::Platform(_))
                )
            {
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
        Command::Chaos {
            duration,
            seed,
            mix,
            investor,
            defects,
            no_build,
        } => {
            let mix = match mix {
                Some(path) => FaultMix::load(&path)?,
                None => FaultMix::default(),
            };
            build_images(no_build).await?;
            let opts = NightlyOptions {
                duration,
                seed,
                mix,
                investor,
                defects,
                ready_timeout: Duration::from_secs(120),
            };
            let (case, run) = harness::chaos::nightly(&opts).await?;
            println!(
                "case of seed {seed}: {} faults, {} orders at {}/s",
                case.schedule.steps.len(),
                case.flow.operations,
                case.flow.rate_per_s
            );
            conclude(&run)
        }
        Command::Certify {
            release,
            engine_image,
            replication,
            drills,
            line_latency_ms,
            rate,
            tier1_rto,
            tier1_rpo,
            tier2_rto,
            tier2_rpo,
            allow_loss,
            allow_privileged_engine,
            seed,
            out,
            no_build,
        } => {
            let targets = harness::check::dr::DrTargets {
                tier1_rto: parse_target("--tier1-rto", &tier1_rto)?,
                tier1_rpo: parse_target("--tier1-rpo", &tier1_rpo)?,
                tier2_rto: parse_target("--tier2-rto", &tier2_rto)?,
                tier2_rpo: parse_target("--tier2-rpo", &tier2_rpo)?,
                zero_loss: !allow_loss,
            };
            let opts = harness::dr::CertifyOptions {
                release: release.clone(),
                drills: harness::dr::parse_drills(&drills).map_err(usage)?,
                drill: harness::dr::DrillOptions {
                    replication,
                    line_latency_ms,
                    seed,
                    rate_per_s: rate,
                    targets,
                    ..Default::default()
                },
                allow_privileged_engine,
            };
            opts.drill.validate().map_err(usage)?;
            if let Some(image) = engine_image {
                // Read by the platform when it starts the engines (HARNESS_IMAGE_ENGINE).
                std::env::set_var(harness::Service::Engine.override_var(), image);
            }
            build_images(no_build).await?;
            let dir = out.unwrap_or_else(|| {
                harness::run::runs_dir().join(format!("certify-{}", release.replace('/', "_")))
            });
            let cert = harness::dr::certify(&opts, &dir, |line| eprintln!("certify: {line}"))
                .await
                .map_err(|e| match e {
                    harness::dr::DrError::Platform(p) => anyhow::Error::new(p),
                    other => anyhow::Error::new(other),
                })?;
            println!("{}", cert.markdown());
            println!(
                "certificate: {} and {}",
                dir.join(harness::dr::CERTIFICATE_JSON).display(),
                dir.join(harness::dr::CERTIFICATE_MD).display()
            );
            match (cert.outcome, cert.certified) {
                (Outcome::Valid, true) => Ok(()),
                // Valid drills of an engine short of least privilege: refused, as invalid.
                (Outcome::Valid, false) => Err(Judged(Outcome::Invalid).into()),
                (other, _) => Err(Judged(other).into()),
            }
        }
        Command::PerfGate {
            tier: _,
            baseline,
            update_baseline,
            threshold_pct,
            inject_pct,
            out,
        } => {
            use harness::gate::{tier1, GateVerdict};
            let workspace = harness::workspace_root();
            let opts = tier1::Options {
                baseline: baseline.unwrap_or_else(|| workspace.join(tier1::BASELINE)),
                workspace: workspace.clone(),
                update_baseline,
                threshold_pct,
                inject_pct,
            };
            eprintln!("perf gate tier 1: counting the hot paths' instructions under callgrind (a build, then about 15 s)");
            let report = match tokio::task::spawn_blocking(move || tier1::run(&opts)).await? {
                Ok(r) => r,
                Err(tier1::GateError::Environment { what, reason }) => {
                    return Err(anyhow::Error::new(harness::Error::Command {
                        command: what,
                        status: "an error".into(),
                        stderr_tail: reason,
                    }))
                }
                Err(e) => return Err(e.into()),
            };
            print!("{}", report.table());
            let dir = out.unwrap_or_else(|| workspace.join("target/perf-gate"));
            let files = report.write(&dir)?;
            println!(
                "written: {}, {}, {}",
                files.json.display(),
                files.markdown.display(),
                files.junit.display()
            );
            match report.verdict {
                v if v.passes() => Ok(()),
                GateVerdict::Regression => Err(Judged(Outcome::Invalid).into()),
                _ => Err(Judged(Outcome::Unknown).into()),
            }
        }
        Command::Repro { run_dir, no_build } => {
            let original = harness::report::Report::load(&run_dir).ok();
            build_images(no_build).await?;
            let (case, run) = harness::chaos::repro(&run_dir, Duration::from_secs(120)).await?;
            println!(
                "replayed {} (seed {}, {} faults): originally {}, now {:?}",
                run_dir.display(),
                case.seed,
                case.schedule.steps.len(),
                original.map_or("unknown (no report.json)".to_owned(), |r| format!(
                    "{:?}",
                    r.outcome()
                )),
                run.judged.report.outcome()
            );
            conclude(&run)
        }
        Command::Up {
            seed,
            topology: shape,
            replication,
            line_latency_ms,
            standby,
            no_engine,
            defects,
            engine_cpus,
            publish_base,
            ready_timeout,
            for_seconds,
            no_build,
        } => {
            if shape == TopologyArg::TwoDc && (standby || publish_base.is_some()) {
                anyhow::bail!(
                    "--standby and --publish-base are for --topology single-dc: two-dc has its \
                     standby in dc2 and reaches every service on its networks"
                );
            }
            build_images(no_build).await?;
            let mut topology = match shape {
                TopologyArg::SingleDc => Topology::single_dc(),
                TopologyArg::TwoDc => Topology::two_dc()
                    .without_engines()
                    .with_replication(replication)
                    .with_line_latency_ms(line_latency_ms),
            };
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
            if let Some(line) = platform.line() {
                let sites: serde_json::Map<String, serde_json::Value> = platform
                    .datacenters()
                    .into_iter()
                    .filter_map(|dc: Dc| Some((dc.to_string(), platform.datacenter(dc)?)))
                    .map(|(dc, eps)| Ok((dc, serde_json::to_value(eps)?)))
                    .chain(std::iter::once(Ok((
                        "line".to_string(),
                        serde_json::to_value(line)?,
                    ))))
                    .collect::<Result<_, serde_json::Error>>()?;
                println!("{}", serde_json::to_string_pretty(&sites)?);
            } else {
                println!("{}", serde_json::to_string_pretty(platform.endpoints())?);
            }
            println!("ready");
            match for_seconds {
                Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
                None => {
                    // The platform's signal handler removes the run and exits (130 on Ctrl-C).
                    println!("press Ctrl-C to stop and clean up");
                    std::future::pending::<()>().await;
                }
            }
            platform.shutdown().await?;
            println!("cleaned up");
            Ok(())
        }
    }
}
