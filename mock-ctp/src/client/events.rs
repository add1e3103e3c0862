//! The callbacks of CTP's `CThostFtdcTraderSpi` and `CThostFtdcMdSpi`, as a stream of events.
//!
//! Variants are named after the callbacks (`OnRtnOrder`, `OnFrontDisconnected`, ...) so that an
//! engine's CTP callback code maps onto a `match` one to one.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::protocol::{
    DepthMarketData, Empty, FlowControl, InputOrder, InputOrderAction, InvestorPosition, Order,
    Private, ProtocolError, Response, RspAuthenticate, RspUserLogin, SettlementInfoConfirm,
    SpecificInstrument, Trade, TradingAccount,
};

/// A trade-front callback.
#[allow(
    clippy::enum_variant_names,
    reason = "variants are named after CTP's callbacks"
)]
#[derive(Debug, Clone, PartialEq)]
pub enum TraderEvent {
    /// The connection (or a reconnection) is up: authenticate and log in again.
    OnFrontConnected,
    /// The connection is down, with CTP's reason code (0x1001 ... 0x2003).
    OnFrontDisconnected(i32),
    OnRspAuthenticate(Response<RspAuthenticate>),
    OnRspUserLogin(Response<RspUserLogin>),
    OnRspSettlementInfoConfirm(Response<SettlementInfoConfirm>),
    OnRspOrderInsert(Response<InputOrder>),
    OnRspOrderAction(Response<InputOrderAction>),
    OnRspQryOrder(Response<Order>),
    OnRspQryTrade(Response<Trade>),
    OnRspQryInvestorPosition(Response<InvestorPosition>),
    OnRspQryTradingAccount(Response<TradingAccount>),
    OnRspError(Response<Empty>),
    /// A private-flow order return, with its sequence number.
    OnRtnOrder(Private<Order>),
    /// A private-flow trade return.
    OnRtnTrade(Private<Trade>),
    OnErrRtnOrderInsert(Private<InputOrder>),
    OnErrRtnOrderAction(Private<InputOrderAction>),
    /// Not a CTP callback: the front's request-rate limit changed.
    OnFlowControl(FlowControl),
    /// Not a CTP callback: the front refused a frame this client sent.
    OnProtocolError(ProtocolError),
}

/// A market-data callback.
#[allow(
    clippy::enum_variant_names,
    reason = "variants are named after CTP's callbacks"
)]
#[derive(Debug, Clone, PartialEq)]
pub enum MdEvent {
    OnFrontConnected,
    OnFrontDisconnected(i32),
    OnRspUserLogin(Response<RspUserLogin>),
    OnRspSubMarketData(Response<SpecificInstrument>),
    OnRspUnSubMarketData(Response<SpecificInstrument>),
    OnRtnDepthMarketData(DepthMarketData),
    OnRspError(Response<Empty>),
    OnProtocolError(ProtocolError),
}

/// The receiving end of a client's callbacks.
#[derive(Debug)]
pub struct Events<E> {
    rx: mpsc::UnboundedReceiver<E>,
    /// Callbacks `wait_for` passed over, delivered first by the next calls.
    skipped: VecDeque<E>,
}

impl<E> Events<E> {
    pub(crate) fn new(rx: mpsc::UnboundedReceiver<E>) -> Self {
        Self {
            rx,
            skipped: VecDeque::new(),
        }
    }

    /// The next callback; `None` once the client is released.
    pub async fn recv(&mut self) -> Option<E> {
        match self.skipped.pop_front() {
            Some(e) => Some(e),
            None => self.rx.recv().await,
        }
    }

    /// A callback if one is already queued.
    pub fn try_recv(&mut self) -> Option<E> {
        self.skipped.pop_front().or_else(|| self.rx.try_recv().ok())
    }

    /// Waits, for at most `timeout`, for the first callback for which `pick` returns `Some`;
    /// `None` on timeout or when the client is released. Callbacks passed over are kept, in
    /// order, for later calls.
    pub async fn wait_for<R>(
        &mut self,
        timeout: Duration,
        mut pick: impl FnMut(&E) -> Option<R>,
    ) -> Option<R> {
        if let Some(i) = self.skipped.iter().position(|e| pick(e).is_some()) {
            let e = self.skipped.remove(i)?;
            return pick(&e);
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let e = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .ok()??;
            if let Some(r) = pick(&e) {
                return Some(r);
            }
            self.skipped.push_back(e);
        }
    }
}

/// The trade front's callbacks.
pub type TraderEvents = Events<TraderEvent>;
/// The market-data front's callbacks.
pub type MdEvents = Events<MdEvent>;
