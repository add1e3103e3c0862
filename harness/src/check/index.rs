//! Indexes over the observations shared by the checks: engine orders by id, client id and CTP
//! identity, and each exchange order linked to the engine order it belongs to (by OrderSysID,
//! else by FrontID/SessionID/OrderRef, which the engine persists before writing a request).
//!
//! Also links each operation of the history to the engine rows of its client_order_id, so the
//! checks that walk the history look each client id up once here instead of once per check.
//!
//! Built for a million orders: per-order lists are stored flat ([`Groups`]), integer ids
//! index tables ([`OrderIds`]), and string ids that are a prefix and a number (client ids,
//! OrderSysIDs) are looked up by their number ([`KeyRows`]): with the platform's ids, building
//! the index hashes no string but the CTP references of orders without an OrderSysID.

use contract::model::OrderStatus;

use super::groups::{row32, Groups};
use super::hasher::{fast_map, FastMap};
use super::id_rows::{OrderIds, NONE};
use super::kafka::stream_problem;
use super::key_rows::{bare_number, Form, KeyRows, NOT_NUMBER};
use super::observations::{ExchangeOrder, Observations, OrderRow};
use super::parallel;
use super::str_rows::trim;

use crate::history::{History, Op};

pub(crate) struct Index {
    /// Engine orders per first row of their client_order_id (more than one is a duplicate).
    pub client_rows: Groups,
    /// For each exchange order, the engine order it belongs to.
    pub exchange_link: Vec<Option<u32>>,
    /// For each exchange order, its trimmed OrderSysID's [`bare_number`], so that checks
    /// comparing it need not read the string again.
    pub exchange_sys: Vec<i64>,
    /// For each engine order, the exchange orders linked to it.
    pub exchange_orders_of: Groups,
    /// For each engine trade, its engine order ([`NONE`] if the database lacks it).
    pub trade_order: Vec<u32>,
    /// Engine trades per engine order.
    pub trades_of: Groups,
    /// Kafka order events per engine order, in received order.
    pub order_events_of: Groups<EventBrief>,
    /// What kafka.rs's rule finds wrong with an engine order's event streams, by row (two
    /// checks ask, so it is judged once, here).
    stream_problems: Vec<(u32, &'static str, String)>,
    /// Events whose order id the database lacks, by order id.
    pub stray_events: FastMap<i64, usize>,
    /// For each history operation, the first engine row of its client_order_id, or [`NONE`].
    op_first_row: Vec<u32>,
}

/// The client ids' part of the index: engine orders grouped by client id, and the first row
/// of each history operation's client id.
struct Clients {
    client_rows: Groups,
    op_first_row: Vec<u32>,
}

/// The exchange's part: each exchange order's engine order and OrderSysID number.
struct Links {
    exchange_link: Vec<Option<u32>>,
    exchange_sys: Vec<i64>,
    exchange_orders_of: Groups,
}

/// What the checks read of a Kafka order event: 20 bytes in its order's group instead of a
/// 192-byte event whose fields straddle two cache lines. `k` numbers the event, for the rest.
#[derive(Clone, Copy)]
pub(crate) struct EventBrief {
    pub k: u32,
    pub seq: u32,
    pub volume: i32,
    pub volume_traded: i32,
    pub status: OrderStatus,
}

/// The order ids' part: trades and Kafka events per engine order.
struct ById {
    trade_order: Vec<u32>,
    trades_of: Groups,
    order_events_of: Groups<EventBrief>,
    stream_problems: Vec<(u32, &'static str, String)>,
    stray_events: FastMap<i64, usize>,
}

impl Index {
    /// The three parts share nothing, so a large run builds them side by side.
    pub fn build(history: &History, obs: &Observations) -> Self {
        let threads = parallel::threads(obs.db.orders.len() + history.operations.len());
        Self::build_on(threads, history, obs)
    }

    fn build_on(threads: usize, history: &History, obs: &Observations) -> Self {
        let (clients, (links, by_id)) = parallel::join(
            threads,
            || Clients::build(history, obs),
            || parallel::join(threads, || Links::build(obs), || ById::build(obs)),
        );
        Self {
            client_rows: clients.client_rows,
            op_first_row: clients.op_first_row,
            exchange_link: links.exchange_link,
            exchange_sys: links.exchange_sys,
            exchange_orders_of: links.exchange_orders_of,
            trade_order: by_id.trade_order,
            trades_of: by_id.trades_of,
            order_events_of: by_id.order_events_of,
            stream_problems: by_id.stream_problems,
            stray_events: by_id.stray_events,
        }
    }

