//! Kafka has every event: for each engine order, its `order-events` carry seq 1..=N without a
//! gap, N being the row's `order_event_seq`, first received in seq order, the last one in the
//! row's final status; its `trade-events` likewise up to `trade_event_seq`, one per trade row.
//! A repeated seq is a redelivery (allowed by the contract) and ignored. Events for an order the
//! database does not hold are flagged.
//!
//! Known gaps: a redelivered event is not compared with the original's content; events are
//! judged as received by one consumer, so cross-partition order is not judged (the contract
//! promises order per order id only).

use super::checker::{Check, CheckInput};
use super::error::CheckError;
use super::index::EventBrief;
use super::observations::OrderRow;
use super::verdict::{Findings, Verdict};

pub const NAME: &str = "kafka_has_every_event";

#[derive(Debug, Clone, Copy, Default)]
pub struct KafkaHasEveryEvent;

/// What is wrong with an order's event streams, if anything: its order events, its trade
/// events' seqs (as received) and how many trade rows it has. Judged once per order when the
/// index is built; `order_loss` asks too.
pub(crate) fn stream_problem(
    o: &OrderRow,
    order_events: &[EventBrief],
    trade_seqs: impl Iterator<Item = u32>,
    rows: usize,
) -> Option<(&'static str, String)> {
    let seqs = order_events.iter().map(|e| (e.seq, e.status));
    if let Some(p) = seq_problem(seqs.clone().map(|(s, _)| s), o.order_event_seq, "order") {
        return Some(p);
    }
    let last = seqs
        .clone()
        .rfind(|(s, _)| i64::from(*s) == i64::from(o.order_event_seq));
    if let Some((_, st)) = last {
        if st != o.status {
            return Some((
                "last_status_differs",
                format!("last order event is {st}, database says {}", o.status),
            ));
        }
    }
    if let Some(p) = seq_problem(trade_seqs, o.trade_event_seq, "trade") {
        return Some(p);
    }
    if usize::try_from(o.trade_event_seq).ok() != Some(rows) {
        return Some((
            "trade_event_seq_differs",
            format!(
                "trade_event_seq {} but {rows} trade rows",
                o.trade_event_seq
            ),
        ));
    }
    None
}

/// Seqs as received must be 1..=last, each new one the next. A seq below the next one due was
/// necessarily received already (only the due one is ever accepted), so it is a redelivery.
fn seq_problem(
    received: impl Iterator<Item = u32>,
    last: i32,
    topic: &str,
) -> Option<(&'static str, String)> {
    let mut next: i64 = 1;
    for s in received {
        match i64::from(s).cmp(&next) {
            std::cmp::Ordering::Less => {}
            std::cmp::Ordering::Equal => next += 1,
            std::cmp::Ordering::Greater => {
                return Some((
                    "gap",
                    format!("{topic} event seq {s} received when {next} was due"),
                ));
            }
        }
    }
    if next - 1 != i64::from(last) {
        return Some((
            "missing",
            format!(
                "{topic} events 1..={} received, database says {last}",
                next - 1
            ),
        ));
    }
    None
}

impl Check for KafkaHasEveryEvent {
    fn name(&self) -> &str {
        NAME
    }

    fn check(&self, input: &CheckInput<'_>) -> Result<Verdict, CheckError> {
        let mut f = Findings::new(NAME);
        let orders = &input.obs.db.orders;
        for (row, kind, what) in input.index.stream_problems() {
            let o = &orders[row];
            f.flag(
                kind,
                || o.client_order_id.clone(),
                || format!("{}: {what}", o.client_order_id),
            );
        }
        for (id, n) in &input.index.stray_events {
            {
                f.flag(
                    "event_for_unknown_order",
                    || format!("order_id={id}"),
                    || format!("{n} events for order_id {id}, which the database lacks"),
                );
            }
        }
        Ok(f.verdict(format!(
            "{} orders, {} order events, {} trade events",
            orders.len(),
            input.obs.kafka.order_events.len(),
            input.obs.kafka.trade_events.len()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{judge, synthetic, Outcome};

    #[test]
    fn a_synthetic_run_is_valid_and_a_redelivery_is_ignored() {
        let (h, mut o) = synthetic::run(40);
        assert_eq!(judge(&KafkaHasEveryEvent, &h, &o).outcome, Outcome::Valid);
        let again = o.kafka.order_events[4].clone();
        o.kafka.order_events.push(again);
        assert_eq!(judge(&KafkaHasEveryEvent, &h, &o).outcome, Outcome::Valid);
    }

    #[test]
    fn a_lost_event_and_a_reordering_are_found_naming_the_order() {
        let (h, mut o) = synthetic::run(40);
        o.kafka.order_events.remove(3 * 7 + 1);
        let v = judge(&KafkaHasEveryEvent, &h, &o);
        assert_eq!(v.outcome, Outcome::Invalid);
        assert_eq!(v.evidence.orders, vec!["c-7"]);
        assert!(v.evidence.first_bad.unwrap().contains("seq 3"));

        let (h, mut o) = synthetic::run(40);
        o.kafka.order_events.swap(3 * 9, 3 * 9 + 1);
        let v = judge(&KafkaHasEveryEvent, &h, &o);
        assert_eq!(v.evidence.orders, vec!["c-9"]);
        assert_eq!(v.evidence.counts["gap"], 1);
    }

    #[test]
    fn a_missing_trade_event_is_found() {
        let (h, mut o) = synthetic::run(40);
        let k = o
            .kafka
            .trade_events
            .iter()
            .position(|e| e.order_id == 1005)
            .unwrap();
        o.kafka.trade_events.remove(k);
        let v = judge(&KafkaHasEveryEvent, &h, &o);
        assert_eq!(v.outcome, Outcome::Invalid);
        assert_eq!(v.evidence.orders, vec!["c-5"]);
    }
}
