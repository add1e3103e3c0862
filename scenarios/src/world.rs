//! The World of one scenario: the engine's settings before start, the platform, the run (its
//! history and workloads), the replies of single operations by label, and, once a `Then` step
//! asks for it, the judged run. At the end of a scenario that passed, the platform goes to the
//! next scenario with the same engine, reset ([`crate::pool`]); after a failure it is removed,
//! unless `HARNESS_KEEP=on-failure` asks to keep it for a look (the next start sweeps it).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use cucumber::World;
use harness::check::{self, LatencyBudgets, LatencyCheck};
use harness::fault::{Nemesis, Schedule};
use harness::history::Phase;
use harness::platform::EngineSpec;
use harness::run::{Judged, Run};
use harness::workload::Reply;
use harness::Platform;

#[derive(World)]
#[world(init = Self::new)]
pub struct TradingWorld {
    /// The scenario's name (set before its first step).
    pub scenario: String,
    /// The feature file the scenario comes from, for errors that name a line in it.
    pub feature: Option<PathBuf>,
    pub investor: String,
    pub defects: Vec<String>,
    pub platform: Option<Platform>,
    pub run: Option<Run>,
    /// The run's directory, kept after the run is judged, for the failure recap.
    pub run_dir: Option<PathBuf>,
    /// Faults on this platform, recorded in the run's history; healed before judging.
    pub nemesis: Option<Nemesis<'static>>,
    /// Budgets set by the scenario, per phase; none set means only the safety checks judge.
    pub budgets: BTreeMap<Phase, LatencyBudgets>,
    pub budgets_set: bool,
    /// The fault kinds whose hazard the scenario needs to have happened (judged by
    /// [`check::HazardsHappened`] with the other checks).
    pub hazards: Vec<(String, Option<String>)>,
    /// Replies of single operations, by the scenario's label, in order.
    pub replies: BTreeMap<String, Vec<Reply>>,
    /// Labelled orders as first submitted.
    pub orders: BTreeMap<String, harness::history::SubmitOrder>,
    /// The fault schedules played during workloads, in order.
    pub schedules: Vec<Played>,
    pub judged: Option<Judged>,
    /// How a DR drill runs (replication, line, rate), set by `Given` steps before it runs.
    pub drill_options: harness::dr::DrillOptions,
    /// The DR drill this scenario ran, on a platform of its own (already removed).
    pub drill: Option<harness::dr::DrillResult>,
    /// Set when the scenario runs on two datacenters (their replication): such a platform is
    /// started fresh and removed at the scenario's end, never shared.
    pub two_datacenters: Option<harness::platform::Replication>,
    /// When the run began, in microseconds since the Unix epoch: the mock CTP front's clock
    /// (the host's), to tell this run's session marks from an earlier scenario's.
    pub started_unix_us: u64,
}

/// A schedule as played: when it started on the history's clock, so that each step's
/// intended inject and heal can be placed on the run's timeline.
#[derive(Debug, Clone)]
pub struct Played {
    pub start_ns: u64,
    pub schedule: Schedule,
}

impl fmt::Debug for TradingWorld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TradingWorld")
            .field("investor", &self.investor)
            .field("defects", &self.defects)
            .field("run_id", &self.platform.as_ref().map(Platform::run_id))
            .field("seed", &self.platform.as_ref().map(Platform::seed))
            .field("run_dir", &self.run_dir)
            .field("verdict", &self.judged.as_ref().map(|j| j.verdict.outcome))
            .finish()
    }
}

impl TradingWorld {
    fn new() -> Self {
        Self {
            scenario: String::new(),
            feature: None,
            investor: "000001".into(),
            defects: Vec::new(),
            platform: None,
            run: None,
            run_dir: None,
            nemesis: None,
            budgets: BTreeMap::new(),
            budgets_set: false,
            hazards: Vec::new(),
            replies: BTreeMap::new(),
            orders: BTreeMap::new(),
            schedules: Vec::new(),
            judged: None,
            drill_options: harness::dr::DrillOptions::default(),
            drill: None,
            two_datacenters: None,
            started_unix_us: 0,
        }
    }

    /// Fails a step that must come before the platform starts.
    pub fn before_start(&self, what: &str) -> Result<()> {
        if self.platform.is_some() {
            bail!("{what} must come before \"Given the platform is running\"");
        }
        Ok(())
    }

    /// Starts the platform with the engine as configured (or takes the last scenario's, reset),
    /// and begins the run.
    pub async fn start(&mut self) -> Result<()> {
        self.before_start("starting the platform twice")?;
        let spec = self.engine_spec();
        let platform = match self.two_datacenters {
            Some(replication) => crate::pool::start_two_dc(spec, replication).await?,
            None => crate::pool::checkout(spec).await?,
        };
        let name = format!("{}-{}", slug(&self.scenario), platform.run_id());
        println!(
            "platform {} seed {} run {}",
            platform.run_id(),
            platform.seed(),
            name
        );
        self.started_unix_us = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
        let replay = replay_command(&self.scenario);
        let run = Run::begin(&name, &platform, &replay).await?;
        self.nemesis = Some(Nemesis::detached(&platform).record_into(run.recorder()));
        self.run_dir = Some(run.dir().to_path_buf());
        self.run = Some(run);
        self.platform = Some(platform);
        Ok(())
    }

