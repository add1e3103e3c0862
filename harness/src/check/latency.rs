//! Latency budgets per phase (before, during and after a fault), from HdrHistograms. The
//! defaults are the operations documents' (order processing P99 < 2 ms, tick processing P99
//! < 1 ms, trade return < 10 ms, taken as P99 too); each budget and each phase can be set
//! apart, so a feature may allow a fault to slow the platform but not keep it slow after heal.
//!
//! Order latency is the workload's coordinated-omission-corrected histogram when the
//! observations carry one, else each `ok` submit's invoke → ok time from the history (then the
//! evidence names the slowest order). A phase without samples is not judged; no samples at all
//! is `unknown`.
//!
//! Known gaps: budgets are quantiles only (no maximum or alert threshold of 5 ms); the history
//! fallback is not corrected for coordinated omission.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::checker::{Check, CheckInput};
use super::error::{BudgetError, CheckError};
use super::observations::LatencySamples;
use super::verdict::{Findings, Verdict};
use crate::history::{History, Op, Outcome, Phase};

pub const NAME: &str = "latency_budgets";

/// Per phase: the histogram, the slowest sample and whose it was.
type PerPhase = BTreeMap<Phase, (Histogram<u64>, u64, usize)>;
type Pick = fn(&LatencyBudgets) -> Budget;

/// A limit on one quantile of a latency, e.g. P99 < 2 ms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    pub quantile: f64,
    pub limit_ns: u64,
}

impl Budget {
    /// A budget from configuration; `field` names it in the error (e.g. `order_p99_ms`).
    pub fn from_ms(field: &str, quantile: f64, limit_ms: f64) -> Result<Self, BudgetError> {
        if !(quantile > 0.0 && quantile <= 1.0) {
            return Err(BudgetError::Quantile {
                field: field.to_owned(),
                value: quantile,
            });
        }
        let ns = limit_ms * 1e6;
        if !(ns.is_finite() && ns >= 1.0) {
            return Err(BudgetError::NotPositive {
                field: field.to_owned(),
                value: limit_ms,
            });
        }
        Ok(Self {
            quantile,
            limit_ns: ns as u64,
        })
    }

    /// The value of `h` at this budget's quantile.
    pub fn value_in(&self, h: &Histogram<u64>) -> u64 {
        h.value_at_quantile(self.quantile)
    }

    /// Whether `value_ns` (the value at the quantile) is within the limit, which is exclusive.
    pub fn met(&self, value_ns: u64) -> bool {
        value_ns < self.limit_ns
    }
}

/// The budgets of one phase.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencyBudgets {
    pub order: Budget,
    pub tick: Budget,
    pub trade_return: Budget,
}

impl Default for LatencyBudgets {
    fn default() -> Self {
        Self {
            order: Budget {
                quantile: 0.99,
                limit_ns: 2_000_000,
            },
            tick: Budget {
                quantile: 0.99,
                limit_ns: 1_000_000,
            },
            trade_return: Budget {
                quantile: 0.99,
                limit_ns: 10_000_000,
            },
        }
    }
}

/// The check; [`LatencyBudgets::default`] in every phase unless set.
#[derive(Debug, Clone, Default)]
pub struct LatencyCheck {
    base: LatencyBudgets,
    per_phase: BTreeMap<Phase, LatencyBudgets>,
}

impl LatencyCheck {
    pub fn new(budgets: LatencyBudgets) -> Self {
        Self {
            base: budgets,
            per_phase: BTreeMap::new(),
        }
    }

    /// Other budgets for one phase (typically a looser `During`).
    #[must_use]
    pub fn with_phase(mut self, phase: Phase, budgets: LatencyBudgets) -> Self {
        self.per_phase.insert(phase, budgets);
        self
    }

    /// The budgets that apply in `phase`.
    pub fn budgets(&self, phase: Phase) -> &LatencyBudgets {
        self.per_phase.get(&phase).unwrap_or(&self.base)
    }
}

fn histogram() -> Result<Histogram<u64>, CheckError> {
    Histogram::new_with_bounds(1, 3_600_000_000_000, 3).map_err(CheckError::Histogram)
}

/// Order latencies per phase from the history, with the slowest order of each phase (its
/// index in `history.operations`; the last of equals, so a run of slow orders names its end).
fn from_history(history: &History) -> Result<PerPhase, CheckError> {
    let mut out: [Option<(Histogram<u64>, u64, usize)>; 3] = [None, None, None];
    for (i, op) in history.operations.iter().enumerate() {
        let (Op::Submit(_), Outcome::Ok(_), Some(done)) = (&op.op, &op.outcome, op.complete_ns)
        else {
            continue;
        };
        let phase = history.timeline.phase_at(op.invoke_ns);
        let e = match &mut out[phase as usize] {
            Some(e) => e,
            slot => slot.insert((histogram()?, 0, i)),
        };
        let ns = done.saturating_sub(op.invoke_ns);
        e.0.saturating_record(ns.max(1));
        if ns >= e.1 {
            e.1 = ns;
            e.2 = i;
        }
    }
    Ok(Phase::ALL
        .into_iter()
        .zip(out)
        .filter_map(|(p, e)| e.map(|e| (p, e)))
        .collect())
}

fn slowest_order(history: &History, op: usize) -> &str {
    match &history.operations[op].op {
        Op::Submit(s) => &s.client_order_id,
        Op::Cancel(c) => &c.client_order_id,
    }
}