    /// The first engine row of the client_order_id of history operation `op`, if any.
    pub fn first_row_of_op(&self, op: usize) -> Option<usize> {
        let row = self.op_first_row.get(op).copied().unwrap_or(NONE);
        (row != NONE).then_some(row as usize)
    }

    /// What is wrong with engine order `row`'s event streams, if anything.
    pub fn stream_problem(&self, row: usize) -> Option<(&'static str, &str)> {
        let i = self
            .stream_problems
            .binary_search_by_key(&row32(row), |p| p.0)
            .ok()?;
        let (_, kind, what) = &self.stream_problems[i];
        Some((kind, what))
    }

    /// Every engine order whose event streams are wrong, by row: (row, kind, what).
    pub fn stream_problems(&self) -> impl Iterator<Item = (usize, &'static str, &str)> {
        self.stream_problems
            .iter()
            .map(|(row, kind, what)| (*row as usize, *kind, what.as_str()))
    }

    /// Every engine order of the client_order_id of history operation `op`.
    pub fn rows_of_op(&self, op: usize) -> &[u32] {
        self.first_row_of_op(op)
            .map_or(&[][..], |first| self.client_rows.of(first))
    }
}

impl Clients {
    fn build(history: &History, obs: &Observations) -> Self {
        let orders = &obs.db.orders;
        let n = orders.len();
        let (by_client, client_first) = KeyRows::first_wins(
            n,
            |r| orders[r as usize].client_order_id.as_str(),
            Form::AS_IS,
        );
        let client_rows = Groups::build(n, client_first.iter().copied().zip(0..));
        let ops = &history.operations;
        let mut op_first_row = vec![NONE; ops.len()];
        let cid_of = |i: usize| match &ops[i].op {
            Op::Submit(s) => s.client_order_id.as_str(),
            Op::Cancel(c) => c.client_order_id.as_str(),
        };
        by_client.look_up_each(ops.len(), cid_of, |i, _, row| {
            op_first_row[i] = row.unwrap_or(NONE);
        });
        Self {
            client_rows,
            op_first_row,
        }
    }
}

impl Links {
    fn build(obs: &Observations) -> Self {
        let orders = &obs.db.orders;
        let (exchange_link, exchange_sys) = link_exchange_orders(orders, &obs.exchange.orders);
        let exchange_orders_of = Groups::build(
            orders.len(),
            exchange_link
                .iter()
                .zip(0..)
                .filter_map(|(l, x)| l.map(|row| (row, x))),
        );
        Self {
            exchange_link,
            exchange_sys,
            exchange_orders_of,
        }
    }
}

impl ById {
    fn build(obs: &Observations) -> Self {
        let n = obs.db.orders.len();
        let by_order_id = OrderIds::build(&obs.db.orders);
        let trade_order: Vec<u32> = obs
            .db
            .trades
            .iter()
            .map(|t| by_order_id.row(t.order_id))
            .collect();
        let trades_of = Groups::of_links(n, &trade_order);
        let mut stray_events = fast_map(0);
        let mut row_of = |id: i64| {
            let row = by_order_id.row(id);
            if row == NONE {
                *stray_events.entry(id).or_default() += 1;
            }
            row
        };
        let oe: Vec<u32> = obs
            .kafka
            .order_events
            .iter()
            .map(|e| row_of(e.order_id))
            .collect();
        let te: Vec<u32> = obs
            .kafka
            .trade_events
            .iter()
            .map(|e| row_of(e.order_id))
            .collect();
        let events = &obs.kafka.order_events;
        let order_events_of = Groups::by_links(n, &oe, |k| {
            let e = &events[k];
            EventBrief {
                k: row32(k),
                seq: e.seq,
                volume: e.volume,
                volume_traded: e.volume_traded,
                status: e.status,
            }
        });
        let trade_events_of = Groups::of_links(n, &te);
        let trade_events = &obs.kafka.trade_events;
        let stream_problems = (0..n)
            .filter_map(|row| {
                let seqs = trade_events_of.of(row).iter();
                stream_problem(
                    &obs.db.orders[row],
                    order_events_of.of(row),
                    seqs.map(|&k| trade_events[k as usize].seq),
                    trades_of.of(row).len(),
                )
                .map(|(kind, what)| (row32(row), kind, what))
            })
            .collect();
        Self {
            trade_order,
            trades_of,
            order_events_of,
            stream_problems,
            stray_events,
        }
    }
}

/// For each exchange order, the engine order it belongs to: by OrderSysID (the last engine
/// row holding it), else by CTP reference; and each one's OrderSysID as a bare number.
fn link_exchange_orders(orders: &[OrderRow], xs: &[ExchangeOrder]) -> (Vec<Option<u32>>, Vec<i64>) {
    let by_sys = KeyRows::last_wins(
        orders.len(),
        |r| orders[r as usize].order_sys_id.as_str(),
        Form::TRIMMED_NOT_EMPTY,
    );
    let mut numbers = vec![NOT_NUMBER; xs.len()];
    let mut links = vec![None; xs.len()];
    by_sys.look_up_each(
        xs.len(),
        |x| xs[x].order_sys_id.as_str(),
        |x, sys, row| {
            numbers[x] = sys.map_or(NOT_NUMBER, bare_number);
            links[x] = row;
        },
    );
    if links.iter().any(Option::is_none) {
        link_by_ctp_ref(orders, xs, &mut links);
    }
    (links, numbers)
}

/// The CTP reference is the fallback for orders the OrderSysID did not link (rejected ones, or
/// the engine never learnt it). Only the references asked for are mapped, so a few rejects do
/// not cost a map of a million engine orders; the last engine row of a reference wins.
fn link_by_ctp_ref<'a>(orders: &'a [OrderRow], xs: &'a [ExchangeOrder], links: &mut [Option<u32>]) {
    let mut wanted: FastMap<(i32, i32, &str), u32> = fast_map(0);
    for (l, e) in links.iter().zip(xs) {
        if l.is_none() {
            wanted.insert((e.front_id, e.session_id, trim(&e.order_ref)), NONE);
        }
    }
    for (i, o) in orders.iter().enumerate() {
        if let Some(row) = wanted.get_mut(&(o.front_id, o.session_id, trim(&o.order_ref))) {
            *row = row32(i);
        }
    }
    for (l, e) in links.iter_mut().zip(xs) {
        if l.is_none() {
            let row = wanted[&(e.front_id, e.session_id, trim(&e.order_ref))];
            *l = (row != NONE).then_some(row);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exchange_order_without_order_sys_id_links_by_its_ctp_reference() {
        let (h, mut o) = crate::check::synthetic::run(20);
        o.exchange.orders[4].order_sys_id = " ".repeat(12);
        o.exchange.orders[9].order_ref = "no-such-ref".into();
        o.exchange.orders[9].order_sys_id = format!("{:>12}", "999");
        let idx = Index::build(&h, &o);
        assert_eq!(idx.exchange_link[4], Some(4));
        assert_eq!(idx.exchange_link[9], None);
        assert_eq!(idx.exchange_link[5], Some(5));
        assert_eq!(idx.exchange_orders_of.of(4), &[4]);
    }

    #[test]
    fn built_on_two_threads_the_index_is_the_one_built_on_one() {
        let (mut h, mut o) = crate::check::synthetic::run(300);
        o.db.orders[7].client_order_id = "c-3".into();
        o.exchange.orders[11].order_sys_id.clear();
        o.kafka.order_events.swap(30, 31);
        let mut stray = o.kafka.order_events[0].clone();
        stray.order_id = 77_777;
        o.kafka.order_events.push(stray);
        o.kafka.order_events[40].seq = 9;
        h.operations.truncate(250);
        let (one, two) = (Index::build_on(1, &h, &o), Index::build_on(2, &h, &o));
        assert_eq!(one.exchange_link, two.exchange_link);
        assert_eq!(one.exchange_sys, two.exchange_sys);
        assert_eq!(one.trade_order, two.trade_order);
        assert_eq!(one.op_first_row, two.op_first_row);
        assert_eq!(one.stream_problems, two.stream_problems);
        assert_eq!(one.stray_events, two.stray_events);
        assert_eq!(one.stream_problems.len(), 2, "{:?}", one.stream_problems);
        let seqs = |i: &Index, row| -> Vec<u32> {
            i.order_events_of.of(row).iter().map(|e| e.seq).collect()
        };
        for row in 0..o.db.orders.len() {
            assert_eq!(one.client_rows.of(row), two.client_rows.of(row));
            assert_eq!(
                one.exchange_orders_of.of(row),
                two.exchange_orders_of.of(row)
            );
            assert_eq!(one.trades_of.of(row), two.trades_of.of(row));
            assert_eq!(seqs(&one, row), seqs(&two, row));
        }
        assert_eq!(one.client_rows.of(3), &[3, 7]);
        assert_eq!(seqs(&one, 10), [2, 1, 3]);
    }
}
