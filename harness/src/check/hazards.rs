//! The scenario's hazard happened: each fault of the kinds a scenario is about met the danger
//! its recovery path exists for (returns in flight at a front disconnect), as measured from
//! ground truth when the fault struck and recorded in the history. A fault whose hazard was
//! zero, or not measured, proved nothing about that path: the run is `unknown`, never `valid`,
//! with the reason. A run with no such fault at all is `unknown` too.

use super::checker::{Check, CheckInput};
use super::error::CheckError;
use super::verdict::{Outcome, Verdict};
use crate::history::{FaultWindow, HazardMark};

pub const NAME: &str = "hazards_happened";

/// Requires a hazard above zero at every fault of the given kinds (on the given targets).
#[derive(Debug, Clone, Default)]
pub struct HazardsHappened {
    needs: Vec<(String, Option<String>)>,
}

impl HazardsHappened {
    /// The check's name in verdicts and reports.
    pub const NAME: &'static str = NAME;

    /// At every fault of each of `kinds` (e.g. `front_disconnect`).
    pub fn at(kinds: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            needs: kinds.into_iter().map(|k| (k.into(), None)).collect(),
        }
    }

    /// Also at every fault of `kind` whose target names `target` (e.g. `down` on `kafka`).
    pub fn and_on(mut self, kind: &str, target: &str) -> Self {
        self.needs.push((kind.to_owned(), Some(target.to_owned())));
        self
    }
}

fn secs(ns: u64) -> String {
    format!("{:.1} s", ns as f64 / 1e9)
}

/// The hazards measured for `w`: same fault and target, from its inject until the next inject
/// of the same fault on the same target (a hazard is recorded right after its inject).
fn hazards_of<'a>(
    w: &FaultWindow,
    next_inject: Option<u64>,
    marks: &'a [HazardMark],
) -> Vec<&'a HazardMark> {
    marks
        .iter()
        .filter(|m| m.hazard.fault == w.fault && m.hazard.target == w.target)
        .filter(|m| m.at_ns >= w.inject_ns && next_inject.is_none_or(|n| m.at_ns < n))
        .collect()
}

impl Check for HazardsHappened {
    fn name(&self) -> &str {
        NAME
    }

