//! The trade front's field structs, named as CTP's `CThostFtdc*Field` structs.
//!
//! On the wire every field carries CTP's own name (`InstrumentID`, `OrderRef`, `FrontID`...),
//! so a message maps one to one onto the struct an engine fills for CTP's API. In Rust the
//! fields are snake_case.
//!
//! Known gaps: only the fields an engine acts on are carried (no `BusinessUnit`,
//! `GTDDate`, `StopPrice`, `ClientID`, ...); `CombOffsetFlag` and `CombHedgeFlag` carry one
//! leg only, because the mock has no combination instruments.

use serde::{Deserialize, Serialize};

use super::types::{
    ActionFlag, Direction, HedgeFlag, OffsetFlag, OrderPriceType, OrderStatus, OrderSubmitStatus,
    PosiDirection, TimeCondition, VolumeCondition,
};

/// `CThostFtdcRspInfoField`: ErrorID 0 means success.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RspInfo {
    #[serde(rename = "ErrorID")]
    pub error_id: i32,
    pub error_msg: String,
}

impl RspInfo {
    /// A success.
    pub fn ok() -> Self {
        Self::default()
    }

    /// An error with CTP's ErrorID and a message.
    pub fn error(error_id: i32, error_msg: impl Into<String>) -> Self {
        Self {
            error_id,
            error_msg: error_msg.into(),
        }
    }

    /// Whether this reports an error.
    pub fn is_error(&self) -> bool {
        self.error_id != 0
    }
}

/// `CThostFtdcReqAuthenticateField`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReqAuthenticate {
    #[serde(rename = "BrokerID")]
    pub broker_id: String,
    #[serde(rename = "UserID")]
    pub user_id: String,
    #[serde(rename = "AppID")]
    pub app_id: String,
    pub auth_code: String,
}

/// `CThostFtdcRspAuthenticateField`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RspAuthenticate {
    #[serde(rename = "BrokerID")]
    pub broker_id: String,
    #[serde(rename = "UserID")]
    pub user_id: String,
    #[serde(rename = "AppID")]
    pub app_id: String,
}

/// `CThostFtdcReqUserLoginField`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReqUserLogin {
    #[serde(rename = "BrokerID")]
    pub broker_id: String,
    #[serde(rename = "UserID")]
    pub user_id: String,
    pub password: String,
}

/// `CThostFtdcRspUserLoginField`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RspUserLogin {
    pub trading_day: String,
    pub login_time: String,
    #[serde(rename = "BrokerID")]
    pub broker_id: String,
    #[serde(rename = "UserID")]
    pub user_id: String,
    pub system_name: String,
    #[serde(rename = "FrontID")]
    pub front_id: i32,
    #[serde(rename = "SessionID")]
    pub session_id: i32,
    pub max_order_ref: String,
    #[serde(rename = "SHFETime")]
    pub shfe_time: String,
    #[serde(rename = "CFFEXTime")]
    pub cffex_time: String,
}

/// `CThostFtdcSettlementInfoConfirmField`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SettlementInfoConfirm {
    #[serde(rename = "BrokerID")]
    pub broker_id: String,
    #[serde(rename = "InvestorID")]
    pub investor_id: String,
    #[serde(default)]
    pub confirm_date: String,
    #[serde(default)]
    pub confirm_time: String,
}

/// `CThostFtdcInputOrderField`: what `ReqOrderInsert` sends.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InputOrder {
    #[serde(rename = "BrokerID")]
    pub broker_id: String,
    #[serde(rename = "InvestorID")]
    pub investor_id: String,
    #[serde(rename = "InstrumentID")]
    pub instrument_id: String,
    #[serde(rename = "ExchangeID")]
    pub exchange_id: String,
    pub order_ref: String,
    #[serde(rename = "UserID", default)]
    pub user_id: String,
    pub direction: Direction,
    pub comb_offset_flag: OffsetFlag,
    pub comb_hedge_flag: HedgeFlag,
    pub order_price_type: OrderPriceType,
    pub limit_price: f64,
    pub volume_total_original: i32,
    pub time_condition: TimeCondition,
    pub volume_condition: VolumeCondition,
    #[serde(default)]
    pub min_volume: i32,
    #[serde(rename = "RequestID", default)]
    pub request_id: i32,
}

