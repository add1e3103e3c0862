//! The two commands around single chaos cases on fresh containers: [`nightly`] draws a case
//! from a seed (`harness chaos --duration D --seed S`) and [`repro`] replays the case saved in
//! a run directory (`harness repro <run dir>`). Both start their own platform and remove it
//! afterwards, whatever the outcome.

use std::path::Path;
use std::time::Duration;

use super::case::Case;
use super::error::ChaosError;
use super::mix::FaultMix;
use super::runner::{run_case, CaseRun};
use super::strategy;
use crate::fault::Nemesis;
use crate::platform::{EngineSpec, Platform, Topology};

/// What `harness chaos` runs.
#[derive(Debug, Clone)]
pub struct NightlyOptions {
    /// The length of the order flow and of the fault schedule.
    pub duration: Duration,
    pub seed: u64,
    pub mix: FaultMix,
    /// The engine's CTP investor (the flow's account).
    pub investor: String,
    pub defects: Vec<String>,
    pub ready_timeout: Duration,
}

async fn platform(case: &Case, ready_timeout: Duration) -> Result<Platform, ChaosError> {
    let spec = EngineSpec {
        investor: case.investor.clone(),
        defects: case.defects.clone(),
        ..EngineSpec::default()
    };
    Platform::builder()
        .topology(Topology::single_dc().with_engine_spec(spec))
        .seed(case.seed)
        .readiness_timeout(ready_timeout)
        .start()
        .await
        .map_err(ChaosError::from)
}

/// Runs `case` on `platform`, a fresh one, and removes it even when the case failed.
async fn run_and_remove(
    platform: Platform,
    case: &Case,
    name: &str,
) -> Result<CaseRun, ChaosError> {
    let result = run_case(&platform, case, name, false).await;
    let removed = platform.shutdown().await;
    let run = result?;
    removed?;
    Ok(run)
}

/// Draws the case of `opts.seed` for the platform's targets and runs it.
pub async fn nightly(opts: &NightlyOptions) -> Result<(Case, CaseRun), ChaosError> {
    opts.mix.validate("--mix")?;
    let mut case = Case {
        seed: opts.seed,
        investor: opts.investor.clone(),
        defects: opts.defects.clone(),
        ..Case::default()
    };
    let platform = platform(&case, opts.ready_timeout).await?;
    let catalogue = Nemesis::new(&platform).catalogue();
    let drawn = strategy::draw(
        &strategy::case(&opts.mix, opts.duration, &catalogue),
        opts.seed,
    );
    case.flow = drawn.flow;
    case.schedule = drawn.schedule;
    let run = run_and_remove(platform, &case, &format!("chaos-{}", opts.seed)).await?;
    Ok((case, run))
}

/// The run directory a replay of `dir` writes: `<dir name>-repro` beside it.
pub fn repro_name(dir: &Path) -> String {
    let base = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into());
    format!("{base}-repro")
}

/// Replays the case saved in `dir` against fresh containers.
pub async fn repro(dir: &Path, ready_timeout: Duration) -> Result<(Case, CaseRun), ChaosError> {
    let case = Case::load(dir)?;
    let platform = platform(&case, ready_timeout).await?;
    let run = run_and_remove(platform, &case, &repro_name(dir)).await?;
    Ok((case, run))
}
