//! The background task of a `TraderClient`: reads frames into callbacks, tracks the private
//! flow's sequence and the flow-control limit, sends heartbeats, detects heartbeat timeouts
//! and reconnects.

use std::net::SocketAddr;
use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::mpsc;

use super::conn::{self, ClientConfig, Reader};
use super::events::TraderEvent;
use super::trader::{FlowState, Inner, TraderClient};
use crate::protocol::{reason, FrontKind, Message, ResumeType};

/// Reads callbacks, sends heartbeats and reconnects, until released.
pub(super) async fn run(
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
