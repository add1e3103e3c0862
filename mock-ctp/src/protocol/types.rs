//! CTP's single-character enumerations and numeric codes, as the wire carries them.
//!
//! CTP encodes every enumeration as one ASCII character (`Direction` '0' buy, '1' sell, ...).
//! The wire keeps those characters so that an engine written against CTP's headers can map
//! each value one to one; in Rust they are enums so that a typo does not compile.
//!
//! Known gaps: only the values the mock acts on are listed (for example no `OrderPriceType`
//! beyond any-price and limit, no `TimeCondition` beyond IOC and GFD).

use serde::{Deserialize, Serialize};

/// `TThostFtdcDirectionType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Direction {
    #[default]
    #[serde(rename = "0")]
    Buy,
    #[serde(rename = "1")]
    Sell,
}

impl Direction {
    /// The other side.
    pub fn opposite(self) -> Self {
        match self {
            Direction::Buy => Direction::Sell,
            Direction::Sell => Direction::Buy,
        }
    }
}

/// `TThostFtdcOffsetFlagType` (the first character of `CombOffsetFlag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum OffsetFlag {
    #[default]
    #[serde(rename = "0")]
    Open,
    #[serde(rename = "1")]
    Close,
    #[serde(rename = "3")]
    CloseToday,
    #[serde(rename = "4")]
    CloseYesterday,
}

/// `TThostFtdcHedgeFlagType` (the first character of `CombHedgeFlag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum HedgeFlag {
    #[default]
    #[serde(rename = "1")]
    Speculation,
    #[serde(rename = "2")]
    Arbitrage,
    #[serde(rename = "3")]
    Hedge,
}

/// `TThostFtdcOrderPriceTypeType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum OrderPriceType {
    #[serde(rename = "1")]
    AnyPrice,
    #[default]
    #[serde(rename = "2")]
    LimitPrice,
}

/// `TThostFtdcTimeConditionType`: CTP supports only IOC and GFD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum TimeCondition {
    #[serde(rename = "1")]
    Ioc,
    #[default]
    #[serde(rename = "3")]
    Gfd,
}

/// `TThostFtdcVolumeConditionType`: with IOC, any volume is FAK and all volume is FOK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum VolumeCondition {
    #[default]
    #[serde(rename = "1")]
    AnyVolume,
    #[serde(rename = "2")]
    MinVolume,
    #[serde(rename = "3")]
    AllVolume,
}

/// `TThostFtdcOrderStatusType`. Final states are all traded, part traded not queueing,
/// no trade not queueing and canceled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum OrderStatus {
    #[serde(rename = "0")]
    AllTraded,
    #[serde(rename = "1")]
    PartTradedQueueing,
    #[serde(rename = "2")]
    PartTradedNotQueueing,
    #[serde(rename = "3")]
    NoTradeQueueing,
    #[serde(rename = "4")]
    NoTradeNotQueueing,
    #[serde(rename = "5")]
    Canceled,
    #[default]
    #[serde(rename = "a")]
    Unknown,
}

impl OrderStatus {
    /// Whether the order can still trade or be canceled.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            OrderStatus::AllTraded
                | OrderStatus::PartTradedNotQueueing
                | OrderStatus::NoTradeNotQueueing
                | OrderStatus::Canceled
        )
    }
}

/// `TThostFtdcOrderSubmitStatusType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum OrderSubmitStatus {
    #[default]
    #[serde(rename = "0")]
    InsertSubmitted,
    #[serde(rename = "1")]
    CancelSubmitted,
    #[serde(rename = "3")]
    Accepted,
    #[serde(rename = "4")]
    InsertRejected,
    #[serde(rename = "5")]
    CancelRejected,
}

/// `TThostFtdcActionFlagType`: CTP supports only delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum ActionFlag {
    #[default]
    #[serde(rename = "0")]
    Delete,
}

