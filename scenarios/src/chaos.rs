//! The chaos property: after any fault schedule and order flow, once every fault is healed and
//! the platform has converged, every safety check is valid. Cases are drawn by the strategies
//! re-exported here (fault schedules from a [`FaultMix`] whose rates are faults per minute,
//! order flows, whole cases) and played on one platform, reset to its seeded state between
//! cases. On a failure proptest shrinks the case (fewer, shorter faults; a smaller flow), saves
//! its seed in the regression file beside the test (replayed first by later runs), and the
//! minimal case, its run directory and the command that replays it are printed.
//!
//! Settings from the environment: `CHAOS_CASES` (default 20), `CHAOS_CASE_SECONDS` (length of
//! each case's flow and schedule, default 5), `CHAOS_SHRINK_ITERS` (default 12),
//! `CHAOS_MIX` (a fault mix file), `CHAOS_DEFECTS` (engine defects, comma separated).

use std::cell::RefCell;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use harness::chaos::{run_case, Case, FaultMix, CASE_FILE};
use harness::check::Outcome;
use harness::fault::Nemesis;
use harness::platform::{EngineSpec, Platform, Topology};
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestError, TestRunner};

pub use harness::chaos::strategy::{case, draw, fault, flow, schedule};

/// How a property run is set up.
#[derive(Debug, Clone)]
pub struct PropertyOptions {
    pub cases: u32,
    pub case_length: Duration,
    pub shrink_iters: u32,
    pub mix: FaultMix,
    pub investor: String,
    pub defects: Vec<String>,
    /// The test's source file, beside which proptest keeps the regression file.
    pub source_file: &'static str,
    /// Whether a failure's seed is saved for later runs (off for defect hunts, whose failures
    /// are expected).
    pub persist_failures: bool,
    /// Draws the same cases on every run when set (defect hunts); else proptest's random seed.
    pub rng_seed: Option<u64>,
}

fn env_number(name: &str, default: u64) -> Result<u64> {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .map_err(|_| anyhow!("{name}={v:?} is not a whole number")),
        Err(_) => Ok(default),
    }
}

impl PropertyOptions {
    /// The defaults, overridden by the `CHAOS_*` variables; a malformed one is an error naming
    /// it.
    pub fn from_env(source_file: &'static str) -> Result<Self> {
        let cases = env_number("CHAOS_CASES", 20)?;
        let secs = env_number("CHAOS_CASE_SECONDS", 5)?;
        if cases == 0 || secs == 0 {
            bail!("CHAOS_CASES and CHAOS_CASE_SECONDS must be at least 1");
        }
        let mix = match std::env::var_os("CHAOS_MIX") {
            Some(p) => FaultMix::load(std::path::Path::new(&p))?,
            None => FaultMix::default(),
        };
        let defects = std::env::var("CHAOS_DEFECTS")
            .map(|d| {
                d.split(',')
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| s.trim().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            cases: u32::try_from(cases).context("CHAOS_CASES")?,
            case_length: Duration::from_secs(secs),
            shrink_iters: u32::try_from(env_number("CHAOS_SHRINK_ITERS", 12)?)
                .context("CHAOS_SHRINK_ITERS")?,
            mix,
            investor: harness::chaos::DEFAULT_INVESTOR.into(),
            defects,
            source_file,
            persist_failures: true,
            rng_seed: None,
        })
    }
}

