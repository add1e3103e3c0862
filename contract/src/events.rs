//! The Kafka events an engine publishes: `order-events` and `trade-events`, JSON values keyed
//! by the order id (decimal text), so every event of one order lands in one partition in
//! order. `seq` counts from 1 per order and per topic without gaps: a consumer that sees
//! seq 3 after seq 1 for an order has lost an event; a repeated seq is a duplicate delivery
//! (the producer is idempotent, but a relay may resend after a crash) and must be ignored.

use serde::{Deserialize, Serialize};

use crate::model::{Offset, OrderStatus, Side};

pub const ORDER_EVENTS_TOPIC: &str = "order-events";
pub const TRADE_EVENTS_TOPIC: &str = "trade-events";

/// One state of an order, published after it was committed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderEvent {
    pub order_id: i64,
    /// 1 for the order's first event (status `new`), then +1 per event.
    pub seq: u32,
    pub client_order_id: String,
    pub account_id: String,
    pub instrument_id: String,
    pub side: Side,
    pub offset: Offset,
    pub limit_price: f64,
    pub volume: i32,
    pub volume_traded: i32,
    pub status: OrderStatus,
    /// The exchange's OrderSysID (trimmed), empty until accepted.
    pub exchange_order_id: String,
    pub error_id: i32,
    pub error_msg: String,
    pub engine_id: String,
    /// When the state was committed, µs since the Unix epoch.
    pub at_us: i64,
}

/// One fill of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeEvent {
    pub order_id: i64,
    /// 1 for the order's first trade, then +1 per trade.
    pub seq: u32,
    /// The exchange's TradeID (trimmed).
    pub trade_id: String,
    pub account_id: String,
    pub instrument_id: String,
    pub side: Side,
    pub offset: Offset,
    pub price: f64,
    pub volume: i32,
    pub engine_id: String,
    pub at_us: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_event_json_uses_snake_case_names() {
        let e = OrderEvent {
            order_id: 1001,
            seq: 1,
            client_order_id: "c-1".into(),
            account_id: "000003".into(),
            instrument_id: "rb2410".into(),
            side: Side::Buy,
            offset: Offset::CloseToday,
            limit_price: 3600.0,
            volume: 2,
            volume_traded: 0,
            status: OrderStatus::PartiallyFilled,
            exchange_order_id: String::new(),
            error_id: 0,
            error_msg: String::new(),
            engine_id: "e1".into(),
            at_us: 1,
        };
        let v: serde_json::Value = serde_json::to_value(&e).unwrap();
        assert_eq!(v["offset"], "close_today");
        assert_eq!(v["status"], "partially_filled");
        let back: OrderEvent = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
    }
}
