//! Applies CTP private-flow returns to the book in sequence-number order, producing the
//! [`Changes`] that one transaction persists together with the new flow position. Returns
//! at or below the applied position are duplicates (RESUME and RESTART replay them) and are
//! skipped; returns after a gap wait until the gap is filled (the session re-subscribes with
//! RESUME when a gap lasts).
//!
//! Known gaps: an `ErrRtnOrderInsert` is matched by RequestID and OrderRef because CTP's
//! InputOrder carries no FrontID/SessionID; returns of orders this engine did not place are
//! logged and skipped.

use std::collections::BTreeMap;
use std::time::Instant;

use contract::model::{Offset, OrderStatus, Side};
use contract::trading::v1 as pb;
use mock_ctp::protocol::{Direction, InputOrder, InputOrderAction, Order, Private, Trade};

use crate::book::{cents, Book, PosiDir};
use crate::convert::{now_us, order_event, order_pb, trade_event, trade_pb, TradeRec};
use crate::engine::Engine;
use crate::order_state;
use crate::persist::Changes;

/// One private-flow return.
#[derive(Debug, Clone)]
pub enum Ret {
    Order(Private<Order>),
    Trade(Private<Trade>),
    ErrInsert(Private<InputOrder>),
    ErrAction(Private<InputOrderAction>),
}

impl Ret {
    pub fn seq(&self) -> u64 {
        match self {
            Ret::Order(p) => p.seq_no,
            Ret::Trade(p) => p.seq_no,
            Ret::ErrInsert(p) => p.seq_no,
            Ret::ErrAction(p) => p.seq_no,
        }
    }
}

/// The private flow's position and the returns received ahead of a gap.
#[derive(Debug, Default)]
pub struct Flow {
    pub trading_day: String,
    pub applied_seq: u64,
    pub ahead: BTreeMap<u64, (Ret, Instant)>,
    pub gap_since: Option<Instant>,
}

/// Applies what can be applied of `rets` in order; returns the changes and the receive
/// times of the applied trade returns (for the trade-return latency).
pub fn apply(
    engine: &Engine,
    flow: &mut Flow,
    rets: Vec<(Ret, Instant)>,
    updates: &mut Vec<pb::Update>,
) -> (Changes, Vec<Instant>) {
    let mut ch = Changes::default();
    let mut times = Vec::new();
    let mut applied = false;
    let mut book = engine.book();
    for (r, t) in rets {
        let seq = r.seq();
        if seq > flow.applied_seq {
            flow.ahead.entry(seq).or_insert((r, t));
        }
    }
    while let Some(entry) = flow.ahead.first_entry() {
        let seq = *entry.key();
        if seq <= flow.applied_seq {
            entry.remove();
            continue;
        }
        if seq != flow.applied_seq + 1 {
            break;
        }
        let (r, t) = entry.remove();
        let trade = matches!(r, Ret::Trade(_));
        apply_one(engine, &mut book, r, &mut ch, updates);
        flow.applied_seq = seq;
        applied = true;
        if trade {
            times.push(t);
        }
    }
    if flow.ahead.is_empty() {
        flow.gap_since = None;
    } else if flow.gap_since.is_none() {
        flow.gap_since = Some(Instant::now());
    }
    if applied {
        ch.flow = Some((flow.trading_day.clone(), flow.applied_seq));
    }
    (ch, times)
}

fn side_of(d: Direction) -> Side {
    match d {
        Direction::Buy => Side::Buy,
        Direction::Sell => Side::Sell,
    }
}

fn emit_order(
    engine: &Engine,
    book: &mut Book,
    id: i64,
    ch: &mut Changes,
    updates: &mut Vec<pb::Update>,
    from_return: bool,
) {
    let Some(o) = book.orders.get_mut(&id) else {
        return;
    };
    o.order_event_seq += 1;
    o.updated_at_us = now_us();
    ch.orders.insert(id);
    if !(from_return && engine.cfg.defects.skip_outbox) {
        ch.outbox.push(order_event(o, &engine.cfg.engine_id));
    }
    // DEFECT (test only) above: skip-outbox drops the events of return-driven changes.
    updates.push(pb::Update {
        kind: Some(pb::update::Kind::Order(order_pb(o))),
    });
}

