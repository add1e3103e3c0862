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

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::conn::{self, ClientConfig, Writer};
use super::events::{TraderEvent, TraderEvents};
use crate::error::ClientError;
use crate::protocol::{
    ret, FrontKind, InputOrder, InputOrderAction, Message, QryFilter, ReqAuthenticate,
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
pub(super) struct FlowState {
    pub(super) resume: Option<ResumeType>,
    pub(super) last_seq: u64,
    pub(super) started: bool,
    pub(super) query_in_flight: bool,
    pub(super) orders_per_second: Option<u32>,
    pub(super) sent: VecDeque<Instant>,
}

#[derive(Debug)]
pub(super) struct Inner {
    pub(super) writer: tokio::sync::Mutex<Option<Writer>>,
    pub(super) state: Mutex<FlowState>,
    pub(super) cancel: CancellationToken,
}

/// A connection to the mock's trade front. Cheap to clone; every clone is the same session.
#[derive(Debug, Clone)]
pub struct TraderClient {
    pub(super) inner: Arc<Inner>,
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
        tokio::spawn(super::trader_task::run(
            inner, reader, self.addr, self.cfg, tx,
        ));
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

    pub(super) fn state(&self) -> std::sync::MutexGuard<'_, FlowState> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) async fn on_connected(&self, tx: &mpsc::UnboundedSender<TraderEvent>) {
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