impl LatencySamples {
    /// Fills the order histograms from the history's invoke → ok times when the workload
    /// recorded none, as the latency check does, so that a report shows what was judged.
    pub fn fill_orders_from(&mut self, history: &History) -> Result<(), CheckError> {
        if self.order_ns.is_empty() {
            self.order_ns = from_history(history)?
                .into_iter()
                .map(|(phase, (h, _, _))| (phase, h))
                .collect();
        }
        Ok(())
    }
}

impl Check for LatencyCheck {
    fn name(&self) -> &str {
        NAME
    }

    fn check(&self, input: &CheckInput<'_>) -> Result<Verdict, CheckError> {
        let mut f = Findings::new(NAME);
        let lat = &input.obs.latency;
        let derived = if lat.order_ns.is_empty() {
            from_history(input.history)?
        } else {
            BTreeMap::new()
        };
        let mut table = Vec::new();
        let mut judged = 0u64;
        let kinds: [(&str, Pick); 3] = [
            ("order", |b| b.order),
            ("tick", |b| b.tick),
            ("trade_return", |b| b.trade_return),
        ];
        for (kind, pick) in kinds {
            for phase in Phase::ALL {
                let (h, slowest) = match (kind, lat.order_ns.is_empty()) {
                    ("order", true) => match derived.get(&phase) {
                        Some((h, _, i)) => (h, Some(slowest_order(input.history, *i))),
                        None => continue,
                    },
                    _ => {
                        let src = match kind {
                            "order" => &lat.order_ns,
                            "tick" => &lat.tick_ns,
                            _ => &lat.trade_return_ns,
                        };
                        match src.get(&phase) {
                            Some(h) => (h, None),
                            None => continue,
                        }
                    }
                };
                if h.is_empty() {
                    continue;
                }
                judged += h.len();
                let budget = pick(self.budgets(phase));
                let got = budget.value_in(h);
                let q = format!("p{}", budget.quantile * 100.0);
                table.push(format!(
                    "{kind} {phase} {q}={:.3}ms/{:.3}ms",
                    got as f64 / 1e6,
                    budget.limit_ns as f64 / 1e6
                ));
                f.count(&format!("{kind}_{phase}_samples"), h.len());
                if !budget.met(got) {
                    let name = slowest.map_or_else(|| format!("{kind}/{phase}"), str::to_owned);
                    f.flag(&format!("{kind}_{phase}_over_budget"), || name, || {
                        format!(
                            "{kind} latency {q} {phase} fault: {:.3} ms, budget {:.3} ms ({} samples)",
                            got as f64 / 1e6,
                            budget.limit_ns as f64 / 1e6,
                            h.len()
                        )
                    });
                }
            }
        }
        if judged == 0 {
            return Ok(Verdict::unknown(NAME, "no latency samples"));
        }
        Ok(f.verdict(table.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{judge, synthetic, Outcome as V};

    #[test]
    fn budgets_that_make_no_sense_name_their_field() {
        let e = Budget::from_ms("order_p99_ms", 0.99, -1.0).unwrap_err();
        assert!(e.to_string().contains("order_p99_ms"), "{e}");
        assert!(Budget::from_ms("tick_p99_ms", 0.99, 0.0).is_err());
        assert!(Budget::from_ms("tick_p99_ms", 0.99, f64::NAN).is_err());
        let q = Budget::from_ms("trade_return_ms", 1.5, 10.0).unwrap_err();
        assert!(matches!(q, BudgetError::Quantile { ref field, .. } if field == "trade_return_ms"));
        assert_eq!(Budget::from_ms("x", 0.5, 2.0).unwrap().limit_ns, 2_000_000);
    }

    #[test]
    fn a_run_within_budget_is_valid_in_every_phase() {
        let (h, o) = synthetic::run(90);
        let v = judge(&LatencyCheck::default(), &h, &o);
        assert_eq!(v.outcome, V::Valid, "{v:?}");
        for p in ["before", "during", "after"] {
            assert_eq!(v.evidence.counts[&format!("order_{p}_samples")], 30);
        }
    }

    #[test]
    fn a_slow_order_after_the_heal_is_found_naming_it() {
        let (mut h, o) = synthetic::run(90);
        for op in h.operations.iter_mut().skip(80) {
            op.complete_ns = Some(op.invoke_ns + 5_000_000);
        }
        let v = judge(&LatencyCheck::default(), &h, &o);
        assert_eq!(v.outcome, V::Invalid);
        assert_eq!(v.evidence.counts["order_after_over_budget"], 1);
        assert_eq!(v.evidence.orders, vec!["c-89"]);
        let loose = LatencyBudgets {
            order: Budget::from_ms("order", 0.5, 4.0).unwrap(),
            ..LatencyBudgets::default()
        };
        let v = judge(
            &LatencyCheck::default().with_phase(Phase::After, loose),
            &h,
            &o,
        );
        assert_eq!(v.outcome, V::Valid, "{v:?}");
    }

    #[test]
    fn tick_histograms_are_judged_and_no_samples_is_unknown() {
        let (h, mut o) = synthetic::run(9);
        let mut hist = histogram().unwrap();
        hist.record_n(1_500_000, 10).unwrap();
        o.latency.tick_ns.insert(Phase::During, hist);
        let v = judge(&LatencyCheck::default(), &h, &o);
        assert_eq!(v.evidence.counts["tick_during_over_budget"], 1);
        let empty = crate::history::History::default();
        let none = judge(&LatencyCheck::default(), &empty, &Default::default());
        assert_eq!(none.outcome, V::Unknown);
    }
}
