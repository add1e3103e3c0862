//! `MdClient`: the async counterpart of CTP's `CThostFtdcMdApi`.
//!
//! Known gaps: no automatic reconnect (the engine reconnects and resubscribes; CTP's market
//! data never replays missed ticks anyway).

use std::net::SocketAddr;
use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::conn::{self, ClientConfig, Reader, Writer};
use super::events::{MdEvent, MdEvents};
use crate::error::ClientError;
use crate::protocol::{
    reason, ret, FrontKind, Message, ReqUserLogin, Request, SubscribeMarketData,
};

/// A connection to the mock's market-data front.
#[derive(Debug, Clone)]
pub struct MdClient {
    writer: Arc<tokio::sync::Mutex<Option<Writer>>>,
    cancel: CancellationToken,
}

impl MdClient {
    /// Connects with the default timing.
    pub async fn connect(addr: SocketAddr) -> Result<(MdClient, MdEvents), ClientError> {
        Self::connect_with(addr, ClientConfig::default()).await
    }

    /// Connects; the first callback is `OnFrontConnected`.
    pub async fn connect_with(
        addr: SocketAddr,
        cfg: ClientConfig,
    ) -> Result<(MdClient, MdEvents), ClientError> {
        let (w, r) = conn::connect(addr, FrontKind::Md, &cfg).await?;
        let client = MdClient {
            writer: Arc::new(tokio::sync::Mutex::new(Some(w))),
            cancel: CancellationToken::new(),
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(MdEvent::OnFrontConnected);
        tokio::spawn(run(client.clone(), r, cfg, tx));
        Ok((client, MdEvents::new(rx)))
    }

    async fn send(&self, msg: Message) -> i32 {
        if conn::write(&self.writer, msg).await {
            ret::OK
        } else {
            ret::NOT_CONNECTED
        }
    }

    pub async fn req_user_login(&self, f: &ReqUserLogin, request_id: i32) -> i32 {
        self.send(Message::ReqUserLogin(Request {
            request_id,
            field: f.clone(),
        }))
        .await
    }

    /// `SubscribeMarketData`: one `OnRspSubMarketData` per instrument, then snapshots.
    pub async fn subscribe_market_data(&self, instrument_ids: &[&str]) -> i32 {
        let field = SubscribeMarketData {
            instrument_ids: instrument_ids.iter().map(|s| s.to_string()).collect(),
        };
        self.send(Message::SubscribeMarketData(Request {
            request_id: 0,
            field,
        }))
        .await
    }

    pub async fn unsubscribe_market_data(&self, instrument_ids: &[&str]) -> i32 {
        let field = SubscribeMarketData {
            instrument_ids: instrument_ids.iter().map(|s| s.to_string()).collect(),
        };
        self.send(Message::UnSubscribeMarketData(Request {
            request_id: 0,
            field,
        }))
        .await
    }

    /// Closes the connection.
    pub async fn release(&self) {
        self.cancel.cancel();
        if let Some(mut w) = self.writer.lock().await.take() {
            use futures::SinkExt;
            let _ = w.close().await;
        }
    }
}

async fn run(
    client: MdClient,
    mut reader: Reader,
    cfg: ClientConfig,
    tx: mpsc::UnboundedSender<MdEvent>,
) {
    let mut heartbeat = tokio::time::interval(cfg.heartbeat_interval);
    let mut last_rx = tokio::time::Instant::now();
    let mut announced = None;
    let reason = loop {
        tokio::select! {
            _ = client.cancel.cancelled() => return,
            _ = heartbeat.tick() => {
                if !conn::write(&client.writer, Message::Heartbeat).await {
                    break announced.unwrap_or(reason::HEARTBEAT_SEND_FAILED);
                }
            }
            frame = tokio::time::timeout_at(last_rx + cfg.heartbeat_timeout, reader.next()) => {
                last_rx = tokio::time::Instant::now();
                match frame {
                Err(_) => break reason::HEARTBEAT_TIMEOUT,
                Ok(None) | Ok(Some(Err(_))) => break announced.unwrap_or(reason::READ_FAILED),
                Ok(Some(Ok(Err(_)))) => break reason::BAD_PACKET,
                Ok(Some(Ok(Ok(msg)))) => {
                    let e = match msg {
                        Message::FrontDisconnected(d) => { announced = Some(d.reason); continue; }
                        Message::RspUserLogin(r) => MdEvent::OnRspUserLogin(r),
                        Message::RspSubMarketData(r) => MdEvent::OnRspSubMarketData(r),
                        Message::RspUnSubMarketData(r) => MdEvent::OnRspUnSubMarketData(r),
                        Message::RtnDepthMarketData(d) => MdEvent::OnRtnDepthMarketData(d),
                        Message::RspError(r) => MdEvent::OnRspError(r),
                        Message::ProtocolError(e) => MdEvent::OnProtocolError(e),
                        _ => continue,
                    };
                    let _ = tx.send(e);
                }
                }
            }
        }
    };
    *client.writer.lock().await = None;
    let _ = tx.send(MdEvent::OnFrontDisconnected(reason));
}
