//! The message envelope: every frame holds one `Message`, tagged by CTP's request or callback
//! name.
//!
//! JSON shape: `{"msg":"ReqOrderInsert","body":{"RequestID":7,"Field":{...}}}`. Requests carry
//! CTP's `nRequestID`; responses carry `RspInfo`, the request's id and `IsLast` (CTP's
//! `bIsLast`); private-flow returns carry their sequence number `SeqNo`. JSON was chosen over a
//! binary encoding because it is readable in captures and costs only a few microseconds per
//! message (see the benchmark in perf/).
//!
//! Known gaps: no public flow, no `ReqQryInstrument`, no `ReqUserLogout` (close the socket).

use serde::{Deserialize, Serialize};

use super::fields::{
    InputOrder, InputOrderAction, InvestorPosition, Order, QryFilter, ReqAuthenticate,
    ReqUserLogin, RspAuthenticate, RspInfo, RspUserLogin, SettlementInfoConfirm, Trade,
    TradingAccount,
};
use super::md_fields::{DepthMarketData, SpecificInstrument, SubscribeMarketData};
use super::types::ResumeType;

/// The protocol's name, sent in the handshake.
pub const PROTOCOL_NAME: &str = "mock-ctp";
/// The protocol version this build speaks; the handshake refuses any other.
pub const PROTOCOL_VERSION: u32 = 1;

/// Which front a connection is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FrontKind {
    Trade,
    Md,
}

/// The client's first frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Hello {
    pub protocol: String,
    pub version: u32,
    pub front: FrontKind,
}

/// The server's answer to a good `Hello`: the client's `OnFrontConnected`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HelloAck {
    pub version: u32,
    #[serde(rename = "FrontID")]
    pub front_id: i32,
    pub trading_day: String,
}

/// A protocol-level error (not a CTP ErrorID): bad frame, unknown message, wrong version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProtocolError {
    pub code: ProtocolErrorCode,
    pub message: String,
}

/// What was wrong with what the client sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProtocolErrorCode {
    /// The handshake named another protocol, version or front; the connection closes.
    VersionMismatch,
    /// A request came before the handshake; the connection closes.
    HandshakeRequired,
    /// The frame was not valid JSON for any message; the connection stays up.
    Malformed,
    /// The frame named a message this version does not know; the connection stays up.
    UnknownMessage,
    /// The message is valid but not for this front or direction; the connection stays up.
    Unexpected,
    /// The frame exceeded the maximum size; the connection closes (framing is lost).
    FrameTooLarge,
}

/// The server's notice before it closes a connection: the client's `OnFrontDisconnected`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FrontDisconnected {
    pub reason: i32,
}

/// `SubscribePrivateTopic`: how the private flow starts after login.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SubscribeTopic {
    pub resume_type: ResumeType,
    /// The last sequence number the client has seen (used by RESUME; may be left out for
    /// RESTART and QUICK, which ignore it).
    #[serde(default)]
    pub seq_no: u64,
}

/// The front's request-rate limit for this session (not a CTP message: CTP's API learns it
/// from the front in its own way). The client library answers `Req*` with -3 beyond it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FlowControl {
    /// Orders and cancels per second; `None` means unlimited.
    pub max_orders_per_second: Option<u32>,
}

/// A request with CTP's `nRequestID`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request<T> {
    #[serde(rename = "RequestID")]
    pub request_id: i32,
    #[serde(rename = "Field")]
    pub field: T,
}

/// A response (`OnRsp*`): the field (absent on some errors), `RspInfo`, the request's id and
/// whether it is the last row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response<T> {
    #[serde(rename = "Field")]
    pub field: Option<T>,
    #[serde(rename = "RspInfo")]
    pub rsp_info: RspInfo,
    #[serde(rename = "RequestID")]
    pub request_id: i32,
    #[serde(rename = "IsLast")]
    pub is_last: bool,
}

/// A private-flow return (`OnRtn*`, `OnErrRtn*`) with its sequence number in the flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Private<T> {
    #[serde(rename = "SeqNo")]
    pub seq_no: u64,
    #[serde(rename = "Field")]
    pub field: T,
    #[serde(rename = "RspInfo", default, skip_serializing_if = "Option::is_none")]
    pub rsp_info: Option<RspInfo>,
}

/// An empty field (for `OnRspError`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Empty {}

