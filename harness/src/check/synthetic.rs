//! A consistent synthetic run of any size (history and observations that every check judges
//! valid), for the checkers' unit tests, which then break one thing and expect it found, and
//! for the throughput benchmark. Deterministic: the same `n` gives the same run.
//!
//! Known gaps: only opening orders, filled in one trade or canceled while resting; no closes,
//! partial fills, rejects or cancel operations (tests add those by hand).

use contract::events::{OrderEvent, TradeEvent};
use contract::model::{Offset, OrderStatus, Side};

use super::observations::{
    AccountRow, ExchangeOrder, ExchangeTrade, InstrumentRow, Observations, OrderRow, PosiDirection,
    PositionRow, TradeRow,
};
use crate::history::{Entry, FaultAction, History, Op, OpId, OpResult, SubmitOrder};

pub const ACCOUNTS: [&str; 4] = ["000001", "000002", "000003", "000004"];
pub const INSTRUMENTS: [(&str, i32, f64); 2] = [("rb2410", 10, 0.1), ("IF2406", 300, 0.12)];
/// Every synthetic account starts with this balance.
pub const BALANCE: f64 = 1.0e9;

/// The client id of synthetic order `i`.
pub fn client_order_id(i: usize) -> String {
    format!("c-{i}")
}

/// The engine id of synthetic order `i`.
pub fn order_id(i: usize) -> i64 {
    1000 + i as i64
}

