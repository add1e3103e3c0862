//! Shared fixtures: an echo upstream, round-trip timing, and server start-up.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// An upstream that echoes every byte until its client ends, then closes.
pub async fn echo_upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind echo");
    let addr = listener.local_addr().expect("echo addr");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = stream.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    addr
}

pub async fn start(seed: u64) -> (faultproxy::Server, SocketAddr) {
    let server = faultproxy::Server::bind("127.0.0.1:0".parse().unwrap(), seed)
        .await
        .expect("bind server");
    (server, echo_upstream().await)
}

/// Sends `payload` and reads it back; returns how long that took.
pub async fn round_trip(stream: &mut TcpStream, payload: &[u8]) -> anyhow::Result<Duration> {
    let started = Instant::now();
    stream.write_all(payload).await?;
    let mut back = vec![0u8; payload.len()];
    tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut back)).await??;
    anyhow::ensure!(back == payload, "echo mismatch");
    Ok(started.elapsed())
}

/// The blocking counterpart, for the blocking client's tests.
pub fn round_trip_blocking(
    stream: &mut std::net::TcpStream,
    payload: &[u8],
) -> anyhow::Result<Duration> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let started = Instant::now();
    stream.write_all(payload)?;
    let mut back = vec![0u8; payload.len()];
    stream.read_exact(&mut back)?;
    anyhow::ensure!(back == payload, "echo mismatch");
    Ok(started.elapsed())
}

/// Reads until end of stream or `limit`; returns the bytes read and whether it ended.
pub async fn read_to_end_within(stream: &mut TcpStream, limit: Duration) -> (Vec<u8>, bool) {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (all, true),
            Ok(Ok(n)) => all.extend_from_slice(&buf[..n]),
            Err(_) => return (all, false),
        }
    }
}

pub fn ms(d: Duration) -> u128 {
    d.as_millis()
}
