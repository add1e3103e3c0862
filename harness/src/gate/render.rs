//! A gate's report as a table (printed), JSON, Markdown and JUnit (one testcase per metric, a
//! failure for a regression, skipped when inconclusive).

use std::fmt::Write;
use std::path::{Path, PathBuf};

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{GateReport, GateVerdict};

/// The files [`GateReport::write`] wrote.
#[derive(Debug, Clone)]
pub struct GateFiles {
    pub json: PathBuf,
    pub markdown: PathBuf,
    pub junit: PathBuf,
}

fn count(n: Option<u64>) -> String {
    n.map_or("—".into(), |n| n.to_string())
}

fn ratio(r: Option<f64>) -> String {
    r.map_or("—".into(), |r| format!("{r:.4}"))
}

/// A row's cells, in the table's order: metric, baseline, candidate, ratio, threshold (in
/// percent, without the sign), verdict, note.
fn cells(r: &super::Row) -> [String; 7] {
    [
        r.metric.clone(),
        count(r.baseline),
        r.candidate.to_string(),
        ratio(r.ratio),
        r.threshold_pct.to_string(),
        r.verdict.as_str().to_string(),
        r.note.clone(),
    ]
}

impl GateReport {
    /// The table a person reads, verdict last.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{:<18} {:>14} {:>14} {:>8} {:>9}  {:<12} note\n",
            "metric", "baseline", "candidate", "ratio", "threshold", "verdict"
        );
        for r in &self.rows {
            let [metric, baseline, candidate, ratio, threshold, verdict, note] = cells(r);
            let _ = writeln!(
                out,
                "{metric:<18} {baseline:>14} {candidate:>14} {ratio:>8} {threshold:>8}%  {verdict:<12} {note}"
            );
        }
        let _ = writeln!(
            out,
            "tier {} gate: {}: {}\nbaseline: {} / {} at {}\nthis run: {} / {} at {}",
            self.tier,
            self.verdict.as_str(),
            self.detail,
            self.baseline_env.toolchain,
            self.baseline_env.valgrind,
            self.baseline_env.commit,
            self.candidate_env.toolchain,
            self.candidate_env.valgrind,
            self.candidate_env.commit
        );
        out
    }

    fn markdown(&self) -> String {
        let mut out = format!(
            "# Perf gate, tier {}: {}\n\n{}\n\n| metric | baseline | candidate | ratio | threshold | verdict | note |\n| --- | ---: | ---: | ---: | ---: | --- | --- |\n",
            self.tier,
            self.verdict.as_str(),
            self.detail
        );
        for r in &self.rows {
            let [metric, baseline, candidate, ratio, threshold, verdict, note] = cells(r);
            let _ = writeln!(
                out,
                "| {metric} | {baseline} | {candidate} | {ratio} | {threshold} % | {verdict} | {note} |"
            );
        }
        let _ = write!(
            out,
            "\nBaseline: {} / {} at `{}`. This run: {} / {} at `{}`.\n",
            self.baseline_env.toolchain,
            self.baseline_env.valgrind,
            self.baseline_env.commit,
            self.candidate_env.toolchain,
            self.candidate_env.valgrind,
            self.candidate_env.commit
        );
        out
    }

    fn junit(&self) -> Result<String, quick_junit::SerializeError> {
        let mut suite = TestSuite::new(format!("perf-gate-tier{}", self.tier));
        for r in &self.rows {
            let status = match r.verdict {
                GateVerdict::Pass | GateVerdict::Improved => TestCaseStatus::success(),
                GateVerdict::Regression => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(r.note.clone());
                    s
                }
                GateVerdict::Inconclusive => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(r.note.clone());
                    s
                }
            };
            let mut case = TestCase::new(r.metric.clone(), status);
            case.set_system_out(format!(
                "baseline {} candidate {} ratio {}",
                count(r.baseline),
                r.candidate,
                ratio(r.ratio)
            ));
            suite.add_test_case(case);
        }
        let mut report = Report::new("perf-gate");
        report.add_test_suite(suite);
        report.to_string()
    }

    /// Writes `tier<N>.json`, `.md` and `.xml` into `dir`.
    pub fn write(&self, dir: &Path) -> std::io::Result<GateFiles> {
        std::fs::create_dir_all(dir)?;
        let stem = format!("tier{}", self.tier);
        let files = GateFiles {
            json: dir.join(format!("{stem}.json")),
            markdown: dir.join(format!("{stem}.md")),
            junit: dir.join(format!("{stem}.xml")),
        };
        let json = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(&files.json, json)?;
        std::fs::write(&files.markdown, self.markdown())?;
        std::fs::write(&files.junit, self.junit().map_err(std::io::Error::other)?)?;
        Ok(files)
    }
}
