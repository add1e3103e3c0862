//! The report of a run, written into its run directory beside the history: `report.json` (the
//! whole report, read back by [`Report::load`] for `harness repro` and later tools), `junit.xml`
//! for CI (one testsuite per run, one testcase per check), and [`Report::summary`], the human
//! table printed at the end of a run: each check's verdict with its evidence, the latency table
//! per phase, the run directory, the seed and the command that replays the run.
//!
//! Everything is rendered from one plain data value, [`Report`], so that more renderings (the
//! HTML page with the fault timeline and latency over time) are new files here, not new
//! plumbing. Exit codes are the CLI's business; [`Report::outcome`] gives it the verdict.
//!
//! `report.html` ([`html`]) draws the run over time ([`series`]: latency and outcomes per
//! window) against the fault windows.
//!
//! Known gaps: the DR certificate of `certify` is not written here (it reuses the page's
//! pieces); tick and trade-return latency have no time axis (the engine's histograms are
//! scraped per phase).

mod error;
mod faults;
pub(crate) mod html;
mod junit;
mod latency;
mod run;
mod series;
mod summary;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use error::ReportError;
pub use faults::{around_faults, FaultLatency};
pub use latency::{LatencyKind, LatencyRow, PhaseLatency, PhaseStats};
pub use run::RunInfo;
pub use series::{series, Series, Window};

use crate::check::{Evidence, LatencyCheck, LatencySamples, Outcome, Verdict};

/// The JSON report in a run directory.
pub const REPORT_FILE: &str = "report.json";
/// The HTML report in a run directory.
pub const HTML_FILE: &str = "report.html";
/// The JUnit XML report in a run directory.
pub const JUNIT_FILE: &str = "junit.xml";

/// The version of `report.json`'s layout; a reader refuses none, but can tell.
pub const FORMAT: u32 = 1;

/// One check's verdict with its evidence. `name` is the check's, prefixed by the names of the
/// groups it was composed in below the top (`dr/rto` for a check `rto` inside a group `dr`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub name: String,
    pub outcome: Outcome,
    pub detail: String,
    pub evidence: Evidence,
}

/// Everything a run's report says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub format: u32,
    pub run: RunInfo,
    /// The composed verdict: the worst of the checks.
    pub outcome: Outcome,
    pub detail: String,
    pub checks: Vec<CheckResult>,
    pub latency: Vec<LatencyRow>,
    /// Order acknowledgement latency before, during and after each fault.
    #[serde(default)]
    pub faults: Vec<FaultLatency>,
    /// The run over time (latency and outcomes per window), for the HTML page.
    #[serde(default)]
    pub series: Series,
    /// What each fault put at risk when it struck (returns in flight at a disconnect, ...),
    /// measured from ground truth: a fault with none proved nothing about its recovery path.
    #[serde(default)]
    pub hazards: Vec<crate::history::HazardMark>,
}

/// The files [`Report::write`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFiles {
    pub report_json: PathBuf,
    pub junit_xml: PathBuf,
    pub report_html: PathBuf,
}

impl Report {
    /// A report of `verdict`, with the latency table of `latency` against `budgets` (the same
    /// latency check the verdict came from). When the workload recorded no order histograms,
    /// fill them first with [`LatencySamples::fill_orders_from`], as the check does.
    pub fn new(
        run: RunInfo,
        verdict: &Verdict,
        latency: &LatencySamples,
        budgets: &LatencyCheck,
    ) -> Self {
        let mut checks = Vec::new();
        if verdict.children.is_empty() {
            push_leaves(&mut checks, "", verdict);
        } else {
            for c in &verdict.children {
                push_leaves(&mut checks, "", c);
            }
        }
        Self {
            format: FORMAT,
            run,
            outcome: verdict.outcome,
            detail: verdict.detail.clone(),
            checks,
            latency: latency::table(latency, budgets),
            faults: Vec::new(),
            series: Series::default(),
            hazards: Vec::new(),
        }
    }

    /// The verdict of the run, for the CLI's exit code.
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// Writes `report.json`, `junit.xml` and `report.html` into `run_dir` (created if missing). Each file is
    /// written beside its final name and renamed, so a reader never sees half a report.
    pub fn write(&self, run_dir: &Path) -> Result<ReportFiles, ReportError> {
        std::fs::create_dir_all(run_dir).map_err(|source| ReportError::CreateDir {
            path: run_dir.to_owned(),
            source,
        })?;
        let report_json = run_dir.join(REPORT_FILE);
        let json = serde_json::to_vec_pretty(self).map_err(|source| ReportError::Encode {
            path: report_json.clone(),
            source,
        })?;
        write_atomic(&report_json, &json)?;
        let junit_xml = run_dir.join(JUNIT_FILE);
        let xml = junit::render(self, &self.summary()).map_err(|source| ReportError::Junit {
            path: junit_xml.clone(),
            source,
        })?;
        write_atomic(&junit_xml, xml.as_bytes())?;
        let report_html = run_dir.join(HTML_FILE);
        write_atomic(&report_html, html::page(self).as_bytes())?;
        Ok(ReportFiles {
            report_json,
            junit_xml,
            report_html,
        })
    }

    /// Reads the `report.json` of a run directory.
    pub fn load(run_dir: &Path) -> Result<Self, ReportError> {
        let path = run_dir.join(REPORT_FILE);
        let bytes = std::fs::read(&path).map_err(|source| ReportError::Read {
            path: path.clone(),
            source,
        })?;
        serde_json::from_slice(&bytes).map_err(|source| ReportError::Parse { path, source })
    }

    /// The human summary: checks with evidence, latency table, run directory, seed, replay.
    pub fn summary(&self) -> String {
        summary::render(self)
    }
}

fn push_leaves(out: &mut Vec<CheckResult>, prefix: &str, v: &Verdict) {
    let name = if prefix.is_empty() {
        v.check.clone()
    } else {
        format!("{prefix}/{}", v.check)
    };
    if v.children.is_empty() {
        out.push(CheckResult {
            name,
            outcome: v.outcome,
            detail: v.detail.clone(),
            evidence: v.evidence.clone(),
        });
    } else {
        for c in &v.children {
            push_leaves(out, &name, c);
        }
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).map_err(|source| ReportError::Write {
        path: tmp.clone(),
        source,
    })?;
    std::fs::rename(&tmp, path).map_err(|source| ReportError::Write {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests;