/// `CThostFtdcOrderField`: what `OnRtnOrder` and `OnRspQryOrder` carry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Order {
    #[serde(rename = "BrokerID")]
    pub broker_id: String,
    #[serde(rename = "InvestorID")]
    pub investor_id: String,
    #[serde(rename = "InstrumentID")]
    pub instrument_id: String,
    #[serde(rename = "ExchangeID")]
    pub exchange_id: String,
    pub order_ref: String,
    #[serde(rename = "UserID")]
    pub user_id: String,
    pub direction: Direction,
    pub comb_offset_flag: OffsetFlag,
    pub comb_hedge_flag: HedgeFlag,
    pub order_price_type: OrderPriceType,
    pub limit_price: f64,
    pub volume_total_original: i32,
    pub time_condition: TimeCondition,
    pub volume_condition: VolumeCondition,
    #[serde(rename = "RequestID")]
    pub request_id: i32,
    #[serde(rename = "FrontID")]
    pub front_id: i32,
    #[serde(rename = "SessionID")]
    pub session_id: i32,
    /// Right-aligned and space-padded to 12 characters, as real fronts send it; empty until
    /// the exchange accepts the order.
    #[serde(rename = "OrderSysID")]
    pub order_sys_id: String,
    pub order_submit_status: OrderSubmitStatus,
    pub order_status: OrderStatus,
    pub volume_traded: i32,
    pub volume_total: i32,
    pub trading_day: String,
    pub insert_date: String,
    pub insert_time: String,
    pub cancel_time: String,
    pub status_msg: String,
    pub sequence_no: i32,
    pub broker_order_seq: i32,
}

/// `CThostFtdcTradeField`: what `OnRtnTrade` and `OnRspQryTrade` carry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Trade {
    #[serde(rename = "BrokerID")]
    pub broker_id: String,
    #[serde(rename = "InvestorID")]
    pub investor_id: String,
    #[serde(rename = "InstrumentID")]
    pub instrument_id: String,
    #[serde(rename = "ExchangeID")]
    pub exchange_id: String,
    pub order_ref: String,
    #[serde(rename = "UserID")]
    pub user_id: String,
    /// Right-aligned and space-padded to 12 characters.
    #[serde(rename = "TradeID")]
    pub trade_id: String,
    pub direction: Direction,
    #[serde(rename = "OrderSysID")]
    pub order_sys_id: String,
    pub offset_flag: OffsetFlag,
    pub hedge_flag: HedgeFlag,
    pub price: f64,
    pub volume: i32,
    pub trade_date: String,
    pub trade_time: String,
    pub trading_day: String,
    pub sequence_no: i32,
    pub broker_order_seq: i32,
}

/// `CThostFtdcInputOrderActionField`: a cancel, by FrontID+SessionID+OrderRef or by
/// ExchangeID+OrderSysID (the latter wins when OrderSysID is not empty).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InputOrderAction {
    #[serde(rename = "BrokerID")]
    pub broker_id: String,
    #[serde(rename = "InvestorID")]
    pub investor_id: String,
    #[serde(default)]
    pub order_action_ref: i32,
    #[serde(default)]
    pub order_ref: String,
    #[serde(rename = "RequestID", default)]
    pub request_id: i32,
    #[serde(rename = "FrontID", default)]
    pub front_id: i32,
    #[serde(rename = "SessionID", default)]
    pub session_id: i32,
    #[serde(rename = "ExchangeID", default)]
    pub exchange_id: String,
    #[serde(rename = "OrderSysID", default)]
    pub order_sys_id: String,
    pub action_flag: ActionFlag,
    #[serde(rename = "InstrumentID", default)]
    pub instrument_id: String,
    #[serde(rename = "UserID", default)]
    pub user_id: String,
}

/// The filter of `ReqQryOrder`, `ReqQryTrade` and `ReqQryInvestorPosition`
/// (`CThostFtdcQryOrderField` and its siblings); an empty InstrumentID means all.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct QryFilter {
    #[serde(rename = "BrokerID")]
    pub broker_id: String,
    #[serde(rename = "InvestorID")]
    pub investor_id: String,
    #[serde(rename = "InstrumentID", default)]
    pub instrument_id: String,
}

/// `CThostFtdcInvestorPositionField`, one row per instrument and direction.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InvestorPosition {
    #[serde(rename = "BrokerID")]
    pub broker_id: String,
    #[serde(rename = "InvestorID")]
    pub investor_id: String,
    #[serde(rename = "InstrumentID")]
    pub instrument_id: String,
    #[serde(rename = "ExchangeID")]
    pub exchange_id: String,
    pub posi_direction: PosiDirection,
    pub hedge_flag: HedgeFlag,
    /// Total position (today's plus yesterday's remaining).
    pub position: i32,
    pub today_position: i32,
    /// Yesterday's position as it was at the start of the trading day (CTP never lowers it).
    pub yd_position: i32,
    pub long_frozen: i32,
    pub short_frozen: i32,
    pub use_margin: f64,
    pub trading_day: String,
}

/// `CThostFtdcTradingAccountField` (money is modelled loosely; see PROTOCOL.md).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TradingAccount {
    #[serde(rename = "BrokerID")]
    pub broker_id: String,
    #[serde(rename = "AccountID")]
    pub account_id: String,
    pub pre_balance: f64,
    pub balance: f64,
    pub available: f64,
    pub curr_margin: f64,
    pub frozen_margin: f64,
    pub trading_day: String,
}
