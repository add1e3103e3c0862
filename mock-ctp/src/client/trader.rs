//! `TraderClient`: the async counterpart of CTP's `CThostFtdcTraderApi`.
//!
//! `Req*` methods return CTP's codes: 0 written to the socket, -1 not connected, -2 a query is
//! already in flight, -3 over the front's orders-per-second limit. As with CTP, 0 promises no
//! answer. Callbacks arrive on [`TraderEvents`]. The client tracks the last private-flow
//! sequence number it saw without a gap (CTP keeps it in `Private.con`) and sends it with
//! `SubscribePrivateTopic` on every (re)connection, so RESUME continues where it stopped; an
//! engine that restarts passes its persisted number to the builder.
//!
//! Known gaps: no `ReqUserLogout`, `ReqQryInstrument` or public-flow subscription; returns
//! received after a gap are delivered, and RESUME later delivers them again (dedupe by SeqNo).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::conn::{self, ClientConfig, Reader, Writer};
use super::events::{TraderEvent, TraderEvents};
use crate::error::ClientError;
use crate::protocol::{
    reason, ret, FrontKind, InputOrder, InputOrderAction, Message, QryFilter, ReqAuthenticate,
    ReqUserLogin, Request, ResumeType, SettlementInfoConfirm, SubscribeTopic,
};

/// Configures a [`TraderClient`].
#[derive(Debug, Clone)]
pub struct TraderClientBuilder {
    addr: SocketAddr,
    resume: ResumeType,
    last_seq: u64,
    cfg: ClientConfig,
}

#[derive(Debug, Default)]
struct FlowState {
    resume: Option<ResumeType>,
    last_seq: u64,
    started: bool,
    query_in_flight: bool,
    orders_per_second: Option<u32>,
    sent: VecDeque<Instant>,
}

#[derive(Debug)]
struct Inner {
    writer: tokio::sync::Mutex<Option<Writer>>,
    state: Mutex<FlowState>,
    cancel: CancellationToken,
}

/// A connection to the mock's trade front. Cheap to clone; every clone is the same session.
#[derive(Debug, Clone)]
pub struct TraderClient {
    inner: Arc<Inner>,
}

impl TraderClientBuilder {
    /// Where `SubscribePrivateTopic` starts (RESTART by default, as CTP recommends).
    pub fn resume(mut self, mode: ResumeType) -> Self {
        self.resume = mode;
        self
    }
    /// The last private-flow sequence number persisted by an earlier run (for RESUME).
    pub fn last_private_seq(mut self, seq: u64) -> Self {
        self.last_seq = seq;
        self
    }
    pub fn config(mut self, cfg: ClientConfig) -> Self {
        self.cfg = cfg;
        self
    }
    pub fn heartbeat(mut self, interval: Duration, timeout: Duration) -> Self {
        self.cfg.heartbeat_interval = interval;
        self.cfg.heartbeat_timeout = timeout;
        self
    }
    /// Reconnect every `interval` after a disconnect (`None`: stay disconnected).
    pub fn reconnect(mut self, interval: Option<Duration>) -> Self {
        self.cfg.reconnect_interval = interval;
        self
    }

    /// Connects, completes the handshake and subscribes the private topic. The first callback
    /// is `OnFrontConnected`.
    pub async fn connect(self) -> Result<(TraderClient, TraderEvents), ClientError> {
        let (writer, reader) = conn::connect(self.addr, FrontKind::Trade, &self.cfg).await?;
        let state = FlowState {
            resume: Some(self.resume),
            last_seq: self.last_seq,
            ..Default::default()
        };
        let inner = Arc::new(Inner {
            writer: tokio::sync::Mutex::new(Some(writer)),
            state: Mutex::new(state),
            cancel: CancellationToken::new(),
        });
        let client = TraderClient {
            inner: inner.clone(),
        };
        let (tx, rx) = mpsc::unbounded_channel();
        client.on_connected(&tx).await;
        tokio::spawn(run(inner, reader, self.addr, self.cfg, tx));
        Ok((client, TraderEvents::new(rx)))
    }
}

impl TraderClient {
    /// A builder for a connection to `addr`.
    pub fn builder(addr: SocketAddr) -> TraderClientBuilder {
        TraderClientBuilder {
            addr,
            resume: ResumeType::Restart,
            last_seq: 0,
            cfg: ClientConfig::default(),
        }
    }

    /// Connects with the defaults (RESTART, reconnect every second).
    pub async fn connect(addr: SocketAddr) -> Result<(TraderClient, TraderEvents), ClientError> {
        Self::builder(addr).connect().await
    }

