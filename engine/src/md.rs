//! Market data: the last price per instrument, which risk uses for the price band. Connects
//! to the market-data front (resolving its host each time), subscribes every instrument of
//! the book, and reconnects on loss (the client library does not; missed ticks are never
//! replayed by CTP anyway).

use std::sync::Arc;
use std::time::{Duration, Instant};

use mock_ctp::client::{MdClient, MdEvent};
use mock_ctp::protocol::ReqUserLogin;

use crate::engine::Engine;

pub async fn run(engine: Arc<Engine>) {
    while !engine.shutdown.is_cancelled() {
        if let Some(addr) = crate::ctp::resolve(&engine.cfg.ctp_md_address).await {
            match MdClient::connect(addr).await {
                Ok((client, mut events)) => {
                    loop {
                        let e = tokio::select! {
                            _ = engine.shutdown.cancelled() => break,
                            e = events.recv() => e,
                        };
                        let Some(e) = e else { break };
                        let t0 = Instant::now();
                        match e {
                            MdEvent::OnFrontConnected => {
                                let req = ReqUserLogin {
                                    broker_id: engine.cfg.broker_id.clone(),
                                    user_id: engine.cfg.user_id.clone(),
                                    password: engine.cfg.password.clone(),
                                };
                                client.req_user_login(&req, 1).await;
                            }
                            MdEvent::OnRspUserLogin(_) => {
                                let ids: Vec<String> =
                                    engine.book().instruments.keys().cloned().collect();
                                let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
                                client.subscribe_market_data(&refs).await;
                            }
                            MdEvent::OnRtnDepthMarketData(d) => {
                                if d.last_price.is_finite() && d.last_price > 0.0 {
                                    engine
                                        .prices
                                        .write()
                                        .unwrap_or_else(|e| e.into_inner())
                                        .insert(d.instrument_id, d.last_price);
                                }
                                engine.metrics.tick_processing.observe(t0.elapsed());
                            }
                            MdEvent::OnFrontDisconnected(reason) => {
                                tracing::warn!(
                                    reason = format!("{reason:#x}"),
                                    "market-data front disconnected"
                                );
                                break;
                            }
                            _ => {}
                        }
                    }
                    client.release().await;
                }
                Err(e) => {
                    tracing::warn!(%addr, error = %e, "cannot connect to the market-data front")
                }
            }
        }
        tokio::select! {
            _ = engine.shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}
