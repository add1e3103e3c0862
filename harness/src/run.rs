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
use crate::fault::chain;
use crate::history::{self, HistoryError, Recorder, HISTORY_FILE};
use crate::observe::{metrics, Convergence, KafkaMarks, ObserveError, Observer, Sampler};
use crate::platform::{Endpoints, Platform};
use crate::report::{Report, ReportError, RunInfo};
use crate::workload::{
    self, GrpcOrders, PlannedOp, Reply, SharedRecorder, WorkloadError, WorkloadResult, WorkloadSpec,
};

/// How long one operation sent on its own may take before its outcome is unknown.
pub const OP_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the platform may take to settle after the workload.
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The longest a run's engine metrics are sampled (a nightly chaos run lasts hours at most).
const SAMPLE_AT_MOST: Duration = Duration::from_secs(24 * 3600);

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

/// Empties `dir` (creating it if need be): a run directory replaced by a new run.
pub fn fresh_dir(dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => std::fs::create_dir_all(dir),
    }
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
    /// What went wrong outside the checks' view (a fault that could not be applied, a
    /// workload that could not run): each makes the verdict unknown.
    spoiled: Vec<Verdict>,
    kafka_marks: KafkaMarks,
    /// The engine's tick and trade-return histograms, scraped through the run.
    sampler: Option<Sampler>,
    /// How long the platform may take to settle after the workload ([`SETTLE_TIMEOUT`]).
    settle_timeout: Duration,
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
        fresh_dir(&dir).map_err(|source| RunError::Dir {
            path: dir.clone(),
            source,
        })?;
        let observer = Observer::connect(endpoints).await?;
        let initial = observer.initial().await?;
        let kafka_marks = observer.kafka_marks().await?;
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
            engine_security: endpoints.engine.as_ref().map(|e| e.security.clone()),
        };
        let recorder = Arc::new(Mutex::new(Recorder::create(&dir)?));
        let sampler = endpoints.engine.as_ref().map(|e| {
            let clock = recorder.clone();
            Sampler::start(
                format!("http://{}/metrics", e.http),
                move || clock.lock().unwrap_or_else(|e| e.into_inner()).now_ns(),
                SAMPLE_AT_MOST,
            )
        });
        Ok(Self {
            recorder,
            dir,
            info,
            endpoints: endpoints.clone(),
            observer,
            initial,
            workloads: Vec::new(),
            orders: None,
            spoiled: Vec::new(),
            kafka_marks,
            sampler,
            settle_timeout: SETTLE_TIMEOUT,
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

    /// How long the platform may take to settle before the run is judged (default
    /// [`SETTLE_TIMEOUT`]). A run that cannot settle (an engine defect that leaves orders
    /// without an answer for ever) states a shorter wait instead of spending a minute on it;
    /// not settling in time makes the convergence check unknown, never valid.
    pub fn settle_within(&mut self, timeout: Duration) {
        self.settle_timeout = timeout;
    }

    /// Marks the run unknown, never valid, with the reason as the evidence of `what`.
    pub fn spoil(&mut self, what: &str, reason: impl Into<String>) {
        self.spoiled.push(Verdict::unknown(what, reason));
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
        // A service that cannot be read at the end makes the run unknown, with its report
        // written, never an error without one (the run directory still replays it).
        let convergence = match self.observer.settle(self.settle_timeout).await {
            Ok(c) => c,
            Err(e) => {
                self.spoil(
                    "observe",
                    format!("cannot tell whether the platform settled: {}", chain(&e)),
                );
                Convergence::default()
            }
        };
        let history = history::load(&self.dir.join(HISTORY_FILE));
        let samples: Vec<_> = self
            .workloads
            .iter()
            .flat_map(|w| w.samples.iter().copied())
            .collect();
        let scrapes = match self.sampler.take() {
            Some(s) => s.stop().await,
            None => Vec::new(),
        };
        let latency = match &history {
            Ok(h) => {
                let mut l = workload::latency_samples(&samples, &h.timeline);
                l.tick_ns = metrics::per_phase(&scrapes, metrics::TICK, &h.timeline);
                l.trade_return_ns =
                    metrics::per_phase(&scrapes, metrics::TRADE_RETURN, &h.timeline);
                l
            }
            Err(_) => Default::default(),
        };
        let observed = self
            .observer
            .observe(self.initial, latency.clone(), &self.kafka_marks)
            .await;
        let (observations, judged) = match (observed, &history) {
            (Err(e), _) => {
                let why = format!("cannot read the final state: {}", chain(&e));
                let obs = Observations {
                    latency,
                    ..Default::default()
                };
                (obs, Verdict::unknown(check.name(), why))
            }
            (Ok(obs), Ok(h)) => {
                let v = check::judge(check, h, &obs);
                (obs, v)
            }
            (Ok(obs), Err(e)) => (obs, Verdict::unreadable_history(e)),
        };
        let mut parts = vec![convergence.verdict(), judged];
        parts.append(&mut self.spoiled);
        let verdict = Verdict::all("run", parts);
        self.info.finished = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
        if let Ok(h) = &history {
            self.info.schedule = h.timeline.windows().to_vec();
        }
        let mut report = Report::new(self.info, &verdict, &observations.latency, budgets);
        if let Ok(h) = &history {
            report.faults = crate::report::around_faults(
                &samples,
                h.timeline.windows(),
                budgets.budgets(crate::history::Phase::During).order,
            );
            report.series = crate::report::series(&samples, h);
            report.hazards = h.hazards.clone();
        }
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
