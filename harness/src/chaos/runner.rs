//! One chaos case on a running platform: reset to the seeded state, then the flow and the fault
//! schedule together on one history, every fault healed, settle, final reads, the safety checks
//! (latency is reported per fault, not judged: a fault is meant to slow things down). A
//! schedule that cannot be played (a fault that cannot be applied or healed) or a workload that
//! cannot run makes the run unknown, never valid; the report is written either way.

use std::time::{Duration, Instant};

use super::case::Case;
use super::error::ChaosError;
use super::reset::reset;
use crate::check::{self, LatencyCheck};
use crate::fault::{chain, Nemesis};
use crate::platform::Platform;
use crate::run::{Judged, Run};

/// A judged case and what it cost.
#[derive(Debug)]
pub struct CaseRun {
    pub judged: Judged,
    /// The state reset before it, when there was one.
    pub reset: Option<Duration>,
    /// From the reset's start to the verdict.
    pub elapsed: Duration,
}

/// The command that replays the run in `dir` against fresh containers.
pub fn repro_command(dir: &std::path::Path) -> String {
    format!("cargo run -p harness -- repro {}", dir.display())
}

/// Runs `case` as run `name` on `platform`, resetting the platform's state first when
/// `reset_first` (every case but one on fresh containers).
pub async fn run_case(
    platform: &Platform,
    case: &Case,
    name: &str,
    reset_first: bool,
) -> Result<CaseRun, ChaosError> {
    let t0 = Instant::now();
    let reset = match reset_first {
        true => Some(reset(platform).await?),
        false => None,
    };
    let dir = crate::run::runs_dir().join(name);
    let mut run = Run::begin(name, platform, &repro_command(&dir)).await?;
    case.save(run.dir())?;
    let spec = case.workload(&format!("c{:x}", case.seed));
    let mut nemesis = Nemesis::new(platform).record_into(run.recorder());
    let (workload, schedule) =
        tokio::join!(run.workload(&spec), nemesis.run_schedule(&case.schedule));
    let workload = workload.map(|w| w.sent).map_err(|e| e.to_string());
    if let Err(e) = schedule {
        tracing::error!(error = %chain(&e), "the fault schedule failed");
        run.spoil(
            "fault_schedule",
            format!("the fault schedule failed: {}", chain(&e)),
        );
    }
    match workload {
        Err(e) => run.spoil("workload", format!("the workload failed: {e}")),
        Ok(0) => run.spoil("workload", "the workload sent nothing"),
        Ok(_) => {}
    }
    let judged = run
        .finish(&check::safety("chaos"), &LatencyCheck::default())
        .await?;
    Ok(CaseRun {
        judged,
        reset,
        elapsed: t0.elapsed(),
    })
}
