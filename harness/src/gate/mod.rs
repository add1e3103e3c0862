//! Perf gates that stop the pipeline (`harness perf-gate`). Tier 1 ([`tier1`]) compares the
//! instruction counts of the hot paths (valgrind's callgrind through gungraun, repeatable on a
//! shared machine) with the baselines committed in `perf/baselines/tier1.json`: a rise over
//! the threshold fails. The verdict per metric and for the gate is a [`GateVerdict`]; the
//! report is printed as a table and written as JSON, Markdown and JUnit.
//!
//! Known gaps: tier 2 (end-to-end latency, candidate against baseline image in one run) is not
//! built yet.

mod baseline;
mod render;
pub mod tier1;

pub use baseline::{Baseline, BaselineError, Environment};
pub use render::GateFiles;

use serde::{Deserialize, Serialize};

/// What the gate concluded about one metric, or about the whole gate (the worst of them, in
/// this order: pass, improved, inconclusive, regression).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateVerdict {
    /// Within the threshold of its baseline.
    Pass,
    /// Lower than the baseline by more than the threshold: passes; the baseline can be lowered.
    Improved,
    /// No judgement: no baseline for it, or a baseline from another toolchain or valgrind.
    Inconclusive,
    /// Higher than the baseline by more than the threshold.
    Regression,
}

impl GateVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Improved => "improved",
            Self::Inconclusive => "inconclusive",
            Self::Regression => "REGRESSION",
        }
    }

    /// Whether the pipeline may go on.
    pub fn passes(self) -> bool {
        matches!(self, Self::Pass | Self::Improved)
    }
}

/// One metric against its baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub metric: String,
    pub baseline: Option<u64>,
    pub candidate: u64,
    /// candidate / baseline.
    pub ratio: Option<f64>,
    pub threshold_pct: f64,
    pub verdict: GateVerdict,
    pub note: String,
}

/// A gate's whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateReport {
    pub tier: u8,
    pub verdict: GateVerdict,
    /// Why the gate concluded what it did, in a sentence.
    pub detail: String,
    pub rows: Vec<Row>,
    /// The baseline's environment and this run's.
    pub baseline_env: Environment,
    pub candidate_env: Environment,
}

/// Judges `counts` (metric, candidate) against `baseline` with its threshold.
pub fn judge(
    tier: u8,
    baseline: &Baseline,
    candidate_env: Environment,
    counts: &[(String, u64)],
) -> GateReport {
    let threshold = baseline.threshold_pct;
    let env_differs = baseline.env.differs_from(&candidate_env);
    let rows: Vec<Row> = counts
        .iter()
        .map(|(metric, candidate)| {
            let base = baseline.counts.get(metric).copied();
            let ratio = base
                .filter(|b| *b > 0)
                .map(|b| *candidate as f64 / b as f64);
            let (verdict, note) = match (ratio, &env_differs) {
                (None, _) => (
                    GateVerdict::Inconclusive,
                    "no baseline: record one with --update-baseline".to_string(),
                ),
                (Some(_), Some(why)) => (GateVerdict::Inconclusive, why.clone()),
                (Some(r), None) if r > 1.0 + threshold / 100.0 => (
                    GateVerdict::Regression,
                    format!("{:+.2} % over the baseline", (r - 1.0) * 100.0),
                ),
                (Some(r), None) if r < 1.0 - threshold / 100.0 => (
                    GateVerdict::Improved,
                    format!(
                        "{:+.2} %: lower the baseline with --update-baseline",
                        (r - 1.0) * 100.0
                    ),
                ),
                (Some(r), None) => (GateVerdict::Pass, format!("{:+.3} %", (r - 1.0) * 100.0)),
            };
            Row {
                metric: metric.clone(),
                baseline: base,
                candidate: *candidate,
                ratio,
                threshold_pct: threshold,
                verdict,
                note,
            }
        })
        .collect();
    let missing: Vec<&String> = baseline
        .counts
        .keys()
        .filter(|k| !counts.iter().any(|(m, _)| m == *k))
        .collect();
    let mut verdict = rows
        .iter()
        .map(|r| r.verdict)
        .max()
        .unwrap_or(GateVerdict::Inconclusive);
    if !missing.is_empty() && verdict < GateVerdict::Inconclusive {
        verdict = GateVerdict::Inconclusive;
    }
    let regressions: Vec<&str> = rows
        .iter()
        .filter(|r| r.verdict == GateVerdict::Regression)
        .map(|r| r.metric.as_str())
        .collect();
    let detail = if !regressions.is_empty() {
        format!(
            "{} over the {threshold} % threshold: {}",
            regressions.len(),
            regressions.join(", ")
        )
    } else if let Some(why) = env_differs {
        why
    } else if !missing.is_empty() {
        format!("the baseline has metrics this run did not measure: {missing:?}")
    } else if verdict == GateVerdict::Inconclusive {
        "a metric has no baseline".to_string()
    } else {
        format!(
            "{} metrics within {threshold} % of their baselines",
            rows.len()
        )
    };
    GateReport {
        tier,
        verdict,
        detail,
        rows,
        baseline_env: baseline.env.clone(),
        candidate_env,
    }
}

#[cfg(test)]
mod tests;
