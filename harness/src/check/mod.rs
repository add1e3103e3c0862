//! Verdicts on a run: each check judges the history (what clients saw) against the final
//! observations (engine database, exchange record, Kafka events, latency histograms) and
//! answers valid, invalid or unknown with its evidence; composed, the worst wins.
//!
//! The standard set is [`standard`]: no lost order, unknown orders all or nothing, no
//! duplicate, fills match orders, positions and balances match trades, legal transitions,
//! Kafka has every event, latency budgets per phase. [`synthetic`] builds a consistent run
//! for tests and the throughput benchmark.
//!
//! [`HazardsHappened`] is added by scenarios that name their hazard: a fault that met none
//! (nothing in flight when it struck) makes the run unknown, never valid.
//!
//! [`dr`] holds the DR meters (RTO per tier, RPO, business-level loss after reconciliation).
//!
//! Known gaps: rollback checks (deployments) are not written yet; the collectors that fill
//! [`Observations`] from containers live elsewhere.

mod checker;
pub mod dr;
mod duplicates;
mod each_key;
mod error;
mod fills;
mod groups;
mod hasher;
mod hazards;
mod id_rows;
mod index;
mod kafka;
mod key_rows;
mod latency;
mod observations;
mod order_loss;
mod parallel;
mod positions;
mod str_rows;
pub mod synthetic;
mod transitions;
mod unknown;
mod verdict;

pub use checker::{run, All, Check, CheckInput, Noop};
pub use duplicates::NoDuplicate;
pub use error::{BudgetError, CheckError};
pub use fills::FillsMatchOrders;
pub use hazards::HazardsHappened;
pub use kafka::KafkaHasEveryEvent;
pub use latency::{Budget, LatencyBudgets, LatencyCheck};
pub use observations::{
    AccountRow, DbState, ExchangeOrder, ExchangeRecord, ExchangeTrade, InstrumentRow, KafkaEvents,
    LatencySamples, Observations, OrderRow, PosiDirection, PositionRow, TradeRow,
};
pub use order_loss::NoLostOrder;
pub use positions::PositionsMatchTrades;
pub use transitions::{legal as legal_transition, LegalTransitions};
pub use unknown::AllOrNothing;
pub use verdict::{Evidence, Outcome, Verdict};

/// Every check of this module, with the given latency budgets.
pub fn standard(latency: LatencyCheck) -> All {
    safety("all").with(latency)
}

/// Every check but the latency budgets: what must hold whatever the speed (suites that
/// assert correctness judge with this; benches and perf gates judge speed).
pub fn safety(name: &str) -> All {
    All::new(name)
        .with(NoLostOrder)
        .with(AllOrNothing)
        .with(NoDuplicate)
        .with(FillsMatchOrders)
        .with(PositionsMatchTrades)
        .with(LegalTransitions)
        .with(KafkaHasEveryEvent)
}

/// Judges a run with `check`; never panics.
pub fn judge(check: &dyn Check, history: &crate::history::History, obs: &Observations) -> Verdict {
    run(check, &CheckInput::new(history, obs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{parse, HistoryError};

    #[test]
    fn the_standard_set_judges_a_consistent_run_valid_and_a_broken_one_invalid() {
        let (h, mut o) = synthetic::run(120);
        let v = judge(&standard(LatencyCheck::default()), &h, &o);
        assert_eq!(v.outcome, Outcome::Valid, "{:#?}", v.children);
        assert_eq!(v.children.len(), 8);
        o.exchange.orders.retain(|x| x.index != 77);
        let v = judge(&standard(LatencyCheck::default()), &h, &o);
        assert_eq!(v.outcome, Outcome::Invalid);
        let lost = v
            .children
            .iter()
            .find(|c| c.check == "no_lost_order")
            .unwrap();
        assert_eq!(lost.evidence.orders, vec!["c-77"]);
    }

    #[test]
    fn a_truncated_history_is_judged_unknown_naming_file_and_line() {
        let err: HistoryError = parse(
            std::path::Path::new("run-7/history.jsonl"),
            b"{\"type\":\"inv",
        )
        .unwrap_err();
        let v = Verdict::unreadable_history(&err);
        assert_eq!(v.outcome, Outcome::Unknown);
        assert!(
            v.detail.contains("run-7/history.jsonl") && v.detail.contains("line 1 is truncated"),
            "{}",
            v.detail
        );
    }
}