/// Releases what a working order reserved for its untraded, never-to-trade volume.
fn release_rest(book: &mut Book, id: i64, ch: &mut Changes) {
    let Some(o) = book.orders.get(&id).cloned() else {
        return;
    };
    let rest = o.volume - o.volume_traded;
    let per_lot = if o.offset == Offset::Open {
        book.instruments
            .get(&o.instrument_id)
            .map(|i| i.margin(o.limit_price, 1))
            .unwrap_or(0.0)
    } else {
        0.0
    };
    let release = (per_lot * f64::from(rest)).min(o.frozen_margin);
    if let Some(a) = book.accounts.get_mut(&o.account_id) {
        a.frozen_margin -= release;
    }
    ch.accounts.entry(o.account_id.clone()).or_default().0 -= release;
    if let Some(r) = book.orders.get_mut(&id) {
        r.frozen_margin -= release;
    }
    book.add_pending(&o.account_id, &o.instrument_id, o.side, o.offset, -rest);
}

fn apply_one(
    engine: &Engine,
    book: &mut Book,
    r: Ret,
    ch: &mut Changes,
    updates: &mut Vec<pb::Update>,
) {
    engine
        .metrics
        .returns_applied
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    match r {
        Ret::Order(p) => on_order(engine, book, p.field, ch, updates),
        Ret::Trade(p) => on_trade(engine, book, p.field, p.seq_no, ch, updates),
        Ret::ErrInsert(p) => {
            let f = p.field;
            let info = p.rsp_info.unwrap_or_default();
            let found = book
                .orders
                .values()
                .find(|o| {
                    o.request_id() == f.request_id
                        && o.order_ref.trim() == f.order_ref.trim()
                        && !o.status.is_final()
                })
                .map(|o| o.order_id);
            let Some(id) = found else {
                tracing::warn!(order_ref = %f.order_ref, request_id = f.request_id, "ErrRtnOrderInsert for an unknown order");
                return;
            };
            release_rest(book, id, ch);
            if let Some(o) = book.orders.get_mut(&id) {
                o.status = OrderStatus::Rejected;
                o.error_id = info.error_id;
                o.error_msg = info.error_msg;
            }
            emit_order(engine, book, id, ch, updates, true);
        }
        Ret::ErrAction(p) => {
            let info = p.rsp_info.unwrap_or_default();
            tracing::info!(order_ref = %p.field.order_ref, error_id = info.error_id, msg = %info.error_msg, "cancel refused by ctp");
        }
    }
}

fn on_order(
    engine: &Engine,
    book: &mut Book,
    f: Order,
    ch: &mut Changes,
    updates: &mut Vec<pb::Update>,
) {
    let key = (f.front_id, f.session_id, f.order_ref.trim().to_owned());
    let Some(&id) = book.by_ref.get(&key) else {
        tracing::debug!(?key, "RtnOrder for an order this engine did not place");
        return;
    };
    let Some(o) = book.orders.get(&id) else {
        return;
    };
    let to = match order_state::on_order_return(
        o.status,
        f.order_status,
        f.order_submit_status,
        f.volume_traded,
    ) {
        Ok(s) => s,
        Err(e) => {
            tracing::debug!(order_id = id, from = %e.from, to = %e.to, "late order return ignored");
            return;
        }
    };
    let sys = f.order_sys_id.trim().to_owned();
    let changed = to != o.status
        || (!sys.is_empty() && o.order_sys_id.trim() != sys)
        || f.volume_traded > o.volume_traded;
    if !changed {
        return;
    }
    let exchange_id = o.exchange_id.clone();
    if !sys.is_empty() {
        book.by_sys.insert((exchange_id, sys.clone()), id);
    }
    let o = book.orders.get_mut(&id).expect("looked up above");
    o.sent = true;
    if !sys.is_empty() {
        o.order_sys_id = sys;
    }
    o.volume_traded = o.volume_traded.max(f.volume_traded);
    let was_final = o.status.is_final();
    o.status = to;
    if to == OrderStatus::Rejected {
        o.error_msg = f.status_msg.clone();
    }
    if !was_final && matches!(to, OrderStatus::Canceled | OrderStatus::Rejected) {
        release_rest(book, id, ch);
    }
    emit_order(engine, book, id, ch, updates, true);
}

