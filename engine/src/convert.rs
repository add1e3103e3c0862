//! Conversions from the book's records to the contract's gRPC messages and Kafka events.

use contract::events::{OrderEvent, TradeEvent, ORDER_EVENTS_TOPIC, TRADE_EVENTS_TOPIC};
use contract::trading::v1 as pb;

use crate::book::OrderRec;

/// Microseconds since the Unix epoch.
pub fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

pub fn order_pb(o: &OrderRec) -> pb::Order {
    pb::Order {
        order_id: o.order_id,
        client_order_id: o.client_order_id.clone(),
        account_id: o.account_id.clone(),
        instrument_id: o.instrument_id.clone(),
        side: o.side.to_proto() as i32,
        offset: o.offset.to_proto() as i32,
        limit_price: o.limit_price,
        volume: o.volume,
        volume_traded: o.volume_traded,
        status: o.status.to_proto() as i32,
        exchange_order_id: o.order_sys_id.trim().to_owned(),
        error_id: o.error_id,
        error_msg: o.error_msg.clone(),
        created_at_us: o.created_at_us,
        updated_at_us: o.updated_at_us,
    }
}

/// An outbox row: topic, key, JSON payload.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub topic: &'static str,
    pub key: String,
    pub payload: String,
}

/// The order event for the order's current state, with its current `order_event_seq`.
pub fn order_event(o: &OrderRec, engine_id: &str) -> OutboxRow {
    let e = OrderEvent {
        order_id: o.order_id,
        seq: o.order_event_seq as u32,
        client_order_id: o.client_order_id.clone(),
        account_id: o.account_id.clone(),
        instrument_id: o.instrument_id.clone(),
        side: o.side,
        offset: o.offset,
        limit_price: o.limit_price,
        volume: o.volume,
        volume_traded: o.volume_traded,
        status: o.status,
        exchange_order_id: o.order_sys_id.trim().to_owned(),
        error_id: o.error_id,
        error_msg: o.error_msg.clone(),
        engine_id: engine_id.to_owned(),
        at_us: o.updated_at_us,
    };
    OutboxRow {
        topic: ORDER_EVENTS_TOPIC,
        key: o.order_id.to_string(),
        payload: serde_json::to_string(&e).expect("events serialize"),
    }
}

/// One applied trade, as the returns applier records it.
#[derive(Debug, Clone)]
pub struct TradeRec {
    pub exchange_id: String,
    pub trade_id: String,
    pub order_id: i64,
    pub account_id: String,
    pub instrument_id: String,
    pub side: contract::model::Side,
    pub offset: contract::model::Offset,
    pub price: f64,
    pub volume: i32,
    pub trading_day: String,
    pub seq_no: u64,
    pub at_us: i64,
}

pub fn trade_event(t: &TradeRec, seq: i32, engine_id: &str) -> OutboxRow {
    let e = TradeEvent {
        order_id: t.order_id,
        seq: seq as u32,
        trade_id: t.trade_id.clone(),
        account_id: t.account_id.clone(),
        instrument_id: t.instrument_id.clone(),
        side: t.side,
        offset: t.offset,
        price: t.price,
        volume: t.volume,
        engine_id: engine_id.to_owned(),
        at_us: t.at_us,
    };
    OutboxRow {
        topic: TRADE_EVENTS_TOPIC,
        key: t.order_id.to_string(),
        payload: serde_json::to_string(&e).expect("events serialize"),
    }
}

pub fn trade_pb(t: &TradeRec) -> pb::Trade {
    pb::Trade {
        trade_id: t.trade_id.clone(),
        order_id: t.order_id,
        account_id: t.account_id.clone(),
        instrument_id: t.instrument_id.clone(),
        side: t.side.to_proto() as i32,
        offset: t.offset.to_proto() as i32,
        price: t.price,
        volume: t.volume,
        traded_at_us: t.at_us,
    }
}
