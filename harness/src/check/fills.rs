//! Fills match orders: no fill without an order (an exchange trade whose order is not in the
//! record, an engine trade whose order is not in the database or that the exchange never made),
//! no fill lost (an exchange trade of an engine order missing from the engine's trades), and
//! filled ≤ ordered on both sides, with each side's traded volume equal to the sum of its
//! trades and the two sides agreeing.
//!
//! Known gaps: trades are matched by TradeID alone (the mock numbers them per trading day);
//! prices are not compared between the sides.

use std::collections::BTreeMap;

use super::each_key::each_key;
use super::id_rows::NONE;
use super::key_rows::{same_key, Form, KeyRows};
use super::str_rows::trim;

use super::checker::{Check, CheckInput};
use super::error::CheckError;
use super::verdict::{Findings, Verdict};

pub const NAME: &str = "fills_match_orders";

#[derive(Debug, Clone, Copy, Default)]
pub struct FillsMatchOrders;

impl Check for FillsMatchOrders {
    fn name(&self) -> &str {
        NAME
    }

    fn check(&self, input: &CheckInput<'_>) -> Result<Verdict, CheckError> {
        let mut f = Findings::new(NAME);
        let (db, ex, idx) = (&input.obs.db, &input.obs.exchange, &input.index);
        let mut ex_traded = vec![0i64; ex.orders.len()];
        // Each exchange trade id is looked up once: `first_of` maps every exchange trade to the
        // first one of its id, and engine trades mark the ids they hold in `in_engine`.
        let (ex_trade_ids, first_of) = KeyRows::first_wins(
            ex.trades.len(),
            |k| ex.trades[k as usize].trade_id.as_str(),
            Form::TRIMMED,
        );
        let order_sys_of = |k: usize| ex.trades[k].order_sys_id.as_str();
        each_key(ex.trades.len(), order_sys_of, |k, sys| {
            let t = &ex.trades[k];
            let x = t.order_index;
            let its_sys = || trim(&ex.orders[x].order_sys_id);
            if x < ex.orders.len() && same_key(idx.exchange_sys[x], its_sys, trim(sys)) {
                ex_traded[x] += i64::from(t.volume);
            } else {
                let tid = trim(&t.trade_id);
                f.flag(
                    "exchange_fill_without_order",
                    || format!("exchange_trade={tid}"),
                    || {
                        format!(
                            "exchange trade {tid} names order #{} which the record lacks",
                            t.order_index
                        )
                    },
                );
            }
            true
        });
        let mut in_engine = vec![false; ex.trades.len()];
        let trade_id_of = |i: usize| db.trades[i].trade_id.as_str();
        ex_trade_ids.look_up_each(db.trades.len(), trade_id_of, |i, tid, k| {
            let (t, tid) = (&db.trades[i], tid.unwrap_or_default());
            if idx.trade_order[i] == NONE {
                f.flag(
                    "engine_fill_without_order",
                    || format!("order_id={}", t.order_id),
                    || {
                        format!(
                            "engine trade {tid} of order {} which the database lacks",
                            t.order_id
                        )
                    },
                );
            }
            if let Some(k) = k {
                in_engine[k as usize] = true;
            } else {
                f.flag(
                    "engine_fill_exchange_never_made",
                    || format!("order_id={}", t.order_id),
                    || {
                        format!(
                            "engine trade {tid} of order {} is not in the exchange record",
                            t.order_id
                        )
                    },
                );
            }
        });
        let mut lost: BTreeMap<u32, u32> = BTreeMap::new();
        for (k, t) in ex.trades.iter().enumerate() {
            if let Some(Some(row)) = idx.exchange_link.get(t.order_index) {
                if !in_engine[first_of[k] as usize] {
                    *lost.entry(*row).or_default() += 1;
                }
            }
        }
        for (row, n) in lost {
            let o = &db.orders[row as usize];
            f.flag(
                "fill_lost_by_engine",
                || o.client_order_id.clone(),
                || {
                    format!(
                        "{}: {n} exchange trades of order {} missing from the engine",
                        o.client_order_id, o.order_id
                    )
                },
            );
        }
        for (x, o) in ex.orders.iter().enumerate() {
            if o.volume_traded > o.volume || i64::from(o.volume_traded) != ex_traded[x] {
                f.flag(
                    "exchange_overfilled_or_unsummed",
                    || format!("exchange#{}", o.index),
                    || {
                        format!(
                            "exchange order #{}: volume {}, traded {}, trades sum {}",
                            o.index, o.volume, o.volume_traded, ex_traded[x]
                        )
                    },
                );
            }
        }
        for (row, o) in db.orders.iter().enumerate() {
            let sum: i64 = idx
                .trades_of
                .of(row)
                .iter()
                .map(|&t| i64::from(db.trades[t as usize].volume))
                .sum();
            if o.volume_traded > o.volume || i64::from(o.volume_traded) != sum {
                f.flag(
                    "engine_overfilled_or_unsummed",
                    || o.client_order_id.clone(),
                    || {
                        format!(
                            "{}: volume {}, volume_traded {}, trades sum {sum}",
                            o.client_order_id, o.volume, o.volume_traded
                        )
                    },
                );
            }
            let ex_sum: i64 = idx
                .exchange_orders_of
                .of(row)
                .iter()
                .map(|&x| ex_traded[x as usize])
                .sum();
            if ex_sum != i64::from(o.volume_traded) && !idx.exchange_orders_of.of(row).is_empty() {
                f.flag(
                    "traded_volume_disagrees",
                    || o.client_order_id.clone(),
                    || {
                        format!(
                            "{}: engine traded {}, exchange traded {ex_sum}",
                            o.client_order_id, o.volume_traded
                        )
                    },
                );
            }
        }
        Ok(f.verdict(format!(
            "{} engine trades, {} exchange trades",
            db.trades.len(),
            ex.trades.len()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{judge, synthetic, Outcome};

    #[test]
    fn a_synthetic_run_has_matching_fills() {
        let (h, o) = synthetic::run(40);
        assert_eq!(judge(&FillsMatchOrders, &h, &o).outcome, Outcome::Valid);
    }

    #[test]
    fn a_dropped_trade_return_is_found_naming_the_order() {
        let (h, mut o) = synthetic::run(40);
        let k =
            o.db.trades
                .iter()
                .position(|t| t.order_id == synthetic::order_id(10))
                .unwrap();
        o.db.trades.remove(k);
        o.db.orders[10].volume_traded = 0;
        let v = judge(&FillsMatchOrders, &h, &o);
        assert_eq!(v.outcome, Outcome::Invalid);
        assert!(v.evidence.orders.contains(&"c-10".to_owned()), "{v:?}");
        assert_eq!(v.evidence.counts["fill_lost_by_engine"], 1);
    }

    #[test]
    fn a_fill_without_an_order_and_an_overfill_are_found() {
        let (h, mut o) = synthetic::run(40);
        let mut t = o.db.trades[0].clone();
        t.order_id = 999_999;
        o.db.trades.push(t);
        o.db.orders[2].volume_traded = o.db.orders[2].volume + 1;
        let v = judge(&FillsMatchOrders, &h, &o);
        assert_eq!(v.evidence.counts["engine_fill_without_order"], 1);
        assert!(v.evidence.orders.contains(&"order_id=999999".to_owned()));
        assert!(v.evidence.orders.contains(&"c-2".to_owned()));
    }
}