/// Every message of both fronts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "msg", content = "body")]
pub enum Message {
    Hello(Hello),
    HelloAck(HelloAck),
    ProtocolError(ProtocolError),
    Heartbeat,
    FrontDisconnected(FrontDisconnected),
    RspError(Response<Empty>),
    FlowControl(FlowControl),

    ReqAuthenticate(Request<ReqAuthenticate>),
    RspAuthenticate(Response<RspAuthenticate>),
    ReqUserLogin(Request<ReqUserLogin>),
    RspUserLogin(Response<RspUserLogin>),
    ReqSettlementInfoConfirm(Request<SettlementInfoConfirm>),
    RspSettlementInfoConfirm(Response<SettlementInfoConfirm>),
    SubscribePrivateTopic(SubscribeTopic),
    ReqOrderInsert(Request<InputOrder>),
    RspOrderInsert(Response<InputOrder>),
    ReqOrderAction(Request<InputOrderAction>),
    RspOrderAction(Response<InputOrderAction>),
    ReqQryOrder(Request<QryFilter>),
    RspQryOrder(Response<Order>),
    ReqQryTrade(Request<QryFilter>),
    RspQryTrade(Response<Trade>),
    ReqQryInvestorPosition(Request<QryFilter>),
    RspQryInvestorPosition(Response<InvestorPosition>),
    ReqQryTradingAccount(Request<QryFilter>),
    RspQryTradingAccount(Response<TradingAccount>),

    RtnOrder(Private<Order>),
    RtnTrade(Private<Trade>),
    ErrRtnOrderInsert(Private<InputOrder>),
    ErrRtnOrderAction(Private<InputOrderAction>),

    SubscribeMarketData(Request<SubscribeMarketData>),
    RspSubMarketData(Response<SpecificInstrument>),
    UnSubscribeMarketData(Request<SubscribeMarketData>),
    RspUnSubMarketData(Response<SpecificInstrument>),
    RtnDepthMarketData(DepthMarketData),
}

impl Message {
    /// The message's name as the wire tags it.
    pub fn name(&self) -> &'static str {
        match self {
            Message::Hello(_) => "Hello",
            Message::HelloAck(_) => "HelloAck",
            Message::ProtocolError(_) => "ProtocolError",
            Message::Heartbeat => "Heartbeat",
            Message::FrontDisconnected(_) => "FrontDisconnected",
            Message::RspError(_) => "RspError",
            Message::FlowControl(_) => "FlowControl",
            Message::ReqAuthenticate(_) => "ReqAuthenticate",
            Message::RspAuthenticate(_) => "RspAuthenticate",
            Message::ReqUserLogin(_) => "ReqUserLogin",
            Message::RspUserLogin(_) => "RspUserLogin",
            Message::ReqSettlementInfoConfirm(_) => "ReqSettlementInfoConfirm",
            Message::RspSettlementInfoConfirm(_) => "RspSettlementInfoConfirm",
            Message::SubscribePrivateTopic(_) => "SubscribePrivateTopic",
            Message::ReqOrderInsert(_) => "ReqOrderInsert",
            Message::RspOrderInsert(_) => "RspOrderInsert",
            Message::ReqOrderAction(_) => "ReqOrderAction",
            Message::RspOrderAction(_) => "RspOrderAction",
            Message::ReqQryOrder(_) => "ReqQryOrder",
            Message::RspQryOrder(_) => "RspQryOrder",
            Message::ReqQryTrade(_) => "ReqQryTrade",
            Message::RspQryTrade(_) => "RspQryTrade",
            Message::ReqQryInvestorPosition(_) => "ReqQryInvestorPosition",
            Message::RspQryInvestorPosition(_) => "RspQryInvestorPosition",
            Message::ReqQryTradingAccount(_) => "ReqQryTradingAccount",
            Message::RspQryTradingAccount(_) => "RspQryTradingAccount",
            Message::RtnOrder(_) => "RtnOrder",
            Message::RtnTrade(_) => "RtnTrade",
            Message::ErrRtnOrderInsert(_) => "ErrRtnOrderInsert",
            Message::ErrRtnOrderAction(_) => "ErrRtnOrderAction",
            Message::SubscribeMarketData(_) => "SubscribeMarketData",
            Message::RspSubMarketData(_) => "RspSubMarketData",
            Message::UnSubscribeMarketData(_) => "UnSubscribeMarketData",
            Message::RspUnSubMarketData(_) => "RspUnSubMarketData",
            Message::RtnDepthMarketData(_) => "RtnDepthMarketData",
        }
    }
}