/// `TThostFtdcPosiDirectionType` as `ReqQryInvestorPosition` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum PosiDirection {
    #[default]
    #[serde(rename = "2")]
    Long,
    #[serde(rename = "3")]
    Short,
}

/// `THOST_TE_RESUME_TYPE`: where `SubscribePrivateTopic` starts the private flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum ResumeType {
    /// Every return of the trading day, from sequence number 1.
    #[default]
    #[serde(rename = "0")]
    Restart,
    /// The returns after the last sequence number the client saw.
    #[serde(rename = "1")]
    Resume,
    /// Only returns made after the subscription.
    #[serde(rename = "2")]
    Quick,
}

/// `OnFrontDisconnected`'s `nReason` codes.
pub mod reason {
    /// Network read failed.
    pub const READ_FAILED: i32 = 0x1001;
    /// Network write failed.
    pub const WRITE_FAILED: i32 = 0x1002;
    /// No heartbeat received in time.
    pub const HEARTBEAT_TIMEOUT: i32 = 0x2001;
    /// Heartbeat send failed.
    pub const HEARTBEAT_SEND_FAILED: i32 = 0x2002;
    /// A bad packet was received.
    pub const BAD_PACKET: i32 = 0x2003;
}

/// CTP's `ErrorID`s that the mock answers with (from CTP's error.xml).
pub mod error_id {
    /// No error.
    pub const NONE: i32 = 0;
    /// Invalid login (unknown user or wrong password).
    pub const INVALID_LOGIN: i32 = 3;
    /// Not logged in.
    pub const NOT_LOGGED_IN: i32 = 6;
    /// A field holds an invalid value.
    pub const BAD_FIELD: i32 = 15;
    /// The instrument does not exist.
    pub const INSTRUMENT_NOT_FOUND: i32 = 16;
    /// The instrument is not trading (halted).
    pub const INSTRUMENT_NOT_TRADING: i32 = 17;
    /// The OrderRef is not greater than the last one of the session.
    pub const DUPLICATE_ORDER: i32 = 22;
    /// A cancel for an order that already has one pending.
    pub const DUPLICATE_ACTION: i32 = 24;
    /// The order to cancel was not found.
    pub const ORDER_NOT_FOUND: i32 = 25;
    /// The order is already traded or canceled.
    pub const UNSUITABLE_ORDER_STATUS: i32 = 26;
    /// The close volume exceeds the position.
    pub const OVER_CLOSE_POSITION: i32 = 30;
    /// Not enough available money.
    pub const INSUFFICIENT_MONEY: i32 = 31;
    /// The settlement of the day is not confirmed.
    pub const SETTLEMENT_NOT_CONFIRMED: i32 = 42;
    /// Not enough of today's position to close today.
    pub const OVER_CLOSETODAY_POSITION: i32 = 50;
    /// Not enough of yesterday's position to close yesterday.
    pub const OVER_CLOSEYESTERDAY_POSITION: i32 = 51;
    /// Too many sessions for the user.
    pub const TOO_MANY_SESSIONS: i32 = 60;
    /// Client authentication failed.
    pub const AUTH_FAILED: i32 = 63;
    /// Not authenticated.
    pub const NOT_AUTHENTICATED: i32 = 64;
    /// Query rate exceeded.
    pub const QUERY_RATE_EXCEEDED: i32 = 90;
    /// The price is outside the day's limits.
    pub const PRICE_OUT_OF_LIMITS: i32 = 163;
    /// The price is not a multiple of the tick size.
    pub const PRICE_NOT_ON_TICK: i32 = 165;
}

/// The `Req*` return codes of CTP's API.
pub mod ret {
    /// The request was written to the socket.
    pub const OK: i32 = 0;
    /// Not connected (network failure).
    pub const NOT_CONNECTED: i32 = -1;
    /// Too many requests in flight (queries: one at a time).
    pub const TOO_MANY_PENDING: i32 = -2;
    /// Over the per-second request limit.
    pub const OVER_RATE: i32 = -3;
}
