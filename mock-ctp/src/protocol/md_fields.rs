//! The market-data front's field structs (`CThostFtdcDepthMarketDataField` and friends).
//!
//! Known gaps: one depth level (CTP carries five; SHFE and CFFEX send five only on paid
//! feeds), no pre-settlement, turnover or average price.

use serde::{Deserialize, Serialize};

/// `SubscribeMarketData`'s instrument list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SubscribeMarketData {
    #[serde(rename = "InstrumentID")]
    pub instrument_ids: Vec<String>,
}

/// `CThostFtdcSpecificInstrumentField`: one per instrument in `OnRspSubMarketData`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SpecificInstrument {
    #[serde(rename = "InstrumentID")]
    pub instrument_id: String,
}

/// `CThostFtdcDepthMarketDataField`, the fields an engine uses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DepthMarketData {
    pub trading_day: String,
    pub action_day: String,
    #[serde(rename = "InstrumentID")]
    pub instrument_id: String,
    #[serde(rename = "ExchangeID")]
    pub exchange_id: String,
    pub last_price: f64,
    pub bid_price1: f64,
    pub bid_volume1: i32,
    pub ask_price1: f64,
    pub ask_volume1: i32,
    pub volume: i32,
    pub open_interest: f64,
    pub upper_limit_price: f64,
    pub lower_limit_price: f64,
    pub update_time: String,
    pub update_millisec: i32,
}
