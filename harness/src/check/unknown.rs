//! Unknown orders are all or nothing. An `info` (or never completed) submit may or may not
//! exist, but never half: the exchange holds no order the engine does not know, and every
//! engine order reached the exchange unless the engine rejected it. A `fail` submit did not
//! happen at all: it left no order that is not rejected (unless an `ok` submit of the same
//! client_order_id made it).
//!
//! Known gaps: orders still `new` when observed count as never routed, so observations must be
//! taken after the platform converged.

use contract::model::OrderStatus;

use super::checker::{Check, CheckInput};
use super::error::CheckError;
use super::verdict::{Findings, Verdict};
use crate::history::{Op, Outcome};

pub const NAME: &str = "unknown_all_or_nothing";

#[derive(Debug, Clone, Copy, Default)]
pub struct AllOrNothing;

impl Check for AllOrNothing {
    fn name(&self) -> &str {
        NAME
    }

    fn check(&self, input: &CheckInput<'_>) -> Result<Verdict, CheckError> {
        let mut f = Findings::new(NAME);
        let (orders, idx) = (&input.obs.db.orders, &input.index);
        for (x, link) in idx.exchange_link.iter().enumerate() {
            if link.is_none() {
                let e = &input.obs.exchange.orders[x];
                f.flag(
                    "exchange_order_engine_lacks",
                    || format!("exchange#{}", e.index),
                    || {
                        format!(
                            "exchange order #{} (ref {}/{}/{}, {} {}x{}) unknown to the engine",
                            e.index,
                            e.front_id,
                            e.session_id,
                            e.order_ref,
                            e.instrument_id,
                            e.volume,
                            e.price
                        )
                    },
                );
            }
        }
        for (row, o) in orders.iter().enumerate() {
            if idx.exchange_orders_of.of(row).is_empty() && o.status != OrderStatus::Rejected {
                f.flag(
                    "engine_order_never_routed",
                    || o.client_order_id.clone(),
                    || {
                        format!(
                            "{}: order {} is {} but never reached the exchange",
                            o.client_order_id, o.order_id, o.status
                        )
                    },
                );
            }
        }
        let ops = &input.history.operations;
        let failed = |op: &&crate::history::Operation| {
            matches!((&op.op, &op.outcome), (Op::Submit(_), Outcome::Fail(_)))
        };
        let (mut unknown, mut any_failed) = (0u64, false);
        for op in ops.iter().filter(|op| matches!(op.op, Op::Submit(_))) {
            unknown += u64::from(op.outcome.is_unknown());
            any_failed |= failed(&op);
        }
        if any_failed {
            // A failed submit that left a live order is excused only by an acknowledged submit
            // of the same client_order_id; both name the same engine rows, so mark those.
            let mut acked = vec![false; orders.len()];
            for (i, op) in ops.iter().enumerate() {
                if let (Op::Submit(_), Outcome::Ok(_), Some(first)) =
                    (&op.op, &op.outcome, idx.first_row_of_op(i))
                {
                    acked[first] = true;
                }
            }
            for (i, op) in ops.iter().enumerate().filter(|(_, op)| failed(op)) {
                let Op::Submit(s) = &op.op else { continue };
                let cid = s.client_order_id.as_str();
                let rows = idx.rows_of_op(i);
                if idx.first_row_of_op(i).is_some_and(|first| acked[first]) {
                    continue;
                }
                for row in rows.iter().map(|&r| r as usize) {
                    if orders[row].status != OrderStatus::Rejected {
                        f.flag(
                            "failed_submit_took_effect",
                            || cid.to_owned(),
                            || {
                                format!(
                                    "{cid}: submit failed but order {} is {}",
                                    orders[row].order_id, orders[row].status
                                )
                            },
                        );
                    }
                }
            }
        }
        f.count("unknown_submits", unknown);
        Ok(f.verdict(format!(
            "{unknown} unknown submits, {} engine orders, {} exchange orders",
            orders.len(),
            input.obs.exchange.orders.len()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{judge, synthetic, Outcome as V};
    use crate::history::{OpError, Outcome};

    fn make_unknown(h: &mut crate::history::History, i: usize) {
        h.operations[i].outcome = Outcome::Info(OpError {
            code: "TIMEOUT".into(),
            ..OpError::default()
        });
    }

    #[test]
    fn an_unknown_order_that_fully_happened_or_never_did_is_valid() {
        let (mut h, mut o) = synthetic::run(30);
        make_unknown(&mut h, 4);
        make_unknown(&mut h, 5);
        o.db.orders.retain(|r| r.client_order_id != "c-5");
        o.exchange.orders.retain(|x| x.index != 5);
        o.exchange.trades.retain(|t| t.order_index != 5);
        let v = judge(&AllOrNothing, &h, &o);
        assert_eq!(v.outcome, V::Valid, "{v:?}");
        assert_eq!(v.evidence.counts["unknown_submits"], 2);
    }

    #[test]
    fn half_an_unknown_order_is_found_on_either_side() {
        let (mut h, mut o) = synthetic::run(30);
        make_unknown(&mut h, 6);
        o.db.orders.retain(|r| r.client_order_id != "c-6");
        let v = judge(&AllOrNothing, &h, &o);
        assert_eq!(v.outcome, V::Invalid);
        assert_eq!(v.evidence.orders, vec!["exchange#6"]);

        let (mut h, mut o) = synthetic::run(30);
        make_unknown(&mut h, 7);
        o.exchange.orders.retain(|x| x.index != 7);
        let v = judge(&AllOrNothing, &h, &o);
        assert_eq!(v.evidence.orders, vec!["c-7"]);
        assert_eq!(v.evidence.counts["engine_order_never_routed"], 1);
    }

    #[test]
    fn a_failed_submit_that_left_a_live_order_is_found() {
        let (mut h, o) = synthetic::run(30);
        h.operations[9].outcome = Outcome::Fail(OpError {
            code: "FAILED_PRECONDITION".into(),
            ..OpError::default()
        });
        let v = judge(&AllOrNothing, &h, &o);
        assert_eq!(v.evidence.orders, vec!["c-9"]);
        assert_eq!(v.evidence.counts["failed_submit_took_effect"], 1);
    }
}
