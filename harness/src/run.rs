//! One judged run against a started platform, in the phases a chaos harness has: set up (a run
//! directory, the history, the initial money), workload (under faults, when a nemesis is
//! given the same recorder), settle, final reads, check. Features, the engine suite and the
//! chaos runs all go through it, so every run leaves the same files and is judged the same
//! way: `history.jsonl` in `target/harness/runs/<name>/`, and a verdict naming its evidence.
//!
//! [`Run::finish`] writes `report.json` and `junit.xml` beside the history and returns the
//! report, whose summary names each check's evidence, the latency table, the seed and the
//! command that replays the run.
//!
//! Known gaps: one workload account per run.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use thiserror::Error;

use crate::check::{self, Check, DbState, LatencyCheck, Observations, Verdict};
use crate::history::{self, HistoryError, Recorder, HISTORY_FILE};
use crate::observe::{Convergence, ObserveError, Observer};
use crate::platform::{Endpoints, Platform};
use crate::report::{Report, ReportError, RunInfo};
use crate::workload::{
    self, GrpcOrders, PlannedOp, Reply, SharedRecorder, WorkloadError, WorkloadResult, WorkloadSpec,
};

/// How long one operation sent on its own may take before its outcome is unknown.
pub const OP_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the platform may take to settle after the workload.
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Error)]
pub enum RunError {
    #[error("failed to create the run directory {path}")]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the platform has no trading engine to drive")]
    NoEngine,
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error(transparent)]
    Observe(#[from] ObserveError),
    #[error(transparent)]
    Workload(#[from] WorkloadError),
    #[error(transparent)]
    Report(#[from] ReportError),
}

/// Where runs keep their files: `HARNESS_RUNS_DIR`, else `<target>/harness/runs`.
pub fn runs_dir() -> PathBuf {
    std::env::var_os("HARNESS_RUNS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            crate::images::target_dir(&crate::workspace_root())
                .join("harness")
                .join("runs")
        })
}

/// A run in progress.
pub struct Run {
    dir: PathBuf,
    info: RunInfo,
    endpoints: Endpoints,
    recorder: SharedRecorder<BufWriter<File>>,
    observer: Observer,
    initial: DbState,
    workloads: Vec<WorkloadResult>,
    orders: Option<GrpcOrders>,
}

/// A finished, judged run.
#[derive(Debug)]
pub struct Judged {
    pub dir: PathBuf,
    pub verdict: Verdict,
    pub report: Report,
    pub convergence: Convergence,
    pub observations: Observations,
    pub workloads: Vec<WorkloadResult>,
}

impl Run {
    /// Starts run `name` (its directory is replaced) against `platform`; `replay_command` is
    /// what the report says replays it (`HARNESS_SEED=<seed>` is prepended).
    pub async fn begin(
        name: &str,
        platform: &Platform,
        replay_command: &str,
    ) -> Result<Self, RunError> {
        let endpoints = platform.endpoints();
        let dir = runs_dir().join(name);
        let made = match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => std::fs::create_dir_all(&dir),
        };
        made.map_err(|source| RunError::Dir {
            path: dir.clone(),
            source,
        })?;
        let observer = Observer::connect(endpoints).await?;
        let initial = observer.initial().await?;
        let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
        let info = RunInfo {
            name: name.to_owned(),
            run_dir: dir.clone(),
            seed: platform.seed(),
            replay_command: format!("HARNESS_SEED={} {replay_command}", platform.seed()),
            started: now,
            finished: now,
            images: platform.images().clone(),
            schedule: Vec::new(),
        };
        Ok(Self {
            recorder: Arc::new(Mutex::new(Recorder::create(&dir)?)),
            dir,
            info,
            endpoints: endpoints.clone(),
            observer,
            initial,
            workloads: Vec::new(),
            orders: None,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The history's recorder, for a nemesis to put its faults on the same timeline.
    pub fn recorder(&self) -> SharedRecorder<BufWriter<File>> {
        self.recorder.clone()
    }

    /// Runs `spec` against the engine; its result is kept for the verdict.
    pub async fn workload(&mut self, spec: &WorkloadSpec) -> Result<&WorkloadResult, RunError> {
        let engine = self.endpoints.engine.as_ref().ok_or(RunError::NoEngine)?;
        let grpc = engine.grpc.to_string();
        let result = workload::run_against(spec, &grpc, self.recorder.clone()).await?;
        self.workloads.push(result);
        Ok(self.workloads.last().expect("just pushed"))
    }

    /// Sends one operation now, recorded in the history like the workload's.
    pub async fn perform(&mut self, op: &PlannedOp) -> Result<Reply, RunError> {
        if self.orders.is_none() {
            let engine = self.endpoints.engine.as_ref().ok_or(RunError::NoEngine)?;
            self.orders = Some(GrpcOrders::connect(&engine.grpc.to_string()).await?);
        }
        let orders = self.orders.as_ref().expect("connected above");
        Ok(workload::perform(op, orders, &self.recorder, OP_TIMEOUT).await?)
    }

    /// Settles, reads the final state and judges it with `check` plus convergence, then writes
    /// the report (its latency table against `budgets`). A history that cannot be read back
    /// makes the verdict unknown, never valid.
    pub async fn finish(
        mut self,
        check: &dyn Check,
        budgets: &LatencyCheck,
    ) -> Result<Judged, RunError> {
        self.recorder
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .flush()?;
        let convergence = self.observer.settle(SETTLE_TIMEOUT).await?;
        let history = history::load(&self.dir.join(HISTORY_FILE));
        let samples: Vec<_> = self
            .workloads
            .iter()
            .flat_map(|w| w.samples.iter().copied())
            .collect();
        let latency = match &history {
            Ok(h) => workload::latency_samples(&samples, &h.timeline),
            Err(_) => Default::default(),
        };
        let observations = self.observer.observe(self.initial, latency).await?;
        let judged = match &history {
            Ok(h) => check::judge(check, h, &observations),
            Err(e) => Verdict::unreadable_history(e),
        };
        let verdict = Verdict::all("run", vec![convergence.verdict(), judged]);
        self.info.finished = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
        if let Ok(h) = &history {
            self.info.schedule = h.timeline.windows().to_vec();
        }
        let report = Report::new(self.info, &verdict, &observations.latency, budgets);
        report.write(&self.dir)?;
        Ok(Judged {
            dir: self.dir,
            verdict,
            report,
            convergence,
            observations,
            workloads: self.workloads,
        })
    }
}