    fn state(&self) -> std::sync::MutexGuard<'_, FlowState> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn on_connected(&self, tx: &mpsc::UnboundedSender<TraderEvent>) {
        let sub = {
            let mut st = self.state();
            st.started = false;
            st.query_in_flight = false;
            st.resume.map(|resume_type| SubscribeTopic {
                resume_type,
                seq_no: st.last_seq,
            })
        };
        if let Some(sub) = sub {
            conn::write(&self.inner.writer, Message::SubscribePrivateTopic(sub)).await;
        }
        let _ = tx.send(TraderEvent::OnFrontConnected);
    }

    async fn send(&self, msg: Message) -> i32 {
        if conn::write(&self.inner.writer, msg).await {
            ret::OK
        } else {
            ret::NOT_CONNECTED
        }
    }

    /// Whether the connection is up.
    pub async fn is_connected(&self) -> bool {
        self.inner.writer.lock().await.is_some()
    }

    /// The last private-flow sequence number received without a gap (persist it for RESUME).
    pub fn last_private_seq(&self) -> u64 {
        self.state().last_seq
    }

    /// `SubscribePrivateTopic`: sets the mode for this and every later connection, and applies
    /// it at once if connected (the front restarts the flow from the new position).
    pub async fn subscribe_private_topic(&self, mode: ResumeType) -> i32 {
        let seq_no = {
            let mut st = self.state();
            st.resume = Some(mode);
            st.started = false;
            st.last_seq
        };
        self.send(Message::SubscribePrivateTopic(SubscribeTopic {
            resume_type: mode,
            seq_no,
        }))
        .await
    }

    pub async fn req_authenticate(&self, f: &ReqAuthenticate, request_id: i32) -> i32 {
        self.send(Message::ReqAuthenticate(Request {
            request_id,
            field: f.clone(),
        }))
        .await
    }

    pub async fn req_user_login(&self, f: &ReqUserLogin, request_id: i32) -> i32 {
        self.send(Message::ReqUserLogin(Request {
            request_id,
            field: f.clone(),
        }))
        .await
    }

    pub async fn req_settlement_info_confirm(
        &self,
        f: &SettlementInfoConfirm,
        request_id: i32,
    ) -> i32 {
        self.send(Message::ReqSettlementInfoConfirm(Request {
            request_id,
            field: f.clone(),
        }))
        .await
    }

    /// Checks the per-second limit the front announced; -3 when over it.
    fn rate_check(&self) -> i32 {
        let mut st = self.state();
        let Some(limit) = st.orders_per_second else {
            return ret::OK;
        };
        let now = Instant::now();
        while st
            .sent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            st.sent.pop_front();
        }
        if st.sent.len() >= limit as usize {
            return ret::OVER_RATE;
        }
        st.sent.push_back(now);
        ret::OK
    }

    pub async fn req_order_insert(&self, f: &InputOrder, request_id: i32) -> i32 {
        match self.rate_check() {
            ret::OK => {
                self.send(Message::ReqOrderInsert(Request {
                    request_id,
                    field: f.clone(),
                }))
                .await
            }
            code => code,
        }
    }

    pub async fn req_order_action(&self, f: &InputOrderAction, request_id: i32) -> i32 {
        match self.rate_check() {
            ret::OK => {
                self.send(Message::ReqOrderAction(Request {
                    request_id,
                    field: f.clone(),
                }))
                .await
            }
            code => code,
        }
    }

    async fn query(&self, msg: Message) -> i32 {
        {
            let mut st = self.state();
            if st.query_in_flight {
                return ret::TOO_MANY_PENDING;
            }
            st.query_in_flight = true;
        }
        let code = self.send(msg).await;
        if code != ret::OK {
            self.state().query_in_flight = false;
        }
        code
    }

    pub async fn req_qry_order(&self, f: &QryFilter, request_id: i32) -> i32 {
        self.query(Message::ReqQryOrder(Request {
            request_id,
            field: f.clone(),
        }))
        .await
    }

    pub async fn req_qry_trade(&self, f: &QryFilter, request_id: i32) -> i32 {
        self.query(Message::ReqQryTrade(Request {
            request_id,
            field: f.clone(),
        }))
        .await
    }

    pub async fn req_qry_investor_position(&self, f: &QryFilter, request_id: i32) -> i32 {
        self.query(Message::ReqQryInvestorPosition(Request {
            request_id,
            field: f.clone(),
        }))
        .await
    }

    pub async fn req_qry_trading_account(&self, f: &QryFilter, request_id: i32) -> i32 {
        self.query(Message::ReqQryTradingAccount(Request {
            request_id,
            field: f.clone(),
        }))
        .await
    }

    /// Closes the connection and stops reconnecting (CTP's `Release`).
    pub async fn release(&self) {
        self.inner.cancel.cancel();
        if let Some(mut w) = self.inner.writer.lock().await.take() {
            use futures::SinkExt;
            let _ = w.close().await;
        }
    }

    /// Drops the connection without releasing, as a network failure would; the client
    /// reconnects if configured to.
    pub async fn drop_connection(&self) {
        if let Some(mut w) = self.inner.writer.lock().await.take() {
            use futures::SinkExt;
            let _ = w.close().await;
        }
    }
}