/// What a property run saw.
#[derive(Debug, Default)]
pub struct PropertyRun {
    /// Seconds per case, reset included, in the order run.
    pub case_seconds: Vec<f64>,
    /// Seconds per state reset.
    pub reset_seconds: Vec<f64>,
    /// Faults injected over every case.
    pub faults: usize,
    /// Per fault kind that measures its hazard: (faults of the kind, those whose hazard was
    /// measured above zero), over every case. A kind whose hazard is rarely real is rarely
    /// testing its recovery path.
    pub hazards: std::collections::BTreeMap<String, (u64, u64)>,
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

impl PropertyRun {
    pub fn describe(&self) -> String {
        let hazards: Vec<String> = self
            .hazards
            .iter()
            .map(|(kind, (n, real))| format!("{kind} {real} of {n}"))
            .collect();
        let hazards = match hazards.is_empty() {
            true => String::new(),
            false => format!("; faults whose hazard was real: {}", hazards.join(", ")),
        };
        format!(
            "{} cases, {} faults; per case median {:.1} s, max {:.1} s; reset median {:.1} s{hazards}",
            self.case_seconds.len(),
            self.faults,
            median(&self.case_seconds),
            self.case_seconds.iter().copied().fold(0.0, f64::max),
            median(&self.reset_seconds),
        )
    }

    /// Counts, per fault kind that measured a hazard in this case, its faults and those whose
    /// hazard was above zero.
    fn count_hazards(&mut self, report: &harness::report::Report) {
        let measured: std::collections::BTreeSet<&str> = report
            .hazards
            .iter()
            .map(|m| m.hazard.fault.as_str())
            .collect();
        for kind in measured {
            let n = report
                .run
                .schedule
                .iter()
                .filter(|w| w.fault == kind)
                .count() as u64;
            let real = report
                .hazards
                .iter()
                .filter(|m| m.hazard.fault == kind && m.hazard.size > 0)
                .count() as u64;
            let e = self.hazards.entry(kind.to_owned()).or_default();
            e.0 += n;
            e.1 += real.min(n);
        }
    }
}

/// A failed property: the minimal case's outcome and the checks it broke.
#[derive(Debug)]
pub struct PropertyFailure {
    pub outcome: Outcome,
    /// The checks judged invalid in the minimal case.
    pub invalid_checks: Vec<String>,
    pub message: String,
}

impl std::fmt::Display for PropertyFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PropertyFailure {}

/// A failing case: the case, its run directory, its outcome, its invalid checks, the reason.
struct Failed {
    case: Case,
    dir: PathBuf,
    outcome: Outcome,
    invalid: Vec<String>,
    reason: String,
}

/// The last failing case: after shrinking, the minimal one.
type LastFailure = RefCell<Option<Failed>>;

/// Runs the property on one platform of its own (removed afterwards, also on failure); `Err`
/// names the minimal failing case, its run directory and the replay command.
pub fn check_property(opts: &PropertyOptions) -> Result<PropertyRun> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("a tokio runtime")?;
    let spec = EngineSpec {
        investor: opts.investor.clone(),
        defects: opts.defects.clone(),
        ..EngineSpec::default()
    };
    let platform = rt.block_on(
        Platform::builder()
            .topology(Topology::single_dc().with_engine_spec(spec))
            .readiness_timeout(Duration::from_secs(120))
            .start(),
    )?;
    let result = property(&rt, &platform, opts);
    let removed = rt.block_on(platform.shutdown());
    let run = result?;
    removed?;
    Ok(run)
}

