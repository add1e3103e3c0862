//! The exchange's record: every order received (accepted or not), every trade made, and every
//! session the front dropped on its own (a heartbeat timeout, a consumer too slow to keep up).
//!
//! This is the harness's ground truth for "no lost order" and "no duplicate", so it is written
//! when a request is decoded, before any check can reject it, and updated as the order moves
//! to its final state. Served as JSON by the admin API (`GET /record`).
//!
//! Known gaps: cancel requests are not recorded as entries of their own (their effect shows in
//! the order's final status); the record is in memory and cleared by a reset.

use serde::{Deserialize, Serialize};

use crate::protocol::{Direction, OffsetFlag, OrderStatus};

/// One order as the exchange received it, and where it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedOrder {
    /// Position in the record, from 0.
    pub index: usize,
    pub front_id: i32,
    /// 0 when the order came before login.
    pub session_id: i32,
    pub order_ref: String,
    pub investor_id: String,
    pub instrument_id: String,
    pub direction: Direction,
    pub offset: OffsetFlag,
    pub price: f64,
    pub volume: i32,
    /// Microseconds since the Unix epoch.
    pub received_at_us: u64,
    /// Empty if the order never reached the exchange.
    pub order_sys_id: String,
    /// `None` while the order is still working.
    pub final_status: Option<OrderStatus>,
    /// CTP's ErrorID when CTP or the exchange rejected the order, else 0.
    pub error_id: i32,
    pub volume_traded: i32,
}

/// One trade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedTrade {
    pub trade_id: String,
    pub order_sys_id: String,
    /// Index of the order in the record.
    pub order_index: usize,
    pub front_id: i32,
    pub session_id: i32,
    pub order_ref: String,
    pub investor_id: String,
    pub instrument_id: String,
    pub direction: Direction,
    pub offset: OffsetFlag,
    pub price: f64,
    pub volume: i32,
    pub traded_at_us: u64,
}

/// Everything the exchange saw today.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub trading_day: String,
    pub orders: Vec<RecordedOrder>,
    pub trades: Vec<RecordedTrade>,
    /// Sessions the front dropped on its own, in order (not those the admin API disconnected).
    #[serde(default)]
    pub disconnects: Vec<RecordedDisconnect>,
}

/// A connection the front dropped on its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedDisconnect {
    /// `trade` or `md`.
    pub front: String,
    /// 0 when the connection never logged in (and on the market-data front).
    pub session_id: i32,
    /// Empty when the connection never logged in.
    pub user_id: String,
    /// CTP's reason code (`0x2001` heartbeat timeout, `0x1002` write failed, ...).
    pub reason: i32,
    /// Whether the peer had stopped reading: the front closed the socket with data still
    /// queued for it, without a `FrontDisconnected` it could not have read.
    pub slow_consumer: bool,
    /// Microseconds since the Unix epoch.
    pub at_us: u64,
}