/// A valid run of `n` submits: each ok, in the database, at the exchange once, every fourth
/// canceled while resting and the rest filled in one trade, with every event in Kafka. A latency
/// fault covers the middle third.
pub fn run(n: usize) -> (History, Observations) {
    let mut entries = Vec::with_capacity(2 * n + 2);
    let mut obs = Observations::default();
    for (acc, _) in ACCOUNTS.iter().zip(0..) {
        let row = AccountRow {
            account_id: (*acc).to_owned(),
            balance: BALANCE,
            curr_margin: 0.0,
            frozen_margin: 0.0,
        };
        obs.initial.accounts.push(row.clone());
        obs.db.accounts.push(row);
    }
    for (id, mult, ratio) in INSTRUMENTS {
        obs.db.instruments.push(InstrumentRow {
            instrument_id: id.to_owned(),
            volume_multiple: mult,
            margin_ratio: ratio,
        });
    }
    let third = (n as u64 / 3) * 1000;
    let mut positions: std::collections::BTreeMap<(usize, usize, PosiDirection), (i32, f64)> =
        Default::default();
    for i in 0..n {
        let (acc, inst) = (i % ACCOUNTS.len(), i % INSTRUMENTS.len());
        let (instrument, mult, ratio) = INSTRUMENTS[inst];
        let side = if i % 5 == 0 { Side::Sell } else { Side::Buy };
        let volume = 1 + (i % 3) as i32;
        let price = 3600.0 + (i % 7) as f64;
        let filled = i % 4 != 0;
        let cid = client_order_id(i);
        let oid = order_id(i);
        let sys = (i + 1).to_string();
        let at = i as u64 * 1000;
        if i as u64 * 1000 == third && n > 0 {
            entries.push(fault(at, FaultAction::Inject));
        }
        if i as u64 * 1000 == 2 * third && n > 0 {
            entries.push(fault(at, FaultAction::Heal));
        }
        entries.push(Entry::Invoke {
            id: OpId(i as u64),
            process: (i % 16) as u32,
            at_ns: at,
            op: Op::Submit(SubmitOrder {
                client_order_id: cid.clone(),
                account_id: ACCOUNTS[acc].to_owned(),
                instrument_id: instrument.to_owned(),
                side,
                offset: Offset::Open,
                limit_price: price,
                volume,
            }),
        });
        entries.push(Entry::Ok {
            id: OpId(i as u64),
            process: (i % 16) as u32,
            at_ns: at + 500_000,
            result: OpResult {
                order_id: Some(oid),
                status: Some(OrderStatus::New),
                ..OpResult::default()
            },
        });
        let status = if filled {
            OrderStatus::Filled
        } else {
            OrderStatus::Canceled
        };
        let traded = if filled { volume } else { 0 };
        obs.db.orders.push(OrderRow {
            order_id: oid,
            client_order_id: cid.clone(),
            account_id: ACCOUNTS[acc].to_owned(),
            instrument_id: instrument.to_owned(),
            exchange_id: "SHFE".to_owned(),
            side,
            offset_flag: Offset::Open,
            limit_price: price,
            volume,
            volume_traded: traded,
            status,
            front_id: 1,
            session_id: 1,
            order_ref: sys.clone(),
            order_sys_id: sys.clone(),
            error_id: 0,
            frozen_margin: 0.0,
            order_event_seq: 3,
            trade_event_seq: i32::from(filled),
            engine_id: "e1".to_owned(),
        });
        obs.exchange.orders.push(ExchangeOrder {
            index: i,
            front_id: 1,
            session_id: 1,
            order_ref: sys.clone(),
            investor_id: ACCOUNTS[acc].to_owned(),
            instrument_id: instrument.to_owned(),
            direction: if side == Side::Buy { "0" } else { "1" }.to_owned(),
            offset: "0".to_owned(),
            price,
            volume,
            received_at_us: at / 1000,
            order_sys_id: format!("{sys:>12}"),
            final_status: Some(if filled { "0" } else { "5" }.to_owned()),
            error_id: 0,
            volume_traded: traded,
        });
        for (seq, st) in [
            (1, OrderStatus::New),
            (2, OrderStatus::Accepted),
            (3, status),
        ] {
            obs.kafka.order_events.push(OrderEvent {
                order_id: oid,
                seq,
                client_order_id: cid.clone(),
                account_id: ACCOUNTS[acc].to_owned(),
                instrument_id: instrument.to_owned(),
                side,
                offset: Offset::Open,
                limit_price: price,
                volume,
                volume_traded: if st == OrderStatus::Filled { volume } else { 0 },
                status: st,
                exchange_order_id: if seq == 1 { String::new() } else { sys.clone() },
                error_id: 0,
                error_msg: String::new(),
                engine_id: "e1".to_owned(),
                at_us: (at / 1000) as i64 + i64::from(seq),
            });
        }
        if filled {
            obs.db.trades.push(TradeRow {
                exchange_id: "SHFE".to_owned(),
                trade_id: sys.clone(),
                side,
                order_id: oid,
                account_id: ACCOUNTS[acc].to_owned(),
                instrument_id: instrument.to_owned(),
                offset_flag: Offset::Open,
                price,
                volume,
                seq_no: i as i64,
            });
            obs.exchange.trades.push(ExchangeTrade {
                trade_id: format!("{sys:>12}"),
                order_sys_id: format!("{sys:>12}"),
                order_index: i,
                front_id: 1,
                session_id: 1,
                order_ref: sys.clone(),
                investor_id: ACCOUNTS[acc].to_owned(),
                instrument_id: instrument.to_owned(),
                direction: if side == Side::Buy { "0" } else { "1" }.to_owned(),
                offset: "0".to_owned(),
                price,
                volume,
                traded_at_us: at / 1000 + 1,
            });
            obs.kafka.trade_events.push(TradeEvent {
                order_id: oid,
                seq: 1,
                trade_id: sys,
                account_id: ACCOUNTS[acc].to_owned(),
                instrument_id: instrument.to_owned(),
                side,
                offset: Offset::Open,
                price,
                volume,
                engine_id: "e1".to_owned(),
                at_us: (at / 1000) as i64 + 2,
            });
            let p = positions
                .entry((acc, inst, PosiDirection::of(side, Offset::Open)))
                .or_default();
            p.0 += volume;
            p.1 += price * f64::from(mult) * f64::from(volume) * ratio;
        }
    }
    for ((acc, inst, dir), (vol, margin)) in positions {
        obs.db.positions.push(PositionRow {
            account_id: ACCOUNTS[acc].to_owned(),
            instrument_id: INSTRUMENTS[inst].0.to_owned(),
            posi_direction: dir,
            today_position: vol,
            yd_position: 0,
            margin,
        });
        obs.db.accounts[acc].curr_margin += margin;
    }
    let history = History::from_entries(std::path::Path::new("synthetic"), entries)
        .expect("synthetic entries pair up");
    (history, obs)
}

fn fault(at_ns: u64, action: FaultAction) -> Entry {
    Entry::Fault {
        at_ns,
        action,
        fault: "latency".to_owned(),
        target: "engine->postgres".to_owned(),
    }
}
