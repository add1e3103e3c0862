//! Only legal order-state transitions, judged from the `order-events` each order published
//! (redeliveries dropped, in seq order), with this file's own state machine rather than the
//! engine's: an order starts `new`; `new` may become anything; `accepted` may become partially
//! filled, filled or canceled; `partially_filled` may repeat (with more traded), fill or cancel;
//! `filled`, `canceled` and `rejected` are final and nothing follows them. Traded volume never
//! falls nor exceeds the order's, a filled order traded all of it and a rejected one nothing.
//!
//! Known gaps: gaps in seq are `kafka.rs`'s to report; a transition hidden inside a gap is not
//! judged (the two events around the gap are judged as if adjacent).

use contract::model::OrderStatus::{self, *};

use super::checker::{Check, CheckInput};
use super::error::CheckError;
use super::index::EventBrief;
use super::verdict::{Findings, Verdict};

pub const NAME: &str = "legal_transitions";

#[derive(Debug, Clone, Copy, Default)]
pub struct LegalTransitions;

/// Whether an order may publish `to` right after `from`.
pub fn legal(from: OrderStatus, to: OrderStatus) -> bool {
    match from {
        New => to != New,
        Accepted => matches!(to, PartiallyFilled | Filled | Canceled),
        PartiallyFilled => matches!(to, PartiallyFilled | Filled | Canceled),
        Filled | Canceled | Rejected => false,
    }
}

fn problem(events: &[EventBrief]) -> Option<String> {
    let mut prev: Option<&EventBrief> = None;
    for e in events {
        if e.volume_traded > e.volume || e.volume_traded < 0 {
            return Some(format!(
                "seq {}: traded {} of {}",
                e.seq, e.volume_traded, e.volume
            ));
        }
        if (e.status == Filled && e.volume_traded != e.volume)
            || (e.status == Rejected && e.volume_traded != 0)
        {
            return Some(format!(
                "seq {}: {} with {} of {} traded",
                e.seq, e.status, e.volume_traded, e.volume
            ));
        }
        match prev {
            None if e.status != New => {
                return Some(format!(
                    "seq {}: first state is {}, not new",
                    e.seq, e.status
                ))
            }
            Some(p) if !legal(p.status, e.status) => {
                return Some(format!(
                    "seq {} -> {}: {} -> {}",
                    p.seq, e.seq, p.status, e.status
                ));
            }
            Some(p) if e.volume_traded < p.volume_traded => {
                return Some(format!(
                    "seq {}: traded fell from {} to {}",
                    e.seq, p.volume_traded, e.volume_traded
                ));
            }
            _ => {}
        }
        prev = Some(e);
    }
    None
}

impl Check for LegalTransitions {
    fn name(&self) -> &str {
        NAME
    }

    fn check(&self, input: &CheckInput<'_>) -> Result<Verdict, CheckError> {
        let mut f = Findings::new(NAME);
        let all = &input.obs.kafka.order_events;
        let mut sorted: Vec<EventBrief> = Vec::new();
        for row in 0..input.index.order_events_of.len() {
            let got = input.index.order_events_of.of(row);
            if got.is_empty() {
                continue;
            }
            // Redeliveries dropped, in seq order; as received when already so.
            let events = if got.is_sorted_by(|a, b| a.seq < b.seq) {
                got
            } else {
                sorted.clear();
                sorted.extend_from_slice(got);
                sorted.sort_by_key(|e| e.seq);
                sorted.dedup_by_key(|e| e.seq);
                &sorted
            };
            if let Some(what) = problem(events) {
                let e = &all[events[0].k as usize];
                f.flag(
                    "illegal_transition",
                    || e.client_order_id.clone(),
                    || format!("{} (order {}): {what}", e.client_order_id, e.order_id),
                );
            }
        }
        Ok(f.verdict(format!(
            "{} orders' events",
            input.index.order_events_of.len()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{judge, synthetic, Outcome};
    use proptest::prelude::*;

    #[test]
    fn a_synthetic_run_moves_legally() {
        let (h, o) = synthetic::run(40);
        assert_eq!(judge(&LegalTransitions, &h, &o).outcome, Outcome::Valid);
    }

    #[test]
    fn a_filled_order_later_canceled_is_found_naming_it() {
        let (h, mut o) = synthetic::run(40);
        let mut late = o.kafka.order_events[3 * 5 + 2].clone();
        assert_eq!(late.status, Filled);
        late.seq = 4;
        late.status = Canceled;
        o.kafka.order_events.push(late);
        let v = judge(&LegalTransitions, &h, &o);
        assert_eq!(v.outcome, Outcome::Invalid);
        assert_eq!(v.evidence.orders, vec!["c-5"]);
        assert!(v.evidence.first_bad.unwrap().contains("filled -> canceled"));
    }

    #[test]
    fn an_accepted_order_rejected_is_found() {
        let (h, mut o) = synthetic::run(40);
        o.kafka.order_events[3 * 8 + 2].status = Rejected;
        o.kafka.order_events[3 * 8 + 2].volume_traded = 0;
        let v = judge(&LegalTransitions, &h, &o);
        assert_eq!(v.evidence.orders, vec!["c-8"]);
    }

    fn status() -> impl Strategy<Value = OrderStatus> {
        prop_oneof![
            Just(New),
            Just(Accepted),
            Just(PartiallyFilled),
            Just(Filled),
            Just(Canceled),
            Just(Rejected)
        ]
    }

    proptest! {
        /// Whatever follows a final state is illegal, and a path of legal moves from `new` is
        /// never flagged.
        #[test]
        fn final_states_end_every_path(to in status(), from in status()) {
            if from.is_final() {
                prop_assert!(!legal(from, to));
            }
            if legal(from, to) {
                prop_assert!(!from.is_final());
                prop_assert!(to != New);
            }
        }
    }
}
