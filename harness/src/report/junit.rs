//! `junit.xml` for CI, through `quick-junit` (nextest's serializer): one testsuite per run, one
//! testcase per check. An invalid check is a `failure` whose message is its first bad event and
//! whose text is the evidence. An unknown check is an `error`, not `skipped`: unknown means the
//! check could not judge (a truncated history, a checker that failed, no samples), and CI tools
//! count `skipped` as harmless, which would let an unjudged run pass for a green one. The
//! suite's properties carry the seed, the replay command, the run directory and the images;
//! its system-out is the human summary.

use quick_junit::{NonSuccessKind, Property, SerializeError, TestCase, TestCaseStatus, TestSuite};

use super::summary::evidence_lines;
use super::{CheckResult, Report};
use crate::check::Outcome;

fn status(c: &CheckResult) -> TestCaseStatus {
    let (kind, ty) = match c.outcome {
        Outcome::Valid => return TestCaseStatus::success(),
        Outcome::Invalid => (NonSuccessKind::Failure, "invalid"),
        Outcome::Unknown => (NonSuccessKind::Error, "unknown"),
    };
    let mut s = TestCaseStatus::non_success(kind);
    s.set_type(ty);
    s.set_message(c.evidence.first_bad.as_deref().unwrap_or(&c.detail));
    let mut text = vec![c.detail.clone()];
    text.extend(evidence_lines(&c.evidence, usize::MAX));
    s.set_description(text.join("\n"));
    s
}

/// The JUnit XML of `r`, with `summary` as the suite's system-out.
pub(crate) fn render(r: &Report, summary: &str) -> Result<String, SerializeError> {
    let run = &r.run;
    let mut suite = TestSuite::new(run.name.as_str());
    suite
        .set_timestamp(run.started)
        .set_time(run.duration())
        .add_property(Property::new("seed", run.seed.to_string()))
        .add_property(Property::new("replay_command", run.replay_command.as_str()))
        .add_property(Property::new("run_dir", run.run_dir.display().to_string()));
    for (service, image) in &run.images {
        suite.add_property(Property::new(format!("image.{service}"), image.as_str()));
    }
    for c in &r.checks {
        let mut case = TestCase::new(c.name.as_str(), status(c));
        case.set_classname(format!("harness.{}", run.name));
        suite.add_test_case(case);
    }
    suite.set_system_out(summary);
    let mut report = quick_junit::Report::new(run.name.as_str());
    report
        .set_timestamp(run.started)
        .set_time(run.duration())
        .add_test_suite(suite);
    report.to_string()
}
