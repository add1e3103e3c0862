//! The latency table of a report: per kind (order ack, tick, trade return) and phase (before,
//! during, after a fault) the sample count, median, P99, P99.9 and maximum, the budget of that
//! phase and whether it was met, by the latency check's own rule ([`Budget::met`]), so that the
//! table and the verdict never disagree.
//!
//! A phase without samples has no statistics (`None`), which the summary prints as "—": an
//! empty phase is not a phase that took 0 ns.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::check::{Budget, LatencyBudgets, LatencyCheck, LatencySamples};
use crate::history::Phase;

/// What a row of the table measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LatencyKind {
    OrderAck,
    Tick,
    TradeReturn,
}

impl LatencyKind {
    pub const ALL: [LatencyKind; 3] = [Self::OrderAck, Self::Tick, Self::TradeReturn];

    pub fn label(self) -> &'static str {
        match self {
            Self::OrderAck => "order ack",
            Self::Tick => "tick",
            Self::TradeReturn => "trade return",
        }
    }

    fn budget(self, b: &LatencyBudgets) -> Budget {
        match self {
            Self::OrderAck => b.order,
            Self::Tick => b.tick,
            Self::TradeReturn => b.trade_return,
        }
    }
}

/// The distribution of one kind in one phase, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseStats {
    pub samples: u64,
    pub median_ns: u64,
    pub p99_ns: u64,
    pub p999_ns: u64,
    pub max_ns: u64,
    /// The value at the budget's quantile, which [`Budget::met`] judges.
    pub at_budget_ns: u64,
}

/// One cell group of the table: a phase, its statistics if it had samples, and its budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseLatency {
    pub phase: Phase,
    pub stats: Option<PhaseStats>,
    pub budget: Budget,
}

impl PhaseLatency {
    /// Whether the budget was met; `None` when the phase had no samples.
    pub fn met(&self) -> Option<bool> {
        self.stats.map(|s| self.budget.met(s.at_budget_ns))
    }
}

/// A row of the table: one kind, every phase in [`Phase::ALL`] order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyRow {
    pub kind: LatencyKind,
    pub phases: Vec<PhaseLatency>,
}

pub(super) fn stats(h: &Histogram<u64>, budget: Budget) -> Option<PhaseStats> {
    (!h.is_empty()).then(|| PhaseStats {
        samples: h.len(),
        median_ns: h.value_at_quantile(0.5),
        p99_ns: h.value_at_quantile(0.99),
        p999_ns: h.value_at_quantile(0.999),
        max_ns: h.max(),
        at_budget_ns: budget.value_in(h),
    })
}

/// The table of `samples` against the budgets of `check`, phase by phase.
pub(crate) fn table(samples: &LatencySamples, check: &LatencyCheck) -> Vec<LatencyRow> {
    LatencyKind::ALL
        .into_iter()
        .map(|kind| {
            let src = match kind {
                LatencyKind::OrderAck => &samples.order_ns,
                LatencyKind::Tick => &samples.tick_ns,
                LatencyKind::TradeReturn => &samples.trade_return_ns,
            };
            let phases = Phase::ALL
                .into_iter()
                .map(|phase| {
                    let budget = kind.budget(check.budgets(phase));
                    PhaseLatency {
                        phase,
                        stats: src.get(&phase).and_then(|h| stats(h, budget)),
                        budget,
                    }
                })
                .collect();
            LatencyRow { kind, phases }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_phase_has_no_statistics_and_a_slow_one_misses_its_budget() {
        let mut s = LatencySamples::default();
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
        h.record_n(3_000_000, 100).unwrap();
        s.order_ns.insert(Phase::During, h);
        s.order_ns.insert(
            Phase::After,
            Histogram::new_with_bounds(1, 1_000_000, 3).unwrap(),
        );
        let t = table(&s, &LatencyCheck::default());
        let order = &t[0];
        assert_eq!(order.kind, LatencyKind::OrderAck);
        assert_eq!(order.phases[0].stats, None);
        assert_eq!(order.phases[0].met(), None);
        assert_eq!(order.phases[1].stats.unwrap().samples, 100);
        assert_eq!(order.phases[1].met(), Some(false));
        assert_eq!(
            order.phases[2].stats, None,
            "an empty histogram is no phase"
        );
    }
}
