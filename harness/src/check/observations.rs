//! The final state the checkers judge, as plain data: the engine's PostgreSQL rows, the mock
//! CTP front's record (the exchange-side ground truth) and the Kafka events as received. The
//! collectors that fill these come from the platform; field names follow `contract/schema.sql`,
//! `contract/src/events.rs` and mock-ctp's `GET /record`, so a collector is a plain mapping.
//!
//! Known gaps: latency samples are HdrHistograms per phase filled by the workload or from the
//! engine's metrics; none is required, a missing one is reported as not judged.

use std::collections::BTreeMap;

use contract::events::{OrderEvent, TradeEvent};
use contract::model::{Offset, OrderStatus, Side};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::history::Phase;

/// Everything read after the run, once faults were healed.
#[derive(Debug, Clone, Default)]
pub struct Observations {
    pub db: DbState,
    /// Accounts and positions as seeded before the run (the fixtures).
    pub initial: DbState,
    pub exchange: ExchangeRecord,
    pub kafka: KafkaEvents,
    pub latency: LatencySamples,
}

/// Rows of the engine's tables.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DbState {
    pub orders: Vec<OrderRow>,
    pub trades: Vec<TradeRow>,
    pub positions: Vec<PositionRow>,
    pub accounts: Vec<AccountRow>,
    pub instruments: Vec<InstrumentRow>,
}

/// A row of `orders`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRow {
    pub order_id: i64,
    pub client_order_id: String,
    pub account_id: String,
    pub instrument_id: String,
    pub exchange_id: String,
    pub side: Side,
    pub offset_flag: Offset,
    pub limit_price: f64,
    pub volume: i32,
    pub volume_traded: i32,
    pub status: OrderStatus,
    pub front_id: i32,
    pub session_id: i32,
    pub order_ref: String,
    pub order_sys_id: String,
    pub error_id: i32,
    pub frozen_margin: f64,
    pub order_event_seq: i32,
    pub trade_event_seq: i32,
    pub engine_id: String,
}

/// A row of `trades`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeRow {
    pub exchange_id: String,
    pub trade_id: String,
    pub side: Side,
    pub order_id: i64,
    pub account_id: String,
    pub instrument_id: String,
    pub offset_flag: Offset,
    pub price: f64,
    pub volume: i32,
    pub seq_no: i64,
}

/// `posi_direction` of `positions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PosiDirection {
    Long,
    Short,
}

impl PosiDirection {
    /// The position a fill moves: opening a buy or closing a sell is long.
    pub fn of(side: Side, offset: Offset) -> Self {
        match (side, offset) {
            (Side::Buy, Offset::Open) => Self::Long,
            (Side::Sell, Offset::Open) => Self::Short,
            (Side::Buy, _) => Self::Short,
            (Side::Sell, _) => Self::Long,
        }
    }
}

/// A row of `positions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PositionRow {
    pub account_id: String,
    pub instrument_id: String,
    pub posi_direction: PosiDirection,
    pub today_position: i32,
    pub yd_position: i32,
    pub margin: f64,
}

/// A row of `accounts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountRow {
    pub account_id: String,
    pub balance: f64,
    pub curr_margin: f64,
    pub frozen_margin: f64,
}

/// The part of a row of `instruments` that money depends on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstrumentRow {
    pub instrument_id: String,
    pub volume_multiple: i32,
    pub margin_ratio: f64,
}

/// mock-ctp's `GET /record`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExchangeRecord {
    #[serde(default)]
    pub trading_day: String,
    pub orders: Vec<ExchangeOrder>,
    pub trades: Vec<ExchangeTrade>,
}

/// A recorded `ReqOrderInsert`, rejected ones included. Enumerations are CTP's characters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExchangeOrder {
    pub index: usize,
    pub front_id: i32,
    pub session_id: i32,
    pub order_ref: String,
    pub investor_id: String,
    pub instrument_id: String,
    pub direction: String,
    pub offset: String,
    pub price: f64,
    pub volume: i32,
    pub received_at_us: u64,
    /// Empty if the order never reached the exchange; space-padded as CTP sends it.
    pub order_sys_id: String,
    pub final_status: Option<String>,
    pub error_id: i32,
    pub volume_traded: i32,
}

impl ExchangeOrder {
    /// Whether the exchange accepted it (CTP rejects never get an OrderSysID).
    pub fn reached(&self) -> bool {
        !super::str_rows::trim(&self.order_sys_id).is_empty()
    }
}

/// A recorded trade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExchangeTrade {
    pub trade_id: String,
    pub order_sys_id: String,
    pub order_index: usize,
    pub front_id: i32,
    pub session_id: i32,
    pub order_ref: String,
    pub investor_id: String,
    pub instrument_id: String,
    pub direction: String,
    pub offset: String,
    pub price: f64,
    pub volume: i32,
    pub traded_at_us: u64,
}

/// Kafka events in the order a consumer received them (per partition order kept).
#[derive(Debug, Clone, Default)]
pub struct KafkaEvents {
    pub order_events: Vec<OrderEvent>,
    pub trade_events: Vec<TradeEvent>,
}

/// Latency samples per phase, in nanoseconds.
#[derive(Debug, Clone, Default)]
pub struct LatencySamples {
    /// Order acknowledgement, coordinated-omission corrected; when empty, the latency check
    /// takes it from the history's invoke → ok times.
    pub order_ns: BTreeMap<Phase, Histogram<u64>>,
    pub tick_ns: BTreeMap<Phase, Histogram<u64>>,
    pub trade_return_ns: BTreeMap<Phase, Histogram<u64>>,
}