/// Reads callbacks, sends heartbeats and reconnects, until released.
async fn run(
    inner: Arc<Inner>,
    mut reader: Reader,
    addr: SocketAddr,
    cfg: ClientConfig,
    tx: mpsc::UnboundedSender<TraderEvent>,
) {
    let client = TraderClient {
        inner: inner.clone(),
    };
    loop {
        let reason = read_until_down(&client, &mut reader, &cfg, &tx).await;
        *inner.writer.lock().await = None;
        client.state().query_in_flight = false;
        if inner.cancel.is_cancelled() {
            return;
        }
        let _ = tx.send(TraderEvent::OnFrontDisconnected(reason));
        let Some(every) = cfg.reconnect_interval else {
            return;
        };
        loop {
            tokio::select! {
                _ = inner.cancel.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
            if let Ok((w, r)) = conn::connect(addr, FrontKind::Trade, &cfg).await {
                *inner.writer.lock().await = Some(w);
                reader = r;
                client.on_connected(&tx).await;
                break;
            }
        }
    }
}

async fn read_until_down(
    client: &TraderClient,
    reader: &mut Reader,
    cfg: &ClientConfig,
    tx: &mpsc::UnboundedSender<TraderEvent>,
) -> i32 {
    let mut heartbeat = tokio::time::interval(cfg.heartbeat_interval);
    let mut last_rx = tokio::time::Instant::now();
    let mut announced: Option<i32> = None;
    loop {
        tokio::select! {
            _ = client.inner.cancel.cancelled() => return reason::READ_FAILED,
            _ = heartbeat.tick() => {
                if !conn::write(&client.inner.writer, Message::Heartbeat).await {
                    return announced.unwrap_or(reason::HEARTBEAT_SEND_FAILED);
                }
            }
            frame = tokio::time::timeout_at(last_rx + cfg.heartbeat_timeout, reader.next()) => {
                last_rx = tokio::time::Instant::now();
                match frame {
                Err(_) => return reason::HEARTBEAT_TIMEOUT,
                Ok(None) | Ok(Some(Err(_))) => return announced.unwrap_or(reason::READ_FAILED),
                Ok(Some(Ok(Err(_)))) => return reason::BAD_PACKET,
                Ok(Some(Ok(Ok(Message::FrontDisconnected(d))))) => announced = Some(d.reason),
                Ok(Some(Ok(Ok(msg)))) => {
                    if let Some(e) = client.dispatch(msg) {
                        let _ = tx.send(e);
                    }
                }
                }
            }
        }
    }
}

impl TraderClient {
    /// Turns a message into a callback, tracking the private flow and flow control.
    fn dispatch(&self, msg: Message) -> Option<TraderEvent> {
        let seq = match &msg {
            Message::RtnOrder(p) => Some(p.seq_no),
            Message::RtnTrade(p) => Some(p.seq_no),
            Message::ErrRtnOrderInsert(p) => Some(p.seq_no),
            Message::ErrRtnOrderAction(p) => Some(p.seq_no),
            _ => None,
        };
        let mut st = self.state();
        if let Some(seq) = seq {
            if seq == st.last_seq + 1 || (!st.started && st.resume == Some(ResumeType::Quick)) {
                st.last_seq = seq;
            }
            st.started = true;
        }
        let query_done = |st: &mut FlowState, last: bool| {
            if last {
                st.query_in_flight = false;
            }
        };
        Some(match msg {
            Message::RspAuthenticate(r) => TraderEvent::OnRspAuthenticate(r),
            Message::RspUserLogin(r) => TraderEvent::OnRspUserLogin(r),
            Message::RspSettlementInfoConfirm(r) => TraderEvent::OnRspSettlementInfoConfirm(r),
            Message::RspOrderInsert(r) => TraderEvent::OnRspOrderInsert(r),
            Message::RspOrderAction(r) => TraderEvent::OnRspOrderAction(r),
            Message::RspQryOrder(r) => {
                query_done(&mut st, r.is_last);
                TraderEvent::OnRspQryOrder(r)
            }
            Message::RspQryTrade(r) => {
                query_done(&mut st, r.is_last);
                TraderEvent::OnRspQryTrade(r)
            }
            Message::RspQryInvestorPosition(r) => {
                query_done(&mut st, r.is_last);
                TraderEvent::OnRspQryInvestorPosition(r)
            }
            Message::RspQryTradingAccount(r) => {
                query_done(&mut st, r.is_last);
                TraderEvent::OnRspQryTradingAccount(r)
            }
            Message::RspError(r) => {
                st.query_in_flight = false;
                TraderEvent::OnRspError(r)
            }
            Message::RtnOrder(p) => TraderEvent::OnRtnOrder(p),
            Message::RtnTrade(p) => TraderEvent::OnRtnTrade(p),
            Message::ErrRtnOrderInsert(p) => TraderEvent::OnErrRtnOrderInsert(p),
            Message::ErrRtnOrderAction(p) => TraderEvent::OnErrRtnOrderAction(p),
            Message::FlowControl(f) => {
                st.orders_per_second = f.max_orders_per_second;
                TraderEvent::OnFlowControl(f)
            }
            Message::ProtocolError(e) => {
                st.query_in_flight = false;
                TraderEvent::OnProtocolError(e)
            }
            _ => return None,
        })
    }
}