    pub fn platform(&self) -> Result<&Platform> {
        self.platform
            .as_ref()
            .ok_or_else(|| anyhow!("no platform: start it with \"Given the platform is running\""))
    }

    pub fn nemesis(&mut self) -> Result<&mut Nemesis<'static>> {
        if self.judged.is_some() {
            bail!("the run was already judged: faults must come before the first check");
        }
        self.nemesis
            .as_mut()
            .ok_or_else(|| anyhow!("no platform: start it with \"Given the platform is running\""))
    }

    /// The run and the nemesis at once, for a workload with a fault in its middle.
    pub fn run_and_nemesis(&mut self) -> Result<(&mut Run, &mut Nemesis<'static>)> {
        self.nemesis()?;
        self.run_mut()?;
        match (self.run.as_mut(), self.nemesis.as_mut()) {
            (Some(r), Some(n)) => Ok((r, n)),
            _ => bail!("no platform: start it with \"Given the platform is running\""),
        }
    }

    pub fn run_mut(&mut self) -> Result<&mut Run> {
        if self.judged.is_some() {
            bail!("the run was already judged: operations must come before the first check");
        }
        self.run
            .as_mut()
            .ok_or_else(|| anyhow!("no run: start it with \"Given the platform is running\""))
    }

    /// The judged run, judging it now (settle, final reads, checks) if no step did yet.
    pub async fn judged(&mut self) -> Result<&Judged> {
        if self.judged.is_none() {
            if let Some(n) = self.nemesis.as_mut() {
                n.heal_all()
                    .await
                    .context("healing every fault before judging")?;
            }
            let run = self
                .run
                .take()
                .ok_or_else(|| anyhow!("nothing to judge: the platform never started"))?;
            let base = self
                .budgets
                .get(&Phase::Before)
                .copied()
                .unwrap_or_default();
            let mut latency = LatencyCheck::new(base);
            for (phase, b) in &self.budgets {
                latency = latency.with_phase(*phase, *b);
            }
            let mut checks = if self.budgets_set {
                check::standard(latency.clone())
            } else {
                check::safety("all")
            };
            if !self.hazards.is_empty() {
                let need = self.hazards.iter().fold(
                    check::HazardsHappened::default(),
                    |c, (kind, target)| match target {
                        Some(t) => c.and_on(kind, t),
                        None => c.and_on(kind, ""),
                    },
                );
                checks = checks.with(need);
            }
            let judged = run.finish(&checks, &latency).await?;
            println!("{}", judged.report.summary());
            self.judged = Some(judged);
        }
        Ok(self.judged.as_ref().expect("judged above"))
    }

    /// Gives the platform to the next scenario (see [`crate::pool`]) if this one passed and
    /// its faults healed; otherwise removes it (or keeps it, when asked to).
    pub async fn finish_scenario(&mut self, failed: bool) {
        let scenario = self.scenario.clone();
        let mut healed = true;
        if let Some(mut n) = self.nemesis.take() {
            if let Err(e) = n.heal_all().await {
                eprintln!("scenario {:?}: healing failed: {e:#}", self.scenario);
                healed = false;
            }
        }
        let Some(platform) = self.platform.take() else {
            return;
        };
        if !failed && healed && self.two_datacenters.is_none() {
            return crate::pool::checkin(self.engine_spec(), platform).await;
        }
        let keep = std::env::var("HARNESS_KEEP").is_ok_and(|v| v == "on-failure");
        if failed && keep {
            println!(
                "scenario {scenario:?} failed: keeping platform {} (HARNESS_KEEP=on-failure); \
                 `harness sweep` removes it once this process has exited",
                platform.run_id()
            );
            std::mem::forget(platform);
            return;
        }
        crate::pool::remove(platform).await;
    }

    /// The engine this scenario asks for.
    fn engine_spec(&self) -> EngineSpec {
        EngineSpec {
            investor: self.investor.clone(),
            defects: self.defects.clone(),
            ..EngineSpec::default()
        }
    }
}

/// The command that runs scenario `name` again, alone.
pub fn replay_command(name: &str) -> String {
    format!("cargo test -p suites --test features -- --name {name:?}")
}

/// A file-name-safe form of a scenario's name.
pub(crate) fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    s.split('-')
        .filter(|p| !p.is_empty())
        .take(8)
        .collect::<Vec<_>>()
        .join("-")
}
