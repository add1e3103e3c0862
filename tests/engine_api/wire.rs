//! Hostile input on the engine's gRPC port: garbage instead of HTTP/2, an HTTP/2 preface
//! followed by garbage frames, a request far over the message limit, and connections left
//! half open. Each hostile client gets an error or a closed connection for itself only; a
//! client trading at the same time sees every order acknowledged, none refused.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use contract::trading::v1::Side;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tonic::Code;

use crate::support::{cid, order, Env};

/// Orders the trading client sends, one every 50 ms, alternating sides (within the limits).
const ORDERS: usize = 80;
/// Connections left half open (an incomplete preface or request) while it trades.
const HALF_OPEN: usize = 64;

/// Writes `bytes` and reads what comes back until the server closes or 2 s pass.
async fn send_raw(addr: &str, bytes: &[u8]) -> Result<Vec<u8>> {
    let mut s = TcpStream::connect(addr).await?;
    s.write_all(bytes).await?;
    let mut back = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(2), s.read_to_end(&mut back)).await;
    Ok(back)
}

/// The HTTP/2 client preface, then frames with invalid types, lengths and stream ids.
fn h2_garbage() -> Vec<u8> {
    let mut b = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    b.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]); // empty SETTINGS
    b.extend_from_slice(&[0xff, 0xff, 0xff, 0x01, 0x05, 0, 0, 0, 1]); // HEADERS of 16 MiB
    b.extend_from_slice(&[0x13; 512]);
    b
}

async fn hostile(env: &Env) -> Result<()> {
    let addr = env.grpc_addr.as_str();
    // Not HTTP at all: the connection is closed, answered with at most an error frame.
    send_raw(addr, &[0x16, 0x03, 0x01, 0x00, 0xa5, 0x01].repeat(200)).await?;
    send_raw(addr, b"GET / HTTP/1.1\r\nHost: engine\r\n\r\n").await?;
    send_raw(addr, &h2_garbage()).await?;
    // A request of 8 MiB, twice the server's 4 MiB limit: refused for that call.
    let mut big = order(&cid("wire-big"), Side::Buy, 1);
    big.client_order_id = "x".repeat(8 << 20);
    match env.grpc.clone().submit_order(big).await {
        Ok(r) => anyhow::bail!("an 8 MiB request was accepted: {:?}", r.into_inner()),
        Err(s) => ensure!(
            matches!(s.code(), Code::ResourceExhausted | Code::OutOfRange),
            "an 8 MiB request: expected RESOURCE_EXHAUSTED, got {:?}: {}",
            s.code(),
            s.message()
        ),
    }
    Ok(())
}

pub async fn hostile_connections_do_not_disturb_a_trading_client(env: &Env) -> Result<()> {
    // Half-open connections, held for the whole scenario.
    let mut held = Vec::with_capacity(HALF_OPEN);
    for i in 0..HALF_OPEN {
        let mut s = TcpStream::connect(&env.grpc_addr)
            .await
            .context("a half-open connection")?;
        let part: &[u8] = if i % 2 == 0 {
            b"PRI * HTTP/2.0\r\n"
        } else {
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04"
        };
        s.write_all(part).await?;
        held.push(s);
    }
    let trader = {
        let grpc = env.grpc.clone();
        tokio::spawn(async move {
            let mut errors = Vec::new();
            let mut tick = tokio::time::interval(Duration::from_millis(50));
            for i in 0..ORDERS {
                tick.tick().await;
                let side = if i % 2 == 0 { Side::Buy } else { Side::Sell };
                if let Err(s) = grpc
                    .clone()
                    .submit_order(order(&cid("wire"), side, 1))
                    .await
                {
                    errors.push(format!("order {i}: {:?} {}", s.code(), s.message()));
                }
            }
            errors
        })
    };
    // Three rounds of hostile clients while the trader sends (about 4 s).
    for _ in 0..3 {
        hostile(env).await?;
    }
    let errors = trader.await?;
    drop(held);
    ensure!(
        errors.is_empty(),
        "the trading client saw {} errors while others sent garbage: {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
    let ready = env
        .http_client
        .get(format!("{}/ready", env.http))
        .send()
        .await?;
    ensure!(
        ready.status().is_success(),
        "the engine is not ready afterwards: {}",
        ready.status()
    );
    Ok(())
}