fn property(
    rt: &tokio::runtime::Runtime,
    platform: &Platform,
    opts: &PropertyOptions,
) -> Result<PropertyRun> {
    let catalogue = Nemesis::new(platform).catalogue();
    let strategy = case(&opts.mix, opts.case_length, &catalogue);
    let config = Config {
        cases: opts.cases,
        max_shrink_iters: opts.shrink_iters,
        failure_persistence: match opts.persist_failures {
            true => Some(Box::new(FileFailurePersistence::WithSource(
                "proptest-regressions",
            ))),
            false => Some(Box::new(FileFailurePersistence::Off)),
        },
        source_file: Some(opts.source_file),
        ..Config::default()
    };
    let mut runner = match opts.rng_seed {
        Some(seed) => TestRunner::new_with_rng(config, harness::chaos::strategy::rng(seed)),
        None => TestRunner::new(config),
    };
    let seen = RefCell::new(PropertyRun::default());
    let last_failure: LastFailure = RefCell::new(None);
    let number = std::cell::Cell::new(0u32);
    let outcome = runner.run(&strategy, |mut c| {
        c.investor = opts.investor.clone();
        c.defects = opts.defects.clone();
        let n = number.get() + 1;
        number.set(n);
        let label = match opts.defects.is_empty() {
            true => "property".to_owned(),
            false => opts.defects.join("+"),
        };
        let name = format!("chaos-{label}-{n:03}");
        let run = match rt.block_on(run_case(platform, &c, &name, true)) {
            Ok(run) => run,
            Err(e) => {
                // A case that could not run is unknown, never valid; its case file is kept so
                // that `harness repro` replays it like any other failure.
                let reason = format!("case {n} could not run: {}", harness::fault::chain(&e));
                let dir = harness::run::runs_dir().join(&name);
                if let Err(e) = std::fs::create_dir_all(&dir)
                    .map_err(|e| e.to_string())
                    .and_then(|()| c.save(&dir).map_err(|e| e.to_string()))
                {
                    eprintln!("case {n}: its case file could not be saved: {e}");
                }
                *last_failure.borrow_mut() = Some(Failed {
                    case: c,
                    dir,
                    outcome: Outcome::Unknown,
                    invalid: Vec::new(),
                    reason: reason.clone(),
                });
                return Err(TestCaseError::fail(reason));
            }
        };
        {
            let mut s = seen.borrow_mut();
            s.case_seconds.push(run.elapsed.as_secs_f64());
            s.reset_seconds.extend(run.reset.map(|d| d.as_secs_f64()));
            s.faults += c.schedule.steps.len();
            s.count_hazards(&run.judged.report);
        }
        let report = &run.judged.report;
        println!(
            "case {n}: {:?} in {:.1} s ({} faults, {} orders at {}/s) {}",
            report.outcome(),
            run.elapsed.as_secs_f64(),
            c.schedule.steps.len(),
            c.flow.operations,
            c.flow.rate_per_s,
            run.judged.dir.display()
        );
        if report.outcome() == Outcome::Valid {
            return Ok(());
        }
        println!("{}", report.summary());
        let reason = format!("{:?}: {}", report.outcome(), run.judged.verdict.explain());
        let invalid = report
            .checks
            .iter()
            .filter(|c| c.outcome == Outcome::Invalid)
            .map(|c| c.name.clone())
            .collect();
        *last_failure.borrow_mut() = Some(Failed {
            case: c,
            dir: run.judged.dir.clone(),
            outcome: report.outcome(),
            invalid,
            reason: reason.clone(),
        });
        Err(TestCaseError::fail(reason))
    });
    let seen = seen.into_inner();
    println!("chaos property: {}", seen.describe());
    match outcome {
        Ok(()) => Ok(seen),
        Err(TestError::Abort(why)) => bail!("the chaos property was aborted: {why}"),
        Err(TestError::Fail(why, minimal)) => {
            let failed = last_failure
                .into_inner()
                .filter(|f| f.case.schedule == minimal.schedule && f.case.flow == minimal.flow);
            let (dir, outcome, invalid, reason) = match failed {
                Some(f) => (f.dir, f.outcome, f.invalid, f.reason),
                None => (
                    PathBuf::from("(not kept)"),
                    Outcome::Unknown,
                    Vec::new(),
                    why.to_string(),
                ),
            };
            let message = format!(
                "the chaos property failed: {reason}\n\
                 invalid checks: {}\n\
                 minimal case (seed {}): {}\n\
                 its case file: {}\n\
                 replay it: cargo run -p harness -- repro {}\n\
                 its proptest seed is saved beside {} (proptest-regressions) unless persistence is off",
                if invalid.is_empty() { "none".to_owned() } else { invalid.join(", ") },
                minimal.seed,
                serde_json::to_string(&minimal).unwrap_or_default(),
                dir.join(CASE_FILE).display(),
                dir.display(),
                opts.source_file,
            );
            Err(PropertyFailure {
                outcome,
                invalid_checks: invalid,
                message,
            }
            .into())
        }
    }
}