fn on_trade(
    engine: &Engine,
    book: &mut Book,
    f: Trade,
    seq_no: u64,
    ch: &mut Changes,
    updates: &mut Vec<pb::Update>,
) {
    let side = side_of(f.direction);
    let tid = f.trade_id.trim().to_owned();
    let key = (f.exchange_id.clone(), tid.clone(), side);
    if book.trades.contains(&key) {
        return;
    }
    if engine.cfg.defects.drop_trade_return && tid.parse::<u64>().is_ok_and(|n| n % 10 == 0) {
        // DEFECT (test only): lose this trade return although its sequence number advances.
        tracing::warn!(trade_id = %tid, "defect drop-trade-return: trade return ignored");
        return;
    }
    let Some(&id) = book
        .by_sys
        .get(&(f.exchange_id.clone(), f.order_sys_id.trim().to_owned()))
    else {
        tracing::warn!(trade_id = %tid, order_sys_id = %f.order_sys_id, "RtnTrade for an unknown order");
        return;
    };
    let o = book.orders.get(&id).expect("indexed orders exist").clone();
    let Some(inst) = book.instruments.get(&o.instrument_id).cloned() else {
        return;
    };
    let vol = f.volume;
    let dir = PosiDir::of(o.side, o.offset);
    let (mut frozen_d, mut curr_d) = (0.0, 0.0);
    if o.offset == Offset::Open {
        let release = inst.margin(o.limit_price, vol).min(o.frozen_margin);
        frozen_d -= release;
        let m = inst.margin(f.price, vol);
        let pos = book.position_mut(&o.account_id, &o.instrument_id, dir);
        pos.today += vol;
        // The account moves by the change of the position's margin as persisted (in cents),
        // so that it always equals the sum of its positions' rows, however many fills.
        let before_c = cents(pos.margin);
        pos.margin += m;
        curr_d += cents(pos.margin) - before_c;
        pos.open_pending -= vol;
        if let Some(r) = book.orders.get_mut(&id) {
            r.frozen_margin -= release;
        }
    } else {
        let pos = book.position_mut(&o.account_id, &o.instrument_id, dir);
        let before = pos.total();
        let from_yd = if o.offset == Offset::CloseToday {
            0
        } else {
            vol.min(pos.yd)
        };
        pos.yd -= from_yd;
        pos.today -= vol - from_yd;
        pos.close_pending -= vol;
        if before > 0 {
            let release = pos.margin * f64::from(vol) / f64::from(before);
            let before_c = cents(pos.margin);
            pos.margin -= release;
            curr_d += cents(pos.margin) - before_c;
        }
    }
    if let Some(a) = book.accounts.get_mut(&o.account_id) {
        a.frozen_margin += frozen_d;
        a.curr_margin += curr_d;
    }
    let acc = ch.accounts.entry(o.account_id.clone()).or_default();
    acc.0 += frozen_d;
    acc.1 += curr_d;
    ch.positions
        .insert((o.account_id.clone(), o.instrument_id.clone(), dir));
    book.trades.insert(key);
    let t = TradeRec {
        exchange_id: f.exchange_id.clone(),
        trade_id: tid,
        order_id: id,
        account_id: o.account_id.clone(),
        instrument_id: o.instrument_id.clone(),
        side,
        offset: o.offset,
        price: f.price,
        volume: vol,
        trading_day: f.trading_day.clone(),
        seq_no,
        at_us: now_us(),
    };
    let r = book.orders.get_mut(&id).expect("looked up above");
    r.trade_event_seq += 1;
    r.updated_at_us = t.at_us;
    ch.orders.insert(id);
    if !engine.cfg.defects.skip_outbox {
        ch.outbox
            .push(trade_event(&t, r.trade_event_seq, &engine.cfg.engine_id));
    }
    updates.push(pb::Update {
        kind: Some(pb::update::Kind::Trade(trade_pb(&t))),
    });
    ch.trades.push(t);
}