    fn check(&self, input: &CheckInput<'_>) -> Result<Verdict, CheckError> {
        let h = input.history;
        let mut judged = Vec::new();
        let mut vacuous = Vec::new();
        let mut counts = std::collections::BTreeMap::new();
        for (kind, on) in &self.needs {
            let windows: Vec<&FaultWindow> = h
                .timeline
                .windows()
                .iter()
                .filter(|w| &w.fault == kind)
                .filter(|w| on.as_ref().is_none_or(|t| w.target.contains(t.as_str())))
                .collect();
            if windows.is_empty() {
                let on = on.as_ref().map(|t| format!(" on {t}")).unwrap_or_default();
                vacuous.push(format!("the run had no {kind} fault{on}"));
                continue;
            }
            let (mut real, mut total) = (0u64, 0u64);
            for (i, w) in windows.iter().enumerate() {
                let next = windows[i + 1..]
                    .iter()
                    .find(|n| n.target == w.target)
                    .map(|n| n.inject_ns);
                let found = hazards_of(w, next, &h.hazards);
                let at = format!("{kind} on {} at {}", w.target, secs(w.inject_ns));
                let Some(first) = found.first() else {
                    vacuous.push(format!("{at}: its hazard was not measured"));
                    continue;
                };
                let size: u64 = found.iter().map(|m| m.hazard.size).sum();
                let measure = &first.hazard.measure;
                total += size;
                if size == 0 {
                    vacuous.push(format!(
                        "{at}: 0 {measure}, so the recovery path it exists for was not exercised"
                    ));
                } else {
                    real += 1;
                    judged.push(format!("{at}: {size} {measure} ({})", first.hazard.detail));
                }
            }
            counts.insert(format!("{kind}_faults"), windows.len() as u64);
            counts.insert(format!("{kind}_with_hazard"), real);
            counts.insert(format!("{kind}_hazard_total"), total);
        }
        let (outcome, detail) = if vacuous.is_empty() {
            (Outcome::Valid, judged.join("; "))
        } else {
            (Outcome::Unknown, vacuous.join("; "))
        };
        let mut v = Verdict::new(NAME, outcome, detail);
        if let Some(first) = (!vacuous.is_empty()).then(|| vacuous[0].clone()) {
            v.evidence.first_bad = Some(first);
        }
        v.evidence.counts = counts;
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use rstest::rstest;

    use super::*;
    use crate::check::{judge, Observations};
    use crate::history::{Entry, FaultAction, Hazard, History};

    const S: u64 = 1_000_000_000;

    fn fault(at_ns: u64, action: FaultAction) -> Entry {
        Entry::Fault {
            at_ns,
            action,
            fault: "front_disconnect".into(),
            target: "mock-ctp".into(),
        }
    }

    fn hazard(at_ns: u64, size: u64) -> Entry {
        Entry::Hazard {
            at_ns,
            hazard: Hazard {
                fault: "front_disconnect".into(),
                target: "mock-ctp".into(),
                measure: "returns_undelivered".into(),
                size,
                detail: format!("session 7 of 000003: {size} returns undelivered"),
            },
        }
    }

    /// Two disconnects (at 1 s and 3 s), each followed by the hazards given for it.
    fn run(first: &[u64], second: &[u64]) -> History {
        let mut e = vec![fault(S, FaultAction::Inject)];
        e.extend(first.iter().map(|s| hazard(S + 1, *s)));
        e.push(fault(S + 2, FaultAction::Heal));
        e.push(fault(3 * S, FaultAction::Inject));
        e.extend(second.iter().map(|s| hazard(3 * S + 1, *s)));
        e.push(fault(3 * S + 2, FaultAction::Heal));
        History::from_entries(Path::new("h"), e).unwrap()
    }

    #[rstest]
    #[case::returns_in_flight_at_both(&[12], &[9], Outcome::Valid, "")]
    #[case::nothing_in_flight_at_the_second(&[12], &[0], Outcome::Unknown, "front_disconnect on mock-ctp at 3.0 s: 0 returns_undelivered")]
    #[case::not_measured_at_the_first(&[], &[4], Outcome::Unknown, "front_disconnect on mock-ctp at 1.0 s: its hazard was not measured")]
    #[case::two_sessions_one_empty(&[0, 3], &[1], Outcome::Valid, "")]
    fn each_disconnect_needs_returns_in_flight(
        #[case] first: &[u64],
        #[case] second: &[u64],
        #[case] outcome: Outcome,
        #[case] reason: &str,
    ) {
        let h = run(first, second);
        let v = judge(
            &HazardsHappened::at(["front_disconnect"]),
            &h,
            &Observations::default(),
        );
        assert_eq!(v.outcome, outcome, "{}", v.explain());
        assert!(v.detail.contains(reason), "{}", v.detail);
    }

    #[test]
    fn a_need_on_a_target_judges_only_the_faults_on_it() {
        let h = run(&[0], &[0]);
        let v = judge(
            &HazardsHappened::default().and_on("front_disconnect", "kafka"),
            &h,
            &Observations::default(),
        );
        assert_eq!(v.outcome, Outcome::Unknown);
        assert!(
            v.detail.contains("no front_disconnect fault on kafka"),
            "{}",
            v.detail
        );
        let v = judge(
            &HazardsHappened::default().and_on("front_disconnect", "mock"),
            &run(&[2], &[1]),
            &Observations::default(),
        );
        assert_eq!(v.outcome, Outcome::Valid, "{}", v.explain());
    }

    #[test]
    fn a_run_without_the_fault_is_unknown() {
        let h = History::from_entries(Path::new("h"), Vec::new()).unwrap();
        let v = judge(
            &HazardsHappened::at(["front_disconnect"]),
            &h,
            &Observations::default(),
        );
        assert_eq!(v.outcome, Outcome::Unknown);
        assert!(
            v.detail.contains("no front_disconnect fault"),
            "{}",
            v.detail
        );
    }

    #[test]
    fn the_counts_say_how_many_faults_had_a_real_hazard() {
        let v = judge(
            &HazardsHappened::at(["front_disconnect"]),
            &run(&[12], &[0]),
            &Observations::default(),
        );
        assert_eq!(v.evidence.counts["front_disconnect_faults"], 2);
        assert_eq!(v.evidence.counts["front_disconnect_with_hazard"], 1);
        assert_eq!(v.evidence.counts["front_disconnect_hazard_total"], 12);
    }
}
